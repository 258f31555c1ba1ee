/*
 * The key table. See keytable.h for the layout and why it is shaped so.
 *
 * Removal from the linear-probing index uses backward-shift deletion
 * (no index tombstones), so lookups stay short under delete/expiry churn.
 * Key bytes of removed entries stay in the arena until the table is freed;
 * churn of distinct keys therefore grows the arena, which is the price of
 * not calling malloc per key.
 */
#include "replicator/keytable.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

#define KT_MAX_ENTRIES (UINT32_MAX - 2u)
#define ARENA_BLOCK (256u * 1024u)

typedef struct arena_block {
    struct arena_block *next;
    uint8_t data[];
} arena_block;

int kt_init(keytable *t)
{
    memset(t, 0, sizeof(*t));
    t->free_head = KT_NONE;
    t->index_cap = 64;
    t->index = calloc(t->index_cap, sizeof(uint32_t));
    if (!t->index)
        return error_oom();
    for (uint32_t i = 0; i < KT_LEAVES; i++)
        t->leaf_head[i] = KT_NONE;
    return ST_OK;
}

static void entry_release(kentry *e)
{
    crdt_free(e->value);
    crdt_free(e->pending_delta);
    free(e->seqs);
    free(e->tomb_seen);
    e->value = e->pending_delta = NULL;
    e->seqs = NULL;
    e->tomb_seen = NULL;
}

void kt_free(keytable *t)
{
    for (uint32_t i = 0; i < t->nents; i++)
        if (t->ents[i].used)
            entry_release(&t->ents[i]);
    free(t->ents);
    free(t->index);
    arena_block *b = t->arena;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    memset(t, 0, sizeof(*t));
}

uint32_t kt_leaf_of(uint64_t wire_hash)
{
    return (uint32_t)(wire_hash >> 52) & (KT_LEAVES - 1);
}

static uint8_t *arena_copy(keytable *t, const uint8_t *key, size_t len)
{
    if (len > ARENA_BLOCK / 4) {
        /* Big keys get their own block so a block is never mostly waste. */
        arena_block *b = malloc(sizeof(arena_block) + (len ? len : 1));
        if (!b)
            return NULL;
        b->next = t->arena ? t->arena->next : NULL;
        if (t->arena)
            t->arena->next = b;
        else {
            t->arena = b;
            t->arena_used = t->arena_cap = 0;
        }
        memcpy(b->data, key, len);
        return b->data;
    }
    if (!t->arena || t->arena_cap - t->arena_used < len) {
        arena_block *b = malloc(sizeof(arena_block) + ARENA_BLOCK);
        if (!b)
            return NULL;
        b->next = t->arena;
        t->arena = b;
        t->arena_used = 0;
        t->arena_cap = ARENA_BLOCK;
    }
    uint8_t *p = t->arena->data + t->arena_used;
    if (len)
        memcpy(p, key, len);
    t->arena_used += len;
    return p;
}

static uint64_t index_slot(const keytable *t, uint64_t h)
{
    return h & (t->index_cap - 1);
}

