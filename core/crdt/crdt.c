/*
 * The generic value: dispatch from crdt.h's contract to the types.
 *
 * The union in crdt_impl.h keeps one allocation per value whatever its
 * type. Counters and LWW registers have simple state; every causal type
 * (ORSet, MVRegister, the maps) is a dot set (dotset.c); GSet is a dot set
 * whose elements carry no dots, joined by plain union.
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_impl.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

static const char *const type_names[] = {
    NULL,         "GCounter", "PNCounter", "GSet",         "ORSet",       "LWWRegister", "Flag",
    "MVRegister", "ORMap",    "LWWMap",    "PNCounterMap", "GCounterMap", "ORMultiMap",
};

const char *crdt_type_name(crdt_type type)
{
    if (type < 1 || type > CRDT_TYPE_MAX)
        return NULL;
    return type_names[type];
}

static const char *op_name(crdt_op_kind k)
{
    static const char *const n[] = {"?",     "increment", "decrement", "add",   "remove",
                                    "clear", "assign",    "enable",    "update"};
    return (k >= 1 && k <= 8) ? n[k] : "?";
}

bool crdt_needs_causal_delta(crdt_type type)
{
    return type == CRDT_ORSET || type == CRDT_MVREGISTER || crdt_is_map(type);
}

static bool uses_dotset(crdt_type t)
{
    return t == CRDT_GSET || t == CRDT_ORSET || t == CRDT_MVREGISTER || crdt_is_map(t);
}

crdt *crdt_alloc(crdt_type type)
{
    crdt *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->type = type;
    if (uses_dotset(type))
        ds_init(&v->u.ds, crdt_is_map(type));
    return v;
}

int crdt_new(crdt **out, crdt_type type)
{
    *out = NULL;
    if (!crdt_type_name(type))
        return error_set(ST_EINVAL, "unknown crdt type %d", (int)type);
    *out = crdt_alloc(type);
    return *out ? ST_OK : error_oom();
}

void crdt_free(crdt *v)
{
    if (!v)
        return;
    switch (v->type) {
    case CRDT_GCOUNTER: gcounter_free(&v->u.gc); break;
    case CRDT_PNCOUNTER:
        gcounter_free(&v->u.pn.p);
        gcounter_free(&v->u.pn.n);
        break;
    case CRDT_LWWREGISTER: lww_free(&v->u.reg); break;
    case CRDT_FLAG: break;
    default: ds_free(&v->u.ds); break;
    }
    free(v);
}

crdt_type crdt_type_of(const crdt *v)
{
    return v->type;
}

int crdt_clone(crdt **out, const crdt *v)
{
    crdt *c = calloc(1, sizeof *c);
    if (!c)
        return error_oom();
    c->type = v->type;
    int rc = ST_OK;
    switch (v->type) {
    case CRDT_GCOUNTER: rc = gcounter_clone(&c->u.gc, &v->u.gc); break;
    case CRDT_PNCOUNTER:
        rc = gcounter_clone(&c->u.pn.p, &v->u.pn.p);
        if (!rc) {
            rc = gcounter_clone(&c->u.pn.n, &v->u.pn.n);
            if (rc)
                gcounter_free(&c->u.pn.p);
        }
        break;
    case CRDT_LWWREGISTER: rc = lww_clone(&c->u.reg, &v->u.reg); break;
    case CRDT_FLAG: c->u.flag = v->u.flag; break;
    default: rc = ds_clone(&c->u.ds, &v->u.ds); break;
    }
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return ST_OK;
}

static int wrong_op(const crdt *v, const crdt_op *op)
{
    return error_set(ST_ETYPE, "op '%s' does not apply to %s", op_name(op->kind),
                     crdt_type_name(v->type));
}

static int check_bytes(const uint8_t *p, size_t len, const char *what)
{
    if (!p && len)
        return error_set(ST_EINVAL, "op %s is NULL with length %zu", what, len);
    if (len > LIMITS_DEFAULT_VALUE_BYTES)
        return error_set(ST_ELIMIT, "op %s of %zu bytes exceeds the limit of %llu", what, len,
                         (unsigned long long)LIMITS_DEFAULT_VALUE_BYTES);
    return ST_OK;
}

static int apply_to(crdt *v, const crdt_op *op, const crdt_ctx *ctx, crdt *d)
{
    int rc = ST_OK;
    const uint8_t *val = op->value ? op->value : (const uint8_t *)"";
    switch (v->type) {
    case CRDT_GCOUNTER:
    case CRDT_PNCOUNTER: {
        gcounter *g;
        if (op->kind == CRDT_OP_INCREMENT)
            g = v->type == CRDT_GCOUNTER ? &v->u.gc : &v->u.pn.p;
        else if (op->kind == CRDT_OP_DECREMENT && v->type == CRDT_PNCOUNTER)
            g = &v->u.pn.n;
        else
            return wrong_op(v, op);
        uint64_t total;
        rc = gcounter_add(g, ctx->actor, op->amount, &total);
        if (!rc && d) {
            gcounter *dg = v->type == CRDT_GCOUNTER        ? &d->u.gc
                           : op->kind == CRDT_OP_INCREMENT ? &d->u.pn.p
                                                           : &d->u.pn.n;
            rc = gcounter_set(dg, ctx->actor, total);
        }
        return rc;
    }
    case CRDT_GSET: {
        if (op->kind != CRDT_OP_ADD)
            return wrong_op(v, op);
        uint32_t h = ds_hash(val, op->value_len), idx;
        if (ds_find(&v->u.ds, val, op->value_len, h) < 0)
            rc = ds_insert(&v->u.ds, val, op->value_len, h, &idx);
        if (!rc && d)
            rc = ds_insert(&d->u.ds, val, op->value_len, h, &idx);
        return rc;
    }
    case CRDT_ORSET:
        switch (op->kind) {
        case CRDT_OP_ADD:
            return ds_add(&v->u.ds, val, op->value_len, ctx->actor, d ? &d->u.ds : NULL, NULL);
        case CRDT_OP_REMOVE: return ds_remove(&v->u.ds, val, op->value_len, d ? &d->u.ds : NULL);
        case CRDT_OP_CLEAR: return ds_clear(&v->u.ds, d ? &d->u.ds : NULL);
        default: return wrong_op(v, op);
        }
    case CRDT_MVREGISTER:
        switch (op->kind) {
        case CRDT_OP_ASSIGN:
            /* the new value supersedes every value this replica has seen */
            rc = ds_clear(&v->u.ds, d ? &d->u.ds : NULL);
            if (!rc)
                rc = ds_add(&v->u.ds, val, op->value_len, ctx->actor, d ? &d->u.ds : NULL, NULL);
            return rc;
        case CRDT_OP_CLEAR: return ds_clear(&v->u.ds, d ? &d->u.ds : NULL);
        default: return wrong_op(v, op);
        }
    case CRDT_LWWREGISTER:
        if (op->kind != CRDT_OP_ASSIGN)
            return wrong_op(v, op);
        rc = lww_assign(&v->u.reg, val, op->value_len, ctx);
        if (!rc && d)
            rc = lww_merge(&d->u.reg, &v->u.reg);
        return rc;
    case CRDT_FLAG:
        if (op->kind != CRDT_OP_ENABLE)
            return wrong_op(v, op);
        v->u.flag = true;
        if (d)
            d->u.flag = true;
        return ST_OK;
    default: return map_apply(v, op, ctx, d);
    }
}

