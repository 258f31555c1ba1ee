/*
 * Durable keys: each key matching a durable pattern is its own record in
 * the state store (not one blob per replica rewritten on every change), so
 * a change costs one small upsert and opening loads records one by one.
 *
 * Record (version 1): u8 version, u8 flags (bit 0: tombstone), u8 type,
 * varint changed_ms, then the canonical CRDT encoding (absent for a
 * tombstone). Deleted durable keys keep a tombstone record until the
 * tombstone is collected, so a restart does not bring them back.
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

#include "replicator/engine_internal.h"
#include "util/error.h"
#include "util/status.h"

#define RECORD_VERSION 1u

/* Merges the value of a stored record into ke's, when both are values of
 * the same type (a tombstone or another type on either side: the local
 * entry wins, as it would over the network). */
static int merge_stored(engine *e, uint32_t idx, const bytes *stored)
{
    kentry *ke = kt_at(&e->kt, idx);
    reader r = reader_make(stored->data, stored->len);
    uint8_t version = reader_u8(&r), flags = reader_u8(&r), type = reader_u8(&r);
    (void)reader_varint(&r);
    if (!reader_ok(&r) || version != RECORD_VERSION || (flags & 1) || (ke->flags & KE_TOMB) ||
        type != ke->type)
        return ST_OK;
    crdt *value = NULL;
    int rc = crdt_decode(&value, r.p, reader_left(&r), &e->cfg.lim, UINT64_MAX / 2);
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
    bytes_put_u8(b, RECORD_VERSION);
    bytes_put_u8(b, (ke->flags & KE_TOMB) ? 1 : 0);
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

int durable_write(engine *e, uint32_t idx)
{
    if (!e->cfg.store)
        return ST_OK;
    kentry *ke = kt_at(&e->kt, idx);
    bytes stored = BYTES_INIT, b = BYTES_INIT;
    int rc = ST_OK;
    for (int round = 0; round < DURABLE_MAX_ROUNDS; round++) {
        uint64_t revision = 0;
        rc = state_store_get(e->cfg.store, ke->key, ke->key_len, &revision, &stored);
        if (rc == ST_ENOTFOUND) {
            revision = 0;
        } else if (rc != ST_OK) {
            goto done;
        } else if ((rc = merge_stored(e, idx, &stored)) != ST_OK) {
            goto done;
        }
        if ((rc = encode_record(ke, &b)) != ST_OK)
            goto done;
        rc = state_store_upsert(e->cfg.store, ke->key, ke->key_len, revision, b.data, b.len, NULL);
        if (rc != ST_ECONFLICT)
            goto done;
    }
    rc = error_set(ST_EBUSY, "durable key '%.*s': other writers won %d rounds in a row",
                   error_key_len(ke->key_len), (const char *)ke->key, DURABLE_MAX_ROUNDS);
done:
    bytes_free(&stored);
    bytes_free(&b);
    return rc;
}

int durable_remove(engine *e, const uint8_t *key, size_t len)
{
    if (!e->cfg.store)
        return ST_OK;
    int rc = state_store_delete(e->cfg.store, key, len, STATE_ANY_REVISION);
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

static int load_one(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                    const uint8_t *state, size_t state_len)
{
    (void)revision;
    engine *e = ctx;
    reader r = reader_make(state, state_len);
    uint8_t version = reader_u8(&r), flags = reader_u8(&r), type = reader_u8(&r);
    uint64_t changed_ms = reader_varint(&r);
    if (!reader_ok(&r) || version != RECORD_VERSION || flags > 1 || type < 1 ||
        type > CRDT_TYPE_MAX || !key_len || key_len > e->cfg.lim.max_value_bytes)
        return error_set(ST_ECORRUPT, "durable key '%.*s': malformed record",
                         error_key_len(key_len), (const char *)key);
    crdt *value = NULL;
    if (!(flags & 1)) {
        int rc = crdt_decode(&value, r.p, reader_left(&r), &e->cfg.lim, UINT64_MAX / 2);
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
    if (flags & 1) {
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

int durable_load(engine *e)
{
    return state_store_scan(e->cfg.store, NULL, 0, load_one, e);
}
