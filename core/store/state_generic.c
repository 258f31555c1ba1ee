/*
 * Generic forms of the state building blocks (state_generic.h), written on
 * the members every engine has, and the bounds arithmetic the engines'
 * own forms share.
 *
 * A bounded range walks state_range in pages: forward from the start key,
 * backward from the end key, resuming each page at the last key seen (the
 * old range is inclusive, so that key comes again and is skipped) and
 * stopping at the first key past the far bound, so a page never reads
 * more than one record beyond what it hands out.
 */
#include <stdlib.h>
#include <string.h>

#include "store/state_generic.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

#define GENERIC_PAGE 256

int state_bounds_clip_prefix(state_bounds *b, const uint8_t *prefix, size_t prefix_len,
                             bytes *scratch)
{
    if (!prefix_len)
        return ST_OK;
    if (!b->start_len || store_key_cmp(b->start, b->start_len, prefix, prefix_len) < 0) {
        b->start = prefix;
        b->start_len = prefix_len;
        b->start_exclusive = 0;
    }
    size_t n = prefix_len;
    while (n && prefix[n - 1] == 0xFF)
        n--;
    if (!n)
        return ST_OK; /* every key above the prefix extends it */
    bytes_reset(scratch);
    bytes_put(scratch, prefix, n);
    if (scratch->failed)
        return error_oom();
    scratch->data[n - 1]++;
    if (!b->end_len || store_key_cmp(b->end, b->end_len, scratch->data, n) >= 0) {
        b->end = scratch->data;
        b->end_len = n;
        b->end_inclusive = 0;
    }
    return ST_OK;
}

static int below_start(const state_bounds *r, const uint8_t *k, size_t k_len)
{
    if (!r->start_len)
        return 0;
    int c = store_key_cmp(k, k_len, r->start, r->start_len);
    return c < 0 || (c == 0 && r->start_exclusive);
}

static int above_end(const state_bounds *r, const uint8_t *k, size_t k_len)
{
    if (!r->end_len)
        return 0;
    int c = store_key_cmp(k, k_len, r->end, r->end_len);
    return c > 0 || (c == 0 && !r->end_inclusive);
}

int state_bounds_contain(const state_bounds *r, const uint8_t *k, size_t k_len)
{
    return !below_start(r, k, k_len) && !above_end(r, k, k_len);
}

int state_bounds_past(const state_bounds *r, const uint8_t *k, size_t k_len)
{
    return r->reverse ? below_start(r, k, k_len) : above_end(r, k, k_len);
}

/* ---- bounded range over state_range ------------------------------------ */

typedef struct generic_walk {
    const state_bounds *r;
    state_scan_fn fn;
    void *ctx;
    bytes resume; /* the last key seen: the next page starts there */
    int have_resume;
    uint64_t seen; /* records the engine visited in this page */
    uint64_t sent; /* records handed out in all */
    int finished;  /* past the far bound, or the limit reached */
    int stopped;   /* fn's non-zero return */
} generic_walk;

static int walk_one(void *c, const uint8_t *key, size_t key_len, uint64_t revision,
                    const uint8_t *state, size_t state_len)
{
    generic_walk *w = c;
    w->seen++;
    if (w->have_resume && store_key_cmp(key, key_len, w->resume.data, w->resume.len) == 0)
        return 0;
    bytes_reset(&w->resume);
    bytes_put(&w->resume, key, key_len);
    if (w->resume.failed)
        return w->stopped = error_oom();
    w->have_resume = 1;
    if (state_bounds_past(w->r, key, key_len)) {
        w->finished = 1;
        return 1;
    }
    if (!state_bounds_contain(w->r, key, key_len))
        return 0; /* the near bound, exclusive */
    int rc = w->fn(w->ctx, key, key_len, revision, w->r->keys_only ? NULL : state,
                   w->r->keys_only ? 0 : state_len);
    if (rc)
        return w->stopped = rc;
    if (w->r->limit && ++w->sent >= w->r->limit) {
        w->finished = 1;
        return 1;
    }
    return 0;
}

int state_generic_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx)
{
    generic_walk w = {.r = r, .fn = fn, .ctx = ctx, .resume = BYTES_INIT};
    int rc = ST_OK;
    const uint8_t *from = r->reverse ? r->end : r->start;
    size_t from_len = r->reverse ? r->end_len : r->start_len;
    while (!w.finished) {
        int64_t count = GENERIC_PAGE + (w.have_resume ? 1 : 0);
        w.seen = 0;
        rc = b->ops->state_range(b, w.have_resume ? w.resume.data : from,
                                 w.have_resume ? w.resume.len : from_len,
                                 r->reverse ? -count : count, walk_one, &w);
        if (w.stopped) {
            rc = w.stopped;
            break;
        }
        if (w.finished) {
            rc = ST_OK;
            break;
        }
        if (rc != ST_OK || w.seen < (uint64_t)count)
            break;
    }
    bytes_free(&w.resume);
    return rc;
}

int state_backend_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx)
{
    if (b->ops->state_scan_range)
        return b->ops->state_scan_range(b, r, fn, ctx);
    return state_generic_scan_range(b, r, fn, ctx);
}

/* ---- batch over begin/commit -------------------------------------------- */

int state_no_transaction(store_backend *b)
{
    (void)b;
    return ST_OK;
}

int state_error_not_found(const uint8_t *key, size_t key_len)
{
    return error_set(ST_ENOTFOUND, "state '%.*s' not found", error_key_len(key_len),
                     (const char *)key);
}

