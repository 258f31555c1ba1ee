/*
 * The dot store shared by every causal type: a table of byte-string
 * elements, each tagged with the dots (actor, counter) that added it, plus a
 * causal context (what this replica has seen).
 *
 * ORSet, MVRegister and the keys of every map are dot sets; maps also hang a
 * nested value off each entry (`vals`). This is the "optimized OR-Set" of
 * Bieniusa et al. with the delta-state join of Almeida, Shoker and Baquero:
 * a removed element leaves nothing behind, because the context alone says
 * its dots were seen.
 *
 * Layout, for speed and small memory (<= 64 bytes per 16-byte element):
 *  - entries: a dense array of 24-byte records (hash, arena offset, length,
 *    one inline dot); an element with several dots (concurrent adds) keeps
 *    them in a side pool instead;
 *  - index: open addressing over (hash, entry number) words, linear probing with
 *    backward-shift deletion (no tombstones); removal swaps the last entry in;
 *  - arena: element bytes back to back, compacted when half of it is garbage;
 *  - context: a version vector per actor slot plus a sorted "dot cloud" of
 *    dots seen out of order.
 * Actors are 64-bit ids kept once per set; entries refer to them by slot.
 */
#ifndef DD_CRDT_DOTSET_H
#define DD_CRDT_DOTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/crdt.h"
#include "util/bytes.h"
#include "util/limits.h"

/* reader_varint, but a non-minimal encoding fails the reader: the
 * encoding is canonical, so one value has one byte string. */
static inline uint64_t crdt_varint(reader *r)
{
    const uint8_t *start = r->p;
    uint64_t v = reader_varint(r);
    if (!r->failed) {
        size_t used = (size_t)(r->p - start), need = 1;
        for (uint64_t x = v >> 7; x; x >>= 7)
            need++;
        if (used != need)
            r->failed = true;
    }
    return v;
}

#define DS_MULTI UINT32_MAX       /* entry's dots live in the side pool */
#define DS_NODOT (UINT32_MAX - 1) /* GSet: elements carry no dots */

typedef struct ds_dot {
    uint32_t ax;
    uint64_t ctr;
} ds_dot;

typedef struct ds_entry {
    uint32_t hash;
    uint32_t off;
    uint32_t len;
    uint32_t ax;  /* actor slot, or DS_MULTI / DS_NODOT */
    uint64_t ctr; /* counter, or the side-pool slot when DS_MULTI */
} ds_entry;

typedef struct ds_multi {
    uint32_t n, cap;
    ds_dot *dots;
    crdt **vals; /* maps: one value per dot */
} ds_multi;

typedef struct dotset {
    ds_entry *entries;
    uint32_t n, cap;
    uint64_t *index; /* 0 = empty, else hash << 32 | (entry number + 1) */
    uint32_t mask;   /* index size - 1, or 0 when no index yet */
    uint8_t *arena;
    size_t arena_len, arena_cap, arena_garbage;
    ds_multi *multi; /* side pool; free slots have dots == NULL */
    uint32_t nmulti, capmulti, free_multi;
    uint64_t *actors; /* actor id per slot */
    uint64_t *vv;     /* contiguous counter per slot */
    uint32_t nactors, capactors;
    ds_dot *cloud; /* sorted by (actor id, counter), none <= vv */
    uint32_t ncloud, capcloud;
    crdt **vals; /* maps: one nested value per entry; NULL otherwise */
} dotset;

void ds_init(dotset *s, bool with_values);
void ds_free(dotset *s);
int ds_clone(dotset *dst, const dotset *src);
uint32_t ds_hash(const uint8_t *e, size_t len);

static inline const uint8_t *ds_elem(const dotset *s, const ds_entry *e)
{
    return s->arena ? s->arena + e->off : (const uint8_t *)"";
}

/* Entry number of `e`, or -1. */
int64_t ds_find(const dotset *s, const uint8_t *e, size_t len, uint32_t hash);
/* Appends a new entry without dots (the caller sets them); *idx receives it. */
int ds_insert(dotset *s, const uint8_t *e, size_t len, uint32_t hash, uint32_t *idx);
/* The entry a write of a new dot goes to: `found` (from ds_find) when `e`
 * is there, else a new one (ds_insert). */
static inline int ds_entry_for(dotset *s, int64_t found, const uint8_t *e, size_t len,
                               uint32_t hash, uint32_t *idx)
{
    if (found < 0)
        return ds_insert(s, e, len, hash, idx);
    *idx = (uint32_t)found;
    return 0;
}
/* Removes entry `i` (freeing its value); the last entry moves to `i`. */
void ds_remove_at(dotset *s, uint32_t i);
void ds_remove_all(dotset *s);
int ds_reserve(dotset *s, uint32_t n);

int ds_actor_slot(dotset *s, uint64_t actor, uint32_t *ax);
/* The dots of entry i: returns a pointer to `one` (filled) or to the pool. */
const ds_dot *ds_dots(const dotset *s, const ds_entry *e, ds_dot *one, uint32_t *n);
int ds_set_dots(dotset *s, uint32_t i, const ds_dot *dots, uint32_t n);
bool ds_cloud_has(const dotset *s, uint32_t ax, uint64_t ctr);
/* Inline because the join asks it for every dot of both sides; the version
 * vector answers almost always, the cloud (dotset_ctx.c) rarely. */
