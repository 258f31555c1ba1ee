/*
 * The dot store's table (see dotset.h for the layout and the papers it
 * follows): the element index and arena, the dots of each entry, clone and
 * the causal mutators. The causal context lives in dotset_ctx.c, the join in
 * dotset_join.c, map values in dotset_map.c and the codec in dotset_codec.c.
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

/* Frees a pool slot's dots and values; the slot itself stays. */
static void multi_free(ds_multi *m)
{
    if (m->vals) {
        for (uint32_t k = 0; k < m->n; k++)
            crdt_free(m->vals[k]);
        free(m->vals);
        m->vals = NULL;
    }
    free(m->dots);
    m->dots = NULL;
}

void ds_free(dotset *s)
{
    if (ds_has_vals(s) && s->vals != (crdt **)s) {
        for (uint32_t i = 0; i < s->n; i++)
            crdt_free(s->vals[i]);
        free(s->vals);
    }
    for (uint32_t i = 0; i < s->nmulti; i++)
        multi_free(&s->multi[i]);
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
    /* keyed: elements come from the network (collision floods); every set
     * of the process shares the key, so merges reuse stored hashes */
    return (uint32_t)hash_keyed(e, len);
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
    multi_free(m);
    m->n = 0;
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
        multi_free(m);
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

int ds_delta_add(dotset *delta, const dotset *s, int64_t found, const uint8_t *e, size_t len,
                 uint32_t hash, uint64_t actor, uint64_t ctr, uint32_t *didx)
{
    int rc;
    if (found >= 0) {
        ds_dot one;
        uint32_t n;
        const ds_dot *d = ds_dots(s, &s->entries[found], &one, &n);
        rc = ds_delta_ctx_dots(delta, s, d, n);
        if (rc)
            return rc;
    }
    uint32_t dax;
    rc = ds_actor_slot(delta, actor, &dax);
    if (!rc)
        rc = ds_ctx_add(delta, dax, ctr);
    if (!rc)
        rc = ds_insert(delta, e, len, hash, didx);
    if (rc)
        return rc;
    delta->entries[*didx].ax = dax;
    delta->entries[*didx].ctr = ctr;
    return ST_OK;
}

int ds_write_begin(dotset *s, const uint8_t *e, size_t len, uint64_t actor, dotset *delta,
                   ds_write *w, uint32_t *didx)
{
    int rc = ds_actor_slot(s, actor, &w->ax);
    if (rc)
        return rc;
    w->ctr = ds_next_ctr(s, w->ax);
    w->hash = ds_hash(e, len);
    w->found = ds_find(s, e, len, w->hash);
    return delta ? ds_delta_add(delta, s, w->found, e, len, w->hash, actor, w->ctr, didx) : ST_OK;
}

int ds_add(dotset *s, const uint8_t *e, size_t len, uint64_t actor, dotset *delta,
           uint32_t *idx_out)
{
    ds_write w;
    uint32_t didx = 0, idx = 0;
    int rc = ds_write_begin(s, e, len, actor, delta, &w, &didx);
    if (rc == ST_OK)
        rc = ds_entry_for(s, w.found, e, len, w.hash, &idx);
    if (rc)
        return rc;
    if (w.found >= 0)
        ds_release_multi(s, &s->entries[idx]);
    s->entries[idx].ax = w.ax;
    s->entries[idx].ctr = w.ctr;
    rc = ds_ctx_add(s, w.ax, w.ctr);
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
