/*
 * The replica's key table: every key a node holds, live or tombstoned.
 *
 * Sized for a million keys, so it avoids a malloc per key and a pointer per
 * slot: entries live in one dense array addressed by a stable 32-bit index
 * (freed indices are reused through a free list), the hash index is open
 * addressing with linear probing over those indices, and key bytes are
 * carved from an arena. Indices never move, which lets the anti-entropy
 * buckets (a doubly linked list of entries per digest leaf) and pending
 * lists refer to entries by index across table growth.
 *
 * Digest leaves: every key falls into one of KT_LEAVES leaves by its
 * hash_digest, the same on every node, so two nodes agree on the leaf of a
 * key. The index uses hash_keyed instead, since peers choose the keys.
 * A leaf's digest is the XOR of the digests of its keys; coarser buckets
 * (what a status message carries) are XORs of runs of leaves.
 */
#ifndef DD_REPLICATOR_KEYTABLE_H
#define DD_REPLICATOR_KEYTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/crdt.h"

#define KT_LEAVES 4096u
#define KT_NONE UINT32_MAX

/* The last delta sequence number merged from one origin (an actor). */
typedef struct kt_seq {
    uint64_t origin;
    uint64_t seq;
} kt_seq;

enum {
    KE_TOMB = 1,          /* deleted: value is NULL and stays so */
    KE_DIGEST_STALE = 2,  /* `digest` must be recomputed before use */
    KE_DURABLE = 4,       /* matches a durable pattern */
    KE_DURABLE_DIRTY = 8, /* write-behind: not yet flushed */
    KE_NOTIFY = 16,       /* queued for subscription events */
    KE_DELTA_PENDING = 32 /* batched delta strategy: queued */
};

typedef struct kentry {
    const uint8_t *key; /* arena bytes, never freed before the table */
    uint32_t key_len;
    uint8_t type; /* crdt_type */
    uint8_t flags;
    uint8_t notify_kind; /* the event the next notification will carry */
    uint16_t nseqs;
    uint64_t table_hash; /* hash_keyed, for the index */
    uint64_t wire_hash;  /* hash_digest, for leaves and digests */
    uint64_t digest;     /* contribution to the leaf XOR */
    crdt *value;         /* NULL for tombstones and free slots */
    crdt *pending_delta; /* batched strategy: deltas joined since the last push */
    kt_seq *seqs;
    uint64_t my_seq;     /* deltas this node originated for the key */
    uint64_t changed_ms; /* last local or remote change (expiry) */
    uint64_t tomb_ms;    /* when every member had seen the tombstone (0 = not yet) */
    uint64_t *tomb_seen; /* hashes of node ids known to hold the tombstone */
    uint32_t tomb_seen_n;
    uint32_t leaf_prev, leaf_next;
    uint32_t list_next; /* free list, or the engine's pending lists */
    bool used;
} kentry;

typedef struct keytable {
    kentry *ents;
    uint32_t nents, cap_ents;
    uint32_t free_head;
    uint32_t *index;    /* entry index + 1, 0 = empty */
    uint64_t index_cap; /* power of two */
    uint64_t live;      /* used entries */
    uint32_t leaf_head[KT_LEAVES];
    uint64_t leaf_xor[KT_LEAVES];
    uint32_t leaf_count[KT_LEAVES];
    struct arena_block *arena;
    size_t arena_used, arena_cap;
} keytable;

int kt_init(keytable *t);
void kt_free(keytable *t);
/* Index of `key`, or KT_NONE. */
uint32_t kt_find(const keytable *t, const uint8_t *key, size_t len);
/* Finds or inserts (an empty, non-tomb entry with digest 0); *created tells
 * which. ST_ENOMEM / ST_ELIMIT on failure, the table unchanged. */
int kt_insert(keytable *t, const uint8_t *key, size_t len, uint32_t *idx, bool *created);
/* Removes an entry entirely (tombstone collection, expiry). Frees its
 * value, seqs and tombstone set; takes its digest out of its leaf. */
void kt_remove(keytable *t, uint32_t idx);
static inline kentry *kt_at(const keytable *t, uint32_t idx)
{
    return &t->ents[idx];
}
uint32_t kt_leaf_of(uint64_t wire_hash);
/* Replaces an entry's digest contribution in its leaf. */
void kt_set_digest(keytable *t, uint32_t idx, uint64_t digest);
/* The XOR of leaves [first, first + count). */
uint64_t kt_bucket_xor(const keytable *t, uint32_t first, uint32_t count);

/* Per-origin sequence numbers. */
uint64_t kt_seq_get(const kentry *e, uint64_t origin);
int kt_seq_set(kentry *e, uint64_t origin, uint64_t seq);
/* Forgets origins for which drop(origin, arg) is true (dead actors). */
void kt_seq_drop(kentry *e, bool (*drop)(uint64_t origin, void *arg), void *arg);

#endif
