/*
 * The journal contract against every engine, sealed and unsealed: the
 * Pekko persistence TCK's JournalSpec cases (replay bounds, max, deletion,
 * highest sequence number, atomic batches), plus tags, pids and ordering.
 */
#include <pthread.h>
#include <string.h>

#include "store/journal.h"
#include "variants.h"

#define PID(str) (const uint8_t *)(str), strlen(str)

static void write_events(journal *j, const char *pid, uint64_t from_seq, int count)
{
    for (int i = 0; i < count; i++) {
        char payload[32];
        snprintf(payload, sizeof(payload), "%s-%llu", pid, (unsigned long long)(from_seq + i));
        journal_event_in ev = {(const uint8_t *)payload, strlen(payload), 1000 + from_seq + i, NULL,
                               0};
        ASSERT_OK(journal_append(j, PID(pid), from_seq + i - 1, &ev, 1));
    }
}

static void expect_replay(journal *j, uint64_t from, uint64_t to, uint64_t max, uint64_t first,
                          int count)
{
    events_seen s = {0};
    ASSERT_OK(journal_replay(j, PID("p"), from, to, max, record_event, &s));
    ASSERT_MSG(s.n == count, "replay(%llu, %llu, %llu): %d events, expected %d",
               (unsigned long long)from, (unsigned long long)to, (unsigned long long)max, s.n,
               count);
    for (int i = 0; i < count; i++) {
        ASSERT_EQ_U64(s.seqs[i], first + (uint64_t)i);
        char want[32];
        snprintf(want, sizeof(want), "p-%llu", (unsigned long long)(first + i));
        ASSERT_STR_EQ(s.payload[i], want);
        ASSERT_EQ_U64(s.ts[i], 1000 + first + i);
    }
}

#define EACH_VARIANT(name)                                                                         \
    FOR_EACH_VARIANT(v)                                                                            \
    for (char dir[1024], once_ = (fresh_dir(dir, sizeof(dir), v, name), 1); once_; once_ = 0)

TEST(test_replay_all_and_bounded)
{
    EACH_VARIANT("bounds")
    {
        journal *j = open_journal_variant(v, dir, 0);
        write_events(j, "p", 1, 5);
        expect_replay(j, 1, UINT64_MAX, UINT64_MAX, 1, 5); /* all */
        expect_replay(j, 3, UINT64_MAX, UINT64_MAX, 3, 3); /* lower bound */
        expect_replay(j, 1, 3, UINT64_MAX, 1, 3);          /* upper bound */
        expect_replay(j, 1, UINT64_MAX, 3, 1, 3);          /* max */
        expect_replay(j, 2, 2, UINT64_MAX, 2, 1);          /* lower = upper */
        expect_replay(j, 2, 3, 0, 0, 0);                   /* max = 0 */
        expect_replay(j, 3, 2, UINT64_MAX, 0, 0);          /* lower > upper */
        expect_replay(j, 2, 4, 2, 2, 2);                   /* bounds and max */
        expect_replay(j, 6, 10, 10, 0, 0);                 /* past the end */
        journal_close(j);
    }
}

TEST(test_unknown_pid_replays_nothing_and_has_highest_zero)
{
    EACH_VARIANT("unknown")
    {
        journal *j = open_journal_variant(v, dir, 0);
        events_seen s = {0};
        ASSERT_OK(journal_replay(j, PID("nobody"), 1, UINT64_MAX, UINT64_MAX, record_event, &s));
        ASSERT_EQ_INT(s.n, 0);
        uint64_t h = 99;
        ASSERT_OK(journal_highest(j, PID("nobody"), &h));
        ASSERT_EQ_U64(h, 0);
        journal_close(j);
    }
}

TEST(test_deleted_range_is_not_replayed)
{
    EACH_VARIANT("deleted")
    {
        journal *j = open_journal_variant(v, dir, 0);
        write_events(j, "p", 1, 5);
        ASSERT_OK(journal_delete_to(j, PID("p"), 3));
        expect_replay(j, 1, UINT64_MAX, UINT64_MAX, 4, 2);
        expect_replay(j, 1, 3, UINT64_MAX, 0, 0);
        journal_close(j);
    }
}