uint32_t kt_find(const keytable *t, const uint8_t *key, size_t len)
{
    uint64_t h = hash_keyed(key, len);
    for (uint64_t s = index_slot(t, h);; s = (s + 1) & (t->index_cap - 1)) {
        uint32_t v = t->index[s];
        if (!v)
            return KT_NONE;
        const kentry *e = &t->ents[v - 1];
        if (e->table_hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return v - 1;
    }
}

static int index_grow(keytable *t)
{
    uint64_t cap = t->index_cap * 2;
    uint32_t *idx = alloc_array(cap, sizeof(uint32_t));
    if (!idx)
        return error_oom();
    memset(idx, 0, cap * sizeof(uint32_t));
    for (uint64_t s = 0; s < t->index_cap; s++) {
        uint32_t v = t->index[s];
        if (!v)
            continue;
        uint64_t p = t->ents[v - 1].table_hash & (cap - 1);
        while (idx[p])
            p = (p + 1) & (cap - 1);
        idx[p] = v;
    }
    free(t->index);
    t->index = idx;
    t->index_cap = cap;
    return ST_OK;
}

static void leaf_link(keytable *t, uint32_t idx)
{
    kentry *e = &t->ents[idx];
    uint32_t leaf = kt_leaf_of(e->wire_hash);
    e->leaf_prev = KT_NONE;
    e->leaf_next = t->leaf_head[leaf];
    if (e->leaf_next != KT_NONE)
        t->ents[e->leaf_next].leaf_prev = idx;
    t->leaf_head[leaf] = idx;
    t->leaf_count[leaf]++;
}

static void leaf_unlink(keytable *t, uint32_t idx)
{
    kentry *e = &t->ents[idx];
    uint32_t leaf = kt_leaf_of(e->wire_hash);
    if (e->leaf_prev != KT_NONE)
        t->ents[e->leaf_prev].leaf_next = e->leaf_next;
    else
        t->leaf_head[leaf] = e->leaf_next;
    if (e->leaf_next != KT_NONE)
        t->ents[e->leaf_next].leaf_prev = e->leaf_prev;
    t->leaf_count[leaf]--;
    t->leaf_xor[leaf] ^= e->digest;
    e->digest = 0;
}

int kt_insert(keytable *t, const uint8_t *key, size_t len, uint32_t *idx, bool *created)
{
    uint32_t found = kt_find(t, key, len);
    if (found != KT_NONE) {
        *idx = found;
        *created = false;
        return ST_OK;
    }
    if (len > UINT32_MAX || t->live >= KT_MAX_ENTRIES)
        return error_set(ST_ELIMIT, "key table is full (%llu keys)", (unsigned long long)t->live);
    /* Keep the load factor at or below 1/2 so probes stay short. */
    if ((t->live + 1) * 2 > t->index_cap) {
        int rc = index_grow(t);
        if (rc)
            return rc;
    }
    uint32_t i;
    if (t->free_head != KT_NONE) {
        i = t->free_head;
        t->free_head = t->ents[i].list_next;
    } else {
        if (t->nents == t->cap_ents) {
            size_t cap = grow_capacity(t->cap_ents, (size_t)t->nents + 1);
            if (cap > KT_MAX_ENTRIES)
                cap = KT_MAX_ENTRIES;
            kentry *ents = realloc_array(t->ents, cap, sizeof(kentry));
            if (!ents)
                return error_oom();
            t->ents = ents;
            t->cap_ents = (uint32_t)cap;
        }
        i = t->nents++;
    }
    uint8_t *copy = arena_copy(t, key, len);
    if (!copy) {
        t->ents[i].list_next = t->free_head;
        t->ents[i].used = false;
        t->free_head = i;
        return error_oom();
    }
    kentry *e = &t->ents[i];
    memset(e, 0, sizeof(*e));
    e->used = true;
    e->key = copy;
    e->key_len = (uint32_t)len;
    e->table_hash = hash_keyed(key, len);
    e->wire_hash = hash_digest(key, len);
    e->list_next = KT_NONE;
    uint64_t s = index_slot(t, e->table_hash);
    while (t->index[s])
        s = (s + 1) & (t->index_cap - 1);
    t->index[s] = i + 1;
    leaf_link(t, i);
    t->live++;
    *idx = i;
    *created = true;
    return ST_OK;
}

void kt_remove(keytable *t, uint32_t idx)
{
    kentry *e = &t->ents[idx];
    if (!e->used)
        return;
    uint64_t mask = t->index_cap - 1;
    uint64_t s = index_slot(t, e->table_hash);
    while (t->index[s] != idx + 1)
        s = (s + 1) & mask;
    /* Backward shift: pull later members of the probe run into the hole
     * when their home slot allows it. */
    uint64_t hole = s;
    for (uint64_t n = (hole + 1) & mask; t->index[n]; n = (n + 1) & mask) {
        uint64_t home = t->ents[t->index[n] - 1].table_hash & mask;
        bool movable = (hole <= n) ? (home <= hole || home > n) : (home <= hole && home > n);
        if (movable) {
            t->index[hole] = t->index[n];
            hole = n;
        }
    }
    t->index[hole] = 0;
    leaf_unlink(t, idx);
    entry_release(e);
    e->used = false;
    e->flags = 0;
    e->list_next = t->free_head;
    t->free_head = idx;
    t->live--;
}

void kt_set_digest(keytable *t, uint32_t idx, uint64_t digest)
{
    kentry *e = &t->ents[idx];
    uint32_t leaf = kt_leaf_of(e->wire_hash);
    t->leaf_xor[leaf] ^= e->digest ^ digest;
    e->digest = digest;
}

uint64_t kt_bucket_xor(const keytable *t, uint32_t first, uint32_t count)
{
    uint64_t x = 0;
    for (uint32_t i = first; i < first + count && i < KT_LEAVES; i++)
        x ^= t->leaf_xor[i];
    return x;
}

uint64_t kt_seq_get(const kentry *e, uint64_t origin)
{
    for (uint16_t i = 0; i < e->nseqs; i++)
        if (e->seqs[i].origin == origin)
            return e->seqs[i].seq;
    return 0;
}

int kt_seq_set(kentry *e, uint64_t origin, uint64_t seq)
{
    for (uint16_t i = 0; i < e->nseqs; i++) {
        if (e->seqs[i].origin == origin) {
            e->seqs[i].seq = seq;
            return ST_OK;
        }
    }
    if (e->nseqs == UINT16_MAX)
        return error_set(ST_ELIMIT, "key tracks too many delta origins");
    kt_seq *s = realloc_array(e->seqs, (size_t)e->nseqs + 1, sizeof(kt_seq));
    if (!s)
        return error_oom();
    e->seqs = s;
    e->seqs[e->nseqs].origin = origin;
    e->seqs[e->nseqs].seq = seq;
    e->nseqs++;
    return ST_OK;
}

void kt_seq_drop(kentry *e, bool (*drop)(uint64_t origin, void *arg), void *arg)
{
    uint16_t k = 0;
    for (uint16_t i = 0; i < e->nseqs; i++)
        if (!drop(e->seqs[i].origin, arg))
            e->seqs[k++] = e->seqs[i];
    e->nseqs = k;
}