int crdt_apply(crdt *v, const crdt_op *op, const crdt_ctx *ctx, crdt **delta)
{
    if (delta)
        *delta = NULL;
    else if (v->type == CRDT_GCOUNTER && op->kind == CRDT_OP_INCREMENT)
        return gcounter_increment_fast(&v->u.gc, ctx->actor, op->amount);
    uint32_t depth = 0;
    for (const crdt_op *o = op; o; o = o->kind == CRDT_OP_UPDATE ? o->nested : NULL) {
        if (++depth > LIMITS_DEFAULT_DEPTH)
            return error_set(ST_ELIMIT, "op nesting exceeds %u levels", LIMITS_DEFAULT_DEPTH);
        int rc = check_bytes(o->key, o->key_len, "key");
        if (!rc)
            rc = check_bytes(o->value, o->value_len, "value");
        if (rc)
            return rc;
    }
    if (op->kind < CRDT_OP_INCREMENT || op->kind > CRDT_OP_UPDATE)
        return error_set(ST_EINVAL, "unknown op kind %d", (int)op->kind);
    crdt *d = NULL;
    if (delta) {
        d = crdt_alloc(v->type);
        if (!d)
            return error_oom();
    }
    int rc = apply_to(v, op, ctx, d);
    if (rc) {
        crdt_free(d);
        return rc;
    }
    if (delta)
        *delta = d;
    return ST_OK;
}

