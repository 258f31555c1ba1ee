/*
 * The PostgreSQL engine under concurrency, against a real server: appends
 * to one pid from many connections (threads, then processes) where each
 * sequence number has exactly one winner and batches never interleave,
 * and a by-tag reader tailing concurrent writers that must see every
 * event exactly once (the ordering is handed out in commit order).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/journal.h"
#include "util/rng.h"
#include "variants.h"

#define PID(str) (const uint8_t *)(str), strlen(str)

/* A journal on the schema of `dir` (fresh_dir made it). */
static int open_pg_journal(const char *dir, journal **out)
{
    store_backend *be;
    int rc = open_engine_status(V_POSTGRES, dir, &be);
    if (rc != ST_OK)
        return rc;
    return journal_open_backend(out, be, NULL, NULL);
}

/* A writer thread or process of either story: `write` runs on the
 * writer's own connection and random stream. */
typedef struct writer writer;
struct writer {
    void (*write)(writer *w, journal *j, rng *g);
    const char *dir;
    int id;
    uint64_t seed;
    int batches; /* batches to win (same_pid_writer) */
    int wins, conflicts, failures;
};

static void *writer_main(void *arg)
{
    writer *w = arg;
    journal *j;
    if (open_pg_journal(w->dir, &j) != ST_OK) {
        w->failures++;
        return NULL;
    }
    rng g;
    rng_seed(&g, w->seed);
    w->write(w, j, &g);
    journal_close(j);
    return NULL;
}

/* Appends batches of 1..3 events "w<id>b<n>e<k>" to pid "shared", reading
 * the highest sequence number before each try. */
static void same_pid_writer(writer *w, journal *j, rng *g)
{
    while (w->wins < w->batches && w->failures == 0) {
        uint64_t h;
        if (journal_highest(j, PID("shared"), &h) != ST_OK) {
            w->failures++;
            break;
        }
        int n = 1 + (int)rng_below(g, 3);
        char payload[3][32];
        journal_event_in ev[3];
        for (int k = 0; k < n; k++) {
            snprintf(payload[k], sizeof(payload[k]), "w%db%de%d/%d", w->id, w->wins, k, n);
            ev[k] = (journal_event_in){(const uint8_t *)payload[k], strlen(payload[k]), 1, NULL, 0};
        }
        int rc = journal_append(j, PID("shared"), h, ev, (size_t)n);
        if (rc == ST_OK)
            w->wins++;
        else if (rc == ST_ECONFLICT)
            w->conflicts++;
        else
            w->failures++;
    }
}

typedef struct batch_check {
    uint64_t next_seq;
    int in_batch, batch_len, batch_writer, batch_no, events;
    int bad;
    char why[160];
} batch_check;

/* Every event continues the sequence, and every batch's events are
 * contiguous and complete: e0..e(n-1) of one writer's batch, in order. */
static int check_event(void *ctx, const store_event *ev)
{
    batch_check *c = ctx;
    char text[40];
    size_t n = ev->payload_len < sizeof(text) - 1 ? ev->payload_len : sizeof(text) - 1;
    memcpy(text, ev->payload, n);
    text[n] = 0;
    int w, b, e, len;
    if (ev->seq != c->next_seq || sscanf(text, "w%db%de%d/%d", &w, &b, &e, &len) != 4) {
        snprintf(c->why, sizeof(c->why), "seq %llu (expected %llu): '%s'",
                 (unsigned long long)ev->seq, (unsigned long long)c->next_seq, text);
        c->bad = 1;
        return 1;
    }
    if (c->in_batch
            ? (w != c->batch_writer || b != c->batch_no || e != c->in_batch || len != c->batch_len)
            : e != 0) {
        snprintf(c->why, sizeof(c->why), "seq %llu: '%s' interleaves another batch",
                 (unsigned long long)ev->seq, text);
        c->bad = 1;
        return 1;
    }
    c->batch_writer = w;
    c->batch_no = b;
    c->batch_len = len;
    c->in_batch = e + 1 == len ? 0 : e + 1;
    c->next_seq++;
    c->events++;
    return 0;
}

static void expect_whole_batches(const char *dir, int total_wins)
{
    journal *j;
    ASSERT_OK(open_pg_journal(dir, &j));
    batch_check c = {.next_seq = 1};
    ASSERT_OK(journal_replay(j, PID("shared"), 1, UINT64_MAX, UINT64_MAX, check_event, &c));
    ASSERT_MSG(!c.bad, "%s", c.why);
    ASSERT_EQ_INT(c.in_batch, 0);
    uint64_t h;
    ASSERT_OK(journal_highest(j, PID("shared"), &h));
    ASSERT_EQ_U64(h, (uint64_t)c.events);
    (void)total_wins;
    journal_close(j);
}

TEST(test_same_pid_appends_from_threads_have_one_winner_per_sequence)
{
    char dir[1024];
    fresh_dir(dir, sizeof(dir), V_POSTGRES, "threads");
    journal *j;
    ASSERT_OK(open_pg_journal(dir, &j)); /* creates the schema once */
    enum { THREADS = 8 };
    writer w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (writer){same_pid_writer, dir, i, test_seed() + (uint64_t)i, 40, 0, 0, 0};
        ASSERT(pthread_create(&t[i], NULL, writer_main, &w[i]) == 0);
    }
    int wins = 0, conflicts = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ASSERT_MSG(w[i].failures == 0, "writer %d failed", i);
        wins += w[i].wins;
        conflicts += w[i].conflicts;
    }
    ASSERT_EQ_INT(wins, THREADS * 40);
    printf("  %d batches won, %d conflicts\n", wins, conflicts);
    journal_close(j);
    expect_whole_batches(dir, wins);
}

