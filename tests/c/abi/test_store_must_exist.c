/*
 * dd_store_options.must_exist through the public ABI, and `ddata inspect`,
 * which opens that way: a missing path, a 0-byte file, a plain folder or a
 * FIFO is refused (non-zero exit, nothing written, no hang) instead of being
 * turned into a new, empty store.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ddata.h"
#include "test.h"

static dd_store_options options(uint32_t backend, const char *path, uint32_t must_exist)
{
    dd_store_options o;
    ASSERT_EQ_INT(dd_store_options_init(&o, DD_STORE_OPTIONS_VERSION), DD_OK);
    o.backend = backend;
    o.path = path;
    o.must_exist = must_exist;
    return o;
}

/* A 0-byte file "empty.db" in the test's temporary directory; its path in
 * `path`. */
static void make_empty_file(char path[1100])
{
    snprintf(path, 1100, "%s/empty.db", test_tmpdir());
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    ASSERT(fd >= 0);
    close(fd);
}

TEST(test_must_exist_refuses_an_empty_file_that_a_plain_open_turns_into_a_store)
{
    char path[1100];
    make_empty_file(path);
    dd_store_options o = options(DD_BACKEND_SQLITE, path, 1);
    dd_journal *j = NULL;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_ECORRUPT);
    ASSERT(strstr(dd_error_last()->message, "empty"));
    dd_state_store *s = NULL;
    ASSERT_EQ_INT(dd_state_store_open(&s, &o), DD_ECORRUPT);
    struct stat st;
    ASSERT(stat(path, &st) == 0 && st.st_size == 0);

    o.must_exist = 0;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_OK);
    dd_journal_close(j);
    o.must_exist = 1;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_OK);
    dd_journal_close(j);
}

TEST(test_must_exist_refuses_a_missing_path_and_a_plain_folder)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/nothing-here", test_tmpdir());
    dd_store_options o = options(DD_BACKEND_SQLITE, path, 1);
    dd_journal *j = NULL;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_ENOTFOUND);
    o.backend = DD_BACKEND_FS;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_ENOTFOUND);
    ASSERT(access(path, F_OK) != 0);
    ASSERT(mkdir(path, 0700) == 0);
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_ECORRUPT);
    o = options(DD_BACKEND_MEMORY, NULL, 1);
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_EINVAL);
    o = options(DD_BACKEND_SQLITE, path, 2);
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_EINVAL);
}

/* Runs `ddata inspect path` with a 20 s alarm; returns its exit status. */
static int run_inspect(const char *path)
{
    const char *bin = getenv("DDATA_BINARY_DIR");
    char exe[1100];
    snprintf(exe, sizeof(exe), "%s/ddata", bin ? bin : "build");
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        alarm(20);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(exe, "ddata", "inspect", path, (char *)NULL);
        _exit(127);
    }
    int status;
    ASSERT(waitpid(pid, &status, 0) == pid);
    ASSERT_MSG(WIFEXITED(status), "ddata inspect '%s' did not exit (signal %d)", path,
               WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

TEST(test_inspect_refuses_empty_files_folders_and_fifos_without_writing)
{
    char path[1100];
    make_empty_file(path);
    int rc = run_inspect(path);
    ASSERT(rc != 0 && rc != 127);
    struct stat st;
    ASSERT(stat(path, &st) == 0 && st.st_size == 0);

    snprintf(path, sizeof(path), "%s/folder", test_tmpdir());
    ASSERT(mkdir(path, 0700) == 0);
    ASSERT(run_inspect(path) != 0);
    char sub[1200];
    snprintf(sub, sizeof(sub), "%s/journal", path);
    ASSERT(access(sub, F_OK) != 0);

    snprintf(path, sizeof(path), "%s/fifo.db", test_tmpdir());
    ASSERT(mkfifo(path, 0600) == 0);
    ASSERT(run_inspect(path) != 0);
}
