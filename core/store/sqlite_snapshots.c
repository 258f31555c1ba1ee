/*
 * The SQLite engine's snapshots: one row per (pid, seq), in the journal's
 * file or in a second one ATTACHed as `snap`; find, delete and prune take
 * the same selection criteria.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_internal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/error.h"
#include "util/status.h"

int sql_snapshot_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                      uint64_t ts, const uint8_t *data, size_t len)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_S_SAVE];
    sql_bind_blob(st, 1, pid, pid_len);
    sql_bind_u64(st, 2, seq);
    sql_bind_u64(st, 3, ts);
    sql_bind_blob(st, 4, data, len);
    return sql_run(s, Q_S_SAVE);
}

static void bind_criteria(sqlite3_stmt *st, const uint8_t *pid, size_t pid_len,
                          const snapshot_criteria *c)
{
    sql_bind_blob(st, 1, pid, pid_len);
    sql_bind_u64(st, 2, c->min_seq);
    sql_bind_u64(st, 3, c->max_seq);
    sql_bind_u64(st, 4, c->min_ts);
    sql_bind_u64(st, 5, c->max_ts);
}

typedef struct snap_ctx {
    store_snapshot_fn fn;
    void *ctx;
    int any;
} snap_ctx;

static int snap_row(void *c, sqlite3_stmt *st)
{
    snap_ctx *sc = c;
    store_snapshot snap;
    sc->any = 1;
    snap.seq = (uint64_t)sqlite3_column_int64(st, 0);
    snap.timestamp_ms = (uint64_t)sqlite3_column_int64(st, 1);
    snap.data = sql_col_blob(st, 2, &snap.len);
    return sc->fn(sc->ctx, &snap);
}

int sql_snapshot_find(store_backend *b, const uint8_t *pid, size_t pid_len,
                      const snapshot_criteria *c, store_snapshot_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_S_FIND];
    bind_criteria(st, pid, pid_len, c);
    snap_ctx sc = {fn, ctx, 0};
    int rc = sql_step_rows(s, st, snap_row, &sc);
    if (rc == ST_OK && !sc.any)
        return error_set(ST_ENOTFOUND, "no snapshot of '%.*s' matches", error_key_len(pid_len),
                         (const char *)pid);
    return rc;
}

int sql_snapshot_delete(store_backend *b, const uint8_t *pid, size_t pid_len,
                        const snapshot_criteria *c)
{
    sql_backend *s = (sql_backend *)b;
    bind_criteria(s->q[Q_S_DELETE], pid, pid_len, c);
    return sql_run(s, Q_S_DELETE);
}

int sql_snapshot_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    sql_backend *s = (sql_backend *)b;
    sql_bind_blob(s->q[Q_S_PRUNE], 1, pid, pid_len);
    sql_bind_u64(s->q[Q_S_PRUNE], 2, keep);
    return sql_run(s, Q_S_PRUNE);
}
