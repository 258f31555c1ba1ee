/*
 * The SQLite write-ahead log stays bounded under a long run of writes:
 * every write statement runs to completion, so SQLite's automatic
 * checkpoint (on commit) can recycle the log. A RETURNING statement
 * stepped once and reset never got there, and the -wal file grew by every
 * page ever written (82 MB after 20,000 upserts).
 */
#include <string.h>
#include <sys/stat.h>

#include "by_path.h"

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
