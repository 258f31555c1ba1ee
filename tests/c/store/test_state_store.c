/*
 * The durable state contract (state_store.h) against every engine, sealed
 * and unsealed: compare-and-set, revisions, delete, scan order, batching.
 */
#include <stdlib.h>
#include <string.h>

#include "store/state_store.h"
#include "util/rng.h"
#include "variants.h"

static state_store *open_variant(int v, const char *dir)
{
    store_backend *be = open_engine(v, dir);
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, variant_sealer(v)));
    return s;
}

/* Variant v on a fresh directory `name`. */
static state_store *open_fresh(int v, const char *name)
{
    char dir[1024];
    fresh_dir(dir, sizeof(dir), v, name);
    return open_variant(v, dir);
}

#define K(str) (const uint8_t *)(str), strlen(str)

TEST(test_insert_then_cas_updates_revision)
{
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "cas");
        uint64_t rev = 0;
        ASSERT_OK(state_store_upsert(s, K("a"), 0, K("one"), &rev));
        ASSERT_EQ_U64(rev, 1);
        ASSERT_STATUS(state_store_upsert(s, K("a"), 0, K("again"), &rev), ST_ECONFLICT);
        ASSERT_STATUS(state_store_upsert(s, K("a"), 2, K("wrong"), &rev), ST_ECONFLICT);
        ASSERT_OK(state_store_upsert(s, K("a"), 1, K("two"), &rev));
        ASSERT_EQ_U64(rev, 2);
        expect_state(s, "a", 2, "two");
        state_store_close(s);
    }
}

TEST(test_failed_upsert_changes_nothing)
{
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "nochange");
        ASSERT_OK(state_store_upsert(s, K("k"), 0, K("v1"), NULL));
        ASSERT_STATUS(state_store_upsert(s, K("k"), 7, K("v2"), NULL), ST_ECONFLICT);
        expect_state(s, "k", 1, "v1");
        state_store_close(s);
    }
}

TEST(test_any_revision_writes_unconditionally)
{
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "any");
        uint64_t rev;
        ASSERT_OK(state_store_upsert(s, K("x"), STATE_ANY_REVISION, K("a"), &rev));
        ASSERT_EQ_U64(rev, 1);
        ASSERT_OK(state_store_upsert(s, K("x"), STATE_ANY_REVISION, K("b"), &rev));
        ASSERT_EQ_U64(rev, 2);
        bytes out = BYTES_INIT;
        ASSERT_OK(state_store_get(s, K("x"), &rev, &out));
        ASSERT_MEM_EQ(out.data, out.len, "b", 1);
        bytes_free(&out);
        state_store_close(s);
    }
}

TEST(test_get_missing_is_not_found)
{
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "missing");
        bytes out = BYTES_INIT;
        uint64_t rev;
        ASSERT_STATUS(state_store_get(s, K("nope"), &rev, &out), ST_ENOTFOUND);
        ASSERT_STATUS(state_store_delete(s, K("nope"), STATE_ANY_REVISION), ST_ENOTFOUND);
        bytes_free(&out);
        state_store_close(s);
    }
}

TEST(test_delete_checks_revision_and_removes)
{
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "delete");
        ASSERT_OK(state_store_upsert(s, K("d"), 0, K("v"), NULL));
        ASSERT_STATUS(state_store_delete(s, K("d"), 0), ST_EINVAL);
        ASSERT_STATUS(state_store_delete(s, K("d"), 5), ST_ECONFLICT);
        ASSERT_OK(state_store_delete(s, K("d"), 1));
        ASSERT_STATUS(state_store_get(s, K("d"), NULL, NULL), ST_ENOTFOUND);
        /* A deleted key starts again at revision 1. */
        uint64_t rev;
        ASSERT_OK(state_store_upsert(s, K("d"), 0, K("again"), &rev));
        ASSERT_EQ_U64(rev, 1);
        state_store_close(s);
    }
}

TEST(test_empty_state_round_trips)
{
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "empty");
        ASSERT_OK(state_store_upsert(s, K("e"), 0, NULL, 0, NULL));
        bytes out = BYTES_INIT;
        uint64_t rev;
        ASSERT_OK(state_store_get(s, K("e"), &rev, &out));
        ASSERT_EQ_U64(out.len, 0);
        bytes_free(&out);
        state_store_close(s);
    }
}

