/*
 * Anti-entropy: digest gossip, delta propagation and tombstone agreement.
 *
 * Digest gossip. Each gossip interval a node sends GOSSIP to `fanout`
 * random peers: its member list and a status of `nb` bucket digests, each
 * the XOR of the per-key digests of the keys whose leaf falls in the
 * bucket (keytable.h). nb grows with the store (about 128 keys a bucket) so
 * an unchanged store of 100,000 keys costs about 8 KiB a status instead of
 * the megabytes of a full-state push. The receiver answers the buckets that
 * differ with KEYS (its (key, digest) pairs there, reply_wanted set); the
 * initiator wants what it lacks or holds differently (WANT), sends its own
 * differing states (STATE) and its own KEYS for those buckets, so keys only
 * the initiator has reach the receiver in the same exchange.
 *
 * Deltas (delta-state CRDTs, Almeida, Shoker and Baquero 2018). A local
 * update's delta carries (origin actor, per-key sequence number). A
 * receiver merges a delta for a causal type only when it is the next one
 * from that origin; on a gap it sends NACK and the origin answers with the
 * full state, whose sequence vector tells the receiver where the origin's
 * deltas continue. Non-causal types merge any delta.
 *
 * Tombstones. A delete is pushed as a tombstone state. Nodes holding a
 * tombstone gossip TOMB_SEEN (who is known to hold it) every interval; once
 * every member that is not removed has it, the tombstone waits a grace
 * period (for messages still in flight) and is collected. Nodes collect at
 * different times, and to a node that has collected a tombstone its
 * absence looks like any key it lacks: were digest repair to offer it back
 * (in KEYS, or as the STATE a WANT asks for), it would be re-created,
 * reported deleted again and collected again, round after round (in a
 * 2-node cluster, forever). So a tombstone is never offered to a peer
 * already known to hold it; that peer has it, or has collected it.
 *
 * Every list message is built by a batch that starts a new message before
 * the cap is passed; only a single entry larger than the cap is split into
 * FRAG pieces by engine_send.
 *
 * This file holds the pushes, the gossip round and the message handlers;
 * the batch is antientropy_batch.c, tombstone agreement
 * antientropy_tombstones.c.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/antientropy_internal.h"
#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

/* ---- pushes ------------------------------------------------------------ */

void antientropy_push_delta(engine *e, uint32_t idx, const crdt *delta, uint64_t seq)
{
    if (!membership_up_peers(e, NULL, 0))
        return;
    batch bt;
    batch_init(&bt, e, WIRE_DELTA, NULL, 0);
    /* On failure digest gossip carries the change instead. */
    batch_put_delta(&bt, kt_at(&e->kt, idx), delta, seq);
    batch_finish(&bt, false);
}

void antientropy_flush_batched(engine *e)
{
    if (!e->nbatched)
        return;
    bool peers = membership_up_peers(e, NULL, 0) > 0;
    batch bt;
    batch_init(&bt, e, WIRE_DELTA, NULL, 0);
    for (size_t i = 0; i < e->nbatched; i++) {
        kentry *ke = kt_at(&e->kt, e->batched[i]);
        if (!ke->used || !(ke->flags & KE_DELTA_PENDING))
            continue;
        ke->flags &= (uint8_t)~KE_DELTA_PENDING;
        if (!ke->pending_delta || (ke->flags & KE_TOMB))
            continue;
        ke->my_seq++;
        (void)kt_seq_set(ke, e->actor, ke->my_seq);
        if (peers)
            batch_put_delta(&bt, ke, ke->pending_delta, ke->my_seq);
        crdt_free(ke->pending_delta);
        ke->pending_delta = NULL;
    }
    e->nbatched = 0;
    batch_finish(&bt, false);
}

void antientropy_push_state_all(engine *e, uint32_t idx, uint64_t request_id)
{
    if (!membership_up_peers(e, NULL, 0))
        return;
    batch bt;
    batch_init_states(&bt, e, NULL, 0, request_id);
    batch_begin(&bt);
    if (engine_put_state_entry(e, &bt.body, idx) == ST_OK)
        batch_end(&bt);
    batch_finish(&bt, false);
}

/* ---- gossip round -------------------------------------------------------- */

static uint32_t choose_buckets(const engine *e)
{
    uint64_t want = e->kt.live / 128;
    uint32_t nb = 1;
    while (nb < want && nb < KT_LEAVES)
        nb *= 2;
    return nb;
}

