/*
 * The state store's building blocks through the public header (issue
 * 17.13): dd_state_store_scan (bounds, prefix with 0xFF bytes, keys only,
 * paging past one cursor page), last and purge by prefix, batch, flush.
 * Every built-in backend, sealed and not; and a user's table that leaves
 * the version 2 members NULL (a version 1 table over a built-in engine),
 * where the library's generic forms run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_stores.h"

#define KEY(s) (const uint8_t *)(s), strlen(s)

static void options_for(int variant, char *path, size_t n, dd_store_options *o)
{
    static int count;
    snprintf(path, n, "%s/blocks-%d-%d", test_tmpdir(), variant, count++);
    dd_store_options init = DD_STORE_OPTIONS_INIT;
    *o = init;
    o->backend = (uint32_t)(variant % 3 + 1);
    o->path = o->backend == DD_BACKEND_MEMORY ? NULL : path;
    o->sync = DD_SYNC_OFF;
    o->keyring = variant % 6 >= 3 ? shared_test_keyring() : NULL;
}

/* The user's table: a built-in engine's, as a version 1 table (so every
 * version 2 member is NULL); without_tx also drops begin/commit. */
static dd_backend_ops v1_tables[2];

static dd_state_store *open_v1(int variant, int without_tx)
{
    char path[1024];
    dd_store_options o;
    options_for(variant, path, sizeof(path), &o);
    dd_keyring *keyring = o.keyring;
    o.keyring = NULL;
    const dd_backend_ops *builtin;
    void *user;
    ASSERT_OK(dd_backend_open_builtin(&builtin, &user, &o));
    dd_backend_ops *t = &v1_tables[without_tx];
    memset(t, 0, sizeof(*t));
    memcpy(t, builtin, offsetof(dd_backend_ops, state_scan_range));
    t->version = 1;
    if (without_tx)
        t->state_begin = t->state_commit = NULL;
    dd_store_options so = DD_STORE_OPTIONS_INIT;
    so.keyring = keyring;
    dd_state_store *s = NULL;
    ASSERT_OK(dd_state_store_open_custom(&s, t, user, &so));
    return s;
}

/* Variants 0..5: built-in (memory, SQLite, fs; then sealed); 6..11: the
 * same engines behind a version 1 user table. */
#define VARIANTS 12
static dd_state_store *open_variant(int variant)
{
    if (variant >= 6)
        return open_v1(variant - 6, 0);
    char path[1024];
    dd_store_options o;
    options_for(variant, path, sizeof(path), &o);
    dd_state_store *s = NULL;
    ASSERT_OK(dd_state_store_open(&s, &o));
    return s;
}

static void put(dd_state_store *s, const uint8_t *key, size_t len)
{
    ASSERT_OK(dd_state_store_upsert(NULL, s, key, len, DD_ANY_REVISION, key, len));
}

/* Reads a cursor: keys joined by ',' into out; returns the count. */
static int drain(dd_journal_cursor *c, char *out, size_t n, int *with_values)
{
    dd_journal_event ev;
    int count = 0, rc;
    size_t at = 0;
    out[0] = 0;
    *with_values = 0;
    while ((rc = dd_journal_cursor_next(&ev, c)) == DD_OK) {
        if (at + ev.pid_len + 2 < n) {
            memcpy(out + at, ev.pid, ev.pid_len);
            at += ev.pid_len;
            out[at++] = ',';
            out[at] = 0;
        }
        if (ev.len)
            *with_values = 1;
        count++;
    }
    ASSERT_EQ_INT(rc, DD_EDONE);
    ASSERT_OK(dd_journal_cursor_close(c));
    return count;
}

static int scan(dd_state_store *s, const dd_state_range *r, char *out, size_t n, int *values)
{
    dd_journal_cursor *c = NULL;
    ASSERT_OK(dd_state_store_scan(&c, s, r));
    return drain(c, out, n, values);
}

