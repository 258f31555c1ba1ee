/*
 * The dot store (see dotset.h for the layout and the papers it follows).
 */
#include "crdt/dotset.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

void ds_init(dotset *s, bool with_values)
{
    memset(s, 0, sizeof *s);
    s->free_multi = UINT32_MAX;
    if (with_values)
        s->vals = (crdt **)s; /* marker until the first entry: see ds_has_vals */
}

static bool ds_has_vals(const dotset *s)
{
    return s->vals != NULL;
}

static crdt **ds_valp(const dotset *s, uint32_t i)
{
    return (s->vals && s->vals != (crdt **)s) ? &s->vals[i] : NULL;
}

void ds_free(dotset *s)
{
    if (ds_has_vals(s) && s->vals != (crdt **)s) {
        for (uint32_t i = 0; i < s->n; i++)
            crdt_free(s->vals[i]);
        free(s->vals);
    }
    for (uint32_t i = 0; i < s->nmulti; i++) {
        if (s->multi[i].vals) {
            for (uint32_t k = 0; k < s->multi[i].n; k++)
                crdt_free(s->multi[i].vals[k]);
            free(s->multi[i].vals);
        }
        free(s->multi[i].dots);
    }
    free(s->multi);
    free(s->entries);
    free(s->index);
    free(s->arena);
    free(s->actors);
    free(s->vv);
    free(s->cloud);
    memset(s, 0, sizeof *s);
}

uint32_t ds_hash(const uint8_t *e, size_t len)
{
    /* per-process seed: elements come from the network (collision floods);
     * every set of the process shares it, so merges reuse stored hashes */
    return (uint32_t)hash_bytes(e, len, hash_seed_default());
}

int ds_elem_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* ---- index ------------------------------------------------------------- */

/* An index slot holds the element's hash next to its entry number, so a
 * probe rejects other elements without touching their entries: a lookup
 * of a new element costs one cache miss, not one per probed slot. */
static inline uint64_t slot_word(uint32_t hash, uint32_t i)
{
    return (uint64_t)hash << 32 | (i + 1);
}

static int ds_rehash(dotset *s, uint32_t slots)
{
    uint64_t *idx = calloc(slots, sizeof *idx);
    if (!idx)
        return error_oom();
    uint32_t mask = slots - 1;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t p = s->entries[i].hash & mask;
        while (idx[p])
            p = (p + 1) & mask;
        idx[p] = slot_word(s->entries[i].hash, i);
    }
    free(s->index);
    s->index = idx;
    s->mask = mask;
    return ST_OK;
}

int ds_reserve(dotset *s, uint32_t n)
{
    if (n > s->cap) {
        ds_entry *e = realloc_array(s->entries, n, sizeof *e);
        if (!e)
            return error_oom();
        s->entries = e;
        if (s->vals && s->vals != (crdt **)s) {
            crdt **v = realloc_array(s->vals, n, sizeof *v);
            if (!v)
                return error_oom();
            s->vals = v;
        } else if (s->vals) {
            crdt **v = alloc_array(n, sizeof *v);
            if (!v)
                return error_oom();
            s->vals = v;
        }
        s->cap = n;
    }
    /* load factor <= 3/4 */
    uint64_t want = (uint64_t)n + n / 3 + 1;
    if (!s->index || want > (uint64_t)s->mask + 1) {
        uint64_t slots = s->index ? (uint64_t)s->mask + 1 : 16;
        while (slots < want)
            slots *= 2;
        if (slots > (1ull << 31))
            return error_set(ST_ELIMIT, "set too large: %u elements", n);
        return ds_rehash(s, (uint32_t)slots);
    }
    return ST_OK;
}

int64_t ds_find(const dotset *s, const uint8_t *e, size_t len, uint32_t hash)
{
    if (!s->index)
        return -1;
    uint32_t p = hash & s->mask;
    for (;;) {
        uint64_t v = s->index[p];
        if (!v)
            return -1;
        if ((uint32_t)(v >> 32) == hash) {
            const ds_entry *en = &s->entries[(uint32_t)v - 1];
            if (en->len == len && (!len || memcmp(s->arena + en->off, e, len) == 0))
                return (int64_t)((uint32_t)v - 1);
        }
        p = (p + 1) & s->mask;
    }
}

