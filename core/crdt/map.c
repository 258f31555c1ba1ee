/*
 * The maps: ORMap (any value type, nested), and its fixed-value forms
 * LWWMap (LWWRegister), PNCounterMap, GCounterMap and ORMultiMap (ORSet).
 *
 * A map is a dot set of keys. Each dot of a key is tagged with the key's
 * whole value as of the update that made the dot (immutable from then on);
 * the key's value is the join of the values of its surviving dots. An
 * update supersedes the key's dots with one fresh dot whose value is the
 * current value with the nested op applied, so its delta is the key's
 * add-delta carrying that value. Removing a key drops the dots (and with
 * them the values) its context covers; a concurrent update keeps the key
 * (add wins) with exactly what that update saw and did. Because values ride
 * on dots, a key removed and re-created starts from a fresh value on every
 * replica, whatever the order of delivery (a per-key value that merged
 * independently of the dots would resurrect old state). The price: a map
 * update's delta carries the key's whole nested value, not a nested delta.
 * If two replicas concurrently create a key with different types, the
 * higher type number wins in the join, which keeps it a join.
 */
#include <string.h>

#include "crdt/crdt_impl.h"
#include "util/error.h"
#include "util/status.h"

bool crdt_is_map(crdt_type t)
{
    return t >= CRDT_ORMAP && t <= CRDT_ORMULTIMAP;
}

crdt_type map_fixed_type(crdt_type t)
{
    switch (t) {
    case CRDT_LWWMAP: return CRDT_LWWREGISTER;
    case CRDT_PNCOUNTERMAP: return CRDT_PNCOUNTER;
    case CRDT_GCOUNTERMAP: return CRDT_GCOUNTER;
    case CRDT_ORMULTIMAP: return CRDT_ORSET;
    default: return (crdt_type)0;
    }
}

/* Dots inside a key's value must never be reused with another meaning: an
 * earlier value of the key (before a remove, or under a dot another
 * replica's remove superseded) may live on in a concurrent update's value,
 * and two values tagging one dot differently would break the join. Every
 * dot this actor made inside the key came from one of its own updates of
 * this map, so the map's counter for the actor bounds them all: before each
 * update the value's context claims that prefix of the actor's dots as
 * seen (true: the actor made them), and its next dot is above them. */
static int lift_context(dotset *outer, crdt *val, uint64_t actor)
{
    uint32_t oax, ax;
    int rc = ds_actor_slot(outer, actor, &oax);
    if (rc)
        return rc;
    uint64_t base = ds_next_ctr(outer, oax) - 1;
    if (!base)
        return ST_OK;
    rc = ds_actor_slot(&val->u.ds, actor, &ax);
    if (!rc)
        ds_ctx_raise(&val->u.ds, ax, base);
    return rc;
}

static int map_update(crdt *v, const uint8_t *key, size_t klen, crdt_type vtype,
                      const crdt_op *nested, const crdt_ctx *ctx, crdt *d)
{
    dotset *s = &v->u.ds;
    int64_t found = ds_find(s, key, klen, ds_hash(key, klen));
    crdt *val = NULL;
    int rc;
    if (found < 0) {
        rc = crdt_new(&val, vtype);
    } else {
        const crdt *cur = s->vals[found];
        if (cur->type != vtype)
            return error_set(ST_ETYPE, "map key holds a %s, not a %s", crdt_type_name(cur->type),
                             crdt_type_name(vtype));
        /* the key's current value (the join of its dots' values) becomes the
         * base of the new dot's value; the old dots are superseded */
        rc = crdt_clone(&val, cur);
    }
    if (!rc && crdt_needs_causal_delta(vtype))
        rc = lift_context(s, val, ctx->actor);
    if (rc) {
        crdt_free(val);
        return rc;
    }
    rc = crdt_apply(val, nested, ctx, NULL);
    if (rc) {
        crdt_free(val);
        return rc;
    }
    return ds_map_put(s, key, klen, ctx->actor, val, d ? &d->u.ds : NULL);
}

/* Whether a map of `type` passes an op of `kind` on to the value at its
 * key: an LWWMap assigns its register, the counter maps count, an
 * ORMultiMap adds to its set. */
static bool map_passes_on(crdt_type type, crdt_op_kind kind)
{
    switch (kind) {
    case CRDT_OP_ASSIGN: return type == CRDT_LWWMAP;
    case CRDT_OP_INCREMENT: return type == CRDT_PNCOUNTERMAP || type == CRDT_GCOUNTERMAP;
    case CRDT_OP_DECREMENT: return type == CRDT_PNCOUNTERMAP;
    case CRDT_OP_ADD: return type == CRDT_ORMULTIMAP;
    default: return false;
    }
}

int map_apply(crdt *v, const crdt_op *op, const crdt_ctx *ctx, crdt *d)
{
    const uint8_t *key = op->key ? op->key : (const uint8_t *)"";
    crdt_type fixed = map_fixed_type(v->type);
    crdt_op inner = {0};
    switch (op->kind) {
    case CRDT_OP_CLEAR: return ds_clear(&v->u.ds, d ? &d->u.ds : NULL);
    case CRDT_OP_REMOVE:
        if (v->type == CRDT_ORMULTIMAP && op->value) {
            inner.kind = CRDT_OP_REMOVE;
            break;
        }
        return ds_remove(&v->u.ds, key, op->key_len, d ? &d->u.ds : NULL);
    case CRDT_OP_UPDATE:
        if (!op->nested)
            return error_set(ST_EINVAL, "update op needs a nested op");
        if (!crdt_type_name(op->value_type))
            return error_set(ST_EINVAL, "update op has unknown value type %d", (int)op->value_type);
        if (fixed && op->value_type != fixed)
            return error_set(ST_ETYPE, "%s values are %s, not %s", crdt_type_name(v->type),
                             crdt_type_name(fixed), crdt_type_name(op->value_type));
        return map_update(v, key, op->key_len, op->value_type, op->nested, ctx, d);
    default:
        if (!map_passes_on(v->type, op->kind))
            goto wrong;
        inner.kind = op->kind;
        break;
    }
    if (!fixed)
        goto wrong;
    inner.amount = op->amount;
    inner.value = op->value;
    inner.value_len = op->value_len;
    if (op->kind == CRDT_OP_REMOVE) {
        /* removing one value of an absent key changes nothing */
        if (ds_find(&v->u.ds, key, op->key_len, ds_hash(key, op->key_len)) < 0)
            return ST_OK;
    }
    return map_update(v, key, op->key_len, fixed, &inner, ctx, d);
wrong:
    return error_set(ST_ETYPE, "this op does not apply to %s (kind %d)", crdt_type_name(v->type),
                     (int)op->kind);
}
