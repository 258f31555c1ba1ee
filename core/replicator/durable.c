/*
 * Durable keys: each key matching a durable pattern is its own record in
 * the state store (not one blob per replica rewritten on every change), so
 * a change costs one small upsert and opening loads records one by one.
 *
 * Records follow durable.h (version 1: version, flags, type, changed_ms,
 * then the CRDT encoding, absent for a tombstone). Deleted durable keys
 * keep a tombstone record until the tombstone is collected, so a restart
 * does not bring them back.
 *
 * Records live under the engine's key prefix (default "dd/replica/",
 * issue 17.2) and loading reads only that prefix, so the store may hold
 * other things. A store written before the prefix existed holds them
 * under the bare key: on open, records outside the prefix whose key
 * matches a durable pattern, that are not under "dd/" (the library's
 * namespace) and that parse as a record are loaded and moved under the
 * prefix in one transaction; anything else is not ours.
 *
 * Write-through (default) upserts on every change; write-behind marks the
 * key and flushes all marked keys in one store transaction per interval
 * (and on engine_free).
 *
 * Several replicas may share one store (a PostgreSQL server every node
 * reaches, or one SQLite file), each writing the same keys without
 * hearing from the others. A blind write would keep only the last
 * writer's state, so a write is read-merge-write under compare-and-set:
 * read the stored record and its revision, merge the stored CRDT into the
 * local one (the join, so nothing another replica wrote is lost), and
 * write the result expecting that revision; when another replica wrote in
 * between (ST_ECONFLICT), read and merge again. The stored value is then
 * always the join of everything written.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/durable.h"
#include "replicator/engine_internal.h"
#include "util/error.h"
#include "util/status.h"

_Static_assert(sizeof(DURABLE_DEFAULT_PREFIX) == sizeof(ENGINE_DURABLE_PREFIX),
               "durable.h names the engine's default prefix");

/* Merges the value of a stored record into ke's, when both are values of
 * the same type (a tombstone or another type on either side: the local
 * entry wins, as it would over the network). */
static int merge_stored(engine *e, uint32_t idx, const bytes *stored)
{
    kentry *ke = kt_at(&e->kt, idx);
    durable_record_head h;
    if (durable_record_parse(stored->data, stored->len, &h) != 0 ||
        (h.flags & DURABLE_FLAG_TOMBSTONE) || (ke->flags & KE_TOMB) || h.type != ke->type)
        return ST_OK;
    crdt *value = NULL;
    int rc = crdt_decode(&value, h.body, h.body_len, &e->cfg.lim, UINT64_MAX / 2);
    if (rc)
        return error_wrap("durable key '%.*s'", error_key_len(ke->key_len), (const char *)ke->key);
    uint64_t before = crdt_digest(ke->value);
    rc = crdt_merge(ke->value, value);
    crdt_free(value);
    if (rc == ST_OK && crdt_digest(ke->value) != before)
        kt_set_digest(&e->kt, idx, engine_entry_digest(ke));
    return rc;
}

static int encode_record(const kentry *ke, bytes *b)
{
    bytes_reset(b);
    bytes_put_u8(b, DURABLE_RECORD_VERSION);
    bytes_put_u8(b, (ke->flags & KE_TOMB) ? DURABLE_FLAG_TOMBSTONE : 0);
    bytes_put_u8(b, ke->type);
    bytes_put_varint(b, ke->changed_ms);
    int rc = ST_OK;
    if (!(ke->flags & KE_TOMB))
        rc = crdt_encode(ke->value, b);
    if (rc == ST_OK && b->failed)
        rc = error_oom();
    return rc;
}

/* Another replica may win every round only while it keeps writing this
 * key; give up (ST_EBUSY) rather than spin forever. */
#define DURABLE_MAX_ROUNDS 1000

/* The store key of a durable key: the prefix, then the key. */
static int store_key(const engine *e, const uint8_t *key, size_t len, bytes *out)
{
    bytes_put(out, e->durable_prefix, e->durable_prefix_len);
    bytes_put(out, key, len);
    return out->failed ? error_oom() : ST_OK;
}

