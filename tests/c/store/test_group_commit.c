/*
 * Group commit on the SQLite engine (sqlite_group_commit.c): 64 threads,
 * each with its own journal on one file, append at once. Every append
 * acknowledged is there, in its pid's order; an append that conflicts
 * fails alone while the others in its shared transaction commit.
 *
 * A second connection holds the write lock while the threads start, so
 * their appends queue up behind the first leader and the rest run as one
 * shared transaction (the assertions hold whatever the batches are).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "variants.h"

#define THREADS 64
#define APPENDS 20

typedef struct worker {
    const char *path;
    int index;
    char pid[32];
    uint64_t expected; /* for the one-shot appends */
    int rounds;        /* 0: one append at `expected` */
    int rc;
    int acked;
    char message[ERROR_MESSAGE_MAX];
    pthread_barrier_t *start;
} worker;

static int open_journal(journal **out, const char *path)
{
    sqlite_options o = sqlite_options_default();
    o.sync = STORE_SYNC_FULL;
    store_backend *be;
    int rc = store_backend_open_sqlite(&be, path, &o);
    return rc == ST_OK ? journal_open_backend(out, be, NULL, NULL) : rc;
}

static void payload_of(char out[32], int thread, uint64_t seq)
{
    snprintf(out, 32, "t%d-s%llu", thread, (unsigned long long)seq);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    journal *j = NULL;
    w->rc = open_journal(&j, w->path);
    pthread_barrier_wait(w->start); /* all open */
    pthread_barrier_wait(w->start); /* the lock is held */
    if (w->rc != ST_OK)
        goto done;
    int rounds = w->rounds ? w->rounds : 1;
    for (int r = 0; r < rounds; r++) {
        uint64_t expected = w->rounds ? (uint64_t)r : w->expected;
        char p[32];
        payload_of(p, w->index, expected + 1);
        journal_event_in ev = {(const uint8_t *)p, strlen(p), (uint64_t)r, NULL, 0};
        w->rc = journal_append(j, (const uint8_t *)w->pid, strlen(w->pid), expected, &ev, 1);
        if (w->rc != ST_OK) {
            snprintf(w->message, sizeof(w->message), "%s", error_message());
            break;
        }
        w->acked++;
    }
done:
    journal_close(j);
    return NULL;
}

/* Runs the workers, each with its own journal, with the file's write lock
 * held by another connection for the first 200 ms of their appends. */
static void run_workers(const char *path, worker *w, int n)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n + 1);
    pthread_t t[THREADS];
    for (int i = 0; i < n; i++) {
        w[i].start = &start;
        w[i].path = path;
        w[i].index = i;
        ASSERT(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    }
    pthread_barrier_wait(&start);
    sqlite3 *locker;
    ASSERT(sqlite3_open(path, &locker) == SQLITE_OK);
    sqlite3_busy_timeout(locker, 5000);
    ASSERT(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    pthread_barrier_wait(&start);
    usleep(200000);
    ASSERT(sqlite3_exec(locker, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(locker);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
}

static void replay_pid(journal *j, const char *pid, events_seen *out)
{
    memset(out, 0, sizeof(*out));
    ASSERT_OK(journal_replay(j, (const uint8_t *)pid, strlen(pid), 1, UINT64_MAX, UINT64_MAX,
                             record_event, out));
}

/* Runs the workers `w` against a new store <tmp>/<name>.db whose schema
 * exists before the race; returns a journal on it, opened after. */
static journal *race(worker *w, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s.db", test_tmpdir(), name);
    journal *j;
    ASSERT_OK(open_journal(&j, path));
    journal_close(j);
    run_workers(path, w, THREADS);
    ASSERT_OK(open_journal(&j, path));
    return j;
}

TEST(test_concurrent_appends_from_64_journals_are_all_kept_in_pid_order)
{
    static worker w[THREADS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < THREADS; i++) {
        snprintf(w[i].pid, sizeof(w[i].pid), "actor-%d", i);
        w[i].rounds = APPENDS;
    }
    journal *j = race(w, "group");
    for (int i = 0; i < THREADS; i++) {
        ASSERT_MSG(w[i].rc == ST_OK, "thread %d: %s", i, w[i].message);
        ASSERT_EQ_INT(w[i].acked, APPENDS);
        events_seen r;
        replay_pid(j, w[i].pid, &r);
        ASSERT_EQ_INT(r.n, APPENDS);
        for (int k = 0; k < r.n; k++) {
            char p[32];
            payload_of(p, i, (uint64_t)k + 1);
            ASSERT_EQ_U64(r.seqs[k], (uint64_t)k + 1);
            ASSERT_STR_EQ(r.payload[k], p);
            if (k)
                ASSERT_MSG(r.ordering[k] > r.ordering[k - 1],
                           "pid %s: event %d ordered before event %d", w[i].pid, k + 1, k);
        }
    }
    journal_close(j);
}

TEST(test_conflicting_append_fails_alone_while_its_batch_commits)
{
    /* 0 and 1 race for "contested" (one wins); 2 expects 5 on a new pid
     * (always a conflict); the others append to pids of their own. */
    static worker w[THREADS];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < THREADS; i++) {
        if (i < 2)
            snprintf(w[i].pid, sizeof(w[i].pid), "contested");
        else
            snprintf(w[i].pid, sizeof(w[i].pid), "actor-%d", i);
        w[i].expected = i == 2 ? 5 : 0;
    }
    journal *j = race(w, "conflict");
    ASSERT_EQ_INT(w[2].rc, ST_ECONFLICT);
    ASSERT_MSG(strstr(w[2].message, "journal 'actor-2': expected sequence 5, found 0") != NULL,
               "message: %s", w[2].message);
    ASSERT_MSG((w[0].rc == ST_OK) != (w[1].rc == ST_OK), "contested: %d and %d", w[0].rc, w[1].rc);
    int loser = w[0].rc == ST_OK ? 1 : 0;
    ASSERT_EQ_INT(w[loser].rc, ST_ECONFLICT);
    events_seen r;
    replay_pid(j, "contested", &r);
    ASSERT_EQ_INT(r.n, 1);
    char p[32];
    payload_of(p, 1 - loser, 1);
    ASSERT_STR_EQ(r.payload[0], p);
    replay_pid(j, "actor-2", &r);
    ASSERT_EQ_INT(r.n, 0);
    for (int i = 3; i < THREADS; i++) {
        ASSERT_MSG(w[i].rc == ST_OK, "thread %d: %s", i, w[i].message);
        replay_pid(j, w[i].pid, &r);
        ASSERT_EQ_INT(r.n, 1);
        payload_of(p, i, 1);
        ASSERT_STR_EQ(r.payload[0], p);
    }
    journal_close(j);
}
