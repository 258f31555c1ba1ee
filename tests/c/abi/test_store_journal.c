/*
 * The journal and snapshots through the public header and libddata.so
 * only: every backend, sealed and not, cursors, misuse of handles.
 */
#include <stdio.h>
#include <string.h>

#include "abi_stores.h"
#include "sum_actor.h"

#define PID(s) (const uint8_t *)(s), strlen(s)

static dd_keyring *ring(void)
{
    dd_keyring *k = NULL;
    uint8_t key[32];
    memset(key, 0x5a, sizeof(key));
    ASSERT_OK(dd_keyring_new(&k));
    ASSERT_OK(dd_keyring_add_key(k, 7, key, sizeof(key)));
    return k;
}

static dd_journal *open_journal(int variant, const char *name)
{
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s-%d", test_tmpdir(), name, variant);
    o.backend = (uint32_t)(variant % 3 + 1);
    o.path = o.backend == DD_BACKEND_MEMORY ? NULL : path;
    dd_keyring *k = variant >= 3 ? ring() : NULL;
    o.keyring = k;
    dd_journal *j = NULL;
    ASSERT_OK(dd_journal_open(&j, &o));
    ASSERT_OK(dd_keyring_free(k)); /* the journal keeps its own reference */
    return j;
}

TEST(test_append_and_replay_through_a_cursor)
{
    for (int v = 0; v < 6; v++) {
        dd_journal *j = open_journal(v, "replay");
        const char *tags[] = {"green", "blue"};
        dd_append_event ev[3] = {{(const uint8_t *)"one", 3, 11, NULL, 0},
                                 {(const uint8_t *)"two", 3, 12, tags, 2},
                                 {(const uint8_t *)"three", 5, 13, NULL, 0}};
        ASSERT_OK(dd_journal_append(j, PID("order-1"), 0, ev, 3));
        ASSERT_STATUS(dd_journal_append(j, PID("order-1"), 0, ev, 1), DD_ECONFLICT);
        uint64_t h = 0;
        ASSERT_OK(dd_journal_highest_seq(&h, j, PID("order-1")));
        ASSERT_EQ_U64(h, 3);
        dd_journal_cursor *c = NULL;
        ASSERT_OK(dd_journal_replay(&c, j, PID("order-1"), 2, UINT64_MAX, UINT64_MAX));
        dd_journal_event e;
        ASSERT_OK(dd_journal_cursor_next(&e, c));
        ASSERT_EQ_U64(e.seq, 2);
        ASSERT_EQ_U64(e.timestamp_ms, 12);
        ASSERT_MEM_EQ(e.payload, e.len, "two", 3);
        ASSERT_MEM_EQ(e.pid, e.pid_len, "order-1", 7);
        ASSERT_EQ_U64(e.tag_count, 2);
        ASSERT_STR_EQ(e.tags[0], "green");
        ASSERT_STR_EQ(e.tags[1], "blue");
        ASSERT_OK(dd_journal_cursor_next(&e, c));
        ASSERT_EQ_U64(e.seq, 3);
        ASSERT_EQ_U64(e.tag_count, 0);
        ASSERT_STATUS(dd_journal_cursor_next(&e, c), DD_EDONE);
        ASSERT_STATUS(dd_journal_cursor_next(&e, c), DD_EDONE);
        ASSERT_OK(dd_journal_cursor_close(c));
        ASSERT_OK(dd_journal_close(j));
    }
}

TEST(test_cursor_pages_through_many_events)
{
    dd_journal *j = open_journal(1, "pages");
    dd_append_event batch[100];
    char payloads[100][8];
    for (int round = 0; round < 13; round++) {
        for (int i = 0; i < 100; i++) {
            snprintf(payloads[i], sizeof(payloads[i]), "%d", round * 100 + i + 1);
            batch[i] =
                (dd_append_event){(const uint8_t *)payloads[i], strlen(payloads[i]), 0, NULL, 0};
        }
        ASSERT_OK(dd_journal_append(j, PID("p"), (uint64_t)round * 100, batch, 100));
    }
    dd_journal_cursor *c;
    ASSERT_OK(dd_journal_replay(&c, j, PID("p"), 1, 1250, 1200));
    dd_journal_event e;
    uint64_t expect = 1;
    while (dd_journal_cursor_next(&e, c) == DD_OK) {
        ASSERT_EQ_U64(e.seq, expect);
        char want[8];
        snprintf(want, sizeof(want), "%llu", (unsigned long long)expect);
        ASSERT_MEM_EQ(e.payload, e.len, want, strlen(want));
        expect++;
    }
    ASSERT_EQ_U64(expect, 1201);
    ASSERT_OK(dd_journal_cursor_close(c));
    ASSERT_OK(dd_journal_close(j));
}