int state_error_conflict(const uint8_t *key, size_t key_len, uint64_t expected, uint64_t found)
{
    return error_set(ST_ECONFLICT, "state '%.*s': expected revision %llu, found %llu",
                     error_key_len(key_len), (const char *)key, (unsigned long long)expected,
                     (unsigned long long)found);
}

int state_error_batch_conflict(size_t i, const state_op *op, uint64_t found)
{
    return error_set(ST_ECONFLICT, "batch op %zu: state '%.*s': expected revision %llu, found %llu",
                     i, error_key_len(op->key_len), (const char *)op->key,
                     (unsigned long long)op->expected_revision, (unsigned long long)found);
}

static int batch_apply_op(store_backend *b, size_t i, const state_op *op, uint64_t *rev)
{
    *rev = 0;
    int rc;
    if (op->kind == STATE_OP_UPSERT) {
        rc = b->ops->state_upsert(b, op->key, op->key_len, op->expected_revision, op->state,
                                  op->state_len, rev);
    } else {
        rc = b->ops->state_delete(b, op->key, op->key_len, op->expected_revision);
        if (rc == ST_ENOTFOUND && op->expected_revision == STATE_ANY_REVISION) {
            error_clear();
            rc = ST_OK;
        } else if (rc == ST_ENOTFOUND) {
            rc = state_error_conflict(op->key, op->key_len, op->expected_revision, 0);
        }
    }
    return rc == ST_OK ? rc : error_wrap("batch op %zu", i);
}

int state_batch_apply_all(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    int rc = ST_OK;
    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        uint64_t rev;
        rc = batch_apply_op(b, i, &ops[i], &rev);
        if (rc == ST_OK && revisions)
            revisions[i] = rev;
    }
    return rc;
}

/* Checks op i's expected revision against the engine; *current receives
 * the key's revision (0 when absent). */
static int check_op(store_backend *b, size_t i, const state_op *op, uint64_t *current)
{
    *current = 0;
    int rc = b->ops->state_get(b, op->key, op->key_len, current, NULL);
    if (rc == ST_ENOTFOUND) {
        *current = 0;
        rc = ST_OK;
    }
    if (rc != ST_OK)
        return rc;
    uint64_t want = op->expected_revision;
    if (want == STATE_ANY_REVISION)
        return ST_OK;
    if (want != *current || (op->kind == STATE_OP_DELETE && *current == 0))
        return state_error_batch_conflict(i, op, *current);
    return ST_OK;
}

int state_generic_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    int rc = ST_OK;
    for (size_t i = 0; i < n; i++) {
        uint64_t current;
        if ((rc = check_op(b, i, &ops[i], &current)) != ST_OK)
            return rc;
    }
    if ((rc = b->ops->state_begin(b)) != ST_OK)
        return rc;
    size_t written = 0;
    for (; written < n; written++) {
        uint64_t rev;
        if ((rc = batch_apply_op(b, written, &ops[written], &rev)) != ST_OK)
            break;
        if (revisions)
            revisions[written] = rev;
    }
    int commit = b->ops->state_commit(b);
    if (rc != ST_OK)
        return error_wrap("%zu ops before it were written (the engine's table has no rollback)",
                          written);
    return commit;
}

int state_backend_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    if (b->ops->state_batch)
        return b->ops->state_batch(b, ops, n, revisions);
    return state_generic_batch(b, ops, n, revisions);
}

/* ---- purge by prefix ------------------------------------------------------ */

typedef struct key_list {
    bytes keys; /* u32 length + key, one after another */
    int failed;
} key_list;

static int collect_key(void *c, const uint8_t *key, size_t key_len, uint64_t revision,
                       const uint8_t *state, size_t state_len)
{
    (void)revision;
    (void)state;
    (void)state_len;
    key_list *l = c;
    uint32_t n = (uint32_t)key_len;
    bytes_put(&l->keys, (const uint8_t *)&n, sizeof(n));
    bytes_put(&l->keys, key, key_len);
    return l->keys.failed ? error_oom() : 0;
}

int state_backend_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len)
{
    if (b->ops->state_purge_prefix)
        return b->ops->state_purge_prefix(b, prefix, prefix_len);
    return state_generic_purge_prefix(b, prefix, prefix_len, 1);
}

int state_generic_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len,
                               int has_transactions)
{
    if (!prefix_len)
        return b->ops->state_purge(b);
    state_bounds r = {0};
    r.keys_only = 1;
    bytes scratch = BYTES_INIT;
    key_list l = {BYTES_INIT, 0};
    int rc = state_bounds_clip_prefix(&r, prefix, prefix_len, &scratch);
    if (rc == ST_OK)
        rc = state_backend_scan_range(b, &r, collect_key, &l);
    if (rc == ST_OK && has_transactions)
        rc = b->ops->state_begin(b);
    int began = rc == ST_OK && has_transactions;
    for (size_t off = 0; rc == ST_OK && off < l.keys.len;) {
        uint32_t n;
        memcpy(&n, l.keys.data + off, sizeof(n));
        off += sizeof(n);
        rc = b->ops->state_delete(b, l.keys.data + off, n, STATE_ANY_REVISION);
        if (rc == ST_ENOTFOUND) {
            error_clear();
            rc = ST_OK;
        }
        off += n;
    }
    if (began) {
        int commit = b->ops->state_commit(b);
        if (rc == ST_OK)
            rc = commit;
    }
    bytes_free(&scratch);
    bytes_free(&l.keys);
    return rc;
}

int state_backend_flush(store_backend *b)
{
    return b->ops->state_flush ? b->ops->state_flush(b) : ST_OK;
}
