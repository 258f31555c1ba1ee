/*
 * Local operations: update, get, delete, key listing and subscriptions.
 * An update applies the op to the local value and hands the delta to the
 * change funnel (engine_changes.c); gossip takes it from there.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

int engine_check_key(const engine *e, const uint8_t *key, size_t len)
{
    if (!key || !len)
        return error_set(ST_EINVAL, "replica key must not be empty");
    if (len > e->cfg.lim.max_value_bytes)
        return error_set(ST_ELIMIT, "replica key is %zu bytes, at most %llu", len,
                         (unsigned long long)e->cfg.lim.max_value_bytes);
    return ST_OK;
}

int engine_update(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len, crdt_type type,
                  const crdt_op *op, uint32_t *idx_out)
{
    crdt *fresh = NULL, *delta = NULL;
    if (e->left)
        return leave_refuse(e);
    int rc = engine_check_key(e, key, key_len);
    if (rc)
        return rc;
    if (!op)
        return error_set(ST_EINVAL, "replica op must not be NULL");
    if (type < 1 || type > CRDT_TYPE_MAX)
        return error_set(ST_EINVAL, "unknown crdt type %d", (int)type);
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    uint32_t idx = kt_find(&e->kt, key, key_len);
    kentry *ke = idx == KT_NONE ? NULL : kt_at(&e->kt, idx);
    if (ke && (ke->flags & KE_TOMB))
        return error_set(ST_EDELETED, "key '%.*s' was deleted", error_key_len(key_len),
                         (const char *)key);
    if (ke && ke->type != type)
        return error_set(ST_ETYPE, "key '%.*s' holds a %s, not a %s", error_key_len(key_len),
                         (const char *)key, crdt_type_name((crdt_type)ke->type),
                         crdt_type_name(type));
    crdt_ctx ctx = {e->actor, engine_wall_ms(e)};
    bool want_delta = e->cfg.delta_strategy != ENGINE_DELTA_NONE;
    if (!ke) {
        rc = crdt_new(&fresh, type);
        if (rc)
            return rc;
        rc = crdt_apply(fresh, op, &ctx, want_delta ? &delta : NULL);
        if (rc)
            goto done;
        rc = engine_new_entry(e, key, key_len, type, &idx);
        if (rc)
            goto done;
        ke = kt_at(&e->kt, idx);
        ke->value = fresh;
        fresh = NULL;
    } else {
        rc = crdt_apply(ke->value, op, &ctx, want_delta ? &delta : NULL);
        if (rc)
            goto done;
    }
    ke->changed_ms = ctx.now_ms;
    /* A failed write-through is reported, but the update stays applied in
     * memory and replicates: the store catches up on the next change. */
    int durable_rc = engine_changed(e, idx, ENGINE_EV_CHANGED);
    if (e->cfg.delta_strategy == ENGINE_DELTA_IMMEDIATE && delta) {
        ke->my_seq++;
        (void)kt_seq_set(ke, e->actor, ke->my_seq);
        antientropy_push_delta(e, idx, delta, ke->my_seq);
    } else if (e->cfg.delta_strategy == ENGINE_DELTA_BATCHED && delta) {
        if (!ke->pending_delta) {
            ke->pending_delta = delta;
            delta = NULL;
            ke->flags |= KE_DELTA_PENDING;
            (void)idx_push(&e->batched, &e->nbatched, &e->cap_batched, idx);
        } else if (crdt_merge(ke->pending_delta, delta) != ST_OK) {
            crdt_free(ke->pending_delta);
            ke->pending_delta = NULL; /* digest gossip repairs it */
        }
    }
    if (idx_out)
        *idx_out = idx;
    rc = durable_rc;
done:
    crdt_free(fresh);
    crdt_free(delta);
    return rc;
}

