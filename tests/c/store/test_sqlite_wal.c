/*
 * The SQLite write-ahead log stays bounded under a long run of writes:
 * every write statement runs to completion, so SQLite's automatic
 * checkpoint (on commit) can recycle the log. A RETURNING statement
 * stepped once and reset never got there, and the -wal file grew by every
 * page ever written (82 MB after 20,000 upserts).
 */
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>

#include "by_path.h"
#include "util/error.h"

#define WAL_BOUND_BYTES (16ull << 20)

static uint64_t wal_bytes(const char *db)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s-wal", db);
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

TEST(test_wal_stays_bounded_over_100k_upserts_and_100k_appends)
{
    char db[1100];
    tmp_path(db, sizeof(db), "wal.db");
    state_store *s = open_sqlite_state(db, NULL);
    uint8_t data[256];
    memset(data, 7, sizeof(data));
    uint64_t revs[100] = {0};
    for (int i = 0; i < 100000; i++) {
        char key[16];
        int k = i % 100;
        snprintf(key, sizeof(key), "key-%02d", k);
        data[0] = (uint8_t)i;
        ASSERT_OK(state_store_upsert(s, (const uint8_t *)key, strlen(key),
                                     k % 2 ? revs[k] : STATE_ANY_REVISION, data, sizeof(data),
                                     &revs[k]));
    }
    uint64_t after_upserts = wal_bytes(db);
    ASSERT_MSG(after_upserts <= WAL_BOUND_BYTES, "wal is %llu bytes after 100,000 upserts",
               (unsigned long long)after_upserts);
    state_store_close(s);

    journal *j = open_sqlite_journal(db, NULL, NULL);
    journal_event_in ev = {data, 100, 1, NULL, 0};
    for (uint64_t seq = 0; seq < 100000; seq++)
        ASSERT_OK(journal_append(j, (const uint8_t *)"p", 1, seq, &ev, 1));
    uint64_t after_appends = wal_bytes(db);
    ASSERT_MSG(after_appends <= WAL_BOUND_BYTES, "wal is %llu bytes after 100,000 appends",
               (unsigned long long)after_appends);
    journal_close(j);
}

/* Several processes or threads opening one new file at once (the crash
 * test's group writer opens four): the first connections race to switch
 * it to WAL and create the schema. SQLite answers a lock it cannot take
 * without risking a deadlock with SQLITE_BUSY at once, whatever the busy
 * timeout, so the open itself must wait its turn. */
#define OPENERS 8

typedef struct opener {
    const char *path;
    pthread_barrier_t *start;
    int rc;
    char message[256];
} opener;

static void *open_at_once(void *arg)
{
    opener *o = arg;
    pthread_barrier_wait(o->start);
    store_backend *be = NULL;
    o->rc = store_backend_open_sqlite(&be, o->path, NULL);
    if (o->rc != ST_OK)
        snprintf(o->message, sizeof(o->message), "%s", error_message());
    else
        be->ops->close(be);
    return NULL;
}

TEST(test_threads_opening_one_new_file_at_once_all_succeed)
{
    for (int round = 0; round < 60; round++) {
        char db[1100];
        char name[32];
        snprintf(name, sizeof(name), "at-once-%d.db", round);
        tmp_path(db, sizeof(db), name);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, OPENERS);
        pthread_t t[OPENERS];
        opener o[OPENERS];
        for (int i = 0; i < OPENERS; i++) {
            o[i] = (opener){.path = db, .start = &start};
            ASSERT(pthread_create(&t[i], NULL, open_at_once, &o[i]) == 0);
        }
        for (int i = 0; i < OPENERS; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < OPENERS; i++)
            ASSERT_MSG(o[i].rc == ST_OK, "round %d opener %d: %s", round, i, o[i].message);
    }
}
