/*
 * GCounter and PNCounter.
 *
 * A GCounter keeps one monotone count per actor; the value is the sum and
 * the join takes the per-actor maximum. Slots are two parallel arrays sorted
 * by actor, which is also the canonical encoding order. A PNCounter is two
 * GCounters (increments and decrements). The delta of an increment is the
 * actor's new total alone, which joins idempotently anywhere (no causal
 * delivery needed).
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_impl.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

void gc_free(gcounter *g)
{
    free(g->actors);
    free(g->counts);
    memset(g, 0, sizeof *g);
}

int gc_clone(gcounter *dst, const gcounter *src)
{
    memset(dst, 0, sizeof *dst);
    if (!src->n)
        return ST_OK;
    dst->actors = alloc_array(src->n, sizeof *dst->actors);
    dst->counts = alloc_array(src->n, sizeof *dst->counts);
    if (!dst->actors || !dst->counts) {
        gc_free(dst);
        return error_oom();
    }
    memcpy(dst->actors, src->actors, src->n * sizeof *dst->actors);
    memcpy(dst->counts, src->counts, src->n * sizeof *dst->counts);
    dst->n = dst->cap = src->n;
    dst->sum = src->sum;
    return ST_OK;
}

static uint32_t gc_lower(const gcounter *g, uint64_t actor)
{
    uint32_t lo = 0, hi = g->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->actors[mid] < actor)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Slot of `actor`, inserted with count 0 if missing. */
static int gc_slot(gcounter *g, uint64_t actor, uint32_t *slot)
{
    uint32_t p = gc_lower(g, actor);
    if (p < g->n && g->actors[p] == actor) {
        *slot = p;
        return ST_OK;
    }
    if (g->n == g->cap) {
        uint32_t ncap = (uint32_t)grow_capacity(g->cap, g->n + 1);
        uint64_t *a = realloc_array(g->actors, ncap, sizeof *a);
        if (!a)
            return error_oom();
        g->actors = a;
        uint64_t *c = realloc_array(g->counts, ncap, sizeof *c);
        if (!c)
            return error_oom();
        g->counts = c;
        g->cap = ncap;
    }
    memmove(&g->actors[p + 1], &g->actors[p], (g->n - p) * sizeof *g->actors);
    memmove(&g->counts[p + 1], &g->counts[p], (g->n - p) * sizeof *g->counts);
    g->actors[p] = actor;
    g->counts[p] = 0;
    g->n++;
    *slot = p;
    return ST_OK;
}

int gc_add(gcounter *g, uint64_t actor, uint64_t amount, uint64_t *total)
{
    bool ovf;
    uint64_t sum = gc_sum(g, &ovf);
    if (ovf || amount > (uint64_t)INT64_MAX || sum + amount > (uint64_t)INT64_MAX)
        return error_set(ST_ELIMIT, "counter would exceed 2^63-1");
    uint32_t slot;
    int rc = gc_slot(g, actor, &slot);
    if (rc)
        return rc;
    g->counts[slot] += amount;
    g->sum += amount;
    *total = g->counts[slot];
    if (g->counts[slot] == 0) {
        /* adding 0 to a new actor: keep the encoding canonical (no zeros) */
        memmove(&g->actors[slot], &g->actors[slot + 1], (g->n - slot - 1) * sizeof *g->actors);
        memmove(&g->counts[slot], &g->counts[slot + 1], (g->n - slot - 1) * sizeof *g->counts);
        g->n--;
    }
    return ST_OK;
}

int gc_increment_fast(gcounter *g, uint64_t actor, uint64_t amount)
{
    /* the common case: an actor that already has a slot, far from overflow */
    if (amount <= (uint64_t)INT64_MAX && g->sum <= (uint64_t)INT64_MAX - amount) {
        uint32_t p = gc_lower(g, actor);
        if (p < g->n && g->actors[p] == actor) {
            g->counts[p] += amount;
            g->sum += amount;
            return ST_OK;
        }
    }
    uint64_t total;
    return gc_add(g, actor, amount, &total);
}

