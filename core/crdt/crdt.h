/*
 * The generic CRDT value: what every data type offers the rest of ddata.
 *
 * The replicator, the stores and the ABI see only this interface; the types
 * themselves (gcounter.c, orset.c, ...) sit behind it. Contract:
 *
 *  - Mutations go through crdt_apply, which also yields the delta of the
 *    mutation (delta-state CRDTs, Almeida, Shoker and Baquero 2018):
 *    merging that delta into any replica that has seen the causal past
 *    equals applying the mutation there.
 *  - crdt_merge is the join: commutative, associative, idempotent. It takes
 *    full states and deltas alike (a delta is a value of the same type).
 *  - Types for which crdt_needs_causal_delta() is true (ORSet and the maps
 *    built on dots) must receive deltas in causal order; on a gap the
 *    replicator falls back to full state.
 *  - crdt_encode is canonical: equal states encode to equal bytes, so
 *    crdt_digest (a hash of the encoding) compares states across nodes.
 *  - Decoders are bounded by `limits` and never crash on any input.
 *
 * An actor (replica id) is a 64-bit number the node derives from its node
 * id and incarnation, so a restarted node without its state never reuses
 * its former self's dots or counter slots.
 */
#ifndef DD_CRDT_CRDT_H
#define DD_CRDT_CRDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/limits.h"

/* Numbering is part of the wire and storage formats: never renumber. */
typedef enum crdt_type {
    CRDT_GCOUNTER = 1,
    CRDT_PNCOUNTER = 2,
    CRDT_GSET = 3,
    CRDT_ORSET = 4,
    CRDT_LWWREGISTER = 5,
    CRDT_FLAG = 6,
    CRDT_MVREGISTER = 7,
    CRDT_ORMAP = 8,
    CRDT_LWWMAP = 9,
    CRDT_PNCOUNTERMAP = 10,
    CRDT_GCOUNTERMAP = 11,
    CRDT_ORMULTIMAP = 12,
    CRDT_TYPE_MAX = 12
} crdt_type;

/* Numbering mirrors dd_op_kind in the public header. */
typedef enum crdt_op_kind {
    CRDT_OP_INCREMENT = 1, /* counters, counter maps (with key): amount */
    CRDT_OP_DECREMENT = 2, /* PNCounter, PNCounterMap (with key): amount */
    CRDT_OP_ADD = 3,       /* GSet, ORSet: value; ORMultiMap: key + value */
    CRDT_OP_REMOVE = 4,    /* ORSet: value; maps: key; ORMultiMap: key (+ value) */
    CRDT_OP_CLEAR = 5,     /* ORSet, maps, MVRegister: drop everything observed */
    CRDT_OP_ASSIGN = 6,    /* LWW/MV register: value; LWWMap: key + value */
    CRDT_OP_ENABLE = 7,    /* Flag */
    CRDT_OP_UPDATE = 8     /* ORMap: key, value_type and the nested op */
} crdt_op_kind;

typedef struct crdt_op {
    crdt_op_kind kind;
    uint64_t amount;
    const uint8_t *key; /* map key (maps only) */
    size_t key_len;
    const uint8_t *value; /* set element or register value */
    size_t value_len;
    crdt_type value_type;         /* ORMap: the type of the value at `key` */
    const struct crdt_op *nested; /* ORMap: the op applied to that value */
} crdt_op;

/* Who mutates, and when (LWW timestamps, in ms since the epoch). */
typedef struct crdt_ctx {
    uint64_t actor;
    uint64_t now_ms;
} crdt_ctx;

typedef struct crdt crdt;

int crdt_new(crdt **out, crdt_type type);
void crdt_free(crdt *v);
crdt_type crdt_type_of(const crdt *v);
const char *crdt_type_name(crdt_type type); /* "ORSet", ...; NULL if unknown */
int crdt_clone(crdt **out, const crdt *v);

