/*
 * The state store as a building block (issue 17.13), on every engine,
 * sealed and unsealed, each twice: with the engine's own bounded range,
 * batch and prefix purge, and with those members taken out so the
 * generic forms (state_generic.c) run on the old ones. A collection of
 * another framework is a key prefix; nothing here may touch a neighbour.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/fs_io.h"
#include "store/state_store.h"
#include "util/error.h"
#include "variants.h"

#define K(str) (const uint8_t *)(str), strlen(str)
#define KB(arr) (const uint8_t *)(arr), sizeof(arr) - 1

/* The engines' tables with the new members removed: one per engine. */
static store_backend_ops generic_tables[V_COUNT_ENGINES];

/* Mode 0: the engine as it is; mode 1: the generic forms. */
static state_store *open_mode(int v, const char *dir, int generic)
{
    store_backend *be = open_engine(v, dir);
    if (generic) {
        store_backend_ops *t = &generic_tables[v % V_COUNT_ENGINES];
        *t = *be->ops;
        t->state_scan_range = NULL;
        t->state_batch = NULL;
        t->state_purge_prefix = NULL;
        t->state_flush = NULL;
        be->ops = t;
    }
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, variant_sealer(v)));
    return s;
}

static void mode_dir(char *dir, size_t n, int v, int generic, const char *name)
{
    char full[64];
    snprintf(full, sizeof(full), "%s-%s", name, generic ? "generic" : "native");
    fresh_dir(dir, n, v, full);
}

#define FOR_EACH_MODE(v, m, dir, name)                                                             \
    FOR_EACH_VARIANT(v)                                                                            \
    for (int m = 0; m < 2; m++)                                                                    \
        for (char dir[1024], once_ = (mode_dir(dir, sizeof(dir), v, m, name), 1); once_; once_ = 0)

/* A test whose body runs on a fresh store `s` once per engine, sealing and
 * mode (native or generic), and closes it after; a body that must reopen
 * its store writes the loop out instead. */
#define STORE_MODE_TEST(test_name, dir_name)                                                       \
    static void test_name##_on(state_store *s);                                                    \
    TEST(test_name)                                                                                \
    {                                                                                              \
        FOR_EACH_MODE(v, m, dir, dir_name)                                                         \
        {                                                                                          \
            state_store *s = open_mode(v, dir, m);                                                 \
            test_name##_on(s);                                                                     \
            state_store_close(s);                                                                  \
        }                                                                                          \
    }                                                                                              \
    static void test_name##_on(state_store *s)

typedef struct seen {
    char keys[32][16];
    size_t lens[32];
    uint64_t revs[32];
    size_t state_lens[32];
    int n;
} seen;

static int see(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
               const uint8_t *state, size_t state_len)
{
    (void)state;
    seen *c = ctx;
    ASSERT(c->n < 32 && key_len < 16);
    memcpy(c->keys[c->n], key, key_len);
    c->lens[c->n] = key_len;
    c->revs[c->n] = revision;
    c->state_lens[c->n] = state_len;
    c->n++;
    return 0;
}

static void put(state_store *s, const uint8_t *key, size_t len, const char *value)
{
    ASSERT_OK(state_store_upsert(s, key, len, STATE_ANY_REVISION, K(value), NULL));
}

static void expect_keys(const seen *c, const char *const *want, const size_t *want_lens, int n)
{
    ASSERT_EQ_INT(c->n, n);
    for (int i = 0; i < n; i++)
        ASSERT_MEM_EQ(c->keys[i], c->lens[i], want[i], want_lens[i]);
}

static void put_names(state_store *s, const char *const *keys, int n)
{
    for (int i = 0; i < n; i++)
        put(s, K(keys[i]), keys[i]);
}

STORE_MODE_TEST(test_scan_excludes_start_and_stops_at_end, "bounds")
{
    const char *keys[] = {"k5", "k1", "k9", "k3", "k7", "k2", "k4", "k6", "k8"};
    put_names(s, keys, 9);
    state_bounds b = {0};
    b.start = (const uint8_t *)"k3";
    b.start_len = 2;
    b.start_exclusive = 1;
    b.end = (const uint8_t *)"k7";
    b.end_len = 2;
    seen c = {0};
    ASSERT_OK(state_store_scan_range(s, &b, see, &c));
    const char *fwd[] = {"k4", "k5", "k6"};
    size_t two[] = {2, 2, 2, 2};
    expect_keys(&c, fwd, two, 3);

    b.end_inclusive = 1;
    b.reverse = 1;
    b.limit = 2;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(state_store_scan_range(s, &b, see, &c));
    const char *rev[] = {"k7", "k6"};
    expect_keys(&c, rev, two, 2);
}

