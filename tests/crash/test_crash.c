/*
 * Crash consistency with real processes: a writer appends in a loop and is
 * killed with SIGKILL at random moments; after each kill the store must
 * open, hold every append the writer saw acknowledged (synchronous=FULL),
 * whole and byte-exact, and never half of a batch.
 *
 * 200 SQLite trials and 100 file-system trials in `make test`; DD_LONG=1
 * runs twenty times as many. The group-commit trials (100) kill a writer
 * whose threads append through journals of their own on one SQLite file,
 * so their appends share transactions; each thread's pid is checked.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash_common.h"
#include "test.h"
#include "util/rng.h"

/* Starts the writer; returns its pid and the read end of its stdout. */
static pid_t spawn_writer(const char *backend, const char *path, int *out_fd)
{
    int p[2];
    ASSERT(pipe(p) == 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(CRASH_WRITER, CRASH_WRITER, backend, path, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

/* Parses the writer's output: "R" once the store is open, then one
 * acknowledged sequence number per line, or "THREAD SEQ" from the group
 * writer (`acked` is then the highest of any thread). */
typedef struct acks {
    uint64_t acked, cur;
    int ready;
    uint64_t thread;
    int has_thread;
    uint64_t acked_by[CRASH_GROUP_THREADS];
} acks;

static void feed(acks *a, const char *buf, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == 'R') {
            a->ready = 1;
        } else if (buf[i] == ' ') {
            a->thread = a->cur;
            a->has_thread = 1;
            a->cur = 0;
        } else if (buf[i] == '\n') {
            if (a->cur > a->acked)
                a->acked = a->cur;
            if (a->has_thread && a->thread < CRASH_GROUP_THREADS && a->cur > a->acked_by[a->thread])
                a->acked_by[a->thread] = a->cur;
            a->has_thread = 0;
            a->cur = 0;
        } else {
            a->cur = a->cur * 10 + (uint64_t)(buf[i] - '0');
        }
    }
}

/* Waits (up to 10 s) until the writer has opened the store, or has
 * acknowledged its first append, so slow start-up (sanitizers) or slow
 * fsyncs (a busy disk) do not turn every trial into an early kill. */
static void wait_for(int fd, acks *a, int first_ack)
{
    char buf[256];
    while (first_ack ? a->acked == 0 : !a->ready) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            return;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        feed(a, buf, n);
    }
}

/* Drains what the (dead) writer printed; the highest acknowledged seq. */
static uint64_t read_acked(int fd, acks *a)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        feed(a, buf, n);
    }
    close(fd);
    return a->acked;
}

/* Checks the journal from `from` on (the batch boundaries always from the
 * start); returns its highest sequence number. */
static uint64_t verify_store(const char *backend, const char *path, const char *pid, uint64_t acked,
                             uint64_t from)
{
    dd_journal *j;
    dd_keyring *ring;
    ASSERT_OK(crash_open(&j, backend, path, &ring));
    uint64_t highest;
    ASSERT_OK(dd_journal_highest_seq(&highest, j, (const uint8_t *)pid, strlen(pid)));
    ASSERT_MSG(highest >= acked, "%s: acknowledged %llu but only %llu survived", pid,
               (unsigned long long)acked, (unsigned long long)highest);
    /* The highest must end a batch: walk the batch boundaries. */
    uint64_t end = 0;
    while (end < highest)
        end += crash_batch_size(end + 1);
    ASSERT_MSG(end == highest, "highest %llu is inside a batch (it ends at %llu)",
               (unsigned long long)highest, (unsigned long long)end);
    dd_journal_cursor *c;
    ASSERT_OK(
        dd_journal_replay(&c, j, (const uint8_t *)pid, strlen(pid), 1, UINT64_MAX, UINT64_MAX));
    dd_journal_event ev;
    uint64_t expect = 1;
    int rc;
    while ((rc = dd_journal_cursor_next(&ev, c)) == DD_OK) {
        ASSERT_EQ_U64(ev.seq, expect);
        ASSERT_EQ_U64(ev.len, crash_payload_len(expect));
        for (size_t i = 0; i < ev.len; i++)
            ASSERT_MSG(ev.payload[i] == crash_payload_byte(expect, i),
                       "event %llu byte %zu is wrong", (unsigned long long)expect, i);
        expect++;
    }
    ASSERT_EQ_INT(rc, DD_EDONE);
    ASSERT_EQ_U64(expect - 1, highest > from - 1 ? highest : from - 1);
    ASSERT_OK(dd_journal_cursor_close(c));
    ASSERT_OK(dd_journal_close(j));
    ASSERT_OK(dd_keyring_free(ring));
    return highest;
}

static void run_trials(const char *backend, unsigned trials)
{
    rng g;
    rng_seed(&g, test_seed() ^ (uint64_t)backend[0]);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s-store", test_tmpdir(), backend);
    int group = strcmp(backend, "sqlite-group") == 0;
    int pids = group ? CRASH_GROUP_THREADS : 1;
    uint64_t acked_total = 0, highest[CRASH_GROUP_THREADS] = {0}, events = 0;
    for (unsigned t = 0; t < trials; t++) {
        int fd;
        pid_t pid = spawn_writer(backend, path, &fd);
        /* One in ten during start-up or open, one in ten around the first
         * append, the rest in the middle of the append loop. */
        acks a;
        memset(&a, 0, sizeof(a));
        uint64_t when = rng_below(&g, 10);
        if (when == 0) {
            usleep((useconds_t)rng_below(&g, 3000));
        } else {
            wait_for(fd, &a, when > 1);
            usleep((useconds_t)rng_below(&g, 25000));
        }
        kill(pid, SIGKILL);
        int status;
        ASSERT(waitpid(pid, &status, 0) == pid);
        ASSERT_MSG(WIFSIGNALED(status), "writer exited by itself (status %d) in trial %u",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1, t);
        uint64_t acked = read_acked(fd, &a);
        events = 0;
        for (int p = 0; p < pids; p++) {
            char pid[32];
            if (group)
                crash_group_pid(pid, sizeof(pid), p);
            else
                snprintf(pid, sizeof(pid), "%s", CRASH_PID);
            /* The whole journal every 25 trials and at the end; otherwise
             * what the last trials wrote (keeps the long mode linear). */
            uint64_t from =
                (t % 25 == 0 || t + 1 == trials || highest[p] < 64) ? 1 : highest[p] - 63;
            uint64_t h = verify_store(backend, path, pid, group ? a.acked_by[p] : acked, from);
            ASSERT_MSG(h >= highest[p], "%s: highest went back from %llu to %llu", pid,
                       (unsigned long long)highest[p], (unsigned long long)h);
            highest[p] = h;
            events += h;
        }
        acked_total += acked > 0;
    }
    /* Most kills must land after appends began, or the test proves little. */
    ASSERT_MSG(acked_total >= trials / 2, "only %llu of %u trials saw an acknowledged append",
               (unsigned long long)acked_total, trials);
    fprintf(stderr, "%s: %u trials, %llu with acknowledged appends, %llu events\n", backend, trials,
            (unsigned long long)acked_total, (unsigned long long)events);
}

TEST(test_sqlite_full_sync_keeps_every_acknowledged_append)
{
    run_trials("sqlite", test_cases(200));
}

TEST(test_sqlite_group_commit_keeps_every_acknowledged_append)
{
    run_trials("sqlite-group", test_cases(100));
}

TEST(test_fs_keeps_every_acknowledged_append)
{
    run_trials("fs", test_cases(100));
}
