/*
 * What the PostgreSQL engine's files share (pg_backend.c: connection,
 * reconnection, schema, errors; pg_journal.c; pg_snapshots.c;
 * pg_state.c): the backend struct, the prepared statements and binary
 * parameter/column helpers. Nothing outside core/store includes this.
 *
 * Every statement is prepared under a fixed name on each (re)connection
 * and run with binary parameters and results: bytea travels as raw bytes,
 * int8 as 8 big-endian bytes, so nothing is escaped or parsed as text.
 */
#ifndef DD_STORE_PG_INTERNAL_H
#define DD_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdint.h>

#include "store/pg_backend.h"

/* Rows fetched per page by replay, by-tag, pids, snapshot and state
 * scans: iteration never holds more than this many rows in memory. */
#define PG_PAGE_ROWS 256

enum {
    PQ_J_META_INSERT,
    PQ_J_META_CAS,
    PQ_J_ORDER,
    PQ_J_INSERT,
    PQ_J_TAG,
    PQ_J_HIGHEST,
    PQ_J_REPLAY,
    PQ_J_DELETE,
    PQ_J_PIDS,
    PQ_J_BY_TAG,
    PQ_S_SAVE,
    PQ_S_FIND,
    PQ_S_DELETE,
    PQ_S_PRUNE,
    PQ_K_GET,
    PQ_K_INSERT,
    PQ_K_UPDATE,
    PQ_K_ANY,
    PQ_K_DELETE,
    PQ_K_FROM,
    PQ_K_AFTER,
    PQ_K_LAST,
    PQ_K_BEFORE,
    PQ_K_PURGE,
    PQ_COUNT
};

/* SQL text of each statement; pg_backend.c prepares them. */
extern const char *const pg_statements[PQ_COUNT];

typedef struct pg_backend {
    store_backend base;
    PGconn *conn;
    char *conninfo;
    pg_options opts;
    int depth;    /* open transaction levels (BEGIN, then SAVEPOINTs) */
    int prepared; /* the statements exist on this connection */
} pg_backend;

#define PG_MAX_PARAMS 8

typedef struct pg_params {
    int n;
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS];
    int formats[PG_MAX_PARAMS];
    uint8_t ints[PG_MAX_PARAMS][8];
} pg_params;

/* Adds a bytea parameter (borrowed; must outlive the call). */
void pg_param_blob(pg_params *p, const void *data, size_t len);
/* Adds an int8 parameter, clamped to INT64_MAX. */
void pg_param_u64(pg_params *p, uint64_t v);
void pg_param_i64(pg_params *p, int64_t v);

/* Reconnects when the connection was lost (the previous call failed with
 * ST_EIO), re-preparing the statements. */
int pg_ready(pg_backend *pg);
/* Runs prepared statement q; on success *out holds a result the caller
 * PQclear()s. Errors are mapped to ST_E* with the server's message and
 * `what` was being done. */
int pg_run(pg_backend *pg, int q, const pg_params *p, const char *what, PGresult **out);
/* Runs prepared statement q for its effect alone (the result is freed). */
int pg_command(pg_backend *pg, int q, const pg_params *p, const char *what);
/* The same for `sql` run unprepared (its shape follows what it is given). */
int pg_run_sql(pg_backend *pg, const char *sql, const pg_params *p, const char *what,
               PGresult **out);
/* Maps a failed result (or a NULL one: the connection) to ST_E*. */
int pg_error(pg_backend *pg, const PGresult *res, const char *what);
/* Runs a parameterless command (BEGIN, COMMIT, ...). */
int pg_exec(pg_backend *pg, const char *sql, const char *what);
/* Waits for the pipeline's queued commands to go out while reading what
 * the server sends back, so a long pipeline never blocks both ends. */
int pg_pipeline_flush(pg_backend *pg);

uint64_t pg_col_u64(const PGresult *r, int row, int col);
const uint8_t *pg_col_blob(const PGresult *r, int row, int col, size_t *len);

/* Transaction levels for the state store's batches. */
int pg_tx_begin(pg_backend *pg);
int pg_tx_commit(pg_backend *pg);
void pg_tx_rollback(pg_backend *pg);

/* The engine's members of the table (backend.h), one file per table
 * family: pg_journal.c, pg_snapshots.c, pg_state.c. */
backend_journal_append_fn pg_journal_append;
backend_journal_replay_fn pg_journal_replay;
backend_journal_highest_fn pg_journal_highest;
backend_journal_delete_to_fn pg_journal_delete_to;
backend_journal_pids_fn pg_journal_pids;
backend_journal_by_tag_fn pg_journal_by_tag;
backend_snapshot_save_fn pg_snapshot_save;
backend_snapshot_find_fn pg_snapshot_find;
backend_snapshot_delete_fn pg_snapshot_delete;
backend_snapshot_prune_fn pg_snapshot_prune;
backend_state_upsert_fn pg_state_upsert;
backend_state_get_fn pg_state_get;
backend_state_delete_fn pg_state_delete;
backend_state_scan_fn pg_state_scan;
backend_state_range_fn pg_state_range;
backend_state_purge_fn pg_state_purge;
backend_state_begin_fn pg_state_begin;
backend_state_commit_fn pg_state_commit;
backend_state_scan_range_fn pg_state_scan_range;
backend_state_batch_fn pg_state_batch;
backend_state_purge_prefix_fn pg_state_purge_prefix;

#endif
