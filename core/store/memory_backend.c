/*
 * The memory engine: everything in sorted arrays, nothing on disk.
 *
 * For tests, caches and as the reference the other engines are compared
 * with, so it favours obviously-right over fast: pids and state keys are
 * sorted arrays found by binary search; a pid's events are an array in
 * sequence order (appends go at the end, deletions cut the front). By-tag
 * queries scan every event, which is fine at test sizes.
 *
 * All-or-nothing appends: every copy and every array growth an append
 * needs is made before the first event is linked in.
 */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/memory_internal.h"
#include "store/state_generic.h"
#include "store/tags.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

uint8_t *mem_dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* Index of the first pid >= (pid, len); *found when equal. */
static size_t pid_search(mem_backend *m, const uint8_t *pid, size_t len, int *found)
{
    size_t lo = 0, hi = m->npids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (store_key_cmp(m->pids[mid]->pid, m->pids[mid]->pid_len, pid, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < m->npids && store_key_cmp(m->pids[lo]->pid, m->pids[lo]->pid_len, pid, len) == 0;
    return lo;
}

static mem_pid *pid_find(mem_backend *m, const uint8_t *pid, size_t len)
{
    int found;
    size_t i = pid_search(m, pid, len, &found);
    return found ? m->pids[i] : NULL;
}

static int pid_get_or_add(mem_backend *m, const uint8_t *pid, size_t len, mem_pid **out)
{
    int found;
    size_t i = pid_search(m, pid, len, &found);
    if (found) {
        *out = m->pids[i];
        return ST_OK;
    }
    if (!array_reserve(&m->pids, &m->cap_pids, m->npids + 1, sizeof(*m->pids)))
        return error_oom();
    mem_pid *p = calloc(1, sizeof(*p));
    if (!p || !(p->pid = mem_dup_bytes(pid, len))) {
        free(p);
        return error_oom();
    }
    p->pid_len = len;
    memmove(m->pids + i + 1, m->pids + i, (m->npids - i) * sizeof(*m->pids));
    m->pids[i] = p;
    m->npids++;
    *out = p;
    return ST_OK;
}

/* First event index with seq >= from. */
static size_t event_lower_bound(const mem_pid *p, uint64_t from)
{
    size_t lo = 0, hi = p->nev;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->ev[mid].seq < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int mem_journal_append(store_backend *b, const uint8_t *pid, size_t pid_len,
                              uint64_t expected_seq, const store_event *events, size_t count)
{
    mem_backend *m = (mem_backend *)b;
    mem_pid *existing = pid_find(m, pid, pid_len);
    uint64_t highest = existing ? existing->highest : 0;
    if (highest != expected_seq)
        return error_set(ST_ECONFLICT, "journal '%.*s': expected sequence %llu, found %llu",
                         error_key_len(pid_len), (const char *)pid,
                         (unsigned long long)expected_seq, (unsigned long long)highest);
    int rc = ST_OK;
    mem_event *copies = alloc_array(count, sizeof(*copies));
    size_t made = 0;
    if (!copies)
        return error_oom();
    for (; made < count; made++) {
        const store_event *e = &events[made];
        mem_event *c = &copies[made];
        c->seq = expected_seq + made + 1;
        c->ts = e->timestamp_ms;
        c->payload_len = e->payload_len;
        c->tags_len = e->tags ? e->tags_len : 0;
        c->payload = mem_dup_bytes(e->payload, e->payload_len);
        c->tags = c->tags_len ? mem_dup_bytes(e->tags, e->tags_len) : NULL;
        if (!c->payload || (c->tags_len && !c->tags)) {
            free(c->payload);
            free(c->tags);
            rc = error_oom();
            goto done;
        }
    }
    mem_pid *p;
    if ((rc = pid_get_or_add(m, pid, pid_len, &p)) != ST_OK)
        goto done;
    if (!array_reserve(&p->ev, &p->cap_ev, p->nev + count, sizeof(*p->ev))) {
        rc = error_oom();
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        copies[i].ordering = ++m->next_ordering;
        p->ev[p->nev++] = copies[i];
    }
    p->highest = expected_seq + count;
    made = 0;
done:
    for (size_t i = 0; i < made; i++) {
        free(copies[i].payload);
        free(copies[i].tags);
    }
    free(copies);
    return rc;
}

static store_event event_view(const mem_pid *p, const mem_event *e)
{
    store_event v = {e->seq,     e->ts,          e->ordering, p->pid,     p->pid_len,
                     e->payload, e->payload_len, e->tags,     e->tags_len};
    return v;
}

static int mem_journal_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                              uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    mem_pid *p = pid_find((mem_backend *)b, pid, pid_len);
    if (!p)
        return ST_OK;
    uint64_t sent = 0;
    for (size_t i = event_lower_bound(p, from); i < p->nev && sent < max; i++, sent++) {
        if (p->ev[i].seq > to)
            break;
        store_event v = event_view(p, &p->ev[i]);
        int rc = fn(ctx, &v);
        if (rc)
            return rc;
    }
    return ST_OK;
}

static int mem_journal_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    mem_pid *p = pid_find((mem_backend *)b, pid, pid_len);
    *out = p ? p->highest : 0;
    return ST_OK;
}

static int mem_journal_delete_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    mem_pid *p = pid_find((mem_backend *)b, pid, pid_len);
    if (!p)
        return ST_OK;
    if (to > p->deleted_to)
        p->deleted_to = to;
    size_t cut = event_lower_bound(p, to == UINT64_MAX ? to : to + 1);
    for (size_t i = 0; i < cut; i++) {
        free(p->ev[i].payload);
        free(p->ev[i].tags);
    }
    memmove(p->ev, p->ev + cut, (p->nev - cut) * sizeof(*p->ev));
    p->nev -= cut;
    return ST_OK;
}

