/*
 * Many actors persisting one event each (group commit, issue 20):
 *
 *   journal.append.concurrent64          events/s, 64 threads, each with its
 *                                        own journal on one SQLite file and
 *                                        its own pid, one event per append,
 *                                        synchronous=FULL
 *   journal.append.concurrent64.normal   the same with synchronous=NORMAL
 *
 * The baseline is raw SQLite in the same run doing the same from 64
 * threads: a connection each, one BEGIN IMMEDIATE transaction per append
 * (read the highest, insert, update it, commit), waiting on the busy
 * handler when another thread holds the write lock. Each side runs for
 * RUN_SECONDS; every acknowledged append counts.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "raw_sqlite.h"
#include "store/journal.h"
#include "store/sqlite_backend.h"
#include "util/error.h"
#include "util/status.h"

#define THREADS 64
#define RUN_SECONDS 2.0

static char dir[256];
static atomic_int stop;
static uint8_t payload[100];

typedef struct worker {
    const char *path;
    int index;
    store_sync sync;
    uint64_t acked;
    pthread_barrier_t *start;
} worker;

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_group_commit: %s: %s\n", what, msg);
    exit(1);
}

static void *layer_worker(void *arg)
{
    worker *w = arg;
    sqlite_options o = sqlite_options_default();
    o.sync = w->sync;
    o.busy_timeout_ms = 60000;
    store_backend *be;
    journal *j;
    if (store_backend_open_sqlite(&be, w->path, &o) != ST_OK ||
        journal_open_backend(&j, be, NULL, NULL) != ST_OK)
        die("open", error_message());
    char pid[32];
    snprintf(pid, sizeof(pid), "actor-%d", w->index);
    journal_event_in ev = {payload, sizeof(payload), 1, NULL, 0};
    pthread_barrier_wait(w->start);
    while (!atomic_load(&stop)) {
        if (journal_append(j, (const uint8_t *)pid, strlen(pid), w->acked, &ev, 1) != ST_OK)
            die("append", error_message());
        w->acked++;
    }
    journal_close(j);
    return NULL;
}

typedef struct raw {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *rollback, *highest, *insert, *meta;
} raw;

static sqlite3_stmt *prep(raw *r, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(r->db));
    return st;
}

static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* One append in its own transaction; SQLITE_BUSY (the busy handler gave
 * up) is retried by the caller, as an application would. */
static int raw_append(raw *r, const char *pid, uint64_t seq)
{
    int rc = run(r->begin);
    if (rc != SQLITE_OK)
        return rc;
    size_t n = strlen(pid);
    sqlite3_bind_blob(r->highest, 1, pid, (int)n, SQLITE_STATIC);
    if ((rc = run(r->highest)) != SQLITE_OK)
        goto fail;
    sqlite3_bind_blob(r->insert, 1, pid, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(r->insert, 2, (sqlite3_int64)seq);
    sqlite3_bind_int64(r->insert, 3, 1);
    sqlite3_bind_blob(r->insert, 4, payload, sizeof(payload), SQLITE_STATIC);
    if ((rc = run(r->insert)) != SQLITE_OK)
        goto fail;
    sqlite3_bind_blob(r->meta, 1, pid, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(r->meta, 2, (sqlite3_int64)seq);
    if ((rc = run(r->meta)) != SQLITE_OK)
        goto fail;
    if ((rc = run(r->commit)) != SQLITE_OK)
        goto fail;
    return SQLITE_OK;
fail:
    run(r->rollback);
    return rc;
}

static void raw_open(raw *r, const char *path, store_sync sync)
{
    if (sqlite3_open(path, &r->db) != SQLITE_OK)
        die("raw open", path);
    sqlite3_busy_timeout(r->db, 60000);
    char sql[128];
    snprintf(sql, sizeof(sql), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s",
             sync == STORE_SYNC_FULL ? "FULL" : "NORMAL");
    if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die("raw pragmas", sqlite3_errmsg(r->db));
    raw_prepare_append(r->db, 0, &r->begin, &r->commit, &r->highest, &r->insert, &r->meta);
    r->rollback = prep(r, "ROLLBACK");
}

static void raw_close(raw *r)
{
    sqlite3_stmt *all[] = {r->begin, r->commit, r->rollback, r->highest, r->insert, r->meta};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(r->db);
}

static void *raw_worker(void *arg)
{
    worker *w = arg;
    raw r;
    raw_open(&r, w->path, w->sync);
    char pid[32];
    snprintf(pid, sizeof(pid), "actor-%d", w->index);
    pthread_barrier_wait(w->start);
    while (!atomic_load(&stop)) {
        int rc = raw_append(&r, pid, w->acked + 1);
        if (rc == SQLITE_OK)
            w->acked++;
        else if (rc != SQLITE_BUSY)
            die("raw append", sqlite3_errmsg(r.db));
    }
    raw_close(&r);
    return NULL;
}

/* Events per second acknowledged by THREADS threads running `fn` on the
 * file at `path` for RUN_SECONDS. */
static double run_threads(void *(*fn)(void *), const char *path, store_sync sync)
{
    static worker w[THREADS];
    pthread_t t[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS + 1);
    atomic_store(&stop, 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){path, i, sync, 0, &start};
        if (pthread_create(&t[i], NULL, fn, &w[i]) != 0)
            die("threads", "pthread_create failed");
    }
    pthread_barrier_wait(&start);
    double t0 = bench_now_s();
    usleep((useconds_t)(RUN_SECONDS * 1e6));
    atomic_store(&stop, 1);
    uint64_t total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += w[i].acked;
    }
    double dt = bench_now_s() - t0;
    pthread_barrier_destroy(&start);
    return (double)total / dt;
}

/* A fresh file with ddata's schema (the raw side writes the same tables). */
static void fresh_store(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
    store_backend *be;
    journal *j;
    if (store_backend_open_sqlite(&be, out, NULL) != ST_OK ||
        journal_open_backend(&j, be, NULL, NULL) != ST_OK)
        die("create", error_message());
    journal_close(j);
}

static void bench_sync(store_sync sync, const char *name, const char *tag)
{
    char layer_name[32], raw_name[32], layer_path[512], raw_path[512];
    snprintf(layer_name, sizeof(layer_name), "layer-%s", tag);
    snprintf(raw_name, sizeof(raw_name), "raw-%s", tag);
    fresh_store(layer_path, sizeof(layer_path), layer_name);
    fresh_store(raw_path, sizeof(raw_path), raw_name);
    double layer = run_threads(layer_worker, layer_path, sync);
    double raw = run_threads(raw_worker, raw_path, sync);
    bench_report_vs(name, "events/s", layer, raw, true);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/ddata-bench-gc-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", dir);
    bench_sync(STORE_SYNC_FULL, "journal.append.concurrent64", "full");
    bench_sync(STORE_SYNC_NORMAL, "journal.append.concurrent64.normal", "normal");
    return bench_remove_dir(dir) == 0 ? 0 : 1;
}
