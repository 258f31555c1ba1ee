/*
 * The SQLite engine's journal: appends (one multi-row INSERT per
 * SQL_INSERT_ROWS events, under one transaction with the tag rows and the
 * highest-sequence row), replay by sequence, deletion up to a sequence, the
 * persistence id listing and the by-tag query in global order. Concurrent
 * appends to one file share transactions (sqlite_group_commit.c).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_group_commit.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/error.h"
#include "util/status.h"

static int pid_conflict(const uint8_t *pid, size_t pid_len, uint64_t expected, uint64_t found)
{
    return error_set(ST_ECONFLICT, "journal '%.*s': expected sequence %llu, found %llu",
                     error_key_len(pid_len), (const char *)pid, (unsigned long long)expected,
                     (unsigned long long)found);
}

static int read_highest(sql_backend *s, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    sqlite3_stmt *st = s->q[Q_J_HIGHEST];
    sql_bind_blob(st, 1, pid, pid_len);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sql_error(s, rc, "reading a journal");
}

/* One append in its own transaction level: BEGIN when alone, a SAVEPOINT
 * inside a group's shared transaction. */
static int append_one(sql_backend *s, const sql_append *a)
{
    const uint8_t *pid = a->pid;
    size_t pid_len = a->pid_len;
    uint64_t expected_seq = a->expected_seq;
    const store_event *events = a->events;
    size_t count = a->count;
    int rc = sql_tx_begin(s);
    if (rc != ST_OK)
        return rc;
    uint64_t highest;
    if ((rc = read_highest(s, pid, pid_len, &highest)) != ST_OK)
        goto fail;
    if (highest != expected_seq) {
        rc = pid_conflict(pid, pid_len, expected_seq, highest);
        goto fail;
    }
    sqlite3_stmt *tag = s->q[Q_J_TAG];
    for (size_t i = 0; i < count;) {
        /* Whole groups go through the multi-row statement: one VDBE sql_run
         * per SQL_INSERT_ROWS events instead of one per event. */
        size_t n = count - i >= SQL_INSERT_ROWS ? SQL_INSERT_ROWS : 1;
        int q = n == SQL_INSERT_ROWS ? Q_J_INSERT_MULTI : Q_J_INSERT;
        sqlite3_stmt *ins = s->q[q];
        for (size_t k = 0; k < n; k++) {
            const store_event *e = &events[i + k];
            int at = (int)k * 5;
            sql_bind_blob(ins, at + 1, pid, pid_len);
            sql_bind_u64(ins, at + 2, expected_seq + i + k + 1);
            sql_bind_u64(ins, at + 3, e->timestamp_ms);
            sql_bind_blob(ins, at + 4, e->payload, e->payload_len);
            if (e->tags && e->tags_len)
                sql_bind_blob(ins, at + 5, e->tags, e->tags_len);
            else
                sqlite3_bind_null(ins, at + 5);
        }
        if ((rc = sql_run(s, q)) != ST_OK)
            goto fail;
        /* Rows of one INSERT get consecutive rowids (the table is locked
         * and AUTOINCREMENT only counts up), so each event's ordering
         * follows from the last one. */
        sqlite3_int64 last = sqlite3_last_insert_rowid(s->db);
        for (size_t k = 0; k < n; k++) {
            const store_event *e = &events[i + k];
            if (!e->tags || !e->tags_len)
                continue;
            sqlite3_int64 ordering = last - (sqlite3_int64)(n - 1 - k);
            reader r;
            size_t left;
            const uint8_t *t;
            size_t tl;
            if ((rc = store_tags_begin(&r, e->tags, e->tags_len, &left)) != ST_OK)
                goto fail;
            while ((rc = store_tags_next(&r, &left, &t, &tl)) == 1) {
                sql_bind_blob(tag, 1, t, tl);
                sqlite3_bind_int64(tag, 2, ordering);
                if ((rc = sql_run(s, Q_J_TAG)) != ST_OK)
                    goto fail;
            }
            if (rc != 0)
                goto fail;
        }
        i += n;
    }
    sqlite3_stmt *meta = s->q[Q_J_META];
    sql_bind_blob(meta, 1, pid, pid_len);
    sql_bind_u64(meta, 2, expected_seq + count);
    if ((rc = sql_run(s, Q_J_META)) != ST_OK)
        goto fail;
    if ((rc = sql_tx_commit(s)) != ST_OK)
        goto fail;
    return ST_OK;
fail:
    sql_tx_rollback(s);
    return rc;
}

