/*
 * PostgreSQL benchmarks: journal appends in batches of 100, replay, 1 KiB
 * snapshot writes and compare-and-set state upserts through ddata's
 * postgres engine, each against raw libpq running the same statements
 * (the engine's own SQL, prepared once, binary parameters, the same
 * pipeline for a batch) on the same server in the same run, so the ratio
 * is the cost of the layer, not of the server.
 *
 * The machine may be shared, so the two sides are interleaved at the
 * finest grain (one batch, one snapshot, one upsert, one whole replay at
 * a time, ddata then raw) on the same connection (the raw side borrows the
 * engine's PGconn, so both talk to the same server process), and a burst
 * of load or a badly placed server process hits both alike.
 *
 * The server is a throwaway one started here (tools/pg-test-server.sh;
 * fsync off, so the figures are the protocol's and the server's CPU, not
 * a disk's) and removed at exit, or DDATA_PG_URL.
 *
 *   journal.append.batch100.postgres   events/s, 100 events per append
 *   journal.replay.postgres            events/s, one pid, in order
 *   snapshot.write.1k.p50.postgres     us per 1 KiB snapshot save
 *   state.upsert.p50.postgres          us per compare-and-set upsert
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "store/journal.h"
#include "store/pg_backend.h"
#include "store/pg_internal.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

#define PID "bench-pid"
#define PID_LEN (sizeof(PID) - 1)
#define BATCH 100
#define BATCH_ROUNDS 300
#define REPLAY_N 20000
#define SNAP_N 2000
#define STATE_N 2000
#define REPLAY_ROUNDS 20 /* alternating; the best round of each side counts */

static char url[1024];
static char state_dir[64];

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_postgres: %s: %s\n", what, msg);
    exit(1);
}

static void stop_server(void)
{
    if (!state_dir[0])
        return;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "sh tools/pg-test-server.sh stop '%s' >/dev/null 2>&1; rm -rf '%s'",
             state_dir, state_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_postgres: stopping the server in %s failed\n", state_dir);
}

static void start_server(void)
{
    const char *env = getenv("DDATA_PG_URL");
    if (env && env[0]) {
        snprintf(url, sizeof(url), "%s", env);
        return;
    }
    snprintf(state_dir, sizeof(state_dir), "/tmp/ddata-pg-bench.XXXXXX");
    if (!mkdtemp(state_dir))
        die("mkdtemp", "failed");
    atexit(stop_server);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "sh tools/pg-test-server.sh start '%s'", state_dir);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(url, sizeof(url), p))
        die("starting a server", "tools/pg-test-server.sh printed no URL (run from the tree)");
    if (pclose(p) != 0)
        die("starting a server", "tools/pg-test-server.sh failed");
    url[strcspn(url, "\n")] = 0;
}

/* A fresh schema per measurement; returns its connection string. */
static const char *fresh_schema(const char *name)
{
    static char conninfo[1400];
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        die("connecting", PQerrorMessage(c));
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE;"
             " CREATE SCHEMA %s",
             name, name);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    snprintf(conninfo, sizeof(conninfo), "%s%soptions=-csearch_path%%3D%s", url,
             strchr(url, '?') ? "&" : "?", name);
    return conninfo;
}

/* ---- ddata ------------------------------------------------------------ */

/* A journal on a fresh schema, and its engine's connection for the raw
 * side (prepared with the engine's statements under the same names). */
static journal *open_journal(const char *schema, PGconn **conn)
{
    store_backend *be;
    journal *j;
    if (store_backend_open_postgres(&be, fresh_schema(schema), NULL) != ST_OK)
        die("opening a journal", error_message());
    *conn = ((pg_backend *)be)->conn;
    if (journal_open_backend(&j, be, NULL, NULL) != ST_OK)
        die("opening a journal", error_message());
    return j;
}

/* The 64-byte payload every benchmark event carries. */
static uint8_t event_payload[64];

/* A batch of BATCH events carrying event_payload. */
static void fill_batch(journal_event_in ev[BATCH])
{
    for (int i = 0; i < BATCH; i++)
        ev[i] = (journal_event_in){event_payload, sizeof(event_payload), 1000, NULL, 0};
}

static int count_event(void *ctx, const store_event *ev)
{
    (void)ev;
    (*(uint64_t *)ctx)++;
    return 0;
}

/* ---- raw libpq: the engine's statements, no layer --------------------- */