int engine_get(engine *e, const uint8_t *key, size_t key_len, crdt **out)
{
    *out = NULL;
    int rc = engine_check_key(e, key, key_len);
    if (rc)
        return rc;
    uint32_t idx = kt_find(&e->kt, key, key_len);
    if (idx == KT_NONE)
        return error_set(ST_ENOTFOUND, "no key '%.*s' in the replica", error_key_len(key_len),
                         (const char *)key);
    kentry *ke = kt_at(&e->kt, idx);
    if (ke->flags & KE_TOMB)
        return error_set(ST_EDELETED, "key '%.*s' was deleted", error_key_len(key_len),
                         (const char *)key);
    return crdt_clone(out, ke->value);
}

int engine_delete(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len)
{
    if (e->left)
        return leave_refuse(e);
    int rc = engine_check_key(e, key, key_len);
    if (rc)
        return rc;
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    uint32_t idx = kt_find(&e->kt, key, key_len);
    if (idx != KT_NONE && (kt_at(&e->kt, idx)->flags & KE_TOMB))
        return ST_OK;
    if (idx == KT_NONE) {
        /* Deleting an unseen key still leaves a tombstone, so a peer's copy
         * cannot bring it back. */
        rc = engine_new_entry(e, key, key_len, CRDT_GCOUNTER, &idx);
        if (rc)
            return rc;
    }
    kt_at(&e->kt, idx)->changed_ms = engine_wall_ms(e);
    engine_mark_tomb(e, idx);
    antientropy_push_state_all(e, idx, 0);
    return ST_OK;
}

int engine_keys_next(engine *e, uint64_t *cursor, const uint8_t **key, size_t *key_len)
{
    while (*cursor < e->kt.nents) {
        kentry *ke = kt_at(&e->kt, (uint32_t)*cursor);
        (*cursor)++;
        if (ke->used && !(ke->flags & KE_TOMB)) {
            *key = ke->key;
            *key_len = ke->key_len;
            return ST_OK;
        }
    }
    return ST_EDONE;
}

uint32_t engine_key_origins(const engine *e, const uint8_t *key, size_t key_len)
{
    uint32_t idx = kt_find(&e->kt, key, key_len);
    return idx == KT_NONE ? 0 : kt_at(&e->kt, idx)->nseqs;
}

uint64_t engine_tombstone_count(const engine *e)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < e->kt.nents; i++)
        if (e->kt.ents[i].used && (e->kt.ents[i].flags & KE_TOMB))
            n++;
    return n;
}

size_t engine_pending_requests(const engine *e)
{
    return e->nreqs;
}

const char *engine_wire_kind_name(unsigned kind)
{
    static const char *const names[] = {
        "other",     "join",      "gossip", "keys",       "want", "state", "delta", "nack",
        "tomb_seen", "write_ack", "read",   "read_reply", "frag", "prune", "leave",
    };
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "other";
}

uint64_t engine_key_count(const engine *e)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < e->kt.nents; i++)
        if (e->kt.ents[i].used && !(e->kt.ents[i].flags & KE_TOMB))
            n++;
    return n;
}

int engine_subscribe(engine *e, const uint8_t *key, size_t key_len, bool is_prefix)
{
    if (!key && key_len)
        return error_set(ST_EINVAL, "subscription key must not be NULL");
    if (!is_prefix && !key_len)
        return error_set(ST_EINVAL, "subscription key must not be empty");
    for (size_t i = 0; i < e->nsubs; i++)
        if (e->subs[i].is_prefix == is_prefix && e->subs[i].len == key_len &&
            (!key_len || memcmp(e->subs[i].key, key, key_len) == 0))
            return ST_OK;
    subscription *s = realloc_array(e->subs, e->nsubs + 1, sizeof(*s));
    if (!s)
        return error_oom();
    e->subs = s;
    uint8_t *k = malloc(key_len ? key_len : 1);
    if (!k)
        return error_oom();
    if (key_len)
        memcpy(k, key, key_len);
    e->subs[e->nsubs].key = k;
    e->subs[e->nsubs].len = key_len;
    e->subs[e->nsubs].is_prefix = is_prefix;
    e->nsubs++;
    return ST_OK;
}