static int gset_merge(dotset *dst, const dotset *src)
{
    for (uint32_t i = 0; i < src->n; i++) {
        const ds_entry *e = &src->entries[i];
        uint32_t idx;
        if (ds_find(dst, ds_elem(src, e), e->len, e->hash) < 0) {
            int rc = ds_insert(dst, ds_elem(src, e), e->len, e->hash, &idx);
            if (rc)
                return rc;
        }
    }
    return ST_OK;
}

int crdt_merge(crdt *dst, const crdt *src)
{
    if (dst->type != src->type)
        return error_set(ST_ETYPE, "cannot merge %s into %s", crdt_type_name(src->type),
                         crdt_type_name(dst->type));
    if (dst == src)
        return ST_OK;
    switch (dst->type) {
    case CRDT_GCOUNTER: return gcounter_merge(&dst->u.gc, &src->u.gc);
    case CRDT_PNCOUNTER: {
        int rc = gcounter_merge(&dst->u.pn.p, &src->u.pn.p);
        return rc ? rc : gcounter_merge(&dst->u.pn.n, &src->u.pn.n);
    }
    case CRDT_LWWREGISTER: return lww_merge(&dst->u.reg, &src->u.reg);
    case CRDT_FLAG: dst->u.flag = dst->u.flag || src->u.flag; return ST_OK;
    case CRDT_GSET: return gset_merge(&dst->u.ds, &src->u.ds);
    default: return ds_merge(&dst->u.ds, &src->u.ds);
    }
}

bool crdt_equal(const crdt *a, const crdt *b)
{
    if (a->type != b->type)
        return false;
    bytes x = BYTES_INIT, y = BYTES_INIT;
    bool eq = crdt_encode(a, &x) == ST_OK && crdt_encode(b, &y) == ST_OK && x.len == y.len &&
              memcmp(x.data, y.data, x.len) == 0;
    bytes_free(&x);
    bytes_free(&y);
    return eq;
}

/* ---- codec ------------------------------------------------------------- */

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
        h = hash_bytes(b.data, b.len, 0);
    bytes_free(&b);
    return h;
}

/* Calls fn on every counter in v: the value itself, or every nested value
 * of a map, per dot and joined (see map.c: each dot carries a value). */
typedef int (*gcounter_visit)(gcounter *g, void *arg);

static int visit_counters(crdt *v, gcounter_visit fn, void *arg)
{
    switch (v->type) {
    case CRDT_GCOUNTER: return fn(&v->u.gc, arg);
    case CRDT_PNCOUNTER: {
        int rc = fn(&v->u.pn.p, arg);
        return rc ? rc : fn(&v->u.pn.n, arg);
    }
    default: break;
    }
    if (!crdt_is_map(v->type) || !v->u.ds.n)
        return ST_OK;
    dotset *s = &v->u.ds;
    for (uint32_t i = 0; i < s->n; i++) {
        ds_entry *e = &s->entries[i];
        if (e->ax == DS_MULTI) {
            ds_multi *m = &s->multi[e->ctr];
            for (uint32_t k = 0; m->vals && k < m->n; k++) {
                int rc = visit_counters(m->vals[k], fn, arg);
                if (rc)
                    return rc;
            }
        }
        int rc = visit_counters(s->vals[i], fn, arg);
        if (rc)
            return rc;
    }
    return ST_OK;
}

