/*
 * Persistence strategies and recovery: the state after recovery equals
 * the state before, with Light and Full (with and without compaction) on
 * every engine; a gap in the log fails loudly.
 */
#include <string.h>

#include "by_path.h"
#include "store/recovery.h"
#include "sum_actor.h"

#define PID(s) (const uint8_t *)(s), strlen(s)
#define EACH_VARIANT(name)                                                                         \
    FOR_EACH_VARIANT(v)                                                                            \
    for (char dir[1024], once_ = (fresh_dir(dir, sizeof(dir), v, name), 1); once_; once_ = 0)

static int apply_event(void *ctx, const store_event *ev)
{
    return sum_actor_apply(ctx, ev->payload);
}

static uint64_t run_actor(journal *j, const persist_options *o, int events)
{
    uint64_t sum = 0, seq = 0;
    for (int i = 0; i < events; i++) {
        uint8_t b = (uint8_t)(i * 7 + 1);
        sum += b;
        journal_event_in ev = {&b, 1, (uint64_t)i, NULL, 0};
        ASSERT_OK(
            persist_event(j, PID("actor"), seq, &ev, (const uint8_t *)&sum, sizeof(sum), o, &seq));
    }
    return sum;
}

/* Persists `events` events with o, then recovers: the actor's sum comes
 * back whole, from the snapshot at `snapshot_seq` plus `replayed` events. */
static void expect_recovery(journal *j, const persist_options *o, int events, uint64_t snapshot_seq,
                            uint64_t replayed)
{
    uint64_t sum = run_actor(j, o, events);
    sum_actor c = {0};
    uint64_t rec;
    ASSERT_OK(recover(j, PID("actor"), sum_actor_load_snapshot, apply_event, &c, &rec));
    ASSERT_EQ_U64(c.sum, sum);
    ASSERT_EQ_U64(c.snapshot_seq, snapshot_seq);
    ASSERT_EQ_U64(c.events_applied, replayed);
    ASSERT_EQ_U64(rec, (uint64_t)events);
}

/* expect_recovery on a fresh journal of every variant. */
static void expect_recovery_everywhere(const char *name, persist_options o, int events,
                                       uint64_t snapshot_seq, uint64_t replayed)
{
    EACH_VARIANT(name)
    {
        journal *j = open_journal_variant(v, dir, 0);
        expect_recovery(j, &o, events, snapshot_seq, replayed);
        journal_close(j);
    }
}

TEST(test_light_recovers_from_the_last_snapshot)
{
    expect_recovery_everywhere("light", (persist_options){PERSIST_LIGHT, 0, false}, 30, 30, 0);
}

TEST(test_full_snapshots_every_n_and_replays_the_rest)
{
    expect_recovery_everywhere("full", (persist_options){PERSIST_FULL, 10, false}, 37, 30, 7);
}

TEST(test_full_with_compaction_deletes_covered_events)
{
    EACH_VARIANT("compact")
    {
        journal *j = open_journal_variant(v, dir, 0);
        persist_options o = {PERSIST_FULL, 10, true};
        expect_recovery(j, &o, 25, 20, 5);
        /* Events up to the snapshot are gone; the highest stays. */
        uint64_t h;
        ASSERT_OK(journal_highest(j, PID("actor"), &h));
        ASSERT_EQ_U64(h, 25);
        sum_actor none = {0};
        ASSERT_OK(journal_replay(j, PID("actor"), 1, 20, UINT64_MAX, apply_event, &none));
        ASSERT_EQ_U64(none.events_applied, 0);
        journal_close(j);
    }
}

TEST(test_default_full_snapshots_every_hundred)
{
    journal *j;
    ASSERT_OK(journal_open_memory(&j));
    persist_options o = {PERSIST_FULL, 0, false};
    run_actor(j, &o, 150);
    sum_actor c = {0};
    ASSERT_OK(recover(j, PID("actor"), sum_actor_load_snapshot, apply_event, &c, NULL));
    ASSERT_EQ_U64(c.snapshot_seq, 100);
    ASSERT_EQ_U64(c.events_applied, 50);
    journal_close(j);
}

TEST(test_gap_in_the_log_fails_loudly)
{
    EACH_VARIANT("gap")
    {
        journal *j = open_journal_variant(v, dir, 0);
        persist_options o = {PERSIST_FULL, 1000, false};
        run_actor(j, &o, 12);
        /* Events deleted with no snapshot covering them. */
        ASSERT_OK(journal_delete_to(j, PID("actor"), 4));
        sum_actor c = {0};
        ASSERT_STATUS(recover(j, PID("actor"), sum_actor_load_snapshot, apply_event, &c, NULL),
                      ST_ECORRUPT);
        ASSERT(strstr(test_last_error(), "event 1 is missing") != NULL);
        ASSERT_EQ_U64(c.events_applied, 0);
        journal_close(j);
    }
}

TEST(test_unknown_pid_recovers_empty)
{
    journal *j;
    ASSERT_OK(journal_open_memory(&j));
    sum_actor c = {0};
    uint64_t rec = 99;
    ASSERT_OK(recover(j, PID("nobody"), sum_actor_load_snapshot, apply_event, &c, &rec));
    ASSERT_EQ_U64(rec, 0);
    ASSERT_EQ_U64(c.events_applied, 0);
    journal_close(j);
}

TEST(test_event_missing_in_the_middle_fails_loudly)
{
    char path[1024];
    tmp_path(path, sizeof(path), "middle.db");
    journal *j = open_sqlite_journal(path, NULL, NULL);
    persist_options o = {PERSIST_FULL, 5, false};
    run_actor(j, &o, 12);
    journal_close(j);
    raw_exec(path, "DELETE FROM journal WHERE seq = 11");
    j = open_sqlite_journal(path, NULL, NULL);
    sum_actor c = {0};
    ASSERT_STATUS(recover(j, PID("actor"), sum_actor_load_snapshot, apply_event, &c, NULL),
                  ST_ECORRUPT);
    ASSERT(strstr(test_last_error(), "event 11 is missing") != NULL);
    journal_close(j);
}
