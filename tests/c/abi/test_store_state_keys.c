/*
 * Walking a durable state store through the public header: keys by prefix,
 * ranges forward and backward, last, purge. Every backend, sealed and not,
 * and stores larger than one cursor page (512) so resuming is exercised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_stores.h"

#define KEY(s) (const uint8_t *)(s), strlen(s)

/* variant % 3 picks memory, SQLite, fs; variant >= 3 seals. */
static dd_state_store *open_store(int variant)
{
    return open_variant_store("keys", variant, variant >= 3 ? shared_test_keyring() : NULL,
                              DD_SYNC_OFF);
}

static void put(dd_state_store *s, const char *key, const char *value)
{
    ASSERT_OK(dd_state_store_upsert(NULL, s, KEY(key), dd_any_revision(), KEY(value)));
}

/* Reads a cursor to the end into "key:rev[=state]," text, then closes it. */
static void drain(dd_journal_cursor *c, char *out, size_t cap, int with_state)
{
    size_t off = 0;
    out[0] = 0;
    dd_journal_event ev;
    int rc;
    while ((rc = dd_journal_cursor_next(&ev, c)) == DD_OK) {
        ASSERT(ev.tag_count == 0 && ev.timestamp_ms == 0);
        int w = with_state ? snprintf(out + off, cap - off, "%.*s:%llu=%.*s,", (int)ev.pid_len,
                                      (const char *)ev.pid, (unsigned long long)ev.seq, (int)ev.len,
                                      (const char *)ev.payload)
                           : snprintf(out + off, cap - off, "%.*s:%llu,", (int)ev.pid_len,
                                      (const char *)ev.pid, (unsigned long long)ev.seq);
        ASSERT(w > 0 && (size_t)w < cap - off);
        if (!with_state)
            ASSERT_EQ_U64(ev.len, 0);
        off += (size_t)w;
    }
    ASSERT_STATUS(rc, DD_EDONE);
    ASSERT_STATUS(dd_journal_cursor_next(&ev, c), DD_EDONE);
    ASSERT_OK(dd_journal_cursor_close(c));
}

/* dd_state_store_keys(prefix) lists `want` (as drain writes it). */
static void expect_keys(dd_state_store *s, const char *prefix, const char *want)
{
    char got[512];
    dd_journal_cursor *c;
    ASSERT_OK(dd_state_store_keys(&c, s, (const uint8_t *)prefix, prefix ? strlen(prefix) : 0));
    drain(c, got, sizeof(got), 0);
    ASSERT_STR_EQ(got, want);
}

/* dd_state_store_range(start, count) walks `want` (with the states). */
static void expect_range(dd_state_store *s, const char *start, int64_t count, const char *want)
{
    char got[512];
    dd_journal_cursor *c;
    ASSERT_OK(
        dd_state_store_range(&c, s, (const uint8_t *)start, start ? strlen(start) : 0, count));
    drain(c, got, sizeof(got), 1);
    ASSERT_STR_EQ(got, want);
}

static void fill_sample(dd_state_store *s)
{
    put(s, "user/bob", "b");
    put(s, "user/amy", "a");
    put(s, "order/1", "o1");
    put(s, "user/amy", "a2");
    put(s, "users", "u");
    put(s, "user/", "empty");
}

TEST(test_keys_lists_a_prefix_in_byte_order_with_revisions)
{
    for (int v = 0; v < 6; v++) {
        dd_state_store *s = open_store(v);
        fill_sample(s);
        expect_keys(s, "user/", "user/:1,user/amy:2,user/bob:1,");
        expect_keys(s, NULL, "order/1:1,user/:1,user/amy:2,user/bob:1,users:1,");
        expect_keys(s, "zzz", "");
        ASSERT_OK(dd_state_store_close(s));
    }
}

TEST(test_range_walks_forward_and_backward_with_a_count)
{
    for (int v = 0; v < 6; v++) {
        dd_state_store *s = open_store(v);
        fill_sample(s);
        expect_range(s, NULL, 2, "order/1:1=o1,user/:1=empty,");
        expect_range(s, "user/amy", 100, "user/amy:2=a2,user/bob:1=b,users:1=u,");
        expect_range(s, NULL, -2, "users:1=u,user/bob:1=b,");
        /* A start key with no record: the walk begins at its neighbour. */
        expect_range(s, "user/b", -10, "user/amy:2=a2,user/:1=empty,order/1:1=o1,");
        expect_range(s, "user/b", INT64_MIN, "user/amy:2=a2,user/:1=empty,order/1:1=o1,");
        expect_range(s, NULL, 0, "");
        ASSERT_OK(dd_state_store_close(s));
    }
}