TEST(test_highest_never_decreases_after_deletion)
{
    EACH_VARIANT("highest")
    {
        journal *j = open_journal_variant(v, dir, 0);
        write_events(j, "p", 1, 5);
        ASSERT_OK(journal_delete_to(j, PID("p"), UINT64_MAX));
        uint64_t h;
        ASSERT_OK(journal_highest(j, PID("p"), &h));
        ASSERT_EQ_U64(h, 5);
        expect_replay(j, 1, UINT64_MAX, UINT64_MAX, 0, 0);
        /* Appending continues after the deleted events, not from 1. */
        journal_event_in ev = {(const uint8_t *)"p-6", 3, 1006, NULL, 0};
        ASSERT_STATUS(journal_append(j, PID("p"), 0, &ev, 1), ST_ECONFLICT);
        ASSERT_OK(journal_append(j, PID("p"), 5, &ev, 1));
        expect_replay(j, 1, UINT64_MAX, UINT64_MAX, 6, 1);
        journal_close(j);
    }
}

TEST(test_conflicting_append_writes_nothing)
{
    EACH_VARIANT("conflict")
    {
        journal *j = open_journal_variant(v, dir, 0);
        write_events(j, "p", 1, 2);
        journal_event_in batch[3] = {{(const uint8_t *)"x", 1, 1, NULL, 0},
                                     {(const uint8_t *)"y", 1, 2, NULL, 0},
                                     {(const uint8_t *)"z", 1, 3, NULL, 0}};
        ASSERT_STATUS(journal_append(j, PID("p"), 1, batch, 3), ST_ECONFLICT);
        ASSERT_MSG(strstr(test_last_error(), "expected sequence 1, found 2") != NULL, "%s",
                   test_last_error());
        ASSERT_STATUS(journal_append(j, PID("p"), 3, batch, 3), ST_ECONFLICT);
        uint64_t h;
        ASSERT_OK(journal_highest(j, PID("p"), &h));
        ASSERT_EQ_U64(h, 2);
        expect_replay(j, 1, UINT64_MAX, UINT64_MAX, 1, 2);
        journal_close(j);
    }
}

TEST(test_atomic_batch_is_all_or_nothing)
{
    EACH_VARIANT("atomic")
    {
        journal *j = open_journal_variant(v, dir, 0);
        const char *bad_tags[] = {"ok", ""};
        journal_event_in batch[3] = {{(const uint8_t *)"a", 1, 1, NULL, 0},
                                     {(const uint8_t *)"b", 1, 2, NULL, 0},
                                     {(const uint8_t *)"c", 1, 3, bad_tags, 2}};
        /* The third event is invalid: nothing of the batch is written. */
        ASSERT_STATUS(journal_append(j, PID("p"), 0, batch, 3), ST_EINVAL);
        uint64_t h;
        ASSERT_OK(journal_highest(j, PID("p"), &h));
        ASSERT_EQ_U64(h, 0);
        batch[2].tag_count = 1;
        ASSERT_OK(journal_append(j, PID("p"), 0, batch, 3));
        events_seen s = {0};
        ASSERT_OK(journal_replay(j, PID("p"), 1, UINT64_MAX, UINT64_MAX, record_event, &s));
        ASSERT_EQ_INT(s.n, 3);
        ASSERT_STR_EQ(s.payload[0], "a");
        ASSERT_STR_EQ(s.payload[2], "c");
        ASSERT(!s.tags[0] && s.tags[2]);
        journal_close(j);
    }
}

