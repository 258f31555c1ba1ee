/*
 * What the SQLite engine's files share (sqlite_backend.c: the connection,
 * schema and migrations; sqlite_journal.c; sqlite_snapshots.c;
 * sqlite_state.c): the prepared statements, the backend struct and the
 * small helpers every query uses. Nothing outside core/store includes this.
 */
#ifndef DD_STORE_SQLITE_INTERNAL_H
#define DD_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/sqlite_backend.h"

/* Rows per multi-row journal INSERT. */
#define SQL_INSERT_ROWS 16

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_J_HIGHEST,
    Q_J_INSERT,
    Q_J_INSERT_MULTI,
    Q_J_TAG,
    Q_J_META,
    Q_J_REPLAY,
    Q_J_DEL_TAGS,
    Q_J_DEL,
    Q_J_DEL_MARK,
    Q_J_DELETED_TO,
    Q_J_PIDS,
    Q_J_BY_TAG,
    Q_S_SAVE,
    Q_S_FIND,
    Q_S_DELETE,
    Q_S_PRUNE,
    Q_K_GET,
    Q_K_INSERT,
    Q_K_UPDATE,
    Q_K_ANY,
    Q_K_DELETE,
    Q_K_SCAN,
    Q_K_RANGE_FWD,
    Q_K_RANGE_REV,
    Q_K_PURGE,
    Q_COUNT
};

/* Bounded state range statements, one per shape (start none/inclusive/
 * exclusive x end the same x direction x limit x keys only), prepared on
 * first use (sqlite_state.c). */
#define SQL_RANGE_SHAPES 72

typedef struct sql_backend {
    store_backend base;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    sqlite3_stmt *range_q[SQL_RANGE_SHAPES];
    int depth; /* open transaction levels (BEGIN, then SAVEPOINTs) */
    char *path;
    /* The first I/O error (SQLITE_IOERR, SQLITE_FULL), 0 while none. A
     * failed write or fsync is never retried and assumed done (the kernel
     * may have dropped the pages): later writes are ST_EIO until the
     * store is reopened. */
    int failed_rc;
    bool listed; /* in the WAL-size gauge's list (obs/store_files.h) */
    /* Group commit (sqlite_group_commit.h): joined at the first append,
     * left at close; NULL when the file has no group. */
    struct sql_group *group;
    int group_checked;
} sql_backend;

/* Maps an SQLite result code to an ST_E* code with a message naming the
 * file and `what` was being done. */
int sql_error(sql_backend *s, int src, const char *what);
int sql_exec(sql_backend *s, const char *sql);
/* ST_EIO (message set) once an I/O error has been seen. */
int sql_check_writable(sql_backend *s);
/* Steps prepared statement q once and resets it. */
int sql_run(sql_backend *s, int q);
/* BEGIN IMMEDIATE, or a SAVEPOINT inside an open transaction. */
int sql_tx_begin(sql_backend *s);
int sql_tx_commit(sql_backend *s);
/* Rolls back one level, keeping the error that caused it. */
void sql_tx_rollback(sql_backend *s);
/* Registers the SQL functions migration 3 wraps old records with
 * (sqlite_wrap.c). */
int sql_register_wrap(sql_backend *s);
/* Steps a query, handing each row to `row`; resets the statement. */
int sql_step_rows(sql_backend *s, sqlite3_stmt *st, int (*row)(void *, sqlite3_stmt *), void *ctx);

static inline void sql_bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

static inline void sql_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    /* A zero-length blob must still be a blob (not NULL): keys compare
     * by type first. */
    sqlite3_bind_blob64(st, i, n ? p : "", n, SQLITE_STATIC);
}

static inline const uint8_t *sql_col_blob(sqlite3_stmt *st, int i, size_t *len)
{
    const uint8_t *p = sqlite3_column_blob(st, i);
    *len = (size_t)sqlite3_column_bytes(st, i);
    return p ? p : (const uint8_t *)"";
}

/* The backend operations, one file per table family. */
backend_journal_append_fn sql_journal_append;
backend_journal_replay_fn sql_journal_replay;
backend_journal_highest_fn sql_journal_highest;
backend_journal_delete_to_fn sql_journal_delete_to;
backend_journal_deleted_to_fn sql_journal_deleted_to;
backend_journal_pids_fn sql_journal_pids;
backend_journal_by_tag_fn sql_journal_by_tag;
backend_snapshot_save_fn sql_snapshot_save;
backend_snapshot_find_fn sql_snapshot_find;
backend_snapshot_delete_fn sql_snapshot_delete;
backend_snapshot_prune_fn sql_snapshot_prune;
backend_state_upsert_fn sql_state_upsert;
backend_state_get_fn sql_state_get;
backend_state_delete_fn sql_state_delete;
backend_state_scan_fn sql_state_scan;
backend_state_range_fn sql_state_range;
backend_state_purge_fn sql_state_purge;
backend_state_begin_fn sql_state_begin;
backend_state_commit_fn sql_state_commit;
backend_state_scan_range_fn sql_state_scan_range;
backend_state_batch_fn sql_state_batch;
backend_state_purge_prefix_fn sql_state_purge_prefix;
backend_state_flush_fn sql_state_flush;

#endif
