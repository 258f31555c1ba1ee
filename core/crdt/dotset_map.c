/*
 * Map values on the dot store: each dot of a key carries the key's whole
 * value as of the update that made the dot (see map.c for why), the key's
 * value is the join of its surviving dots' values, and the join of two maps
 * keeps exactly the surviving (dot, value) pairs of both sides.
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/dotset.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

const crdt *ds_dot_val(const dotset *s, uint32_t i, uint32_t k)
{
    const ds_entry *e = &s->entries[i];
    if (e->ax == DS_MULTI)
        return s->multi[e->ctr].vals[k];
    return s->vals[i];
}

/* Frees what entry i owns (per-dot values and the joined value). */
static void drop_vals(dotset *s, uint32_t i)
{
    ds_release_multi(s, &s->entries[i]);
    crdt_free(s->vals[i]);
    s->vals[i] = NULL;
}

int ds_set_dot_vals(dotset *s, uint32_t i, const ds_dot *dots, crdt **v, uint32_t n)
{
    int rc = ST_OK;
    crdt *joined = NULL;
    crdt **own = NULL;
    if (n > 1) {
        own = alloc_array(n, sizeof *own);
        if (!own) {
            rc = error_oom();
            goto fail;
        }
        rc = crdt_clone(&joined, v[0]);
        for (uint32_t k = 1; k < n && !rc; k++)
            rc = ds_val_join(&joined, v[k]);
        if (rc)
            goto fail;
    }
    drop_vals(s, i);
    if (n == 1) {
        s->entries[i].ax = dots[0].ax;
        s->entries[i].ctr = dots[0].ctr;
        s->vals[i] = v[0];
        return ST_OK;
    }
    rc = ds_set_dots(s, i, dots, n);
    if (rc)
        goto fail;
    memcpy(own, v, n * sizeof *own);
    s->multi[s->entries[i].ctr].vals = own;
    s->vals[i] = joined;
    return ST_OK;
fail:
    free(own);
    crdt_free(joined);
    for (uint32_t k = 0; k < n; k++)
        crdt_free(v[k]);
    return rc;
}

/* The end of a clone loop that stopped at value k - 1: with rc ST_OK hands
 * v[0..n) to entry idx of dst, otherwise frees the k - 1 values cloned
 * before the one that failed and returns rc. */
static int set_cloned_vals(dotset *dst, uint32_t idx, const ds_dot *d, crdt **v, uint32_t n, int rc,
                           uint32_t k)
{
    if (rc == ST_OK)
        return ds_set_dot_vals(dst, idx, d, v, n);
    for (uint32_t j = 0; j + 1 < k; j++)
        crdt_free(v[j]);
    return rc;
}

int ds_clone_dot_vals(dotset *dst, uint32_t idx, const dotset *src, uint32_t i, const ds_dot *d,
                      uint32_t n)
{
    crdt *stackv[4];
    crdt **v = n <= 4 ? stackv : alloc_array(n, sizeof *v);
    if (!v)
        return error_oom();
    int rc = ST_OK;
    uint32_t k = 0;
    for (; k < n && !rc; k++)
        rc = crdt_clone(&v[k], ds_dot_val(src, i, k));
    rc = set_cloned_vals(dst, idx, d, v, n, rc, k);
    if (v != stackv)
        free(v);
    return rc;
}

/* Map values join by crdt_merge; differing types (two replicas created the
 * key concurrently as different types) resolve to the higher type number,
 * so the join stays a join. */
int ds_val_join(crdt **dst, const crdt *src)
{
    crdt_type dt = crdt_type_of(*dst), st = crdt_type_of(src);
    if (dt == st)
        return crdt_merge(*dst, src);
    if (st < dt)
        return ST_OK;
    crdt *c;
    int rc = crdt_clone(&c, src);
    if (rc)
        return rc;
    crdt_free(*dst);
    *dst = c;
    return ST_OK;
}

typedef struct vdot {
    ds_dot d;
    const crdt *val;
    const crdt *other; /* the same dot's value on the other side, if any */
} vdot;

