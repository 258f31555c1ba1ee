/*
 * The PostgreSQL engine: a store every node of a cluster reaches, through
 * libpq. This file holds the connection (and reconnection), the schema and
 * its migrations, the statements and the helpers shared through
 * pg_internal.h; the tables' operations live in pg_journal.c,
 * pg_snapshots.c and pg_state.c.
 *
 * Schema (ddata_schema.version counts the migrations applied; a newer
 * database than this library knows is refused rather than misread):
 *
 *   ddata_journal(pid, seq, ordering UNIQUE, ts, payload, tags)
 *       PRIMARY KEY(pid, seq)
 *   ddata_journal_meta(pid PRIMARY KEY, highest)
 *       the highest sequence number, updated by every append in the same
 *       transaction and only when it still equals the caller's expected
 *       sequence (compare-and-set in the ON CONFLICT clause), so of two
 *       appends racing for one pid exactly one commits. Deletion leaves it,
 *       so it never decreases.
 *   ddata_ordering(id = 1, next)
 *       the global ordering counter. A sequence would not do: numbers are
 *       handed out at nextval() but become visible at commit, so a reader
 *       resuming "after N" could skip an event whose transaction took a
 *       smaller number and committed later. An append instead takes its
 *       orderings with an UPDATE of this one row, whose row lock is held
 *       until commit: appends that carry events are serialised from that
 *       point to their commit, so orderings are handed out in commit order
 *       and never skip. A batch is one pipeline (one round trip), so the
 *       lock is held for the server's own work only, never across a
 *       network wait.
 *   ddata_event_tags(tag, ordering) PRIMARY KEY(tag, ordering)
 *   ddata_snapshots(pid, seq, ts, data) PRIMARY KEY(pid, seq)
 *   ddata_state(key PRIMARY KEY, revision, data)
 *
 * bytea compares bytewise, a prefix before its extensions, as
 * store_key_cmp does, so ORDER BY pid / key is the contract's order.
 *
 * A lost connection (server restart, network cut) fails the call that saw
 * it with ST_EIO and the server's or libpq's message; the next call
 * reconnects and prepares the statements again. A batch (state_begin)
 * cut by a lost connection was rolled back by the server: its commit
 * reports ST_EIO rather than pretend.
 */
#include "store/pg_backend.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_internal.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

#define SCHEMA_VERSION 1

/* Serialises concurrent first opens: pg_advisory_xact_lock key ("ddat"). */
#define SCHEMA_LOCK_KEY "1684300916"

/* Migration 1: the tables. Migration i brings a schema from version i to
 * i + 1; each is a macro so the full schema below is one literal. */
#define MIGRATION_1                                                                                \
    "CREATE TABLE ddata_journal(pid bytea NOT NULL, seq bigint NOT NULL,"                          \
    " ordering bigint NOT NULL UNIQUE, ts bigint NOT NULL, payload bytea NOT NULL, tags bytea,"    \
    " PRIMARY KEY(pid, seq));\n"                                                                   \
    "CREATE TABLE ddata_journal_meta(pid bytea PRIMARY KEY, highest bigint NOT NULL);\n"           \
    "CREATE TABLE ddata_ordering(id integer PRIMARY KEY CHECK (id = 1), next bigint NOT NULL);\n"  \
    "INSERT INTO ddata_ordering VALUES (1, 0);\n"                                                  \
    "CREATE TABLE ddata_event_tags(tag bytea NOT NULL, ordering bigint NOT NULL,"                  \
    " PRIMARY KEY(tag, ordering));\n"                                                              \
    "CREATE INDEX ddata_event_tags_ordering ON ddata_event_tags(ordering);\n"                      \
    "CREATE TABLE ddata_snapshots(pid bytea NOT NULL, seq bigint NOT NULL, ts bigint NOT NULL,"    \
    " data bytea NOT NULL, PRIMARY KEY(pid, seq));\n"                                              \
    "CREATE TABLE ddata_state(key bytea PRIMARY KEY, revision bigint NOT NULL,"                    \
    " data bytea NOT NULL);\n"

#define SCHEMA_TABLE                                                                               \
    "CREATE TABLE ddata_schema(version integer NOT NULL);\n"                                       \
    "INSERT INTO ddata_schema VALUES (0);\n"

static const char *const migrations[SCHEMA_VERSION] = {MIGRATION_1};

const char *pg_schema_sql(void)
{
    return "-- ddata PostgreSQL schema, version 1\nBEGIN;\n" SCHEMA_TABLE MIGRATION_1
           "UPDATE ddata_schema SET version = 1;\nCOMMIT;\n";
}

