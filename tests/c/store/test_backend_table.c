/*
 * The backend table is the extension point: an engine written outside
 * core/store (here, one that wraps the memory engine and can be told to
 * fail) plugs into the journal and state store, sealing included, and
 * housekeeping failures in it do not fail the caller's write.
 */
#include <string.h>

#include "store/journal.h"
#include "util/error.h"
#include "variants.h"

#define PID(s) (const uint8_t *)(s), strlen(s)

typedef struct wrapped {
    store_backend base;
    store_backend *inner;
    int appends, prunes;
    int fail_prune;
} wrapped;

static wrapped *self(store_backend *b)
{
    return (wrapped *)b;
}

static int w_append(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t expected,
                    const store_event *ev, size_t count)
{
    self(b)->appends++;
    return self(b)->inner->ops->journal_append(self(b)->inner, pid, pid_len, expected, ev, count);
}

static int w_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    self(b)->prunes++;
    if (self(b)->fail_prune)
        return error_set(ST_EIO, "prune failed on purpose");
    return self(b)->inner->ops->snapshot_prune(self(b)->inner, pid, pid_len, keep);
}

static void w_close(store_backend *b)
{
    /* The test owns the wrapper; only the inner engine is closed. */
    self(b)->inner->ops->close(self(b)->inner);
}

static store_backend_ops w_ops;

static void wrap(wrapped *w)
{
    memset(w, 0, sizeof(*w));
    ASSERT_OK(store_backend_open_memory(&w->inner));
    /* Only the operations a test sets are filled in; each forwards to the
     * inner engine with the inner engine's own pointer. */
    memset(&w_ops, 0, sizeof(w_ops));
    w_ops.name = "wrapped";
    w_ops.journal_append = w_append;
    w_ops.snapshot_prune = w_prune;
    w_ops.close = w_close;
    w->base.ops = &w_ops;
}

/* Forwarders for the operations the test exercises besides the two above. */
static int w_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                    uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    return self(b)->inner->ops->journal_replay(self(b)->inner, pid, pid_len, from, to, max, fn,
                                               ctx);
}

static int w_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    return self(b)->inner->ops->journal_highest(self(b)->inner, pid, pid_len, out);
}

static int w_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq, uint64_t ts,
                  const uint8_t *data, size_t len)
{
    return self(b)->inner->ops->snapshot_save(self(b)->inner, pid, pid_len, seq, ts, data, len);
}

static int w_find(store_backend *b, const uint8_t *pid, size_t pid_len, const snapshot_criteria *c,
                  store_snapshot_fn fn, void *ctx)
{
    return self(b)->inner->ops->snapshot_find(self(b)->inner, pid, pid_len, c, fn, ctx);
}

static int count_events(void *ctx, const store_event *ev)
{
    (void)ev;
    (*(int *)ctx)++;
    return 0;
}

TEST(test_a_foreign_engine_plugs_in_with_sealing)
{
    wrapped w;
    wrap(&w);
    w_ops.journal_replay = w_replay;
    w_ops.journal_highest = w_highest;
    w_ops.snapshot_save = w_save;
    w_ops.snapshot_find = w_find;
    keyring *k = test_keyring();
    journal *j;
    ASSERT_OK(journal_open_backend(&j, &w.base, test_sealer(k), NULL));
    keyring_release(k);
    journal_event_in ev = {(const uint8_t *)"hello", 5, 1, NULL, 0};
    ASSERT_OK(journal_append(j, PID("p"), 0, &ev, 1));
    ASSERT_EQ_INT(w.appends, 1);
    int n = 0;
    ASSERT_OK(journal_replay(j, PID("p"), 1, UINT64_MAX, UINT64_MAX, count_events, &n));
    ASSERT_EQ_INT(n, 1);
    journal_close(j);
}

TEST(test_failed_prune_does_not_fail_the_save)
{
    wrapped w;
    wrap(&w);
    w_ops.snapshot_save = w_save;
    w_ops.snapshot_find = w_find;
    w.fail_prune = 1;
    journal_options o = journal_options_default();
    o.snapshot_keep = 1;
    journal *j;
    ASSERT_OK(journal_open_backend(&j, &w.base, NULL, &o));
    ASSERT_OK(journal_snapshot_save(j, PID("p"), 1, 1, (const uint8_t *)"a", 1));
    ASSERT_OK(journal_snapshot_save(j, PID("p"), 2, 2, (const uint8_t *)"b", 1));
    ASSERT_EQ_INT(w.prunes, 2);
    expect_latest_snapshot(j, "p", 2);
    journal_close(j);
}