int durable_write(engine *e, uint32_t idx)
{
    if (!e->cfg.store)
        return ST_OK;
    kentry *ke = kt_at(&e->kt, idx);
    bytes stored = BYTES_INIT, b = BYTES_INIT, k = BYTES_INIT;
    int rc = store_key(e, ke->key, ke->key_len, &k);
    if (rc != ST_OK)
        goto done;
    for (int round = 0; round < DURABLE_MAX_ROUNDS; round++) {
        uint64_t revision = 0;
        rc = state_store_get(e->cfg.store, k.data, k.len, &revision, &stored);
        if (rc == ST_ENOTFOUND) {
            revision = 0;
        } else if (rc != ST_OK) {
            goto done;
        } else if ((rc = merge_stored(e, idx, &stored)) != ST_OK) {
            goto done;
        }
        if ((rc = encode_record(ke, &b)) != ST_OK)
            goto done;
        rc = state_store_upsert(e->cfg.store, k.data, k.len, revision, b.data, b.len, NULL);
        if (rc != ST_ECONFLICT)
            goto done;
    }
    rc = error_set(ST_EBUSY, "durable key '%.*s': other writers won %d rounds in a row",
                   error_key_len(ke->key_len), (const char *)ke->key, DURABLE_MAX_ROUNDS);
done:
    if (rc != ST_OK) {
        log_field f[2] = {{"key", (const char *)ke->key, ke->key_len},
                          log_field_str("message", error_message())};
        log_queue_push(&e->logs, LOG_ERROR, "store.write_failed", e->now_ms, f, 2);
    }
    bytes_free(&stored);
    bytes_free(&b);
    bytes_free(&k);
    return rc;
}

int durable_remove(engine *e, const uint8_t *key, size_t len)
{
    if (!e->cfg.store)
        return ST_OK;
    bytes k = BYTES_INIT;
    int rc = store_key(e, key, len, &k);
    if (rc == ST_OK)
        rc = state_store_delete(e->cfg.store, k.data, k.len, STATE_ANY_REVISION);
    bytes_free(&k);
    return rc == ST_ENOTFOUND ? ST_OK : rc;
}

int durable_flush(engine *e)
{
    if (!e->cfg.store || !e->ndirty)
        return ST_OK;
    int rc = state_store_begin(e->cfg.store);
    if (rc)
        return rc;
    for (size_t i = 0; i < e->ndirty; i++) {
        kentry *ke = kt_at(&e->kt, e->dirty[i]);
        if (!ke->used || !(ke->flags & KE_DURABLE_DIRTY))
            continue;
        ke->flags &= (uint8_t)~KE_DURABLE_DIRTY;
        int wrc = durable_write(e, e->dirty[i]);
        if (wrc && !rc)
            rc = wrc;
    }
    e->ndirty = 0;
    int crc = state_store_commit(e->cfg.store);
    return rc ? rc : crc;
}

/* Loads one record under its durable key (the store key without prefix). */
static int load_record(engine *e, const uint8_t *key, size_t key_len, const uint8_t *state,
                       size_t state_len)
{
    durable_record_head h;
    if (durable_record_parse(state, state_len, &h) != 0 || h.type < 1 || h.type > CRDT_TYPE_MAX ||
        !key_len || key_len > e->cfg.lim.max_value_bytes)
        return error_set(ST_ECORRUPT, "durable key '%.*s': malformed record",
                         error_key_len(key_len), (const char *)key);
    uint8_t flags = h.flags, type = h.type;
    uint64_t changed_ms = h.changed_ms;
    crdt *value = NULL;
    if (!(flags & DURABLE_FLAG_TOMBSTONE)) {
        int rc = crdt_decode(&value, h.body, h.body_len, &e->cfg.lim, UINT64_MAX / 2);
        if (rc)
            return error_wrap("durable key '%.*s'", error_key_len(key_len), (const char *)key);
        if (crdt_type_of(value) != (crdt_type)type) {
            crdt_free(value);
            return error_set(ST_ECORRUPT, "durable key '%.*s': type does not match its value",
                             error_key_len(key_len), (const char *)key);
        }
    }
    uint32_t idx;
    bool created;
    int rc = kt_insert(&e->kt, key, key_len, &idx, &created);
    if (rc) {
        crdt_free(value);
        return rc;
    }
    kentry *ke = kt_at(&e->kt, idx);
    if (!created) {
        crdt_free(value);
        return ST_OK; /* cannot happen: the store has one record per key */
    }
    ke->type = type;
    ke->changed_ms = changed_ms;
    ke->flags |= KE_DURABLE;
    ke->value = value;
    if (flags & DURABLE_FLAG_TOMBSTONE) {
        ke->flags |= KE_TOMB;
        ke->tomb_seen = malloc(sizeof(uint64_t));
        if (ke->tomb_seen) {
            ke->tomb_seen[0] = e->members[0].id_hash;
            ke->tomb_seen_n = 1;
        }
        (void)idx_push(&e->tombs, &e->ntombs, &e->cap_tombs, idx);
    }
    kt_set_digest(&e->kt, idx, engine_entry_digest(ke));
    return ST_OK;
}

