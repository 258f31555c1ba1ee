/*
 * The state store's building blocks (state_store.h): bounded ranges,
 * prefix-scoped last and purge, atomic batches and flush, above the
 * engine table as the record calls in state_store.c are: the same lock,
 * the same argument checks, the same sealing. A batch's states are sealed
 * here exactly as an upsert's (bound to key and revision), so an engine's
 * batch sees blobs and explicit expected revisions; an unconditional op on
 * a sealed store reads the key's revision first and retries when another
 * handle wins in between, as upsert does.
 */
#include <stdlib.h>
#include <string.h>

#include "store/state_generic.h"
#include "store/state_store.h"
#include "store/state_store_impl.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

static int check_bound(const uint8_t *k, size_t len, const char *what)
{
    if (!k && len)
        return error_set(ST_EINVAL, "state range: %s must not be NULL when its length is %zu", what,
                         len);
    if (len > STORE_MAX_KEY_BYTES)
        return error_set(ST_ELIMIT, "state range: %s is %zu bytes, at most %u", what, len,
                         STORE_MAX_KEY_BYTES);
    return ST_OK;
}

int state_store_scan_range(state_store *s, const state_bounds *b, state_scan_fn fn, void *ctx)
{
    if (!s)
        return error_set(ST_EMISUSE, "state store is NULL");
    if (!b || !fn)
        return error_set(ST_EINVAL, "state range: bounds and callback must not be NULL");
    int rc = check_bound(b->start, b->start_len, "start");
    if (rc == ST_OK)
        rc = check_bound(b->end, b->end_len, "end");
    if (rc != ST_OK)
        return rc;
    state_open_walk w = {s->seal, b->keys_only, fn, ctx, BYTES_INIT};
    pthread_mutex_lock(&s->mu);
    rc = state_backend_scan_range(s->be, b, state_open_one, &w);
    pthread_mutex_unlock(&s->mu);
    bytes_free(&w.plain);
    return rc;
}

int state_store_last_prefix(state_store *s, const uint8_t *prefix, size_t prefix_len, bytes *key,
                            uint64_t *revision, bytes *state)
{
    int rc = check_bound(prefix, prefix_len, "prefix");
    if (rc != ST_OK)
        return rc;
    state_bounds b = {0};
    b.reverse = 1;
    b.limit = 1;
    b.keys_only = state == NULL;
    bytes scratch = BYTES_INIT;
    state_last l = {key, state, revision, 0};
    rc = state_bounds_clip_prefix(&b, prefix, prefix_len, &scratch);
    if (rc == ST_OK)
        rc = state_store_scan_range(s, &b, state_take_last, &l);
    bytes_free(&scratch);
    if (rc == ST_OK && !l.found)
        rc = prefix_len ? error_set(ST_ENOTFOUND, "no state key starts with '%.*s'",
                                    error_key_len(prefix_len), (const char *)prefix)
                        : error_set(ST_ENOTFOUND, "the state store is empty");
    return rc;
}