static void send_gossip(engine *e, const member *to, bool with_status)
{
    bytes b = BYTES_INIT;
    wire_header(&b, WIRE_GOSSIP, e->incarnation);
    membership_put(e, &b);
    bytes_put_u8(&b, with_status ? 1 : 0);
    if (with_status) {
        e->stats.digest_rounds++;
        uint32_t nb = choose_buckets(e);
        uint32_t per = KT_LEAVES / nb;
        bytes_put_varint(&b, nb);
        for (uint32_t i = 0; i < nb; i++)
            bytes_put_u64(&b, kt_bucket_xor(&e->kt, i * per, per));
    }
    (void)engine_send(e, WIRE_GOSSIP, to->id, to->id_len, &b);
}

void antientropy_gossip_round(engine *e)
{
    engine_refresh_digests(e);
    /* Candidates: live members; down or removed ones now and then, so a
     * node the cluster gave up on learns it and refutes. */
    size_t n = 0, nother = 0;
    for (size_t i = 1; i < e->nmembers; i++) {
        if (e->members[i].state == MEMBER_UP || e->members[i].state == MEMBER_JOINING)
            n++;
        else if (!e->members[i].left) /* it said goodbye: nothing to refute */
            nother++;
    }
    for (uint32_t k = 0; k < e->cfg.gossip_fanout && n; k++) {
        uint64_t pick = rng_below(&e->rng, n);
        for (size_t i = 1; i < e->nmembers; i++) {
            const member *m = &e->members[i];
            if (m->state != MEMBER_UP && m->state != MEMBER_JOINING)
                continue;
            if (pick-- == 0) {
                send_gossip(e, m, true);
                break;
            }
        }
    }
    if (nother && rng_chance(&e->rng, 1, 4)) {
        uint64_t pick = rng_below(&e->rng, nother);
        for (size_t i = 1; i < e->nmembers; i++) {
            const member *m = &e->members[i];
            if (m->state == MEMBER_UP || m->state == MEMBER_JOINING || m->left)
                continue;
            if (pick-- == 0) {
                send_gossip(e, m, false);
                break;
            }
        }
    }
}

/* ---- handlers ---------------------------------------------------------- */

int antientropy_corrupt(const char *what)
{
    return error_set(ST_ECORRUPT, "replicator: malformed %s message", what);
}

static void keys_for_buckets(engine *e, batch *bt, uint64_t to_hash, const uint32_t *buckets,
                             size_t n, uint32_t nb)
{
    uint32_t per = KT_LEAVES / nb;
    for (size_t i = 0; i < n; i++) {
        /* Bounds in locals: the batch calls below live in another file, so
         * the compiler would otherwise reload buckets[i] for every leaf,
         * and most leaves are empty. */
        const uint32_t first = buckets[i] * per, end = first + per;
        for (uint32_t leaf = first; leaf < end; leaf++) {
            for (uint32_t idx = e->kt.leaf_head[leaf]; idx != KT_NONE;
                 idx = kt_at(&e->kt, idx)->leaf_next) {
                const kentry *ke = kt_at(&e->kt, idx);
                if (antientropy_tomb_known_to(ke, to_hash))
                    continue;
                batch_begin(bt);
                bytes_put_blob(&bt->body, ke->key, ke->key_len);
                bytes_put_u64(&bt->body, ke->digest);
                batch_end(bt);
            }
        }
    }
}

/* Sends KEYS for `buckets`; the prefix names them only in the first
 * message, and only that one asks for the peer's keys in return. */
static void send_keys(engine *e, const char *to, size_t to_len, bool reply_wanted,
                      const uint32_t *buckets, size_t n, uint32_t nb)
{
    batch bt;
    batch_init(&bt, e, WIRE_KEYS, to, to_len);
    bytes_put_u8(&bt.prefix, reply_wanted ? 1 : 0);
    bytes_put_varint(&bt.prefix, nb);
    bytes_put_varint(&bt.prefix, reply_wanted ? n : 0);
    if (reply_wanted)
        for (size_t i = 0; i < n; i++)
            bytes_put_varint(&bt.prefix, buckets[i]);
    bytes_put_u8(&bt.prefix_next, 0);
    bytes_put_varint(&bt.prefix_next, nb);
    bytes_put_varint(&bt.prefix_next, 0);
    keys_for_buckets(e, &bt, hash_digest(to, to_len), buckets, n, nb);
    batch_finish(&bt, true);
}

