/*
 * Leaving the cluster cleanly (issue 17.11).
 *
 * Without this a stopped node is only noticed by the failure detector:
 * unreachable after a few silent gossip intervals, down after
 * down_after_ms, removed after remove_after_ms more. A node that knows it
 * is going says so instead, and its peers remove it at once.
 *
 * The leaving node, in engine_leave:
 *   1. pushes its batched deltas and writes its write-behind keys;
 *   2. hands off: KEYS listing every key it holds (no reply wanted) to up
 *      to LEAVE_HANDOFF_PEERS live peers, which ask (WANT) for what they
 *      lack or hold differently; so writes that only this node has (lost
 *      deltas, ENGINE_DELTA_NONE) are not lost with it;
 *   3. announces: LEAVE(announce) to every member not removed, after the
 *      KEYS on the same link, and marks itself removed.
 * From then on it takes no part: no gossip, no failure detection, no
 * refutation (the cluster now says it is removed, which would otherwise
 * make it take a new incarnation), local writes refused. It still answers
 * the hand-off (WANT, NACK, KEYS, STATE, DELTA) and takes acks, and each
 * gossip interval announces (and offers) again to the members it waits
 * for that have not acknowledged. Whoever still sends it anything else
 * (a member it had not heard of when it left, which knows it from its
 * JOIN) gets the announcement in reply.
 *
 * A receiver marks the sender removed at once (MEMBER event, no
 * unreachable or down before it), stops gossiping to it (member.left) and
 * answers LEAVE(ack). The removal then spreads by gossip as any removal
 * does (removed is the most severe state of an incarnation), so members
 * the announcement did not reach learn it too. A later incarnation of the
 * node replaces the removed one and rejoins as a restart would.
 *
 * Wire: WIRE_LEAVE, body one byte, LEAVE_ANNOUNCE or LEAVE_ACK, nothing
 * after it. A peer built before WIRE_LEAVE existed rejects the type as
 * unknown (ST_ECORRUPT, counted as a decode error, nothing changed) and
 * falls back to its failure detector, or learns the removal by gossip.
 */
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/error.h"
#include "util/status.h"

#define LEAVE_ANNOUNCE 1u
#define LEAVE_ACK 2u
#define LEAVE_HANDOFF_PEERS 3u

int leave_refuse(const engine *e)
{
    return error_set(ST_EMISUSE, "replicator: node '%s' has left the cluster", e->node_id);
}

bool leave_accepts(wire_type type)
{
    switch (type) {
    case WIRE_LEAVE:
    case WIRE_KEYS:
    case WIRE_WANT:
    case WIRE_NACK:
    case WIRE_STATE:
    case WIRE_DELTA:
    case WIRE_FRAG:
    case WIRE_WRITE_ACK: return true;
    default: return false;
    }
}

static void send_leave(engine *e, const char *to, size_t to_len, uint8_t phase)
{
    bytes b = BYTES_INIT;
    wire_header(&b, WIRE_LEAVE, e->incarnation);
    bytes_put_u8(&b, phase);
    (void)engine_send(e, WIRE_LEAVE, to, to_len, &b);
}

/* Offers the keys (when `m` was chosen for the hand-off), then announces:
 * on one link the KEYS go first, so the peer has asked for what it lacks
 * before it acknowledges. */
static void announce(engine *e, const member *m)
{
    if (m->leave_handoff)
        antientropy_offer_keys(e, m->id, m->id_len);
    send_leave(e, m->id, m->id_len, LEAVE_ANNOUNCE);
}

int engine_leave(engine *e, uint64_t now_ms)
{
    if (e->left)
        return error_set(ST_EMISUSE, "replicator: node '%s' has already left", e->node_id);
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    antientropy_flush_batched(e);
    int rc = durable_flush(e);
    /* Live peers, from a random one on, get the hand-off. */
    size_t live = 0;
    for (size_t i = 1; i < e->nmembers; i++)
        live += e->members[i].state == MEMBER_UP && e->members[i].reachable;
    uint64_t skip = live ? rng_below(&e->rng, live) : 0;
    uint32_t handoffs = 0;
    for (size_t k = 0; k < 2 * e->nmembers && handoffs < LEAVE_HANDOFF_PEERS && live; k++) {
        member *m = &e->members[1 + k % (e->nmembers - 1)];
        if (m->state != MEMBER_UP || !m->reachable || m->leave_handoff)
            continue;
        if (skip) {
            skip--;
            continue;
        }
        m->leave_handoff = true;
        handoffs++;
    }
    for (size_t i = 1; i < e->nmembers; i++) {
        member *m = &e->members[i];
        /* Awaited: the live members. Down or unreachable ones are told
         * once, not waited for. */
        m->leave_acked = !(m->state == MEMBER_UP && m->reachable);
        if (m->state != MEMBER_REMOVED)
            announce(e, m);
    }
    e->left = true;
    e->next_gossip_ms = e->now_ms + e->cfg.gossip_interval_ms;
    membership_mark_removed(e, &e->members[0]);
    return rc;
}

void leave_answer(engine *e, const char *from, size_t from_len)
{
    const member *m = membership_find(e, from, from_len);
    if (!m || !m->leave_acked)
        send_leave(e, from, from_len, LEAVE_ANNOUNCE);
}

void leave_tick(engine *e)
{
    for (size_t i = 1; i < e->nmembers; i++)
        if (!e->members[i].leave_acked)
            announce(e, &e->members[i]);
}

int leave_handle(engine *e, const char *from, size_t from_len, uint64_t inc, reader *r)
{
    uint8_t phase = reader_u8(r);
    if (!reader_done(r) || (phase != LEAVE_ANNOUNCE && phase != LEAVE_ACK))
        return error_set(ST_ECORRUPT, "replicator: malformed leave message");
    if (phase == LEAVE_ACK) {
        member *m = membership_find(e, from, from_len);
        if (m)
            m->leave_acked = true;
        return ST_OK;
    }
    member *m = membership_find(e, from, from_len);
    if (!m) {
        /* A stranger's goodbye: its actor will not write again. */
        prune_note_dead(e, engine_actor_of(from, from_len, inc));
    } else if (inc >= m->incarnation) {
        if (inc > m->incarnation && !e->left)
            m = membership_heard(e, from, from_len, inc, false);
        if (m && m->incarnation == inc) {
            membership_mark_removed(e, m);
            m->left = true;
        }
    }
    /* A stale incarnation's goodbye is acknowledged too: its sender waits. */
    send_leave(e, from, from_len, LEAVE_ACK);
    return ST_OK;
}

bool engine_has_left(const engine *e)
{
    return e->left;
}

size_t engine_leave_unacked(const engine *e)
{
    size_t n = 0;
    if (!e->left)
        return 0;
    for (size_t i = 1; i < e->nmembers; i++)
        n += !e->members[i].leave_acked;
    return n;
}

bool engine_member_left(const engine *e, const char *id, size_t len)
{
    for (size_t i = 1; i < e->nmembers; i++)
        if (e->members[i].id_len == len && memcmp(e->members[i].id, id, len) == 0)
            return e->members[i].left;
    return false;
}

void engine_member_link_up(engine *e, const char *id, size_t len)
{
    member *m = membership_find(e, id, len);
    if (m && m != &e->members[0])
        m->left = false; /* its announcement, if it is still the leaver, sets it again */
}
