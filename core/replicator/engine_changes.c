/*
 * How a value changes. Every way a value can change (a local op, a delta, a
 * full state, a read reply, a delete, expiry) goes through engine_changed()
 * so the digest, the durable copy and the subscriptions follow the same
 * way. Digests are recomputed lazily, once per gossip round, because a hot
 * key can change thousands of times between two rounds. Also here: the
 * STATE entry codec and expiry, which are changes too.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

uint64_t engine_entry_digest(const kentry *ke)
{
    uint64_t d;
    if (ke->flags & KE_TOMB)
        d = hash_u64(ke->wire_hash ^ 0x746f6d6273746f6eull);
    else
        d = hash_u64(ke->wire_hash ^ hash_u64(crdt_digest(ke->value) + ke->type));
    return d ? d : 1;
}

void engine_refresh_digests(engine *e)
{
    for (size_t i = 0; i < e->nstale; i++) {
        uint32_t idx = e->stale[i];
        kentry *ke = kt_at(&e->kt, idx);
        if (!ke->used || !(ke->flags & KE_DIGEST_STALE))
            continue;
        ke->flags &= (uint8_t)~KE_DIGEST_STALE;
        kt_set_digest(&e->kt, idx, engine_entry_digest(ke));
    }
    e->nstale = 0;
}

static bool subscribed(const engine *e, const uint8_t *key, size_t len)
{
    for (size_t i = 0; i < e->nsubs; i++) {
        const subscription *s = &e->subs[i];
        if (s->is_prefix ? (len >= s->len && memcmp(key, s->key, s->len) == 0)
                         : (len == s->len && memcmp(key, s->key, len) == 0))
            return true;
    }
    return false;
}

int engine_changed(engine *e, uint32_t idx, engine_event_kind kind)
{
    kentry *ke = kt_at(&e->kt, idx);
    if (!(ke->flags & KE_DIGEST_STALE)) {
        if (idx_push(&e->stale, &e->nstale, &e->cap_stale, idx) == ST_OK)
            ke->flags |= KE_DIGEST_STALE;
        else
            kt_set_digest(&e->kt, idx, engine_entry_digest(ke));
    }
    if (e->nsubs && subscribed(e, ke->key, ke->key_len)) {
        if (!(ke->flags & KE_NOTIFY)) {
            if (idx_push(&e->notify, &e->nnotify, &e->cap_notify, idx) == ST_OK)
                ke->flags |= KE_NOTIFY;
            ke->notify_kind = (uint8_t)kind;
        } else if (kind == ENGINE_EV_DELETED) {
            ke->notify_kind = (uint8_t)kind;
        }
    }
    if (ke->flags & KE_DURABLE) {
        if (e->cfg.write_behind) {
            if (!(ke->flags & KE_DURABLE_DIRTY) &&
                idx_push(&e->dirty, &e->ndirty, &e->cap_dirty, idx) == ST_OK)
                ke->flags |= KE_DURABLE_DIRTY;
        } else {
            return durable_write(e, idx);
        }
    }
    return ST_OK;
}

void engine_notify_flush(engine *e)
{
    for (size_t i = 0; i < e->nnotify; i++) {
        kentry *ke = kt_at(&e->kt, e->notify[i]);
        if (!ke->used || !(ke->flags & KE_NOTIFY))
            continue;
        ke->flags &= (uint8_t)~KE_NOTIFY;
        engine_event ev = {0};
        ev.kind = (engine_event_kind)ke->notify_kind;
        ev.key = malloc(ke->key_len ? ke->key_len : 1);
        if (!ev.key) {
            e->ev_dropped++;
            continue;
        }
        memcpy(ev.key, ke->key, ke->key_len);
        ev.key_len = ke->key_len;
        engine_emit(e, &ev);
    }
    e->nnotify = 0;
}

void engine_mark_tomb(engine *e, uint32_t idx)
{
    kentry *ke = kt_at(&e->kt, idx);
    crdt_free(ke->value);
    crdt_free(ke->pending_delta);
    ke->value = ke->pending_delta = NULL;
    ke->flags |= KE_TOMB;
    free(ke->tomb_seen);
    ke->tomb_seen = malloc(sizeof(uint64_t));
    ke->tomb_seen_n = 0;
    if (ke->tomb_seen) {
        ke->tomb_seen[0] = e->members[0].id_hash;
        ke->tomb_seen_n = 1;
    }
    ke->tomb_ms = 0;
    (void)idx_push(&e->tombs, &e->ntombs, &e->cap_tombs, idx);
    engine_changed(e, idx, ENGINE_EV_DELETED);
}

int engine_new_entry(engine *e, const uint8_t *key, size_t len, crdt_type type, uint32_t *idx)
{
    bool created;
    int rc = kt_insert(&e->kt, key, len, idx, &created);
    if (rc)
        return rc;
    kentry *ke = kt_at(&e->kt, *idx);
    ke->type = (uint8_t)type;
    if (e->cfg.store && engine_pattern_match(e->durable, e->cfg.durable_count, key, len))
        ke->flags |= KE_DURABLE;
    return ST_OK;
}

static bool expired_at(const engine *e, const uint8_t *key, size_t len, uint64_t changed_ms)
{
    return e->cfg.expiry_count && engine_pattern_match(e->expiry, e->cfg.expiry_count, key, len) &&
           changed_ms + e->cfg.expire_after_ms <= engine_wall_ms(e);
}

int engine_merge_state(engine *e, const uint8_t *key, size_t key_len, crdt_type type, bool tomb,
                       crdt *value, uint64_t changed_ms, uint32_t *idx_out)
{
    int rc = ST_OK;
    *idx_out = KT_NONE;
    if (!tomb && expired_at(e, key, key_len, changed_ms)) {
        crdt_free(value); /* expired everywhere by now; do not bring it back */
        return ST_OK;
    }
    uint32_t idx = kt_find(&e->kt, key, key_len);
    if (idx == KT_NONE) {
        rc = engine_new_entry(e, key, key_len, type, &idx);
        if (rc) {
            crdt_free(value);
            return rc;
        }
        kentry *ke = kt_at(&e->kt, idx);
        ke->changed_ms = changed_ms;
        *idx_out = idx;
        if (tomb) {
            engine_mark_tomb(e, idx);
        } else {
            ke->value = value;
            engine_changed(e, idx, ENGINE_EV_CHANGED);
        }
        return ST_OK;
    }
    kentry *ke = kt_at(&e->kt, idx);
    *idx_out = idx;
    if (ke->flags & KE_TOMB) {
        crdt_free(value); /* deleted wins, forever */
        return ST_OK;
    }
    if (changed_ms > ke->changed_ms)
        ke->changed_ms = changed_ms;
    if (tomb) {
        engine_mark_tomb(e, idx);
        return ST_OK;
    }
    if (ke->type != type) {
        /* Two nodes created the key with different types at once. Keep the
         * lower type number everywhere so all replicas still agree. */
        if ((uint8_t)type < ke->type) {
            crdt_free(ke->value);
            ke->value = value;
            ke->type = (uint8_t)type;
            ke->nseqs = 0;
            engine_changed(e, idx, ENGINE_EV_CHANGED);
        } else {
            crdt_free(value);
        }
        return ST_OK;
    }
    uint64_t before = crdt_digest(ke->value);
    rc = crdt_merge(ke->value, value);
    crdt_free(value);
    if (rc)
        return rc;
    if (crdt_digest(ke->value) != before)
        engine_changed(e, idx, ENGINE_EV_CHANGED);
    return ST_OK;
}