static void ds_compact_arena(dotset *s)
{
    uint8_t *a = malloc(s->arena_len - s->arena_garbage + 1);
    if (!a)
        return; /* keep the garbage; correctness does not depend on it */
    size_t at = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        ds_entry *e = &s->entries[i];
        memcpy(a + at, s->arena + e->off, e->len);
        e->off = (uint32_t)at;
        at += e->len;
    }
    free(s->arena);
    s->arena = a;
    s->arena_len = at;
    s->arena_cap = at + 1;
    s->arena_garbage = 0;
}

int ds_insert(dotset *s, const uint8_t *e, size_t len, uint32_t hash, uint32_t *idx)
{
    if (len > UINT32_MAX / 2)
        return error_set(ST_ELIMIT, "element of %zu bytes is too large", len);
    if (s->n == UINT32_MAX - 2)
        return error_set(ST_ELIMIT, "set too large");
    if (s->n + 1 > s->cap || !s->index ||
        (uint64_t)(s->n + 1) + (s->n + 1) / 3 + 1 > (uint64_t)s->mask + 1) {
        uint32_t ncap = s->n + 1 > s->cap ? (uint32_t)grow_capacity(s->cap, s->n + 1) : s->cap;
        if (ncap < s->n + 1)
            ncap = s->n + 1;
        int rc = ds_reserve(s, ncap);
        if (rc)
            return rc;
    }
    if (s->arena_len + len > UINT32_MAX)
        return error_set(ST_ELIMIT, "set holds more than 4 GiB of elements");
    if (s->arena_len + len > s->arena_cap) {
        size_t ncap = grow_capacity(s->arena_cap ? s->arena_cap : 64, s->arena_len + len);
        uint8_t *a = realloc(s->arena, ncap);
        if (!a)
            return error_oom();
        s->arena = a;
        s->arena_cap = ncap;
    }
    uint32_t i = s->n++;
    ds_entry *en = &s->entries[i];
    en->hash = hash;
    en->off = (uint32_t)s->arena_len;
    en->len = (uint32_t)len;
    en->ax = DS_NODOT;
    en->ctr = 0;
    if (len)
        memcpy(s->arena + s->arena_len, e, len);
    s->arena_len += len;
    crdt **vp = ds_valp(s, i);
    if (vp)
        *vp = NULL;
    uint32_t p = hash & s->mask;
    while (s->index[p])
        p = (p + 1) & s->mask;
    s->index[p] = slot_word(hash, i);
    *idx = i;
    return ST_OK;
}

static uint32_t ds_slot_of(const dotset *s, uint32_t i)
{
    uint32_t p = s->entries[i].hash & s->mask;
    while ((uint32_t)s->index[p] != i + 1)
        p = (p + 1) & s->mask;
    return p;
}

void ds_release_multi(dotset *s, ds_entry *e)
{
    if (e->ax != DS_MULTI)
        return;
    ds_multi *m = &s->multi[e->ctr];
    if (m->vals) {
        for (uint32_t k = 0; k < m->n; k++)
            crdt_free(m->vals[k]);
        free(m->vals);
        m->vals = NULL;
    }
    free(m->dots);
    m->dots = NULL;
    m->n = m->cap = 0;
    m->cap = s->free_multi; /* free-list link */
    s->free_multi = (uint32_t)e->ctr;
    e->ax = DS_NODOT;
}

void ds_remove_at(dotset *s, uint32_t i)
{
    ds_entry *e = &s->entries[i];
    ds_release_multi(s, e);
    crdt **vp = ds_valp(s, i);
    if (vp) {
        crdt_free(*vp);
        *vp = NULL;
    }
    s->arena_garbage += e->len;
    /* backward-shift deletion keeps probe chains intact without tombstones */
    uint32_t hole = ds_slot_of(s, i);
    uint32_t p = (hole + 1) & s->mask;
    while (s->index[p]) {
        uint32_t home = (uint32_t)(s->index[p] >> 32) & s->mask;
        if (((p - home) & s->mask) >= ((p - hole) & s->mask)) {
            s->index[hole] = s->index[p];
            hole = p;
        }
        p = (p + 1) & s->mask;
    }
    s->index[hole] = 0;
    uint32_t last = s->n - 1;
    if (i != last) {
        uint32_t ls = ds_slot_of(s, last);
        s->entries[i] = s->entries[last];
        s->index[ls] = slot_word(s->entries[i].hash, i);
        if (vp)
            *vp = s->vals[last];
    }
    s->n--;
    if (s->n == 0) {
        s->arena_len = s->arena_garbage = 0;
    } else if (s->arena_garbage > 4096 && s->arena_garbage > s->arena_len / 2) {
        ds_compact_arena(s);
    }
}

