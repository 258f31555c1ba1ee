/*
 * Reads that would lie end with ST_ECORRUPT instead: a replay whose
 * sequence numbers skip (a lost row, a damaged index, a lost file) or run
 * backwards (batch files swapped), and a by-tag read whose orderings do not
 * increase. The check lives above the engines (journal.c), so it is tried
 * on real damage to SQLite and fs stores, sealed and not, and on an engine
 * that hands rows out of order.
 */
#include <stdio.h>
#include <string.h>

#include "by_path.h"
#include "util/error.h"

#define K(str) (const uint8_t *)(str), strlen(str)

/* The journal on the SQLite file at `path`, sealed or not. */
static journal *open_sqlite(const char *path, int sealed)
{
    return open_sqlite_journal(path, variant_sealer(sealed ? V_SQLITE + V_COUNT_ENGINES : 0), NULL);
}

/* Ten events in a new SQLite store at `path`, then `sql` run behind the
 * engine's back; returns the journal reopened. */
static journal *ten_then_sql(const char *path, int sealed, const char *sql)
{
    journal *j = open_sqlite(path, sealed);
    append_ten(j, "payload", "t");
    journal_close(j);
    raw_exec(path, sql);
    return open_sqlite(path, sealed);
}

/* A full replay of "p" hands out `delivered` events, then ends ST_ECORRUPT
 * with `message` in the error. */
static void expect_corrupt_replay(journal *j, int delivered, const char *message)
{
    events_seen s = {0};
    ASSERT_STATUS(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, record_event, &s),
                  ST_ECORRUPT);
    ASSERT_EQ_INT(s.n, delivered);
    ASSERT_MSG(strstr(error_message(), message), "%s", error_message());
}

TEST(test_replay_with_a_deleted_row_ends_corrupt_naming_the_missing_seq)
{
    for (int sealed = 0; sealed < 2; sealed++) {
        char path[1100];
        snprintf(path, sizeof(path), "%s/row-%d.db", test_tmpdir(), sealed);
        journal *j = ten_then_sql(path, sealed, "DELETE FROM journal WHERE seq = 5");
        expect_corrupt_replay(j, 4, "'p': event 5 is missing");
        /* A range above the hole still reads. */
        events_seen s = {0};
        ASSERT_OK(journal_replay(j, K("p"), 6, 10, UINT64_MAX, record_event, &s));
        ASSERT_EQ_INT(s.n, 5);
        journal_close(j);
    }
}

TEST(test_replay_that_stops_short_of_the_highest_ends_corrupt)
{
    char path[1100];
    tmp_path(path, sizeof(path), "tail.db");
    /* What a damaged (pid, seq) index looks like from above: the rows after
     * 3 are not found, while the highest sequence number says 10. */
    journal *j = ten_then_sql(path, 0, "DELETE FROM journal WHERE seq > 3");
    expect_corrupt_replay(j, 3, "event 4 is missing (highest is 10");
    journal_close(j);
}

TEST(test_replay_with_a_missing_first_event_is_corrupt_but_a_deleted_one_is_not)
{
    char path[1100];
    tmp_path(path, sizeof(path), "head.db");
    journal *j = open_sqlite(path, 0);
    append_ten(j, "payload", "t");
    ASSERT_OK(journal_delete_to(j, K("p"), 2));
    events_seen s = {0};
    ASSERT_OK(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, record_event, &s));
    ASSERT_EQ_INT(s.n, 8);
    ASSERT_EQ_U64(s.seqs[0], 3);
    journal_close(j);
    raw_exec(path, "DELETE FROM journal WHERE seq = 3");
    j = open_sqlite(path, 0);
    expect_corrupt_replay(j, 0, "event 3 is missing");
    journal_close(j);
}