TEST(test_last_and_purge)
{
    for (int v = 0; v < 6; v++) {
        dd_state_store *s = open_store(v);
        dd_buf st = DD_BUF_INIT, key = DD_BUF_INIT;
        uint64_t rev = 99;
        ASSERT_STATUS(dd_state_store_last(&st, &key, &rev, s), DD_ENOTFOUND);
        ASSERT(st.data == NULL && key.data == NULL);
        fill_sample(s);
        ASSERT_OK(dd_state_store_last(&st, &key, &rev, s));
        ASSERT_MEM_EQ(key.data, key.len, "users", 5);
        ASSERT_MEM_EQ(st.data, st.len, "u", 1);
        ASSERT_EQ_U64(rev, 1);
        dd_buf_free(&st);
        dd_buf_free(&key);
        ASSERT_OK(dd_state_store_last(&st, NULL, NULL, s));
        ASSERT_MEM_EQ(st.data, st.len, "u", 1);
        dd_buf_free(&st);
        ASSERT_OK(dd_state_store_purge(s));
        ASSERT_STATUS(dd_state_store_last(&st, &key, &rev, s), DD_ENOTFOUND);
        ASSERT_STATUS(dd_state_store_get(&st, &rev, s, KEY("user/amy")), DD_ENOTFOUND);
        /* A purged key starts again at revision 1. */
        ASSERT_OK(dd_state_store_upsert(&rev, s, KEY("user/amy"), 0, KEY("x")));
        ASSERT_EQ_U64(rev, 1);
        ASSERT_OK(dd_state_store_purge(s));
        ASSERT_OK(dd_state_store_purge(s));
        ASSERT_OK(dd_state_store_close(s));
    }
}

/* More keys than one page; a resumed page must neither repeat nor skip. */
TEST(test_cursors_resume_across_pages)
{
    enum { N = 4200 }; /* more than one key page (4096) and eight range pages (512) */
    for (int v = 0; v < 6; v++) {
        if (v % 3 == 2 && v != 2)
            continue; /* sealed fs adds nothing the others do not cover */
        dd_state_store *s = open_store(v);
        char key[32], val[32];
        for (int i = 0; i < N; i++) {
            snprintf(key, sizeof(key), "k%05d", i);
            snprintf(val, sizeof(val), "v%d", i);
            put(s, key, val);
        }
        put(s, "j", "before");
        put(s, "l", "after");
        dd_journal_cursor *c;
        dd_journal_event ev;
        int i = 0;
        ASSERT_OK(dd_state_store_keys(&c, s, KEY("k")));
        while (dd_journal_cursor_next(&ev, c) == DD_OK) {
            snprintf(key, sizeof(key), "k%05d", i++);
            ASSERT_MEM_EQ(ev.pid, ev.pid_len, key, strlen(key));
        }
        ASSERT_EQ_INT(i, N);
        ASSERT_OK(dd_journal_cursor_close(c));
        ASSERT_OK(dd_state_store_range(&c, s, KEY("k99999"), -(N + 5)));
        for (i = N - 1; i >= 0; i--) {
            ASSERT_OK(dd_journal_cursor_next(&ev, c));
            snprintf(key, sizeof(key), "k%05d", i);
            snprintf(val, sizeof(val), "v%d", i);
            ASSERT_MEM_EQ(ev.pid, ev.pid_len, key, strlen(key));
            ASSERT_MEM_EQ(ev.payload, ev.len, val, strlen(val));
        }
        ASSERT_OK(dd_journal_cursor_next(&ev, c));
        ASSERT_MEM_EQ(ev.pid, ev.pid_len, "j", 1);
        ASSERT_STATUS(dd_journal_cursor_next(&ev, c), DD_EDONE);
        ASSERT_OK(dd_journal_cursor_close(c));
        /* A count that ends exactly on a page boundary. */
        ASSERT_OK(dd_state_store_range(&c, s, NULL, 0, 1024));
        for (i = 0; dd_journal_cursor_next(&ev, c) == DD_OK; i++)
            ;
        ASSERT_EQ_INT(i, 1024);
        ASSERT_OK(dd_journal_cursor_close(c));
        ASSERT_OK(dd_state_store_close(s));
    }
}

TEST(test_state_cursor_misuse_is_reported)
{
    dd_state_store *s = open_store(0);
    put(s, "a", "1");
    dd_journal_cursor *c = (dd_journal_cursor *)1;
    ASSERT_STATUS(dd_state_store_keys(NULL, s, NULL, 0), DD_EINVAL);
    ASSERT_STATUS(dd_state_store_keys(&c, s, NULL, 3), DD_EINVAL);
    ASSERT(c == NULL);
    ASSERT(strstr(dd_error_last()->message, "prefix") != NULL);
    ASSERT_STATUS(dd_state_store_range(&c, s, NULL, 1, 1), DD_EINVAL);
    uint8_t *big = calloc(5000, 1);
    ASSERT_STATUS(dd_state_store_keys(&c, s, big, 5000), DD_ELIMIT);
    ASSERT_STATUS(dd_state_store_range(&c, s, big, 5000, 1), DD_ELIMIT);
    free(big);
    ASSERT_STATUS(dd_state_store_keys(&c, NULL, NULL, 0), DD_EMISUSE);
    ASSERT_STATUS(dd_state_store_last(NULL, NULL, NULL, s), DD_EINVAL);
    dd_buf b = DD_BUF_INIT;
    ASSERT_STATUS(dd_state_store_last(&b, NULL, NULL, NULL), DD_EMISUSE);
    ASSERT_STATUS(dd_state_store_purge(NULL), DD_EMISUSE);
    /* A journal is not a state store, and a state cursor outlives a close of
     * its store (the close is deferred). */
    dd_journal *j;
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    ASSERT_OK(dd_journal_open(&j, &o));
    ASSERT_STATUS(dd_state_store_keys(&c, (dd_state_store *)j, NULL, 0), DD_EMISUSE);
    ASSERT_STATUS(dd_state_store_purge((dd_state_store *)j), DD_EMISUSE);
    ASSERT_OK(dd_journal_close(j));
    dd_journal_cursor *live;
    ASSERT_OK(dd_state_store_keys(&live, s, NULL, 0));
    ASSERT_OK(dd_state_store_close(s));
    ASSERT_STATUS(dd_state_store_purge(s), DD_EMISUSE);
    ASSERT_STATUS(dd_state_store_keys(&c, s, NULL, 0), DD_EMISUSE);
    ASSERT(c == NULL);
    dd_journal_event ev;
    ASSERT_OK(dd_journal_cursor_next(&ev, live));
    ASSERT_MEM_EQ(ev.pid, ev.pid_len, "a", 1);
    ASSERT_STATUS(dd_journal_cursor_next(&ev, live), DD_EDONE);
    ASSERT_OK(dd_journal_cursor_close(live));
    ASSERT_STATUS(dd_journal_cursor_next(&ev, live), DD_EMISUSE);
    ASSERT_OK(dd_state_store_close(NULL));
}