static int load_one(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                    const uint8_t *state, size_t state_len)
{
    (void)revision;
    engine *e = ctx;
    return load_record(e, key + e->durable_prefix_len, key_len - e->durable_prefix_len, state,
                       state_len);
}

/* Records a store written before the prefix holds under bare keys. */
typedef struct legacy_scan {
    engine *e;
    uint8_t **keys;
    size_t *lens;
    size_t n, cap;
} legacy_scan;

static int legacy_one(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                      const uint8_t *state, size_t state_len)
{
    (void)revision;
    legacy_scan *ls = ctx;
    engine *e = ls->e;
    if (key_len >= e->durable_prefix_len && !memcmp(key, e->durable_prefix, e->durable_prefix_len))
        return ST_OK; /* loaded already */
    if (key_len >= 3 && !memcmp(key, "dd/", 3))
        return ST_OK; /* the library's namespace (owned state, other replicas) */
    if (!engine_pattern_match(e->durable, e->cfg.durable_count, key, key_len) ||
        kt_find(&e->kt, key, key_len) != KT_NONE)
        return ST_OK;
    if (load_record(e, key, key_len, state, state_len) != ST_OK) {
        error_clear();
        return ST_OK; /* not a record of ours: the application's */
    }
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 16;
        uint8_t **keys = realloc(ls->keys, cap * sizeof(*keys));
        if (keys)
            ls->keys = keys;
        size_t *lens = keys ? realloc(ls->lens, cap * sizeof(*lens)) : NULL;
        if (!lens)
            return error_oom();
        ls->lens = lens;
        ls->cap = cap;
    }
    ls->keys[ls->n] = malloc(key_len);
    if (!ls->keys[ls->n])
        return error_oom();
    memcpy(ls->keys[ls->n], key, key_len);
    ls->lens[ls->n++] = key_len;
    return ST_OK;
}

/* Moves the legacy records found under the prefix, in one transaction. */
static int legacy_migrate(engine *e, legacy_scan *ls)
{
    int rc = state_store_begin(e->cfg.store);
    if (rc)
        return rc;
    for (size_t i = 0; i < ls->n && rc == ST_OK; i++) {
        uint32_t idx = kt_find(&e->kt, ls->keys[i], ls->lens[i]);
        if (idx == KT_NONE)
            continue;
        rc = durable_write(e, idx);
        if (rc == ST_OK)
            rc = state_store_delete(e->cfg.store, ls->keys[i], ls->lens[i], STATE_ANY_REVISION);
    }
    /* Each move writes before it deletes: a failure part way leaves some
     * records in both places, and the prefixed copy wins at the next open. */
    int crc = state_store_commit(e->cfg.store);
    return rc ? rc : crc;
}

int durable_load(engine *e)
{
    int rc = state_store_scan(e->cfg.store, e->durable_prefix, e->durable_prefix_len, load_one, e);
    if (rc || !e->durable_prefix_len || !e->cfg.durable_count)
        return rc;
    legacy_scan ls = {e, NULL, NULL, 0, 0};
    rc = state_store_scan(e->cfg.store, NULL, 0, legacy_one, &ls);
    if (rc == ST_OK && ls.n)
        rc = legacy_migrate(e, &ls);
    for (size_t i = 0; i < ls.n; i++)
        free(ls.keys[i]);
    free(ls.keys);
    free(ls.lens);
    return rc;
}