TEST(test_same_pid_appends_from_two_processes_have_one_winner_per_sequence)
{
    char dir[1024];
    fresh_dir(dir, sizeof(dir), V_POSTGRES, "procs");
    journal *j;
    ASSERT_OK(open_pg_journal(dir, &j));
    journal_close(j);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        ASSERT(kids[i] >= 0);
        if (kids[i] == 0) {
            writer w = {same_pid_writer, dir, i, test_seed() + 100 + (uint64_t)i, 150, 0, 0, 0};
            writer_main(&w);
            _exit(w.failures == 0 && w.wins == 150 ? 0 : 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status;
        ASSERT(waitpid(kids[i], &status, 0) == kids[i]);
        ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer process %d failed", i);
    }
    expect_whole_batches(dir, 300);
}

enum { TAIL_WRITERS = 4, TAIL_EVENTS = 300 };

/* Appends TAIL_EVENTS events tagged "tail" to its own pid, in batches of
 * 1..4; every third event also carries "other". */
static void tagged_writer(writer *w, journal *j, rng *g)
{
    char pid[16];
    snprintf(pid, sizeof(pid), "tw%d", w->id);
    const char *tail_only[] = {"tail"}, *both[] = {"tail", "other"};
    for (int done = 0; done < TAIL_EVENTS;) {
        int n = 1 + (int)rng_below(g, 4);
        if (n > TAIL_EVENTS - done)
            n = TAIL_EVENTS - done;
        journal_event_in ev[4];
        char payload[4][16];
        for (int k = 0; k < n; k++) {
            int seq = done + k + 1;
            snprintf(payload[k], sizeof(payload[k]), "%d", seq);
            ev[k] = (journal_event_in){(const uint8_t *)payload[k], strlen(payload[k]), 1,
                                       seq % 3 ? tail_only : both, seq % 3 ? 1u : 2u};
        }
        if (journal_append(j, PID(pid), (uint64_t)done, ev, (size_t)n) != ST_OK) {
            w->failures++;
            break;
        }
        done += n;
    }
}

typedef struct tail_state {
    unsigned char seen[TAIL_WRITERS][TAIL_EVENTS + 1];
    uint64_t after;
    int total, bad;
    char why[160];
} tail_state;

static int tail_event(void *ctx, const store_event *ev)
{
    tail_state *s = ctx;
    int w = -1;
    char pid[16] = {0};
    memcpy(pid, ev->pid, ev->pid_len < 15 ? ev->pid_len : 15);
    if (sscanf(pid, "tw%d", &w) != 1 || w < 0 || w >= TAIL_WRITERS || ev->seq < 1 ||
        ev->seq > TAIL_EVENTS || ev->ordering <= s->after) {
        snprintf(s->why, sizeof(s->why), "unexpected event %s/%llu at ordering %llu", pid,
                 (unsigned long long)ev->seq, (unsigned long long)ev->ordering);
        s->bad = 1;
        return 1;
    }
    if (s->seen[w][ev->seq]++) {
        snprintf(s->why, sizeof(s->why), "event %s/%llu seen twice", pid,
                 (unsigned long long)ev->seq);
        s->bad = 1;
        return 1;
    }
    s->after = ev->ordering;
    s->total++;
    return 0;
}

TEST(test_tailing_by_tag_reader_sees_every_event_exactly_once)
{
    char dir[1024];
    fresh_dir(dir, sizeof(dir), V_POSTGRES, "tail");
    journal *reader;
    ASSERT_OK(open_pg_journal(dir, &reader));
    writer w[TAIL_WRITERS];
    pthread_t t[TAIL_WRITERS];
    for (int i = 0; i < TAIL_WRITERS; i++) {
        w[i] = (writer){tagged_writer, dir, i, test_seed() + 7 * (uint64_t)i, 0, 0, 0, 0};
        ASSERT(pthread_create(&t[i], NULL, writer_main, &w[i]) == 0);
    }
    /* Resume after the last ordering seen, in small pages, while the
     * writers commit: an event committed with a smaller ordering after a
     * larger one became visible would be skipped for good. */
    static tail_state s;
    memset(&s, 0, sizeof(s));
    int polls = 0;
    while (s.total < TAIL_WRITERS * TAIL_EVENTS && polls < 200000) {
        ASSERT_OK(journal_by_tag(reader, "tail", s.after, 7, tail_event, &s));
        ASSERT_MSG(!s.bad, "%s", s.why);
        polls++;
    }
    for (int i = 0; i < TAIL_WRITERS; i++) {
        pthread_join(t[i], NULL);
        ASSERT_MSG(w[i].failures == 0, "writer %d failed", i);
    }
    /* Whatever a final read finds beyond the tail was skipped: there must
     * be nothing. */
    ASSERT_OK(journal_by_tag(reader, "tail", s.after, UINT64_MAX, tail_event, &s));
    ASSERT_MSG(!s.bad, "%s", s.why);
    ASSERT_EQ_INT(s.total, TAIL_WRITERS * TAIL_EVENTS);
    printf("  %d events tailed in %d polls\n", s.total, polls);
    journal_close(reader);
}