typedef struct prune_arg {
    uint64_t removed, survivor, keep_until_ms;
} prune_arg;

static int prune_value(crdt *v, const prune_arg *a, bool top);

/* A map key's value is the join of its dots' values (map.c), and a
 * survivor's slot overlaps across those values (max, not sum), so folding
 * the removed slot into the survivor's one dot value at a time would lose
 * counts. A key with one dot is pruned in place (its dot value is the
 * key's value). A key with several dots (concurrent updates) is first
 * collapsed, at the top level only: the survivor updates it with a no-op,
 * one fresh dot carrying the pruned join, as any update would. Nested maps
 * are not collapsed (a fresh dot inside a value could reuse one of the
 * survivor's dots with another meaning), so their multi-dot keys wait
 * until the next update makes them single. */
static int prune_map(crdt *v, const prune_arg *a, bool top)
{
    dotset *s = &v->u.ds;
    for (uint32_t i = 0; i < s->n; i++) {
        ds_entry *e = &s->entries[i];
        crdt *joined = s->vals[i];
        if (!crdt_holds_actor(joined, a->removed))
            continue;
        if (e->ax != DS_MULTI) {
            int rc = prune_value(joined, a, false);
            if (rc)
                return rc;
            continue;
        }
        if (!top || crdt_is_map(joined->type))
            continue;
        crdt *c;
        int rc = crdt_clone(&c, joined);
        if (!rc)
            rc = prune_value(c, a, false);
        if (rc) {
            crdt_free(c);
            return rc;
        }
        rc = ds_map_put(s, ds_elem(s, e), e->len, a->survivor, c, NULL);
        if (rc)
            return rc;
    }
    return ST_OK;
}

static int prune_value(crdt *v, const prune_arg *a, bool top)
{
    switch (v->type) {
    case CRDT_GCOUNTER: return gcounter_prune(&v->u.gc, a->removed, a->survivor, a->keep_until_ms);
    case CRDT_PNCOUNTER: {
        int rc = gcounter_prune(&v->u.pn.p, a->removed, a->survivor, a->keep_until_ms);
        return rc ? rc : gcounter_prune(&v->u.pn.n, a->removed, a->survivor, a->keep_until_ms);
    }
    default: return crdt_is_map(v->type) ? prune_map(v, a, top) : ST_OK;
    }
}

int crdt_prune(crdt *v, uint64_t removed, uint64_t survivor, uint64_t keep_until_ms)
{
    /* Dots of a removed node stay (they are history, and a dot set does not
     * grow per update); only counters fold the removed slot and keep a
     * marker. */
    if (removed == survivor)
        return error_set(ST_EINVAL, "cannot prune an actor into itself");
    prune_arg a = {removed, survivor, keep_until_ms};
    return prune_value(v, &a, true);
}

static int holds_one(gcounter *g, void *argp)
{
    return gcounter_holds(g, *(const uint64_t *)argp) ? 1 : 0;
}

bool crdt_holds_actor(const crdt *v, uint64_t actor)
{
    return visit_counters((crdt *)v, holds_one, &actor) == 1;
}

static int markers_one(gcounter *g, void *arg)
{
    (void)arg;
    return g->nmarkers ? 1 : 0;
}

bool crdt_has_prune_markers(const crdt *v)
{
    return visit_counters((crdt *)v, markers_one, NULL) == 1;
}

typedef struct drop_arg {
    uint64_t now_ms;
    bool dropped;
} drop_arg;