static inline bool ds_ctx_has(const dotset *s, uint32_t ax, uint64_t ctr)
{
    return ctr <= s->vv[ax] || (s->ncloud && ds_cloud_has(s, ax, ctr));
}
int ds_ctx_add(dotset *s, uint32_t ax, uint64_t ctr);
/* The index of dot (ax, ctr) in d[0..n), or UINT32_MAX. With `map`, d's
 * actor slots are another dotset's, mapped through it (src slots to dst
 * slots) before comparing. Inline for the same reason as ds_ctx_has: a join
 * asks it for every dot of both sides. */
static inline uint32_t ds_dot_index(const ds_dot *d, uint32_t n, const uint32_t *map, uint32_t ax,
                                    uint64_t ctr)
{
    for (uint32_t i = 0; i < n; i++)
        if ((map ? map[d[i].ax] : d[i].ax) == ax && d[i].ctr == ctr)
            return i;
    return UINT32_MAX;
}
/* Claims every dot of `ax` up to `ctr` as seen. */
void ds_ctx_raise(dotset *s, uint32_t ax, uint64_t ctr);
/* The next fresh counter of `ax` in this context. */
uint64_t ds_next_ctr(const dotset *s, uint32_t ax);
/* Copies src's whole context into dst (dst actors are added as needed). */
int ds_ctx_join(dotset *dst, const dotset *src);
/* Maps each of src's actor slots to a slot of dst, adding actors (caller
 * frees *map). */
int ds_map_actors(dotset *dst, const dotset *src, uint32_t **map);
/* ds_ctx_join with the actor map already made. */
int ds_ctx_join_mapped(dotset *dst, const dotset *src, const uint32_t *map);

/* Where a write of a new dot for element (or key) `e` by `actor` stands:
 * the actor's slot and next counter, e's hash and its entry (`found`, -1
 * when absent). ds_write_begin fills it and, with a delta, records the
 * write there (*didx: its entry in the delta). */
typedef struct ds_write {
    uint32_t ax;
    uint64_t ctr;
    uint32_t hash;
    int64_t found;
} ds_write;
int ds_write_begin(dotset *s, const uint8_t *e, size_t len, uint64_t actor, dotset *delta,
                   ds_write *w, uint32_t *didx);

/* Causal mutators; `delta` (may be NULL) is an empty dotset to fill. */
int ds_add(dotset *s, const uint8_t *e, size_t len, uint64_t actor, dotset *delta,
           uint32_t *idx_out);
int ds_remove(dotset *s, const uint8_t *e, size_t len, dotset *delta);
int ds_clear(dotset *s, dotset *delta);
/* The join. */
int ds_merge(dotset *dst, const dotset *src);

/* Maps. Each dot of a key carries the whole value as of the update that
 * made the dot; values are immutable once tagged, and the key's value is
 * the join of the values of its surviving dots (vals[i]). */
const crdt *ds_dot_val(const dotset *s, uint32_t i, uint32_t k);
/* Gives entry i the dots and their values (taking ownership of v[]). */
int ds_set_dot_vals(dotset *s, uint32_t i, const ds_dot *dots, crdt **v, uint32_t n);
/* An update: the key gets one fresh dot tagged with `val` (owned). */
int ds_map_put(dotset *s, const uint8_t *key, size_t len, uint64_t actor, crdt *val, dotset *delta);

/* Entry numbers in bytewise element order (caller frees). */
uint32_t *ds_sorted(const dotset *s);
int ds_elem_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Shared by dotset.c and dotset_map.c. */
void ds_release_multi(dotset *s, ds_entry *e);
int ds_delta_ctx_dots(dotset *d, const dotset *s, const ds_dot *dots, uint32_t n);
/* The delta of giving element e (entry `found` of s, or -1) the one fresh dot
 * (actor, ctr): the old dots go to the context, the element with the new dot
 * becomes delta entry *didx. */
int ds_delta_add(dotset *delta, const dotset *s, int64_t found, const uint8_t *e, size_t len,
                 uint32_t hash, uint64_t actor, uint64_t ctr, uint32_t *didx);
int ds_dot_cmp(const void *x, const void *y);
int ds_val_join(crdt **dst, const crdt *src);
int ds_clone_dot_vals(dotset *dst, uint32_t idx, const dotset *src, uint32_t i, const ds_dot *d,
                      uint32_t n);
int ds_join_map_entry(dotset *dst, uint32_t i, const ds_dot *a, uint32_t na, const dotset *src,
                      int64_t j, const ds_dot *b, uint32_t nb, const uint32_t *map,
                      const uint32_t *rmap, bool *removed);

/* ST_ECORRUPT with the one message every decoder uses when bytes end early
 * or the reader failed. */
int crdt_truncated(void);

/* Canonical binary body. nested: per-entry value encoder/decoder hooks. */
/* Maps put one value after each dot. */
int ds_encode(const dotset *s, bool dots, bytes *out, int (*put_val)(const crdt *, bytes *));
int ds_decode(dotset *s, reader *r, bool dots, const limits *lim,
              int (*get_val)(crdt **, reader *, void *), void *arg);

#endif
