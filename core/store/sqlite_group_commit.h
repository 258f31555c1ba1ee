/*
 * Group commit for the SQLite engine's journal appends: concurrent
 * appends to one database file from one process (many threads on one
 * journal, or many journals opened on the same file) share transactions.
 * See sqlite_group_commit.c for the protocol.
 */
#ifndef DD_STORE_SQLITE_GROUP_COMMIT_H
#define DD_STORE_SQLITE_GROUP_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/backend.h"
#include "util/error.h"

typedef struct sql_backend sql_backend;
typedef struct sql_group sql_group;

/* One caller's append, queued until a leader runs it. The caller owns the
 * struct and the events it points to; both stay on its stack until
 * sql_group_append returns. */
typedef struct sql_append {
    const uint8_t *pid;
    size_t pid_len;
    uint64_t expected_seq;
    const store_event *events;
    size_t count;
    /* Filled in by the group. */
    int rc;
    char message[ERROR_MESSAGE_MAX];
    bool done;
    struct sql_append *next;
} sql_append;

/* Writes one append inside the transaction level it opens itself
 * (sql_tx_begin: BEGIN alone, a SAVEPOINT inside a shared transaction);
 * on failure it has rolled that level back and set the error. */
typedef int (*sql_append_fn)(sql_backend *s, const sql_append *a);

/* The group of s's main database file (one per file, device and inode,
 * and synchronous mode, per process), or NULL when the file has none (an
 * in-memory or temporary database, or no memory): then appends run alone.
 * Each successful call takes a reference; sql_group_leave drops it. */
sql_group *sql_group_join(sql_backend *s);
void sql_group_leave(sql_group *g);

/* Queues `a` and returns once the transaction that holds it has committed
 * or failed: a->rc, also as the return value, with the error set in the
 * calling thread. Whoever finds no leader running becomes the leader and
 * writes everything queued, on its own connection `s`. */
int sql_group_append(sql_group *g, sql_backend *s, sql_append *a, sql_append_fn fn);

#endif
