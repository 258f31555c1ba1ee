/*
 * The PostgreSQL engine's state table: key -> (revision, data). Each write
 * is one statement with the compare-and-set in its WHERE (or ON CONFLICT)
 * clause, so two nodes racing on a key cannot both win; a failed compare
 * reads the current revision once, for the error message. Scans page by
 * key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_internal.h"
#include "store/state_generic.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

int pg_state_get(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *revision,
                 bytes *state)
{
    pg_params p = {0};
    pg_param_blob(&p, key, key_len);
    PGresult *r;
    int rc = pg_run((pg_backend *)b, PQ_K_GET, &p, "reading state", &r);
    if (rc != ST_OK)
        return rc;
    if (!PQntuples(r)) {
        PQclear(r);
        return state_error_not_found(key, key_len);
    }
    if (revision)
        *revision = pg_col_u64(r, 0, 0);
    if (state) {
        size_t n;
        const uint8_t *d = pg_col_blob(r, 0, 1, &n);
        bytes_reset(state);
        bytes_put(state, d, n);
        if (state->failed)
            rc = error_oom();
    }
    PQclear(r);
    return rc;
}

static int current_revision(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *rev)
{
    int rc = pg_state_get(b, key, key_len, rev, NULL);
    if (rc == ST_ENOTFOUND) {
        *rev = 0;
        return ST_OK;
    }
    return rc;
}

int pg_state_upsert(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected,
                    const uint8_t *state, size_t state_len, uint64_t *new_revision)
{
    if (state_len > INT32_MAX)
        return error_set(ST_ELIMIT, "postgres: state of %zu bytes is too large", state_len);
    int q = expected == 0 ? PQ_K_INSERT : expected == STATE_ANY_REVISION ? PQ_K_ANY : PQ_K_UPDATE;
    pg_params p = {0};
    pg_param_blob(&p, key, key_len);
    pg_param_blob(&p, state, state_len);
    if (q == PQ_K_UPDATE)
        pg_param_u64(&p, expected);
    PGresult *r;
    int rc = pg_run((pg_backend *)b, q, &p, "writing state", &r);
    if (rc != ST_OK)
        return rc;
    int rows = PQntuples(r);
    if (rows && new_revision)
        *new_revision = pg_col_u64(r, 0, 0);
    PQclear(r);
    if (rows)
        return ST_OK;
    uint64_t found;
    if ((rc = current_revision(b, key, key_len, &found)) != ST_OK)
        return rc;
    return state_error_conflict(key, key_len, expected, found);
}

int pg_state_delete(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected)
{
    pg_params p = {0};
    pg_param_blob(&p, key, key_len);
    pg_param_i64(&p, expected == STATE_ANY_REVISION ? -1 : (int64_t)expected);
    PGresult *r;
    int rc = pg_run((pg_backend *)b, PQ_K_DELETE, &p, "deleting state", &r);
    if (rc != ST_OK)
        return rc;
    int changed = atoi(PQcmdTuples(r));
    PQclear(r);
    if (changed > 0)
        return ST_OK;
    uint64_t found;
    if ((rc = current_revision(b, key, key_len, &found)) != ST_OK)
        return rc;
    if (found == 0)
        return state_error_not_found(key, key_len);
    return state_error_conflict(key, key_len, expected, found);
}

/* Visits up to |count| records from `from` (see backend.h), page by page;
 * with a prefix, stops at the first key without it. */
static int walk(pg_backend *pg, const uint8_t *from, size_t from_len, int64_t count,
                const uint8_t *prefix, size_t prefix_len, state_scan_fn fn, void *ctx)
{
    bytes cursor = BYTES_INIT;
    int forward = count > 0, first = 1, rc = ST_OK;
    uint64_t left = forward ? (uint64_t)count : (uint64_t)(-(count + 1)) + 1;
    bytes_put(&cursor, from, from_len);
    while (left > 0) {
        if (cursor.failed) {
            rc = error_oom();
            goto done;
        }
        uint64_t page = left < PG_PAGE_ROWS ? left : PG_PAGE_ROWS;
        pg_params p = {0};
        pg_param_blob(&p, cursor.data, cursor.len);
        pg_param_u64(&p, page);
        int q;
        if (forward) {
            q = first ? PQ_K_FROM : PQ_K_AFTER;
        } else {
            q = first ? PQ_K_LAST : PQ_K_BEFORE;
            if (first)
                pg_param_u64(&p, from_len ? 1 : 0);
        }
        first = 0;
        PGresult *r;
        if ((rc = pg_run(pg, q, &p, "scanning state", &r)) != ST_OK)
            goto done;
        int rows = PQntuples(r);
        for (int i = 0; i < rows; i++) {
            size_t kn, dn;
            const uint8_t *k = pg_col_blob(r, i, 0, &kn);
            if (kn < prefix_len || memcmp(k, prefix, prefix_len) != 0) {
                PQclear(r);
                goto done;
            }
            const uint8_t *d = pg_col_blob(r, i, 2, &dn);
            if ((rc = fn(ctx, k, kn, pg_col_u64(r, i, 1), d, dn)) != 0) {
                PQclear(r);
                goto done;
            }
            if (i == rows - 1) {
                bytes_reset(&cursor);
                bytes_put(&cursor, k, kn);
            }
        }
        PQclear(r);
        if ((uint64_t)rows < page)
            break;
        left -= (uint64_t)rows;
    }
done:
    bytes_free(&cursor);
    return rc;
}

