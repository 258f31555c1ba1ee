/*
 * Persistence benchmarks: journal appends and replay, snapshot writes and
 * reads, durable-state upserts, all on SQLite in WAL mode with
 * synchronous=NORMAL (the default), each against raw SQLite doing the
 * same statements (prepared once, same schema, same transactions) in the
 * same run, so the ratio shows the cost of the layer rather than the disk.
 *
 *   journal.append.single     events/s, one event per append (one transaction)
 *   journal.append.batch100   events/s, 100 events per append
 *   journal.replay            events/s, one pid, in order
 *   snapshot.write.1k.p50/p99 us per 1 KiB snapshot save
 *   snapshot.read.1k.p50      us per latest-snapshot load
 *   state.upsert.p50          us per compare-and-set upsert
 *   journal.replay.checksum, journal.append.batch100.checksum,
 *   snapshot.read.1k.p50.checksum
 *                             the same figures through the plain envelope
 *                             (checksums on, the default for unsealed
 *                             stores) against bare records (off) as the
 *                             baseline: the median of 5 interleaved runs
 *                             of each, so machine noise hits both alike
 *   state.upsert.wal_bytes_after_1e5
 *                             size of the -wal file after 100,000 upserts
 *                             (bounded by SQLite's automatic checkpoint)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "raw_sqlite.h"
#include "store/journal.h"
#include "store/sqlite_backend.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

#define PID "bench-pid"
#define PID_LEN (sizeof(PID) - 1)
#define SINGLE_N 20000
#define BATCH_ROUNDS 2000
#define REPLAY_N 200000
#define SNAP_N 20000
#define STATE_N 20000

static char dir[256];
static int file_counter;

static void db_path(char *out, size_t n)
{
    snprintf(out, n, "%s/db%d", dir, file_counter++);
}

/* checked: records in the plain envelope (the default); otherwise bare. */
static journal *open_journal_checked(bool checked)
{
    char path[512];
    db_path(path, sizeof(path));
    store_backend *be;
    journal *j;
    journal_options o = journal_options_default();
    o.bare_records = !checked;
    if (store_backend_open_sqlite(&be, path, NULL) != ST_OK ||
        journal_open_backend(&j, be, NULL, &o) != ST_OK) {
        fprintf(stderr, "bench_store: %s\n", error_message());
        exit(1);
    }
    return j;
}

static journal *open_journal(void)
{
    return open_journal_checked(true);
}

/* ---- raw SQLite: the same schema and statements, no layer ------------- */

typedef struct raw {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *highest, *insert, *meta, *replay, *snap_save, *snap_load;
} raw;

static void raw_check(raw *r, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench_store: raw %s: %s\n", what, sqlite3_errmsg(r->db));
        exit(1);
    }
}

static sqlite3_stmt *prep(raw *r, const char *sql)
{
    sqlite3_stmt *st;
    raw_check(r, sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL), sql);
    return st;
}