void ds_remove_all(dotset *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        ds_release_multi(s, &s->entries[i]);
        crdt **vp = ds_valp(s, i);
        if (vp) {
            crdt_free(*vp);
            *vp = NULL;
        }
    }
    s->n = 0;
    s->arena_len = s->arena_garbage = 0;
    if (s->index)
        memset(s->index, 0, ((size_t)s->mask + 1) * sizeof *s->index);
}

/* ---- actors and context ------------------------------------------------ */

int ds_actor_slot(dotset *s, uint64_t actor, uint32_t *ax)
{
    for (uint32_t i = s->nactors; i-- > 0;) {
        if (s->actors[i] == actor) {
            *ax = i;
            return ST_OK;
        }
    }
    if (s->nactors == s->capactors) {
        uint32_t ncap = (uint32_t)grow_capacity(s->capactors, s->nactors + 1);
        uint64_t *a = realloc_array(s->actors, ncap, sizeof *a);
        if (!a)
            return error_oom();
        s->actors = a;
        uint64_t *v = realloc_array(s->vv, ncap, sizeof *v);
        if (!v)
            return error_oom();
        s->vv = v;
        s->capactors = ncap;
    }
    s->actors[s->nactors] = actor;
    s->vv[s->nactors] = 0;
    *ax = s->nactors++;
    return ST_OK;
}

static int cloud_cmp(const dotset *s, uint32_t ax1, uint64_t c1, uint32_t ax2, uint64_t c2)
{
    uint64_t a1 = s->actors[ax1], a2 = s->actors[ax2];
    if (a1 != a2)
        return a1 < a2 ? -1 : 1;
    return c1 < c2 ? -1 : c1 > c2 ? 1 : 0;
}

/* Position of the first cloud dot >= (ax, ctr). */
static uint32_t cloud_lower(const dotset *s, uint32_t ax, uint64_t ctr)
{
    uint32_t lo = 0, hi = s->ncloud;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cloud_cmp(s, s->cloud[mid].ax, s->cloud[mid].ctr, ax, ctr) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool ds_ctx_has(const dotset *s, uint32_t ax, uint64_t ctr)
{
    if (ctr <= s->vv[ax])
        return true;
    if (!s->ncloud)
        return false;
    uint32_t p = cloud_lower(s, ax, ctr);
    return p < s->ncloud && s->cloud[p].ax == ax && s->cloud[p].ctr == ctr;
}

/* Folds cloud dots that have become contiguous into the version vector. */
static void ds_compact_ctx(dotset *s)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < s->ncloud; i++) {
        ds_dot d = s->cloud[i];
        if (d.ctr <= s->vv[d.ax])
            continue;
        if (d.ctr == s->vv[d.ax] + 1) {
            s->vv[d.ax] = d.ctr;
            /* later dots of the same actor may now be contiguous too; the
             * cloud is sorted, so they follow immediately */
            continue;
        }
        s->cloud[w++] = d;
    }
    s->ncloud = w;
}