/* ---- STATE entries ---------------------------------------------------- */

int engine_put_state_entry(engine *e, bytes *b, uint32_t idx)
{
    kentry *ke = kt_at(&e->kt, idx);
    bytes_put_blob(b, ke->key, ke->key_len);
    bytes_put_u8(b, ke->type);
    bytes_put_u8(b, (ke->flags & KE_TOMB) ? 1 : 0);
    bytes_put_varint(b, ke->changed_ms);
    if (!(ke->flags & KE_TOMB)) {
        bytes v = BYTES_INIT;
        int rc = crdt_encode(ke->value, &v);
        if (rc) {
            bytes_free(&v);
            return rc;
        }
        bytes_put_blob(b, v.data, v.len);
        bytes_free(&v);
    }
    bytes_put_varint(b, ke->nseqs);
    for (uint16_t i = 0; i < ke->nseqs; i++) {
        bytes_put_u64(b, ke->seqs[i].origin);
        bytes_put_varint(b, ke->seqs[i].seq);
    }
    return b->failed ? error_oom() : ST_OK;
}

int engine_read_state_entry(engine *e, reader *r, uint32_t *idx_out, bool *was_tomb)
{
    size_t key_len, vlen = 0;
    const uint8_t *key = reader_blob(r, e->cfg.lim.max_value_bytes, &key_len);
    uint8_t type = reader_u8(r);
    uint8_t flags = reader_u8(r);
    uint64_t changed_ms = reader_varint(r);
    const uint8_t *v = NULL;
    if (!(flags & 1))
        v = reader_blob(r, e->cfg.lim.max_bytes, &vlen);
    uint64_t nseqs = reader_varint(r);
    *idx_out = KT_NONE;
    *was_tomb = (flags & 1) != 0;
    if (!reader_ok(r) || !key_len || type < 1 || type > CRDT_TYPE_MAX || (flags & ~1u) ||
        nseqs > UINT16_MAX || nseqs > reader_left(r) / 9)
        return error_set(ST_ECORRUPT, "replicator: malformed state entry");
    kt_seq *seqs = alloc_array(nseqs ? nseqs : 1, sizeof(kt_seq));
    if (!seqs)
        return error_oom();
    for (uint64_t i = 0; i < nseqs; i++) {
        seqs[i].origin = reader_u64(r);
        seqs[i].seq = reader_varint(r);
    }
    crdt *value = NULL;
    int rc = ST_OK;
    if (!reader_ok(r)) {
        rc = error_set(ST_ECORRUPT, "replicator: truncated state entry");
        goto done;
    }
    if (!(flags & 1)) {
        rc = crdt_decode(&value, v, vlen, &e->cfg.lim, engine_wall_ms(e));
        if (rc)
            goto done;
        if (crdt_type_of(value) != (crdt_type)type) {
            crdt_free(value);
            rc = error_set(ST_ECORRUPT, "replicator: state entry type does not match its value");
            goto done;
        }
    }
    uint32_t idx;
    rc = engine_merge_state(e, key, key_len, (crdt_type)type, flags & 1, value, changed_ms, &idx);
    if (rc || idx == KT_NONE)
        goto done;
    kentry *ke = kt_at(&e->kt, idx);
    if (!(ke->flags & KE_TOMB) && ke->type == type) {
        /* The full state includes every delta the sender merged in order,
         * so later deltas from those origins continue from there. */
        for (uint64_t i = 0; i < nseqs; i++)
            if (seqs[i].seq > kt_seq_get(ke, seqs[i].origin))
                (void)kt_seq_set(ke, seqs[i].origin, seqs[i].seq);
    }
    *idx_out = idx;
done:
    free(seqs);
    return rc;
}

void engine_expiry_scan(engine *e)
{
    if (!e->cfg.expiry_count)
        return;
    for (uint32_t i = 0; i < e->kt.nents; i++) {
        kentry *ke = kt_at(&e->kt, i);
        if (!ke->used || (ke->flags & KE_TOMB) ||
            !expired_at(e, ke->key, ke->key_len, ke->changed_ms))
            continue;
        if (e->nsubs && subscribed(e, ke->key, ke->key_len)) {
            engine_event ev = {0};
            ev.kind = ENGINE_EV_EXPIRED;
            ev.key = malloc(ke->key_len);
            if (ev.key) {
                memcpy(ev.key, ke->key, ke->key_len);
                ev.key_len = ke->key_len;
                engine_emit(e, &ev);
            }
        }
        if (ke->flags & KE_DURABLE)
            (void)durable_remove(e, ke->key, ke->key_len);
        kt_remove(&e->kt, i);
        e->stats.expired++;
    }
}