const char *const pg_statements[PQ_COUNT] = {
    /* Compare-and-set of the highest sequence number: the first append
     * of a pid inserts its row, later ones move it from $2 (expected) to
     * $3. No row written means a conflict, which the division turns into
     * an error (SQLSTATE 22012) so the server skips the rest of the
     * batch. Under READ COMMITTED a racing writer waits for the row's
     * lock and re-checks the condition against the committed value. */
    [PQ_J_META_INSERT] = "WITH m AS (INSERT INTO ddata_journal_meta(pid, highest)"
                         " VALUES($1::bytea, $3::int8) ON CONFLICT(pid) DO NOTHING RETURNING 1)"
                         " SELECT 1 / count(*) FROM m WHERE $2::int8 = 0",
    [PQ_J_META_CAS] = "WITH m AS (UPDATE ddata_journal_meta SET highest = $3::int8"
                      " WHERE pid = $1::bytea AND highest = $2::int8 RETURNING 1)"
                      " SELECT 1 / count(*) FROM m",
    [PQ_J_ORDER] = "UPDATE ddata_ordering SET next = next + $1::int8 WHERE id = 1",
    [PQ_J_INSERT] = "INSERT INTO ddata_journal(pid, seq, ordering, ts, payload, tags)"
                    " VALUES($1::bytea, $2::int8,"
                    " (SELECT next FROM ddata_ordering WHERE id = 1) - $3::int8,"
                    " $4::int8, $5::bytea, $6::bytea)",
    [PQ_J_TAG] = "INSERT INTO ddata_event_tags(tag, ordering) VALUES($1::bytea,"
                 " (SELECT next FROM ddata_ordering WHERE id = 1) - $2::int8)"
                 " ON CONFLICT DO NOTHING",
    [PQ_J_HIGHEST] = "SELECT highest FROM ddata_journal_meta WHERE pid = $1::bytea",
    [PQ_J_REPLAY] = "SELECT ordering, seq, ts, payload, tags FROM ddata_journal"
                    " WHERE pid = $1::bytea AND seq >= $2::int8 AND seq <= $3::int8"
                    " ORDER BY seq LIMIT $4::int8",
    [PQ_J_DELETE] = "WITH d AS (DELETE FROM ddata_journal WHERE pid = $1::bytea AND seq <= $2::int8"
                    " RETURNING ordering)"
                    " DELETE FROM ddata_event_tags WHERE ordering IN (SELECT ordering FROM d)",
    [PQ_J_PIDS] = "SELECT pid FROM ddata_journal_meta WHERE ($2::int8 = 0 OR pid > $1::bytea)"
                  " ORDER BY pid LIMIT $3::int8",
    [PQ_J_BY_TAG] = "SELECT j.ordering, j.seq, j.ts, j.payload, j.tags, j.pid"
                    " FROM ddata_event_tags t JOIN ddata_journal j ON j.ordering = t.ordering"
                    " WHERE t.tag = $1::bytea AND t.ordering > $2::int8 ORDER BY t.ordering"
                    " LIMIT $3::int8",
    [PQ_S_SAVE] = "INSERT INTO ddata_snapshots(pid, seq, ts, data)"
                  " VALUES($1::bytea, $2::int8, $3::int8, $4::bytea)"
                  " ON CONFLICT(pid, seq) DO UPDATE SET ts = excluded.ts, data = excluded.data",
    [PQ_S_FIND] = "SELECT seq, ts, data FROM ddata_snapshots WHERE pid = $1::bytea"
                  " AND seq >= $2::int8 AND seq <= $3::int8 AND ts >= $4::int8 AND ts <= $5::int8"
                  " ORDER BY seq DESC LIMIT $6::int8",
    [PQ_S_DELETE] = "DELETE FROM ddata_snapshots WHERE pid = $1::bytea AND seq >= $2::int8"
                    " AND seq <= $3::int8 AND ts >= $4::int8 AND ts <= $5::int8",
    [PQ_S_PRUNE] = "DELETE FROM ddata_snapshots WHERE pid = $1::bytea AND seq NOT IN"
                   " (SELECT seq FROM ddata_snapshots WHERE pid = $1::bytea ORDER BY seq DESC"
                   " LIMIT $2::int8)",
    [PQ_K_GET] = "SELECT revision, data FROM ddata_state WHERE key = $1::bytea",
    [PQ_K_INSERT] = "INSERT INTO ddata_state(key, revision, data) VALUES($1::bytea, 1, $2::bytea)"
                    " ON CONFLICT(key) DO NOTHING RETURNING revision",
    [PQ_K_UPDATE] = "UPDATE ddata_state SET revision = revision + 1, data = $2::bytea"
                    " WHERE key = $1::bytea AND revision = $3::int8 RETURNING revision",
    [PQ_K_ANY] = "INSERT INTO ddata_state AS t(key, revision, data) VALUES($1::bytea, 1, $2::bytea)"
                 " ON CONFLICT(key) DO UPDATE SET revision = t.revision + 1, data = excluded.data"
                 " RETURNING revision",
    [PQ_K_DELETE] = "DELETE FROM ddata_state WHERE key = $1::bytea"
                    " AND ($2::int8 = -1 OR revision = $2::int8)",
    [PQ_K_FROM] = "SELECT key, revision, data FROM ddata_state WHERE key >= $1::bytea"
                  " ORDER BY key LIMIT $2::int8",
    [PQ_K_AFTER] = "SELECT key, revision, data FROM ddata_state WHERE key > $1::bytea"
                   " ORDER BY key LIMIT $2::int8",
    [PQ_K_LAST] =
        "SELECT key, revision, data FROM ddata_state WHERE ($3::int8 = 0 OR key <= $1::bytea)"
        " ORDER BY key DESC LIMIT $2::int8",
    [PQ_K_BEFORE] = "SELECT key, revision, data FROM ddata_state WHERE key < $1::bytea"
                    " ORDER BY key DESC LIMIT $2::int8",
    [PQ_K_PURGE] = "DELETE FROM ddata_state",
};

