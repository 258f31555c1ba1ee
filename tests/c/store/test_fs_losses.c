/*
 * The fs engine keeps its promises when one of its files is lost: the
 * highest sequence number, the delete-to mark and the global ordering are
 * durable apart from the batch files, so losing the last batch, the
 * `ordering` counter or a pid's `meta` is ST_ECORRUPT, never a silent
 * reuse of sequence numbers or orderings, never a pid that disappears.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "by_path.h"
#include "util/error.h"

#define K(str) (const uint8_t *)(str), strlen(str)

static int count(void *ctx, const store_event *ev)
{
    (void)ev;
    ++*(int *)ctx;
    return 0;
}

static int count_pid(void *ctx, const uint8_t *pid, size_t len)
{
    (void)pid;
    (void)len;
    ++*(int *)ctx;
    return 0;
}

/* Events 1-4, 5-8, 9-10 of pid "p" in a fresh store at <tmp>/<name>. */
static journal *ten_events(char *root, size_t n, const char *name)
{
    tmp_path(root, n, name);
    journal *j = open_fs_journal(root, NULL);
    append_ten(j, "x", NULL);
    return j;
}

TEST(test_fs_lost_last_batch_keeps_the_highest_and_refuses_reuse)
{
    char root[1100], path[2048];
    journal *j = ten_events(root, sizeof(root), "lost-batch");
    fs_pid_file(path, sizeof(path), root, "b00000000000000000009");
    ASSERT(unlink(path) == 0);
    uint64_t highest;
    ASSERT_OK(journal_highest(j, K("p"), &highest));
    ASSERT_EQ_U64(highest, 10);
    journal_event_in ev = {(const uint8_t *)"new content", 11, 1, NULL, 0};
    ASSERT_STATUS(journal_append(j, K("p"), 8, &ev, 1), ST_ECONFLICT);
    int n = 0;
    ASSERT_STATUS(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, count, &n), ST_ECORRUPT);
    ASSERT_EQ_INT(n, 8);
    ASSERT_MSG(strstr(error_message(), "event 9 is missing"), "%s", error_message());
    journal_close(j);
}

TEST(test_fs_lost_ordering_counter_is_corrupt_not_a_restart)
{
    char root[1100], path[1200];
    journal *j = ten_events(root, sizeof(root), "lost-ordering");
    snprintf(path, sizeof(path), "%s/ordering", root);
    ASSERT(unlink(path) == 0);
    journal_event_in ev = {(const uint8_t *)"y", 1, 1, NULL, 0};
    ASSERT_STATUS(journal_append(j, K("q"), 0, &ev, 1), ST_ECORRUPT);
    ASSERT_MSG(strstr(error_message(), "ordering' is missing"), "%s", error_message());
    journal_close(j);
}

TEST(test_fs_lost_meta_is_corrupt_not_a_hidden_pid)
{
    char root[1100], path[2048];
    journal *j = ten_events(root, sizeof(root), "lost-meta");
    fs_pid_file(path, sizeof(path), root, "meta");
    ASSERT(unlink(path) == 0);
    int n = 0;
    ASSERT_STATUS(journal_pids(j, NULL, 0, UINT64_MAX, count_pid, &n), ST_ECORRUPT);
    ASSERT_MSG(strstr(error_message(), "meta' is missing"), "%s", error_message());
    uint64_t highest;
    ASSERT_STATUS(journal_highest(j, K("p"), &highest), ST_ECORRUPT);
    journal_close(j);
}

TEST(test_fs_new_store_and_new_pid_need_neither_ordering_nor_meta)
{
    char root[1100];
    tmp_path(root, sizeof(root), "fresh");
    journal *j = open_fs_journal(root, NULL);
    uint64_t highest = 1;
    ASSERT_OK(journal_highest(j, K("nobody"), &highest));
    ASSERT_EQ_U64(highest, 0);
    int n = 0;
    ASSERT_OK(journal_pids(j, NULL, 0, UINT64_MAX, count_pid, &n));
    ASSERT_EQ_INT(n, 0);
    journal_event_in ev = {(const uint8_t *)"y", 1, 1, NULL, 0};
    ASSERT_OK(journal_append(j, K("a"), 0, &ev, 1));
    ASSERT_OK(journal_append(j, K("b"), 0, &ev, 1));
    ASSERT_OK(journal_pids(j, NULL, 0, UINT64_MAX, count_pid, &n));
    ASSERT_EQ_INT(n, 2);
    journal_close(j);
}