int pg_state_scan(store_backend *b, const uint8_t *prefix, size_t prefix_len, state_scan_fn fn,
                  void *ctx)
{
    const uint8_t *pre = prefix_len ? prefix : (const uint8_t *)"";
    return walk((pg_backend *)b, pre, prefix_len, INT64_MAX, pre, prefix_len, fn, ctx);
}

int pg_state_range(store_backend *b, const uint8_t *from, size_t from_len, int64_t count,
                   state_scan_fn fn, void *ctx)
{
    if (count == 0)
        return ST_OK;
    return walk((pg_backend *)b, from_len ? from : (const uint8_t *)"", from_len, count,
                (const uint8_t *)"", 0, fn, ctx);
}

int pg_state_purge(store_backend *b)
{
    return pg_command((pg_backend *)b, PQ_K_PURGE, NULL, "purging state");
}

int pg_state_begin(store_backend *b)
{
    return pg_tx_begin((pg_backend *)b);
}

int pg_state_commit(store_backend *b)
{
    pg_backend *pg = (pg_backend *)b;
    if (!pg->depth)
        return error_set(ST_EMISUSE, "state store: commit without begin");
    int rc = pg_tx_commit(pg);
    if (rc != ST_OK && pg->depth > 0)
        pg_tx_rollback(pg);
    return rc;
}

/* ---- building blocks: bounded ranges, batches, prefix purge ---------- */

/* A page of the bounded range: bounds as given, at most `page` rows. */
static int range_page(pg_backend *pg, const state_bounds *r, uint64_t page, PGresult **out)
{
    pg_params p = {0};
    char sql[320], lower[48] = "", upper[48] = "";
    if (r->start_len) {
        pg_param_blob(&p, r->start, r->start_len);
        snprintf(lower, sizeof(lower), " AND key %s $%d::bytea",
                 r->start_exclusive ? ">" : ">=", p.n);
    }
    if (r->end_len) {
        pg_param_blob(&p, r->end, r->end_len);
        snprintf(upper, sizeof(upper), " AND key %s $%d::bytea", r->end_inclusive ? "<=" : "<",
                 p.n);
    }
    pg_param_u64(&p, page);
    snprintf(sql, sizeof(sql),
             "SELECT key, revision, %s FROM ddata_state WHERE true%s%s ORDER BY key%s"
             " LIMIT $%d::int8",
             r->keys_only ? "''::bytea" : "data", lower, upper, r->reverse ? " DESC" : "", p.n);
    return pg_run_sql(pg, sql, &p, "scanning state", out);
}

int pg_state_scan_range(store_backend *b, const state_bounds *bounds, state_scan_fn fn, void *ctx)
{
    pg_backend *pg = (pg_backend *)b;
    state_bounds r = *bounds;
    bytes resume = BYTES_INIT;
    uint64_t sent = 0;
    int rc = ST_OK;
    for (;;) {
        uint64_t left = r.limit ? r.limit - sent : UINT64_MAX;
        uint64_t page = left < PG_PAGE_ROWS ? left : PG_PAGE_ROWS;
        PGresult *res;
        if (page == 0 || (rc = range_page(pg, &r, page, &res)) != ST_OK)
            break;
        int rows = PQntuples(res);
        for (int i = 0; i < rows && rc == ST_OK; i++) {
            size_t kn, dn;
            const uint8_t *k = pg_col_blob(res, i, 0, &kn);
            const uint8_t *d = pg_col_blob(res, i, 2, &dn);
            rc = fn(ctx, k, kn, pg_col_u64(res, i, 1), d, dn);
            if (i == rows - 1) {
                bytes_reset(&resume);
                bytes_put(&resume, k, kn);
            }
        }
        PQclear(res);
        sent += (uint64_t)rows;
        if (rc != ST_OK || (uint64_t)rows < page)
            break;
        if (resume.failed) {
            rc = error_oom();
            break;
        }
        /* The next page starts after the last key, in the walk's direction. */
        if (r.reverse) {
            r.end = resume.data;
            r.end_len = resume.len;
            r.end_inclusive = 0;
        } else {
            r.start = resume.data;
            r.start_len = resume.len;
            r.start_exclusive = 1;
        }
    }
    bytes_free(&resume);
    return rc;
}

/* One transaction (a savepoint inside an open one). */
int pg_state_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    pg_backend *pg = (pg_backend *)b;
    int rc = pg_tx_begin(pg);
    if (rc != ST_OK)
        return rc;
    rc = state_batch_apply_all(b, ops, n, revisions);
    if (rc == ST_OK && (rc = pg_tx_commit(pg)) == ST_OK)
        return ST_OK;
    if (pg->depth > 0)
        pg_tx_rollback(pg);
    return rc;
}

int pg_state_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len)
{
    if (!prefix_len)
        return pg_state_purge(b);
    state_bounds r = {0};
    bytes scratch = BYTES_INIT;
    int rc = state_bounds_clip_prefix(&r, prefix, prefix_len, &scratch);
    pg_params p = {0};
    pg_param_blob(&p, r.start, r.start_len);
    if (r.end_len)
        pg_param_blob(&p, r.end, r.end_len);
    PGresult *res = NULL;
    if (rc == ST_OK)
        rc = pg_run_sql((pg_backend *)b,
                        r.end_len
                            ? "DELETE FROM ddata_state WHERE key >= $1::bytea AND key < $2::bytea"
                            : "DELETE FROM ddata_state WHERE key >= $1::bytea",
                        &p, "purging state by prefix", &res);
    PQclear(res);
    bytes_free(&scratch);
    return rc;
}