static int drop_one(gcounter *g, void *argp)
{
    drop_arg *a = argp;
    if (g->nmarkers && gcounter_drop_markers(g, a->now_ms))
        a->dropped = true;
    return 0;
}

bool crdt_drop_prune_markers(crdt *v, uint64_t now_ms)
{
    drop_arg a = {now_ms, false};
    (void)visit_counters(v, drop_one, &a);
    return a.dropped;
}

typedef struct each_arg {
    int (*fn)(uint64_t actor, void *arg);
    void *arg;
} each_arg;

static int each_one(gcounter *g, void *argp)
{
    each_arg *a = argp;
    for (uint32_t i = 0; i < g->n; i++) {
        int rc = a->fn(g->actors[i], a->arg);
        if (rc)
            return rc;
    }
    return 0;
}

int crdt_each_counter_actor(const crdt *v, int (*fn)(uint64_t actor, void *arg), void *arg)
{
    each_arg a = {fn, arg};
    return visit_counters((crdt *)v, each_one, &a);
}

static int slots_one(gcounter *g, void *arg)
{
    *(uint64_t *)arg += g->n;
    return 0;
}

uint64_t crdt_counter_slots(const crdt *v)
{
    uint64_t n = 0;
    (void)visit_counters((crdt *)v, slots_one, &n);
    return n;
}

uint64_t crdt_count(const crdt *v)
{
    switch (v->type) {
    case CRDT_GCOUNTER: return v->u.gc.n;
    case CRDT_PNCOUNTER: return (uint64_t)v->u.pn.p.n + v->u.pn.n.n;
    case CRDT_LWWREGISTER: return v->u.reg.has ? 1 : 0;
    case CRDT_FLAG: return v->u.flag ? 1 : 0;
    default: return v->u.ds.n;
    }
}

/* ---- reads --------------------------------------------------------------- */

int crdt_counter_value(const crdt *v, int64_t *out)
{
    return counter_value(v, out);
}

int crdt_contains(const crdt *v, const uint8_t *elem, size_t len, bool *out)
{
    if (!uses_dotset(v->type))
        return error_set(ST_ETYPE, "%s has no elements", crdt_type_name(v->type));
    if (!elem)
        elem = (const uint8_t *)"";
    *out = ds_find(&v->u.ds, elem, len, ds_hash(elem, len)) >= 0;
    return ST_OK;
}

int crdt_register_get(const crdt *v, const uint8_t **value, size_t *len)
{
    if (v->type != CRDT_LWWREGISTER)
        return error_set(ST_ETYPE, "%s is not an LWWRegister", crdt_type_name(v->type));
    if (!v->u.reg.has)
        return error_set(ST_ENOTFOUND, "register was never assigned");
    *value = v->u.reg.value;
    *len = v->u.reg.len;
    return ST_OK;
}

int crdt_flag_value(const crdt *v, bool *out)
{
    if (v->type != CRDT_FLAG)
        return error_set(ST_ETYPE, "%s is not a Flag", crdt_type_name(v->type));
    *out = v->u.flag;
    return ST_OK;
}

const crdt *crdt_map_get(const crdt *map, const uint8_t *key, size_t len)
{
    if (!crdt_is_map(map->type))
        return NULL;
    if (!key)
        key = (const uint8_t *)"";
    int64_t i = ds_find(&map->u.ds, key, len, ds_hash(key, len));
    return i < 0 ? NULL : map->u.ds.vals[i];
}

int crdt_elements(const crdt *v, bytes *out)
{
    if (!uses_dotset(v->type))
        return error_set(ST_ETYPE, "%s has no elements", crdt_type_name(v->type));
    const dotset *s = &v->u.ds;
    uint32_t *order = ds_sorted(s);
    if (!order)
        return error_oom();
    for (uint32_t k = 0; k < s->n; k++) {
        const ds_entry *e = &s->entries[order[k]];
        bytes_put_u32(out, e->len);
        bytes_put(out, ds_elem(s, e), e->len);
    }
    free(order);
    return out->failed ? error_oom() : ST_OK;
}
