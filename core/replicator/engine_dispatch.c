/*
 * Time and incoming messages: the tick drives every periodic task (gossip,
 * failure detection, expiry, pruning, notifications, write-behind), and
 * engine_deliver checks a message's header and hands it to membership.c
 * and antientropy.c. Messages too large for one frame arrive in pieces
 * (WIRE_FRAG) and are reassembled here, within a byte budget per sender.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

#define MAX_PARTIALS 16u
#define PARTIAL_TIMEOUT_MS 30000u

void engine_partial_drop(engine *e, size_t at)
{
    partial *p = &e->partials[at];
    e->partial_bytes -= p->bytes;
    for (uint32_t j = 0; j < p->count; j++)
        bytes_free(&p->pieces[j]);
    free(p->pieces);
    e->partials[at] = e->partials[--e->npartials];
}

int engine_tick(engine *e, uint64_t now_ms)
{
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    now_ms = e->now_ms;
    if (e->left && now_ms >= e->next_gossip_ms) { /* leave.c: no gossip any more */
        e->next_gossip_ms = now_ms + e->cfg.gossip_interval_ms;
        leave_tick(e);
    }
    if (now_ms >= e->next_gossip_ms) {
        e->next_gossip_ms = now_ms + e->cfg.gossip_interval_ms;
        membership_tick(e);
        engine_expiry_scan(e);
        antientropy_flush_batched(e);
        antientropy_gossip_round(e);
        antientropy_tomb_round(e);
        prune_tick(e);
        for (size_t i = 0; i < e->npartials;) {
            if (e->partials[i].started_ms + PARTIAL_TIMEOUT_MS < now_ms)
                engine_partial_drop(e, i);
            else
                i++;
        }
    }
    requests_tick(e);
    if (now_ms >= e->next_notify_ms) {
        e->next_notify_ms = now_ms + e->cfg.notify_interval_ms;
        engine_notify_flush(e);
    }
    if (e->cfg.write_behind && now_ms >= e->next_flush_ms) {
        e->next_flush_ms = now_ms + e->cfg.write_behind_interval_ms;
        (void)durable_flush(e);
    }
    return ST_OK;
}

static int deliver_one(engine *e, const char *from, size_t from_len, const uint8_t *msg, size_t len,
                       int depth);

static int handle_frag(engine *e, const char *from, size_t from_len, reader *r, int depth)
{
    uint64_t id = reader_varint(r);
    uint64_t index = reader_varint(r);
    uint64_t count = reader_varint(r);
    size_t n;
    const uint8_t *piece = reader_blob(r, e->cfg.lim.max_bytes, &n);
    uint64_t max_count = e->cfg.lim.max_bytes / 512 + 1;
    if (!reader_done(r) || depth > 0 || !n || count < 2 || count > max_count || index >= count)
        return error_set(ST_ECORRUPT, "replicator: malformed message piece");
    uint64_t fh = hash_digest(from, from_len);
    partial *p = NULL;
    for (size_t i = 0; i < e->npartials; i++)
        if (e->partials[i].from_hash == fh && e->partials[i].msg_id == id)
            p = &e->partials[i];
    if (p && p->count != count)
        return error_set(ST_ECORRUPT, "replicator: message piece count changed");
    if (!p) {
        if (e->npartials == MAX_PARTIALS)
            return error_set(ST_ELIMIT, "replicator: too many messages in reassembly");
        partial *ps = realloc_array(e->partials, e->npartials + 1, sizeof(partial));
        if (!ps)
            return error_oom();
        e->partials = ps;
        p = &e->partials[e->npartials];
        memset(p, 0, sizeof(*p));
        p->pieces = calloc(count, sizeof(bytes));
        if (!p->pieces)
            return error_oom();
        p->from_hash = fh;
        p->msg_id = id;
        p->count = (uint32_t)count;
        p->started_ms = e->now_ms;
        e->npartials++;
    }
    if (!p->pieces[index].data) {
        /* Bound what a peer can make us hold for messages it never ends. */
        if (p->bytes + n > e->cfg.lim.max_bytes || e->partial_bytes + n > 2 * e->cfg.lim.max_bytes)
            return error_set(ST_ELIMIT, "replicator: message in pieces exceeds the limit");
        p->bytes += n;
        e->partial_bytes += n;
        bytes_put(&p->pieces[index], piece, n);
        if (p->pieces[index].failed)
            return error_oom();
        p->have++;
    }
    if (p->have < p->count)
        return ST_OK;
    bytes whole = BYTES_INIT;
    for (uint32_t i = 0; i < p->count; i++)
        bytes_put(&whole, p->pieces[i].data, p->pieces[i].len);
    engine_partial_drop(e, (size_t)(p - e->partials));
    if (whole.failed) {
        bytes_free(&whole);
        return error_oom();
    }
    int rc = whole.len > e->cfg.lim.max_bytes
                 ? error_set(ST_ELIMIT, "replicator: reassembled message is too large")
                 : deliver_one(e, from, from_len, whole.data, whole.len, depth + 1);
    bytes_free(&whole);
    return rc;
}