void pg_param_blob(pg_params *p, const void *data, size_t len)
{
    /* A zero-length bytea must still be a value, not NULL. */
    p->values[p->n] = len ? data : "";
    p->lengths[p->n] = (int)len;
    p->formats[p->n] = 1;
    p->n++;
}

void pg_param_i64(pg_params *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p->ints[p->n][i] = (uint8_t)(u >> (56 - 8 * i));
    p->values[p->n] = (const char *)p->ints[p->n];
    p->lengths[p->n] = 8;
    p->formats[p->n] = 1;
    p->n++;
}

void pg_param_u64(pg_params *p, uint64_t v)
{
    pg_param_i64(p, v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v);
}

uint64_t pg_col_u64(const PGresult *r, int row, int col)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    if (PQgetlength(r, row, col) != 8)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

const uint8_t *pg_col_blob(const PGresult *r, int row, int col, size_t *len)
{
    *len = (size_t)PQgetlength(r, row, col);
    return (const uint8_t *)PQgetvalue(r, row, col);
}

/* The server's or libpq's message, on one line. */
static void one_line(char *dst, size_t n, const char *msg)
{
    snprintf(dst, n, "%s", msg && msg[0] ? msg : "unknown error");
    for (char *c = dst; *c; c++)
        if (*c == '\n')
            *c = (c[1] ? ' ' : '\0');
}

int pg_error(pg_backend *pg, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[ERROR_MESSAGE_MAX];
    one_line(msg, sizeof(msg),
             res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
                                                 : PQerrorMessage(pg->conn));
    int code = ST_EIO;
    if (state) {
        if (!strcmp(state, "23505"))
            code = ST_ECONFLICT;
        else if (!strcmp(state, "57014") || !strcmp(state, "55P03"))
            code = ST_ETIMEOUT;
        else if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
            code = ST_EBUSY;
        else if (!strncmp(state, "54", 2))
            code = ST_ELIMIT;
        else if (!strcmp(state, "53200"))
            code = ST_ENOMEM;
    }
    return error_set(code, "postgres: %s: %s", what, msg);
}

/* *out = r when r succeeded; otherwise maps r to ST_E* and frees it. */
static int take_result(pg_backend *pg, PGresult *r, const char *what, PGresult **out)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = pg_error(pg, r, what);
        PQclear(r);
        return rc;
    }
    *out = r;
    return ST_OK;
}

int pg_exec(pg_backend *pg, const char *sql, const char *what)
{
    PGresult *r = NULL;
    int rc = take_result(pg, PQexec(pg->conn, sql), what, &r);
    PQclear(r);
    return rc;
}

int pg_run(pg_backend *pg, int q, const pg_params *p, const char *what, PGresult **out)
{
    *out = NULL;
    int rc = pg_ready(pg);
    if (rc != ST_OK)
        return rc;
    char name[16];
    snprintf(name, sizeof(name), "dd%d", q);
    return take_result(pg,
                       PQexecPrepared(pg->conn, name, p ? p->n : 0, p ? p->values : NULL,
                                      p ? p->lengths : NULL, p ? p->formats : NULL, 1),
                       what, out);
}

