/*
 * Tombstone agreement: a delete is kept as a tombstone until every member
 * that counts is known to hold it (TOMB_SEEN rounds), then for a grace
 * period, then collected. Which peer is known to hold which tombstone is
 * also what keeps digest repair from offering a collected tombstone back
 * (the reasoning is at the top of antientropy.c).
 */
#include <stdlib.h>

#include "replicator/antientropy_internal.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/status.h"

void antientropy_tomb_add(kentry *ke, uint64_t h)
{
    if (antientropy_tomb_has(ke, h) || ke->tomb_seen_n >= MAX_PEERS)
        return;
    uint64_t *s = realloc_array(ke->tomb_seen, (size_t)ke->tomb_seen_n + 1, sizeof(uint64_t));
    if (!s)
        return;
    ke->tomb_seen = s;
    s[ke->tomb_seen_n++] = h;
}

void antientropy_tomb_check(engine *e, uint32_t idx)
{
    kentry *ke = kt_at(&e->kt, idx);
    if (!ke->used || !(ke->flags & KE_TOMB))
        return;
    if (!ke->tomb_ms) {
        for (size_t i = 0; i < e->nmembers; i++)
            if (membership_counts_for_tombstones(&e->members[i]) &&
                !antientropy_tomb_has(ke, e->members[i].id_hash))
                return;
        ke->tomb_ms = e->now_ms ? e->now_ms : 1;
        return;
    }
    if (e->now_ms - ke->tomb_ms < e->cfg.tombstone_grace_ms)
        return;
    if (ke->flags & KE_DURABLE)
        (void)durable_remove(e, ke->key, ke->key_len);
    kt_remove(&e->kt, idx);
    e->stats.tombstones_collected++;
}

void antientropy_tomb_round(engine *e)
{
    size_t w = 0;
    batch bt;
    batch_init(&bt, e, WIRE_TOMB_SEEN, NULL, 0);
    bool peers = membership_up_peers(e, NULL, 0) > 0;
    for (size_t i = 0; i < e->ntombs; i++) {
        uint32_t idx = e->tombs[i];
        kentry *ke = kt_at(&e->kt, idx);
        if (!ke->used || !(ke->flags & KE_TOMB))
            continue;
        bool dup = false;
        for (size_t j = 0; j < w && !dup; j++)
            dup = e->tombs[j] == idx;
        if (dup)
            continue;
        antientropy_tomb_check(e, idx);
        if (!ke->used)
            continue;
        e->tombs[w++] = idx;
        if (!peers)
            continue;
        batch_begin(&bt);
        bytes_put_blob(&bt.body, ke->key, ke->key_len);
        bytes_put_varint(&bt.body, ke->tomb_seen_n);
        for (uint32_t k = 0; k < ke->tomb_seen_n; k++)
            bytes_put_u64(&bt.body, ke->tomb_seen[k]);
        batch_end(&bt);
    }
    e->ntombs = w;
    batch_finish(&bt, false);
}

int antientropy_handle_tomb_seen(engine *e, const char *from, size_t from_len, reader *r)
{
    uint64_t n = reader_varint(r);
    if (!reader_ok(r) || n > reader_left(r) / 2 || n > MAX_LIST)
        return antientropy_corrupt("tombstone");
    uint64_t fh = hash_digest(from, from_len);
    for (uint64_t i = 0; i < n; i++) {
        size_t klen;
        const uint8_t *key = reader_blob(r, e->cfg.lim.max_value_bytes, &klen);
        uint64_t ns = reader_varint(r);
        if (!reader_ok(r) || !klen || ns > MAX_PEERS || ns > reader_left(r) / 8)
            return antientropy_corrupt("tombstone");
        uint32_t idx = kt_find(&e->kt, key, klen);
        kentry *ke = idx == KT_NONE ? NULL : kt_at(&e->kt, idx);
        bool mine = ke && (ke->flags & KE_TOMB);
        for (uint64_t k = 0; k < ns; k++) {
            uint64_t h = reader_u64(r);
            if (mine)
                antientropy_tomb_add(ke, h);
        }
        if (mine) {
            antientropy_tomb_add(ke, fh);
            antientropy_tomb_check(e, idx);
        }
    }
    return reader_done(r) ? ST_OK : antientropy_corrupt("tombstone");
}
