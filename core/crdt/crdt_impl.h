/*
 * The inside of a crdt value, shared by the type files (counter.c, set.c,
 * register.c, map.c) and the dispatcher (crdt.c). Nothing outside core/crdt
 * includes this.
 */
#ifndef DD_CRDT_IMPL_H
#define DD_CRDT_IMPL_H

#include "crdt/crdt.h"
#include "crdt/dotset.h"

/* Version 1: no pruning markers anywhere in the value. Version 2: every
 * counter (nested ones included) is followed by its marker list. A value
 * is written as version 2 only when it holds a marker, so values that were
 * never pruned keep their version-1 bytes (and digests). */
#define CRDT_CODEC_VERSION 1
#define CRDT_CODEC_VERSION_MARKERS 2

/* A pruned actor: its count was folded into `survivor`'s slot; slots of
 * `removed` are ignored from then on (counter.c explains why). */
typedef struct gcounter_marker {
    uint64_t removed;
    uint64_t survivor;
    uint64_t folded;
    uint64_t keep_until_ms; /* dropped after this time; 0 = kept forever */
} gcounter_marker;

/* A grow-only counter: one slot per actor, sorted by actor, and the
 * pruning markers, sorted by removed actor (no actor is in both). */
typedef struct gcounter {
    uint64_t *actors;
    uint64_t *counts;
    uint32_t n, cap;
    uint64_t sum; /* cached total, saturating at UINT64_MAX */
    gcounter_marker *markers;
    uint32_t nmarkers;
} gcounter;

typedef struct lwwreg {
    bool has;
    uint64_t ts;
    uint64_t actor;
    uint8_t *value;
    size_t len;
} lwwreg;

struct crdt {
    crdt_type type;
    union {
        gcounter gc; /* GCounter */
        struct {     /* PNCounter */
            gcounter p, n;
        } pn;
        dotset ds;  /* GSet, ORSet, MVRegister, every map */
        lwwreg reg; /* LWWRegister */
        bool flag;  /* Flag */
    } u;
};

crdt *crdt_alloc(crdt_type type);

/* counter.c */
void gcounter_free(gcounter *g);
int gcounter_clone(gcounter *dst, const gcounter *src);
int gcounter_add(gcounter *g, uint64_t actor, uint64_t amount, uint64_t *total);
/* gcounter_add without the total, for the hot path of a counter without delta */
int gcounter_increment_fast(gcounter *g, uint64_t actor, uint64_t amount);
int gcounter_set(gcounter *g, uint64_t actor, uint64_t total);
int gcounter_merge(gcounter *dst, const gcounter *src);
uint64_t gcounter_sum(const gcounter *g, bool *overflow);
void gcounter_encode(const gcounter *g, bool with_markers, bytes *out);
int gcounter_decode(gcounter *g, reader *r, const limits *lim, bool with_markers);
bool gcounter_holds(const gcounter *g, uint64_t actor);
int gcounter_prune(gcounter *g, uint64_t removed, uint64_t survivor, uint64_t keep_until_ms);
/* Drops markers whose time has come; true if any was dropped. */
bool gcounter_drop_markers(gcounter *g, uint64_t now_ms);
int counter_value(const crdt *v, int64_t *out);

/* register.c */
void lww_free(lwwreg *r);
int lww_clone(lwwreg *dst, const lwwreg *src);
int lww_assign(lwwreg *r, const uint8_t *value, size_t len, const crdt_ctx *ctx);
int lww_merge(lwwreg *dst, const lwwreg *src);
void lww_encode(const lwwreg *r, bytes *out);
int lww_decode(lwwreg *r, reader *rd, const limits *lim, uint64_t now_ms);

/* map.c */
bool crdt_is_map(crdt_type t);
crdt_type map_fixed_type(crdt_type t); /* 0 for ORMap (any value type) */
int map_apply(crdt *v, const crdt_op *op, const crdt_ctx *ctx, crdt *delta);

/* codec: bodies without the version byte, used for nested values */
/* `ver` is the top-level codec version (markers follow counters in 2). */
int crdt_encode_body_v(const crdt *v, uint8_t ver, bytes *out);
int crdt_decode_body(crdt **out, reader *r, const limits *lim, uint64_t now_ms, uint32_t depth,
                     uint8_t ver);

/* json: the value form */
int crdt_value_json(const crdt *v, bytes *out);

#endif