void antientropy_offer_keys(engine *e, const char *to, size_t to_len)
{
    uint32_t all = 0;
    engine_refresh_digests(e);
    send_keys(e, to, to_len, false, &all, 1, 1);
}

static int handle_gossip(engine *e, member *m, const char *from, size_t from_len, reader *r)
{
    int rc = membership_read(e, r, m);
    if (rc)
        return rc;
    m = membership_find(e, from, from_len); /* the member table may have moved */
    uint8_t has_status = reader_u8(r);
    if (!reader_ok(r) || has_status > 1)
        return antientropy_corrupt("gossip");
    if (m && (m->state == MEMBER_DOWN || m->state == MEMBER_REMOVED))
        send_gossip(e, m, false); /* tell it what the cluster decided */
    if (!has_status)
        return reader_done(r) ? ST_OK : antientropy_corrupt("gossip");
    uint64_t nb = reader_varint(r);
    if (!reader_ok(r) || !nb || nb > KT_LEAVES || (nb & (nb - 1)) || reader_left(r) != nb * 8)
        return antientropy_corrupt("gossip status");
    engine_refresh_digests(e);
    uint32_t per = KT_LEAVES / (uint32_t)nb;
    uint32_t *diff = alloc_array(nb, sizeof(uint32_t));
    if (!diff)
        return error_oom();
    size_t nd = 0;
    for (uint32_t i = 0; i < nb; i++)
        if (reader_u64(r) != kt_bucket_xor(&e->kt, i * per, per))
            diff[nd++] = i;
    if (nd)
        send_keys(e, from, from_len, true, diff, nd, (uint32_t)nb);
    else if (m)
        m->digest_match_ms = e->now_ms; /* the convergence-lag gauge's clock */
    free(diff);
    return ST_OK;
}

static int handle_keys(engine *e, const char *from, size_t from_len, reader *r)
{
    uint8_t reply_wanted = reader_u8(r);
    uint64_t nb = reader_varint(r);
    uint64_t nbk = reader_varint(r);
    if (!reader_ok(r) || reply_wanted > 1 || !nb || nb > KT_LEAVES || (nb & (nb - 1)) || nbk > nb ||
        nbk > reader_left(r))
        return antientropy_corrupt("keys");
    uint32_t *buckets = alloc_array(nbk ? nbk : 1, sizeof(uint32_t));
    if (!buckets)
        return error_oom();
    for (uint64_t i = 0; i < nbk; i++) {
        uint64_t b = reader_varint(r);
        buckets[i] = (uint32_t)b;
        if (b >= nb)
            r->failed = true;
    }
    uint64_t n = reader_varint(r);
    if (!reader_ok(r) || n > reader_left(r) / 9 || n > MAX_LIST) {
        free(buckets);
        return antientropy_corrupt("keys");
    }
    engine_refresh_digests(e);
    batch want, state;
    batch_init(&want, e, WIRE_WANT, from, from_len);
    batch_init_states(&state, e, from, from_len, 0);
    int rc = ST_OK;
    for (uint64_t i = 0; i < n; i++) {
        size_t klen;
        const uint8_t *key = reader_blob(r, e->cfg.lim.max_value_bytes, &klen);
        uint64_t digest = reader_u64(r);
        if (!reader_ok(r) || !klen) {
            rc = antientropy_corrupt("keys");
            break;
        }
        uint32_t idx = kt_find(&e->kt, key, klen);
        const kentry *ke = idx == KT_NONE ? NULL : kt_at(&e->kt, idx);
        if (ke && ke->digest == digest)
            continue;
        if (!ke || !(ke->flags & KE_TOMB)) {
            batch_begin(&want);
            bytes_put_blob(&want.body, key, klen);
            batch_end(&want);
        }
        if (ke)
            batch_put_state(&state, idx);
    }
    batch_finish(&want, false);
    batch_finish(&state, false);
    if (rc == ST_OK && reply_wanted && nbk)
        send_keys(e, from, from_len, false, buckets, nbk, (uint32_t)nb);
    free(buckets);
    if (rc == ST_OK && !reader_done(r))
        rc = antientropy_corrupt("keys");
    return rc;
}

/* Replies with the full state of each listed key this node holds: the
 * answer to WANT (keys) and to NACK (keys, each followed by the sequence
 * number the sender missed, which a full state makes moot). */
