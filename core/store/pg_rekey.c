/*
 * Rekeying a PostgreSQL store (rekey.h): every journal payload, snapshot
 * and state record rewritten in place inside one transaction, so a
 * failure, a record that does not open, or a lost connection rolls
 * everything back and readers see the old keys or the new, never a mix.
 * The three tables are locked against writers first (readers go on), so
 * no record is written under the old key while the rekey runs.
 *
 * Rows are read a page at a time by primary key with binary results; a
 * page is a materialised result, so its rows are rewritten while it is
 * held.
 */
#include <string.h>

#include "store/pg_internal.h"
#include "store/rekey.h"
#include "util/error.h"
#include "util/status.h"

typedef enum pg_table { PT_JOURNAL, PT_SNAPSHOTS, PT_STATE } pg_table;

static const char *const select_sql[] = {
    [PT_JOURNAL] = "SELECT ordering, pid, seq, ts, tags, payload FROM ddata_journal"
                   " WHERE ordering > $1 ORDER BY ordering LIMIT 256",
    [PT_SNAPSHOTS] = "SELECT pid, seq, ts, data FROM ddata_snapshots WHERE (pid, seq) > ($1, $2)"
                     " ORDER BY pid, seq LIMIT 256",
    [PT_STATE] = "SELECT key, revision, data FROM ddata_state WHERE key > $1 ORDER BY key"
                 " LIMIT 256",
};
static const char *const update_sql[] = {
    [PT_JOURNAL] = "UPDATE ddata_journal SET payload = $1 WHERE ordering = $2",
    [PT_SNAPSHOTS] = "UPDATE ddata_snapshots SET data = $1 WHERE pid = $2 AND seq = $3",
    [PT_STATE] = "UPDATE ddata_state SET data = $1 WHERE key = $2",
};

static int run(pg_backend *pg, const char *sql, const pg_params *p, const char *what,
               PGresult **out)
{
    PGresult *r = PQexecParams(pg->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = pg_error(pg, r, what);
        PQclear(r);
        return rc;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return ST_OK;
}

/* Rekeys row `i` of a page into `blob` and writes it back. */
static int rekey_row(pg_backend *pg, rekey *r, pg_table t, const PGresult *res, int i, bytes *blob)
{
    pg_params up;
    memset(&up, 0, sizeof(up));
    size_t len, key_len;
    int rc;
    if (t == PT_JOURNAL) {
        store_event ev;
        memset(&ev, 0, sizeof(ev));
        uint64_t ordering = pg_col_u64(res, i, 0);
        ev.pid = pg_col_blob(res, i, 1, &ev.pid_len);
        ev.seq = pg_col_u64(res, i, 2);
        ev.timestamp_ms = pg_col_u64(res, i, 3);
        ev.tags = PQgetisnull(res, i, 4) ? NULL : pg_col_blob(res, i, 4, &ev.tags_len);
        ev.payload = pg_col_blob(res, i, 5, &ev.payload_len);
        if ((rc = rekey_event(r, &ev, blob)) != ST_OK)
            return rc;
        pg_param_blob(&up, blob->data, blob->len);
        pg_param_u64(&up, ordering);
    } else if (t == PT_SNAPSHOTS) {
        const uint8_t *pid = pg_col_blob(res, i, 0, &key_len);
        uint64_t seq = pg_col_u64(res, i, 1);
        const uint8_t *data = pg_col_blob(res, i, 3, &len);
        if ((rc = rekey_snapshot(r, pid, key_len, seq, pg_col_u64(res, i, 2), data, len, blob)) !=
            ST_OK)
            return rc;
        pg_param_blob(&up, blob->data, blob->len);
        pg_param_blob(&up, pid, key_len);
        pg_param_u64(&up, seq);
    } else {
        const uint8_t *key = pg_col_blob(res, i, 0, &key_len);
        const uint8_t *data = pg_col_blob(res, i, 2, &len);
        if ((rc = rekey_state(r, key, key_len, pg_col_u64(res, i, 1), data, len, blob)) != ST_OK)
            return rc;
        pg_param_blob(&up, blob->data, blob->len);
        pg_param_blob(&up, key, key_len);
    }
    return run(pg, update_sql[t], &up, "writing rekeyed records", NULL);
}

static int rekey_table(pg_backend *pg, rekey *r, pg_table t)
{
    bytes last_key = BYTES_INIT, blob = BYTES_INIT;
    uint64_t last_num = 0;
    int first = 1, rc = ST_OK;
    for (;;) {
        pg_params sel;
        memset(&sel, 0, sizeof(sel));
        if (t == PT_JOURNAL) {
            pg_param_u64(&sel, last_num);
        } else {
            pg_param_blob(&sel, last_key.data, last_key.len);
            if (t == PT_SNAPSHOTS)
                pg_param_i64(&sel, first ? -1 : (int64_t)last_num);
        }
        PGresult *page = NULL;
        if ((rc = run(pg, select_sql[t], &sel, "reading records to rekey", &page)) != ST_OK)
            break;
        int rows = PQntuples(page);
        for (int i = 0; rc == ST_OK && i < rows; i++)
            rc = rekey_row(pg, r, t, page, i, &blob);
        if (rc == ST_OK && rows > 0) {
            size_t n;
            const uint8_t *key = pg_col_blob(page, rows - 1, 0, &n);
            bytes_reset(&last_key);
            if (t == PT_JOURNAL) {
                last_num = pg_col_u64(page, rows - 1, 0);
            } else {
                bytes_put(&last_key, key, n);
                if (t == PT_SNAPSHOTS)
                    last_num = pg_col_u64(page, rows - 1, 1);
            }
            first = 0;
            if (last_key.failed)
                rc = error_oom();
        }
        PQclear(page);
        if (rc != ST_OK || rows == 0)
            break;
    }
    bytes_free(&last_key);
    bytes_free(&blob);
    return rc;
}

int pg_rekey(store_backend *be, rekey *r)
{
    pg_backend *pg = (pg_backend *)be;
    int rc = pg_tx_begin(pg);
    if (rc != ST_OK)
        return rc;
    rc = pg_exec(pg, "LOCK TABLE ddata_journal, ddata_snapshots, ddata_state IN EXCLUSIVE MODE",
                 "locking the tables for the rekey");
    for (pg_table t = PT_JOURNAL; rc == ST_OK && t <= PT_STATE; t++)
        rc = rekey_table(pg, r, t);
    if (rc == ST_OK && (rc = pg_tx_commit(pg)) == ST_OK)
        return ST_OK;
    pg_tx_rollback(pg);
    return rc;
}