TEST(test_by_tag_and_pids_cursors)
{
    for (int v = 0; v < 6; v++) {
        dd_journal *j = open_journal(v, "tagpid");
        const char *t[] = {"t"};
        dd_append_event ev = {(const uint8_t *)"x", 1, 0, t, 1};
        ASSERT_OK(dd_journal_append(j, PID("b"), 0, &ev, 1));
        ASSERT_OK(dd_journal_append(j, PID("a"), 0, &ev, 1));
        ASSERT_OK(dd_journal_append(j, PID("c"), 0, &ev, 1));
        dd_journal_cursor *c;
        dd_journal_event e;
        ASSERT_OK(dd_journal_by_tag(&c, j, "t", 0, UINT64_MAX));
        const char *order[] = {"b", "a", "c"};
        uint64_t last = 0;
        for (int i = 0; i < 3; i++) {
            ASSERT_OK(dd_journal_cursor_next(&e, c));
            ASSERT_MEM_EQ(e.pid, e.pid_len, order[i], 1);
            ASSERT(e.ordering > last);
            last = e.ordering;
        }
        ASSERT_STATUS(dd_journal_cursor_next(&e, c), DD_EDONE);
        ASSERT_OK(dd_journal_cursor_close(c));
        ASSERT_OK(dd_journal_pids(&c, j, PID("a"), 10));
        ASSERT_OK(dd_journal_cursor_next(&e, c));
        ASSERT_MEM_EQ(e.pid, e.pid_len, "b", 1);
        ASSERT_OK(dd_journal_cursor_next(&e, c));
        ASSERT_MEM_EQ(e.pid, e.pid_len, "c", 1);
        ASSERT_STATUS(dd_journal_cursor_next(&e, c), DD_EDONE);
        ASSERT_OK(dd_journal_cursor_close(c));
        ASSERT_OK(dd_journal_close(j));
    }
}

TEST(test_snapshots_through_the_abi)
{
    for (int v = 0; v < 6; v++) {
        dd_journal *j = open_journal(v, "snap");
        ASSERT_OK(dd_snapshot_save(j, PID("p"), 10, 100, (const uint8_t *)"ten", 3));
        ASSERT_OK(dd_snapshot_save(j, PID("p"), 20, 200, (const uint8_t *)"twenty", 6));
        dd_buf b = DD_BUF_INIT;
        uint64_t seq = 0, ts = 0;
        ASSERT_OK(dd_snapshot_load(&b, &seq, &ts, j, PID("p"), NULL));
        ASSERT_EQ_U64(seq, 20);
        ASSERT_EQ_U64(ts, 200);
        ASSERT_MEM_EQ(b.data, b.len, "twenty", 6);
        dd_buf_free(&b);
        dd_snapshot_criteria c;
        ASSERT_OK(dd_snapshot_criteria_init(&c, DD_SNAPSHOT_CRITERIA_VERSION));
        c.max_seq = 15;
        ASSERT_OK(dd_snapshot_load(&b, &seq, NULL, j, PID("p"), &c));
        ASSERT_EQ_U64(seq, 10);
        dd_buf_free(&b);
        ASSERT_OK(dd_snapshot_delete(j, PID("p"), 10));
        ASSERT_STATUS(dd_snapshot_load(&b, &seq, NULL, j, PID("p"), &c), DD_ENOTFOUND);
        ASSERT(b.data == NULL);
        ASSERT_OK(dd_snapshot_delete_matching(j, PID("p"), NULL));
        ASSERT_STATUS(dd_snapshot_load(&b, NULL, NULL, j, PID("p"), NULL), DD_ENOTFOUND);
        ASSERT_OK(dd_journal_close(j));
    }
}