int pg_command(pg_backend *pg, int q, const pg_params *p, const char *what)
{
    PGresult *r;
    int rc = pg_run(pg, q, p, what, &r);
    PQclear(r);
    return rc;
}

int pg_run_sql(pg_backend *pg, const char *sql, const pg_params *p, const char *what,
               PGresult **out)
{
    *out = NULL;
    int rc = pg_ready(pg);
    if (rc != ST_OK)
        return rc;
    return take_result(
        pg, PQexecParams(pg->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 1), what,
        out);
}

int pg_pipeline_flush(pg_backend *pg)
{
    int fd = PQsocket(pg->conn);
    for (;;) {
        int r = PQflush(pg->conn);
        if (r == 0)
            return ST_OK;
        if (r < 0)
            return pg_error(pg, NULL, "sending a batch");
        struct pollfd p = {fd, POLLIN | POLLOUT, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return error_set(ST_EIO, "postgres: waiting for the server: %s", strerror(errno));
        if ((p.revents & POLLIN) && !PQconsumeInput(pg->conn))
            return pg_error(pg, NULL, "sending a batch");
    }
}

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Session settings and statements, on a fresh connection. */
static int setup_session(pg_backend *pg)
{
    PQsetNoticeProcessor(pg->conn, quiet_notices, NULL);
    char sql[96];
    snprintf(sql, sizeof(sql), "SET statement_timeout = %d", pg->opts.statement_timeout_ms);
    int rc = pg_exec(pg, sql, "setting the statement timeout");
    if (rc != ST_OK)
        return rc;
    for (int q = 0; q < PQ_COUNT; q++) {
        char name[16];
        snprintf(name, sizeof(name), "dd%d", q);
        PGresult *r = PQprepare(pg->conn, name, pg_statements[q], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_error(pg, r, "preparing statements");
            PQclear(r);
            return rc;
        }
        PQclear(r);
    }
    pg->prepared = 1;
    return ST_OK;
}

static int lost_batch(void)
{
    return error_set(ST_EIO, "postgres: the connection was lost inside a batch, which the server"
                             " rolled back; commit to end it");
}

int pg_ready(pg_backend *pg)
{
    if (pg->depth < 0)
        return lost_batch(); /* nothing runs outside the batch the caller thinks is open */
    if (PQstatus(pg->conn) == CONNECTION_OK && pg->prepared)
        return ST_OK;
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        int in_batch = pg->depth > 0;
        pg->depth = 0;
        pg->prepared = 0;
        PQreset(pg->conn);
        if (PQstatus(pg->conn) != CONNECTION_OK)
            return pg_error(pg, NULL, "reconnecting");
        int rc = setup_session(pg);
        if (rc == ST_OK && in_batch) {
            /* The server rolled the batch back with the old connection;
             * the caller's commit must hear it. Run nothing until then. */
            pg->depth = -1;
            return lost_batch();
        }
        return rc;
    }
    return setup_session(pg);
}

int pg_tx_begin(pg_backend *pg)
{
    int rc = pg_ready(pg);
    if (rc != ST_OK)
        return rc;
    rc = pg_exec(pg, pg->depth ? "SAVEPOINT dd" : "BEGIN", "beginning a transaction");
    if (rc == ST_OK)
        pg->depth++;
    return rc;
}

int pg_tx_commit(pg_backend *pg)
{
    int rc = pg_ready(pg);
    if (pg->depth < 0) {
        pg->depth = 0;
        return error_set(ST_EIO, "postgres: the connection was lost inside a batch, which the"
                                 " server rolled back");
    }
    if (rc != ST_OK)
        return rc;
    rc = pg_exec(pg, pg->depth > 1 ? "RELEASE dd" : "COMMIT", "committing");
    if (rc == ST_OK)
        pg->depth--;
    return rc;
}

void pg_tx_rollback(pg_backend *pg)
{
    int saved = error_code();
    char msg[ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), "%s", error_message());
    if (pg->depth > 1) {
        pg_exec(pg, "ROLLBACK TO dd", "rolling back");
        pg_exec(pg, "RELEASE dd", "rolling back");
    } else if (pg->depth == 1 && PQstatus(pg->conn) == CONNECTION_OK) {
        pg_exec(pg, "ROLLBACK", "rolling back");
    }
    if (pg->depth > 0)
        pg->depth--;
    error_set(saved, "%s", msg);
}

