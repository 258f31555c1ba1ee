/*
 * The PostgreSQL engine when things go wrong, against real servers: a
 * server restart fails the calls that see it with ST_EIO and the
 * server's or libpq's message, and the handle reconnects by itself on the
 * next call; a statement that outlives the configured timeout fails with
 * ST_ETIMEOUT; a client killed with SIGKILL in the middle of a batch
 * leaves no part of it behind.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/journal.h"
#include "util/error.h"
#include "util/rng.h"
#include "variants.h"

#define PID(str) (const uint8_t *)(str), strlen(str)

/* The restart test's own server (restarting the shared one would fail
 * the other tests), stopped at exit also when the test fails. Its state
 * lives outside test_tmpdir(), which a passing test removes first. */
static char own_state[64];

static void stop_own_server(void)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "sh '%s' stop '%s' >/dev/null 2>&1; rm -rf '%s'",
             getenv("DDATA_PG_SERVER_SCRIPT"), own_state, own_state);
    if (system(cmd) != 0)
        fprintf(stderr, "stopping the test server in %s failed\n", own_state);
}

static void server_script(const char *verb, char *out, size_t n)
{
    const char *script = getenv("DDATA_PG_SERVER_SCRIPT");
    ASSERT_MSG(script, "DDATA_PG_SERVER_SCRIPT is not set (run through ctest)");
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "env -u DDATA_PG_URL sh '%s' %s '%s'", script, verb, own_state);
    FILE *p = popen(cmd, "r");
    ASSERT(p);
    char line[1024] = "";
    if (!fgets(line, sizeof(line), p))
        line[0] = 0;
    ASSERT_MSG(pclose(p) == 0, "%s %s failed", script, verb);
    line[strcspn(line, "\n")] = 0;
    if (out)
        snprintf(out, n, "%s", line);
}

static void append_one(journal *j, uint64_t after, int expect)
{
    journal_event_in ev = {(const uint8_t *)"x", 1, 1, NULL, 0};
    int rc = journal_append(j, PID("p"), after, &ev, 1);
    ASSERT_MSG(rc == expect, "append after %llu: %d (%s), expected %d", (unsigned long long)after,
               rc, error_message(), expect);
}

TEST(test_server_restart_fails_with_eio_then_reconnects)
{
    snprintf(own_state, sizeof(own_state), "/tmp/ddata-pg-own.XXXXXX");
    ASSERT(mkdtemp(own_state));
    atexit(stop_own_server);
    char url[1024];
    server_script("start", url, sizeof(url));
    store_backend *be;
    ASSERT_OK(store_backend_open_postgres(&be, url, NULL));
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
    append_one(j, 0, ST_OK);

    server_script("restart", NULL, 0);
    append_one(j, 1, ST_EIO);
    ASSERT_MSG(strstr(error_message(), "postgres: "), "message: %s", error_message());
    printf("  after the restart: %s\n", error_message());
    append_one(j, 1, ST_OK); /* reconnected */
    uint64_t h;
    ASSERT_OK(journal_highest(j, PID("p"), &h));
    ASSERT_EQ_U64(h, 2);
    journal_close(j);

    /* A state batch cut by the restart reports it at commit. */
    state_store *s;
    ASSERT_OK(state_store_open_postgres(&s, url, NULL));
    ASSERT_OK(state_store_begin(s));
    ASSERT_OK(state_store_upsert(s, PID("k"), 0, PID("v"), NULL));
    server_script("restart", NULL, 0);
    ASSERT_STATUS(state_store_upsert(s, PID("k2"), 0, PID("v"), NULL), ST_EIO);
    /* Reconnected, but still inside the batch the caller thinks is open:
     * nothing may run (and commit) on its own until the commit. */
    ASSERT_STATUS(state_store_upsert(s, PID("k3"), 0, PID("v"), NULL), ST_EIO);
    ASSERT_STATUS(state_store_commit(s), ST_EIO);
    ASSERT_STATUS(state_store_get(s, PID("k"), NULL, NULL), ST_ENOTFOUND);
    ASSERT_STATUS(state_store_get(s, PID("k3"), NULL, NULL), ST_ENOTFOUND);
    ASSERT_OK(state_store_upsert(s, PID("k"), 0, PID("v"), NULL));
    state_store_close(s);
}

