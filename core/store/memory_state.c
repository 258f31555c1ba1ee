/*
 * The memory engine's state records: one sorted array of (key, revision,
 * data), found by binary search. A bounded range is a binary search for
 * its near end and a walk; a batch makes every copy and array growth it
 * needs, and checks every expected revision, before it changes anything,
 * so it is all or nothing even when memory runs out.
 */
#include <stdlib.h>
#include <string.h>

#include "store/memory_internal.h"
#include "store/state_generic.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

static size_t rec_search(mem_backend *m, const uint8_t *key, size_t len, int *found)
{
    size_t lo = 0, hi = m->nrecs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (store_key_cmp(m->recs[mid].key, m->recs[mid].key_len, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < m->nrecs && store_key_cmp(m->recs[lo].key, m->recs[lo].key_len, key, len) == 0;
    return lo;
}

int mem_state_upsert(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected,
                     const uint8_t *state, size_t state_len, uint64_t *new_revision)
{
    mem_backend *m = (mem_backend *)b;
    int found;
    size_t i = rec_search(m, key, key_len, &found);
    uint64_t current = found ? m->recs[i].revision : 0;
    if (expected != STATE_ANY_REVISION && expected != current)
        return state_error_conflict(key, key_len, expected, current);
    uint8_t *copy = mem_dup_bytes(state, state_len);
    if (!copy)
        return error_oom();
    if (found) {
        free(m->recs[i].data);
        m->recs[i].data = copy;
        m->recs[i].len = state_len;
        m->recs[i].revision = current + 1;
    } else {
        uint8_t *kc = mem_dup_bytes(key, key_len);
        if (!kc) {
            free(copy);
            return error_oom();
        }
        if (!array_reserve(&m->recs, &m->cap_recs, m->nrecs + 1, sizeof(*m->recs))) {
            free(copy);
            free(kc);
            return error_oom();
        }
        memmove(m->recs + i + 1, m->recs + i, (m->nrecs - i) * sizeof(*m->recs));
        m->recs[i] = (mem_rec){kc, key_len, 1, copy, state_len};
        m->nrecs++;
    }
    if (new_revision)
        *new_revision = current + 1;
    return ST_OK;
}

int mem_state_get(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *revision,
                  bytes *state)
{
    mem_backend *m = (mem_backend *)b;
    int found;
    size_t i = rec_search(m, key, key_len, &found);
    if (!found)
        return state_error_not_found(key, key_len);
    if (state) {
        bytes_reset(state);
        bytes_put(state, m->recs[i].data, m->recs[i].len);
        if (state->failed)
            return error_oom();
    }
    if (revision)
        *revision = m->recs[i].revision;
    return ST_OK;
}

int mem_state_delete(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected)
{
    mem_backend *m = (mem_backend *)b;
    int found;
    size_t i = rec_search(m, key, key_len, &found);
    if (!found)
        return state_error_not_found(key, key_len);
    if (expected != STATE_ANY_REVISION && expected != m->recs[i].revision)
        return state_error_conflict(key, key_len, expected, m->recs[i].revision);
    free(m->recs[i].key);
    free(m->recs[i].data);
    memmove(m->recs + i, m->recs + i + 1, (m->nrecs - i - 1) * sizeof(*m->recs));
    m->nrecs--;
    return ST_OK;
}

int mem_state_scan(store_backend *b, const uint8_t *prefix, size_t prefix_len, state_scan_fn fn,
                   void *ctx)
{
    mem_backend *m = (mem_backend *)b;
    int found;
    size_t i = prefix_len ? rec_search(m, prefix, prefix_len, &found) : 0;
    for (; i < m->nrecs; i++) {
        mem_rec *r = &m->recs[i];
        if (r->key_len < prefix_len || (prefix_len && memcmp(r->key, prefix, prefix_len) != 0))
            break;
        int rc = fn(ctx, r->key, r->key_len, r->revision, r->data, r->len);
        if (rc)
            return rc;
    }
    return ST_OK;
}

int mem_state_range(store_backend *b, const uint8_t *from, size_t from_len, int64_t count,
                    state_scan_fn fn, void *ctx)
{
    mem_backend *m = (mem_backend *)b;
    int found = 0;
    if (count > 0) {
        size_t i = from_len ? rec_search(m, from, from_len, &found) : 0;
        for (int64_t sent = 0; i < m->nrecs && sent < count; i++, sent++) {
            mem_rec *r = &m->recs[i];
            int rc = fn(ctx, r->key, r->key_len, r->revision, r->data, r->len);
            if (rc)
                return rc;
        }
    } else if (count < 0) {
        size_t end = m->nrecs; /* one past the first record to visit */
        if (from_len) {
            end = rec_search(m, from, from_len, &found);
            if (found)
                end++;
        }
        uint64_t want = (uint64_t)(-(count + 1)) + 1; /* -count, without overflow */
        for (uint64_t sent = 0; end > 0 && sent < want; end--, sent++) {
            mem_rec *r = &m->recs[end - 1];
            int rc = fn(ctx, r->key, r->key_len, r->revision, r->data, r->len);
            if (rc)
                return rc;
        }
    }
    return ST_OK;
}

int mem_state_purge(store_backend *b)
{
    mem_backend *m = (mem_backend *)b;
    for (size_t i = 0; i < m->nrecs; i++) {
        free(m->recs[i].key);
        free(m->recs[i].data);
    }
    m->nrecs = 0;
    return ST_OK;
}

/* The index of the first record within r going forward (r->reverse: one
 * past the last record within r). */
static size_t near_end(mem_backend *m, const state_bounds *r)
{
    int found = 0;
    if (!r->reverse) {
        if (!r->start_len)
            return 0;
        size_t i = rec_search(m, r->start, r->start_len, &found);
        return found && r->start_exclusive ? i + 1 : i;
    }
    if (!r->end_len)
        return m->nrecs;
    size_t i = rec_search(m, r->end, r->end_len, &found);
    return found && r->end_inclusive ? i + 1 : i;
}

int mem_state_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx)
{
    mem_backend *m = (mem_backend *)b;
    size_t i = near_end(m, r);
    for (uint64_t sent = 0; !r->limit || sent < r->limit; sent++) {
        if (r->reverse ? i == 0 : i >= m->nrecs)
            break;
        mem_rec *rec = &m->recs[r->reverse ? --i : i++];
        if (state_bounds_past(r, rec->key, rec->key_len))
            break;
        int rc = fn(ctx, rec->key, rec->key_len, rec->revision, rec->data, rec->len);
        if (rc)
            return rc;
    }
    return ST_OK;
}

int mem_state_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    mem_backend *m = (mem_backend *)b;
    size_t inserts = 0;
    for (size_t i = 0; i < n; i++) {
        int found;
        size_t at = rec_search(m, ops[i].key, ops[i].key_len, &found);
        uint64_t current = found ? m->recs[at].revision : 0;
        uint64_t want = ops[i].expected_revision;
        if (want != STATE_ANY_REVISION &&
            (want != current || (ops[i].kind == STATE_OP_DELETE && !found)))
            return state_error_batch_conflict(i, &ops[i], current);
        if (ops[i].kind == STATE_OP_UPSERT && !found)
            inserts++;
    }
    /* Everything that can fail, before the first change. */
    uint8_t **copies = alloc_array(n ? n : 1, sizeof(*copies));
    uint8_t **keys = alloc_array(n ? n : 1, sizeof(*keys));
    int rc = copies && keys ? ST_OK : error_oom();
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        copies[i] = keys[i] = NULL;
        if (ops[i].kind != STATE_OP_UPSERT)
            continue;
        copies[i] = mem_dup_bytes(ops[i].state, ops[i].state_len);
        keys[i] = mem_dup_bytes(ops[i].key, ops[i].key_len);
        if (!copies[i] || !keys[i]) {
            free(copies[i]);
            free(keys[i]);
            copies[i] = keys[i] = NULL;
            for (size_t j = 0; j < i; j++) {
                free(copies[j]);
                free(keys[j]);
            }
            rc = error_oom();
        }
    }
    if (rc == ST_OK &&
        !array_reserve(&m->recs, &m->cap_recs, m->nrecs + inserts, sizeof(*m->recs))) {
        for (size_t j = 0; j < n; j++) {
            free(copies[j]);
            free(keys[j]);
        }
        rc = error_oom();
    }
    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        int found;
        size_t at = rec_search(m, ops[i].key, ops[i].key_len, &found);
        uint64_t rev = 0;
        if (ops[i].kind == STATE_OP_DELETE) {
            if (found) {
                free(m->recs[at].key);
                free(m->recs[at].data);
                memmove(m->recs + at, m->recs + at + 1, (m->nrecs - at - 1) * sizeof(*m->recs));
                m->nrecs--;
            }
        } else if (found) {
            free(keys[i]);
            free(m->recs[at].data);
            m->recs[at].data = copies[i];
            m->recs[at].len = ops[i].state_len;
            rev = ++m->recs[at].revision;
        } else {
            memmove(m->recs + at + 1, m->recs + at, (m->nrecs - at) * sizeof(*m->recs));
            m->recs[at] = (mem_rec){keys[i], ops[i].key_len, 1, copies[i], ops[i].state_len};
            m->nrecs++;
            rev = 1;
        }
        if (revisions)
            revisions[i] = rev;
    }
    free(copies);
    free(keys);
    return rc;
}

int mem_state_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len)
{
    mem_backend *m = (mem_backend *)b;
    int found;
    size_t first = prefix_len ? rec_search(m, prefix, prefix_len, &found) : 0, last = first;
    while (last < m->nrecs && m->recs[last].key_len >= prefix_len &&
           (!prefix_len || memcmp(m->recs[last].key, prefix, prefix_len) == 0)) {
        free(m->recs[last].key);
        free(m->recs[last].data);
        last++;
    }
    if (last > first) /* an empty store has no array: memmove(NULL, ...) is undefined */
        memmove(m->recs + first, m->recs + last, (m->nrecs - last) * sizeof(*m->recs));
    m->nrecs -= last - first;
    return ST_OK;
}