/* Applies `op`; when `delta` is non-NULL, *delta receives the mutation's
 * delta (a new value of the same type; caller frees). Fails without change
 * (ST_ETYPE, ST_EINVAL, ST_ELIMIT) when the op does not fit the type. */
int crdt_apply(crdt *v, const crdt_op *op, const crdt_ctx *ctx, crdt **delta);
/* Joins `src` (full state or delta) into `dst`; ST_ETYPE if types differ. */
int crdt_merge(crdt *dst, const crdt *src);
bool crdt_equal(const crdt *a, const crdt *b);
bool crdt_needs_causal_delta(crdt_type type);

/* Canonical binary form (a version byte and the type come first). */
int crdt_encode(const crdt *v, bytes *out);
/* `now_ms` bounds LWW timestamps (now + limits->max_clock_skew_ms). */
int crdt_decode(crdt **out, const uint8_t *data, size_t len, const limits *lim, uint64_t now_ms);
/* Canonical JSON; see docs/json.md for each type's form. */
int crdt_to_json(const crdt *v, bytes *out);
int crdt_from_json(crdt **out, const char *json, size_t len, const limits *lim);
uint64_t crdt_digest(const crdt *v);

/* Removed-node pruning (counter.c): in every counter of v (nested ones in
 * maps included) folds the slot of `removed` into `survivor`'s and leaves a
 * marker, so later merges ignore `removed` (an unpruned copy is then
 * counted once). The marker lives until keep_until_ms (0: forever).
 * Idempotent. Safe only once `survivor` has merged every
 * copy that may hold more of `removed` (the replicator's protocol). ORSet
 * and map dots of `removed` stay: they do not grow per update. */
int crdt_prune(crdt *v, uint64_t removed, uint64_t survivor, uint64_t keep_until_ms);
/* Drops the markers whose keep_until_ms has passed (every replica does so
 * on its own clock); true if v changed. */
bool crdt_drop_prune_markers(crdt *v, uint64_t now_ms);
/* Calls fn for every counter slot's actor in v (repeats across nested
 * counters); stops at and returns fn's first nonzero result. */
int crdt_each_counter_actor(const crdt *v, int (*fn)(uint64_t actor, void *arg), void *arg);
/* Whether some counter in v has a slot for `actor` (it could be pruned). */
bool crdt_holds_actor(const crdt *v, uint64_t actor);
bool crdt_has_prune_markers(const crdt *v);
/* Counter slots in v, nested ones included (statistics, benchmarks). */
uint64_t crdt_counter_slots(const crdt *v);

/* Number of elements (set members, map entries, register values); used for
 * limits and statistics. */
uint64_t crdt_count(const crdt *v);

/* ---- reads (added with the types; ST_ETYPE when the type has no such read) */

/* The value a user sees, as canonical JSON ({"type":"PNCounter","value":5});
 * docs/json.md lists every type's form. crdt_to_json adds the full state. */
int crdt_value_json(const crdt *v, bytes *out);
/* GCounter, PNCounter. ST_ELIMIT when the value does not fit in int64. */
int crdt_counter_value(const crdt *v, int64_t *out);
/* Set element (GSet, ORSet), register value (MVRegister) or map key. */
int crdt_contains(const crdt *v, const uint8_t *elem, size_t len, bool *out);
/* LWWRegister: a view of the value (valid until the next change);
 * ST_ENOTFOUND when it was never assigned. */
int crdt_register_get(const crdt *v, const uint8_t **value, size_t *len);
int crdt_flag_value(const crdt *v, bool *out);
/* Map value at `key` (borrowed; NULL when absent or `map` is not a map). */
const crdt *crdt_map_get(const crdt *map, const uint8_t *key, size_t len);
/* Elements (sets), values (MVRegister) or keys (maps) in bytewise order,
 * each as a 4-byte little-endian length and the bytes. */
int crdt_elements(const crdt *v, bytes *out);

#endif