static int mem_journal_deleted_to(store_backend *b, const uint8_t *pid, size_t pid_len,
                                  uint64_t *out)
{
    mem_pid *p = pid_find((mem_backend *)b, pid, pid_len);
    *out = p ? p->deleted_to : 0;
    return ST_OK;
}

static int mem_journal_pids(store_backend *b, const uint8_t *after, size_t after_len,
                            uint64_t limit, store_pid_fn fn, void *ctx)
{
    mem_backend *m = (mem_backend *)b;
    int found = 0;
    size_t i = after_len ? pid_search(m, after, after_len, &found) : 0;
    if (found)
        i++;
    for (uint64_t sent = 0; i < m->npids && sent < limit; i++) {
        if (!m->pids[i]->highest)
            continue; /* only snapshots: not a journal pid, as in the other engines */
        sent++;
        int rc = fn(ctx, m->pids[i]->pid, m->pids[i]->pid_len);
        if (rc)
            return rc;
    }
    return ST_OK;
}

typedef struct tag_hit {
    const mem_pid *p;
    const mem_event *e;
} tag_hit;

static int tag_hit_cmp(const void *a, const void *b)
{
    uint64_t x = ((const tag_hit *)a)->e->ordering, y = ((const tag_hit *)b)->e->ordering;
    return x < y ? -1 : x > y;
}

static int mem_journal_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                              uint64_t max, store_event_fn fn, void *ctx)
{
    mem_backend *m = (mem_backend *)b;
    tag_hit *hits = NULL;
    size_t n = 0, cap = 0;
    int rc = ST_OK;
    for (size_t i = 0; i < m->npids; i++) {
        const mem_pid *p = m->pids[i];
        for (size_t j = 0; j < p->nev; j++) {
            const mem_event *e = &p->ev[j];
            if (e->ordering <= after || !store_tags_contain(e->tags, e->tags_len, tag, tag_len))
                continue;
            if (!array_reserve(&hits, &cap, n + 1, sizeof(*hits))) {
                rc = error_oom();
                goto done;
            }
            hits[n].p = p;
            hits[n].e = e;
            n++;
        }
    }
    if (n)
        qsort(hits, n, sizeof(*hits), tag_hit_cmp);
    for (size_t i = 0; i < n && i < max; i++) {
        store_event v = event_view(hits[i].p, hits[i].e);
        if ((rc = fn(ctx, &v)) != 0)
            goto done;
    }
done:
    free(hits);
    return rc;
}