static int send_listed_states(engine *e, const char *from, size_t from_len, reader *r,
                              bool with_seq, const char *what)
{
    uint64_t n = reader_varint(r);
    uint64_t min_entry = with_seq ? 9 : 1;
    if (!reader_ok(r) || n > reader_left(r) / min_entry || n > MAX_LIST)
        return antientropy_corrupt(what);
    uint64_t from_hash = hash_digest(from, from_len);
    batch state;
    batch_init_states(&state, e, from, from_len, 0);
    int rc = ST_OK;
    for (uint64_t i = 0; i < n; i++) {
        size_t klen;
        const uint8_t *key = reader_blob(r, e->cfg.lim.max_value_bytes, &klen);
        if (with_seq)
            (void)reader_u64(r);
        if (!reader_ok(r) || !klen) {
            rc = antientropy_corrupt(what);
            break;
        }
        uint32_t idx = kt_find(&e->kt, key, klen);
        if (idx == KT_NONE || antientropy_tomb_known_to(kt_at(&e->kt, idx), from_hash))
            continue;
        batch_put_state(&state, idx);
        e->stats.full_states_sent++;
        if (with_seq) { /* a NACK's fallback; WANT answers are ordinary repair */
            log_field f[2] = {{"key", (const char *)key, klen}, {"to", from, from_len}};
            log_queue_push(&e->logs, LOG_INFO, "delta.full_state_sent", e->now_ms, f, 2);
        }
    }
    batch_finish(&state, false);
    return rc == ST_OK && !reader_done(r) ? antientropy_corrupt(what) : rc;
}

static int handle_want(engine *e, const char *from, size_t from_len, reader *r)
{
    return send_listed_states(e, from, from_len, r, false, "want");
}

static int handle_state(engine *e, const char *from, size_t from_len, reader *r)
{
    uint64_t req = reader_varint(r);
    uint64_t n = reader_varint(r);
    if (!reader_ok(r) || n > reader_left(r) || n > MAX_LIST)
        return antientropy_corrupt("state");
    uint64_t fh = hash_digest(from, from_len);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t idx;
        bool sender_tomb;
        int rc = engine_read_state_entry(e, r, &idx, &sender_tomb);
        if (rc)
            return rc;
        /* Only a sender that sent the tombstone is known to hold it; a live
         * copy arriving here says the opposite. */
        if (sender_tomb && idx != KT_NONE && (kt_at(&e->kt, idx)->flags & KE_TOMB)) {
            antientropy_tomb_add(kt_at(&e->kt, idx), fh);
            antientropy_tomb_check(e, idx);
        }
    }
    if (!reader_done(r))
        return antientropy_corrupt("state");
    if (req) {
        bytes b = BYTES_INIT;
        wire_header(&b, WIRE_WRITE_ACK, e->incarnation);
        bytes_put_varint(&b, req);
        (void)engine_send(e, WIRE_WRITE_ACK, from, from_len, &b);
    }
    return ST_OK;
}

static int handle_delta(engine *e, const char *from, size_t from_len, reader *r)
{
    uint64_t n = reader_varint(r);
    if (!reader_ok(r) || n > reader_left(r) || n > MAX_LIST)
        return antientropy_corrupt("delta");
    batch nack;
    batch_init(&nack, e, WIRE_NACK, from, from_len);
    int rc = ST_OK;
    for (uint64_t i = 0; i < n && rc == ST_OK; i++) {
        size_t klen, dlen;
        const uint8_t *key = reader_blob(r, e->cfg.lim.max_value_bytes, &klen);
        uint8_t type = reader_u8(r);
        uint64_t origin = reader_u64(r);
        uint64_t seq = reader_varint(r);
        uint64_t changed_ms = reader_varint(r);
        const uint8_t *d = reader_blob(r, e->cfg.lim.max_bytes, &dlen);
        if (!reader_ok(r) || !klen || type < 1 || type > CRDT_TYPE_MAX || !seq) {
            rc = antientropy_corrupt("delta");
            break;
        }
        uint32_t idx = kt_find(&e->kt, key, klen);
        kentry *ke = idx == KT_NONE ? NULL : kt_at(&e->kt, idx);
        if (ke && ((ke->flags & KE_TOMB) || ke->type != type))
            continue; /* deleted, or a type conflict the full-state path settles */
        uint64_t last = ke ? kt_seq_get(ke, origin) : 0;
        bool causal = crdt_needs_causal_delta((crdt_type)type);
        if (seq <= last && causal)
            continue;
        if (causal && seq != last + 1) {
            batch_begin(&nack);
            bytes_put_blob(&nack.body, key, klen);
            bytes_put_u64(&nack.body, origin);
            batch_end(&nack);
            e->stats.nacks_sent++;
            log_field f[2] = {{"key", (const char *)key, klen}, {"to", from, from_len}};
            log_queue_push(&e->logs, LOG_INFO, "delta.nack_sent", e->now_ms, f, 2);
            continue;
        }
        crdt *delta = NULL;
        rc = crdt_decode(&delta, d, dlen, &e->cfg.lim, engine_wall_ms(e));
        if (rc)
            break;
        if (crdt_type_of(delta) != (crdt_type)type) {
            crdt_free(delta);
            rc = antientropy_corrupt("delta");
            break;
        }
        rc = engine_merge_state(e, key, klen, (crdt_type)type, false, delta, changed_ms, &idx);
        if (rc == ST_OK && idx != KT_NONE && seq > kt_seq_get(kt_at(&e->kt, idx), origin))
            (void)kt_seq_set(kt_at(&e->kt, idx), origin, seq);
    }
    batch_finish(&nack, false);
    return rc == ST_OK && !reader_done(r) ? antientropy_corrupt("delta") : rc;
}

