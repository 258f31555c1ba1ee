/*
 * The SQLite engine's state table: key -> (revision, data). Writes are
 * single statements with the compare-and-set in the WHERE clause, so they
 * need no explicit transaction outside a batch; a failed compare reads the
 * current revision once, for the error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite_internal.h"
#include "store/state_generic.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/error.h"
#include "util/status.h"

int sql_state_get(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *revision,
                  bytes *state)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_K_GET];
    sql_bind_blob(st, 1, key, key_len);
    int rc = sqlite3_step(st), out = ST_OK;
    if (rc == SQLITE_ROW) {
        if (revision)
            *revision = (uint64_t)sqlite3_column_int64(st, 0);
        if (state) {
            size_t n;
            const uint8_t *p = sql_col_blob(st, 1, &n);
            bytes_reset(state);
            bytes_put(state, p, n);
            if (state->failed)
                out = error_oom();
        }
    } else if (rc == SQLITE_DONE) {
        out = state_error_not_found(key, key_len);
    } else {
        out = sql_error(s, rc, "reading state");
    }
    sqlite3_reset(st);
    return out;
}

static int current_revision(sql_backend *s, const uint8_t *key, size_t key_len, uint64_t *rev)
{
    *rev = 0; /* set on every path; 0 also means "no such key" */
    int rc = sql_state_get(&s->base, key, key_len, rev, NULL);
    if (rc == ST_ENOTFOUND)
        return ST_OK;
    return rc;
}

int sql_state_upsert(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected,
                     const uint8_t *state, size_t state_len, uint64_t *new_revision)
{
    sql_backend *s = (sql_backend *)b;
    int writable = sql_check_writable(s);
    if (writable != ST_OK)
        return writable;
    int q = expected == 0 ? Q_K_INSERT : expected == STATE_ANY_REVISION ? Q_K_ANY : Q_K_UPDATE;
    sqlite3_stmt *st = s->q[q];
    sql_bind_blob(st, 1, key, key_len);
    sql_bind_blob(st, 2, state, state_len);
    if (q == Q_K_UPDATE)
        sql_bind_u64(st, 3, expected);
    int rc = sqlite3_step(st);
    uint64_t rev = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    /* Run the statement to completion: a RETURNING statement reset after
     * its row never reaches SQLite's commit hook, so the WAL is never
     * checkpointed and grows without bound. */
    if (rc == SQLITE_ROW) {
        int done = sqlite3_step(st);
        if (done != SQLITE_DONE && done != SQLITE_ROW)
            rc = done;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) {
        if (new_revision)
            *new_revision = rev;
        return ST_OK;
    }
    if (rc != SQLITE_DONE)
        return sql_error(s, rc, "writing state");
    uint64_t found = 0;
    int rc2 = current_revision(s, key, key_len, &found);
    if (rc2 != ST_OK)
        return rc2;
    return state_error_conflict(key, key_len, expected, found);
}

int sql_state_delete(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_K_DELETE];
    sql_bind_blob(st, 1, key, key_len);
    sqlite3_bind_int64(st, 2, expected == STATE_ANY_REVISION ? -1 : (sqlite3_int64)expected);
    int rc = sql_run(s, Q_K_DELETE);
    if (rc != ST_OK)
        return rc;
    if (sqlite3_changes(s->db) > 0)
        return ST_OK;
    uint64_t found = 0;
    if ((rc = current_revision(s, key, key_len, &found)) != ST_OK)
        return rc;
    if (found == 0)
        return state_error_not_found(key, key_len);
    return state_error_conflict(key, key_len, expected, found);
}

typedef struct scan_ctx {
    const uint8_t *prefix;
    size_t prefix_len;
    state_scan_fn fn;
    void *ctx;
    int past_prefix; /* the scan stopped itself, not the callback */
} scan_ctx;

static int scan_row(void *c, sqlite3_stmt *st)
{
    scan_ctx *sc = c;
    size_t kn, dn;
    const uint8_t *k = sql_col_blob(st, 0, &kn);
    if (kn < sc->prefix_len || memcmp(k, sc->prefix, sc->prefix_len) != 0) {
        sc->past_prefix = 1;
        return 1;
    }
    const uint8_t *d = sql_col_blob(st, 2, &dn);
    return sc->fn(sc->ctx, k, kn, (uint64_t)sqlite3_column_int64(st, 1), d, dn);
}

int sql_state_scan(store_backend *b, const uint8_t *prefix, size_t prefix_len, state_scan_fn fn,
                   void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_K_SCAN];
    sql_bind_blob(st, 1, prefix, prefix_len);
    scan_ctx c = {prefix_len ? prefix : (const uint8_t *)"", prefix_len, fn, ctx, 0};
    int rc = sql_step_rows(s, st, scan_row, &c);
    return c.past_prefix ? ST_OK : rc;
}

int sql_state_range(store_backend *b, const uint8_t *from, size_t from_len, int64_t count,
                    state_scan_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    if (count == 0)
        return ST_OK;
    sqlite3_stmt *st = s->q[count > 0 ? Q_K_RANGE_FWD : Q_K_RANGE_REV];
    sql_bind_blob(st, 1, from, from_len);
    sqlite3_bind_int64(st, 2, count > 0 ? count : -(count + 1) + (count > INT64_MIN));
    if (count < 0)
        sqlite3_bind_int(st, 3, from_len ? 1 : 0);
    scan_ctx c = {(const uint8_t *)"", 0, fn, ctx, 0};
    return sql_step_rows(s, st, scan_row, &c);
}