int ds_ctx_add(dotset *s, uint32_t ax, uint64_t ctr)
{
    if (ctr <= s->vv[ax])
        return ST_OK;
    if (ctr == s->vv[ax] + 1) {
        s->vv[ax] = ctr;
        if (s->ncloud) {
            /* absorb a run that just became contiguous */
            uint32_t p = cloud_lower(s, ax, ctr + 1);
            uint32_t q = p;
            while (q < s->ncloud && s->cloud[q].ax == ax && s->cloud[q].ctr == s->vv[ax] + 1) {
                s->vv[ax]++;
                q++;
            }
            if (q > p) {
                memmove(&s->cloud[p], &s->cloud[q], (s->ncloud - q) * sizeof *s->cloud);
                s->ncloud -= q - p;
            }
        }
        return ST_OK;
    }
    uint32_t p = cloud_lower(s, ax, ctr);
    if (p < s->ncloud && s->cloud[p].ax == ax && s->cloud[p].ctr == ctr)
        return ST_OK;
    if (s->ncloud == s->capcloud) {
        uint32_t ncap = (uint32_t)grow_capacity(s->capcloud, s->ncloud + 1);
        ds_dot *c = realloc_array(s->cloud, ncap, sizeof *c);
        if (!c)
            return error_oom();
        s->cloud = c;
        s->capcloud = ncap;
    }
    memmove(&s->cloud[p + 1], &s->cloud[p], (s->ncloud - p) * sizeof *s->cloud);
    s->cloud[p].ax = ax;
    s->cloud[p].ctr = ctr;
    s->ncloud++;
    return ST_OK;
}

void ds_ctx_raise(dotset *s, uint32_t ax, uint64_t ctr)
{
    if (ctr <= s->vv[ax])
        return;
    s->vv[ax] = ctr;
    ds_compact_ctx(s);
}

uint64_t ds_next_ctr(const dotset *s, uint32_t ax)
{
    uint64_t c = s->vv[ax];
    for (uint32_t i = 0; i < s->ncloud; i++)
        if (s->cloud[i].ax == ax && s->cloud[i].ctr > c)
            c = s->cloud[i].ctr;
    return c + 1;
}

/* Maps each of src's actor slots to a slot of dst (adding actors). */
static int ds_map_actors(dotset *dst, const dotset *src, uint32_t **map)
{
    *map = alloc_array(src->nactors ? src->nactors : 1, sizeof **map);
    if (!*map)
        return error_oom();
    for (uint32_t i = 0; i < src->nactors; i++) {
        int rc = ds_actor_slot(dst, src->actors[i], &(*map)[i]);
        if (rc) {
            free(*map);
            *map = NULL;
            return rc;
        }
    }
    return ST_OK;
}

int ds_ctx_join(dotset *dst, const dotset *src)
{
    uint32_t *map;
    int rc = ds_map_actors(dst, src, &map);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < src->nactors; i++)
        if (src->vv[i] > dst->vv[map[i]])
            dst->vv[map[i]] = src->vv[i];
    for (uint32_t i = 0; i < src->ncloud && !rc; i++)
        rc = ds_ctx_add(dst, map[src->cloud[i].ax], src->cloud[i].ctr);
    ds_compact_ctx(dst);
    free(map);
    return rc;
}

/* ---- dots of entries --------------------------------------------------- */

const ds_dot *ds_dots(const dotset *s, const ds_entry *e, ds_dot *one, uint32_t *n)
{
    if (e->ax == DS_MULTI) {
        *n = s->multi[e->ctr].n;
        return s->multi[e->ctr].dots;
    }
    if (e->ax == DS_NODOT) {
        *n = 0;
        return one;
    }
    one->ax = e->ax;
    one->ctr = e->ctr;
    *n = 1;
    return one;
}

int ds_set_dots(dotset *s, uint32_t i, const ds_dot *dots, uint32_t n)
{
    ds_entry *e = &s->entries[i];
    if (n <= 1) {
        ds_release_multi(s, e);
        if (n == 1) {
            e->ax = dots[0].ax;
            e->ctr = dots[0].ctr;
        }
        return ST_OK;
    }
    ds_dot *copy = alloc_array(n, sizeof *copy);
    if (!copy)
        return error_oom();
    memcpy(copy, dots, n * sizeof *copy);
    if (e->ax == DS_MULTI) {
        ds_multi *m = &s->multi[e->ctr];
        if (m->vals) {
            for (uint32_t k = 0; k < m->n; k++)
                crdt_free(m->vals[k]);
            free(m->vals);
            m->vals = NULL;
        }
        free(m->dots);
        m->dots = copy;
        m->n = m->cap = n;
        return ST_OK;
    }
    uint32_t slot;
    if (s->free_multi != UINT32_MAX) {
        slot = s->free_multi;
        s->free_multi = s->multi[slot].cap;
    } else {
        if (s->nmulti == s->capmulti) {
            uint32_t ncap = (uint32_t)grow_capacity(s->capmulti, s->nmulti + 1);
            ds_multi *m = realloc_array(s->multi, ncap, sizeof *m);
            if (!m) {
                free(copy);
                return error_oom();
            }
            s->multi = m;
            s->capmulti = ncap;
        }
        slot = s->nmulti++;
    }
    s->multi[slot].dots = copy;
    s->multi[slot].vals = NULL;
    s->multi[slot].n = s->multi[slot].cap = n;
    e->ax = DS_MULTI;
    e->ctr = slot;
    return ST_OK;
}

