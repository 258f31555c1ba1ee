/*
 * The dot store's canonical binary form and bytewise element order (the
 * store itself is in dotset.c).
 *
 * Layout of a body: [actor count][actor u64, contiguous counter]* sorted by
 * actor; [cloud count][(actor index, counter)]* sorted; [element count]
 * then per element in bytewise order: [length][bytes] and, for causal
 * types, [dot count][(actor index, counter)]* sorted, each dot followed by
 * its value when the set is a map. Integers are minimal LEB128 varints.
 * Only what a context holds is written (no actor without dots), and the
 * decoder rejects anything another state would not have produced, so one
 * state has one encoding and crdt_digest can compare states across nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "crdt/dotset.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

static _Thread_local const dotset *sort_set;
static int sort_cmp(const void *x, const void *y)
{
    const ds_entry *a = &sort_set->entries[*(const uint32_t *)x];
    const ds_entry *b = &sort_set->entries[*(const uint32_t *)y];
    return ds_elem_cmp(ds_elem(sort_set, a), a->len, ds_elem(sort_set, b), b->len);
}

uint32_t *ds_sorted(const dotset *s)
{
    uint32_t *order = alloc_array(s->n ? s->n : 1, sizeof *order);
    if (!order)
        return NULL;
    for (uint32_t i = 0; i < s->n; i++)
        order[i] = i;
    /* qsort has no context argument in C11, hence the thread-local */
    sort_set = s;
    qsort(order, s->n, sizeof *order, sort_cmp);
    sort_set = NULL;
    return order;
}

typedef struct edot {
    uint32_t ax; /* the encoded actor index */
    uint32_t k;  /* position in the entry's own dot list */
    uint64_t ctr;
} edot;

static int enc_dot_cmp(const void *x, const void *y)
{
    const edot *a = x, *b = y;
    if (a->ax != b->ax)
        return a->ax < b->ax ? -1 : 1;
    return a->ctr < b->ctr ? -1 : a->ctr > b->ctr ? 1 : 0;
}

static _Thread_local const uint64_t *actor_ids;
static int actor_cmp(const void *x, const void *y)
{
    uint64_t a = actor_ids[*(const uint32_t *)x], b = actor_ids[*(const uint32_t *)y];
    return a < b ? -1 : a > b;
}

int ds_encode(const dotset *s, bool dots, bytes *out, int (*put_val)(const crdt *, bytes *))
{
    uint32_t *enc = NULL, *used = NULL, *order = NULL;
    edot *tmp = NULL;
    uint32_t tmpcap = 0;
    int rc = ST_OK;
    if (dots) {
        enc = alloc_array(s->nactors + 1, sizeof *enc);
        used = alloc_array(s->nactors + 1, sizeof *used);
        if (!enc || !used) {
            rc = error_oom();
            goto done;
        }
        for (uint32_t i = 0; i < s->nactors; i++)
            enc[i] = UINT32_MAX;
        for (uint32_t i = 0; i < s->ncloud; i++)
            enc[s->cloud[i].ax] = 0;
        uint32_t nused = 0;
        for (uint32_t i = 0; i < s->nactors; i++)
            if (s->vv[i] || enc[i] == 0)
                used[nused++] = i;
        actor_ids = s->actors;
        qsort(used, nused, sizeof *used, actor_cmp);
        bytes_put_varint(out, nused);
        for (uint32_t i = 0; i < nused; i++) {
            enc[used[i]] = i;
            bytes_put_u64(out, s->actors[used[i]]);
            bytes_put_varint(out, s->vv[used[i]]);
        }
        bytes_put_varint(out, s->ncloud);
        for (uint32_t i = 0; i < s->ncloud; i++) {
            bytes_put_varint(out, enc[s->cloud[i].ax]);
            bytes_put_varint(out, s->cloud[i].ctr);
        }
    }
    order = ds_sorted(s);
    if (!order) {
        rc = error_oom();
        goto done;
    }
    bytes_put_varint(out, s->n);
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t i = order[k];
        const ds_entry *e = &s->entries[i];
        bytes_put_blob(out, ds_elem(s, e), e->len);
        if (dots) {
            ds_dot one;
            uint32_t n;
            const ds_dot *d = ds_dots(s, e, &one, &n);
            bytes_put_varint(out, n);
            if (n > tmpcap) {
                tmpcap = n;
                edot *t = realloc_array(tmp, tmpcap, sizeof *tmp);
                if (!t) {
                    rc = error_oom();
                    goto done;
                }
                tmp = t;
            }
            for (uint32_t j = 0; j < n; j++) {
                tmp[j].ax = enc[d[j].ax];
                tmp[j].ctr = d[j].ctr;
                tmp[j].k = j;
            }
            if (n > 1)
                qsort(tmp, n, sizeof *tmp, enc_dot_cmp);
            for (uint32_t j = 0; j < n; j++) {
                bytes_put_varint(out, tmp[j].ax);
                bytes_put_varint(out, tmp[j].ctr);
                if (put_val) {
                    rc = put_val(ds_dot_val(s, i, tmp[j].k), out);
                    if (rc)
                        goto done;
                }
            }
        }
    }
    if (out->failed)
        rc = error_oom();
