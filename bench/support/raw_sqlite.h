/*
 * The raw-SQLite baselines of the store benchmarks (bench_store.c,
 * bench_group_commit.c) append with the very statements the engine runs
 * (core/store/sqlite_journal.c) and no layer between: prepared here once
 * for both, so the two baselines cannot drift apart.
 */
#ifndef DD_BENCH_RAW_SQLITE_H
#define DD_BENCH_RAW_SQLITE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

/* Prepares sql on db with prepare flags (0, or SQLITE_PREPARE_PERSISTENT);
 * exits the benchmark on failure. */
static inline sqlite3_stmt *raw_prepare(sqlite3 *db, const char *sql, unsigned flags)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, flags, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "raw sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    return st;
}

/* The statements of one append: BEGIN IMMEDIATE, read the highest
 * sequence number, insert the event, update the highest, COMMIT. */
static inline void raw_prepare_append(sqlite3 *db, unsigned flags, sqlite3_stmt **begin,
                                      sqlite3_stmt **commit, sqlite3_stmt **highest,
                                      sqlite3_stmt **insert, sqlite3_stmt **meta)
{
    *begin = raw_prepare(db, "BEGIN IMMEDIATE", flags);
    *commit = raw_prepare(db, "COMMIT", flags);
    *highest = raw_prepare(db, "SELECT highest FROM journal_meta WHERE pid = ?1", flags);
    *insert = raw_prepare(db,
                          "INSERT INTO journal(pid, seq, ts, payload, tags) VALUES(?1, ?2, ?3, ?4, "
                          "NULL)",
                          flags);
    *meta = raw_prepare(db,
                        "INSERT INTO journal_meta(pid, highest) VALUES(?1, ?2) ON CONFLICT(pid) DO "
                        "UPDATE SET highest = excluded.highest",
                        flags);
}

#endif
