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

#include "store/fs_io.h"
#include "util/error.h"
#include "variants.h"

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

static journal *open_fs(const char *root)
{
    store_backend *be;
    ASSERT_OK(store_backend_open_fs(&be, root, NULL));
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
    return j;
}

/* Events 1-4, 5-8, 9-10 of pid "p" in a fresh store at <tmp>/<name>. */
static journal *ten_events(char *root, size_t n, const char *name)
{
    snprintf(root, n, "%s/%s", test_tmpdir(), name);
    journal *j = open_fs(root);
    journal_event_in ev[4];
    for (int i = 0; i < 4; i++)
        ev[i] = (journal_event_in){(const uint8_t *)"x", 1, 1, NULL, 0};
    ASSERT_OK(journal_append(j, K("p"), 0, ev, 4));
    ASSERT_OK(journal_append(j, K("p"), 4, ev, 4));
    ASSERT_OK(journal_append(j, K("p"), 8, ev, 2));
    return j;
}

static void pid_file(char *out, size_t n, const char *root, const char *file)
{
    char id[FS_ID_MAX];
    fs_id_name((const uint8_t *)"p", 1, id);
    snprintf(out, n, "%s/journal/%s/%s", root, id, file);
}

TEST(test_fs_lost_last_batch_keeps_the_highest_and_refuses_reuse)
{
    char root[1100], path[2048];
    journal *j = ten_events(root, sizeof(root), "lost-batch");
    pid_file(path, sizeof(path), root, "b00000000000000000009");
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
    pid_file(path, sizeof(path), root, "meta");
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
    snprintf(root, sizeof(root), "%s/fresh", test_tmpdir());
    journal *j = open_fs(root);
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