static int handle_nack(engine *e, const char *from, size_t from_len, reader *r)
{
    return send_listed_states(e, from, from_len, r, true, "nack");
}

static int handle_read(engine *e, const char *from, size_t from_len, reader *r)
{
    uint64_t req = reader_varint(r);
    size_t klen;
    const uint8_t *key = reader_blob(r, e->cfg.lim.max_value_bytes, &klen);
    if (!reader_done(r) || !klen || !req)
        return antientropy_corrupt("read");
    uint32_t idx = kt_find(&e->kt, key, klen);
    bytes b = BYTES_INIT;
    wire_header(&b, WIRE_READ_REPLY, e->incarnation);
    bytes_put_varint(&b, req);
    bytes_put_u8(&b, idx != KT_NONE);
    if (idx != KT_NONE && engine_put_state_entry(e, &b, idx) != ST_OK) {
        bytes_free(&b);
        return error_code();
    }
    return engine_send(e, WIRE_READ_REPLY, from, from_len, &b);
}

static int handle_read_reply(engine *e, const char *from, size_t from_len, reader *r)
{
    uint64_t req = reader_varint(r);
    uint8_t found = reader_u8(r);
    if (!reader_ok(r) || found > 1 || !req)
        return antientropy_corrupt("read reply");
    if (found) {
        uint32_t idx;
        bool sender_tomb;
        int rc = engine_read_state_entry(e, r, &idx, &sender_tomb);
        if (rc)
            return rc;
    }
    if (!reader_done(r))
        return antientropy_corrupt("read reply");
    return requests_on_ack(e, hash_digest(from, from_len), req);
}

int antientropy_handle(engine *e, member *from, const char *from_id, size_t from_len,
                       wire_type type, reader *r)
{
    switch (type) {
    case WIRE_JOIN:
        if (!reader_done(r))
            return antientropy_corrupt("join");
        if (from)
            send_gossip(e, from, false);
        return ST_OK;
    case WIRE_GOSSIP: return handle_gossip(e, from, from_id, from_len, r);
    case WIRE_KEYS: return handle_keys(e, from_id, from_len, r);
    case WIRE_WANT: return handle_want(e, from_id, from_len, r);
    case WIRE_STATE: return handle_state(e, from_id, from_len, r);
    case WIRE_DELTA: return handle_delta(e, from_id, from_len, r);
    case WIRE_NACK: return handle_nack(e, from_id, from_len, r);
    case WIRE_TOMB_SEEN: return antientropy_handle_tomb_seen(e, from_id, from_len, r);
    case WIRE_WRITE_ACK: {
        uint64_t req = reader_varint(r);
        if (!reader_done(r) || !req)
            return antientropy_corrupt("write ack");
        return requests_on_ack(e, hash_digest(from_id, from_len), req);
    }
    case WIRE_READ: return handle_read(e, from_id, from_len, r);
    case WIRE_READ_REPLY: return handle_read_reply(e, from_id, from_len, r);
    case WIRE_PRUNE: return prune_handle(e, from, from_id, from_len, r);
    default: return antientropy_corrupt("unknown");
    }
}
