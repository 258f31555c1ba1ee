/*
 * The state store's building blocks (issue 17.13) against the workarounds
 * a framework used before them, in the same run on the same SQLite file:
 *
 *   state.batch.sqlite         ops/s, batches of 200 upserts (sync FULL), vs
 *                              the same upserts one call each
 *   state.scan_prefix.sqlite   records/s, a 1000-key collection among 20000
 *                              other keys, vs dd_state_store_range from the
 *                              prefix, stopping at the first key past it
 *                              (each page reads up to 512 records past it)
 *   state.purge_prefix.sqlite  records/s, purging a 1000-key collection, vs
 *                              listing its keys and deleting them one by one
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_state.h"

#define OTHERS 20000
#define COLLECTION 1000
#define BATCH 200
#define ROUNDS 3

static void put(dd_state_store *s, const char *fmt, int i)
{
    char key[32];
    uint8_t value[64];
    memset(value, 'v', sizeof(value));
    int len = snprintf(key, sizeof(key), fmt, i);
    bench_must(dd_state_store_upsert(NULL, s, (const uint8_t *)key, (size_t)len, DD_ANY_REVISION,
                                     value, sizeof(value)),
               "upsert");
}

static void fill_collection(dd_state_store *s)
{
    for (int i = 0; i < COLLECTION; i++)
        put(s, "coll/%06d", i);
}

/* ops/s of `n` upserts, in batches of BATCH or one call each. */
static double write_rate(dd_state_store *s, int batched, int round)
{
    static char keys[BATCH][32];
    uint8_t value[64];
    memset(value, 'b', sizeof(value));
    dd_state_op ops[BATCH];
    double t0 = bench_now_s();
    for (int i = 0; i < BATCH; i++) {
        int len = snprintf(keys[i], sizeof(keys[i]), "w%d/%d/%06d", batched, round, i);
        dd_state_op op = {DD_STATE_OP_UPSERT, (const uint8_t *)keys[i], (size_t)len, 0, value,
                          sizeof(value)};
        ops[i] = op;
        if (!batched)
            bench_must(dd_state_store_upsert(NULL, s, op.key, op.key_len, 0, value, sizeof(value)),
                       "upsert");
    }
    if (batched)
        bench_must(dd_state_store_batch(NULL, s, ops, BATCH), "batch");
    return BATCH / (bench_now_s() - t0);
}

static int drain(dd_journal_cursor *c, const char *prefix)
{
    dd_journal_event ev;
    int n = 0;
    size_t plen = strlen(prefix);
    while (dd_journal_cursor_next(&ev, c) == DD_OK) {
        if (ev.pid_len < plen || memcmp(ev.pid, prefix, plen) != 0)
            break; /* the old workaround: stop at the first key past it */
        n++;
    }
    dd_journal_cursor_close(c);
    return n;
}

/* One pass over the collection, through the bounded scan or the old
 * workaround (a range from the prefix, stopping past it). */
static int scan_once(void *store, int bounded, double *elapsed_s)
{
    dd_journal_cursor *c = NULL;
    double t0 = bench_now_s();
    if (bounded) {
        dd_state_range range = DD_STATE_RANGE_INIT;
        range.prefix = (const uint8_t *)"coll/";
        range.prefix_len = 5;
        bench_must(dd_state_store_scan(&c, store, &range), "scan");
    } else {
        bench_must(dd_state_store_range(&c, store, (const uint8_t *)"coll/", 5, INT64_MAX),
                   "range");
    }
    int n = drain(c, "coll/");
    *elapsed_s = bench_now_s() - t0;
    return n;
}

static double scan_rate(dd_state_store *s, int bounded)
{
    return bench_best_rate(ROUNDS, COLLECTION, "scan", scan_once, s, bounded);
}

static double purge_rate(dd_state_store *s, int by_prefix)
{
    fill_collection(s);
    double t0 = bench_now_s();
    if (by_prefix) {
        bench_must(dd_state_store_purge_prefix(s, (const uint8_t *)"coll/", 5), "purge");
    } else {
        dd_journal_cursor *c = NULL;
        bench_must(dd_state_store_keys(&c, s, (const uint8_t *)"coll/", 5), "keys");
        dd_journal_event ev;
        while (dd_journal_cursor_next(&ev, c) == DD_OK)
            bench_must(dd_state_store_delete(s, ev.pid, ev.pid_len, DD_ANY_REVISION), "delete");
        dd_journal_cursor_close(c);
    }
    return COLLECTION / (bench_now_s() - t0);
}

int main(void)
{
    char dir[] = "/tmp/ddata-bench-blocks-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char db[300];
    snprintf(db, sizeof(db), "%s/state.db", dir);

    dd_state_store *s = bench_state_open(DD_BACKEND_SQLITE, db, DD_SYNC_FULL);
    double batched = 0, single = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double b = write_rate(s, 1, r), one = write_rate(s, 0, r);
        batched = b > batched ? b : batched;
        single = one > single ? one : single;
    }
    dd_state_store_close(s);
    bench_report_vs("state.batch.sqlite", "ops/s", batched, single, true);

    s = bench_state_open(DD_BACKEND_SQLITE, db, DD_SYNC_OFF);
    for (int i = 0; i < OTHERS; i++)
        put(s, i % 2 ? "coll0/%06d" : "coll1/%06d", i); /* neighbours right after the prefix */
    fill_collection(s);
    bench_report_vs("state.scan_prefix.sqlite", "records/s", scan_rate(s, 1), scan_rate(s, 0),
                    true);
    double purge = purge_rate(s, 1), deletes = purge_rate(s, 0);
    bench_report_vs("state.purge_prefix.sqlite", "records/s", purge, deletes, true);
    dd_state_store_close(s);

    return bench_remove_dir(dir) == 0 ? 0 : 1;
}
