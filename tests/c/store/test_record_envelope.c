/*
 * Unsealed records carry the plain envelope (seal/plain.h): a checksum
 * over the record and its identity, verified on every read, and optional
 * compression. A flipped byte or a record moved to another row is
 * ST_ECORRUPT instead of different data; and a store written before the
 * envelope existed (tests/fixtures/store-format1, made by commit 7626e53)
 * still opens and reads, migrated on open (SQLite) or on read (fs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "by_path.h"
#include "util/error.h"

#define K(str) (const uint8_t *)(str), strlen(str)

/* A new SQLite store at <tmp>/<name> (its path in `path`) holding the
 * events `ev` of pid "p". */
static journal *sqlite_with_events(char path[1100], const char *name, const journal_event_in *ev,
                                   size_t count)
{
    tmp_path(path, 1100, name);
    journal *j = open_sqlite_journal(path, NULL, NULL);
    ASSERT_OK(journal_append(j, K("p"), 0, ev, count));
    return j;
}

TEST(test_flipped_byte_in_an_unsealed_sqlite_record_is_corrupt_not_other_data)
{
    char path[1100];
    journal_event_in ev[2] = {{K("first event"), 1, NULL, 0}, {K("second event"), 2, NULL, 0}};
    journal *j = sqlite_with_events(path, "flip.db", ev, 2);
    ASSERT_OK(journal_snapshot_save(j, K("p"), 2, 5, K("snapshot data")));
    journal_close(j);
    state_store *s = open_sqlite_state(path, NULL);
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("state value"), NULL));
    state_store_close(s);

    /* The last byte of each record: inside the payload, past any header. */
    raw_exec(path, "UPDATE journal SET payload = substr(payload, 1, length(payload) - 1) ||"
                   " X'21' WHERE seq = 2");
    raw_exec(path, "UPDATE snapshots SET data = substr(data, 1, length(data) - 1) || X'21'");
    raw_exec(path, "UPDATE state SET data = substr(data, 1, length(data) - 1) || X'21'");

    j = open_sqlite_journal(path, NULL, NULL);
    events_seen g = {0};
    ASSERT_STATUS(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, record_event, &g),
                  ST_ECORRUPT);
    ASSERT_EQ_INT(g.n, 1);
    ASSERT_STR_EQ(g.payload[0], "first event");
    ASSERT_MSG(strstr(error_message(), "checksum"), "%s", error_message());
    bytes out = BYTES_INIT;
    ASSERT_STATUS(journal_snapshot_load(j, K("p"), NULL, NULL, NULL, &out), ST_ECORRUPT);
    journal_close(j);
    s = open_sqlite_state(path, NULL);
    ASSERT_STATUS(state_store_get(s, K("k"), NULL, &out), ST_ECORRUPT);
    state_store_close(s);
    bytes_free(&out);
}

TEST(test_unsealed_record_moved_to_another_row_is_corrupt)
{
    char path[1100];
    journal_event_in ev[2] = {{K("one"), 1, NULL, 0}, {K("two"), 1, NULL, 0}};
    journal_close(sqlite_with_events(path, "moved.db", ev, 2));
    raw_exec(path, "UPDATE journal SET payload = (SELECT payload FROM journal WHERE seq = 1)"
                   " WHERE seq = 2");
    journal *j = open_sqlite_journal(path, NULL, NULL);
    events_seen g = {0};
    ASSERT_STATUS(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, record_event, &g),
                  ST_ECORRUPT);
    ASSERT_EQ_INT(g.n, 1);
    journal_close(j);
}

TEST(test_unsealed_compression_stores_less_and_reads_back)
{
    char path[1100];
    tmp_path(path, sizeof(path), "zip.db");
    seal_options so = seal_options_default();
    so.compression_level = 9;
    sealer *plain;
    ASSERT_OK(sealer_new(&plain, NULL, &so));
    journal *j = open_sqlite_journal(path, plain, NULL);
    static uint8_t big[4096];
    memset(big, 'a', sizeof(big));
    journal_event_in ev = {big, sizeof(big), 1, NULL, 0};
    ASSERT_OK(journal_append(j, K("p"), 0, &ev, 1));
    ASSERT(raw_int(path, "SELECT length(payload) FROM journal") < 200);
    bytes out = BYTES_INIT;
    events_seen g = {0};
    ASSERT_OK(journal_replay(j, K("p"), 1, 1, 1, record_event, &g));
    ASSERT_EQ_INT(g.n, 1);
    journal_close(j);
    bytes_free(&out);
}