int gc_set(gcounter *g, uint64_t actor, uint64_t total)
{
    if (!total)
        return ST_OK;
    uint32_t slot;
    int rc = gc_slot(g, actor, &slot);
    if (rc)
        return rc;
    if (total > g->counts[slot]) {
        if (__builtin_add_overflow(g->sum, total - g->counts[slot], &g->sum))
            g->sum = UINT64_MAX;
        g->counts[slot] = total;
    }
    return ST_OK;
}

int gc_merge(gcounter *dst, const gcounter *src)
{
    for (uint32_t i = 0; i < src->n; i++) {
        int rc = gc_set(dst, src->actors[i], src->counts[i]);
        if (rc)
            return rc;
    }
    return ST_OK;
}

uint64_t gc_sum(const gcounter *g, bool *overflow)
{
    *overflow = g->sum == UINT64_MAX;
    return g->sum;
}

void gc_encode(const gcounter *g, bytes *out)
{
    bytes_put_varint(out, g->n);
    for (uint32_t i = 0; i < g->n; i++) {
        bytes_put_u64(out, g->actors[i]);
        bytes_put_varint(out, g->counts[i]);
    }
}

int gc_decode(gcounter *g, reader *r, const limits *lim)
{
    memset(g, 0, sizeof *g);
    uint64_t n = crdt_varint(r);
    if (!reader_ok(r))
        return error_set(ST_ECORRUPT, "crdt value is truncated or malformed");
    if (n > lim->max_elements)
        return error_set(ST_ELIMIT, "counter with %llu actors exceeds the limit of %llu",
                         (unsigned long long)n, (unsigned long long)lim->max_elements);
    if (n > reader_left(r) / 9)
        return error_set(ST_ECORRUPT, "counter actor count exceeds the input");
    if (!n)
        return ST_OK;
    g->actors = alloc_array(n, sizeof *g->actors);
    g->counts = alloc_array(n, sizeof *g->counts);
    if (!g->actors || !g->counts) {
        gc_free(g);
        return error_oom();
    }
    g->cap = (uint32_t)n;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t a = reader_u64(r), c = crdt_varint(r);
        if (!reader_ok(r)) {
            gc_free(g);
            return error_set(ST_ECORRUPT, "crdt value is truncated or malformed");
        }
        if ((i && a <= g->actors[i - 1]) || c == 0) {
            gc_free(g);
            return error_set(ST_ECORRUPT, "counter slots are not canonical");
        }
        g->actors[i] = a;
        g->counts[i] = c;
        g->n = (uint32_t)i + 1;
        if (__builtin_add_overflow(g->sum, c, &g->sum))
            g->sum = UINT64_MAX;
    }
    return ST_OK;
}

int gc_prune(gcounter *g, uint64_t removed, uint64_t survivor)
{
    uint32_t p = gc_lower(g, removed);
    if (p >= g->n || g->actors[p] != removed)
        return ST_OK;
    uint64_t c = g->counts[p];
    memmove(&g->actors[p], &g->actors[p + 1], (g->n - p - 1) * sizeof *g->actors);
    memmove(&g->counts[p], &g->counts[p + 1], (g->n - p - 1) * sizeof *g->counts);
    g->n--;
    uint32_t slot;
    int rc = gc_slot(g, survivor, &slot);
    if (rc)
        return rc;
    g->counts[slot] += c;
    return ST_OK;
}

int counter_value(const crdt *v, int64_t *out)
{
    bool o1 = false, o2 = false;
    if (v->type == CRDT_GCOUNTER) {
        uint64_t s = gc_sum(&v->u.gc, &o1);
        if (o1 || s > (uint64_t)INT64_MAX)
            return error_set(ST_ELIMIT, "counter value exceeds 2^63-1");
        *out = (int64_t)s;
        return ST_OK;
    }
    if (v->type != CRDT_PNCOUNTER)
        return error_set(ST_ETYPE, "%s is not a counter", crdt_type_name(v->type));
    uint64_t p = gc_sum(&v->u.pn.p, &o1), n = gc_sum(&v->u.pn.n, &o2);
    __int128 d = (__int128)p - (__int128)n;
    if (o1 || o2 || d > INT64_MAX || d < INT64_MIN)
        return error_set(ST_ELIMIT, "counter value does not fit in 64 bits");
    *out = (int64_t)d;
    return ST_OK;
}
