/*
 * Stores written by an earlier format stay readable (ABI.md,
 * "Compatibility on disk and on the wire"). tests/fixtures/stores/v1/ holds
 * one store per engine, unsealed and sealed, written by this library at
 * store format 1 (SQLite schema 1, fs layout 1, sealed envelope 1): a
 * journal with tags and a deleted prefix, snapshots, and state records,
 * one of each large enough to be compressed when sealed. Each test copies
 * a fixture to a temporary directory (opening migrates and writes) and
 * reads every record back through the public ABI.
 *
 * The fixtures are never regenerated for a format change: a new format
 * adds tests/fixtures/stores/v2/ and keeps v1. To write a set (into an
 * empty directory):
 *   DDATA_WRITE_FIXTURES=tests/fixtures/stores/v1 \
 *     ./build/tests/abi_test_store_fixtures test_write_fixtures
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ddata.h"
#include "test.h"

#define K(s) (const uint8_t *)(s), strlen(s)
#define T0 1700000000000ull

typedef struct variant {
    const char *dir;
    uint32_t backend;
    int sealed;
} variant;

static const variant variants[] = {
    {"sqlite", DD_BACKEND_SQLITE, 0},
    {"sqlite-sealed", DD_BACKEND_SQLITE, 1},
    {"fs", DD_BACKEND_FS, 0},
    {"fs-sealed", DD_BACKEND_FS, 1},
};

/* 600 bytes that compress well: the record zlib sees in sealed stores. */
static const uint8_t *big(void)
{
    static uint8_t b[600];
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t) "fixture record "[i % 15];
    return b;
}
#define BIG big(), (size_t)600

static const char *const order_payloads[] = {"order placed", "order paid", NULL /* big */};
static const char *const tags_1[] = {"billing"};
static const char *const tags_2[] = {"billing", "audit"};
static const uint8_t binary_key[] = {0x00, 0xff, 0x10};

static dd_keyring *fixture_keyring(void)
{
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 3 + 5);
    dd_keyring *ring = NULL;
    ASSERT_OK(dd_keyring_new(&ring));
    ASSERT_OK(dd_keyring_add_key(ring, 7, key, sizeof(key)));
    return ring;
}

/* Opens the journal and state store of variant v at root (a file inside
 * it for SQLite). */
static void open_variant(const variant *v, const char *root, dd_journal **j, dd_state_store **s)
{
    char path[2048];
    if (v->backend == DD_BACKEND_SQLITE)
        snprintf(path, sizeof(path), "%s/store.db", root);
    else
        snprintf(path, sizeof(path), "%s", root);
    dd_store_options o;
    ASSERT_OK(dd_store_options_init(&o, DD_STORE_OPTIONS_VERSION));
    o.backend = v->backend;
    o.path = path;
    o.sync = DD_SYNC_OFF;
    o.keyring = v->sealed ? fixture_keyring() : NULL;
    ASSERT_OK(dd_journal_open(j, &o));
    ASSERT_OK(dd_state_store_open(s, &o));
    dd_keyring_free(o.keyring);
}

static void write_variant(const variant *v, const char *root)
{
    dd_journal *j;
    dd_state_store *s;
    open_variant(v, root, &j, &s);
    dd_append_event ev[3];
    memset(ev, 0, sizeof(ev));
    for (int i = 0; i < 3; i++) {
        ev[i].payload = order_payloads[i] ? (const uint8_t *)order_payloads[i] : big();
        ev[i].len = order_payloads[i] ? strlen(order_payloads[i]) : 600;
        ev[i].timestamp_ms = T0 + (uint64_t)i + 1;
        ev[i].tags = i == 1 ? tags_2 : tags_1;
        ev[i].tag_count = i == 1 ? 2 : 1;
    }
    ASSERT_OK(dd_journal_append(j, K("orders"), 0, ev, 3));
    dd_append_event cart = {(const uint8_t *)"cart created", 12, T0 + 10, NULL, 0};
    ASSERT_OK(dd_journal_append(j, K("carts"), 0, &cart, 1));
    ASSERT_OK(dd_journal_delete_to(j, K("orders"), 1));
    ASSERT_OK(dd_snapshot_save(j, K("orders"), 2, T0 + 2, K("orders at 2")));
    ASSERT_OK(dd_snapshot_save(j, K("orders"), 3, T0 + 3, BIG));
    ASSERT_OK(dd_state_store_upsert(NULL, s, K("user/amy"), 0, K("a")));
    ASSERT_OK(dd_state_store_upsert(NULL, s, K("user/bob"), 0, K("b1")));
    ASSERT_OK(dd_state_store_upsert(NULL, s, K("user/bob"), 1, K("b2")));
    ASSERT_OK(dd_state_store_upsert(NULL, s, binary_key, sizeof(binary_key), 0, BIG));
    ASSERT_OK(dd_state_store_close(s));
    ASSERT_OK(dd_journal_close(j));
}

