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