int sql_state_purge(store_backend *b)
{
    return sql_run((sql_backend *)b, Q_K_PURGE);
}

int sql_state_begin(store_backend *b)
{
    return sql_tx_begin((sql_backend *)b);
}

int sql_state_commit(store_backend *b)
{
    sql_backend *s = (sql_backend *)b;
    if (!s->depth)
        return error_set(ST_EMISUSE, "state store: commit without begin");
    int rc = sql_tx_commit(s);
    if (rc != ST_OK)
        sql_tx_rollback(s);
    return rc;
}

/* ---- building blocks: bounded ranges, batches, prefix purge, flush ---- */

/* The bounded range is one query shaped by the bounds it has, prepared
 * the first time that shape is asked for and kept (sql_backend.range_q). */
static int range_statement(sql_backend *s, const state_bounds *r, sqlite3_stmt **out)
{
    *out = NULL;
    int start = !r->start_len ? 0 : r->start_exclusive ? 2 : 1;
    int end = !r->end_len ? 0 : r->end_inclusive ? 2 : 1;
    int shape = (((start * 3 + end) * 2 + !!r->reverse) * 2 + (r->limit != 0)) * 2 + !!r->keys_only;
    if (s->range_q[shape]) {
        *out = s->range_q[shape];
        return ST_OK;
    }
    static const char *const lower[] = {"", " AND key >= ?1", " AND key > ?1"};
    static const char *const upper[] = {"", " AND key < ?2", " AND key <= ?2"};
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT key, revision, %s FROM state WHERE 1%s%s ORDER BY key%s%s",
             r->keys_only ? "x''" : "data", lower[start], upper[end], r->reverse ? " DESC" : "",
             r->limit ? " LIMIT ?3" : "");
    int rc =
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->range_q[shape], NULL);
    if (rc != SQLITE_OK)
        return sql_error(s, rc, "preparing a state range");
    *out = s->range_q[shape];
    return ST_OK;
}

int sql_state_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = NULL;
    int rc = range_statement(s, r, &st);
    if (rc != ST_OK)
        return rc;
    if (r->start_len)
        sql_bind_blob(st, 1, r->start, r->start_len);
    if (r->end_len)
        sql_bind_blob(st, 2, r->end, r->end_len);
    if (r->limit)
        sql_bind_u64(st, 3, r->limit);
    scan_ctx c = {(const uint8_t *)"", 0, fn, ctx, 0};
    rc = sql_step_rows(s, st, scan_row, &c); /* resets the statement */
    sqlite3_clear_bindings(st);
    return rc;
}

/* One transaction (a savepoint inside an open one): a failed op rolls
 * back every op before it. */
int sql_state_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    sql_backend *s = (sql_backend *)b;
    int rc = sql_check_writable(s);
    if (rc == ST_OK)
        rc = sql_tx_begin(s);
    if (rc != ST_OK)
        return rc;
    rc = state_batch_apply_all(b, ops, n, revisions);
    if (rc == ST_OK && (rc = sql_tx_commit(s)) == ST_OK)
        return ST_OK;
    sql_tx_rollback(s);
    return rc;
}

int sql_state_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len)
{
    sql_backend *s = (sql_backend *)b;
    if (!prefix_len)
        return sql_state_purge(b);
    int rc = sql_check_writable(s);
    if (rc != ST_OK)
        return rc;
    state_bounds r = {0};
    bytes scratch = BYTES_INIT;
    if ((rc = state_bounds_clip_prefix(&r, prefix, prefix_len, &scratch)) != ST_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(s->db,
                            r.end_len ? "DELETE FROM state WHERE key >= ?1 AND key < ?2"
                                      : "DELETE FROM state WHERE key >= ?1",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sql_bind_blob(st, 1, r.start, r.start_len);
        if (r.end_len)
            sql_bind_blob(st, 2, r.end, r.end_len);
        rc = sqlite3_step(st);
    }
    rc = rc == SQLITE_DONE ? ST_OK : sql_error(s, rc, "purging state by prefix");
    sqlite3_finalize(st);
    bytes_free(&scratch);
    return rc;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ST_OK : error_set(ST_EIO, "flush: %s: %s", path, strerror(errno));
    int rc =
        fsync(fd) == 0 ? ST_OK : error_set(ST_EIO, "flush: fsync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

/* Copies the WAL into the database file and syncs it, whatever the sync
 * setting. When readers keep the checkpoint from finishing, the WAL itself
 * is synced instead: the writes are durable either way. */
int sql_state_flush(store_backend *b)
{
    sql_backend *s = (sql_backend *)b;
    if (s->depth)
        return error_set(ST_EMISUSE, "flush inside an open transaction (commit it first)");
    int busy = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        busy = 1;
    else if (rc != SQLITE_OK)
        return sql_error(s, rc, "checkpointing the WAL");
    if (!s->path || !s->path[0] || strcmp(s->path, ":memory:") == 0)
        return ST_OK;
    if (!busy)
        return fsync_path(s->path);
    char wal[4096];
    if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", s->path) >= sizeof(wal))
        return error_set(ST_ELIMIT, "flush: the path '%s' is too long", s->path);
    return fsync_path(wal);
}
