/*
 * Consistency requests: writes and reads at local, from(n), majority,
 * majority_plus(n) and all.
 *
 * The number of replicas a level needs is fixed when the request starts,
 * from the members up at that moment, this node and unreachable ones
 * included (a partition must not shrink what a majority means): majority is
 * floor(N/2)+1, majority_plus(n) is majority + n and all is N, each capped
 * at N; from(n) is n and may exceed N, in which case the request can only
 * time out. A write applies locally first and keeps that effect whatever
 * happens next, then sends its full state with the request id to every up
 * peer and counts acknowledgements; a read asks every up peer and merges
 * each reply into the local value, so after completion (or timeout) a
 * plain get returns the merged result. Each replier counts once.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

static uint32_t needed_for(const engine *e, engine_consistency level, uint32_t n)
{
    uint32_t total = membership_up_count(e);
    /* A node that has not joined yet knows only itself; counting its seeds
     * keeps it from calling itself a majority of one. */
    if (!e->joined && e->cfg.seed_count + 1 > total)
        total = (uint32_t)e->cfg.seed_count + 1;
    uint32_t majority = total / 2 + 1;
    switch (level) {
    case ENGINE_LOCAL: return 1;
    case ENGINE_FROM: return n ? n : 1;
    case ENGINE_MAJORITY: return majority;
    case ENGINE_MAJORITY_PLUS: return majority + n < total ? majority + n : total;
    case ENGINE_ALL: return total;
    }
    return total;
}

static void done_event(engine *e, uint64_t id, int status, const uint8_t *key, size_t key_len)
{
    engine_event ev = {0};
    ev.kind = ENGINE_EV_REQUEST_DONE;
    ev.request_id = id;
    ev.status = status;
    ev.key = malloc(key_len ? key_len : 1);
    if (ev.key) {
        memcpy(ev.key, key, key_len);
        ev.key_len = key_len;
    }
    engine_emit(e, &ev);
}

static int start(engine *e, bool is_read, const uint8_t *key, size_t key_len, uint32_t needed,
                 uint64_t timeout_ms, uint64_t *id_out)
{
    uint64_t id = e->next_request_id++;
    *id_out = id;
    if (needed <= 1) {
        done_event(e, id, ST_OK, key, key_len);
        return ST_OK;
    }
    if (!array_reserve(&e->reqs, &e->cap_reqs, e->nreqs + 1, sizeof(request)))
        return error_oom();
    request *q = &e->reqs[e->nreqs];
    memset(q, 0, sizeof(*q));
    q->key = malloc(key_len);
    q->from = alloc_array(needed, sizeof(uint64_t));
    if (!q->key || !q->from) {
        free(q->key);
        free(q->from);
        return error_oom();
    }
    memcpy(q->key, key, key_len);
    q->key_len = key_len;
    q->id = id;
    q->is_read = is_read;
    q->needed = needed;
    q->got = 1;
    q->deadline_ms = e->now_ms + timeout_ms;
    e->nreqs++;
    return ST_OK;
}

static int check_level(engine_consistency level)
{
    if ((int)level < ENGINE_LOCAL || level > ENGINE_ALL)
        return error_set(ST_EINVAL, "unknown consistency level %d", (int)level);
    return ST_OK;
}

int engine_write(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len, crdt_type type,
                 const crdt_op *op, engine_consistency level, uint32_t n, uint64_t timeout_ms,
                 uint64_t *request_id)
{
    uint32_t idx;
    int rc = check_level(level);
    if (rc)
        return rc;
    rc = engine_update(e, now_ms, key, key_len, type, op, &idx);
    if (rc)
        return rc;
    rc = start(e, false, key, key_len, needed_for(e, level, n), timeout_ms, request_id);
    if (rc == ST_OK && level != ENGINE_LOCAL)
        antientropy_push_state_all(e, idx, *request_id);
    return rc;
}

int engine_read(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len,
                engine_consistency level, uint32_t n, uint64_t timeout_ms, uint64_t *request_id)
{
    if (e->left)
        return leave_refuse(e);
    int rc = check_level(level);
    if (rc)
        return rc;
    rc = engine_check_key(e, key, key_len);
    if (rc)
        return rc;
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    uint32_t needed = needed_for(e, level, n);
    rc = start(e, true, key, key_len, needed, timeout_ms, request_id);
    if (rc || needed <= 1)
        return rc;
    const member *peers[4096];
    size_t np = membership_up_peers(e, peers, 4096);
    for (size_t i = 0; i < np && i < 4096; i++) {
        bytes b = BYTES_INIT;
        wire_header(&b, WIRE_READ, e->incarnation);
        bytes_put_varint(&b, *request_id);
        bytes_put_blob(&b, key, key_len);
        (void)engine_send(e, WIRE_READ, peers[i]->id, peers[i]->id_len, &b);
    }
    return ST_OK;
}

static void finish(engine *e, size_t i, int status)
{
    request *q = &e->reqs[i];
    done_event(e, q->id, status, q->key, q->key_len);
    free(q->key);
    free(q->from);
    e->reqs[i] = e->reqs[--e->nreqs];
}

int requests_on_ack(engine *e, uint64_t from_hash, uint64_t id)
{
    for (size_t i = 0; i < e->nreqs; i++) {
        request *q = &e->reqs[i];
        if (q->id != id)
            continue;
        for (uint32_t k = 0; k < q->nfrom; k++)
            if (q->from[k] == from_hash)
                return ST_OK; /* a duplicate reply counts once */
        if (q->nfrom < q->needed)
            q->from[q->nfrom++] = from_hash;
        q->got++;
        if (q->got >= q->needed)
            finish(e, i, ST_OK);
        return ST_OK;
    }
    return ST_OK; /* late reply to a finished request */
}

void requests_tick(engine *e)
{
    for (size_t i = 0; i < e->nreqs;) {
        if (e->now_ms >= e->reqs[i].deadline_ms) {
            e->stats.request_timeouts++;
            finish(e, i, ST_ETIMEOUT);
        } else
            i++;
    }
}

void requests_free(engine *e)
{
    for (size_t i = 0; i < e->nreqs; i++) {
        free(e->reqs[i].key);
        free(e->reqs[i].from);
    }
    free(e->reqs);
    e->reqs = NULL;
    e->nreqs = 0;
}