int sql_journal_append(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                       const store_event *events, size_t count)
{
    sql_backend *s = (sql_backend *)b;
    sql_append a; /* the message buffer is written only on failure */
    a.pid = pid;
    a.pid_len = pid_len;
    a.expected_seq = expected_seq;
    a.events = events;
    a.count = count;
    a.rc = ST_OK;
    a.done = false;
    a.next = NULL;
    if (!s->group_checked) {
        s->group = sql_group_join(s);
        s->group_checked = 1;
    }
    /* Inside a transaction of its own connection an append cannot wait
     * for another connection's commit. */
    if (!s->group || s->depth)
        return append_one(s, &a);
    return sql_group_append(s->group, s, &a, append_one);
}

static int emit_event(sqlite3_stmt *st, int first_col, const uint8_t *pid, size_t pid_len,
                      store_event_fn fn, void *ctx)
{
    store_event ev;
    ev.ordering = (uint64_t)sqlite3_column_int64(st, first_col);
    ev.seq = (uint64_t)sqlite3_column_int64(st, first_col + 1);
    ev.timestamp_ms = (uint64_t)sqlite3_column_int64(st, first_col + 2);
    ev.payload = sql_col_blob(st, first_col + 3, &ev.payload_len);
    if (sqlite3_column_type(st, first_col + 4) == SQLITE_NULL) {
        ev.tags = NULL;
        ev.tags_len = 0;
    } else {
        ev.tags = sql_col_blob(st, first_col + 4, &ev.tags_len);
    }
    ev.pid = pid;
    ev.pid_len = pid_len;
    return fn(ctx, &ev);
}

typedef struct replay_ctx {
    const uint8_t *pid;
    size_t pid_len;
    store_event_fn fn;
    void *ctx;
} replay_ctx;

static int replay_row(void *c, sqlite3_stmt *st)
{
    replay_ctx *rc = c;
    return emit_event(st, 0, rc->pid, rc->pid_len, rc->fn, rc->ctx);
}

int sql_journal_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                       uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_J_REPLAY];
    sql_bind_blob(st, 1, pid, pid_len);
    sql_bind_u64(st, 2, from);
    sql_bind_u64(st, 3, to);
    sql_bind_u64(st, 4, max);
    replay_ctx c = {pid, pid_len, fn, ctx};
    return sql_step_rows(s, st, replay_row, &c);
}

int sql_journal_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    return read_highest((sql_backend *)b, pid, pid_len, out);
}

int sql_journal_delete_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    sql_backend *s = (sql_backend *)b;
    int rc = sql_tx_begin(s);
    if (rc != ST_OK)
        return rc;
    for (int q = Q_J_DEL_TAGS; q <= Q_J_DEL_MARK; q++) {
        sql_bind_blob(s->q[q], 1, pid, pid_len);
        sql_bind_u64(s->q[q], 2, to);
        if ((rc = sql_run(s, q)) != ST_OK) {
            sql_tx_rollback(s);
            return rc;
        }
    }
    if ((rc = sql_tx_commit(s)) != ST_OK)
        sql_tx_rollback(s);
    return rc;
}

int sql_journal_deleted_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_J_DELETED_TO];
    sql_bind_blob(st, 1, pid, pid_len);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sql_error(s, rc, "reading a journal");
}

typedef struct pid_ctx {
    store_pid_fn fn;
    void *ctx;
} pid_ctx;

static int pid_row(void *c, sqlite3_stmt *st)
{
    pid_ctx *pc = c;
    size_t n;
    const uint8_t *p = sql_col_blob(st, 0, &n);
    return pc->fn(pc->ctx, p, n);
}

int sql_journal_pids(store_backend *b, const uint8_t *after, size_t after_len, uint64_t limit,
                     store_pid_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_J_PIDS];
    sql_bind_blob(st, 1, after, after_len);
    sqlite3_bind_int(st, 2, after_len ? 1 : 0);
    sql_bind_u64(st, 3, limit);
    pid_ctx c = {fn, ctx};
    return sql_step_rows(s, st, pid_row, &c);
}

static int tag_row(void *c, sqlite3_stmt *st)
{
    replay_ctx *rc = c;
    size_t n;
    const uint8_t *pid = sql_col_blob(st, 5, &n);
    return emit_event(st, 0, pid, n, rc->fn, rc->ctx);
}

int sql_journal_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                       uint64_t max, store_event_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_J_BY_TAG];
    sql_bind_blob(st, 1, tag, tag_len);
    sql_bind_u64(st, 2, after);
    sql_bind_u64(st, 3, max);
    replay_ctx c = {NULL, 0, fn, ctx};
    return sql_step_rows(s, st, tag_row, &c);
}