TEST(test_by_tag_follows_global_order_and_resumes)
{
    EACH_VARIANT("tags")
    {
        journal *j = open_journal_variant(v, dir, 0);
        const char *blue[] = {"blue"};
        const char *both[] = {"blue", "red"};
        const char *pids[] = {"b", "a", "c", "a"};
        const char *const *tags[] = {blue, both, NULL, blue};
        size_t counts[] = {1, 2, 0, 1};
        uint64_t next[3] = {0, 0, 0};
        for (int i = 0; i < 4; i++) {
            char payload[8];
            snprintf(payload, sizeof(payload), "e%d", i);
            journal_event_in ev = {(const uint8_t *)payload, strlen(payload), (uint64_t)i, tags[i],
                                   counts[i]};
            int slot = pids[i][0] - 'a';
            ASSERT_OK(journal_append(j, PID(pids[i]), next[slot], &ev, 1));
            next[slot]++;
        }
        events_seen s = {0};
        ASSERT_OK(journal_by_tag(j, "blue", 0, UINT64_MAX, record_event, &s));
        ASSERT_EQ_INT(s.n, 3);
        ASSERT_STR_EQ(s.payload[0], "e0");
        ASSERT_STR_EQ(s.pid[0], "b");
        ASSERT_STR_EQ(s.payload[1], "e1");
        ASSERT_STR_EQ(s.pid[1], "a");
        ASSERT_STR_EQ(s.payload[2], "e3");
        ASSERT(s.ordering[0] < s.ordering[1] && s.ordering[1] < s.ordering[2]);
        /* A projection resumes after the last ordering it saw. */
        events_seen r = {0};
        ASSERT_OK(journal_by_tag(j, "blue", s.ordering[0], 1, record_event, &r));
        ASSERT_EQ_INT(r.n, 1);
        ASSERT_STR_EQ(r.payload[0], "e1");
        events_seen red = {0};
        ASSERT_OK(journal_by_tag(j, "red", 0, UINT64_MAX, record_event, &red));
        ASSERT_EQ_INT(red.n, 1);
        /* Deleted events leave the tag index. */
        ASSERT_OK(journal_delete_to(j, PID("a"), 1));
        events_seen after = {0};
        ASSERT_OK(journal_by_tag(j, "blue", 0, UINT64_MAX, record_event, &after));
        ASSERT_EQ_INT(after.n, 2);
        ASSERT_STR_EQ(after.payload[1], "e3");
        journal_close(j);
    }
}

typedef struct pid_list {
    char names[64][16];
    int n;
} pid_list;

static int add_pid(void *ctx, const uint8_t *pid, size_t len)
{
    pid_list *l = ctx;
    if (len < 16 && l->n < 64) {
        memcpy(l->names[l->n], pid, len);
        l->names[l->n][len] = 0;
        l->n++;
    }
    return 0;
}

TEST(test_pids_are_paginated_in_order)
{
    EACH_VARIANT("pids")
    {
        journal *j = open_journal_variant(v, dir, 0);
        const char *names[] = {"delta", "alpha", "charlie", "bravo", "echo"};
        for (int i = 0; i < 5; i++)
            write_events(j, names[i], 1, 1);
        /* A pid with snapshots only is not a journal pid. */
        ASSERT_OK(journal_snapshot_save(j, PID("bz-snapshot-only"), 1, 1, (const uint8_t *)"s", 1));
        pid_list page = {0};
        ASSERT_OK(journal_pids(j, NULL, 0, 2, add_pid, &page));
        ASSERT_EQ_INT(page.n, 2);
        ASSERT_STR_EQ(page.names[0], "alpha");
        ASSERT_STR_EQ(page.names[1], "bravo");
        ASSERT_OK(journal_pids(j, PID(page.names[1]), 2, add_pid, &page));
        ASSERT_EQ_INT(page.n, 4);
        ASSERT_STR_EQ(page.names[2], "charlie");
        ASSERT_STR_EQ(page.names[3], "delta");
        ASSERT_OK(journal_pids(j, PID(page.names[3]), 2, add_pid, &page));
        ASSERT_EQ_INT(page.n, 5);
        ASSERT_STR_EQ(page.names[4], "echo");
        journal_close(j);
    }
}

TEST(test_bad_arguments_are_rejected)
{
    journal *j;
    ASSERT_OK(journal_open_memory(&j));
    journal_event_in ev = {(const uint8_t *)"x", 1, 0, NULL, 0};
    ASSERT_STATUS(journal_append(j, NULL, 0, 0, &ev, 1), ST_EINVAL);
    ASSERT_STATUS(journal_append(j, PID("p"), 0, NULL, 0), ST_EINVAL);
    ASSERT_STATUS(journal_append(NULL, PID("p"), 0, &ev, 1), ST_EMISUSE);
    ASSERT_STATUS(journal_append(j, PID("p"), UINT64_MAX, &ev, 1), ST_ELIMIT);
    ev.len = 5;
    ev.payload = NULL;
    ASSERT_STATUS(journal_append(j, PID("p"), 0, &ev, 1), ST_EINVAL);
    ASSERT_STATUS(journal_by_tag(j, "", 0, 1, record_event, NULL), ST_EINVAL);
    journal_close(j);
}