STORE_MODE_TEST(test_scan_prefix_bound_with_ff_bytes, "ffprefix")
{
    put(s, K("a"), "x");
    put(s, KB("a\xff"), "x");
    put(s, KB("a\xff\x01"), "x");
    put(s, KB("a\xff\xff"), "x");
    put(s, K("b"), "x");
    put(s, KB("\xff"), "x");
    put(s, KB("\xff\xff\x02"), "x");
    state_bounds b = {0};
    bytes scratch = BYTES_INIT;
    ASSERT_OK(state_bounds_clip_prefix(&b, KB("a\xff"), &scratch));
    seen c = {0};
    ASSERT_OK(state_store_scan_range(s, &b, see, &c));
    const char *want[] = {"a\xff", "a\xff\x01", "a\xff\xff"};
    size_t lens[] = {2, 3, 3};
    expect_keys(&c, want, lens, 3);

    /* All 0xFF: no upper key exists, every key above extends it. */
    state_bounds all = {0};
    all.reverse = 1;
    ASSERT_OK(state_bounds_clip_prefix(&all, KB("\xff"), &scratch));
    memset(&c, 0, sizeof(c));
    ASSERT_OK(state_store_scan_range(s, &all, see, &c));
    const char *ff[] = {"\xff\xff\x02", "\xff"};
    size_t fflens[] = {3, 1};
    expect_keys(&c, ff, fflens, 2);
    bytes_free(&scratch);
}

STORE_MODE_TEST(test_scan_carries_values_unless_keys_only, "values")
{
    put(s, K("c/1"), "hello");
    put(s, K("c/2"), "world!");
    state_bounds b = {0};
    seen c = {0};
    ASSERT_OK(state_store_scan_range(s, &b, see, &c));
    ASSERT_EQ_INT(c.n, 2);
    ASSERT_EQ_U64(c.state_lens[0], 5);
    ASSERT_EQ_U64(c.state_lens[1], 6);
    b.keys_only = 1;
    memset(&c, 0, sizeof(c));
    ASSERT_OK(state_store_scan_range(s, &b, see, &c));
    ASSERT_EQ_INT(c.n, 2);
    ASSERT_EQ_U64(c.state_lens[0], 0);
}

STORE_MODE_TEST(test_last_by_prefix_ignores_other_prefixes, "lastprefix")
{
    const char *keys[] = {"a/1", "a/2", "b/1", "c"};
    put_names(s, keys, 4);
    bytes key = BYTES_INIT, val = BYTES_INIT;
    uint64_t rev = 0;
    ASSERT_OK(state_store_last_prefix(s, K("a/"), &key, &rev, &val));
    ASSERT_MEM_EQ(key.data, key.len, "a/2", 3);
    ASSERT_MEM_EQ(val.data, val.len, "a/2", 3);
    ASSERT_EQ_U64(rev, 1);
    ASSERT_OK(state_store_last_prefix(s, K("b/"), &key, NULL, NULL));
    ASSERT_MEM_EQ(key.data, key.len, "b/1", 3);
    ASSERT_STATUS(state_store_last_prefix(s, K("z"), &key, NULL, NULL), ST_ENOTFOUND);
    ASSERT_OK(state_store_last_prefix(s, NULL, 0, &key, NULL, NULL));
    ASSERT_MEM_EQ(key.data, key.len, "c", 1);
    bytes_free(&key);
    bytes_free(&val);
}

STORE_MODE_TEST(test_purge_by_prefix_leaves_other_prefixes, "purgeprefix")
{
    const char *keys[] = {"a", "a/1", "a/2", "ab", "b/1"};
    put_names(s, keys, 5);
    put(s, KB("\xff\x01"), "x");
    ASSERT_OK(state_store_purge_prefix(s, K("a/")));
    state_bounds all = {0};
    seen c = {0};
    ASSERT_OK(state_store_scan_range(s, &all, see, &c));
    const char *left[] = {"a", "ab", "b/1", "\xff\x01"};
    size_t lens[] = {1, 2, 3, 2};
    expect_keys(&c, left, lens, 4);
    ASSERT_OK(state_store_purge_prefix(s, KB("\xff")));
    memset(&c, 0, sizeof(c));
    ASSERT_OK(state_store_scan_range(s, &all, see, &c));
    expect_keys(&c, left, lens, 3);
}