TEST(test_bare_records_are_refused_by_a_checked_journal)
{
    char path[1100];
    tmp_path(path, sizeof(path), "bare.db");
    journal_options o = journal_options_default();
    o.bare_records = true;
    journal *j = open_sqlite_journal(path, NULL, &o);
    journal_event_in ev = {K("bare"), 1, NULL, 0};
    ASSERT_OK(journal_append(j, K("p"), 0, &ev, 1));
    journal_close(j);
    j = open_sqlite_journal(path, NULL, NULL);
    events_seen g = {0};
    ASSERT_STATUS(journal_replay(j, K("p"), 1, 1, 1, record_event, &g), ST_ECORRUPT);
    ASSERT_MSG(strstr(error_message(), "no checksum envelope"), "%s", error_message());
    journal_close(j);
}

/* Copies the fixture `name` to the test's directory; returns its path. */
static void fixture(char *out, size_t n, const char *name)
{
    const char *src = getenv("DDATA_SOURCE_DIR");
    tmp_path(out, n, name);
    char cmd[3000];
    snprintf(cmd, sizeof(cmd), "cp -R '%s/tests/fixtures/store-format1/%s' '%s'", src ? src : ".",
             name, out);
    ASSERT_MSG(system(cmd) == 0, "%s", cmd);
}

/* What make_fixture.c.txt wrote: p1 events 1-12 ("order-N", odd ones
 * tagged "orders"), deleted to 2; p2 one event "hello"; a snapshot of p1 at
 * 8; state k1 = v1b (revision 2), k2 = v2. */
static void expect_fixture_contents(journal *j, state_store *s)
{
    events_seen g = {0};
    ASSERT_OK(journal_replay(j, K("p1"), 1, UINT64_MAX, UINT64_MAX, record_event, &g));
    ASSERT_EQ_INT(g.n, 10);
    ASSERT_EQ_U64(g.seqs[0], 3);
    ASSERT_STR_EQ(g.payload[0], "order-3");
    ASSERT_STR_EQ(g.payload[9], "order-12");
    g.n = 0;
    ASSERT_OK(journal_by_tag(j, "orders", 0, UINT64_MAX, record_event, &g));
    ASSERT_EQ_INT(g.n, 6); /* 3, 5, 7, 9, 11 of p1 and p2's */
    ASSERT_STR_EQ(g.payload[5], "hello");
    uint64_t seq, highest;
    bytes out = BYTES_INIT;
    ASSERT_OK(journal_snapshot_load(j, K("p1"), NULL, &seq, NULL, &out));
    ASSERT_EQ_U64(seq, 8);
    ASSERT_MEM_EQ(out.data, out.len, "snapshot-at-8", 13);
    ASSERT_OK(journal_highest(j, K("p1"), &highest));
    ASSERT_EQ_U64(highest, 12);
    expect_state(s, "k1", 2, "v1b");
    expect_state(s, "k2", 1, "v2");
    /* And it takes new writes. */
    journal_event_in ev = {K("order-13"), 1300, NULL, 0};
    ASSERT_OK(journal_append(j, K("p1"), 12, &ev, 1));
    g.n = 0;
    ASSERT_OK(journal_replay(j, K("p1"), 12, 13, UINT64_MAX, record_event, &g));
    ASSERT_EQ_INT(g.n, 2);
    ASSERT_STR_EQ(g.payload[1], "order-13");
    ASSERT_OK(state_store_upsert(s, K("k2"), 1, K("v2b"), NULL));
    expect_state(s, "k2", 2, "v2b");
    bytes_free(&out);
}

TEST(test_a_sqlite_store_written_by_format_1_is_migrated_on_open)
{
    char path[1100];
    fixture(path, sizeof(path), "v1.sqlite");
    ASSERT(raw_int(path, "PRAGMA user_version") == 1);
    journal *j = open_sqlite_journal(path, NULL, NULL);
    state_store *s = open_sqlite_state(path, NULL);
    ASSERT(raw_int(path, "PRAGMA user_version") == 3);
    ASSERT(raw_int(path, "SELECT count(*) FROM journal WHERE substr(payload, 1, 2) <> X'4450'") ==
           0);
    expect_fixture_contents(j, s);
    journal_close(j);
    state_store_close(s);
}

TEST(test_an_fs_store_written_by_format_1_reads_and_takes_new_writes)
{
    char root[1100];
    fixture(root, sizeof(root), "v1-fs");
    journal *j = open_fs_journal(root, NULL);
    store_backend *be;
    ASSERT_OK(store_backend_open_fs(&be, root, NULL));
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    expect_fixture_contents(j, s);
    journal_close(j);
    state_store_close(s);
}
