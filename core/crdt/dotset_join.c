/*
 * The join of two dot sets (the delta-state join of Almeida, Shoker and
 * Baquero): an element keeps the dots both sides have plus those the other
 * side has not seen; maps hand each key to ds_join_map_entry. The context
 * stays dst's own until every element is decided, so the union of contexts
 * comes last.
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/dotset.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

/* The surviving dots of one element: (a ∩ b) ∪ (a \ cb) ∪ (b \ ca). `a` uses
 * dst slots; `b` uses src slots mapped through `map`. */
static uint32_t join_dots(const dotset *dst, const ds_dot *a, uint32_t na, const dotset *src,
                          const uint32_t *map, const uint32_t *rmap, const ds_dot *b, uint32_t nb,
                          ds_dot *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < na; i++) {
        bool in_b = ds_dot_index(b, nb, map, a[i].ax, a[i].ctr) != UINT32_MAX;
        uint32_t sax = rmap[a[i].ax];
        bool seen_by_src = sax != UINT32_MAX && ds_ctx_has(src, sax, a[i].ctr);
        if (in_b || !seen_by_src)
            out[n++] = a[i];
    }
    for (uint32_t j = 0; j < nb; j++) {
        uint32_t dax = map[b[j].ax];
        bool in_a = ds_dot_index(a, na, NULL, dax, b[j].ctr) != UINT32_MAX;
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
    rc = ds_ctx_join_mapped(dst, src, map);
done:
    free(met);
    free(buf);
    free(map);
    free(rmap);
    return rc;
}