TEST(test_write_fixtures)
{
    const char *out = getenv("DDATA_WRITE_FIXTURES");
    if (!out) {
        printf("  (set DDATA_WRITE_FIXTURES=<empty dir> to write a fixture set)\n");
        return;
    }
    struct stat st;
    ASSERT(mkdir(out, 0777) == 0 || (stat(out, &st) == 0 && S_ISDIR(st.st_mode)));
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        char root[2048];
        snprintf(root, sizeof(root), "%s/%s", out, variants[i].dir);
        ASSERT_EQ_INT(mkdir(root, 0777), 0);
        write_variant(&variants[i], root);
    }
}

/* Reads a cursor to its end, checking each event against want (seqs,
 * payloads, timestamps and tags of the "orders" journal). */
static void expect_orders(dd_journal_cursor *c, const uint64_t *seqs, size_t n)
{
    dd_journal_event ev;
    size_t i = 0;
    uint64_t last_ordering = 0;
    int rc;
    while ((rc = dd_journal_cursor_next(&ev, c)) == DD_OK) {
        ASSERT(i < n);
        uint64_t seq = seqs[i];
        ASSERT_EQ_U64(ev.seq, seq);
        ASSERT_EQ_U64(ev.timestamp_ms, T0 + seq);
        ASSERT(ev.ordering > last_ordering);
        last_ordering = ev.ordering;
        ASSERT_MEM_EQ(ev.pid, ev.pid_len, "orders", (size_t)6);
        if (order_payloads[seq - 1])
            ASSERT_MEM_EQ(ev.payload, ev.len, order_payloads[seq - 1],
                          strlen(order_payloads[seq - 1]));
        else
            ASSERT_MEM_EQ(ev.payload, ev.len, big(), (size_t)600);
        ASSERT_EQ_U64(ev.tag_count, seq == 2 ? 2 : 1);
        ASSERT_STR_EQ(ev.tags[0], "billing");
        if (seq == 2)
            ASSERT_STR_EQ(ev.tags[1], "audit");
        i++;
    }
    ASSERT_STATUS(rc, DD_EDONE);
    ASSERT_EQ_U64(i, n);
    ASSERT_OK(dd_journal_cursor_close(c));
}