static void raw_send(PGconn *c, int q, const pg_params *p)
{
    char name[16];
    snprintf(name, sizeof(name), "dd%d", q);
    if (!PQsendQueryPrepared(c, name, p->n, p->values, p->lengths, p->formats, 1))
        die("send", PQerrorMessage(c));
}

/* Runs statement q and dies (saying `what`) unless its result has status
 * `want`; the caller clears the result. */
static PGresult *raw_exec(PGconn *c, int q, const pg_params *p, ExecStatusType want,
                          const char *what)
{
    char name[16];
    snprintf(name, sizeof(name), "dd%d", q);
    PGresult *r = PQexecPrepared(c, name, p->n, p->values, p->lengths, p->formats, 1);
    if (PQresultStatus(r) != want)
        die(what, PQresultErrorMessage(r));
    return r;
}

/* One batch of BATCH events through raw libpq: the engine's pipeline. */
static void raw_batch(PGconn *c, uint64_t expected, const uint8_t *payload, size_t len)
{
    PQenterPipelineMode(c);
    PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 1);
    pg_params p = {0};
    pg_param_blob(&p, PID, PID_LEN);
    pg_param_u64(&p, expected);
    pg_param_u64(&p, expected + BATCH);
    raw_send(c, expected ? PQ_J_META_CAS : PQ_J_META_INSERT, &p);
    p.n = 0;
    pg_param_u64(&p, BATCH);
    raw_send(c, PQ_J_ORDER, &p);
    for (int i = 0; i < BATCH; i++) {
        p.n = 0;
        pg_param_blob(&p, PID, PID_LEN);
        pg_param_u64(&p, expected + (uint64_t)i + 1);
        pg_param_u64(&p, (uint64_t)(BATCH - 1 - i));
        pg_param_u64(&p, 1000);
        pg_param_blob(&p, payload, len);
        pg_param_blob(&p, NULL, 0);
        p.values[p.n - 1] = NULL;
        raw_send(c, PQ_J_INSERT, &p);
    }
    PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 1);
    PQpipelineSync(c);
    for (;;) {
        PGresult *res = PQgetResult(c);
        if (!res)
            continue;
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (st == PGRES_PIPELINE_SYNC)
            break;
        if (st == PGRES_FATAL_ERROR)
            die("raw append", PQerrorMessage(c));
    }
    PQexitPipelineMode(c);
}

static void bench_append(void)
{
    PGconn *c;
    journal *j = open_journal("bench_append", &c);
    journal_event_in ev[BATCH];
    fill_batch(ev);
    double dd_s = 0, raw_s = 0;
    for (uint64_t r = 0; r < BATCH_ROUNDS; r++) {
        double t0 = bench_now_s();
        if (journal_append(j, (const uint8_t *)PID, PID_LEN, 2 * r * BATCH, ev, BATCH) != ST_OK)
            die("append", error_message());
        double t1 = bench_now_s();
        raw_batch(c, (2 * r + 1) * BATCH, event_payload, sizeof(event_payload));
        raw_s += bench_now_s() - t1;
        dd_s += t1 - t0;
    }
    journal_close(j);
    bench_report_vs("journal.append.batch100.postgres", "events/s", BATCH_ROUNDS * BATCH / dd_s,
                    BATCH_ROUNDS * BATCH / raw_s, true);
}

static volatile uint64_t replay_sink; /* keeps the raw side reading the rows */

static uint64_t raw_replay(PGconn *c)
{
    uint64_t n = 0, next = 1;
    for (;;) {
        pg_params p = {0};
        pg_param_blob(&p, PID, PID_LEN);
        pg_param_u64(&p, next);
        pg_param_u64(&p, STORE_SEQ_MAX);
        pg_param_u64(&p, PG_PAGE_ROWS);
        PGresult *r = raw_exec(c, PQ_J_REPLAY, &p, PGRES_TUPLES_OK, "raw replay");
        int rows = PQntuples(r);
        for (int i = 0; i < rows; i++) {
            size_t len;
            replay_sink += pg_col_u64(r, i, 0) + pg_col_u64(r, i, 2) +
                           (uint64_t)pg_col_blob(r, i, 3, &len)[0] + len;
            n++;
        }
        if (rows)
            next = pg_col_u64(r, rows - 1, 1) + 1;
        PQclear(r);
        if (rows < PG_PAGE_ROWS)
            break;
    }
    return n;
}

