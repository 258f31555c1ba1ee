/*
 * Rekeying a SQLite store (rekey.h): every journal payload, snapshot and
 * state record rewritten in place inside one write transaction, so a
 * crash or a record that does not open rolls everything back and readers
 * see the old keys or the new, never a mix. Numbers, orderings, tags and
 * revisions are other columns, untouched.
 *
 * Rows are read a page at a time by primary key and written after the
 * page's query is reset: SQLite leaves undefined what a running query
 * sees of rows the same connection changes under it. secure_delete is on,
 * so freed pages keep no envelope of the old key.
 *
 * A snapshots table kept in a second file (sqlite_options.snapshot_path,
 * ATTACHed as `snap`) joins the same transaction; in WAL mode SQLite
 * commits each file atomically but not both together, so a crash at the
 * commit itself can leave the snapshots file behind the main one: a rerun
 * with a ring holding both keys finishes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rekey.h"
#include "store/sqlite_internal.h"
#include "util/error.h"
#include "util/status.h"

#define PAGE_ROWS 256

/* One rewritten row: its primary key (a blob and/or a number) and blob. */
typedef struct pending_row {
    bytes key;
    uint64_t num;
    bytes blob;
} pending_row;

typedef struct page {
    pending_row rows[PAGE_ROWS];
    size_t n;
} page;

static void page_clear(page *p)
{
    for (size_t i = 0; i < PAGE_ROWS; i++) {
        bytes_reset(&p->rows[i].key);
        bytes_reset(&p->rows[i].blob);
    }
    p->n = 0;
}

static void page_free(page *p)
{
    for (size_t i = 0; i < PAGE_ROWS; i++) {
        bytes_free(&p->rows[i].key);
        bytes_free(&p->rows[i].blob);
    }
}

typedef enum table { T_JOURNAL, T_SNAPSHOTS, T_STATE } table;

static const char *const select_sql[] = {
    [T_JOURNAL] = "SELECT ordering, pid, seq, ts, tags, payload FROM main.journal"
                  " WHERE ordering > ?1 ORDER BY ordering LIMIT %d",
    [T_SNAPSHOTS] = "SELECT pid, seq, ts, data FROM %s.snapshots WHERE (pid, seq) > (?1, ?2)"
                    " ORDER BY pid, seq LIMIT %d",
    [T_STATE] = "SELECT key, revision, data FROM main.state WHERE key > ?1 ORDER BY key LIMIT %d",
};
static const char *const update_sql[] = {
    [T_JOURNAL] = "UPDATE main.journal SET payload = ?1 WHERE ordering = ?3",
    [T_SNAPSHOTS] = "UPDATE %s.snapshots SET data = ?1 WHERE pid = ?2 AND seq = ?3",
    [T_STATE] = "UPDATE main.state SET data = ?1 WHERE key = ?2",
};

static int prepare(sql_backend *s, const char *fmt, const char *schema, sqlite3_stmt **out)
{
    char sql[512];
    if (schema)
        snprintf(sql, sizeof(sql), fmt, schema, PAGE_ROWS);
    else
        snprintf(sql, sizeof(sql), fmt, PAGE_ROWS);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, out, NULL);
    return rc == SQLITE_OK ? ST_OK : sql_error(s, rc, "preparing the rekey");
}

/* Rekeys the row under the cursor into p->rows[p->n]. */
static int rekey_row(rekey *r, table t, sqlite3_stmt *st, page *p)
{
    pending_row *row = &p->rows[p->n];
    size_t key_len, len;
    const uint8_t *key, *data;
    int rc;
    if (t == T_JOURNAL) {
        store_event ev;
        memset(&ev, 0, sizeof(ev));
        row->num = (uint64_t)sqlite3_column_int64(st, 0);
        ev.pid = sql_col_blob(st, 1, &ev.pid_len);
        ev.seq = (uint64_t)sqlite3_column_int64(st, 2);
        ev.timestamp_ms = (uint64_t)sqlite3_column_int64(st, 3);
        ev.tags =
            sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : sql_col_blob(st, 4, &ev.tags_len);
        ev.payload = sql_col_blob(st, 5, &ev.payload_len);
        rc = rekey_event(r, &ev, &row->blob);
    } else if (t == T_SNAPSHOTS) {
        key = sql_col_blob(st, 0, &key_len);
        row->num = (uint64_t)sqlite3_column_int64(st, 1);
        data = sql_col_blob(st, 3, &len);
        bytes_put(&row->key, key, key_len);
        rc = rekey_snapshot(r, key, key_len, row->num, (uint64_t)sqlite3_column_int64(st, 2), data,
                            len, &row->blob);
    } else {
        key = sql_col_blob(st, 0, &key_len);
        row->num = (uint64_t)sqlite3_column_int64(st, 1);
        data = sql_col_blob(st, 2, &len);
        bytes_put(&row->key, key, key_len);
        rc = rekey_state(r, key, key_len, row->num, data, len, &row->blob);
    }
    if (rc == ST_OK && (row->key.failed || row->blob.failed))
        rc = error_oom();
    if (rc == ST_OK)
        p->n++;
    return rc;
}