static void read_variant(const variant *v, const char *root)
{
    dd_journal *j;
    dd_state_store *s;
    open_variant(v, root, &j, &s);
    dd_journal_cursor *c;
    dd_journal_event ev;

    ASSERT_OK(dd_journal_pids(&c, j, NULL, 0, UINT64_MAX));
    ASSERT_OK(dd_journal_cursor_next(&ev, c));
    ASSERT_MEM_EQ(ev.pid, ev.pid_len, "carts", (size_t)5);
    ASSERT_OK(dd_journal_cursor_next(&ev, c));
    ASSERT_MEM_EQ(ev.pid, ev.pid_len, "orders", (size_t)6);
    ASSERT_STATUS(dd_journal_cursor_next(&ev, c), DD_EDONE);
    ASSERT_OK(dd_journal_cursor_close(c));

    uint64_t highest = 0;
    ASSERT_OK(dd_journal_highest_seq(&highest, j, K("orders")));
    ASSERT_EQ_U64(highest, 3);
    const uint64_t kept[] = {2, 3}, audited[] = {2};
    ASSERT_OK(dd_journal_replay(&c, j, K("orders"), 1, UINT64_MAX, UINT64_MAX));
    expect_orders(c, kept, 2);
    ASSERT_OK(dd_journal_by_tag(&c, j, "billing", 0, UINT64_MAX));
    expect_orders(c, kept, 2);
    ASSERT_OK(dd_journal_by_tag(&c, j, "audit", 0, UINT64_MAX));
    expect_orders(c, audited, 1);
    ASSERT_OK(dd_journal_replay(&c, j, K("carts"), 1, UINT64_MAX, UINT64_MAX));
    ASSERT_OK(dd_journal_cursor_next(&ev, c));
    ASSERT_MEM_EQ(ev.payload, ev.len, "cart created", (size_t)12);
    ASSERT_EQ_U64(ev.timestamp_ms, T0 + 10);
    ASSERT_STATUS(dd_journal_cursor_next(&ev, c), DD_EDONE);
    ASSERT_OK(dd_journal_cursor_close(c));

    dd_buf b = DD_BUF_INIT;
    uint64_t seq = 0, ts = 0;
    ASSERT_OK(dd_snapshot_load(&b, &seq, &ts, j, K("orders"), NULL));
    ASSERT_EQ_U64(seq, 3);
    ASSERT_EQ_U64(ts, T0 + 3);
    ASSERT_MEM_EQ(b.data, b.len, big(), (size_t)600);
    dd_buf_free(&b);
    dd_snapshot_criteria crit;
    ASSERT_OK(dd_snapshot_criteria_init(&crit, DD_SNAPSHOT_CRITERIA_VERSION));
    crit.max_seq = 2;
    ASSERT_OK(dd_snapshot_load(&b, &seq, &ts, j, K("orders"), &crit));
    ASSERT_EQ_U64(seq, 2);
    ASSERT_MEM_EQ(b.data, b.len, "orders at 2", (size_t)11);
    dd_buf_free(&b);

    uint64_t rev = 0;
    ASSERT_OK(dd_state_store_get(&b, &rev, s, K("user/amy")));
    ASSERT_EQ_U64(rev, 1);
    ASSERT_MEM_EQ(b.data, b.len, "a", (size_t)1);
    dd_buf_free(&b);
    ASSERT_OK(dd_state_store_get(&b, &rev, s, K("user/bob")));
    ASSERT_EQ_U64(rev, 2);
    ASSERT_MEM_EQ(b.data, b.len, "b2", (size_t)2);
    dd_buf_free(&b);
    ASSERT_OK(dd_state_store_get(&b, &rev, s, binary_key, sizeof(binary_key)));
    ASSERT_EQ_U64(rev, 1);
    ASSERT_MEM_EQ(b.data, b.len, big(), (size_t)600);
    dd_buf_free(&b);
    size_t keys = 0;
    ASSERT_OK(dd_state_store_range(&c, s, NULL, 0, 100));
    while (dd_journal_cursor_next(&ev, c) == DD_OK)
        keys++;
    ASSERT_OK(dd_journal_cursor_close(c));
    ASSERT_EQ_U64(keys, 3);

    /* The old store takes new writes after the upgrade. */
    ASSERT_OK(dd_state_store_upsert(&rev, s, K("user/bob"), 2, K("b3")));
    ASSERT_EQ_U64(rev, 3);
    dd_append_event more = {(const uint8_t *)"order shipped", 13, T0 + 4, NULL, 0};
    ASSERT_OK(dd_journal_append(j, K("orders"), 3, &more, 1));
    ASSERT_OK(dd_state_store_close(s));
    ASSERT_OK(dd_journal_close(j));
}

/* Copies the fixture to a temporary directory and reads it there. */
static void check_fixture(const char *name)
{
    const char *src = getenv("DDATA_SOURCE_DIR");
    ASSERT_MSG(src != NULL, "DDATA_SOURCE_DIR is not set (run through ctest)");
    const variant *v = NULL;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
        if (strcmp(variants[i].dir, name) == 0)
            v = &variants[i];
    ASSERT(v != NULL);
    char root[2048], cmd[4600];
    snprintf(root, sizeof(root), "%s/%s", test_tmpdir(), name);
    snprintf(cmd, sizeof(cmd), "cp -R '%s/tests/fixtures/stores/v1/%s' '%s'", src, name, root);
    ASSERT_EQ_INT(system(cmd), 0);
    read_variant(v, root);
}

TEST(test_sqlite_store_of_format_1_reads_every_record)
{
    check_fixture("sqlite");
}

TEST(test_sealed_sqlite_store_of_format_1_reads_every_record)
{
    check_fixture("sqlite-sealed");
}

TEST(test_fs_store_of_format_1_reads_every_record)
{
    check_fixture("fs");
}

TEST(test_sealed_fs_store_of_format_1_reads_every_record)
{
    check_fixture("fs-sealed");
}
