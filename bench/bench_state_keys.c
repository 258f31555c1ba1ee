/*
 * Walking a durable state store through the public cursors
 * (dd_state_store_keys, dd_state_store_range), against the core's own
 * one-pass scan of the same file in the same run, so the ratio is the cost
 * of paging (512 records per core call, resuming from the last key) and of
 * the handle layer rather than of the disk.
 *
 *   state.keys.sqlite     keys/s, 20000 keys, vs state_store_scan
 *   state.range.sqlite    records/s, 20000 records of 64 bytes, vs scan
 *   state.keys.fs         keys/s, 5000 keys, vs state_store_scan
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_state.h"
#include "store/fs_backend.h"
#include "store/sqlite_backend.h"
#include "store/state_store.h"
#include "store/store.h"

#define SQLITE_N 20000
#define FS_N 5000
#define ROUNDS 5

static dd_state_store *fill(uint32_t backend, const char *path, int n)
{
    dd_state_store *s = bench_state_open(backend, path, DD_SYNC_OFF);
    uint8_t value[64];
    memset(value, 'v', sizeof(value));
    char key[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(key, sizeof(key), "key/%08d", i);
        bench_must(dd_state_store_upsert(NULL, s, (const uint8_t *)key, (size_t)len,
                                         dd_any_revision(), value, sizeof(value)),
                   "upsert");
    }
    return s;
}

/* One walk through the public cursor: every key, or every record. */
static int walk_once(void *store, int keys_only, double *elapsed_s)
{
    dd_journal_cursor *c = NULL;
    double t0 = bench_now_s();
    int rc = keys_only ? dd_state_store_keys(&c, store, NULL, 0)
                       : dd_state_store_range(&c, store, NULL, 0, INT64_MAX);
    dd_journal_event ev;
    int seen = 0;
    while (rc == DD_OK && (rc = dd_journal_cursor_next(&ev, c)) == DD_OK)
        seen++;
    *elapsed_s = bench_now_s() - t0;
    dd_journal_cursor_close(c);
    return seen;
}

/* Best of ROUNDS walks through the public cursor; items per second. */
static double walk_rate(dd_state_store *s, int keys_only, int n)
{
    return bench_best_rate(ROUNDS, n, "walk", walk_once, s, keys_only);
}

static int count_one(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                     const uint8_t *state, size_t state_len)
{
    (void)key, (void)key_len, (void)revision, (void)state, (void)state_len;
    ++*(int *)ctx;
    return 0;
}

/* One core scan of every record (there is one way). */
static int core_scan_once(void *store, int way, double *elapsed_s)
{
    (void)way;
    int seen = 0;
    double t0 = bench_now_s();
    state_store_scan(store, NULL, 0, count_one, &seen);
    *elapsed_s = bench_now_s() - t0;
    return seen;
}

/* Best of ROUNDS core scans of the same file; records per second. */
static double scan_rate(int backend, const char *path, int n)
{
    store_backend *be = NULL;
    int rc;
    if (backend == DD_BACKEND_SQLITE) {
        sqlite_options so = sqlite_options_default();
        rc = store_backend_open_sqlite(&be, path, &so);
    } else {
        fs_options fo = {STORE_SYNC_OFF};
        rc = store_backend_open_fs(&be, path, &fo);
    }
    state_store *s = NULL;
    if (rc != 0 || state_store_open_backend(&s, be, NULL) != 0) {
        fprintf(stderr, "core open %s failed\n", path);
        exit(1);
    }
    double best = bench_best_rate(ROUNDS, n, "scan", core_scan_once, s, 0);
    state_store_close(s);
    return best;
}

int main(void)
{
    char dir[] = "/tmp/ddata-bench-keys-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char db[300], fsdir[300];
    snprintf(db, sizeof(db), "%s/state.db", dir);
    snprintf(fsdir, sizeof(fsdir), "%s/fs", dir);

    dd_state_store *s = fill(DD_BACKEND_SQLITE, db, SQLITE_N);
    double keys = walk_rate(s, 1, SQLITE_N), range = walk_rate(s, 0, SQLITE_N);
    dd_state_store_close(s);
    double scan = scan_rate(DD_BACKEND_SQLITE, db, SQLITE_N);
    bench_report_vs("state.keys.sqlite", "keys/s", keys, scan, true);
    bench_report_vs("state.range.sqlite", "records/s", range, scan, true);

    s = fill(DD_BACKEND_FS, fsdir, FS_N);
    keys = walk_rate(s, 1, FS_N);
    dd_state_store_close(s);
    bench_report_vs("state.keys.fs", "keys/s", keys, scan_rate(DD_BACKEND_FS, fsdir, FS_N), true);

    return bench_remove_dir(dir) == 0 ? 0 : 1;
}