int state_store_purge_prefix(state_store *s, const uint8_t *prefix, size_t prefix_len)
{
    if (!s)
        return error_set(ST_EMISUSE, "state store is NULL");
    int rc = check_bound(prefix, prefix_len, "prefix");
    if (rc != ST_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    rc = state_backend_purge_prefix(s->be, prefix, prefix_len);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int state_store_flush(state_store *s)
{
    return s ? state_store_locked(s, state_backend_flush)
             : error_set(ST_EMISUSE, "state store is NULL");
}

/* ---- batch ------------------------------------------------------------- */

static int check_op(size_t i, const state_op *op)
{
    if (op->kind != STATE_OP_UPSERT && op->kind != STATE_OP_DELETE)
        return error_set(ST_EINVAL, "batch op %zu: unknown kind %d (1 upsert, 2 delete)", i,
                         op->kind);
    if (!op->key || !op->key_len)
        return error_set(ST_EINVAL, "batch op %zu: state key must not be empty", i);
    if (op->key_len > STORE_MAX_KEY_BYTES)
        return error_set(ST_ELIMIT, "batch op %zu: state key is %zu bytes, at most %u", i,
                         op->key_len, STORE_MAX_KEY_BYTES);
    if (op->expected_revision != STATE_ANY_REVISION && op->expected_revision >= STORE_SEQ_MAX)
        return error_set(ST_EINVAL, "batch op %zu: expected revision %llu is out of range", i,
                         (unsigned long long)op->expected_revision);
    if (op->kind == STATE_OP_UPSERT && !op->state && op->state_len)
        return error_set(ST_EINVAL, "batch op %zu: state must not be NULL when its length is %zu",
                         i, op->state_len);
    if (op->kind == STATE_OP_DELETE && op->expected_revision == 0)
        return error_set(ST_EINVAL,
                         "batch op %zu: delete needs an expected revision (or ANY_REVISION)", i);
    return ST_OK;
}

typedef struct op_key {
    const uint8_t *key;
    size_t key_len;
    size_t index;
} op_key;

static int by_key(const void *a, const void *b)
{
    const op_key *x = a, *y = b;
    int c = store_key_cmp(x->key, x->key_len, y->key, y->key_len);
    return c ? c : (x->index < y->index ? -1 : 1);
}

/* A key twice in one batch: its second op's revision would depend on the
 * first, which a sealed record must know before it is written. */
static int check_unique(const state_op *ops, size_t n)
{
    if (n < 2)
        return ST_OK;
    op_key *keys = alloc_array(n, sizeof(*keys));
    if (!keys)
        return error_oom();
    for (size_t i = 0; i < n; i++)
        keys[i] = (op_key){ops[i].key, ops[i].key_len, i};
    qsort(keys, n, sizeof(*keys), by_key);
    int rc = ST_OK;
    for (size_t i = 1; i < n && rc == ST_OK; i++)
        if (store_key_cmp(keys[i - 1].key, keys[i - 1].key_len, keys[i].key, keys[i].key_len) == 0)
            rc = error_set(ST_EINVAL, "batch ops %zu and %zu: state key '%.*s' appears twice",
                           keys[i - 1].index, keys[i].index, error_key_len(keys[i].key_len),
                           (const char *)keys[i].key);
    free(keys);
    return rc;
}

/* Seals every upsert of `ops` into `sealed` (one blob each) with the
 * revision it will be written at; *retry is set when an op was
 * unconditional on a sealed store (a conflict is then worth retrying). */
static int seal_ops(state_store *s, const state_op *ops, size_t n, state_op *out, bytes *blobs,
                    int *retry)
{
    bytes aad = BYTES_INIT;
    int rc = ST_OK;
    *retry = 0;
    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        out[i] = ops[i];
        if (ops[i].kind != STATE_OP_UPSERT)
            continue;
        uint64_t base = ops[i].expected_revision;
        if (base == STATE_ANY_REVISION && sealer_is_sealed(s->seal)) {
            *retry = 1;
            rc = s->be->ops->state_get(s->be, ops[i].key, ops[i].key_len, &base, NULL);
            if (rc == ST_ENOTFOUND) {
                error_clear();
                base = 0;
                rc = ST_OK;
            }
            if (rc != ST_OK)
                break;
        }
        state_aad(s->seal, &aad, ops[i].key, ops[i].key_len, base + 1);
        if (aad.failed) {
            rc = error_oom();
            break;
        }
        bytes_reset(&blobs[i]);
        rc = seal_blob(s->seal, aad.data, aad.len, ops[i].state, ops[i].state_len, &blobs[i]);
        out[i].expected_revision = base;
        out[i].state = blobs[i].data;
        out[i].state_len = blobs[i].len;
    }
    bytes_free(&aad);
    return rc;
}

int state_store_batch(state_store *s, const state_op *ops, size_t n, uint64_t *revisions)
{
    if (!s)
        return error_set(ST_EMISUSE, "state store is NULL");
    if (!ops && n)
        return error_set(ST_EINVAL, "batch: ops must not be NULL when count is %zu", n);
    if (n > STATE_BATCH_MAX_OPS)
        return error_set(ST_ELIMIT, "batch of %zu ops, at most %u", n, STATE_BATCH_MAX_OPS);
    int rc = ST_OK;
    for (size_t i = 0; i < n && rc == ST_OK; i++)
        rc = check_op(i, &ops[i]);
    if (rc == ST_OK)
        rc = check_unique(ops, n);
    if (rc != ST_OK || n == 0)
        return rc;
    state_op *sealed = alloc_array(n, sizeof(*sealed));
    bytes *blobs = alloc_array(n, sizeof(*blobs));
    if (!sealed || !blobs) {
        free(sealed);
        free(blobs);
        return error_oom();
    }
    for (size_t i = 0; i < n; i++)
        blobs[i] = (bytes)BYTES_INIT;
    pthread_mutex_lock(&s->mu);
    for (int attempt = 0;; attempt++) {
        int retry;
        if ((rc = seal_ops(s, ops, n, sealed, blobs, &retry)) != ST_OK)
            break;
        rc = state_backend_batch(s->be, sealed, n, revisions);
        if (rc != ST_ECONFLICT || !retry || attempt >= 100)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++)
        bytes_free(&blobs[i]);
    free(blobs);
    free(sealed);
    return rc;
}