TEST(test_sqlite_journal_survives_reopen_and_separate_snapshot_file)
{
    char path[1024], snaps[1024];
    snprintf(path, sizeof(path), "%s/j.db", test_tmpdir());
    snprintf(snaps, sizeof(snaps), "%s/s.db", test_tmpdir());
    sqlite_options o = sqlite_options_default();
    o.snapshot_path = snaps;
    for (int round = 0; round < 2; round++) {
        store_backend *be;
        ASSERT_OK(store_backend_open_sqlite(&be, path, &o));
        journal *j;
        ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
        if (round == 0) {
            write_events(j, "p", 1, 3);
            ASSERT_OK(journal_snapshot_save(j, PID("p"), 3, 77, (const uint8_t *)"S", 1));
        } else {
            expect_replay(j, 1, UINT64_MAX, UINT64_MAX, 1, 3);
            expect_latest_snapshot(j, "p", 3);
        }
        journal_close(j);
    }
}

TEST(test_large_tagged_batch_keeps_tags_on_the_right_events)
{
    EACH_VARIANT("bigbatch")
    {
        journal *j = open_journal_variant(v, dir, 0);
        const char *odd[] = {"odd"};
        journal_event_in batch[40];
        char payloads[40][8];
        for (int i = 0; i < 40; i++) {
            snprintf(payloads[i], sizeof(payloads[i]), "e%d", i + 1);
            int is_odd = (i + 1) % 2;
            batch[i] = (journal_event_in){(const uint8_t *)payloads[i], strlen(payloads[i]),
                                          (uint64_t)i, is_odd ? odd : NULL, is_odd ? 1u : 0u};
        }
        ASSERT_OK(journal_append(j, PID("p"), 0, batch, 40));
        events_seen s = {0};
        ASSERT_OK(journal_by_tag(j, "odd", 0, UINT64_MAX, record_event, &s));
        ASSERT_EQ_INT(s.n, 20);
        for (int i = 0; i < 20; i++) {
            ASSERT_EQ_U64(s.seqs[i], (uint64_t)(2 * i + 1));
            char want[8];
            snprintf(want, sizeof(want), "e%d", 2 * i + 1);
            ASSERT_STR_EQ(s.payload[i], want);
            ASSERT(s.tags[i]);
        }
        journal_close(j);
    }
}

typedef struct racer {
    int variant;
    const char *dir;
    int wins;
} racer;

static void *append_race(void *arg)
{
    racer *r = arg;
    store_backend *be = NULL;
    if (open_engine_status(r->variant, r->dir, &be) != ST_OK)
        return NULL;
    journal *j;
    if (journal_open_backend(&j, be, NULL, NULL) != ST_OK)
        return NULL;
    for (int i = 0; i < 60; i++) {
        uint64_t h;
        if (journal_highest(j, PID("shared"), &h) != ST_OK)
            break;
        journal_event_in ev[2] = {{(const uint8_t *)"a", 1, 0, NULL, 0},
                                  {(const uint8_t *)"b", 1, 0, NULL, 0}};
        if (journal_append(j, PID("shared"), h, ev, 2) == ST_OK)
            r->wins++;
    }
    journal_close(j);
    return NULL;
}

TEST(test_racing_writers_on_one_store_never_interleave_batches)
{
    int engines[] = {V_SQLITE, V_FS, V_POSTGRES};
    for (int e = 0; e < 3; e++) {
        if (!variant_on(engines[e]))
            continue;
        char dir[1024];
        fresh_dir(dir, sizeof(dir), engines[e], "race");
        journal *j = open_journal_variant(engines[e], dir, 0); /* creates the store */
        racer r[3] = {{engines[e], dir, 0}, {engines[e], dir, 0}, {engines[e], dir, 0}};
        pthread_t t[3];
        for (int i = 0; i < 3; i++)
            ASSERT(pthread_create(&t[i], NULL, append_race, &r[i]) == 0);
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
        int wins = r[0].wins + r[1].wins + r[2].wins;
        ASSERT(wins > 0);
        uint64_t h;
        ASSERT_OK(journal_highest(j, PID("shared"), &h));
        ASSERT_EQ_U64(h, (uint64_t)wins * 2);
        events_seen s = {0};
        ASSERT_OK(journal_replay(j, PID("shared"), 1, 256, UINT64_MAX, record_event, &s));
        for (int i = 0; i < s.n; i++) {
            ASSERT_EQ_U64(s.seqs[i], (uint64_t)i + 1);
            ASSERT_STR_EQ(s.payload[i], i % 2 ? "b" : "a");
        }
        journal_close(j);
    }
}
