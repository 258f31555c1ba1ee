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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt_impl.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/sorted.h"
#include "util/status.h"

void gcounter_free(gcounter *g)
{
    free(g->actors);
    free(g->counts);
    free(g->markers);
    memset(g, 0, sizeof *g);
}

static int clone_markers(gcounter *dst, const gcounter *src)
{
    if (!src->nmarkers)
        return ST_OK;
    dst->markers = alloc_array(src->nmarkers, sizeof *dst->markers);
    if (!dst->markers)
        return error_oom();
    memcpy(dst->markers, src->markers, src->nmarkers * sizeof *dst->markers);
    dst->nmarkers = src->nmarkers;
    return ST_OK;
}

int gcounter_clone(gcounter *dst, const gcounter *src)
{
    memset(dst, 0, sizeof *dst);
    if (clone_markers(dst, src))
        return error_oom();
    if (!src->n)
        return ST_OK;
    dst->actors = alloc_array(src->n, sizeof *dst->actors);
    dst->counts = alloc_array(src->n, sizeof *dst->counts);
    if (!dst->actors || !dst->counts) {
        gcounter_free(dst);
        return error_oom();
    }
    memcpy(dst->actors, src->actors, src->n * sizeof *dst->actors);
    memcpy(dst->counts, src->counts, src->n * sizeof *dst->counts);
    dst->n = dst->cap = src->n;
    dst->sum = src->sum;
    return ST_OK;
}

static uint32_t gcounter_lower(const gcounter *g, uint64_t actor)
{
    return (uint32_t)sorted_lower_bound_u64(g->actors, g->n, sizeof *g->actors, 0, actor);
}

static int64_t marker_find(const gcounter *g, uint64_t removed)
{
    uint32_t lo = (uint32_t)sorted_lower_bound_u64(g->markers, g->nmarkers, sizeof *g->markers,
                                                   offsetof(gcounter_marker, removed), removed);
    return lo < g->nmarkers && g->markers[lo].removed == removed ? (int64_t)lo : -1 - (int64_t)lo;
}

static void recount(gcounter *g)
{
    g->sum = 0;
    for (uint32_t i = 0; i < g->n; i++)
        if (__builtin_add_overflow(g->sum, g->counts[i], &g->sum))
            g->sum = UINT64_MAX;
}

/* Drops the slot of `actor` if there is one; its count is returned. */
static uint64_t drop_slot(gcounter *g, uint64_t actor)
{
    uint32_t p = gcounter_lower(g, actor);
    if (p >= g->n || g->actors[p] != actor)
        return 0;
    uint64_t c = g->counts[p];
    memmove(&g->actors[p], &g->actors[p + 1], (g->n - p - 1) * sizeof *g->actors);
    memmove(&g->counts[p], &g->counts[p + 1], (g->n - p - 1) * sizeof *g->counts);
    g->n--;
    if (g->sum != UINT64_MAX)
        g->sum -= c;
    else
        recount(g);
    return c;
}

static int marker_cmp(const gcounter_marker *a, const gcounter_marker *b)
{
    if (a->survivor != b->survivor)
        return a->survivor < b->survivor ? -1 : 1;
    if (a->folded != b->folded)
        return a->folded < b->folded ? -1 : 1;
    if (a->keep_until_ms != b->keep_until_ms)
        return a->keep_until_ms < b->keep_until_ms ? -1 : 1;
    return 0;
}

/* Adds marker m (or keeps the smaller of two for one actor) and drops the
 * marked actor's slot. */
static int marker_put(gcounter *g, const gcounter_marker *m)
{
    int64_t f = marker_find(g, m->removed);
    if (f >= 0) {
        if (marker_cmp(m, &g->markers[f]) < 0)
            g->markers[f] = *m;
        return ST_OK;
    }
    uint32_t p = (uint32_t)(-1 - f);
    gcounter_marker *nm = realloc_array(g->markers, (size_t)g->nmarkers + 1, sizeof *nm);
    if (!nm)
        return error_oom();
    g->markers = nm;
    memmove(&nm[p + 1], &nm[p], (g->nmarkers - p) * sizeof *nm);
    nm[p] = *m;
    g->nmarkers++;
    (void)drop_slot(g, m->removed);
    return ST_OK;
}

bool gcounter_holds(const gcounter *g, uint64_t actor)
{
    uint32_t p = gcounter_lower(g, actor);
    return p < g->n && g->actors[p] == actor;
}

