/*
 * The value codec: the versioned binary form of every type (the body
 * encoders live with their types), decoding under the limits' ceilings,
 * and the digest, a hash of the encoding that every node computes the same
 * way so that digest gossip can compare values across nodes.
 */
#include "crdt/crdt_impl.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

static int put_val_v1(const crdt *v, bytes *out)
{
    return crdt_encode_body_v(v, CRDT_CODEC_VERSION, out);
}

static int put_val_v2(const crdt *v, bytes *out)
{
    return crdt_encode_body_v(v, CRDT_CODEC_VERSION_MARKERS, out);
}

int crdt_encode_body_v(const crdt *v, uint8_t ver, bytes *out)
{
    bool mk = ver >= CRDT_CODEC_VERSION_MARKERS;
    bytes_put_u8(out, (uint8_t)v->type);
    switch (v->type) {
    case CRDT_GCOUNTER: gcounter_encode(&v->u.gc, mk, out); break;
    case CRDT_PNCOUNTER:
        gcounter_encode(&v->u.pn.p, mk, out);
        gcounter_encode(&v->u.pn.n, mk, out);
        break;
    case CRDT_LWWREGISTER: lww_encode(&v->u.reg, out); break;
    case CRDT_FLAG: bytes_put_u8(out, v->u.flag ? 1 : 0); break;
    case CRDT_GSET: return ds_encode(&v->u.ds, false, out, NULL);
    case CRDT_ORSET:
    case CRDT_MVREGISTER: return ds_encode(&v->u.ds, true, out, NULL);
    default: return ds_encode(&v->u.ds, true, out, mk ? put_val_v2 : put_val_v1);
    }
    return out->failed ? error_oom() : ST_OK;
}

int crdt_encode(const crdt *v, bytes *out)
{
    uint8_t ver = crdt_has_prune_markers(v) ? CRDT_CODEC_VERSION_MARKERS : CRDT_CODEC_VERSION;
    bytes_put_u8(out, ver);
    return crdt_encode_body_v(v, ver, out);
}

typedef struct nested_arg {
    const limits *lim;
    uint64_t now_ms;
    uint32_t depth;
    crdt_type fixed;
    uint8_t ver;
} nested_arg;

static int get_nested(crdt **out, reader *r, void *argp)
{
    nested_arg *a = argp;
    int rc = crdt_decode_body(out, r, a->lim, a->now_ms, a->depth + 1, a->ver);
    if (!rc && a->fixed && (*out)->type != a->fixed) {
        crdt_type got = (*out)->type;
        crdt_free(*out);
        *out = NULL;
        return error_set(ST_ECORRUPT, "map value of type %s where %s is required",
                         crdt_type_name(got), crdt_type_name(a->fixed));
    }
    return rc;
}

int crdt_decode_body(crdt **out, reader *r, const limits *lim, uint64_t now_ms, uint32_t depth,
                     uint8_t ver)
{
    bool mk = ver >= CRDT_CODEC_VERSION_MARKERS;
    *out = NULL;
    /* the ceiling holds even for a caller that skipped limits validation */
    uint32_t max_depth = lim->max_depth < LIMITS_MAX_DEPTH ? lim->max_depth : LIMITS_MAX_DEPTH;
    if (depth > max_depth)
        return error_set(ST_ELIMIT, "crdt nesting exceeds the depth limit of %u", max_depth);
    uint8_t t = reader_u8(r);
    if (!reader_ok(r))
        return crdt_truncated();
    if (!crdt_type_name((crdt_type)t))
        return error_set(ST_ECORRUPT, "unknown crdt type %u", t);
    crdt *v = crdt_alloc((crdt_type)t);
    if (!v)
        return error_oom();
    int rc = ST_OK;
    switch (v->type) {
    case CRDT_GCOUNTER: rc = gcounter_decode(&v->u.gc, r, lim, mk); break;
    case CRDT_PNCOUNTER:
        rc = gcounter_decode(&v->u.pn.p, r, lim, mk);
        if (!rc)
            rc = gcounter_decode(&v->u.pn.n, r, lim, mk);
        break;
    case CRDT_LWWREGISTER: rc = lww_decode(&v->u.reg, r, lim, now_ms); break;
    case CRDT_FLAG: {
        uint8_t f = reader_u8(r);
        if (!reader_ok(r))
            rc = crdt_truncated();
        else if (f > 1)
            rc = error_set(ST_ECORRUPT, "flag byte %u is not 0 or 1", f);
        v->u.flag = f == 1;
        break;
    }
    case CRDT_GSET: rc = ds_decode(&v->u.ds, r, false, lim, NULL, NULL); break;
    case CRDT_ORSET:
    case CRDT_MVREGISTER: rc = ds_decode(&v->u.ds, r, true, lim, NULL, NULL); break;
    default: {
        nested_arg a = {lim, now_ms, depth, map_fixed_type(v->type), ver};
        rc = ds_decode(&v->u.ds, r, true, lim, get_nested, &a);
        break;
    }
    }
    if (rc) {
        crdt_free(v);
        return rc;
    }
    *out = v;
    return ST_OK;
}

int crdt_decode(crdt **out, const uint8_t *data, size_t len, const limits *lim, uint64_t now_ms)
{
    *out = NULL;
    limits def = limits_default();
    if (!lim)
        lim = &def;
    if (!data && len)
        return error_set(ST_EINVAL, "crdt bytes are NULL with length %zu", len);
    if (len > lim->max_bytes)
        return error_set(ST_ELIMIT, "crdt value of %zu bytes exceeds the limit of %llu", len,
                         (unsigned long long)lim->max_bytes);
    reader r = reader_make(data, len);
    uint8_t ver = reader_u8(&r);
    if (!reader_ok(&r))
        return error_set(ST_ECORRUPT, "crdt value is empty");
    if (ver != CRDT_CODEC_VERSION && ver != CRDT_CODEC_VERSION_MARKERS)
        return error_set(ST_ECORRUPT, "crdt encoding version %u is not supported", ver);
    crdt *v;
    int rc = crdt_decode_body(&v, &r, lim, now_ms, 1, ver);
    if (rc)
        return rc;
    if (ver == CRDT_CODEC_VERSION_MARKERS && !crdt_has_prune_markers(v)) {
        crdt_free(v);
        return error_set(ST_ECORRUPT, "crdt encoding version 2 without pruning markers");
    }
    if (!reader_done(&r)) {
        crdt_free(v);
        return error_set(ST_ECORRUPT, "%zu trailing bytes after the crdt value", reader_left(&r));
    }
    *out = v;
    return ST_OK;
}

uint64_t crdt_digest(const crdt *v)
{
    bytes b = BYTES_INIT;
    uint64_t h = 0;
    if (crdt_encode(v, &b) == ST_OK)
        h = hash_digest(b.data, b.len);
    bytes_free(&b);
    return h;
}