static int vdot_cmp(const void *x, const void *y)
{
    return ds_dot_cmp(&((const vdot *)x)->d, &((const vdot *)y)->d);
}

/* Maps: entry i of dst becomes the surviving dots of both sides, each with
 * its (immutable) value. `b` is NULL when the key is only in dst, `j` < 0
 * when only in src (then i is a fresh entry). */
int ds_join_map_entry(dotset *dst, uint32_t i, const ds_dot *a, uint32_t na, const dotset *src,
                      int64_t j, const ds_dot *b, uint32_t nb, const uint32_t *map,
                      const uint32_t *rmap, bool *removed)
{
    vdot stackv[8];
    uint32_t cap = na + nb;
    vdot *keep = cap <= 8 ? stackv : alloc_array(cap, sizeof *keep);
    crdt *stackc[8];
    crdt **vals = cap <= 8 ? stackc : alloc_array(cap, sizeof *vals);
    int rc = ST_OK;
    if (!keep || !vals) {
        rc = error_oom();
        goto done;
    }
    uint32_t n = 0;
    for (uint32_t k = 0; k < na; k++) {
        uint32_t in_b = ds_dot_index(b, nb, map, a[k].ax, a[k].ctr);
        uint32_t sax = rmap[a[k].ax];
        if (in_b != UINT32_MAX || sax == UINT32_MAX || !ds_ctx_has(src, sax, a[k].ctr)) {
            keep[n].d = a[k];
            keep[n].val = ds_dot_val(dst, i, k);
            keep[n].other = in_b != UINT32_MAX ? ds_dot_val(src, (uint32_t)j, in_b) : NULL;
            n++;
        }
    }
    for (uint32_t m = 0; m < nb; m++) {
        uint32_t dax = map[b[m].ax];
        bool in_a = ds_dot_index(a, na, NULL, dax, b[m].ctr) != UINT32_MAX;
        if (!in_a && !ds_ctx_has(dst, dax, b[m].ctr)) {
            keep[n].d.ax = dax;
            keep[n].d.ctr = b[m].ctr;
            keep[n].val = ds_dot_val(src, (uint32_t)j, m);
            keep[n].other = NULL;
            n++;
        }
    }
    *removed = n == 0;
    if (n == 0)
        goto done;
    qsort(keep, n, sizeof *keep, vdot_cmp);
    ds_dot stackd[8];
    ds_dot *dots = n <= 8 ? stackd : alloc_array(n, sizeof *dots);
    if (!dots) {
        rc = error_oom();
        goto done;
    }
    uint32_t k = 0;
    for (; k < n && !rc; k++) {
        dots[k] = keep[k].d;
        rc = crdt_clone(&vals[k], keep[k].val);
        /* One dot, one value, except that pruning (crdt_prune) rewrites a
         * value in place: the pruned form must win on every replica. */
        if (!rc && keep[k].other && crdt_has_prune_markers(keep[k].other)) {
            rc = ds_val_join(&vals[k], keep[k].other);
            if (rc) {
                crdt_free(vals[k]);
                k++;
                break;
            }
        }
    }
    rc = set_cloned_vals(dst, i, dots, vals, n, rc, k);
    if (dots != stackd)
        free(dots);
done:
    if (keep != stackv)
        free(keep);
    if (vals != stackc)
        free(vals);
    return rc;
}

int ds_map_put(dotset *s, const uint8_t *key, size_t len, uint64_t actor, crdt *val, dotset *delta)
{
    ds_write w;
    uint32_t didx = 0, idx = 0;
    int rc = ds_write_begin(s, key, len, actor, delta, &w, &didx);
    if (rc == ST_OK && delta)
        rc = crdt_clone(&delta->vals[didx], val);
    if (rc == ST_OK)
        rc = ds_entry_for(s, w.found, key, len, w.hash, &idx);
    if (rc)
        goto fail;
    ds_dot d = {w.ax, w.ctr};
    rc = ds_set_dot_vals(s, idx, &d, &val, 1);
    if (rc)
        return rc; /* val already freed */
    return ds_ctx_add(s, w.ax, w.ctr);
fail:
    crdt_free(val);
    return rc;
}