/* Slot of `actor`, inserted with count 0 if missing. */
static int gcounter_slot(gcounter *g, uint64_t actor, uint32_t *slot)
{
    uint32_t p = gcounter_lower(g, actor);
    if (p < g->n && g->actors[p] == actor) {
        *slot = p;
        return ST_OK;
    }
    if (!array_pair_reserve(&g->actors, sizeof *g->actors, &g->counts, sizeof *g->counts, &g->cap,
                            (size_t)g->n + 1))
        return error_oom();
    memmove(&g->actors[p + 1], &g->actors[p], (g->n - p) * sizeof *g->actors);
    memmove(&g->counts[p + 1], &g->counts[p], (g->n - p) * sizeof *g->counts);
    g->actors[p] = actor;
    g->counts[p] = 0;
    g->n++;
    *slot = p;
    return ST_OK;
}

int gcounter_add(gcounter *g, uint64_t actor, uint64_t amount, uint64_t *total)
{
    /* An actor is pruned only once the cluster removed its node; a write
     * under it would sit beside its own marker. The node refutes with a
     * new incarnation (a new actor) as soon as it hears of the removal. */
    if (g->nmarkers && marker_find(g, actor) >= 0)
        return error_set(ST_ECONFLICT,
                         "actor %016llx was pruned from this counter (its node was removed)",
                         (unsigned long long)actor);
    bool ovf;
    uint64_t sum = gcounter_sum(g, &ovf);
    if (ovf || amount > (uint64_t)INT64_MAX || sum + amount > (uint64_t)INT64_MAX)
        return error_set(ST_ELIMIT, "counter would exceed 2^63-1");
    uint32_t slot;
    int rc = gcounter_slot(g, actor, &slot);
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

int gcounter_increment_fast(gcounter *g, uint64_t actor, uint64_t amount)
{
    /* the common case: an actor that already has a slot, far from overflow */
    if (amount <= (uint64_t)INT64_MAX && g->sum <= (uint64_t)INT64_MAX - amount) {
        uint32_t p = gcounter_lower(g, actor);
        if (p < g->n && g->actors[p] == actor) {
            g->counts[p] += amount;
            g->sum += amount;
            return ST_OK;
        }
    }
    uint64_t total;
    return gcounter_add(g, actor, amount, &total);
}

int gcounter_set(gcounter *g, uint64_t actor, uint64_t total)
{
    if (!total || (g->nmarkers && marker_find(g, actor) >= 0))
        return ST_OK; /* a pruned actor's count lives in its survivor */
    uint32_t slot;
    int rc = gcounter_slot(g, actor, &slot);
    if (rc)
        return rc;
    if (total > g->counts[slot]) {
        if (__builtin_add_overflow(g->sum, total - g->counts[slot], &g->sum))
            g->sum = UINT64_MAX;
        g->counts[slot] = total;
    }
    return ST_OK;
}

int gcounter_merge(gcounter *dst, const gcounter *src)
{
    for (uint32_t i = 0; i < src->nmarkers; i++) {
        int rc = marker_put(dst, &src->markers[i]);
        if (rc)
            return rc;
    }
    for (uint32_t i = 0; i < src->n; i++) {
        int rc = gcounter_set(dst, src->actors[i], src->counts[i]);
        if (rc)
            return rc;
    }
    return ST_OK;
}

uint64_t gcounter_sum(const gcounter *g, bool *overflow)
{
    *overflow = g->sum == UINT64_MAX;
    return g->sum;
}

void gcounter_encode(const gcounter *g, bool with_markers, bytes *out)
{
    bytes_put_varint(out, g->n);
    for (uint32_t i = 0; i < g->n; i++) {
        bytes_put_u64(out, g->actors[i]);
        bytes_put_varint(out, g->counts[i]);
    }
    if (!with_markers)
        return;
    bytes_put_varint(out, g->nmarkers);
    for (uint32_t i = 0; i < g->nmarkers; i++) {
        bytes_put_u64(out, g->markers[i].removed);
        bytes_put_u64(out, g->markers[i].survivor);
        bytes_put_varint(out, g->markers[i].folded);
        bytes_put_varint(out, g->markers[i].keep_until_ms);
    }
}

static int gcounter_decode_slots(gcounter *g, reader *r, const limits *lim);

/* Reads a list's length, bounded by the limits and by what is left of the
 * input (min_bytes per entry), so nothing is allocated for bytes that are
 * not there. */
static int read_count(reader *r, const limits *lim, size_t min_bytes, const char *plural,
                      const char *singular, uint64_t *n)
{
    *n = crdt_varint(r);
    if (!reader_ok(r))
        return crdt_truncated();
    if (*n > lim->max_elements)
        return error_set(ST_ELIMIT, "counter with %llu %s exceeds the limit of %llu",
                         (unsigned long long)*n, plural, (unsigned long long)lim->max_elements);
    if (*n > reader_left(r) / min_bytes)
        return error_set(ST_ECORRUPT, "counter %s count exceeds the input", singular);
    return ST_OK;
}

static int decode_markers(gcounter *g, reader *r, const limits *lim)
{
    uint64_t n;
    int rc = read_count(r, lim, 18, "pruning markers", "marker", &n);
    if (rc || !n)
        return rc;
    g->markers = alloc_array(n, sizeof *g->markers);
    if (!g->markers)
        return error_oom();
    for (uint64_t i = 0; i < n; i++) {
        gcounter_marker m;
        m.removed = reader_u64(r);
        m.survivor = reader_u64(r);
        m.folded = crdt_varint(r);
        m.keep_until_ms = crdt_varint(r);
        if (!reader_ok(r))
            return crdt_truncated();
        /* canonical: sorted, one per actor, never the survivor of itself,
         * and no slot left for a pruned actor */
        if ((i && m.removed <= g->markers[i - 1].removed) || m.removed == m.survivor ||
            gcounter_holds(g, m.removed))
            return error_set(ST_ECORRUPT, "counter pruning markers are not canonical");
        g->markers[i] = m;
        g->nmarkers = (uint32_t)i + 1;
    }
    return ST_OK;
}

int gcounter_decode(gcounter *g, reader *r, const limits *lim, bool with_markers)
{
    int rc = gcounter_decode_slots(g, r, lim);
    if (!rc && with_markers)
        rc = decode_markers(g, r, lim);
    if (rc)
        gcounter_free(g);
    return rc;
}

static int gcounter_decode_slots(gcounter *g, reader *r, const limits *lim)
{
    memset(g, 0, sizeof *g);
    uint64_t n;
    int rc = read_count(r, lim, 9, "actors", "actor", &n);
    if (rc || !n)
        return rc;
    g->actors = alloc_array(n, sizeof *g->actors);
    g->counts = alloc_array(n, sizeof *g->counts);
    if (!g->actors || !g->counts) {
        gcounter_free(g);
        return error_oom();
    }
    g->cap = (uint32_t)n;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t a = reader_u64(r), c = crdt_varint(r);
        if (!reader_ok(r)) {
            gcounter_free(g);
            return crdt_truncated();
        }
        if ((i && a <= g->actors[i - 1]) || c == 0) {
            gcounter_free(g);
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

bool gcounter_drop_markers(gcounter *g, uint64_t now_ms)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < g->nmarkers; i++)
        if (!g->markers[i].keep_until_ms || g->markers[i].keep_until_ms > now_ms)
            g->markers[k++] = g->markers[i];
    bool dropped = k != g->nmarkers;
    g->nmarkers = k;
    if (!k) {
        free(g->markers);
        g->markers = NULL;
    }
    return dropped;
}

int gcounter_prune(gcounter *g, uint64_t removed, uint64_t survivor, uint64_t keep_until_ms)
{
    if (removed == survivor || !gcounter_holds(g, removed))
        return ST_OK; /* nothing to fold (or folded already: the marker stays) */
    if (g->nmarkers && marker_find(g, survivor) >= 0)
        return error_set(ST_EINVAL, "cannot prune into actor %016llx: it was pruned itself",
                         (unsigned long long)survivor);
    uint32_t p = gcounter_lower(g, removed);
    uint64_t c = g->counts[p];
    gcounter_marker m = {removed, survivor, c, keep_until_ms};
    uint32_t slot;
    /* room first, so a failure leaves the counter as it was */
    int rc = gcounter_slot(g, survivor, &slot);
    if (rc)
        return rc;
    rc = marker_put(g, &m); /* drops the removed slot */
    if (rc) {
        if (!g->counts[gcounter_lower(g, survivor)])
            (void)drop_slot(g, survivor);
        return rc;
    }
    slot = gcounter_lower(g, survivor);
    if (__builtin_add_overflow(g->counts[slot], c, &g->counts[slot]))
        g->counts[slot] = UINT64_MAX;
    recount(g);
    return ST_OK;
}

int counter_value(const crdt *v, int64_t *out)
{
    bool o1 = false, o2 = false;
    if (v->type == CRDT_GCOUNTER) {
        uint64_t s = gcounter_sum(&v->u.gc, &o1);
        if (o1 || s > (uint64_t)INT64_MAX)
            return error_set(ST_ELIMIT, "counter value exceeds 2^63-1");
        *out = (int64_t)s;
        return ST_OK;
    }
    if (v->type != CRDT_PNCOUNTER)
        return error_set(ST_ETYPE, "%s is not a counter", crdt_type_name(v->type));
    uint64_t p = gcounter_sum(&v->u.pn.p, &o1), n = gcounter_sum(&v->u.pn.n, &o2);
    __int128 d = (__int128)p - (__int128)n;
    if (o1 || o2 || d > INT64_MAX || d < INT64_MIN)
        return error_set(ST_ELIMIT, "counter value does not fit in 64 bits");
    *out = (int64_t)d;
    return ST_OK;
}
