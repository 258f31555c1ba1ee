/*
 * What the engines do with the files and folders they find or create:
 * private modes whatever the umask, no hang and no damage on a FIFO or a
 * symbolic link where a record should be, and `must_exist` refusing what
 * is not already a store.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "by_path.h"
#include "util/error.h"

#define K(str) (const uint8_t *)(str), strlen(str)

/* Asserts every entry under `dir` (recursively) is 0700 (folders) or 0600
 * (files). */
static void expect_private_tree(const char *dir)
{
    struct stat st;
    ASSERT(stat(dir, &st) == 0);
    ASSERT_MSG((st.st_mode & 0777) == 0700, "folder '%s' is mode %o", dir, st.st_mode & 0777);
    DIR *d = opendir(dir);
    ASSERT(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ASSERT(lstat(path, &st) == 0);
        if (S_ISDIR(st.st_mode))
            expect_private_tree(path);
        else
            ASSERT_MSG((st.st_mode & 0777) == 0600, "file '%s' is mode %o", path,
                       st.st_mode & 0777);
    }
    closedir(d);
}

static store_backend *open_at(bool fs, const char *path)
{
    store_backend *be;
    if (fs)
        ASSERT_OK(store_backend_open_fs(&be, path, NULL));
    else
        ASSERT_OK(store_backend_open_sqlite(&be, path, NULL));
    return be;
}

/* An event and a snapshot of pid "p" through one connection to the store
 * at `path`, then state k = v through a second one, left open. */
static state_store *write_some(bool fs, const char *path)
{
    journal *j;
    ASSERT_OK(journal_open_backend(&j, open_at(fs, path), NULL, NULL));
    journal_event_in ev = {(const uint8_t *)"e", 1, 1, NULL, 0};
    ASSERT_OK(journal_append(j, K("p"), 0, &ev, 1));
    ASSERT_OK(journal_snapshot_save(j, K("p"), 1, 1, K("snap")));
    journal_close(j);
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, open_at(fs, path), NULL));
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("v"), NULL));
    return s;
}

TEST(test_stores_are_created_private_under_a_permissive_umask)
{
    mode_t old = umask(0);
    char dir[1100], path[1200];
    snprintf(dir, sizeof(dir), "%s/private-sqlite", test_tmpdir());
    ASSERT(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof(path), "%s/store.db", dir);
    /* An open connection keeps the -wal and -shm files in place. */
    state_store *s = write_some(false, path);
    snprintf(path, sizeof(path), "%s/store.db-wal", dir);
    ASSERT(access(path, F_OK) == 0);
    expect_private_tree(dir);
    state_store_close(s);

    tmp_path(path, sizeof(path), "private-fs");
    state_store_close(write_some(true, path));
    expect_private_tree(path);
    umask(old);
}

static int count_event(void *ctx, const store_event *ev)
{
    (void)ev;
    ++*(int *)ctx;
    return 0;
}

/* Replaces `path` by a FIFO. */
static void make_fifo(const char *path)
{
    unlink(path);
    ASSERT(mkfifo(path, 0600) == 0);
}

TEST(test_fs_fifo_in_place_of_a_record_is_corrupt_not_a_hang)
{
    char root[1100], path[2048];
    tmp_path(root, sizeof(root), "fifo-fs");
    state_store *s = write_some(true, root);
    char id[FS_ID_MAX];
    fs_id_name((const uint8_t *)"k", 1, id);
    snprintf(path, sizeof(path), "%s/state/%s", root, id);
    make_fifo(path);
    bytes out = BYTES_INIT;
    ASSERT_STATUS(state_store_get(s, K("k"), NULL, &out), ST_ECORRUPT);
    ASSERT(strstr(error_message(), "not a regular file"));
    state_store_close(s);

    fs_pid_file(path, sizeof(path), root, "b00000000000000000001");
    make_fifo(path);
    journal *j = open_fs_journal(root, NULL);
    int n = 0;
    ASSERT_STATUS(journal_replay(j, K("p"), 1, 10, 10, count_event, &n), ST_ECORRUPT);
    journal_close(j);

    snprintf(path, sizeof(path), "%s/lock", root);
    make_fifo(path);
    store_backend *be;
    ASSERT_STATUS(store_backend_open_fs(&be, root, NULL), ST_ECORRUPT);
    bytes_free(&out);
}

TEST(test_sqlite_fifo_at_the_store_path_is_refused_not_a_hang)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/fifo.db", test_tmpdir());
    make_fifo(path);
    store_backend *be;
    ASSERT_STATUS(store_backend_open_sqlite(&be, path, NULL), ST_ECORRUPT);
    ASSERT(strstr(error_message(), "not a regular file"));
}

static int open_checked(bool fs, const char *path, bool must_exist, store_backend **be)
{
    if (fs) {
        fs_options fo = {STORE_SYNC_OFF, must_exist};
        return store_backend_open_fs(be, path, &fo);
    }
    sqlite_options so = sqlite_options_default();
    so.must_exist = must_exist;
    return store_backend_open_sqlite(be, path, &so);
}

/* An ordinary open makes the store at `path`, which must_exist then
 * accepts. */
static void expect_made_then_accepted(bool fs, const char *path)
{
    store_backend *be;
    ASSERT_OK(open_checked(fs, path, false, &be));
    be->ops->close(be);
    ASSERT_OK(open_checked(fs, path, true, &be));
    be->ops->close(be);
}

TEST(test_must_exist_refuses_a_missing_or_empty_store)
{
    char path[1100];
    store_backend *be;
    tmp_path(path, sizeof(path), "missing.db");
    ASSERT_STATUS(open_checked(false, path, true, &be), ST_ENOTFOUND);
    ASSERT(access(path, F_OK) != 0);
    tmp_path(path, sizeof(path), "empty.db");
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    ASSERT(fd >= 0);
    close(fd);
    ASSERT_STATUS(open_checked(false, path, true, &be), ST_ECORRUPT);
    struct stat st;
    ASSERT(stat(path, &st) == 0 && st.st_size == 0);
    expect_made_then_accepted(false, path);

    tmp_path(path, sizeof(path), "missing-fs");
    ASSERT_STATUS(open_checked(true, path, true, &be), ST_ENOTFOUND);
    ASSERT(access(path, F_OK) != 0);
    tmp_path(path, sizeof(path), "plain-folder");
    ASSERT(mkdir(path, 0700) == 0);
    ASSERT_STATUS(open_checked(true, path, true, &be), ST_ECORRUPT);
    char sub[1200];
    snprintf(sub, sizeof(sub), "%s/journal", path);
    ASSERT(access(sub, F_OK) != 0);
    expect_made_then_accepted(true, path);
}