/* ---- clone -------------------------------------------------------------- */

int ds_clone(dotset *dst, const dotset *src)
{
    ds_init(dst, src->vals != NULL);
    int rc = ST_OK;
    if (src->nactors) {
        dst->actors = alloc_array(src->nactors, sizeof *dst->actors);
        dst->vv = alloc_array(src->nactors, sizeof *dst->vv);
        if (!dst->actors || !dst->vv)
            goto oom;
        memcpy(dst->actors, src->actors, src->nactors * sizeof *dst->actors);
        memcpy(dst->vv, src->vv, src->nactors * sizeof *dst->vv);
        dst->nactors = dst->capactors = src->nactors;
    }
    if (src->ncloud) {
        dst->cloud = alloc_array(src->ncloud, sizeof *dst->cloud);
        if (!dst->cloud)
            goto oom;
        memcpy(dst->cloud, src->cloud, src->ncloud * sizeof *dst->cloud);
        dst->ncloud = dst->capcloud = src->ncloud;
    }
    if (src->n) {
        rc = ds_reserve(dst, src->n);
        if (rc)
            goto fail;
        for (uint32_t i = 0; i < src->n; i++) {
            const ds_entry *e = &src->entries[i];
            uint32_t idx;
            rc = ds_insert(dst, ds_elem(src, e), e->len, e->hash, &idx);
            if (rc)
                goto fail;
            ds_dot one;
            uint32_t n;
            const ds_dot *d = ds_dots(src, e, &one, &n);
            if (src->vals && src->vals != (crdt **)src)
                rc = ds_clone_dot_vals(dst, idx, src, i, d, n);
            else if (n)
                rc = ds_set_dots(dst, idx, d, n);
            if (rc)
                goto fail;
        }
    }
    return ST_OK;
oom:
    rc = error_oom();
fail:
    ds_free(dst);
    return rc;
}

/* ---- mutators ------------------------------------------------------------ */

/* Makes `d` an empty delta carrying the given dots in its context. */
int ds_delta_ctx_dots(dotset *d, const dotset *s, const ds_dot *dots, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ax;
        int rc = ds_actor_slot(d, s->actors[dots[i].ax], &ax);
        if (!rc)
            rc = ds_ctx_add(d, ax, dots[i].ctr);
        if (rc)
            return rc;
    }
    return ST_OK;
}

int ds_add(dotset *s, const uint8_t *e, size_t len, uint64_t actor, dotset *delta,
           uint32_t *idx_out)
{
    uint32_t ax;
    int rc = ds_actor_slot(s, actor, &ax);
    if (rc)
        return rc;
    uint64_t ctr = ds_next_ctr(s, ax);
    uint32_t h = ds_hash(e, len);
    int64_t found = ds_find(s, e, len, h);
    uint32_t idx;
    if (delta) {
        uint32_t dax, didx;
        if (found >= 0) {
            ds_dot one;
            uint32_t n;
            const ds_dot *d = ds_dots(s, &s->entries[found], &one, &n);
            rc = ds_delta_ctx_dots(delta, s, d, n);
            if (rc)
                return rc;
        }
        rc = ds_actor_slot(delta, actor, &dax);
        if (!rc)
            rc = ds_ctx_add(delta, dax, ctr);
        if (!rc)
            rc = ds_insert(delta, e, len, h, &didx);
        if (rc)
            return rc;
        delta->entries[didx].ax = dax;
        delta->entries[didx].ctr = ctr;
    }
    if (found < 0) {
        rc = ds_insert(s, e, len, h, &idx);
        if (rc)
            return rc;
    } else {
        idx = (uint32_t)found;
        ds_release_multi(s, &s->entries[idx]);
    }
    s->entries[idx].ax = ax;
    s->entries[idx].ctr = ctr;
    rc = ds_ctx_add(s, ax, ctr);
    if (idx_out)
        *idx_out = idx;
    return rc;
}

