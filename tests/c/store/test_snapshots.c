/*
 * The snapshot store contract against every engine, sealed and unsealed:
 * the Pekko persistence TCK's SnapshotStoreSpec cases (criteria by
 * sequence number and timestamp, latest wins, delete by metadata and by
 * criteria, overwrite, a 10,000-byte snapshot) and keep-last-N pruning.
 */
#include <string.h>

#include "store/journal.h"
#include "util/rng.h"
#include "variants.h"

#define PID(str) (const uint8_t *)(str), strlen(str)
#define EACH_VARIANT(name)                                                                         \
    FOR_EACH_VARIANT(v)                                                                            \
    for (char dir[1024], once_ = (fresh_dir(dir, sizeof(dir), v, name), 1); once_; once_ = 0)

/* Snapshots at seq 1..5 with timestamps 100, 200, ... 500. */
static void save_five(journal *j)
{
    for (uint64_t s = 1; s <= 5; s++) {
        char data[16];
        snprintf(data, sizeof(data), "snap-%llu", (unsigned long long)s);
        ASSERT_OK(
            journal_snapshot_save(j, PID("p"), s, s * 100, (const uint8_t *)data, strlen(data)));
    }
}

static uint64_t load_seq(journal *j, snapshot_criteria c)
{
    bytes b = BYTES_INIT;
    uint64_t seq = 0, ts = 0;
    int rc = journal_snapshot_load(j, PID("p"), &c, &seq, &ts, &b);
    if (rc == ST_ENOTFOUND)
        return 0;
    ASSERT_OK(rc);
    char want[16];
    snprintf(want, sizeof(want), "snap-%llu", (unsigned long long)seq);
    ASSERT_MEM_EQ(b.data, b.len, want, strlen(want));
    ASSERT_EQ_U64(ts, seq * 100);
    bytes_free(&b);
    return seq;
}

/* The criteria "at sequence number `max_seq` or below". */
static snapshot_criteria seq_at_most(uint64_t max_seq)
{
    snapshot_criteria c = snapshot_criteria_any();
    c.max_seq = max_seq;
    return c;
}

/* A journal of variant v holding save_five's snapshots, keeping `keep`. */
static journal *five_snapshots(int v, const char *dir, uint64_t keep)
{
    journal *j = open_journal_variant(v, dir, keep);
    save_five(j);
    return j;
}

TEST(test_load_latest_matching_criteria)
{
    EACH_VARIANT("criteria")
    {
        journal *j = five_snapshots(v, dir, 0);
        snapshot_criteria c = snapshot_criteria_any();
        ASSERT_EQ_U64(load_seq(j, c), 5);
        c.max_seq = 3;
        ASSERT_EQ_U64(load_seq(j, c), 3);
        c = snapshot_criteria_any();
        c.max_ts = 250;
        ASSERT_EQ_U64(load_seq(j, c), 2);
        c.max_seq = 1;
        ASSERT_EQ_U64(load_seq(j, c), 1);
        c = snapshot_criteria_any();
        c.min_seq = 6;
        ASSERT_EQ_U64(load_seq(j, c), 0);
        c = snapshot_criteria_any();
        c.min_ts = 300;
        c.max_ts = 300;
        ASSERT_EQ_U64(load_seq(j, c), 3);
        bytes b = BYTES_INIT;
        ASSERT_STATUS(journal_snapshot_load(j, PID("other"), NULL, NULL, NULL, &b), ST_ENOTFOUND);
        journal_close(j);
    }
}

TEST(test_delete_one_by_metadata)
{
    EACH_VARIANT("delone")
    {
        journal *j = five_snapshots(v, dir, 0);
        snapshot_criteria c = snapshot_criteria_any();
        c.min_seq = c.max_seq = 5;
        ASSERT_OK(journal_snapshot_delete(j, PID("p"), &c));
        ASSERT_EQ_U64(load_seq(j, snapshot_criteria_any()), 4);
        c.min_seq = c.max_seq = 2;
        ASSERT_OK(journal_snapshot_delete(j, PID("p"), &c));
        ASSERT_EQ_U64(load_seq(j, seq_at_most(2)), 1);
        journal_close(j);
    }
}

TEST(test_delete_all_matching_criteria)
{
    EACH_VARIANT("delmany")
    {
        journal *j = five_snapshots(v, dir, 0);
        snapshot_criteria c = seq_at_most(3);
        ASSERT_OK(journal_snapshot_delete(j, PID("p"), &c));
        ASSERT_EQ_U64(load_seq(j, seq_at_most(3)), 0);
        ASSERT_EQ_U64(load_seq(j, snapshot_criteria_any()), 5);
        c = snapshot_criteria_any();
        c.max_ts = 450;
        ASSERT_OK(journal_snapshot_delete(j, PID("p"), &c));
        ASSERT_EQ_U64(load_seq(j, snapshot_criteria_any()), 5);
        c.max_seq = 4;
        ASSERT_EQ_U64(load_seq(j, c), 0);
        journal_close(j);
    }
}

TEST(test_overwrite_at_same_sequence_number)
{
    EACH_VARIANT("overwrite")
    {
        journal *j = open_journal_variant(v, dir, 0);
        ASSERT_OK(journal_snapshot_save(j, PID("p"), 7, 1, (const uint8_t *)"old", 3));
        ASSERT_OK(journal_snapshot_save(j, PID("p"), 7, 2, (const uint8_t *)"newer", 5));
        bytes b = BYTES_INIT;
        uint64_t seq, ts;
        ASSERT_OK(journal_snapshot_load(j, PID("p"), NULL, &seq, &ts, &b));
        ASSERT_EQ_U64(seq, 7);
        ASSERT_EQ_U64(ts, 2);
        ASSERT_MEM_EQ(b.data, b.len, "newer", 5);
        bytes_free(&b);
        journal_close(j);
    }
}

TEST(test_large_snapshot_round_trips)
{
    rng g;
    rng_seed(&g, test_seed());
    static uint8_t big[10000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i % 7 == 0 ? rng_next(&g) : i);
    EACH_VARIANT("large")
    {
        journal *j = open_journal_variant(v, dir, 0);
        ASSERT_OK(journal_snapshot_save(j, PID("p"), 1, 1, big, sizeof(big)));
        bytes b = BYTES_INIT;
        ASSERT_OK(journal_snapshot_load(j, PID("p"), NULL, NULL, NULL, &b));
        ASSERT_MEM_EQ(b.data, b.len, big, sizeof(big));
        bytes_free(&b);
        journal_close(j);
    }
}

TEST(test_keep_last_n_prunes_older)
{
    EACH_VARIANT("keep")
    {
        journal *j = five_snapshots(v, dir, 2);
        ASSERT_EQ_U64(load_seq(j, snapshot_criteria_any()), 5);
        ASSERT_EQ_U64(load_seq(j, seq_at_most(4)), 4);
        ASSERT_EQ_U64(load_seq(j, seq_at_most(3)), 0);
        journal_close(j);
    }
}
