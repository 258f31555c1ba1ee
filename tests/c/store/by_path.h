/*
 * Stores at a path of the test's own, and raw access beneath them: the
 * tests that damage, inspect or reopen what an engine wrote open their
 * SQLite and fs stores here, and reach under them with plain SQL. Shared
 * by the store tests in this directory (a header, not a test: only
 * test_*.c become executables).
 */
#ifndef DD_TEST_STORE_BY_PATH_H
#define DD_TEST_STORE_BY_PATH_H

#include <sqlite3.h>
#include <stdio.h>

#include "store/fs_io.h"
#include "variants.h"

/* `out` = <the test's temporary directory>/<name>. */
static inline void tmp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", test_tmpdir(), name);
}

/* Runs `sql` on the SQLite file at `path` behind the engine's back. */
static inline void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    ASSERT(sqlite3_open(path, &db) == SQLITE_OK);
    char *err = NULL;
    ASSERT_MSG(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql,
               err ? err : "?");
    sqlite3_close(db);
}

/* The first column of the first row `sql` yields on the file at `path`. */
static inline long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    ASSERT(sqlite3_open(path, &db) == SQLITE_OK);
    ASSERT_MSG(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
    ASSERT(sqlite3_step(st) == SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A journal on the SQLite file at `path` (seal and o may be NULL). */
static inline journal *open_sqlite_journal(const char *path, sealer *seal, const journal_options *o)
{
    store_backend *be;
    ASSERT_OK(store_backend_open_sqlite(&be, path, NULL));
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, seal, o));
    return j;
}

/* A state store on the SQLite file at `path` (o may be NULL). */
static inline state_store *open_sqlite_state(const char *path, const sqlite_options *o)
{
    store_backend *be;
    ASSERT_OK(store_backend_open_sqlite(&be, path, o));
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    return s;
}

/* A journal on the fs store at `root` (seal may be NULL). */
static inline journal *open_fs_journal(const char *root, sealer *seal)
{
    store_backend *be;
    ASSERT_OK(store_backend_open_fs(&be, root, NULL));
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, seal, NULL));
    return j;
}

/* `out` = the path of pid "p"'s `file` in the fs store at `root`. */
static inline void fs_pid_file(char *out, size_t n, const char *root, const char *file)
{
    char id[FS_ID_MAX];
    fs_id_name((const uint8_t *)"p", 1, id);
    snprintf(out, n, "%s/journal/%s/%s", root, id, file);
}

/* Ten events for pid "p", in batches of 4, 4 and 2 (one file each on fs),
 * each `payload` tagged with `tag` unless it is NULL. */
static inline void append_ten(journal *j, const char *payload, const char *tag)
{
    const char *tags[] = {tag};
    journal_event_in ev[4];
    for (int i = 0; i < 4; i++)
        ev[i] = (journal_event_in){(const uint8_t *)payload, strlen(payload), 1, tag ? tags : NULL,
                                   tag ? 1 : 0};
    ASSERT_OK(journal_append(j, (const uint8_t *)"p", 1, 0, ev, 4));
    ASSERT_OK(journal_append(j, (const uint8_t *)"p", 1, 4, ev, 4));
    ASSERT_OK(journal_append(j, (const uint8_t *)"p", 1, 8, ev, 2));
}

#endif