TEST(test_scan_bounds_prefix_and_keys_only)
{
    for (int v = 0; v < VARIANTS; v++) {
        dd_state_store *s = open_variant(v);
        const char *keys[] = {"k1", "k2", "k3", "k4", "k5", "k6", "k7"};
        for (int i = 0; i < 7; i++)
            put(s, KEY(keys[i]));
        dd_state_range r;
        ASSERT_OK(dd_state_range_init(&r, DD_STATE_RANGE_VERSION));
        r.start = (const uint8_t *)"k2";
        r.start_len = 2;
        r.start_exclusive = 1;
        r.end = (const uint8_t *)"k5";
        r.end_len = 2;
        char got[256];
        int values;
        ASSERT_EQ_INT(scan(s, &r, got, sizeof(got), &values), 2);
        ASSERT_STR_EQ(got, "k3,k4,");
        ASSERT(values);
        r.reverse = 1;
        r.end_inclusive = 1;
        r.keys_only = 1;
        ASSERT_EQ_INT(scan(s, &r, got, sizeof(got), &values), 3);
        ASSERT_STR_EQ(got, "k5,k4,k3,");
        ASSERT(!values);
        ASSERT_OK(dd_state_store_close(s));
    }
}

TEST(test_scan_prefix_of_ff_bytes_across_cursor_pages)
{
    for (int v = 0; v < VARIANTS; v++) {
        dd_state_store *s = open_variant(v);
        uint8_t key[4] = {0xff, 0xff, 0, 0};
        for (int i = 0; i < 1100; i++) {
            key[2] = (uint8_t)(i >> 8);
            key[3] = (uint8_t)i;
            put(s, key, 4);
        }
        put(s, (const uint8_t *)"\xff\xfe", 2);
        put(s, (const uint8_t *)"\xff", 1);
        dd_state_range r = DD_STATE_RANGE_INIT;
        r.prefix = key;
        r.prefix_len = 2;
        for (int reverse = 0; reverse < 2; reverse++) {
            r.reverse = (uint32_t)reverse;
            dd_journal_cursor *c = NULL;
            ASSERT_OK(dd_state_store_scan(&c, s, &r));
            dd_journal_event ev;
            int n = 0, rc;
            while ((rc = dd_journal_cursor_next(&ev, c)) == DD_OK) {
                int i = reverse ? 1099 - n : n;
                ASSERT_EQ_U64(ev.pid_len, 4);
                ASSERT_EQ_INT((ev.pid[2] << 8) | ev.pid[3], i);
                n++;
            }
            ASSERT_EQ_INT(rc, DD_EDONE);
            ASSERT_EQ_INT(n, 1100);
            ASSERT_OK(dd_journal_cursor_close(c));
        }
        ASSERT_OK(dd_state_store_close(s));
    }
}

TEST(test_last_and_purge_by_prefix_leave_other_prefixes)
{
    for (int v = 0; v < VARIANTS; v++) {
        dd_state_store *s = open_variant(v);
        const char *keys[] = {"a/1", "a/2", "ab", "b/1"};
        for (int i = 0; i < 4; i++)
            put(s, KEY(keys[i]));
        dd_buf state = DD_BUF_INIT, key = DD_BUF_INIT;
        uint64_t rev = 0;
        ASSERT_OK(dd_state_store_last_prefix(&state, &key, &rev, s, KEY("a/")));
        ASSERT_MEM_EQ(key.data, key.len, "a/2", 3);
        ASSERT_MEM_EQ(state.data, state.len, "a/2", 3);
        dd_buf_free(&state);
        dd_buf_free(&key);
        ASSERT_EQ_INT(dd_state_store_last_prefix(&state, NULL, NULL, s, KEY("zz")), DD_ENOTFOUND);
        ASSERT_OK(dd_state_store_purge_prefix(s, KEY("a/")));
        char got[64];
        int values;
        ASSERT_EQ_INT(scan(s, NULL, got, sizeof(got), &values), 2);
        ASSERT_STR_EQ(got, "ab,b/1,");
        ASSERT_OK(dd_state_store_close(s));
    }
}