STORE_MODE_TEST(test_batch_applies_upserts_and_deletes_together, "batch")
{
    put(s, K("x"), "x1");
    put(s, K("y"), "y1");
    state_op ops[] = {
        {STATE_OP_UPSERT, K("x"), 1, K("x2")},
        {STATE_OP_DELETE, K("y"), 1, NULL, 0},
        {STATE_OP_UPSERT, K("z"), STATE_ANY_REVISION, K("z1")},
        {STATE_OP_UPSERT, K("w"), 0, K("w1")},
        {STATE_OP_DELETE, K("never"), STATE_ANY_REVISION, NULL, 0},
    };
    uint64_t revs[5] = {9, 9, 9, 9, 9};
    ASSERT_OK(state_store_batch(s, ops, 5, revs));
    ASSERT_EQ_U64(revs[0], 2);
    ASSERT_EQ_U64(revs[1], 0);
    ASSERT_EQ_U64(revs[2], 1);
    ASSERT_EQ_U64(revs[3], 1);
    expect_state(s, "x", 2, "x2");
    expect_state(s, "z", 1, "z1");
    expect_state(s, "w", 1, "w1");
    ASSERT_STATUS(state_store_get(s, K("y"), NULL, NULL), ST_ENOTFOUND);
}

/* The store the failing batches start from (a1 and b1, each at revision
 * 1), and the batch they refuse or interrupt: a to a2 (revision 2), b
 * deleted, c created (revision 1). */
static void put_a1_b1(state_store *s)
{
    put(s, K("a"), "a1");
    put(s, K("b"), "b1");
}

/* Writes that batch into ops[0..2]. */
static void batch_over_a1_b1(state_op ops[3])
{
    const state_op batch[] = {
        {STATE_OP_UPSERT, K("a"), 1, K("a2")},
        {STATE_OP_DELETE, K("b"), 1, NULL, 0},
        {STATE_OP_UPSERT, K("c"), 0, K("c1")},
    };
    memcpy(ops, batch, sizeof(batch));
}

TEST(test_batch_conflict_writes_nothing_even_after_reopen)
{
    FOR_EACH_MODE(v, m, dir, "batchconflict")
    {
        state_store *s = open_mode(v, dir, m);
        put_a1_b1(s);
        state_op ops[4];
        batch_over_a1_b1(ops);
        ops[3] = (state_op){STATE_OP_UPSERT, K("d"), 5, K("d?")}; /* the conflict */
        ASSERT_STATUS(state_store_batch(s, ops, 4, NULL), ST_ECONFLICT);
        ASSERT_MSG(strstr(error_message(), "op 3") != NULL, "message: %s", error_message());
        for (int round = 0; round < 2; round++) {
            expect_state(s, "a", 1, "a1");
            expect_state(s, "b", 1, "b1");
            ASSERT_STATUS(state_store_get(s, K("c"), NULL, NULL), ST_ENOTFOUND);
            ASSERT_STATUS(state_store_get(s, K("d"), NULL, NULL), ST_ENOTFOUND);
            if (v % V_COUNT_ENGINES == V_MEMORY)
                break; /* nothing to reopen */
            state_store_close(s);
            s = open_mode(v, dir, m);
        }
        state_store_close(s);
    }
}