static int deliver_one(engine *e, const char *from, size_t from_len, const uint8_t *msg, size_t len,
                       int depth)
{
    reader r = reader_make(msg, len);
    uint8_t magic = reader_u8(&r), version = reader_u8(&r), type = reader_u8(&r);
    uint64_t inc = reader_varint(&r);
    if (!reader_ok(&r) || magic != WIRE_MAGIC)
        return error_set(ST_ECORRUPT, "replicator: not a gossip message");
    if (version != WIRE_VERSION)
        return error_set(ST_ECORRUPT, "replicator: gossip format version %u is not supported",
                         version);
    if (type < 1 || type > WIRE_TYPE_MAX)
        return error_set(ST_ECORRUPT, "replicator: unknown message type %u", type);
    if (e->left && !leave_accepts((wire_type)type)) {
        leave_answer(e, from, from_len); /* it takes no part (leave.c) */
        return ST_OK;
    }
    if (type == WIRE_FRAG)
        return handle_frag(e, from, from_len, &r, depth);
    if (type == WIRE_LEAVE)
        return leave_handle(e, from, from_len, inc, &r);
    member *m = e->left ? NULL
                        : membership_heard(e, from, from_len, inc,
                                           type == WIRE_JOIN || type == WIRE_GOSSIP);
    return antientropy_handle(e, m, from, from_len, (wire_type)type, &r);
}

int engine_deliver(engine *e, uint64_t now_ms, const char *from, size_t from_len,
                   const uint8_t *msg, size_t len)
{
    if (!from || !from_len || from_len > ENGINE_MAX_NODE_ID || memchr(from, 0, from_len))
        return error_set(ST_EINVAL, "replicator: sender node id is empty or invalid");
    if (!msg && len)
        return error_set(ST_EINVAL, "replicator: message must not be NULL");
    if (from_len == e->node_id_len && memcmp(from, e->node_id, from_len) == 0)
        return error_set(ST_EINVAL, "replicator: message from this node's own id");
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    e->stats.msgs_received++;
    e->stats.bytes_received += len;
    unsigned kind = len > 2 && msg[2] < ENGINE_WIRE_KINDS ? msg[2] : 0;
    e->stats.msgs_received_by_type[kind]++;
    e->stats.bytes_received_by_type[kind] += len;
    if (len > e->cfg.lim.max_bytes) {
        e->stats.decode_errors++;
        return error_set(ST_ELIMIT, "replicator: message of %zu bytes is above the limit", len);
    }
    int rc = deliver_one(e, from, from_len, msg, len, 0);
    if (rc == ST_ECORRUPT || rc == ST_ELIMIT)
        e->stats.decode_errors++;
    return rc;
}
