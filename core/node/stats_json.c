/*
 * node_stats_json: the node's counters as canonical JSON (keys sorted, so
 * tests and tools can compare the text): the engine's, and with a
 * transport its totals, one object per peer ever authenticated and, when
 * an owned engine is attached, its counters.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/json.h"
#include "util/status.h"

static void put_key(bytes *b, const char *k, bool first)
{
    if (!first)
        bytes_put_u8(b, ',');
    json_put_string(b, (const uint8_t *)k, strlen(k));
    bytes_put_u8(b, ':');
}

static void put_u64(bytes *b, const char *k, uint64_t v, bool first)
{
    put_key(b, k, first);
    json_put_u64(b, v);
}

static void put_peer(bytes *b, const net_peer_stats *p)
{
    bytes_put_u8(b, '{');
    put_u64(b, "bytes_in", p->bytes_in, true);
    put_u64(b, "bytes_out", p->bytes_out, false);
    put_key(b, "connected", false);
    bytes_put_str(b, p->connected ? "true" : "false");
    put_u64(b, "connects", p->connects, false);
    put_u64(b, "delta_bytes_in", p->class_bytes_in[NET_CLASS_DELTA], false);
    put_u64(b, "delta_bytes_out", p->class_bytes_out[NET_CLASS_DELTA], false);
    put_u64(b, "delta_frames_in", p->class_frames_in[NET_CLASS_DELTA], false);
    put_u64(b, "delta_frames_out", p->class_frames_out[NET_CLASS_DELTA], false);
    put_u64(b, "frames_in", p->frames_in, false);
    put_u64(b, "frames_out", p->frames_out, false);
    put_u64(b, "full_bytes_in", p->class_bytes_in[NET_CLASS_FULL], false);
    put_u64(b, "full_bytes_out", p->class_bytes_out[NET_CLASS_FULL], false);
    put_u64(b, "full_frames_in", p->class_frames_in[NET_CLASS_FULL], false);
    put_u64(b, "full_frames_out", p->class_frames_out[NET_CLASS_FULL], false);
    static const uint8_t no_key[SESSION_KEY_BYTES];
    char hex[2 * SESSION_KEY_BYTES + 1] = "";
    if (memcmp(p->static_pk, no_key, SESSION_KEY_BYTES) != 0)
        sodium_bin2hex(hex, sizeof(hex), p->static_pk, SESSION_KEY_BYTES);
    put_key(b, "key", false); /* the static key it proved, for allow-lists and logs */
    json_put_string(b, (const uint8_t *)hex, strlen(hex));
    put_key(b, "node", false);
    json_put_string(b, (const uint8_t *)p->node_id, strlen(p->node_id));
    put_u64(b, "queue_drops", p->queue_drops, false);
    put_u64(b, "queued_bytes", p->queued_bytes, false);
    bytes_put_u8(b, '}');
}

/* The attached owned engine's counters (system lock held; takes its lock). */
static void put_owned(bytes *b, node_net *nn)
{
    nn->owned.lock(nn->owned.ctx);
    owned *oe = nn->owned.engine(nn->owned.ctx);
    owned_stats st = owned_get_stats(oe);
    uint64_t id = owned_node_id(oe);
    nn->owned.unlock(nn->owned.ctx);
    put_key(b, "owned", false);
    bytes_put_u8(b, '{');
    put_u64(b, "corrupt", st.corrupt, true);
    put_u64(b, "deltas_applied", st.deltas_applied, false);
    put_u64(b, "events_dropped", st.events_dropped, false);
    put_u64(b, "ghost_dropped", st.ghost_dropped, false);
    put_u64(b, "members", nn->opeers_n, false);
    put_u64(b, "messages_in", st.messages_in, false);
    put_u64(b, "node_id", id, false);
    put_u64(b, "outgoing_dropped", st.outgoing_dropped, false);
    put_u64(b, "pulls_sent", st.pulls_sent, false);
    put_u64(b, "snapshots_applied", st.snapshots_applied, false);
    put_u64(b, "stale_dropped", st.stale_dropped, false);
    put_u64(b, "unknown_type", st.unknown_type, false);
    put_u64(b, "unroutable", nn->owned_unroutable, false);
    put_u64(b, "version_dropped", st.version_dropped, false);
    bytes_put_u8(b, '}');
}

