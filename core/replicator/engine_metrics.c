/*
 * engine_metrics_write (engine_metrics.h). Every family is always written,
 * with zeros when there is no engine yet, so dashboards and the tests see
 * one shape.
 */
#include <string.h>

#include "obs/prom.h"
#include "replicator/engine_metrics.h"
#include "replicator/members_view.h"

static const char *const state_names[] = {"joining", "up", "unreachable", "down", "removed"};

/* The state a member is shown in: gossiped up, but suspected by this node's
 * failure detector, reads as unreachable. 0 for a state out of range. */
static engine_member_state shown_state(const engine_member_info *mi)
{
    engine_member_state st = mi->state;
    if (st == MEMBER_UP && !mi->reachable && !mi->is_self)
        st = MEMBER_UNREACHABLE;
    return st >= MEMBER_JOINING && st <= MEMBER_REMOVED ? st : 0;
}

/* One gauge sample per member not removed: the seconds since its digest
 * last matched ours, or (heartbeat) since its heartbeat last advanced;
 * members with no such time have no sample. */
static void write_member_seconds(bytes *b, const engine *e, size_t n, const char *name,
                                 const char *help, bool heartbeat)
{
    prom_family(b, name, PROM_GAUGE, help);
    uint64_t now = e ? engine_now_ms(e) : 0;
    for (size_t i = 1; i < n; i++) {
        engine_member_info mi;
        if (engine_member_at(e, i, &mi) != 0 || mi.state == MEMBER_REMOVED)
            continue;
        uint64_t since = heartbeat ? mi.last_seen_ms : mi.digest_match_ms;
        if (!since)
            continue;
        double seconds = now > since ? (double)(now - since) / 1000.0 : 0;
        prom_sample_double_n(b, name, "member", mi.id, mi.id_len, seconds);
    }
}

/* The member families; with no engine yet (e NULL) every state counts 0
 * and the per-member families have no samples. */
static void write_members(bytes *b, const engine *e)
{
    uint64_t by_state[5] = {0};
    size_t n = e ? engine_member_count(e) : 0;
    for (size_t i = 0; i < n; i++) {
        engine_member_info mi;
        engine_member_state st;
        if (engine_member_at(e, i, &mi) == 0 && (st = shown_state(&mi)))
            by_state[st - 1]++;
    }
    prom_family(b, "ddata_members", PROM_GAUGE,
                "Members this node knows, itself included, by state (unreachable: up but "
                "suspected by this node's failure detector)");
    for (int i = 0; i < 5; i++)
        prom_sample_u64(b, "ddata_members", "state", state_names[i], by_state[i]);

    prom_family(b, "ddata_member_state", PROM_GAUGE,
                "Each member this node knows (itself included), 1 in its current state");
    for (size_t i = 0; i < n; i++) {
        engine_member_info mi;
        engine_member_state st;
        if (engine_member_at(e, i, &mi) == 0 && (st = shown_state(&mi)))
            prom_sample2_u64(b, "ddata_member_state", "member", mi.id, mi.id_len, "state",
                             state_names[st - 1], 1);
    }

    write_member_seconds(b, e, n, "ddata_member_convergence_lag_seconds",
                         "Seconds since a digest status this member gossiped equalled this "
                         "node's digest on arrival (members never seen to match have no sample)",
                         false);
    write_member_seconds(b, e, n, "ddata_member_heartbeat_age_seconds",
                         "Seconds since this member's heartbeat last advanced, as this node saw it",
                         true);
}

static void write_by_kind(bytes *b, const char *name, const char *help, const uint64_t *v)
{
    prom_family(b, name, PROM_COUNTER, help);
    for (unsigned k = 0; k < ENGINE_WIRE_KINDS; k++) {
        /* Kind 0 and the unused type bytes share "other"; print it once. */
        if (k && strcmp(engine_wire_kind_name(k), "other") == 0)
            continue;
        uint64_t sum = v[k];
        if (k == 0)
            for (unsigned j = 1; j < ENGINE_WIRE_KINDS; j++)
                if (strcmp(engine_wire_kind_name(j), "other") == 0)
                    sum += v[j];
        prom_sample_u64(b, name, "kind", engine_wire_kind_name(k), sum);
    }
}

void engine_metrics_write(bytes *b, const engine *e)
{
    engine_stats st;
    memset(&st, 0, sizeof(st));
    if (e)
        engine_get_stats(e, &st);
    write_members(b, e);
    write_by_kind(b, "ddata_messages_sent_total", "Replicator messages queued to send, by kind",
                  st.msgs_sent_by_type);
    write_by_kind(b, "ddata_messages_sent_bytes_total",
                  "Bytes of replicator messages queued to send, by kind", st.bytes_sent_by_type);
    write_by_kind(b, "ddata_messages_received_total", "Replicator messages received, by kind",
                  st.msgs_received_by_type);
    write_by_kind(b, "ddata_messages_received_bytes_total",
                  "Bytes of replicator messages received, by kind", st.bytes_received_by_type);
    prom_counter(b, "ddata_deltas_sent_total", "Delta messages sent (DELTA, batched per key)",
                 st.msgs_sent_by_type[6]);
    prom_counter(b, "ddata_full_states_sent_total",
                 "Full states sent: digest repair (WANT) and the fallback for a NACK",
                 st.full_states_sent);
    prom_counter(b, "ddata_nacks_sent_total", "NACKs sent: a causal gap in a peer's deltas",
                 st.nacks_sent);
    prom_counter(b, "ddata_digest_rounds_total", "Gossip messages sent with a digest status",
                 st.digest_rounds);
    prom_counter(b, "ddata_decode_errors_total", "Received messages that failed to decode",
                 st.decode_errors);
    prom_gauge(b, "ddata_keys", "Live keys held by this node", e ? (double)engine_key_count(e) : 0);
    prom_gauge(b, "ddata_tombstones", "Deleted keys held as tombstones until every member has them",
               e ? (double)engine_tombstone_count(e) : 0);
    prom_counter(b, "ddata_tombstones_collected_total", "Tombstones collected",
                 st.tombstones_collected);
    prom_counter(b, "ddata_keys_expired_total", "Keys dropped by expiry", st.expired);
    prom_gauge(b, "ddata_consistency_requests_pending",
               "Consistency reads and writes waiting for replies",
               e ? (double)engine_pending_requests(e) : 0);
    prom_counter(b, "ddata_consistency_request_timeouts_total",
                 "Consistency reads and writes that timed out", st.request_timeouts);
    prom_counter(b, "ddata_outgoing_queue_drops_total",
                 "Messages the replicator dropped because its outgoing queue was full",
                 st.outgoing_dropped);
}