TEST(test_batch_conflict_names_the_op_and_writes_nothing)
{
    for (int v = 0; v < VARIANTS; v++) {
        dd_state_store *s = open_variant(v);
        put(s, KEY("a"));
        put(s, KEY("b"));
        dd_state_op ops[] = {
            {DD_STATE_OP_UPSERT, KEY("a"), 1, KEY("a2")},
            {DD_STATE_OP_DELETE, KEY("b"), 1, NULL, 0},
            {DD_STATE_OP_UPSERT, KEY("c"), 0, KEY("c")},
            {DD_STATE_OP_UPSERT, KEY("d"), 4, KEY("d")},
        };
        ASSERT_EQ_INT(dd_state_store_batch(NULL, s, ops, 4), DD_ECONFLICT);
        ASSERT_MSG(strstr(dd_error_last()->message, "batch op 3") != NULL, "variant %d: %s", v,
                   dd_error_last()->message);
        char got[64];
        int values;
        ASSERT_EQ_INT(scan(s, NULL, got, sizeof(got), &values), 2);
        ASSERT_STR_EQ(got, "a,b,");
        uint64_t revs[3] = {9, 9, 9};
        ASSERT_OK(dd_state_store_batch(revs, s, ops, 3));
        ASSERT_EQ_U64(revs[0], 2);
        ASSERT_EQ_U64(revs[1], 0);
        ASSERT_EQ_U64(revs[2], 1);
        ASSERT_EQ_INT(scan(s, NULL, got, sizeof(got), &values), 2);
        ASSERT_STR_EQ(got, "a,c,");
        ASSERT_OK(dd_state_store_flush(s));
        ASSERT_OK(dd_state_store_close(s));
    }
}

TEST(test_batch_on_a_table_without_transactions_is_unsupported)
{
    dd_state_store *s = open_v1(1, 1);
    dd_state_op op = {DD_STATE_OP_UPSERT, KEY("k"), 0, KEY("v")};
    ASSERT_EQ_INT(dd_state_store_batch(NULL, s, &op, 1), DD_EUNSUPPORTED);
    ASSERT(strstr(dd_error_last()->message, "all or nothing") != NULL);
    ASSERT_EQ_INT(dd_state_store_get(&(dd_buf){0}, NULL, s, KEY("k")), DD_ENOTFOUND);
    ASSERT_OK(dd_state_store_purge_prefix(s, KEY("k")));
    ASSERT_OK(dd_state_store_close(s));
}

TEST(test_bad_ranges_and_ops_are_refused_at_the_call)
{
    dd_state_store *s = open_variant(0);
    dd_journal_cursor *c = NULL;
    dd_state_range r = DD_STATE_RANGE_INIT;
    r.version = 99;
    ASSERT_EQ_INT(dd_state_store_scan(&c, s, &r), DD_EINVAL);
    r.version = DD_STATE_RANGE_VERSION;
    r.reverse = 2;
    ASSERT_EQ_INT(dd_state_store_scan(&c, s, &r), DD_EINVAL);
    r.reverse = 0;
    r.end_len = 3;
    ASSERT_EQ_INT(dd_state_store_scan(&c, s, &r), DD_EINVAL);
    ASSERT(c == NULL);
    ASSERT_EQ_INT(dd_state_store_batch(NULL, s, NULL, 2), DD_EINVAL);
    dd_state_op twice[] = {{DD_STATE_OP_DELETE, KEY("k"), DD_ANY_REVISION, NULL, 0},
                           {DD_STATE_OP_UPSERT, KEY("k"), 0, KEY("v")}};
    ASSERT_EQ_INT(dd_state_store_batch(NULL, s, twice, 2), DD_EINVAL);
    dd_state_op bad_kind = {7, KEY("k"), 0, NULL, 0};
    ASSERT_EQ_INT(dd_state_store_batch(NULL, s, &bad_kind, 1), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "unknown kind 7") != NULL);
    ASSERT_OK(dd_state_store_close(s));
}