int node_stats_json(node *n, bytes *b)
{
    engine_stats es;
    memset(&es, 0, sizeof(es));
    if (n->e)
        engine_get_stats(n->e, &es);
    bytes_put_u8(b, '{');
    put_key(b, "engine", true);
    bytes_put_u8(b, '{');
    put_u64(b, "bytes_received", es.bytes_received, true);
    put_u64(b, "bytes_sent", es.bytes_sent, false);
    put_u64(b, "decode_errors", es.decode_errors, false);
    put_u64(b, "expired", es.expired, false);
    put_u64(b, "full_states_sent", es.full_states_sent, false);
    put_u64(b, "msgs_received", es.msgs_received, false);
    put_u64(b, "msgs_sent", es.msgs_sent, false);
    put_u64(b, "nacks_sent", es.nacks_sent, false);
    put_u64(b, "tombstones_collected", es.tombstones_collected, false);
    bytes_put_u8(b, '}');
    put_key(b, "node", false);
    json_put_string(b, (const uint8_t *)n->node_id, strlen(n->node_id));
    if (!n->net) {
        put_key(b, "transport", false);
        bytes_put_str(b, "null}");
        return b->failed ? error_oom() : ST_OK;
    }
    node_net *nn = n->net;
    if (nn->owned_attached)
        put_owned(b, nn);
    size_t count = 0;
    net_peer_stats *peers = NULL;
    int rc = net_peer_stats_all(nn->n, NULL, 0, &count);
    if (rc == ST_OK && count) {
        peers = alloc_array(count, sizeof(*peers));
        if (!peers)
            return error_oom();
        size_t cap = count;
        rc = net_peer_stats_all(nn->n, peers, cap, &count);
        if (count > cap)
            count = cap;
    }
    net_stats ns;
    if (rc == ST_OK)
        rc = net_stats_get(nn->n, &ns);
    if (rc != ST_OK) {
        free(peers);
        return rc;
    }
    put_key(b, "peers", false);
    bytes_put_u8(b, '[');
    for (size_t i = 0; i < count; i++) {
        if (i)
            bytes_put_u8(b, ',');
        put_peer(b, &peers[i]);
    }
    bytes_put_u8(b, ']');
    free(peers);
    put_key(b, "transport", false);
    bytes_put_u8(b, '{');
    put_u64(b, "accepted", ns.accepted, true);
    put_key(b, "address", false);
    json_put_string(b, (const uint8_t *)net_address(nn->n), strlen(net_address(nn->n)));
    put_u64(b, "auth_failures", ns.auth_failures, false);
    put_u64(b, "book_entries", nn->book_n, false);
    put_u64(b, "book_errors", nn->book_errors, false);
    put_u64(b, "book_expired", nn->book_expired, false);
    put_u64(b, "book_refused", nn->book_refused, false);
    put_u64(b, "bytes_in", ns.bytes_in, false);
    put_u64(b, "bytes_out", ns.bytes_out, false);
    put_u64(b, "dialled", ns.dialled, false);
    put_u64(b, "frames_in", ns.frames_in, false);
    put_u64(b, "frames_out", ns.frames_out, false);
    put_u64(b, "handshake_failures", ns.handshake_failures, false);
    put_u64(b, "handshake_timeouts", ns.handshake_timeouts, false);
    put_u64(b, "handshakes", ns.handshakes, false);
    put_u64(b, "malformed_frames", ns.malformed_frames, false);
    put_u64(b, "peers_connected", ns.peers_connected, false);
    put_u64(b, "pending_rejected", ns.pending_rejected, false);
    put_u64(b, "queue_drops", ns.queue_drops, false);
    put_u64(b, "refused_peers", ns.refused_peers, false);
    put_u64(b, "rejected_connections", ns.rejected_connections, false);
    put_u64(b, "reliable_overflows", ns.reliable_overflows, false);
    put_u64(b, "unroutable", nn->unroutable, false);
    bytes_put_str(b, "}}");
    return b->failed ? error_oom() : ST_OK;
}