TEST(test_closed_null_and_forged_handles_are_misuse)
{
    dd_journal *j = open_journal(0, "misuse");
    ASSERT_OK(dd_journal_close(j));
    dd_append_event ev = {(const uint8_t *)"x", 1, 0, NULL, 0};
    ASSERT_STATUS(dd_journal_append(j, PID("p"), 0, &ev, 1), DD_EMISUSE);
    ASSERT_STATUS(dd_journal_close(j), DD_EMISUSE);
    ASSERT_STATUS(dd_journal_append(NULL, PID("p"), 0, &ev, 1), DD_EMISUSE);
    ASSERT_STATUS(
        dd_journal_append((dd_journal *)(uintptr_t)0xdeadbeef12345ull, PID("p"), 0, &ev, 1),
        DD_EMISUSE);
    ASSERT(strlen(dd_error_last()->message) > 0);
    uint64_t h;
    ASSERT_STATUS(dd_journal_highest_seq(&h, NULL, PID("p")), DD_EMISUSE);
    ASSERT_STATUS(dd_journal_highest_seq(NULL, NULL, PID("p")), DD_EINVAL);
    dd_journal_cursor *c;
    ASSERT_STATUS(dd_journal_replay(&c, NULL, PID("p"), 1, 2, 3), DD_EMISUSE);
    ASSERT_STATUS(dd_journal_cursor_next(&(dd_journal_event){0}, NULL), DD_EMISUSE);
    ASSERT_OK(dd_journal_cursor_close(NULL));
    dd_buf b = DD_BUF_INIT;
    ASSERT_STATUS(dd_snapshot_load(&b, NULL, NULL, NULL, PID("p"), NULL), DD_EMISUSE);
    ASSERT_STATUS(dd_journal_open(NULL, NULL), DD_EINVAL);
    ASSERT_STATUS(dd_journal_open(&j, NULL), DD_EINVAL);
}

TEST(test_cursor_keeps_a_closed_journal_alive)
{
    dd_journal *j = open_journal(1, "deferred");
    dd_append_event ev = {(const uint8_t *)"x", 1, 0, NULL, 0};
    ASSERT_OK(dd_journal_append(j, PID("p"), 0, &ev, 1));
    dd_journal_cursor *c;
    ASSERT_OK(dd_journal_replay(&c, j, PID("p"), 1, UINT64_MAX, UINT64_MAX));
    ASSERT_OK(dd_journal_close(j));
    dd_journal_event e;
    ASSERT_OK(dd_journal_cursor_next(&e, c));
    ASSERT_MEM_EQ(e.payload, e.len, "x", 1);
    ASSERT_OK(dd_journal_cursor_close(c));
    ASSERT_STATUS(dd_journal_cursor_close(c), DD_EMISUSE);
}

TEST(test_bad_options_are_rejected)
{
    dd_store_options o;
    ASSERT_STATUS(dd_store_options_init(&o, 99), DD_EINVAL);
    ASSERT_OK(dd_store_options_init(&o, DD_STORE_OPTIONS_VERSION));
    dd_store_options m = DD_STORE_OPTIONS_INIT;
    ASSERT(o.version == m.version && o.backend == m.backend && o.path == m.path &&
           o.snapshot_path == m.snapshot_path && o.sync == m.sync &&
           o.busy_timeout_ms == m.busy_timeout_ms && o.keyring == m.keyring &&
           o.compression_level == m.compression_level &&
           o.compression_threshold == m.compression_threshold &&
           o.snapshot_keep == m.snapshot_keep && o.seal == m.seal);
    dd_journal *j = NULL;
    o.backend = DD_BACKEND_SQLITE; /* no path */
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EINVAL);
    o.backend = 42;
    o.path = "/tmp/x";
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EINVAL);
    o.backend = DD_BACKEND_MEMORY;
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EINVAL); /* a memory store takes no path */
    o.path = NULL;
    o.version = 7;
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EINVAL);
    o.version = DD_STORE_OPTIONS_VERSION;
    o.compression_level = 12;
    o.keyring = ring();
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EINVAL);
    ASSERT_OK(dd_keyring_free(o.keyring));
    o.compression_level = 6;
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EMISUSE); /* freed key ring */
    ASSERT(j == NULL);
    dd_snapshot_criteria c1, c2 = DD_SNAPSHOT_CRITERIA_INIT;
    ASSERT_OK(dd_snapshot_criteria_init(&c1, DD_SNAPSHOT_CRITERIA_VERSION));
    ASSERT(c1.version == c2.version && c1.min_seq == c2.min_seq && c1.max_seq == c2.max_seq &&
           c1.min_timestamp_ms == c2.min_timestamp_ms &&
           c1.max_timestamp_ms == c2.max_timestamp_ms);
}

