/*
 * The causal context of a dot set: which dots this replica has seen, kept as
 * a version vector per actor slot plus a sorted "dot cloud" of dots seen out
 * of order (Almeida, Shoker and Baquero's compact causal context). Actors
 * are stored once per set and referred to by slot everywhere else.
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/dotset.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

int ds_actor_slot(dotset *s, uint64_t actor, uint32_t *ax)
{
    for (uint32_t i = s->nactors; i-- > 0;) {
        if (s->actors[i] == actor) {
            *ax = i;
            return ST_OK;
        }
    }
    if (!array_pair_reserve(&s->actors, sizeof *s->actors, &s->vv, sizeof *s->vv, &s->capactors,
                            (size_t)s->nactors + 1))
        return error_oom();
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

bool ds_cloud_has(const dotset *s, uint32_t ax, uint64_t ctr)
{
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
        if (!array_resize(&s->cloud, ncap, sizeof *s->cloud))
            return error_oom();
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

int ds_map_actors(dotset *dst, const dotset *src, uint32_t **map)
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

int ds_ctx_join_mapped(dotset *dst, const dotset *src, const uint32_t *map)
{
    int rc = ST_OK;
    for (uint32_t i = 0; i < src->nactors; i++)
        if (src->vv[i] > dst->vv[map[i]])
            dst->vv[map[i]] = src->vv[i];
    for (uint32_t i = 0; i < src->ncloud && !rc; i++)
        rc = ds_ctx_add(dst, map[src->cloud[i].ax], src->cloud[i].ctr);
    ds_compact_ctx(dst);
    return rc;
}

int ds_ctx_join(dotset *dst, const dotset *src)
{
    uint32_t *map;
    int rc = ds_map_actors(dst, src, &map);
    if (rc)
        return rc;
    rc = ds_ctx_join_mapped(dst, src, map);
    free(map);
    return rc;
}
