/*
 * The PostgreSQL engine's journal. An append is one pipeline, one round
 * trip and one transaction: BEGIN, the compare-and-set of the pid's
 * highest sequence number, the ordering counter, one INSERT per event and
 * per tag, COMMIT. A failed statement makes the server skip the rest up
 * to the Sync (the COMMIT included) and the transaction is rolled back; a
 * client killed before its COMMIT reached the server leaves nothing
 * behind. When queueing fails half-way on the client, ROLLBACK is queued
 * in place of COMMIT, so a partial batch is never committed.
 *
 * Reads are paged (PG_PAGE_ROWS rows per query, resuming after the last
 * row), so a pid of any length replays in bounded memory and a callback
 * that stops early costs at most one page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_internal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/error.h"
#include "util/status.h"

static int pid_conflict(const uint8_t *pid, size_t pid_len, uint64_t expected, uint64_t found)
{
    return error_set(ST_ECONFLICT, "journal '%.*s': expected sequence %llu, found %llu",
                     error_key_len(pid_len), (const char *)pid, (unsigned long long)expected,
                     (unsigned long long)found);
}

int pg_journal_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    pg_backend *pg = (pg_backend *)b;
    pg_params p = {0};
    pg_param_blob(&p, pid, pid_len);
    PGresult *r;
    int rc = pg_run(pg, PQ_J_HIGHEST, &p, "reading a journal", &r);
    if (rc != ST_OK)
        return rc;
    *out = PQntuples(r) ? pg_col_u64(r, 0, 0) : 0;
    PQclear(r);
    return ST_OK;
}

static int send_command(pg_backend *pg, const char *sql, int *sent)
{
    if (!PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 1))
        return pg_error(pg, NULL, "queueing a batch");
    (*sent)++;
    return ST_OK;
}

static int send_prepared(pg_backend *pg, int q, const pg_params *p, int *sent)
{
    char name[16];
    snprintf(name, sizeof(name), "dd%d", q);
    if (!PQsendQueryPrepared(pg->conn, name, p->n, p->values, p->lengths, p->formats, 1))
        return pg_error(pg, NULL, "queueing a batch");
    (*sent)++;
    return ST_OK;
}

/* Queues the batch's statements (the pipeline is open). */
static int queue_batch(pg_backend *pg, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                       const store_event *events, size_t count, int *sent)
{
    pg_params p = {0};
    pg_param_blob(&p, pid, pid_len);
    pg_param_u64(&p, expected_seq);
    pg_param_u64(&p, expected_seq + count);
    int rc = send_command(pg, "BEGIN", sent);
    if (rc != ST_OK || (rc = send_prepared(pg, expected_seq ? PQ_J_META_CAS : PQ_J_META_INSERT, &p,
                                           sent)) != ST_OK)
        return rc;
    p.n = 0;
    pg_param_u64(&p, count);
    if ((rc = send_prepared(pg, PQ_J_ORDER, &p, sent)) != ST_OK)
        return rc;
    for (size_t i = 0; i < count; i++) {
        const store_event *e = &events[i];
        uint64_t back = count - 1 - i; /* this event's ordering is the counter's minus back */
        p.n = 0;
        pg_param_blob(&p, pid, pid_len);
        pg_param_u64(&p, expected_seq + i + 1);
        pg_param_u64(&p, back);
        pg_param_u64(&p, e->timestamp_ms);
        pg_param_blob(&p, e->payload, e->payload_len);
        pg_param_blob(&p, e->tags, e->tags_len);
        if (!e->tags || !e->tags_len)
            p.values[p.n - 1] = NULL; /* SQL NULL: no tags */
        if ((rc = send_prepared(pg, PQ_J_INSERT, &p, sent)) != ST_OK)
            return rc;
        if (!e->tags || !e->tags_len)
            continue;
        reader r;
        size_t left, tl;
        const uint8_t *t;
        if ((rc = store_tags_begin(&r, e->tags, e->tags_len, &left)) != ST_OK)
            return rc;
        while ((rc = store_tags_next(&r, &left, &t, &tl)) == 1) {
            p.n = 0;
            pg_param_blob(&p, t, tl);
            pg_param_u64(&p, back);
            if ((rc = send_prepared(pg, PQ_J_TAG, &p, sent)) != ST_OK)
                return rc;
        }
        if (rc != 0)
            return rc;
    }
    return ST_OK;
}

