/*
 * Bad bytes on disk: a tampered or moved sealed record, a wrong key, a
 * damaged database page. Each gives a clear error, never a crash, never
 * an overwrite, and the other records stay readable.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "by_path.h"

#define K(str) (const uint8_t *)(str), strlen(str)

static state_store *open_sealed(const char *path, uint8_t salt)
{
    keyring *k;
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i + salt);
    ASSERT_OK(keyring_new(&k));
    ASSERT_OK(keyring_add(k, 1, key, 32));
    sealer *seal;
    ASSERT_OK(sealer_new(&seal, k, NULL));
    keyring_release(k);
    store_backend *be;
    ASSERT_OK(store_backend_open_sqlite(&be, path, NULL));
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, seal));
    return s;
}

/* A closed sealed store at <tmpdir>/<name> holding a=alpha and b=bravo,
 * for a test to damage. */
static void write_two_records(char path[1024], const char *name)
{
    tmp_path(path, 1024, name);
    state_store *s = open_sealed(path, 0);
    ASSERT_OK(state_store_upsert(s, K("a"), 0, K("alpha"), NULL));
    ASSERT_OK(state_store_upsert(s, K("b"), 0, K("bravo"), NULL));
    state_store_close(s);
}

TEST(test_tampered_record_is_ecrypto_and_others_readable)
{
    char path[1024];
    write_two_records(path, "tamper.db");
    /* Flip one bit in the middle of a's sealed record. */
    sqlite3 *db;
    ASSERT(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st;
    ASSERT(sqlite3_prepare_v2(db, "SELECT data FROM state WHERE key = CAST('a' AS BLOB)", -1, &st,
                              NULL) == SQLITE_OK);
    ASSERT(sqlite3_step(st) == SQLITE_ROW);
    uint8_t blob[256];
    int n = sqlite3_column_bytes(st, 0);
    ASSERT(n > 20 && n < (int)sizeof(blob));
    memcpy(blob, sqlite3_column_blob(st, 0), (size_t)n);
    sqlite3_finalize(st);
    blob[n / 2] ^= 0x10;
    ASSERT(sqlite3_prepare_v2(db, "UPDATE state SET data = ?1 WHERE key = CAST('a' AS BLOB)", -1,
                              &st, NULL) == SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, n, SQLITE_STATIC);
    ASSERT(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    state_store *s = open_sealed(path, 0);
    bytes b = BYTES_INIT;
    int rc = state_store_get(s, K("a"), NULL, &b);
    ASSERT_MSG(rc == ST_ECRYPTO || rc == ST_ECORRUPT, "rc %d", rc);
    expect_state(s, "b", 0, "bravo");
    bytes_free(&b);
    state_store_close(s);
}

TEST(test_record_copied_to_another_key_fails_to_open)
{
    char path[1024];
    write_two_records(path, "moved.db");
    raw_exec(path, "UPDATE state SET data = (SELECT data FROM state WHERE key = CAST('a' AS "
                   "BLOB)) WHERE key = CAST('b' AS BLOB)");
    state_store *s = open_sealed(path, 0);
    ASSERT_STATUS(state_store_get(s, K("b"), NULL, NULL), ST_OK); /* no state asked */
    bytes out = BYTES_INIT;
    ASSERT_STATUS(state_store_get(s, K("b"), NULL, &out), ST_ECRYPTO);
    expect_state(s, "a", 0, "alpha");
    bytes_free(&out);
    state_store_close(s);
}

TEST(test_wrong_key_reads_fail_and_write_nothing)
{
    char path[1024];
    tmp_path(path, sizeof(path), "wrongkey.db");
    state_store *s = open_sealed(path, 0);
    ASSERT_OK(state_store_upsert(s, K("a"), 0, K("alpha"), NULL));
    state_store_close(s);
    s = open_sealed(path, 77);
    bytes out = BYTES_INIT;
    ASSERT_STATUS(state_store_get(s, K("a"), NULL, &out), ST_ECRYPTO);
    ASSERT(strstr(test_last_error(), "state 'a'") != NULL);
    bytes_free(&out);
    state_store_close(s);
    s = open_sealed(path, 0);
    expect_state(s, "a", 0, "alpha");
    state_store_close(s);
}

/* Counters of replayed events and scanned records. */
static int count_event(void *ctx, const store_event *ev)
{
    (void)ev;
    ++*(int *)ctx;
    return 0;
}

static int count_rec(void *ctx, const uint8_t *key, size_t key_len, uint64_t rev,
                     const uint8_t *state, size_t len)
{
    (void)key, (void)key_len, (void)rev, (void)state, (void)len;
    ++*(int *)ctx;
    return 0;
}

TEST(test_tampered_event_fails_replay_of_that_pid_only)
{
    char path[1024];
    tmp_path(path, sizeof(path), "events.db");
    keyring *k;
    uint8_t key[32] = {1, 2, 3};
    ASSERT_OK(keyring_new(&k));
    ASSERT_OK(keyring_add(k, 1, key, 32));
    for (int round = 0; round < 2; round++) {
        sealer *seal;
        ASSERT_OK(sealer_new(&seal, k, NULL));
        journal *j = open_sqlite_journal(path, seal, NULL);
        if (round == 0) {
            journal_event_in ev = {(const uint8_t *)"payload", 7, 5, NULL, 0};
            ASSERT_OK(journal_append(j, K("x"), 0, &ev, 1));
            ASSERT_OK(journal_append(j, K("y"), 0, &ev, 1));
        } else {
            int n = 0;
            ASSERT_STATUS(journal_replay(j, K("x"), 1, UINT64_MAX, UINT64_MAX, count_event, &n),
                          ST_ECRYPTO);
            ASSERT_OK(journal_replay(j, K("y"), 1, UINT64_MAX, UINT64_MAX, count_event, &n));
            ASSERT_EQ_INT(n, 1);
        }
        journal_close(j);
        if (round == 0) /* the timestamp is bound too: change it */
            raw_exec(path, "UPDATE journal SET ts = 6 WHERE pid = CAST('x' AS BLOB)");
    }
    keyring_release(k);
}

TEST(test_damaged_database_page_is_ecorrupt_not_a_crash)
{
    char path[1024];
    tmp_path(path, sizeof(path), "damaged.db");
    state_store *s;
    ASSERT_OK(state_store_open_sqlite(&s, path, NULL));
    char val[200];
    memset(val, 'v', sizeof(val));
    ASSERT_OK(state_store_begin(s));
    for (int i = 0; i < 2000; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key%05d", i);
        ASSERT_OK(state_store_upsert(s, K(key), 0, (const uint8_t *)val, sizeof(val), NULL));
    }
    ASSERT_OK(state_store_commit(s));
    state_store_close(s); /* the last close checkpoints the WAL into the file */
    int fd = open(path, O_RDWR);
    ASSERT(fd >= 0);
    off_t size = lseek(fd, 0, SEEK_END);
    ASSERT(size > 40960);
    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 31 + 7);
    /* Damage pages in the middle of the file (not the header page). */
    for (off_t at = 8192; at < size; at += 4096 * 4)
        ASSERT(pwrite(fd, junk, sizeof(junk), at) == (ssize_t)sizeof(junk));
    close(fd);
    int rc = state_store_open_sqlite(&s, path, NULL);
    if (rc == ST_OK) {
        int rows = 0;
        rc = state_store_scan(s, NULL, 0, count_rec, &rows);
        ASSERT_MSG(rc == ST_ECORRUPT, "scan over damaged pages returned %d after %d rows", rc,
                   rows);
        ASSERT(strstr(test_last_error(), "damaged.db") != NULL);
        state_store_close(s);
    } else {
        ASSERT_EQ_INT(rc, ST_ECORRUPT);
    }
}

TEST(test_newer_schema_is_refused_not_misread)
{
    char path[1024];
    tmp_path(path, sizeof(path), "future.db");
    state_store *s;
    ASSERT_OK(state_store_open_sqlite(&s, path, NULL));
    ASSERT_OK(state_store_upsert(s, K("a"), 0, K("alpha"), NULL));
    state_store_close(s);
    int current = (int)raw_int(path, "PRAGMA user_version");
    raw_exec(path, "PRAGMA user_version = 99");
    ASSERT_STATUS(state_store_open_sqlite(&s, path, NULL), ST_EUNSUPPORTED);
    ASSERT(strstr(test_last_error(), "schema version 99") != NULL);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", current);
    raw_exec(path, sql);
    ASSERT_OK(state_store_open_sqlite(&s, path, NULL));
    expect_state(s, "a", 0, "alpha");
    state_store_close(s);
}

TEST(test_not_a_database_is_ecorrupt)
{
    char path[1024];
    tmp_path(path, sizeof(path), "garbage.db");
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    for (int i = 0; i < 8192; i++)
        fputc((i * 131) & 0xff, f);
    fclose(f);
    state_store *s;
    ASSERT_STATUS(state_store_open_sqlite(&s, path, NULL), ST_ECORRUPT);
}