done:
    free(enc);
    free(used);
    free(order);
    free(tmp);
    return rc;
}

int crdt_truncated(void)
{
    return error_set(ST_ECORRUPT, "crdt value is truncated or malformed");
}

int ds_decode(dotset *s, reader *r, bool dots, const limits *lim,
              int (*get_val)(crdt **, reader *, void *), void *arg)
{
    int rc = ST_OK;
    uint8_t *used = NULL;
    if (dots) {
        uint64_t na = crdt_varint(r);
        if (!reader_ok(r))
            return crdt_truncated();
        if (na > reader_left(r) / 9)
            return error_set(ST_ECORRUPT, "actor count %llu exceeds the input",
                             (unsigned long long)na);
        if (na > lim->max_elements)
            return error_set(ST_ELIMIT, "%llu actors exceed the limit of %llu",
                             (unsigned long long)na, (unsigned long long)lim->max_elements);
        used = calloc(na + 1, 1);
        if (!used)
            return error_oom();
        for (uint64_t i = 0; i < na; i++) {
            uint64_t actor = reader_u64(r);
            uint64_t v = crdt_varint(r);
            if (!reader_ok(r)) {
                rc = crdt_truncated();
                goto done;
            }
            if (i && actor <= s->actors[i - 1]) {
                rc = error_set(ST_ECORRUPT, "actors are not strictly ascending");
                goto done;
            }
            if (i == 0) {
                s->actors = alloc_array(na, sizeof *s->actors);
                s->vv = alloc_array(na, sizeof *s->vv);
                if (!s->actors || !s->vv) {
                    rc = error_oom();
                    goto done;
                }
                s->capactors = (uint32_t)na;
            }
            /* strictly ascending, so every actor takes the next slot */
            s->actors[i] = actor;
            s->vv[i] = v;
            s->nactors = (uint32_t)i + 1;
            used[i] = v != 0;
        }
        uint64_t nc = crdt_varint(r);
        if (!reader_ok(r)) {
            rc = crdt_truncated();
            goto done;
        }
        if (nc > reader_left(r) / 2) {
            rc = error_set(ST_ECORRUPT, "dot cloud count exceeds the input");
            goto done;
        }
        if (nc > lim->max_elements) {
            rc =
                error_set(ST_ELIMIT, "dot cloud of %llu exceeds the limit", (unsigned long long)nc);
            goto done;
        }
        if (nc) {
            s->cloud = alloc_array(nc, sizeof *s->cloud);
            if (!s->cloud) {
                rc = error_oom();
                goto done;
            }
            s->capcloud = (uint32_t)nc;
        }
        for (uint64_t i = 0; i < nc; i++) {
            uint64_t ax = crdt_varint(r), ctr = crdt_varint(r);
            if (!reader_ok(r)) {
                rc = crdt_truncated();
                goto done;
            }
            if (ax >= na || ctr <= s->vv[ax] + 1 ||
                (i && (ax < s->cloud[i - 1].ax ||
                       (ax == s->cloud[i - 1].ax && ctr <= s->cloud[i - 1].ctr)))) {
                rc = error_set(ST_ECORRUPT, "dot cloud is not canonical");
                goto done;
            }
            s->cloud[i].ax = (uint32_t)ax;
            s->cloud[i].ctr = ctr;
            s->ncloud = (uint32_t)i + 1;
            used[ax] = 1;
        }
        for (uint64_t i = 0; i < na; i++) {
            if (!used[i]) {
                rc = error_set(ST_ECORRUPT, "actor without dots in the context");
                goto done;
            }
        }
    }
    uint64_t n = crdt_varint(r);
    if (!reader_ok(r)) {
        rc = crdt_truncated();
        goto done;
    }
    if (n > lim->max_elements) {
        rc = error_set(ST_ELIMIT, "%llu elements exceed the limit of %llu", (unsigned long long)n,
                       (unsigned long long)lim->max_elements);
        goto done;
    }
    /* an element takes at least a length byte, and with dots a dot count
     * and one dot: bound the allocation by the input before making it */
    if (n > reader_left(r) / (dots ? 4 : 1)) {
        rc = error_set(ST_ECORRUPT, "element count %llu exceeds the input", (unsigned long long)n);
        goto done;
    }
    if (n) {
        rc = ds_reserve(s, (uint32_t)n);
        if (rc)
            goto done;
    }
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t len = crdt_varint(r);
        if (reader_ok(r) && len > lim->max_value_bytes) {
            rc = error_set(ST_ELIMIT, "element of %llu bytes exceeds the limit of %llu",
                           (unsigned long long)len, (unsigned long long)lim->max_value_bytes);
            goto done;
        }
        const uint8_t *e = reader_take(r, (size_t)len);
        if (!reader_ok(r)) {
            rc = crdt_truncated();
            goto done;
        }
        if (k && ds_elem_cmp(prev, prev_len, e, (size_t)len) >= 0) {
            rc = error_set(ST_ECORRUPT, "elements are not strictly ascending");
            goto done;
        }
        prev = e;
        prev_len = (size_t)len;
        uint32_t idx;
        rc = ds_insert(s, e, (size_t)len, ds_hash(e, (size_t)len), &idx);
        if (rc)
            goto done;
        if (dots) {
            uint64_t nd = crdt_varint(r);
            if (!reader_ok(r)) {
                rc = crdt_truncated();
                goto done;
            }
            if (nd == 0 || nd > reader_left(r) / 2 || nd > s->nactors * 64ull + 64) {
                rc = error_set(ST_ECORRUPT, "element has a bad dot count");
                goto done;
            }
            ds_dot stackd[4];
            crdt *stackv[4];
            ds_dot *d = nd <= 4 ? stackd : alloc_array(nd, sizeof *d);
            crdt **v = nd <= 4 ? stackv : alloc_array(nd, sizeof *v);
            uint64_t nv = 0;
            if (!d || !v)
                rc = error_oom();
            for (uint64_t j = 0; j < nd && rc == ST_OK; j++) {
                uint64_t ax = crdt_varint(r), ctr = crdt_varint(r);
                if (!reader_ok(r))
                    rc = crdt_truncated();
                else if (ax >= s->nactors || ctr == 0 || !ds_ctx_has(s, (uint32_t)ax, ctr))
                    rc = error_set(ST_ECORRUPT, "element dot outside the causal context");
                else if (j && (ax < d[j - 1].ax || (ax == d[j - 1].ax && ctr <= d[j - 1].ctr)))
                    rc = error_set(ST_ECORRUPT, "element dots are not canonical");
                d[j].ax = (uint32_t)ax;
                d[j].ctr = ctr;
                if (!rc && get_val) {
                    rc = get_val(&v[j], r, arg);
                    if (!rc)
                        nv++;
                }
            }
            if (!rc && get_val) {
                rc = ds_set_dot_vals(s, idx, d, v, (uint32_t)nd);
                nv = 0; /* owned by the entry now, or freed */
            } else if (!rc) {
                rc = ds_set_dots(s, idx, d, (uint32_t)nd);
            }
            for (uint64_t j = 0; j < nv; j++)
                crdt_free(v[j]);
            if (d && d != stackd)
                free(d);
            if (v && v != stackv)
                free(v);
            if (rc)
                goto done;
        } else if (get_val) {
            rc = error_set(ST_ECORRUPT, "map entries need dots");
            goto done;
        }
    }
done:
    free(used);
    return rc;
}
