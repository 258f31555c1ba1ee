/*
 * LWWRegister: last writer wins.
 *
 * Order: (timestamp, actor, value bytes); a register that was never assigned
 * loses to any assignment. The timestamp is the node's clock (ctx->now_ms),
 * but a local assignment always moves past what the register holds
 * (max(now, held + 1)), so a write is never lost locally to a clock that
 * went backwards or a remote clock that runs ahead. Decoders reject
 * timestamps further in the future than limits->max_clock_skew_ms, so one
 * node with a broken clock cannot pin a register forever.
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_impl.h"
#include "util/error.h"
#include "util/status.h"

void lww_free(lwwreg *r)
{
    free(r->value);
    memset(r, 0, sizeof *r);
}

int lww_clone(lwwreg *dst, const lwwreg *src)
{
    *dst = *src;
    dst->value = NULL;
    if (src->has) {
        dst->value = malloc(src->len ? src->len : 1);
        if (!dst->value) {
            memset(dst, 0, sizeof *dst);
            return error_oom();
        }
        if (src->len)
            memcpy(dst->value, src->value, src->len);
    }
    return ST_OK;
}

static int lww_cmp(const lwwreg *a, const lwwreg *b)
{
    if (a->has != b->has)
        return a->has ? 1 : -1;
    if (!a->has)
        return 0;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->actor != b->actor)
        return a->actor < b->actor ? -1 : 1;
    return ds_elem_cmp(a->value, a->len, b->value, b->len);
}

int lww_assign(lwwreg *r, const uint8_t *value, size_t len, const crdt_ctx *ctx)
{
    uint64_t ts = ctx->now_ms;
    if (r->has && ts <= r->ts) {
        if (r->ts == UINT64_MAX)
            return error_set(ST_ELIMIT, "register timestamp is at its maximum");
        ts = r->ts + 1;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return error_oom();
    if (len)
        memcpy(copy, value, len);
    free(r->value);
    r->value = copy;
    r->len = len;
    r->ts = ts;
    r->actor = ctx->actor;
    r->has = true;
    return ST_OK;
}

int lww_merge(lwwreg *dst, const lwwreg *src)
{
    if (lww_cmp(src, dst) <= 0)
        return ST_OK;
    lwwreg tmp;
    int rc = lww_clone(&tmp, src);
    if (rc)
        return rc;
    lww_free(dst);
    *dst = tmp;
    return ST_OK;
}

void lww_encode(const lwwreg *r, bytes *out)
{
    bytes_put_u8(out, r->has ? 1 : 0);
    if (!r->has)
        return;
    bytes_put_varint(out, r->ts);
    bytes_put_u64(out, r->actor);
    bytes_put_blob(out, r->value, r->len);
}

int lww_decode(lwwreg *r, reader *rd, const limits *lim, uint64_t now_ms)
{
    memset(r, 0, sizeof *r);
    uint8_t has = reader_u8(rd);
    if (!reader_ok(rd))
        return crdt_truncated();
    if (has > 1)
        return error_set(ST_ECORRUPT, "register flag byte %u is not 0 or 1", has);
    if (!has)
        return ST_OK;
    uint64_t ts = crdt_varint(rd);
    uint64_t actor = reader_u64(rd);
    uint64_t len = crdt_varint(rd);
    if (!reader_ok(rd))
        return crdt_truncated();
    if (len > lim->max_value_bytes)
        return error_set(ST_ELIMIT, "register value of %llu bytes exceeds the limit of %llu",
                         (unsigned long long)len, (unsigned long long)lim->max_value_bytes);
    const uint8_t *v = reader_take(rd, (size_t)len);
    if (!reader_ok(rd))
        return crdt_truncated();
    if (now_ms != UINT64_MAX && ts > now_ms && ts - now_ms > lim->max_clock_skew_ms)
        return error_set(ST_ELIMIT,
                         "register timestamp %llu is more than %llu ms ahead of now (%llu)",
                         (unsigned long long)ts, (unsigned long long)lim->max_clock_skew_ms,
                         (unsigned long long)now_ms);
    r->value = malloc(len ? (size_t)len : 1);
    if (!r->value)
        return error_oom();
    if (len)
        memcpy(r->value, v, (size_t)len);
    r->len = (size_t)len;
    r->ts = ts;
    r->actor = actor;
    r->has = true;
    return ST_OK;
}