static int mem_snapshot_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                             uint64_t ts, const uint8_t *data, size_t len)
{
    mem_backend *m = (mem_backend *)b;
    uint8_t *copy = mem_dup_bytes(data, len);
    if (!copy)
        return error_oom();
    mem_pid *p;
    int rc = pid_get_or_add(m, pid, pid_len, &p);
    if (rc != ST_OK) {
        free(copy);
        return rc;
    }
    size_t i = 0;
    while (i < p->nsnap && p->snap[i].seq < seq)
        i++;
    if (i < p->nsnap && p->snap[i].seq == seq) {
        free(p->snap[i].data);
        p->snap[i].data = copy;
        p->snap[i].len = len;
        p->snap[i].ts = ts;
        return ST_OK;
    }
    if (!array_reserve(&p->snap, &p->cap_snap, p->nsnap + 1, sizeof(*p->snap))) {
        free(copy);
        return error_oom();
    }
    memmove(p->snap + i + 1, p->snap + i, (p->nsnap - i) * sizeof(*p->snap));
    p->snap[i] = (mem_snap){seq, ts, copy, len};
    p->nsnap++;
    return ST_OK;
}

static int snap_matches(const mem_snap *s, const snapshot_criteria *c)
{
    return s->seq >= c->min_seq && s->seq <= c->max_seq && s->ts >= c->min_ts && s->ts <= c->max_ts;
}

static int mem_snapshot_find(store_backend *b, const uint8_t *pid, size_t pid_len,
                             const snapshot_criteria *c, store_snapshot_fn fn, void *ctx)
{
    mem_pid *p = pid_find((mem_backend *)b, pid, pid_len);
    int any = 0;
    for (size_t i = p ? p->nsnap : 0; i-- > 0;) {
        if (!snap_matches(&p->snap[i], c))
            continue;
        any = 1;
        store_snapshot v = {p->snap[i].seq, p->snap[i].ts, p->snap[i].data, p->snap[i].len};
        int rc = fn(ctx, &v);
        if (rc)
            return rc;
    }
    if (!any)
        return error_set(ST_ENOTFOUND, "no snapshot of '%.*s' matches", error_key_len(pid_len),
                         (const char *)pid);
    return ST_OK;
}

static int mem_snapshot_delete(store_backend *b, const uint8_t *pid, size_t pid_len,
                               const snapshot_criteria *c)
{
    mem_pid *p = pid_find((mem_backend *)b, pid, pid_len);
    if (!p)
        return ST_OK;
    size_t kept = 0;
    for (size_t i = 0; i < p->nsnap; i++) {
        if (snap_matches(&p->snap[i], c))
            free(p->snap[i].data);
        else
            p->snap[kept++] = p->snap[i];
    }
    p->nsnap = kept;
    return ST_OK;
}

static int mem_snapshot_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    mem_pid *p = pid_find((mem_backend *)b, pid, pid_len);
    if (!p || p->nsnap <= keep)
        return ST_OK;
    size_t drop = p->nsnap - (size_t)keep;
    for (size_t i = 0; i < drop; i++)
        free(p->snap[i].data);
    memmove(p->snap, p->snap + drop, (size_t)keep * sizeof(*p->snap));
    p->nsnap = (size_t)keep;
    return ST_OK;
}

static void mem_close(store_backend *b)
{
    mem_backend *m = (mem_backend *)b;
    if (!m)
        return;
    for (size_t i = 0; i < m->npids; i++) {
        mem_pid *p = m->pids[i];
        for (size_t j = 0; j < p->nev; j++) {
            free(p->ev[j].payload);
            free(p->ev[j].tags);
        }
        for (size_t j = 0; j < p->nsnap; j++)
            free(p->snap[j].data);
        free(p->ev);
        free(p->snap);
        free(p->pid);
        free(p);
    }
    for (size_t i = 0; i < m->nrecs; i++) {
        free(m->recs[i].key);
        free(m->recs[i].data);
    }
    free(m->pids);
    free(m->recs);
    free(m);
}

static const store_backend_ops mem_ops = {
    .name = "memory",
    STORE_BACKEND_OPS_NAMED(mem),
    STORE_BACKEND_NO_TRANSACTIONS,
    .journal_deleted_to = mem_journal_deleted_to,
};

int store_backend_open_memory(store_backend **out)
{
    mem_backend *m = calloc(1, sizeof(*m));
    if (!m)
        return error_oom();
    m->base.ops = &mem_ops;
    *out = &m->base;
    return ST_OK;
}