TEST(test_empty_key_is_rejected)
{
    state_store *s;
    ASSERT_OK(state_store_open_memory(&s));
    ASSERT_STATUS(state_store_upsert(s, NULL, 0, 0, K("v"), NULL), ST_EINVAL);
    ASSERT_STATUS(state_store_upsert(NULL, K("k"), 0, K("v"), NULL), ST_EMISUSE);
    state_store_close(s);
}

typedef struct collected {
    char keys[64][16];
    uint64_t revs[64];
    int n;
    int stop_after;
} collected;

static int collect(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                   const uint8_t *state, size_t state_len)
{
    collected *c = ctx;
    (void)state;
    (void)state_len;
    if (c->n < 64 && key_len < 16) {
        memcpy(c->keys[c->n], key, key_len);
        c->keys[c->n][key_len] = 0;
        c->revs[c->n] = revision;
        c->n++;
    }
    if (c->stop_after && c->n == c->stop_after)
        return 42;
    return 0;
}

TEST(test_scan_visits_prefix_in_key_order)
{
    const char *keys[] = {"b/2", "a", "b/1", "b", "c", "b/10", "ba"};
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "scan");
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            ASSERT_OK(state_store_upsert(s, K(keys[i]), 0, K(keys[i]), NULL));
        collected c = {0};
        ASSERT_OK(state_store_scan(s, (const uint8_t *)"b/", 2, collect, &c));
        ASSERT_EQ_INT(c.n, 3);
        ASSERT_STR_EQ(c.keys[0], "b/1");
        ASSERT_STR_EQ(c.keys[1], "b/10");
        ASSERT_STR_EQ(c.keys[2], "b/2");
        memset(&c, 0, sizeof(c));
        ASSERT_OK(state_store_scan(s, NULL, 0, collect, &c));
        ASSERT_EQ_INT(c.n, 7);
        ASSERT_STR_EQ(c.keys[0], "a");
        ASSERT_STR_EQ(c.keys[1], "b");
        ASSERT_STR_EQ(c.keys[6], "c");
        memset(&c, 0, sizeof(c));
        c.stop_after = 2;
        ASSERT_EQ_INT(state_store_scan(s, NULL, 0, collect, &c), 42);
        ASSERT_EQ_INT(c.n, 2);
        state_store_close(s);
    }
}

TEST(test_batched_upserts_commit_together)
{
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "batch");
        ASSERT_OK(state_store_begin(s));
        for (int i = 0; i < 50; i++) {
            char key[16];
            snprintf(key, sizeof(key), "k%02d", i);
            ASSERT_OK(state_store_upsert(s, K(key), 0, K(key), NULL));
        }
        /* A conflict inside a batch fails alone; the batch goes on. */
        ASSERT_STATUS(state_store_upsert(s, K("k00"), 0, K("dup"), NULL), ST_ECONFLICT);
        ASSERT_OK(state_store_commit(s));
        collected c = {0};
        ASSERT_OK(state_store_scan(s, (const uint8_t *)"k", 1, collect, &c));
        ASSERT_EQ_INT(c.n, 50);
        state_store_close(s);
    }
}

TEST(test_sqlite_state_survives_reopen)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/reopen.db", test_tmpdir());
    state_store *s;
    sqlite_options o = sqlite_options_default();
    o.sync = STORE_SYNC_FULL;
    ASSERT_OK(state_store_open_sqlite(&s, path, &o));
    ASSERT_OK(state_store_upsert(s, K("durable"), 0, K("yes"), NULL));
    ASSERT_OK(state_store_upsert(s, K("durable"), 1, K("still"), NULL));
    state_store_close(s);
    ASSERT_OK(state_store_open_sqlite(&s, path, NULL));
    expect_state(s, "durable", 2, "still");
    state_store_close(s);
}