TEST(test_batch_refuses_a_key_twice_and_bad_ops)
{
    FOR_EACH_VARIANT(v)
    {
        char dir[1024];
        fresh_dir(dir, sizeof(dir), v, "batchbad");
        state_store *s = open_mode(v, dir, 0);
        state_op twice[] = {
            {STATE_OP_UPSERT, K("k"), STATE_ANY_REVISION, K("1")},
            {STATE_OP_DELETE, K("k"), STATE_ANY_REVISION, NULL, 0},
        };
        ASSERT_STATUS(state_store_batch(s, twice, 2, NULL), ST_EINVAL);
        ASSERT(strstr(error_message(), "appears twice") != NULL);
        state_op zero_delete[] = {{STATE_OP_DELETE, K("k"), 0, NULL, 0}};
        ASSERT_STATUS(state_store_batch(s, zero_delete, 1, NULL), ST_EINVAL);
        state_op bad_kind[] = {{7, K("k"), 0, NULL, 0}};
        ASSERT_STATUS(state_store_batch(s, bad_kind, 1, NULL), ST_EINVAL);
        ASSERT_STATUS(state_store_batch(s, NULL, 1, NULL), ST_EINVAL);
        ASSERT_OK(state_store_batch(s, NULL, 0, NULL));
        ASSERT_STATUS(state_store_get(s, K("k"), NULL, NULL), ST_ENOTFOUND);
        state_store_close(s);
    }
}

TEST(test_flush_then_reopen_keeps_writes)
{
    FOR_EACH_MODE(v, m, dir, "flush")
    {
        state_store *s = open_mode(v, dir, m);
        put(s, K("f"), "flushed");
        ASSERT_OK(state_store_flush(s));
        if (v % V_COUNT_ENGINES != V_MEMORY) {
            state_store_close(s);
            s = open_mode(v, dir, m);
        }
        expect_state(s, "f", 1, "flushed");
        state_store_close(s);
    }
}

/* fs: the intent file is the commit point. A batch whose apply step
 * fails after the intent is written completes at the next open. */
static int writes_left;
static ssize_t failing_write(int fd, const void *buf, size_t n)
{
    if (writes_left-- <= 0) {
        errno = EIO;
        return -1;
    }
    return write(fd, buf, n);
}

TEST(test_fs_batch_interrupted_after_its_intent_completes_at_reopen)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/fsintent", test_tmpdir());
    store_backend *be;
    ASSERT_OK(store_backend_open_fs(&be, dir, NULL));
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    put_a1_b1(s);
    state_op ops[3];
    batch_over_a1_b1(ops);
    fs_io_faults faults = {failing_write, NULL};
    writes_left = 1; /* the intent file's one write, then nothing */
    fs_io_set_faults(&faults);
    int rc = state_store_batch(s, ops, 3, NULL);
    fs_io_set_faults(NULL);
    ASSERT_STATUS(rc, ST_EIO);
    state_store_close(s);
    ASSERT_OK(store_backend_open_fs(&be, dir, NULL));
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    expect_state(s, "a", 2, "a2");
    expect_state(s, "c", 1, "c1");
    ASSERT_STATUS(state_store_get(s, K("b"), NULL, NULL), ST_ENOTFOUND);
    state_store_close(s);
}

/* The same, with a second handle already open: its next state write (here
 * a purge, which must not run under a half-applied batch) completes the
 * batch first. */
TEST(test_fs_interrupted_batch_completes_before_another_handles_write)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/fsintent2", test_tmpdir());
    store_backend *be_a, *be_b;
    state_store *a, *b;
    ASSERT_OK(store_backend_open_fs(&be_a, dir, NULL));
    ASSERT_OK(state_store_open_backend(&a, be_a, NULL));
    ASSERT_OK(store_backend_open_fs(&be_b, dir, NULL));
    ASSERT_OK(state_store_open_backend(&b, be_b, NULL));
    put(a, K("x/1"), "old");
    state_op ops[] = {
        {STATE_OP_UPSERT, K("x/1"), 1, K("new")},
        {STATE_OP_UPSERT, K("y/1"), 0, K("y")},
    };
    fs_io_faults faults = {failing_write, NULL};
    writes_left = 1;
    fs_io_set_faults(&faults);
    int rc = state_store_batch(a, ops, 2, NULL);
    fs_io_set_faults(NULL);
    ASSERT_STATUS(rc, ST_EIO);
    ASSERT_OK(state_store_purge_prefix(b, K("y/")));
    expect_state(b, "x/1", 2, "new");
    ASSERT_STATUS(state_store_get(b, K("y/1"), NULL, NULL), ST_ENOTFOUND);
    state_store_close(a);
    state_store_close(b);
    ASSERT_OK(store_backend_open_fs(&be_a, dir, NULL));
    ASSERT_OK(state_store_open_backend(&a, be_a, NULL));
    ASSERT_STATUS(state_store_get(a, K("y/1"), NULL, NULL), ST_ENOTFOUND);
    state_store_close(a);
}