int ds_remove(dotset *s, const uint8_t *e, size_t len, dotset *delta)
{
    int64_t found = ds_find(s, e, len, ds_hash(e, len));
    if (found < 0)
        return ST_OK;
    if (delta) {
        ds_dot one;
        uint32_t n;
        const ds_dot *d = ds_dots(s, &s->entries[found], &one, &n);
        int rc = ds_delta_ctx_dots(delta, s, d, n);
        if (rc)
            return rc;
    }
    ds_remove_at(s, (uint32_t)found);
    return ST_OK;
}

int ds_clear(dotset *s, dotset *delta)
{
    if (delta) {
        int rc = ds_ctx_join(delta, s);
        if (rc)
            return rc;
    }
    ds_remove_all(s);
    return ST_OK;
}

/* ---- join ----------------------------------------------------------------- */

/* The surviving dots of one element: (a ∩ b) ∪ (a \ cb) ∪ (b \ ca). `a` uses
 * dst slots; `b` uses src slots mapped through `map`. */
static uint32_t join_dots(const dotset *dst, const ds_dot *a, uint32_t na, const dotset *src,
                          const uint32_t *map, const uint32_t *rmap, const ds_dot *b, uint32_t nb,
                          ds_dot *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < na; i++) {
        bool in_b = false;
        for (uint32_t j = 0; j < nb; j++)
            if (map[b[j].ax] == a[i].ax && b[j].ctr == a[i].ctr)
                in_b = true;
        uint32_t sax = rmap[a[i].ax];
        bool seen_by_src = sax != UINT32_MAX && ds_ctx_has(src, sax, a[i].ctr);
        if (in_b || !seen_by_src)
            out[n++] = a[i];
    }
    for (uint32_t j = 0; j < nb; j++) {
        uint32_t dax = map[b[j].ax];
        bool in_a = false;
        for (uint32_t i = 0; i < na; i++)
            if (a[i].ax == dax && a[i].ctr == b[j].ctr)
                in_a = true;
        if (!in_a && !ds_ctx_has(dst, dax, b[j].ctr)) {
            out[n].ax = dax;
            out[n].ctr = b[j].ctr;
            n++;
        }
    }
    return n;
}

int ds_dot_cmp(const void *x, const void *y)
{
    const ds_dot *a = x, *b = y;
    if (a->ax != b->ax)
        return a->ax < b->ax ? -1 : 1;
    return a->ctr < b->ctr ? -1 : a->ctr > b->ctr ? 1 : 0;
}