static void raw_open(raw *r)
{
    char path[512];
    db_path(path, sizeof(path));
    raw_check(r, sqlite3_open(path, &r->db), "open");
    raw_check(r,
              sqlite3_exec(r->db,
                           "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                           "CREATE TABLE journal(ordering INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " pid BLOB NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
                           " payload BLOB NOT NULL, tags BLOB);"
                           "CREATE UNIQUE INDEX journal_pid_seq ON journal(pid, seq);"
                           "CREATE TABLE journal_meta(pid BLOB PRIMARY KEY, highest INTEGER NOT"
                           " NULL) WITHOUT ROWID;"
                           "CREATE TABLE snapshots(pid BLOB NOT NULL, seq INTEGER NOT NULL,"
                           " ts INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(pid, seq))"
                           " WITHOUT ROWID;",
                           NULL, NULL, NULL),
              "schema");
    raw_prepare_append(r->db, SQLITE_PREPARE_PERSISTENT, &r->begin, &r->commit, &r->highest,
                       &r->insert, &r->meta);
    r->replay = prep(r, "SELECT ordering, seq, ts, payload, tags FROM journal WHERE pid = ?1 AND "
                        "seq >= ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4");
    r->snap_save = prep(r, "INSERT OR REPLACE INTO snapshots(pid, seq, ts, data) VALUES(?1, ?2, "
                           "?3, ?4)");
    r->snap_load = prep(r, "SELECT seq, ts, data FROM snapshots WHERE pid = ?1 AND seq >= ?2 AND"
                           " seq <= ?3 AND ts >= ?4 AND ts <= ?5 ORDER BY seq DESC");
}

static void raw_close(raw *r)
{
    sqlite3_stmt *all[] = {r->begin, r->commit, r->highest,   r->insert,
                           r->meta,  r->replay, r->snap_save, r->snap_load};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(r->db);
}

static void step(raw *r, sqlite3_stmt *st, const char *what)
{
    raw_check(r, sqlite3_step(st), what);
    sqlite3_reset(st);
}

/* The raw twin of journal_append: check the highest, insert, update meta,
 * in one BEGIN IMMEDIATE transaction. */
static void raw_append(raw *r, uint64_t seq, const uint8_t *payload, size_t len, int count)
{
    step(r, r->begin, "begin");
    sqlite3_bind_blob(r->highest, 1, PID, PID_LEN, SQLITE_STATIC);
    raw_check(r, sqlite3_step(r->highest), "highest");
    sqlite3_reset(r->highest);
    for (int i = 0; i < count; i++) {
        sqlite3_bind_blob(r->insert, 1, PID, PID_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(r->insert, 2, (sqlite3_int64)(seq + (uint64_t)i + 1));
        sqlite3_bind_int64(r->insert, 3, 1);
        sqlite3_bind_blob(r->insert, 4, payload, (int)len, SQLITE_STATIC);
        step(r, r->insert, "insert");
    }
    sqlite3_bind_blob(r->meta, 1, PID, PID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(r->meta, 2, (sqlite3_int64)(seq + (uint64_t)count));
    step(r, r->meta, "meta");
    step(r, r->commit, "commit");
}

/* ---- journal ----------------------------------------------------------- */

static uint8_t payload[100];

static double layer_append(int per_append, int rounds)
{
    journal *j = open_journal();
    journal_event_in ev[100];
    for (int i = 0; i < per_append; i++)
        ev[i] = (journal_event_in){payload, sizeof(payload), 1, NULL, 0};
    double t0 = bench_now_s();
    for (int r = 0; r < rounds; r++) {
        if (journal_append(j, (const uint8_t *)PID, PID_LEN, (uint64_t)r * per_append, ev,
                           (size_t)per_append) != ST_OK) {
            fprintf(stderr, "bench_store: append: %s\n", error_message());
            exit(1);
        }
    }
    double dt = bench_now_s() - t0;
    journal_close(j);
    return (double)rounds * per_append / dt;
}

static double raw_append_rate(int per_append, int rounds)
{
    raw r;
    raw_open(&r);
    double t0 = bench_now_s();
    for (int i = 0; i < rounds; i++)
        raw_append(&r, (uint64_t)i * per_append, payload, sizeof(payload), per_append);
    double dt = bench_now_s() - t0;
    raw_close(&r);
    return (double)rounds * per_append / dt;
}

static int count_event(void *ctx, const store_event *ev)
{
    uint64_t *sum = ctx;
    *sum += ev->seq + ev->payload[0];
    return 0;
}

static void bench_replay(void)
{
    journal *j = open_journal();
    raw r;
    raw_open(&r);
    journal_event_in ev[1000];
    for (int i = 0; i < 1000; i++)
        ev[i] = (journal_event_in){payload, sizeof(payload), 1, NULL, 0};
    for (uint64_t s = 0; s < REPLAY_N; s += 1000) {
        journal_append(j, (const uint8_t *)PID, PID_LEN, s, ev, 1000);
        raw_append(&r, s, payload, sizeof(payload), 1000);
    }
    double best = 0, best_raw = 0;
    for (int round = 0; round < 3; round++) {
        uint64_t sum = 0;
        double t0 = bench_now_s();
        journal_replay(j, (const uint8_t *)PID, PID_LEN, 1, UINT64_MAX, UINT64_MAX, count_event,
                       &sum);
        double rate = REPLAY_N / (bench_now_s() - t0);
        if (rate > best)
            best = rate;
        uint64_t sum_raw = 0;
        t0 = bench_now_s();
        sqlite3_bind_blob(r.replay, 1, PID, PID_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(r.replay, 2, 1);
        sqlite3_bind_int64(r.replay, 3, INT64_MAX);
        sqlite3_bind_int64(r.replay, 4, INT64_MAX);
        while (sqlite3_step(r.replay) == SQLITE_ROW) {
            const uint8_t *p = sqlite3_column_blob(r.replay, 3);
            sum_raw += (uint64_t)sqlite3_column_int64(r.replay, 1) + p[0];
            (void)sqlite3_column_int64(r.replay, 0);
            (void)sqlite3_column_int64(r.replay, 2);
            (void)sqlite3_column_bytes(r.replay, 3);
            (void)sqlite3_column_type(r.replay, 4);
        }
        sqlite3_reset(r.replay);
        rate = REPLAY_N / (bench_now_s() - t0);
        if (rate > best_raw)
            best_raw = rate;
        if (sum != sum_raw)
            fprintf(stderr, "bench_store: replay checksums differ\n");
    }
    bench_report_vs("journal.replay", "events/s", best, best_raw, true);
    journal_close(j);
    raw_close(&r);
}

/* ---- snapshots --------------------------------------------------------- */

static double samples[SNAP_N > STATE_N ? SNAP_N : STATE_N];

static void bench_snapshots(void)
{
    static uint8_t data[1024];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13);
    journal *j = open_journal();
    raw r;
    raw_open(&r);
    double p50, p99, raw50, raw99;
    for (int i = 0; i < SNAP_N; i++) {
        double t0 = bench_now_s();
        journal_snapshot_save(j, (const uint8_t *)PID, PID_LEN, (uint64_t)i + 1, 1, data,
                              sizeof(data));
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    p50 = bench_percentile(samples, SNAP_N, 50);
    p99 = bench_percentile(samples, SNAP_N, 99);
    for (int i = 0; i < SNAP_N; i++) {
        double t0 = bench_now_s();
        sqlite3_bind_blob(r.snap_save, 1, PID, PID_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(r.snap_save, 2, i + 1);
        sqlite3_bind_int64(r.snap_save, 3, 1);
        sqlite3_bind_blob(r.snap_save, 4, data, sizeof(data), SQLITE_STATIC);
        step(&r, r.snap_save, "snapshot save");
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    raw50 = bench_percentile(samples, SNAP_N, 50);
    raw99 = bench_percentile(samples, SNAP_N, 99);
    bench_report_vs("snapshot.write.1k.p50", "us", p50, raw50, false);
    bench_report_vs("snapshot.write.1k.p99", "us", p99, raw99, false);

    bytes out = BYTES_INIT;
    snapshot_criteria any = snapshot_criteria_any();
    for (int i = 0; i < SNAP_N; i++) {
        double t0 = bench_now_s();
        journal_snapshot_load(j, (const uint8_t *)PID, PID_LEN, &any, NULL, NULL, &out);
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    p50 = bench_percentile(samples, SNAP_N, 50);
    for (int i = 0; i < SNAP_N; i++) {
        double t0 = bench_now_s();
        sqlite3_bind_blob(r.snap_load, 1, PID, PID_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(r.snap_load, 2, 0);
        sqlite3_bind_int64(r.snap_load, 3, INT64_MAX);
        sqlite3_bind_int64(r.snap_load, 4, 0);
        sqlite3_bind_int64(r.snap_load, 5, INT64_MAX);
        if (sqlite3_step(r.snap_load) == SQLITE_ROW) {
            bytes_reset(&out);
            bytes_put(&out, sqlite3_column_blob(r.snap_load, 2),
                      (size_t)sqlite3_column_bytes(r.snap_load, 2));
        }
        sqlite3_reset(r.snap_load);
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    raw50 = bench_percentile(samples, SNAP_N, 50);
    bench_report_vs("snapshot.read.1k.p50", "us", p50, raw50, false);
    bytes_free(&out);
    journal_close(j);
    raw_close(&r);
}

/* ---- checksums on vs off ---------------------------------------------- */

#define CHECK_RUNS 5

static double median5(double *v)
{
    return bench_percentile(v, CHECK_RUNS, 50);
}

static int64_t replay_sum;

static int sum_event(void *ctx, const store_event *ev)
{
    (void)ctx;
    replay_sum += (int64_t)ev->seq + ev->payload[0];
    return 0;
}

static double replay_rate(journal *j)
{
    double t0 = bench_now_s();
    journal_replay(j, (const uint8_t *)PID, PID_LEN, 1, UINT64_MAX, UINT64_MAX, sum_event, NULL);
    return REPLAY_N / (bench_now_s() - t0);
}

static double append_rate(journal *j, uint64_t *seq)
{
    journal_event_in ev[100];
    for (int i = 0; i < 100; i++)
        ev[i] = (journal_event_in){payload, sizeof(payload), 1, NULL, 0};
    double t0 = bench_now_s();
    for (int r = 0; r < BATCH_ROUNDS / 2; r++, *seq += 100)
        journal_append(j, (const uint8_t *)PID, PID_LEN, *seq, ev, 100);
    return (double)(BATCH_ROUNDS / 2) * 100 / (bench_now_s() - t0);
}

static double snapshot_read_p50(journal *j)
{
    bytes out = BYTES_INIT;
    snapshot_criteria any = snapshot_criteria_any();
    for (int i = 0; i < SNAP_N / 4; i++) {
        double t0 = bench_now_s();
        journal_snapshot_load(j, (const uint8_t *)PID, PID_LEN, &any, NULL, NULL, &out);
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    bytes_free(&out);
    return bench_percentile(samples, SNAP_N / 4, 50);
}

static void bench_checksums(void)
{
    journal *j[2] = {open_journal_checked(false), open_journal_checked(true)};
    journal_event_in ev[1000];
    for (int i = 0; i < 1000; i++)
        ev[i] = (journal_event_in){payload, sizeof(payload), 1, NULL, 0};
    static uint8_t snap[1024];
    for (size_t i = 0; i < sizeof(snap); i++)
        snap[i] = (uint8_t)(i * 13);
    for (int k = 0; k < 2; k++) {
        for (uint64_t s = 0; s < REPLAY_N; s += 1000)
            journal_append(j[k], (const uint8_t *)PID, PID_LEN, s, ev, 1000);
        journal_snapshot_save(j[k], (const uint8_t *)PID, PID_LEN, 1, 1, snap, sizeof(snap));
    }
    double replay[2][CHECK_RUNS], append[2][CHECK_RUNS], read[2][CHECK_RUNS];
    uint64_t seq[2] = {REPLAY_N, REPLAY_N};
    for (int run = 0; run < CHECK_RUNS; run++) {
        /* Alternate which goes first, so neither always gets a warm cache. */
        for (int n = 0; n < 2; n++) {
            int k = (run + n) % 2;
            replay[k][run] = replay_rate(j[k]);
            read[k][run] = snapshot_read_p50(j[k]);
        }
    }
    /* Appends after the reads: they grow the journals the reads measure. */
    for (int run = 0; run < CHECK_RUNS; run++) {
        for (int n = 0; n < 2; n++) {
            int k = (run + n) % 2;
            append[k][run] = append_rate(j[k], &seq[k]);
        }
    }
    bench_report_vs("journal.replay.checksum", "events/s", median5(replay[1]), median5(replay[0]),
                    true);
    bench_report_vs("journal.append.batch100.checksum", "events/s", median5(append[1]),
                    median5(append[0]), true);
    bench_report_vs("snapshot.read.1k.p50.checksum", "us", median5(read[1]), median5(read[0]),
                    false);
    journal_close(j[0]);
    journal_close(j[1]);
}

/* ---- instruction counts (valgrind --tool=callgrind) ---------------------
 * `bench_store profile-replay on|off` fills a journal with checksums on
 * (or off) and replays it once through profile_replay_run, so callgrind
 * counts the replay alone:
 *   valgrind --tool=callgrind --toggle-collect=profile_replay_run \
 *            build/bench/bench_store profile-replay on
 * `profile-snapshot on|off` does the same for 1,000 snapshot loads
 * (--toggle-collect=profile_snapshot_run). Instruction counts do not
 * depend on the machine's load, unlike rates. */

__attribute__((noinline)) static void profile_replay_run(journal *j)
{
    replay_rate(j);
}

/* As profile_replay, for the latest-snapshot load (1 KiB, 1,000 loads). */
__attribute__((noinline)) static void profile_snapshot_run(journal *j)
{
    bytes out = BYTES_INIT;
    snapshot_criteria any = snapshot_criteria_any();
    for (int i = 0; i < 1000; i++)
        journal_snapshot_load(j, (const uint8_t *)PID, PID_LEN, &any, NULL, NULL, &out);
    bytes_free(&out);
}

static void profile_snapshot(bool checked)
{
    journal *j = open_journal_checked(checked);
    static uint8_t snap[1024];
    for (size_t i = 0; i < sizeof(snap); i++)
        snap[i] = (uint8_t)(i * 13);
    journal_snapshot_save(j, (const uint8_t *)PID, PID_LEN, 1, 1, snap, sizeof(snap));
    profile_snapshot_run(j);
    journal_close(j);
}

static void profile_replay(bool checked)
{
    journal *j = open_journal_checked(checked);
    journal_event_in ev[1000];
    for (int i = 0; i < 1000; i++)
        ev[i] = (journal_event_in){payload, sizeof(payload), 1, NULL, 0};
    for (uint64_t s = 0; s < REPLAY_N; s += 1000)
        journal_append(j, (const uint8_t *)PID, PID_LEN, s, ev, 1000);
    profile_replay_run(j);
    journal_close(j);
}

/* ---- durable state ----------------------------------------------------- */

static void bench_state(void)
{
    char path[512];
    db_path(path, sizeof(path));
    state_store *s;
    if (state_store_open_sqlite(&s, path, NULL) != ST_OK)
        exit(1);
    static uint8_t data[256];
    uint64_t revs[100] = {0};
    for (int i = 0; i < STATE_N; i++) {
        char key[16];
        int k = i % 100;
        snprintf(key, sizeof(key), "key-%02d", k);
        double t0 = bench_now_s();
        state_store_upsert(s, (const uint8_t *)key, strlen(key), revs[k], data, sizeof(data),
                           &revs[k]);
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    bench_report("state.upsert.p50", "us", bench_percentile(samples, STATE_N, 50));
    for (int i = STATE_N; i < 100000; i++) {
        char key[16];
        int k = i % 100;
        snprintf(key, sizeof(key), "key-%02d", k);
        state_store_upsert(s, (const uint8_t *)key, strlen(key), revs[k], data, sizeof(data),
                           &revs[k]);
    }
    char wal[600];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    struct stat st;
    bench_report("state.upsert.wal_bytes_after_1e5", "bytes",
                 stat(wal, &st) == 0 ? (double)st.st_size : 0);
    state_store_close(s);
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof(dir), "/tmp/ddata-bench-store-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)i;
    if (argc > 1 && strcmp(argv[1], "profile-replay") == 0) {
        profile_replay(argc < 3 || strcmp(argv[2], "off") != 0);
        goto done;
    }
    if (argc > 1 && strcmp(argv[1], "profile-snapshot") == 0) {
        profile_snapshot(argc < 3 || strcmp(argv[2], "off") != 0);
        goto done;
    }
    if (argc > 1 && strcmp(argv[1], "checksums") == 0) {
        bench_checksums(); /* only the checksum on/off lines */
        goto done;
    }
    double single = layer_append(1, SINGLE_N), single_raw = raw_append_rate(1, SINGLE_N);
    bench_report_vs("journal.append.single", "events/s", single, single_raw, true);
    double batch = layer_append(100, BATCH_ROUNDS), batch_raw = raw_append_rate(100, BATCH_ROUNDS);
    bench_report_vs("journal.append.batch100", "events/s", batch, batch_raw, true);
    bench_replay();
    bench_snapshots();
    bench_checksums();
    bench_state();
done:;
    if (bench_remove_dir(dir) != 0)
        fprintf(stderr, "bench_store: could not remove %s\n", dir);
    return 0;
}