static void bench_replay(void)
{
    PGconn *c;
    journal *j = open_journal("bench_replay", &c);
    journal_event_in ev[BATCH];
    fill_batch(ev);
    for (uint64_t s = 0; s < REPLAY_N; s += BATCH)
        if (journal_append(j, (const uint8_t *)PID, PID_LEN, s, ev, BATCH) != ST_OK)
            die("filling", error_message());
    double dd_s = 1e300, raw_s = 1e300;
    for (int r = 0; r < REPLAY_ROUNDS; r++) {
        uint64_t n = 0;
        double t0 = bench_now_s();
        if (journal_replay(j, (const uint8_t *)PID, PID_LEN, 1, UINT64_MAX, UINT64_MAX, count_event,
                           &n) != ST_OK)
            die("replay", error_message());
        double t1 = bench_now_s();
        uint64_t raw_n = raw_replay(c);
        double t2 = bench_now_s();
        raw_s = t2 - t1 < raw_s ? t2 - t1 : raw_s;
        dd_s = t1 - t0 < dd_s ? t1 - t0 : dd_s;
        if (n != REPLAY_N || raw_n != REPLAY_N)
            die("replay", "wrong count");
    }
    journal_close(j);
    bench_report_vs("journal.replay.postgres", "events/s", REPLAY_N / dd_s, REPLAY_N / raw_s, true);
}

static void bench_snapshot(void)
{
    PGconn *c;
    journal *j = open_journal("bench_snapshot", &c);
    static uint8_t data[1024];
    static double dd_us[SNAP_N], raw_us[SNAP_N];
    for (int i = 0; i < SNAP_N; i++) {
        double t0 = bench_now_s();
        if (journal_snapshot_save(j, (const uint8_t *)PID, PID_LEN, 2 * (uint64_t)i + 1, 1000, data,
                                  sizeof(data)) != ST_OK)
            die("snapshot", error_message());
        double t1 = bench_now_s();
        pg_params p = {0};
        pg_param_blob(&p, PID, PID_LEN);
        pg_param_u64(&p, 2 * (uint64_t)i + 2);
        pg_param_u64(&p, 1000);
        pg_param_blob(&p, data, sizeof(data));
        PQclear(raw_exec(c, PQ_S_SAVE, &p, PGRES_COMMAND_OK, "raw snapshot"));
        raw_us[i] = (bench_now_s() - t1) * 1e6;
        dd_us[i] = (t1 - t0) * 1e6;
    }
    journal_close(j);
    bench_report_vs("snapshot.write.1k.p50.postgres", "us", bench_percentile(dd_us, SNAP_N, 50),
                    bench_percentile(raw_us, SNAP_N, 50), false);
}

static void bench_state(void)
{
    store_backend *be;
    state_store *s;
    if (store_backend_open_postgres(&be, fresh_schema("bench_state"), NULL) != ST_OK)
        die("opening a state store", error_message());
    PGconn *c = ((pg_backend *)be)->conn;
    if (state_store_open_backend(&s, be, NULL) != ST_OK)
        die("opening a state store", error_message());
    static uint8_t value[128];
    static double dd_us[STATE_N], raw_us[STATE_N];
    for (int i = 0; i < STATE_N; i++) {
        double t0 = bench_now_s();
        if (state_store_upsert(s, (const uint8_t *)"key", 3, (uint64_t)i, value, sizeof(value),
                               NULL) != ST_OK)
            die("upsert", error_message());
        double t1 = bench_now_s();
        pg_params p = {0};
        pg_param_blob(&p, "raw-key", 7);
        pg_param_blob(&p, value, sizeof(value));
        int q = PQ_K_INSERT;
        if (i) {
            pg_param_u64(&p, (uint64_t)i);
            q = PQ_K_UPDATE;
        }
        PGresult *r = raw_exec(c, q, &p, PGRES_TUPLES_OK, "raw upsert");
        if (PQntuples(r) != 1)
            die("raw upsert", PQresultErrorMessage(r));
        PQclear(r);
        raw_us[i] = (bench_now_s() - t1) * 1e6;
        dd_us[i] = (t1 - t0) * 1e6;
    }
    state_store_close(s);
    bench_report_vs("state.upsert.p50.postgres", "us", bench_percentile(dd_us, STATE_N, 50),
                    bench_percentile(raw_us, STATE_N, 50), false);
}

int main(void)
{
    start_server();
    bench_append();
    bench_replay();
    bench_snapshot();
    bench_state();
    return 0;
}