static int read_page(sql_backend *s, rekey *r, table t, sqlite3_stmt *sel, page *p)
{
    int step, rc = ST_OK;
    while (rc == ST_OK && (step = sqlite3_step(sel)) == SQLITE_ROW)
        rc = rekey_row(r, t, sel, p);
    if (rc == ST_OK && step != SQLITE_DONE)
        rc = sql_error(s, step, "reading records to rekey");
    sqlite3_reset(sel);
    return rc;
}

static int write_page(sql_backend *s, sqlite3_stmt *upd, const page *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const pending_row *row = &p->rows[i];
        sql_bind_blob(upd, 1, row->blob.data, row->blob.len);
        sql_bind_blob(upd, 2, row->key.data, row->key.len);
        sql_bind_u64(upd, 3, row->num);
        int step = sqlite3_step(upd);
        sqlite3_reset(upd);
        sqlite3_clear_bindings(upd);
        if (step != SQLITE_DONE)
            return sql_error(s, step, "writing rekeyed records");
    }
    return ST_OK;
}

static int rekey_table(sql_backend *s, rekey *r, table t, const char *schema, page *p)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = prepare(s, select_sql[t], t == T_SNAPSHOTS ? schema : NULL, &sel);
    if (rc == ST_OK)
        rc = prepare(s, update_sql[t], t == T_SNAPSHOTS ? schema : NULL, &upd);
    /* The cursor: the last primary key of the previous page. */
    bytes last_key = BYTES_INIT;
    uint64_t last_num = 0;
    int first = 1;
    while (rc == ST_OK) {
        page_clear(p);
        if (t == T_JOURNAL) {
            sql_bind_u64(sel, 1, last_num);
        } else if (t == T_SNAPSHOTS) {
            sql_bind_blob(sel, 1, last_key.data, last_key.len);
            sqlite3_bind_int64(sel, 2, first ? -1 : (sqlite3_int64)last_num);
        } else {
            sql_bind_blob(sel, 1, last_key.data, last_key.len);
        }
        rc = read_page(s, r, t, sel, p);
        if (rc != ST_OK || p->n == 0)
            break;
        rc = write_page(s, upd, p);
        const pending_row *tail = &p->rows[p->n - 1];
        bytes_reset(&last_key);
        bytes_put(&last_key, tail->key.data, tail->key.len);
        last_num = tail->num;
        first = 0;
        if (last_key.failed)
            rc = error_oom();
    }
    bytes_free(&last_key);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return rc;
}

int sqlite_rekey(store_backend *be, rekey *r)
{
    sql_backend *s = (sql_backend *)be;
    int rc = sql_check_writable(s);
    if (rc != ST_OK)
        return rc;
    page *p = calloc(1, sizeof(*p));
    if (!p)
        return error_oom();
    const char *schema = sqlite3_db_filename(s->db, "snap") ? "snap" : "main";
    /* The old envelopes must not outlive the rekey in freed pages: this
     * connection is opened for the rekey alone. */
    if ((rc = sql_exec(s, "PRAGMA main.secure_delete = ON")) != ST_OK ||
        (strcmp(schema, "snap") == 0 &&
         (rc = sql_exec(s, "PRAGMA snap.secure_delete = ON")) != ST_OK))
        goto done;
    if ((rc = sql_tx_begin(s)) != ST_OK)
        goto done;
    rc = rekey_table(s, r, T_JOURNAL, schema, p);
    if (rc == ST_OK)
        rc = rekey_table(s, r, T_SNAPSHOTS, schema, p);
    if (rc == ST_OK)
        rc = rekey_table(s, r, T_STATE, schema, p);
    if (rc == ST_OK && (rc = sql_tx_commit(s)) == ST_OK)
        goto done;
    sql_tx_rollback(s);
done:
    page_free(p);
    free(p);
    return rc;
}