/* Reads every result up to the Sync; the first failure decides. *conflict
 * is set when the compare-and-set (the statement after BEGIN) found
 * another sequence number. */
static int read_batch(pg_backend *pg, int *conflict)
{
    int rc = ST_OK, index = 0, nulls = 0;
    for (;;) {
        PGresult *r = PQgetResult(pg->conn);
        if (!r) {
            index++;
            if (++nulls > 1 || PQstatus(pg->conn) != CONNECTION_OK) {
                if (rc == ST_OK)
                    rc = pg_error(pg, NULL, "appending");
                break;
            }
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_FATAL_ERROR && rc == ST_OK) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (index == 1 && state && !strcmp(state, "22012"))
                *conflict = 1;
            rc = pg_error(pg, r, "appending");
        }
        PQclear(r);
    }
    return rc;
}

int pg_journal_append(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                      const store_event *events, size_t count)
{
    pg_backend *pg = (pg_backend *)b;
    int rc = pg_ready(pg);
    if (rc != ST_OK)
        return rc;
    if (count == 0) {
        uint64_t highest;
        if ((rc = pg_journal_highest(b, pid, pid_len, &highest)) != ST_OK)
            return rc;
        return highest == expected_seq ? ST_OK : pid_conflict(pid, pid_len, expected_seq, highest);
    }
    for (size_t i = 0; i < count; i++) {
        if (events[i].payload_len > INT32_MAX || events[i].tags_len > INT32_MAX)
            return error_set(ST_ELIMIT, "postgres: event %zu is too large", i);
    }
    if (!PQenterPipelineMode(pg->conn))
        return pg_error(pg, NULL, "starting a batch");
    PQsetnonblocking(pg->conn, 1);
    int sent = 0, conflict = 0;
    char msg[ERROR_MESSAGE_MAX] = "";
    rc = queue_batch(pg, pid, pid_len, expected_seq, events, count, &sent);
    if (rc != ST_OK)
        snprintf(msg, sizeof(msg), "%s", error_message());
    int ended = send_command(pg, rc == ST_OK ? "COMMIT" : "ROLLBACK", &sent) == ST_OK &&
                PQpipelineSync(pg->conn);
    int flushed = ended ? pg_pipeline_flush(pg) : pg_error(pg, NULL, "ending a batch");
    PQsetnonblocking(pg->conn, 0);
    if (flushed != ST_OK) {
        /* The COMMIT never reached the server, which rolls back when it
         * notices the connection is gone. Drop it; the next call
         * reconnects. */
        PQreset(pg->conn);
        pg->prepared = 0;
        return rc != ST_OK ? error_set(rc, "%s", msg) : flushed;
    }
    int read = read_batch(pg, &conflict);
    if (PQtransactionStatus(pg->conn) == PQTRANS_INERROR) {
        PQexitPipelineMode(pg->conn);
        PQclear(PQexec(pg->conn, "ROLLBACK"));
    }
    PQexitPipelineMode(pg->conn);
    if (rc != ST_OK)
        return error_set(rc, "%s", msg);
    if (conflict) {
        uint64_t highest;
        int rc2 = pg_journal_highest(b, pid, pid_len, &highest);
        return rc2 != ST_OK ? rc2 : pid_conflict(pid, pid_len, expected_seq, highest);
    }
    return read;
}

static int emit_row(const PGresult *r, int row, const uint8_t *pid, size_t pid_len,
                    store_event_fn fn, void *ctx)
{
    store_event ev;
    ev.ordering = pg_col_u64(r, row, 0);
    ev.seq = pg_col_u64(r, row, 1);
    ev.timestamp_ms = pg_col_u64(r, row, 2);
    ev.payload = pg_col_blob(r, row, 3, &ev.payload_len);
    if (PQgetisnull(r, row, 4)) {
        ev.tags = NULL;
        ev.tags_len = 0;
    } else {
        ev.tags = pg_col_blob(r, row, 4, &ev.tags_len);
    }
    if (pid) {
        ev.pid = pid;
        ev.pid_len = pid_len;
    } else {
        ev.pid = pg_col_blob(r, row, 5, &ev.pid_len);
    }
    return fn(ctx, &ev);
}

/* Calls fn for each row of r (pid NULL: each row names its own), until it
 * returns non-zero. */