/* A sorted model of the store: keys "k0".."k299" as indexes, revision 0 =
 * absent. */
enum { MODEL_KEYS = 300 };

static void model_key(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "k%d", i);
}

static int cmp_keys(const void *a, const void *b)
{
    char ka[16], kb[16];
    model_key(*(const int *)a, ka, sizeof(ka));
    model_key(*(const int *)b, kb, sizeof(kb));
    return strcmp(ka, kb);
}

/* Random upserts, deletes and purges; after each, a random keys() or
 * range() must list exactly what the model holds, in order. Small pages
 * are not configurable, so the store is big enough to span several. */
TEST(test_keys_and_range_match_a_model_after_random_writes)
{
    uint64_t seed = test_seed();
    srand((unsigned)seed);
    int order[MODEL_KEYS];
    for (int i = 0; i < MODEL_KEYS; i++)
        order[i] = i;
    qsort(order, MODEL_KEYS, sizeof(int), cmp_keys);
    for (int v = 0; v < 2; v++) {
        dd_state_store *s = open_store(v);
        uint64_t rev[MODEL_KEYS] = {0};
        char key[16], want[16];
        unsigned cases = test_cases(200);
        for (unsigned n = 0; n < cases; n++) {
            int op = rand() % 100, k = rand() % MODEL_KEYS;
            model_key(k, key, sizeof(key));
            if (op < 70) {
                ASSERT_OK(dd_state_store_upsert(NULL, s, KEY(key), rev[k], KEY(key)));
                rev[k]++;
            } else if (op < 98) {
                /* an unconditional delete of a missing key succeeds (ABI.md) */
                ASSERT_OK(dd_state_store_delete(s, KEY(key), dd_any_revision()));
                rev[k] = 0;
            } else {
                ASSERT_OK(dd_state_store_purge(s));
                memset(rev, 0, sizeof(rev));
            }
            /* Check a random walk: start position in sorted order and a
             * signed count. */
            int start = rand() % MODEL_KEYS;
            int64_t count = (int64_t)(rand() % 200) - 100;
            model_key(order[start], key, sizeof(key));
            dd_journal_cursor *c;
            dd_journal_event ev;
            ASSERT_OK(dd_state_store_range(&c, s, KEY(key), count));
            int64_t seen = 0;
            for (int i = start; i >= 0 && i < MODEL_KEYS && seen < (count < 0 ? -count : count);
                 i += count < 0 ? -1 : 1) {
                if (!rev[order[i]])
                    continue;
                model_key(order[i], want, sizeof(want));
                ASSERT_OK(dd_journal_cursor_next(&ev, c));
                ASSERT_MEM_EQ(ev.pid, ev.pid_len, want, strlen(want));
                ASSERT_EQ_U64(ev.seq, rev[order[i]]);
                seen++;
            }
            ASSERT_STATUS(dd_journal_cursor_next(&ev, c), DD_EDONE);
            ASSERT_OK(dd_journal_cursor_close(c));
            /* keys("k1"): every model key starting with "k1". */
            ASSERT_OK(dd_state_store_keys(&c, s, KEY("k1")));
            for (int i = 0; i < MODEL_KEYS; i++) {
                model_key(order[i], want, sizeof(want));
                if (!rev[order[i]] || strncmp(want, "k1", 2) != 0)
                    continue;
                ASSERT_OK(dd_journal_cursor_next(&ev, c));
                ASSERT_MEM_EQ(ev.pid, ev.pid_len, want, strlen(want));
            }
            ASSERT_STATUS(dd_journal_cursor_next(&ev, c), DD_EDONE);
            ASSERT_OK(dd_journal_cursor_close(c));
        }
        ASSERT_OK(dd_state_store_close(s));
    }
}
