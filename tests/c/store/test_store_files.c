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

#include "store/fs_io.h"
#include "util/error.h"
#include "variants.h"

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

static void write_some(store_backend *be)
{
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
    journal_event_in ev = {(const uint8_t *)"e", 1, 1, NULL, 0};
    ASSERT_OK(journal_append(j, K("p"), 0, &ev, 1));
    ASSERT_OK(journal_snapshot_save(j, K("p"), 1, 1, K("snap")));
    journal_close(j);
}

TEST(test_stores_are_created_private_under_a_permissive_umask)
{
    mode_t old = umask(0);
    char dir[1100], path[1200];
    snprintf(dir, sizeof(dir), "%s/private-sqlite", test_tmpdir());
    ASSERT(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof(path), "%s/store.db", dir);
    store_backend *be;
    ASSERT_OK(store_backend_open_sqlite(&be, path, NULL));
    write_some(be);
    /* An open connection keeps the -wal and -shm files in place. */
    ASSERT_OK(store_backend_open_sqlite(&be, path, NULL));
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("v"), NULL));
    snprintf(path, sizeof(path), "%s/store.db-wal", dir);
    ASSERT(access(path, F_OK) == 0);
    expect_private_tree(dir);
    state_store_close(s);

    snprintf(path, sizeof(path), "%s/private-fs", test_tmpdir());
    ASSERT_OK(store_backend_open_fs(&be, path, NULL));
    write_some(be);
    ASSERT_OK(store_backend_open_fs(&be, path, NULL));
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("v"), NULL));
    state_store_close(s);
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
    snprintf(root, sizeof(root), "%s/fifo-fs", test_tmpdir());
    store_backend *be;
    ASSERT_OK(store_backend_open_fs(&be, root, NULL));
    write_some(be);
    ASSERT_OK(store_backend_open_fs(&be, root, NULL));
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    ASSERT_OK(state_store_upsert(s, K("k"), 0, K("v"), NULL));
    char id[FS_ID_MAX];
    fs_id_name((const uint8_t *)"k", 1, id);
    snprintf(path, sizeof(path), "%s/state/%s", root, id);
    make_fifo(path);
    bytes out = BYTES_INIT;
    ASSERT_STATUS(state_store_get(s, K("k"), NULL, &out), ST_ECORRUPT);
    ASSERT(strstr(error_message(), "not a regular file"));
    state_store_close(s);

    fs_id_name((const uint8_t *)"p", 1, id);
    snprintf(path, sizeof(path), "%s/journal/%s/b00000000000000000001", root, id);
    make_fifo(path);
    ASSERT_OK(store_backend_open_fs(&be, root, NULL));
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, NULL, NULL));
    int n = 0;
    ASSERT_STATUS(journal_replay(j, K("p"), 1, 10, 10, count_event, &n), ST_ECORRUPT);
    journal_close(j);

    snprintf(path, sizeof(path), "%s/lock", root);
    make_fifo(path);
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

TEST(test_must_exist_refuses_a_missing_or_empty_store)
{
    char path[1100];
    store_backend *be;
    sqlite_options so = sqlite_options_default();
    so.must_exist = true;
    snprintf(path, sizeof(path), "%s/missing.db", test_tmpdir());
    ASSERT_STATUS(store_backend_open_sqlite(&be, path, &so), ST_ENOTFOUND);
    ASSERT(access(path, F_OK) != 0);
    snprintf(path, sizeof(path), "%s/empty.db", test_tmpdir());
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    ASSERT(fd >= 0);
    close(fd);
    ASSERT_STATUS(store_backend_open_sqlite(&be, path, &so), ST_ECORRUPT);
    struct stat st;
    ASSERT(stat(path, &st) == 0 && st.st_size == 0);
    so.must_exist = false;
    ASSERT_OK(store_backend_open_sqlite(&be, path, &so));
    be->ops->close(be);
    so.must_exist = true;
    ASSERT_OK(store_backend_open_sqlite(&be, path, &so));
    be->ops->close(be);

    fs_options fo = {STORE_SYNC_OFF, true};
    snprintf(path, sizeof(path), "%s/missing-fs", test_tmpdir());
    ASSERT_STATUS(store_backend_open_fs(&be, path, &fo), ST_ENOTFOUND);
    ASSERT(access(path, F_OK) != 0);
    snprintf(path, sizeof(path), "%s/plain-folder", test_tmpdir());
    ASSERT(mkdir(path, 0700) == 0);
    ASSERT_STATUS(store_backend_open_fs(&be, path, &fo), ST_ECORRUPT);
    char sub[1200];
    snprintf(sub, sizeof(sub), "%s/journal", path);
    ASSERT(access(sub, F_OK) != 0);
    fo.must_exist = false;
    ASSERT_OK(store_backend_open_fs(&be, path, &fo));
    be->ops->close(be);
    fo.must_exist = true;
    ASSERT_OK(store_backend_open_fs(&be, path, &fo));
    be->ops->close(be);
}