TEST(test_random_ops_match_memory_model)
{
    rng g;
    rng_seed(&g, test_seed());
    unsigned cases = test_cases(300);
    FOR_EACH_VARIANT(v)
    {
        if (v == V_MEMORY)
            continue; /* the model itself */
        state_store *s = open_fresh(v, "model");
        state_store *model;
        ASSERT_OK(state_store_open_memory(&model));
        for (unsigned i = 0; i < cases; i++) {
            char key[8];
            snprintf(key, sizeof(key), "k%u", (unsigned)rng_below(&g, 8));
            uint64_t expected = rng_chance(&g, 1, 4) ? STATE_ANY_REVISION : rng_below(&g, 4);
            uint8_t val[40];
            size_t len = (size_t)rng_below(&g, sizeof(val));
            for (size_t j = 0; j < len; j++)
                val[j] = (uint8_t)rng_next(&g);
            int op = (int)rng_below(&g, 3);
            int a, b;
            uint64_t ra = 0, rb = 0;
            if (op < 2) {
                a = state_store_upsert(s, K(key), expected, val, len, &ra);
                b = state_store_upsert(model, K(key), expected, val, len, &rb);
            } else {
                if (!expected)
                    expected = 1;
                a = state_store_delete(s, K(key), expected);
                b = state_store_delete(model, K(key), expected);
            }
            ASSERT_EQ_INT(a, b);
            ASSERT_EQ_U64(ra, rb);
        }
        for (int k = 0; k < 8; k++) {
            char key[8];
            snprintf(key, sizeof(key), "k%d", k);
            bytes x = BYTES_INIT, y = BYTES_INIT;
            uint64_t rx = 0, ry = 0;
            ASSERT_EQ_INT(state_store_get(s, K(key), &rx, &x),
                          state_store_get(model, K(key), &ry, &y));
            ASSERT_EQ_U64(rx, ry);
            ASSERT_MEM_EQ(x.data, x.len, y.data, y.len);
            bytes_free(&x);
            bytes_free(&y);
        }
        state_store_close(model);
        state_store_close(s);
    }
}

TEST(test_range_forward_backward_last_and_purge)
{
    const char *keys[] = {"d", "a", "c", "e", "b"};
    FOR_EACH_VARIANT(v)
    {
        state_store *s = open_fresh(v, "range");
        bytes key = BYTES_INIT, val = BYTES_INIT;
        uint64_t rev;
        ASSERT_STATUS(state_store_last(s, &key, &rev, &val), ST_ENOTFOUND);
        for (int i = 0; i < 5; i++)
            ASSERT_OK(state_store_upsert(s, K(keys[i]), 0, K(keys[i]), NULL));
        collected c = {0};
        ASSERT_OK(state_store_range(s, (const uint8_t *)"b", 1, 3, collect, &c));
        ASSERT_EQ_INT(c.n, 3);
        ASSERT_STR_EQ(c.keys[0], "b");
        ASSERT_STR_EQ(c.keys[2], "d");
        memset(&c, 0, sizeof(c));
        ASSERT_OK(state_store_range(s, (const uint8_t *)"bb", 2, -2, collect, &c));
        ASSERT_EQ_INT(c.n, 2);
        ASSERT_STR_EQ(c.keys[0], "b");
        ASSERT_STR_EQ(c.keys[1], "a");
        memset(&c, 0, sizeof(c));
        ASSERT_OK(state_store_range(s, NULL, 0, -100, collect, &c));
        ASSERT_EQ_INT(c.n, 5);
        ASSERT_STR_EQ(c.keys[0], "e");
        ASSERT_STR_EQ(c.keys[4], "a");
        memset(&c, 0, sizeof(c));
        ASSERT_OK(state_store_range(s, NULL, 0, INT64_MIN, collect, &c));
        ASSERT_EQ_INT(c.n, 5);
        memset(&c, 0, sizeof(c));
        ASSERT_OK(state_store_range(s, NULL, 0, 0, collect, &c));
        ASSERT_EQ_INT(c.n, 0);
        ASSERT_OK(state_store_last(s, &key, &rev, &val));
        ASSERT_MEM_EQ(key.data, key.len, "e", 1);
        ASSERT_MEM_EQ(val.data, val.len, "e", 1);
        ASSERT_EQ_U64(rev, 1);
        ASSERT_OK(state_store_purge(s));
        memset(&c, 0, sizeof(c));
        ASSERT_OK(state_store_scan(s, NULL, 0, collect, &c));
        ASSERT_EQ_INT(c.n, 0);
        ASSERT_STATUS(state_store_get(s, K("a"), NULL, NULL), ST_ENOTFOUND);
        bytes_free(&key);
        bytes_free(&val);
        state_store_close(s);
    }
}