static void pg_close(store_backend *b)
{
    pg_backend *pg = (pg_backend *)b;
    if (!pg)
        return;
    PQfinish(pg->conn); /* an open transaction is rolled back by the server */
    free(pg->conninfo);
    free(pg);
}

static const store_backend_ops pg_ops = {
    .name = "postgres",
    STORE_BACKEND_OPS_NAMED(pg),
    .state_begin = pg_state_begin,
    .state_commit = pg_state_commit,
};

/* One text value of a one-row query, or "" when it returned no row. */
static int query_text(pg_backend *pg, const char *sql, char *out, size_t n)
{
    PGresult *r = PQexec(pg->conn, sql);
    int rc = ST_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = pg_error(pg, r, "reading the schema version");
    else
        snprintf(out, n, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return rc;
}

/* Creates or brings the schema up to SCHEMA_VERSION, in one transaction
 * under an advisory lock so concurrent first opens migrate once. A role
 * that may not create tables is told what to run instead. */
static int migrate(pg_backend *pg)
{
    int rc = pg_exec(pg, "BEGIN", "beginning the schema check");
    if (rc != ST_OK)
        return rc;
    char buf[64];
    if ((rc = pg_exec(pg, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY ")",
                      "locking the schema")) != ST_OK)
        goto fail;
    if ((rc = query_text(pg, "SELECT to_regclass('ddata_schema') IS NOT NULL", buf, sizeof(buf))) !=
        ST_OK)
        goto fail;
    const char *what = "creating the tables";
    if (strcmp(buf, "t") != 0 && (rc = pg_exec(pg, SCHEMA_TABLE, what)) != ST_OK)
        goto refused;
    if ((rc = query_text(pg, "SELECT version FROM ddata_schema", buf, sizeof(buf))) != ST_OK)
        goto fail;
    int v = atoi(buf);
    if (v > SCHEMA_VERSION) {
        rc = error_set(ST_EUNSUPPORTED,
                       "postgres: schema version %d is newer than this library's (%d)", v,
                       SCHEMA_VERSION);
        goto fail;
    }
    for (; v < SCHEMA_VERSION; v++) {
        char sql[64];
        if ((rc = pg_exec(pg, migrations[v], what)) != ST_OK)
            goto refused;
        snprintf(sql, sizeof(sql), "UPDATE ddata_schema SET version = %d", v + 1);
        if ((rc = pg_exec(pg, sql, what)) != ST_OK)
            goto fail;
    }
    return pg_exec(pg, "COMMIT", "committing the schema");
refused:
    if (strstr(error_message(), "permission denied")) {
        char msg[ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s", error_message());
        rc = error_set(ST_EUNSUPPORTED,
                       "%s; the role may not create the ddata tables: have their owner run the"
                       " SQL printed by `ddata schema postgres`, then open again",
                       msg);
    }
fail:
    PQclear(PQexec(pg->conn, "ROLLBACK"));
    return rc;
}

int store_backend_open_postgres(store_backend **out, const char *conninfo, const pg_options *opts)
{
    pg_options o = opts ? *opts : pg_options_default();
    if (!out || !conninfo || !conninfo[0])
        return error_set(ST_EINVAL, "postgres store: the connection string must not be empty");
    *out = NULL;
    if (o.statement_timeout_ms < 0)
        return error_set(ST_EINVAL, "postgres store: statement timeout must not be negative");
    pg_backend *pg = calloc(1, sizeof(*pg));
    if (!pg || !(pg->conninfo = strdup(conninfo))) {
        free(pg);
        return error_oom();
    }
    pg->base.ops = &pg_ops;
    pg->opts = o;
    int rc;
    pg->conn = PQconnectdb(conninfo);
    if (!pg->conn) {
        rc = error_oom();
        goto fail;
    }
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        rc = pg_error(pg, NULL, "connecting");
        goto fail;
    }
    PQsetNoticeProcessor(pg->conn, quiet_notices, NULL);
    if ((rc = migrate(pg)) != ST_OK)
        goto fail;
    if ((rc = setup_session(pg)) != ST_OK)
        goto fail;
    *out = &pg->base;
    return ST_OK;
fail:
    pg_close(&pg->base);
    return rc;
}

int state_store_open_postgres(state_store **out, const char *conninfo, const pg_options *opts)
{
    store_backend *be;
    int rc = store_backend_open_postgres(&be, conninfo, opts);
    if (rc != ST_OK)
        return rc;
    return state_store_open_backend(out, be, NULL);
}