TEST(test_statement_timeout_fails_with_etimeout)
{
    char dir[1024], schema[40], conninfo[1400];
    fresh_dir(dir, sizeof(dir), V_POSTGRES, "timeout");
    pg_test_schema_name(schema, sizeof(schema), dir);
    pg_test_conninfo(conninfo, sizeof(conninfo), schema);
    pg_options o = pg_options_default();
    o.statement_timeout_ms = 200;
    state_store *s;
    ASSERT_OK(state_store_open_postgres(&s, conninfo, &o));
    ASSERT_OK(state_store_upsert(s, PID("k"), 0, PID("v1"), NULL));

    /* Another session holds the row's lock: the update waits, then the
     * server cancels it. */
    PGconn *other = PQconnectdb(conninfo);
    ASSERT(PQstatus(other) == CONNECTION_OK);
    PQclear(PQexec(other, "BEGIN"));
    PGresult *r = PQexec(other, "SELECT 1 FROM ddata_state FOR UPDATE");
    ASSERT(PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    ASSERT_STATUS(state_store_upsert(s, PID("k"), 1, PID("v2"), NULL), ST_ETIMEOUT);
    printf("  %s\n", error_message());
    PQclear(PQexec(other, "ROLLBACK"));
    PQfinish(other);
    ASSERT_OK(state_store_upsert(s, PID("k"), 1, PID("v2"), NULL));
    expect_state(s, "k", 2, "v2");
    state_store_close(s);

    o.statement_timeout_ms = -1;
    store_backend *be = NULL;
    ASSERT_STATUS(store_backend_open_postgres(&be, conninfo, &o), ST_EINVAL);
}

enum { KILL_BATCH = 2000 };

/* Appends batches of KILL_BATCH events until killed. */
static void append_until_killed(const char *conninfo)
{
    store_backend *be;
    journal *j;
    if (store_backend_open_postgres(&be, conninfo, NULL) != ST_OK ||
        journal_open_backend(&j, be, NULL, NULL) != ST_OK)
        _exit(2);
    static uint8_t payload[512];
    static journal_event_in ev[KILL_BATCH];
    for (int i = 0; i < KILL_BATCH; i++)
        ev[i] = (journal_event_in){payload, sizeof(payload), 1, NULL, 0};
    for (uint64_t seq = 0;; seq += KILL_BATCH)
        if (journal_append(j, PID("p"), seq, ev, KILL_BATCH) != ST_OK)
            _exit(3);
}

typedef struct counter {
    uint64_t next, n;
    int gap;
} counter;

static int count_event(void *ctx, const store_event *ev)
{
    counter *c = ctx;
    if (ev->seq != c->next)
        c->gap = 1;
    c->next = ev->seq + 1;
    c->n++;
    return 0;
}

TEST(test_client_killed_mid_batch_leaves_no_partial_batch)
{
    char dir[1024], schema[40], conninfo[1400], tagged[1500];
    fresh_dir(dir, sizeof(dir), V_POSTGRES, "kill");
    pg_test_schema_name(schema, sizeof(schema), dir);
    pg_test_conninfo(conninfo, sizeof(conninfo), schema);
    /* The client names itself, so the test can wait for the server to
     * finish with its connection. */
    snprintf(tagged, sizeof(tagged), "%s%sapplication_name=%s", conninfo,
             strchr(conninfo, '?') ? "&" : (strstr(conninfo, "://") ? "?" : " "), schema);
    if (!strstr(conninfo, "://"))
        snprintf(tagged, sizeof(tagged), "%s application_name=%s", conninfo, schema);
    rng g;
    rng_seed(&g, test_seed());
    int kills = 0;
    for (int round = 0; round < 4; round++) {
        pid_t kid = fork();
        ASSERT(kid >= 0);
        if (kid == 0)
            append_until_killed(tagged);
        struct timespec ts = {0, (long)(50 + rng_below(&g, 400)) * 1000000L};
        nanosleep(&ts, NULL);
        kill(kid, SIGKILL);
        int status;
        ASSERT(waitpid(kid, &status, 0) == kid);
        ASSERT_MSG(WIFSIGNALED(status), "the writer exited early (status %d)", status);
        kills++;
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "DO $$ BEGIN WHILE EXISTS (SELECT 1 FROM pg_stat_activity WHERE"
                 " application_name = '%s') LOOP PERFORM pg_sleep(0.05); PERFORM "
                 "pg_stat_clear_snapshot();"
                 " END LOOP; END $$",
                 schema);
        pg_test_exec(sql);

        journal *j;
        store_backend *be;
        ASSERT_OK(store_backend_open_postgres(&be, conninfo, NULL));
        ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
        uint64_t h;
        ASSERT_OK(journal_highest(j, PID("p"), &h));
        counter c = {1, 0, 0};
        ASSERT_OK(journal_replay(j, PID("p"), 1, UINT64_MAX, UINT64_MAX, count_event, &c));
        ASSERT_MSG(h % KILL_BATCH == 0, "highest %llu is not a whole number of batches",
                   (unsigned long long)h);
        ASSERT_EQ_U64(c.n, h);
        ASSERT(!c.gap);
        printf("  round %d: killed after %llu whole batches\n", round,
               (unsigned long long)(h / KILL_BATCH));
        journal_close(j);
        /* The next round starts after what this one kept. */
        if (h)
            pg_test_fresh_schema(schema);
    }
    ASSERT_EQ_INT(kills, 4);
}

TEST(test_role_that_may_not_create_tables_is_told_to_run_the_schema_sql)
{
    char dir[1024], schema[40], conninfo[1400], as_role[1500], sql[8192];
    fresh_dir(dir, sizeof(dir), V_POSTGRES, "role");
    pg_test_schema_name(schema, sizeof(schema), dir);
    pg_test_conninfo(conninfo, sizeof(conninfo), schema);
    snprintf(sql, sizeof(sql),
             "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ddata_plain')"
             " THEN CREATE ROLE ddata_plain LOGIN; END IF; END $$;"
             " GRANT USAGE ON SCHEMA %s TO ddata_plain",
             schema);
    pg_test_exec(sql);
    snprintf(as_role, sizeof(as_role), "%s%suser=ddata_plain", conninfo,
             strstr(conninfo, "://") ? "&" : " ");

    store_backend *be = NULL;
    ASSERT_STATUS(store_backend_open_postgres(&be, as_role, NULL), ST_EUNSUPPORTED);
    ASSERT_MSG(strstr(error_message(), "permission denied") &&
                   strstr(error_message(), "ddata schema postgres"),
               "message: %s", error_message());

    /* The owner runs the printed SQL and grants the role its rows. */
    snprintf(sql, sizeof(sql),
             "SET search_path = %s; %s GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN"
             " SCHEMA %s TO ddata_plain",
             schema, pg_schema_sql(), schema);
    pg_test_exec(sql);
    ASSERT_OK(store_backend_open_postgres(&be, as_role, NULL));
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
    append_one(j, 0, ST_OK);
    journal_close(j);
}