int ds_merge(dotset *dst, const dotset *src)
{
    uint32_t *map = NULL, *rmap = NULL;
    ds_dot *buf = NULL;
    uint8_t *met = NULL;
    uint32_t bufcap = 0;
    int rc = ds_map_actors(dst, src, &map);
    if (rc)
        return rc;
    rmap = alloc_array(dst->nactors ? dst->nactors : 1, sizeof *rmap);
    if (!rmap) {
        rc = error_oom();
        goto done;
    }
    for (uint32_t i = 0; i < dst->nactors; i++)
        rmap[i] = UINT32_MAX;
    for (uint32_t i = 0; i < src->nactors; i++)
        rmap[map[i]] = i;
    bool vals = dst->vals != NULL;

    /* The context must stay dst's own until every element is decided, so the
     * union of contexts comes last. The dst-side pass marks which src
     * entries it met, so the src-side pass needs no second lookup. */
    met = calloc(src->n ? src->n : 1, 1);
    if (!met) {
        rc = error_oom();
        goto done;
    }
    for (uint32_t i = 0; i < dst->n;) {
        ds_entry *e = &dst->entries[i];
        int64_t j = ds_find(src, ds_elem(dst, e), e->len, e->hash);
        ds_dot onea, oneb;
        uint32_t na, nb = 0;
        const ds_dot *a = ds_dots(dst, e, &onea, &na);
        const ds_dot *b = NULL;
        if (j >= 0) {
            met[j] = 1;
            b = ds_dots(src, &src->entries[j], &oneb, &nb);
        }
        /* fast path: one identical dot (and so the same value) on both sides */
        if (na == 1 && nb == 1 && map[b[0].ax] == a[0].ax && b[0].ctr == a[0].ctr) {
            /* ... unless the other side's value was pruned (crdt_prune
             * rewrites a dot's value in place; the pruned form wins) */
            if (vals && crdt_has_prune_markers(src->vals[j])) {
                rc = ds_val_join(&dst->vals[i], src->vals[j]);
                if (rc)
                    goto done;
            }
            i++;
            continue;
        }
        if (vals) {
            bool removed;
            if (na == 1 && nb == 0 &&
                (rmap[a[0].ax] == UINT32_MAX || !ds_ctx_has(src, rmap[a[0].ax], a[0].ctr))) {
                i++; /* unseen by src: unchanged */
                continue;
            }
            rc = ds_join_map_entry(dst, i, a, na, src, j, b, nb, map, rmap, &removed);
            if (rc)
                goto done;
            if (removed)
                ds_remove_at(dst, i);
            else
                i++;
            continue;
        }
        if (na + nb > bufcap) {
            bufcap = na + nb + 8;
            ds_dot *nbuf = realloc_array(buf, bufcap, sizeof *buf);
            if (!nbuf) {
                rc = error_oom();
                goto done;
            }
            buf = nbuf;
        }
        uint32_t n = join_dots(dst, a, na, src, map, rmap, b, nb, buf);
        if (n == 0) {
            ds_remove_at(dst, i);
            continue; /* the last entry moved into i */
        }
        if (n > 1)
            qsort(buf, n, sizeof *buf, ds_dot_cmp);
        rc = ds_set_dots(dst, i, buf, n);
        if (rc)
            goto done;
        i++;
    }
    for (uint32_t j = 0; j < src->n; j++) {
        if (met[j])
            continue;
        const ds_entry *e = &src->entries[j];
        ds_dot oneb;
        uint32_t nb;
        const ds_dot *b = ds_dots(src, e, &oneb, &nb);
        if (nb + 1 > bufcap) {
            bufcap = nb + 8;
            ds_dot *nbuf = realloc_array(buf, bufcap, sizeof *buf);
            if (!nbuf) {
                rc = error_oom();
                goto done;
            }
            buf = nbuf;
        }
        uint32_t n = 0;
        for (uint32_t k = 0; k < nb; k++) {
            uint32_t dax = map[b[k].ax];
            if (!ds_ctx_has(dst, dax, b[k].ctr)) {
                buf[n].ax = dax;
                buf[n].ctr = b[k].ctr;
                n++;
            }
        }
        if (n == 0)
            continue;
        uint32_t idx;
        rc = ds_insert(dst, ds_elem(src, e), e->len, e->hash, &idx);
        if (rc)
            goto done;
        if (vals) {
            bool removed;
            rc = ds_join_map_entry(dst, idx, NULL, 0, src, j, b, nb, map, rmap, &removed);
        } else {
            if (n > 1)
                qsort(buf, n, sizeof *buf, ds_dot_cmp);
            rc = ds_set_dots(dst, idx, buf, n);
        }
        if (rc) {
            ds_remove_at(dst, idx);
            goto done;
        }
    }
    free(met);
    met = NULL;
    for (uint32_t i = 0; i < src->nactors; i++)
        if (src->vv[i] > dst->vv[map[i]])
            dst->vv[map[i]] = src->vv[i];
    for (uint32_t i = 0; i < src->ncloud && !rc; i++)
        rc = ds_ctx_add(dst, map[src->cloud[i].ax], src->cloud[i].ctr);
    ds_compact_ctx(dst);
done:
    free(met);
    free(buf);
    free(map);
    free(rmap);
    return rc;
}