TEST(test_fs_batch_files_swapped_within_a_pid_end_corrupt)
{
    for (int sealed = 0; sealed < 2; sealed++) {
        char root[1100], a[2048], b[2048], tmp[2100];
        snprintf(root, sizeof(root), "%s/swap-%d", test_tmpdir(), sealed);
        journal *j = open_fs_journal(root, variant_sealer(sealed ? V_FS + V_COUNT_ENGINES : 0));
        append_ten(j, "payload", "t");
        fs_pid_file(a, sizeof(a), root, "b00000000000000000001");
        fs_pid_file(b, sizeof(b), root, "b00000000000000000005");
        snprintf(tmp, sizeof(tmp), "%s.tmp", a);
        ASSERT(rename(a, tmp) == 0 && rename(b, a) == 0 && rename(tmp, b) == 0);
        expect_corrupt_replay(j, 0, "event 1 is missing (found 5 next)");
        journal_close(j);
    }
}

/* An engine that hands by-tag results back in reverse and replays
 * backwards: what a broken index or a buggy engine would do. */
typedef struct backwards {
    store_backend base;
    store_backend *inner;
} backwards;

typedef struct collected {
    store_event ev[16];
    int n;
} collected;

static int collect(void *ctx, const store_event *ev)
{
    collected *c = ctx;
    if (c->n < 16)
        c->ev[c->n++] = *ev;
    return 0;
}

static int b_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                    uint64_t max, store_event_fn fn, void *ctx)
{
    store_backend *in = ((backwards *)b)->inner;
    collected c = {.n = 0};
    int rc = in->ops->journal_by_tag(in, tag, tag_len, after, max, collect, &c);
    for (int i = c.n - 1; rc == ST_OK && i >= 0; i--)
        rc = fn(ctx, &c.ev[i]);
    return rc;
}

static int b_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                    uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    store_backend *in = ((backwards *)b)->inner;
    collected c = {.n = 0};
    int rc = in->ops->journal_replay(in, pid, pid_len, from, to, max, collect, &c);
    for (int i = c.n - 1; rc == ST_OK && i >= 0; i--)
        rc = fn(ctx, &c.ev[i]);
    return rc;
}

static int b_append(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t expected,
                    const store_event *ev, size_t count)
{
    store_backend *in = ((backwards *)b)->inner;
    return in->ops->journal_append(in, pid, pid_len, expected, ev, count);
}

static int b_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    store_backend *in = ((backwards *)b)->inner;
    return in->ops->journal_highest(in, pid, pid_len, out);
}

static void b_close(store_backend *b)
{
    store_backend *in = ((backwards *)b)->inner;
    in->ops->close(in);
}

TEST(test_by_tag_and_replay_out_of_order_end_corrupt_on_any_engine)
{
    static store_backend_ops ops;
    memset(&ops, 0, sizeof(ops)); /* journal_deleted_to left NULL: optional */
    ops.name = "backwards";
    ops.journal_append = b_append;
    ops.journal_replay = b_replay;
    ops.journal_highest = b_highest;
    ops.journal_by_tag = b_by_tag;
    ops.close = b_close;
    backwards w = {{&ops}, NULL};
    ASSERT_OK(store_backend_open_memory(&w.inner));
    journal *j;
    ASSERT_OK(journal_open_backend(&j, &w.base, NULL, NULL));
    append_ten(j, "payload", "t");
    events_seen s = {0};
    ASSERT_STATUS(journal_by_tag(j, "t", 0, UINT64_MAX, record_event, &s), ST_ECORRUPT);
    ASSERT_EQ_INT(s.n, 1);
    ASSERT_MSG(strstr(error_message(), "out of global order"), "%s", error_message());
    s.n = 0;
    ASSERT_STATUS(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, record_event, &s),
                  ST_ECORRUPT);
    ASSERT_EQ_INT(s.n, 1);
    ASSERT_MSG(strstr(error_message(), "event 9 is out of order (expected 11)"), "%s",
               error_message());
    /* One event: nothing to be out of order with. */
    s.n = 0;
    ASSERT_OK(journal_replay(j, K("p"), 4, 4, UINT64_MAX, record_event, &s));
    ASSERT_EQ_INT(s.n, 1);
    journal_close(j);
}
