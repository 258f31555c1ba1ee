/*
 * The crash writer: appends batches to one journal forever, printing the
 * highest acknowledged sequence number after every DD_OK, until the test
 * kills it with SIGKILL at a random moment.
 *
 *   crash_writer sqlite|fs PATH
 *   crash_writer sqlite-group PATH   CRASH_GROUP_THREADS threads, each
 *                                    with its own journal on PATH and its
 *                                    own pid (crash_group_pid), so their
 *                                    appends share transactions; lines
 *                                    are "THREAD SEQ"
 *
 * It resumes from the highest sequence number it finds, so one store
 * accumulates the history of every trial.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "crash_common.h"

/* Appends batches to `pid` forever; returns only on failure. `thread` < 0
 * prints bare sequence numbers. */
static int append_forever(dd_journal *j, const char *pid, int thread)
{
    uint64_t seq;
    if (dd_journal_highest_seq(&seq, j, (const uint8_t *)pid, strlen(pid)) != DD_OK)
        return 3;
    if (thread <= 0 && write(1, "R", 1) != 1)
        return 5;
    uint8_t payloads[7][400];
    dd_append_event events[7];
    for (;;) {
        uint64_t n = crash_batch_size(seq + 1);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t s = seq + 1 + i;
            size_t len = crash_payload_len(s);
            for (size_t b = 0; b < len; b++)
                payloads[i][b] = crash_payload_byte(s, b);
            events[i] = (dd_append_event){payloads[i], len, s, NULL, 0};
        }
        int rc = dd_journal_append(j, (const uint8_t *)pid, strlen(pid), seq, events, (size_t)n);
        if (rc != DD_OK) {
            fprintf(stderr, "crash_writer: append: %s\n", dd_error_last()->message);
            return 4;
        }
        seq += n;
        /* One write per line: lines from several threads never interleave
         * (a pipe write under PIPE_BUF is atomic). */
        char line[48];
        int len = thread < 0
                      ? snprintf(line, sizeof(line), "%llu\n", (unsigned long long)seq)
                      : snprintf(line, sizeof(line), "%d %llu\n", thread, (unsigned long long)seq);
        if (write(1, line, (size_t)len) != len)
            return 5;
    }
}

typedef struct group_thread {
    const char *path;
    int index;
    pthread_barrier_t *opened;
} group_thread;

static void *group_main(void *arg)
{
    group_thread *t = arg;
    dd_journal *j;
    dd_keyring *ring;
    int rc = crash_open(&j, "sqlite", t->path, &ring);
    pthread_barrier_wait(t->opened);
    if (rc != DD_OK) {
        fprintf(stderr, "crash_writer: open: %s\n", dd_error_last()->message);
        exit(2);
    }
    char pid[32];
    crash_group_pid(pid, sizeof(pid), t->index);
    exit(append_forever(j, pid, t->index));
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 64;
    if (strcmp(argv[1], "sqlite-group") == 0) {
        pthread_t threads[CRASH_GROUP_THREADS];
        group_thread t[CRASH_GROUP_THREADS];
        pthread_barrier_t opened;
        pthread_barrier_init(&opened, NULL, CRASH_GROUP_THREADS);
        for (int i = 0; i < CRASH_GROUP_THREADS; i++) {
            t[i] = (group_thread){argv[2], i, &opened};
            if (pthread_create(&threads[i], NULL, group_main, &t[i]) != 0)
                return 6;
        }
        for (int i = 0; i < CRASH_GROUP_THREADS; i++)
            pthread_join(threads[i], NULL);
        return 7;
    }
    dd_journal *j;
    dd_keyring *ring;
    if (crash_open(&j, argv[1], argv[2], &ring) != DD_OK) {
        fprintf(stderr, "crash_writer: open: %s\n", dd_error_last()->message);
        return 2;
    }
    return append_forever(j, CRASH_PID, -1);
}