static int emit_rows(const PGresult *r, const uint8_t *pid, size_t pid_len, store_event_fn fn,
                     void *ctx)
{
    int rc = 0;
    for (int i = 0, rows = PQntuples(r); i < rows && rc == 0; i++)
        rc = emit_row(r, i, pid, pid_len, fn, ctx);
    return rc;
}

int pg_journal_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                      uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    pg_backend *pg = (pg_backend *)b;
    uint64_t next = from, left = max;
    if (to > STORE_SEQ_MAX)
        to = STORE_SEQ_MAX;
    while (left > 0 && next <= to) {
        uint64_t page = left < PG_PAGE_ROWS ? left : PG_PAGE_ROWS;
        pg_params p = {0};
        pg_param_blob(&p, pid, pid_len);
        pg_param_u64(&p, next);
        pg_param_u64(&p, to);
        pg_param_u64(&p, page);
        PGresult *r;
        int rc = pg_run(pg, PQ_J_REPLAY, &p, "replaying a journal", &r);
        if (rc != ST_OK)
            return rc;
        int rows = PQntuples(r);
        rc = emit_rows(r, pid, pid_len, fn, ctx);
        uint64_t last = rows ? pg_col_u64(r, rows - 1, 1) : 0;
        PQclear(r);
        if (rc != 0)
            return rc;
        if ((uint64_t)rows < page || last >= to)
            break;
        left -= (uint64_t)rows;
        next = last + 1;
    }
    return ST_OK;
}

int pg_journal_delete_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    pg_params p = {0};
    pg_param_blob(&p, pid, pid_len);
    pg_param_u64(&p, to);
    return pg_command((pg_backend *)b, PQ_J_DELETE, &p, "deleting events");
}

int pg_journal_pids(store_backend *b, const uint8_t *after, size_t after_len, uint64_t limit,
                    store_pid_fn fn, void *ctx)
{
    pg_backend *pg = (pg_backend *)b;
    bytes cursor = BYTES_INIT;
    int have_cursor = after_len > 0, rc = ST_OK;
    if (have_cursor)
        bytes_put(&cursor, after, after_len);
    while (limit > 0) {
        if (cursor.failed) {
            rc = error_oom();
            goto done;
        }
        uint64_t page = limit < PG_PAGE_ROWS ? limit : PG_PAGE_ROWS;
        pg_params p = {0};
        pg_param_blob(&p, cursor.data, cursor.len);
        pg_param_u64(&p, have_cursor ? 1 : 0);
        pg_param_u64(&p, page);
        PGresult *r;
        if ((rc = pg_run(pg, PQ_J_PIDS, &p, "listing persistence ids", &r)) != ST_OK)
            goto done;
        int rows = PQntuples(r);
        for (int i = 0; i < rows; i++) {
            size_t n;
            const uint8_t *id = pg_col_blob(r, i, 0, &n);
            if ((rc = fn(ctx, id, n)) != 0) {
                PQclear(r);
                goto done;
            }
            if (i == rows - 1) {
                bytes_reset(&cursor);
                bytes_put(&cursor, id, n);
                have_cursor = 1;
            }
        }
        PQclear(r);
        if ((uint64_t)rows < page)
            break;
        limit -= (uint64_t)rows;
    }
done:
    bytes_free(&cursor);
    return rc;
}

int pg_journal_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                      uint64_t max, store_event_fn fn, void *ctx)
{
    pg_backend *pg = (pg_backend *)b;
    while (max > 0) {
        uint64_t page = max < PG_PAGE_ROWS ? max : PG_PAGE_ROWS;
        pg_params p = {0};
        pg_param_blob(&p, tag, tag_len);
        pg_param_u64(&p, after);
        pg_param_u64(&p, page);
        PGresult *r;
        int rc = pg_run(pg, PQ_J_BY_TAG, &p, "reading events by tag", &r);
        if (rc != ST_OK)
            return rc;
        int rows = PQntuples(r);
        rc = emit_rows(r, NULL, 0, fn, ctx);
        if (rows)
            after = pg_col_u64(r, rows - 1, 0);
        PQclear(r);
        if (rc != 0)
            return rc;
        if ((uint64_t)rows < page)
            break;
        max -= (uint64_t)rows;
    }
    return ST_OK;
}