TEST(test_sealed_journal_refuses_a_wrong_key)
{
    char path[1024];
    dd_store_options o = sqlite_store_options(path, "wrongkey.db");
    o.keyring = ring();
    dd_journal *j;
    ASSERT_OK(dd_journal_open(&j, &o));
    dd_append_event ev = {(const uint8_t *)"secret", 6, 0, NULL, 0};
    ASSERT_OK(dd_journal_append(j, PID("p"), 0, &ev, 1));
    ASSERT_OK(dd_journal_close(j));
    ASSERT_OK(dd_keyring_free(o.keyring));
    dd_keyring *other;
    uint8_t key[32];
    memset(key, 0x11, sizeof(key));
    ASSERT_OK(dd_keyring_new(&other));
    ASSERT_OK(dd_keyring_add_key(other, 7, key, sizeof(key)));
    o.keyring = other;
    ASSERT_OK(dd_journal_open(&j, &o));
    dd_journal_cursor *c;
    dd_journal_event e;
    ASSERT_OK(dd_journal_replay(&c, j, PID("p"), 1, UINT64_MAX, UINT64_MAX));
    ASSERT_STATUS(dd_journal_cursor_next(&e, c), DD_ECRYPTO);
    ASSERT_EQ_INT(dd_error_last()->code, DD_ECRYPTO);
    ASSERT_OK(dd_journal_cursor_close(c));
    ASSERT_OK(dd_journal_close(j));
    ASSERT_OK(dd_keyring_free(other));
}

static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static char data[1 << 20];
    size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(data + i, needle, m) == 0)
            return 1;
    return 0;
}

TEST(test_seal_required_refuses_a_null_or_closed_keyring_and_writes_no_plaintext)
{
    char path[1024];
    dd_store_options o = sqlite_store_options(path, "required.db");
    o.seal = DD_SEAL_REQUIRED;
    dd_journal *j = NULL;
    dd_state_store *s = NULL;
    /* What a binding sends when its keyring wrapper was closed: NULL. */
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "keyring") != NULL);
    ASSERT_STATUS(dd_state_store_open(&s, &o), DD_EINVAL);
    ASSERT(j == NULL && s == NULL);
    o.keyring = ring();
    ASSERT_OK(dd_keyring_free(o.keyring)); /* closed: its handle is stale */
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EMISUSE);
    o.seal = DD_SEAL_IF_KEYRING;
    ASSERT_STATUS(dd_state_store_open(&s, &o), DD_EMISUSE);
    o.seal = 9;
    o.keyring = NULL;
    ASSERT_STATUS(dd_journal_open(&j, &o), DD_EINVAL);
    o.seal = DD_SEAL_REQUIRED;
    o.keyring = ring();
    ASSERT_OK(dd_journal_open(&j, &o));
    dd_append_event ev = {(const uint8_t *)"TOP-SECRET", 10, 0, NULL, 0};
    ASSERT_OK(dd_journal_append(j, PID("p"), 0, &ev, 1));
    ASSERT_OK(dd_journal_close(j));
    ASSERT_OK(dd_keyring_free(o.keyring));
    ASSERT(!file_contains(path, "TOP-SECRET"));
}

static int on_ev(void *ctx, const dd_journal_event *ev)
{
    return sum_actor_apply(ctx, ev->payload);
}

TEST(test_persist_and_recover_through_the_abi)
{
    dd_journal *j = open_journal(1, "recover");
    dd_persist_options o;
    ASSERT_OK(dd_persist_options_init(&o, DD_PERSIST_OPTIONS_VERSION));
    o.snapshot_every = 4;
    uint64_t seq = 0, sum = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t b = (uint8_t)(i + 1);
        sum += b;
        dd_append_event ev = {&b, 1, 0, NULL, 0};
        ASSERT_OK(dd_journal_persist(&seq, j, PID("a"), seq, &ev, (const uint8_t *)&sum, 8, &o));
    }
    ASSERT_EQ_U64(seq, 10);
    sum_actor a = {0};
    uint64_t rec;
    ASSERT_OK(dd_journal_recover(&rec, j, PID("a"), sum_actor_load_snapshot, on_ev, &a));
    ASSERT_EQ_U64(rec, 10);
    ASSERT_EQ_U64(a.sum, sum);
    ASSERT_EQ_U64(a.snapshot_seq, 8);
    ASSERT_EQ_U64(a.events_applied, 2);
    ASSERT_STATUS(dd_journal_recover(&rec, j, PID("a"), sum_actor_load_snapshot, NULL, &a),
                  DD_EINVAL);
    o.strategy = 9;
    uint8_t b = 1;
    dd_append_event ev = {&b, 1, 0, NULL, 0};
    ASSERT_STATUS(dd_journal_persist(&seq, j, PID("a"), seq, &ev, &b, 1, &o), DD_EINVAL);
    ASSERT_OK(dd_journal_close(j));
    ASSERT_STATUS(dd_journal_recover(&rec, j, PID("a"), sum_actor_load_snapshot, on_ev, &a),
                  DD_EMISUSE);
}
