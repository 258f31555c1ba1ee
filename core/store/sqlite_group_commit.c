/*
 * Group commit for journal appends on one SQLite file.
 *
 * With synchronous=FULL every commit waits for the disk, so many actors
 * each persisting one event at a time are bound by commits per second,
 * not by rows. Here concurrent appends of one process to one file share a
 * transaction: a caller queues its append and waits; a caller that finds
 * no leader running becomes the leader, takes everything queued, writes it
 * on its own connection (BEGIN IMMEDIATE, then one SAVEPOINT per append),
 * commits once and wakes the others. Appends queued meanwhile wait for the
 * next leader, so batches grow with the load and no timer adds latency.
 *
 * What a caller sees is unchanged: it returns only after the commit that
 * holds its events (the leader's connection has the same synchronous
 * mode: it is part of the group's key), an append whose expected sequence
 * does not match fails alone (its savepoint is rolled back, the others
 * still commit), and appends run in queue order, so two appends of one
 * pid keep the order their callers made them in. A batch of one runs in
 * its own transaction, exactly as without grouping. If the shared
 * transaction itself fails (BEGIN, COMMIT, or SQLite rolling it back after
 * an I/O error), every append in it that had not already failed on its
 * own gets that error: none of them is acknowledged.
 *
 * Groups live in a process-wide list keyed by (device, inode, synchronous
 * mode), reference-counted by the connections that joined them.
 */
#include "store/sqlite_group_commit.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "store/sqlite_internal.h"
#include "util/status.h"

struct sql_group {
    dev_t device;
    ino_t inode;
    int synchronous;
    unsigned refs;
    pthread_mutex_t mu;
    pthread_cond_t finished; /* a leader has finished a batch */
    bool leading;
    sql_append *head, **tail;
    sql_group *next_group;
};

static pthread_mutex_t groups_mu = PTHREAD_MUTEX_INITIALIZER;
static sql_group *groups;

static int read_synchronous(sql_backend *s, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA main.synchronous", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

sql_group *sql_group_join(sql_backend *s)
{
    const char *file = sqlite3_db_filename(s->db, "main");
    struct stat st;
    int synchronous = -1;
    if (!file || !file[0] || stat(file, &st) != 0 || read_synchronous(s, &synchronous) != SQLITE_OK)
        return NULL;
    pthread_mutex_lock(&groups_mu);
    sql_group *g = groups;
    while (g && !(g->device == st.st_dev && g->inode == st.st_ino && g->synchronous == synchronous))
        g = g->next_group;
    if (!g && (g = calloc(1, sizeof(*g))) != NULL) {
        g->device = st.st_dev;
        g->inode = st.st_ino;
        g->synchronous = synchronous;
        pthread_mutex_init(&g->mu, NULL);
        pthread_cond_init(&g->finished, NULL);
        g->tail = &g->head;
        g->next_group = groups;
        groups = g;
    }
    if (g)
        g->refs++;
    pthread_mutex_unlock(&groups_mu);
    return g;
}

void sql_group_leave(sql_group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&groups_mu);
    if (--g->refs == 0) {
        sql_group **p = &groups;
        while (*p != g)
            p = &(*p)->next_group;
        *p = g->next_group;
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->finished);
        free(g);
    }
    pthread_mutex_unlock(&groups_mu);
}

static void keep_error(sql_append *a, int rc)
{
    a->rc = rc;
    snprintf(a->message, sizeof(a->message), "%s", error_message());
}

/* Fails every append of the batch that has not failed on its own. */
static void fail_rest(sql_append *batch, int rc)
{
    for (sql_append *a = batch; a; a = a->next)
        if (a->rc == ST_OK)
            keep_error(a, rc);
}

static void run_batch(sql_backend *s, sql_append *batch, sql_append_fn fn)
{
    for (sql_append *a = batch; a; a = a->next)
        a->rc = ST_OK;
    if (!batch->next) {
        int rc = fn(s, batch);
        if (rc != ST_OK)
            keep_error(batch, rc);
        return;
    }
    int rc = sql_tx_begin(s);
    if (rc != ST_OK) {
        fail_rest(batch, rc);
        return;
    }
    for (sql_append *a = batch; a; a = a->next) {
        if ((rc = fn(s, a)) == ST_OK)
            continue;
        keep_error(a, rc);
        if (sqlite3_get_autocommit(s->db)) {
            /* SQLite rolled the whole transaction back (an I/O error, a
             * full disk): the appends before this one are gone too. */
            s->depth = 0;
            error_set(rc, "%s (the shared transaction was rolled back)", a->message);
            fail_rest(batch, rc);
            return;
        }
    }
    if ((rc = sql_tx_commit(s)) != ST_OK) {
        sql_tx_rollback(s);
        fail_rest(batch, rc);
    }
}

int sql_group_append(sql_group *g, sql_backend *s, sql_append *a, sql_append_fn fn)
{
    a->rc = ST_OK;
    a->done = false;
    a->next = NULL;
    pthread_mutex_lock(&g->mu);
    *g->tail = a;
    g->tail = &a->next;
    while (!a->done) {
        if (g->leading) {
            pthread_cond_wait(&g->finished, &g->mu);
            continue;
        }
        g->leading = true;
        sql_append *batch = g->head;
        g->head = NULL;
        g->tail = &g->head;
        pthread_mutex_unlock(&g->mu);
        run_batch(s, batch, fn);
        pthread_mutex_lock(&g->mu);
        /* Read `next` first: a follower marked done may return at once. */
        for (sql_append *b = batch, *next; b; b = next) {
            next = b->next;
            b->done = true;
        }
        g->leading = false;
        pthread_cond_broadcast(&g->finished);
    }
    pthread_mutex_unlock(&g->mu);
    if (a->rc != ST_OK)
        error_set(a->rc, "%s", a->message);
    return a->rc;
}
