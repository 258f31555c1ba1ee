/*
 * The SQLite engine: the embedded default.
 *
 * One connection per opened store, in WAL mode (readers never block the
 * writer), `synchronous` as configured (NORMAL: survives a process crash;
 * FULL: survives power loss, so "acknowledged" means "on disk"), a busy
 * timeout so several processes can share the file, and BEGIN IMMEDIATE
 * for multi-statement writes so two writers never deadlock upgrading a
 * read lock. Every statement is prepared once at open and reused.
 *
 * Schema (PRAGMA user_version counts the migrations applied; a newer file
 * than this library knows is refused rather than misread):
 *
 *   journal(ordering INTEGER PRIMARY KEY AUTOINCREMENT, pid, seq, ts,
 *           payload, tags)  + UNIQUE(pid, seq)
 *       AUTOINCREMENT, not a plain rowid, because `ordering` is the global
 *       order projections resume from and must never be reused after a
 *       deletion. Writers are serialised, so a committed ordering is never
 *       overtaken by a smaller one committed later.
 *   journal_meta(pid PRIMARY KEY, highest)  -- survives deletion, so the
 *       highest sequence number never decreases
 *   event_tags(tag, ordering) PRIMARY KEY(tag, ordering)
 *   snapshots(pid, seq, ts, data) PRIMARY KEY(pid, seq)
 *       in the same file, or in a second one ATTACHed as `snap`
 *   state(key PRIMARY KEY, revision, data)
 *
 * State writes are single statements (compare-and-set in the WHERE
 * clause), so they need no explicit transaction outside a batch.
 */
#include "store/sqlite_backend.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/tags.h"
#include "util/error.h"
#include "util/status.h"

#define SCHEMA_VERSION 1
/* Rows per multi-row journal INSERT. */
#define INSERT_ROWS 16

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_J_HIGHEST,
    Q_J_INSERT,
    Q_J_INSERT_MULTI,
    Q_J_TAG,
    Q_J_META,
    Q_J_REPLAY,
    Q_J_DEL_TAGS,
    Q_J_DEL,
    Q_J_PIDS,
    Q_J_BY_TAG,
    Q_S_SAVE,
    Q_S_FIND,
    Q_S_DELETE,
    Q_S_PRUNE,
    Q_K_GET,
    Q_K_INSERT,
    Q_K_UPDATE,
    Q_K_ANY,
    Q_K_DELETE,
    Q_K_SCAN,
    Q_K_RANGE_FWD,
    Q_K_RANGE_REV,
    Q_K_PURGE,
    Q_COUNT
};

typedef struct sql_backend {
    store_backend base;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    int depth; /* open transaction levels (BEGIN, then SAVEPOINTs) */
    char *path;
} sql_backend;

static int map_sqlite(sql_backend *s, int src, const char *what)
{
    int code;
    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = ST_EBUSY; break;
    case SQLITE_NOMEM: code = ST_ENOMEM; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = ST_ECORRUPT; break;
    case SQLITE_CONSTRAINT: code = ST_ECONFLICT; break;
    case SQLITE_TOOBIG: code = ST_ELIMIT; break;
    default: code = ST_EIO; break;
    }
    return error_set(code, "sqlite '%s': %s: %s", s->path ? s->path : "?", what,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src));
}

static int exec(sql_backend *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? ST_OK : map_sqlite(s, rc, "executing a statement");
}

static int run(sql_backend *s, int q)
{
    sqlite3_stmt *st = s->q[q];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? ST_OK : map_sqlite(s, rc, "writing");
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    /* A zero-length blob must still be a blob (not NULL): keys compare
     * by type first. */
    sqlite3_bind_blob64(st, i, n ? p : "", n, SQLITE_STATIC);
}

static const uint8_t *col_blob(sqlite3_stmt *st, int i, size_t *len)
{
    const uint8_t *p = sqlite3_column_blob(st, i);
    *len = (size_t)sqlite3_column_bytes(st, i);
    return p ? p : (const uint8_t *)"";
}

static int tx_begin(sql_backend *s)
{
    int rc = run(s, s->depth ? Q_SAVEPOINT : Q_BEGIN);
    if (rc == ST_OK)
        s->depth++;
    return rc;
}

static int tx_commit(sql_backend *s)
{
    int rc = run(s, s->depth > 1 ? Q_RELEASE : Q_COMMIT);
    if (rc == ST_OK)
        s->depth--;
    return rc;
}

static void tx_rollback(sql_backend *s)
{
    int saved = error_code();
    char msg[ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), "%s", error_message());
    if (s->depth > 1) {
        run(s, Q_ROLLBACK_TO);
        run(s, Q_RELEASE);
    } else if (!sqlite3_get_autocommit(s->db)) {
        run(s, Q_ROLLBACK);
    }
    s->depth--;
    error_set(saved, "%s", msg);
}

static int pid_conflict(const uint8_t *pid, size_t pid_len, uint64_t expected, uint64_t found)
{
    return error_set(ST_ECONFLICT, "journal '%.*s': expected sequence %llu, found %llu",
                     (int)(pid_len > 64 ? 64 : pid_len), (const char *)pid,
                     (unsigned long long)expected, (unsigned long long)found);
}

static int read_highest(sql_backend *s, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    sqlite3_stmt *st = s->q[Q_J_HIGHEST];
    bind_blob(st, 1, pid, pid_len);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : map_sqlite(s, rc, "reading a journal");
}

static int sql_journal_append(store_backend *b, const uint8_t *pid, size_t pid_len,
                              uint64_t expected_seq, const store_event *events, size_t count)
{
    sql_backend *s = (sql_backend *)b;
    int rc = tx_begin(s);
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
        /* Whole groups go through the multi-row statement: one VDBE run
         * per INSERT_ROWS events instead of one per event. */
        size_t n = count - i >= INSERT_ROWS ? INSERT_ROWS : 1;
        int q = n == INSERT_ROWS ? Q_J_INSERT_MULTI : Q_J_INSERT;
        sqlite3_stmt *ins = s->q[q];
        for (size_t k = 0; k < n; k++) {
            const store_event *e = &events[i + k];
            int at = (int)k * 5;
            bind_blob(ins, at + 1, pid, pid_len);
            bind_u64(ins, at + 2, expected_seq + i + k + 1);
            bind_u64(ins, at + 3, e->timestamp_ms);
            bind_blob(ins, at + 4, e->payload, e->payload_len);
            if (e->tags && e->tags_len)
                bind_blob(ins, at + 5, e->tags, e->tags_len);
            else
                sqlite3_bind_null(ins, at + 5);
        }
        if ((rc = run(s, q)) != ST_OK)
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
                bind_blob(tag, 1, t, tl);
                sqlite3_bind_int64(tag, 2, ordering);
                if ((rc = run(s, Q_J_TAG)) != ST_OK)
                    goto fail;
            }
            if (rc != 0)
                goto fail;
        }
        i += n;
    }
    sqlite3_stmt *meta = s->q[Q_J_META];
    bind_blob(meta, 1, pid, pid_len);
    bind_u64(meta, 2, expected_seq + count);
    if ((rc = run(s, Q_J_META)) != ST_OK)
        goto fail;
    if ((rc = tx_commit(s)) != ST_OK)
        goto fail;
    return ST_OK;
fail:
    tx_rollback(s);
    return rc;
}

static int emit_event(sqlite3_stmt *st, int first_col, const uint8_t *pid, size_t pid_len,
                      store_event_fn fn, void *ctx)
{
    store_event ev;
    ev.ordering = (uint64_t)sqlite3_column_int64(st, first_col);
    ev.seq = (uint64_t)sqlite3_column_int64(st, first_col + 1);
    ev.timestamp_ms = (uint64_t)sqlite3_column_int64(st, first_col + 2);
    ev.payload = col_blob(st, first_col + 3, &ev.payload_len);
    if (sqlite3_column_type(st, first_col + 4) == SQLITE_NULL) {
        ev.tags = NULL;
        ev.tags_len = 0;
    } else {
        ev.tags = col_blob(st, first_col + 4, &ev.tags_len);
    }
    ev.pid = pid;
    ev.pid_len = pid_len;
    return fn(ctx, &ev);
}

/* Steps a query, handing each row to emit; resets the statement. */
static int step_rows(sql_backend *s, sqlite3_stmt *st, int (*row)(void *, sqlite3_stmt *),
                     void *ctx)
{
    int rc, out = ST_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((out = row(ctx, st)) != 0)
            break;
    }
    if (out == ST_OK && rc != SQLITE_DONE)
        out = map_sqlite(s, rc, "reading");
    sqlite3_reset(st);
    return out;
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

static int sql_journal_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                              uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_J_REPLAY];
    bind_blob(st, 1, pid, pid_len);
    bind_u64(st, 2, from);
    bind_u64(st, 3, to);
    bind_u64(st, 4, max);
    replay_ctx c = {pid, pid_len, fn, ctx};
    return step_rows(s, st, replay_row, &c);
}

static int sql_journal_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    return read_highest((sql_backend *)b, pid, pid_len, out);
}

static int sql_journal_delete_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    sql_backend *s = (sql_backend *)b;
    int rc = tx_begin(s);
    if (rc != ST_OK)
        return rc;
    for (int q = Q_J_DEL_TAGS; q <= Q_J_DEL; q++) {
        bind_blob(s->q[q], 1, pid, pid_len);
        bind_u64(s->q[q], 2, to);
        if ((rc = run(s, q)) != ST_OK) {
            tx_rollback(s);
            return rc;
        }
    }
    if ((rc = tx_commit(s)) != ST_OK)
        tx_rollback(s);
    return rc;
}

typedef struct pid_ctx {
    store_pid_fn fn;
    void *ctx;
} pid_ctx;

static int pid_row(void *c, sqlite3_stmt *st)
{
    pid_ctx *pc = c;
    size_t n;
    const uint8_t *p = col_blob(st, 0, &n);
    return pc->fn(pc->ctx, p, n);
}

static int sql_journal_pids(store_backend *b, const uint8_t *after, size_t after_len,
                            uint64_t limit, store_pid_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_J_PIDS];
    bind_blob(st, 1, after, after_len);
    sqlite3_bind_int(st, 2, after_len ? 1 : 0);
    bind_u64(st, 3, limit);
    pid_ctx c = {fn, ctx};
    return step_rows(s, st, pid_row, &c);
}

static int tag_row(void *c, sqlite3_stmt *st)
{
    replay_ctx *rc = c;
    size_t n;
    const uint8_t *pid = col_blob(st, 5, &n);
    return emit_event(st, 0, pid, n, rc->fn, rc->ctx);
}

static int sql_journal_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                              uint64_t max, store_event_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_J_BY_TAG];
    bind_blob(st, 1, tag, tag_len);
    bind_u64(st, 2, after);
    bind_u64(st, 3, max);
    replay_ctx c = {NULL, 0, fn, ctx};
    return step_rows(s, st, tag_row, &c);
}

static int sql_snapshot_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                             uint64_t ts, const uint8_t *data, size_t len)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_S_SAVE];
    bind_blob(st, 1, pid, pid_len);
    bind_u64(st, 2, seq);
    bind_u64(st, 3, ts);
    bind_blob(st, 4, data, len);
    return run(s, Q_S_SAVE);
}

static void bind_criteria(sqlite3_stmt *st, const uint8_t *pid, size_t pid_len,
                          const snapshot_criteria *c)
{
    bind_blob(st, 1, pid, pid_len);
    bind_u64(st, 2, c->min_seq);
    bind_u64(st, 3, c->max_seq);
    bind_u64(st, 4, c->min_ts);
    bind_u64(st, 5, c->max_ts);
}

typedef struct snap_ctx {
    store_snapshot_fn fn;
    void *ctx;
    int any;
} snap_ctx;

static int snap_row(void *c, sqlite3_stmt *st)
{
    snap_ctx *sc = c;
    store_snapshot snap;
    sc->any = 1;
    snap.seq = (uint64_t)sqlite3_column_int64(st, 0);
    snap.timestamp_ms = (uint64_t)sqlite3_column_int64(st, 1);
    snap.data = col_blob(st, 2, &snap.len);
    return sc->fn(sc->ctx, &snap);
}

static int sql_snapshot_find(store_backend *b, const uint8_t *pid, size_t pid_len,
                             const snapshot_criteria *c, store_snapshot_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_S_FIND];
    bind_criteria(st, pid, pid_len, c);
    snap_ctx sc = {fn, ctx, 0};
    int rc = step_rows(s, st, snap_row, &sc);
    if (rc == ST_OK && !sc.any)
        return error_set(ST_ENOTFOUND, "no snapshot of '%.*s' matches",
                         (int)(pid_len > 64 ? 64 : pid_len), (const char *)pid);
    return rc;
}

static int sql_snapshot_delete(store_backend *b, const uint8_t *pid, size_t pid_len,
                               const snapshot_criteria *c)
{
    sql_backend *s = (sql_backend *)b;
    bind_criteria(s->q[Q_S_DELETE], pid, pid_len, c);
    return run(s, Q_S_DELETE);
}

static int sql_snapshot_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    sql_backend *s = (sql_backend *)b;
    bind_blob(s->q[Q_S_PRUNE], 1, pid, pid_len);
    bind_u64(s->q[Q_S_PRUNE], 2, keep);
    return run(s, Q_S_PRUNE);
}

static int key_msg(int code, const uint8_t *key, size_t key_len, const char *what,
                   uint64_t expected, uint64_t found)
{
    if (code == ST_ENOTFOUND)
        return error_set(code, "state '%.*s' not found", (int)(key_len > 64 ? 64 : key_len),
                         (const char *)key);
    (void)what;
    return error_set(code, "state '%.*s': expected revision %llu, found %llu",
                     (int)(key_len > 64 ? 64 : key_len), (const char *)key,
                     (unsigned long long)expected, (unsigned long long)found);
}

static int sql_state_get(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *revision,
                         bytes *state)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_K_GET];
    bind_blob(st, 1, key, key_len);
    int rc = sqlite3_step(st), out = ST_OK;
    if (rc == SQLITE_ROW) {
        if (revision)
            *revision = (uint64_t)sqlite3_column_int64(st, 0);
        if (state) {
            size_t n;
            const uint8_t *p = col_blob(st, 1, &n);
            bytes_reset(state);
            bytes_put(state, p, n);
            if (state->failed)
                out = error_oom();
        }
    } else if (rc == SQLITE_DONE) {
        out = key_msg(ST_ENOTFOUND, key, key_len, NULL, 0, 0);
    } else {
        out = map_sqlite(s, rc, "reading state");
    }
    sqlite3_reset(st);
    return out;
}

static int current_revision(sql_backend *s, const uint8_t *key, size_t key_len, uint64_t *rev)
{
    int rc = sql_state_get(&s->base, key, key_len, rev, NULL);
    if (rc == ST_ENOTFOUND) {
        *rev = 0;
        return ST_OK;
    }
    return rc;
}

static int sql_state_upsert(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected,
                            const uint8_t *state, size_t state_len, uint64_t *new_revision)
{
    sql_backend *s = (sql_backend *)b;
    int q = expected == 0 ? Q_K_INSERT : expected == STATE_ANY_REVISION ? Q_K_ANY : Q_K_UPDATE;
    sqlite3_stmt *st = s->q[q];
    bind_blob(st, 1, key, key_len);
    bind_blob(st, 2, state, state_len);
    if (q == Q_K_UPDATE)
        bind_u64(st, 3, expected);
    int rc = sqlite3_step(st);
    uint64_t rev = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) {
        if (new_revision)
            *new_revision = rev;
        return ST_OK;
    }
    if (rc != SQLITE_DONE)
        return map_sqlite(s, rc, "writing state");
    uint64_t found;
    int rc2 = current_revision(s, key, key_len, &found);
    if (rc2 != ST_OK)
        return rc2;
    return key_msg(ST_ECONFLICT, key, key_len, "upsert", expected, found);
}

static int sql_state_delete(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_K_DELETE];
    bind_blob(st, 1, key, key_len);
    sqlite3_bind_int64(st, 2, expected == STATE_ANY_REVISION ? -1 : (sqlite3_int64)expected);
    int rc = run(s, Q_K_DELETE);
    if (rc != ST_OK)
        return rc;
    if (sqlite3_changes(s->db) > 0)
        return ST_OK;
    uint64_t found;
    if ((rc = current_revision(s, key, key_len, &found)) != ST_OK)
        return rc;
    if (found == 0)
        return key_msg(ST_ENOTFOUND, key, key_len, NULL, 0, 0);
    return key_msg(ST_ECONFLICT, key, key_len, "delete", expected, found);
}

typedef struct scan_ctx {
    const uint8_t *prefix;
    size_t prefix_len;
    state_scan_fn fn;
    void *ctx;
    int past_prefix; /* the scan stopped itself, not the callback */
} scan_ctx;

static int scan_row(void *c, sqlite3_stmt *st)
{
    scan_ctx *sc = c;
    size_t kn, dn;
    const uint8_t *k = col_blob(st, 0, &kn);
    if (kn < sc->prefix_len || memcmp(k, sc->prefix, sc->prefix_len) != 0) {
        sc->past_prefix = 1;
        return 1;
    }
    const uint8_t *d = col_blob(st, 2, &dn);
    return sc->fn(sc->ctx, k, kn, (uint64_t)sqlite3_column_int64(st, 1), d, dn);
}

static int sql_state_scan(store_backend *b, const uint8_t *prefix, size_t prefix_len,
                          state_scan_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    sqlite3_stmt *st = s->q[Q_K_SCAN];
    bind_blob(st, 1, prefix, prefix_len);
    scan_ctx c = {prefix_len ? prefix : (const uint8_t *)"", prefix_len, fn, ctx, 0};
    int rc = step_rows(s, st, scan_row, &c);
    return c.past_prefix ? ST_OK : rc;
}

static int sql_state_range(store_backend *b, const uint8_t *from, size_t from_len, int64_t count,
                           state_scan_fn fn, void *ctx)
{
    sql_backend *s = (sql_backend *)b;
    if (count == 0)
        return ST_OK;
    sqlite3_stmt *st = s->q[count > 0 ? Q_K_RANGE_FWD : Q_K_RANGE_REV];
    bind_blob(st, 1, from, from_len);
    sqlite3_bind_int64(st, 2, count > 0 ? count : -(count + 1) + (count > INT64_MIN));
    if (count < 0)
        sqlite3_bind_int(st, 3, from_len ? 1 : 0);
    scan_ctx c = {(const uint8_t *)"", 0, fn, ctx, 0};
    return step_rows(s, st, scan_row, &c);
}

static int sql_state_purge(store_backend *b)
{
    return run((sql_backend *)b, Q_K_PURGE);
}

static int sql_state_begin(store_backend *b)
{
    return tx_begin((sql_backend *)b);
}

static int sql_state_commit(store_backend *b)
{
    sql_backend *s = (sql_backend *)b;
    if (!s->depth)
        return error_set(ST_EMISUSE, "state store: commit without begin");
    int rc = tx_commit(s);
    if (rc != ST_OK)
        tx_rollback(s);
    return rc;
}

static void sql_close(store_backend *b)
{
    sql_backend *s = (sql_backend *)b;
    if (!s)
        return;
    if (s->depth && s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->q[i]);
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

static const store_backend_ops sql_ops = {
    .name = "sqlite",
    .journal_append = sql_journal_append,
    .journal_replay = sql_journal_replay,
    .journal_highest = sql_journal_highest,
    .journal_delete_to = sql_journal_delete_to,
    .journal_pids = sql_journal_pids,
    .journal_by_tag = sql_journal_by_tag,
    .snapshot_save = sql_snapshot_save,
    .snapshot_find = sql_snapshot_find,
    .snapshot_delete = sql_snapshot_delete,
    .snapshot_prune = sql_snapshot_prune,
    .state_upsert = sql_state_upsert,
    .state_get = sql_state_get,
    .state_delete = sql_state_delete,
    .state_scan = sql_state_scan,
    .state_range = sql_state_range,
    .state_purge = sql_state_purge,
    .state_begin = sql_state_begin,
    .state_commit = sql_state_commit,
    .close = sql_close,
};

/* Migrations, in order; migration i brings a schema from version i to
 * i + 1. `%s` is the schema holding the snapshots table. */
static const char *const main_migrations[SCHEMA_VERSION] = {
    "CREATE TABLE journal(ordering INTEGER PRIMARY KEY AUTOINCREMENT, pid BLOB NOT NULL,"
    " seq INTEGER NOT NULL, ts INTEGER NOT NULL, payload BLOB NOT NULL, tags BLOB);"
    "CREATE UNIQUE INDEX journal_pid_seq ON journal(pid, seq);"
    "CREATE TABLE journal_meta(pid BLOB PRIMARY KEY, highest INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE event_tags(tag BLOB NOT NULL, ordering INTEGER NOT NULL,"
    " PRIMARY KEY(tag, ordering)) WITHOUT ROWID;"
    "CREATE TABLE state(key BLOB PRIMARY KEY, revision INTEGER NOT NULL, data BLOB NOT NULL)"
    " WITHOUT ROWID;",
};
static const char *const snap_migrations[SCHEMA_VERSION] = {
    "CREATE TABLE %s.snapshots(pid BLOB NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY(pid, seq)) WITHOUT ROWID;",
};

static int user_version(sql_backend *s, const char *schema, int *out)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "PRAGMA %s.user_version", schema);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_sqlite(s, rc, "reading the schema version");
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? ST_OK : map_sqlite(s, rc, "reading the schema version");
}

/* Brings `schema` up to SCHEMA_VERSION; `with_main` and `with_snap` say
 * which tables live there. Runs under BEGIN IMMEDIATE, re-reading the
 * version inside, so two processes opening a new file migrate it once. */
static int migrate(sql_backend *s, const char *schema, int with_main, int with_snap)
{
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc != ST_OK)
        return rc;
    int v;
    if ((rc = user_version(s, schema, &v)) != ST_OK)
        goto fail;
    if (v > SCHEMA_VERSION) {
        rc = error_set(ST_EUNSUPPORTED,
                       "sqlite '%s': schema version %d is newer than this library's (%d)", s->path,
                       v, SCHEMA_VERSION);
        goto fail;
    }
    for (; v < SCHEMA_VERSION; v++) {
        char sql[1024];
        if (with_main && (rc = exec(s, main_migrations[v])) != ST_OK)
            goto fail;
        snprintf(sql, sizeof(sql), snap_migrations[v], schema);
        if (with_snap && (rc = exec(s, sql)) != ST_OK)
            goto fail;
        snprintf(sql, sizeof(sql), "PRAGMA %s.user_version = %d", schema, v + 1);
        if ((rc = exec(s, sql)) != ST_OK)
            goto fail;
    }
    return exec(s, "COMMIT");
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int prepare_all(sql_backend *s, const char *snap)
{
    char buf[Q_COUNT][512];
    static const char *const fixed[Q_COUNT] = {
        [Q_BEGIN] = "BEGIN IMMEDIATE",
        [Q_COMMIT] = "COMMIT",
        [Q_ROLLBACK] = "ROLLBACK",
        [Q_SAVEPOINT] = "SAVEPOINT dd",
        [Q_RELEASE] = "RELEASE dd",
        [Q_ROLLBACK_TO] = "ROLLBACK TO dd",
        [Q_J_HIGHEST] = "SELECT highest FROM journal_meta WHERE pid = ?1",
        [Q_J_INSERT] =
            "INSERT INTO journal(pid, seq, ts, payload, tags) VALUES(?1, ?2, ?3, ?4, ?5)",
        [Q_J_TAG] = "INSERT OR IGNORE INTO event_tags(tag, ordering) VALUES(?1, ?2)",
        [Q_J_META] = "INSERT INTO journal_meta(pid, highest) VALUES(?1, ?2)"
                     " ON CONFLICT(pid) DO UPDATE SET highest = excluded.highest",
        [Q_J_REPLAY] = "SELECT ordering, seq, ts, payload, tags FROM journal"
                       " WHERE pid = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
        [Q_J_DEL_TAGS] = "DELETE FROM event_tags WHERE ordering IN"
                         " (SELECT ordering FROM journal WHERE pid = ?1 AND seq <= ?2)",
        [Q_J_DEL] = "DELETE FROM journal WHERE pid = ?1 AND seq <= ?2",
        [Q_J_PIDS] = "SELECT pid FROM journal_meta WHERE (?2 = 0 OR pid > ?1) ORDER BY pid"
                     " LIMIT ?3",
        [Q_J_BY_TAG] = "SELECT j.ordering, j.seq, j.ts, j.payload, j.tags, j.pid"
                       " FROM event_tags t JOIN journal j ON j.ordering = t.ordering"
                       " WHERE t.tag = ?1 AND t.ordering > ?2 ORDER BY t.ordering LIMIT ?3",
        [Q_S_SAVE] = "INSERT OR REPLACE INTO %s.snapshots(pid, seq, ts, data)"
                     " VALUES(?1, ?2, ?3, ?4)",
        [Q_S_FIND] = "SELECT seq, ts, data FROM %s.snapshots WHERE pid = ?1 AND seq >= ?2"
                     " AND seq <= ?3 AND ts >= ?4 AND ts <= ?5 ORDER BY seq DESC",
        [Q_S_DELETE] = "DELETE FROM %s.snapshots WHERE pid = ?1 AND seq >= ?2 AND seq <= ?3"
                       " AND ts >= ?4 AND ts <= ?5",
        [Q_S_PRUNE] = "DELETE FROM %s.snapshots WHERE pid = ?1 AND seq NOT IN"
                      " (SELECT seq FROM %s.snapshots WHERE pid = ?1 ORDER BY seq DESC"
                      " LIMIT ?2)",
        [Q_K_GET] = "SELECT revision, data FROM state WHERE key = ?1",
        [Q_K_INSERT] = "INSERT INTO state(key, revision, data) VALUES(?1, 1, ?2)"
                       " ON CONFLICT(key) DO NOTHING RETURNING revision",
        [Q_K_UPDATE] = "UPDATE state SET revision = revision + 1, data = ?2"
                       " WHERE key = ?1 AND revision = ?3 RETURNING revision",
        [Q_K_ANY] = "INSERT INTO state(key, revision, data) VALUES(?1, 1, ?2)"
                    " ON CONFLICT(key) DO UPDATE SET revision = revision + 1,"
                    " data = excluded.data RETURNING revision",
        [Q_K_DELETE] = "DELETE FROM state WHERE key = ?1 AND (?2 = -1 OR revision = ?2)",
        [Q_K_SCAN] = "SELECT key, revision, data FROM state WHERE key >= ?1 ORDER BY key",
        [Q_K_RANGE_FWD] = "SELECT key, revision, data FROM state WHERE key >= ?1 ORDER BY key"
                          " LIMIT ?2",
        [Q_K_RANGE_REV] = "SELECT key, revision, data FROM state WHERE (?3 = 0 OR key <= ?1)"
                          " ORDER BY key DESC LIMIT ?2",
        [Q_K_PURGE] = "DELETE FROM state",
    };
    for (int i = 0; i < Q_COUNT; i++) {
        if (i == Q_J_INSERT_MULTI) {
            int at = snprintf(buf[i], sizeof(buf[i]),
                              "INSERT INTO journal(pid, seq, ts, payload, tags) VALUES");
            for (int r = 0; r < INSERT_ROWS; r++)
                at += snprintf(buf[i] + at, sizeof(buf[i]) - (size_t)at, "%s(?,?,?,?,?)",
                               r ? "," : "");
            int rc =
                sqlite3_prepare_v3(s->db, buf[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
            if (rc != SQLITE_OK)
                return map_sqlite(s, rc, "preparing statements");
            continue;
        }
        snprintf(buf[i], sizeof(buf[i]), fixed[i], snap, snap);
        int rc = sqlite3_prepare_v3(s->db, buf[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
        if (rc != SQLITE_OK)
            return map_sqlite(s, rc, "preparing statements");
    }
    return ST_OK;
}

static int pragmas(sql_backend *s, const char *schema, const sqlite_options *o)
{
    static const char *const sync_names[] = {"OFF", "NORMAL", "FULL"};
    char sql[160];
    snprintf(sql, sizeof(sql), "PRAGMA %s.journal_mode = WAL; PRAGMA %s.synchronous = %s", schema,
             schema, sync_names[o->sync]);
    return exec(s, sql);
}

int store_backend_open_sqlite(store_backend **out, const char *path, const sqlite_options *opts)
{
    sqlite_options o = opts ? *opts : sqlite_options_default();
    if (!out || !path || !path[0])
        return error_set(ST_EINVAL, "sqlite store: path must not be empty");
    *out = NULL;
    if ((unsigned)o.sync > STORE_SYNC_FULL)
        return error_set(ST_EINVAL, "sqlite store: unknown sync mode %d", (int)o.sync);
    if (o.busy_timeout_ms < 0)
        return error_set(ST_EINVAL, "sqlite store: busy timeout must not be negative");
    sql_backend *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return error_oom();
    }
    s->base.ops = &sql_ops;
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = map_sqlite(s, rc, "opening");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_busy_timeout(s->db, o.busy_timeout_ms);
    const char *snap = "main";
    if (o.snapshot_path && o.snapshot_path[0]) {
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(s->db, "ATTACH DATABASE ?1 AS snap", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, o.snapshot_path, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            sqlite3_finalize(st);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        if (rc != SQLITE_OK) {
            rc = map_sqlite(s, rc, "attaching the snapshot file");
            goto fail;
        }
        snap = "snap";
    }
    if ((rc = pragmas(s, "main", &o)) != ST_OK)
        goto fail;
    if (strcmp(snap, "main") != 0 && (rc = pragmas(s, snap, &o)) != ST_OK)
        goto fail;
    if (strcmp(snap, "main") == 0) {
        rc = migrate(s, "main", 1, 1);
    } else {
        rc = migrate(s, "main", 1, 0);
        if (rc == ST_OK)
            rc = migrate(s, snap, 0, 1);
    }
    if (rc != ST_OK)
        goto fail;
    if ((rc = prepare_all(s, snap)) != ST_OK)
        goto fail;
    *out = &s->base;
    return ST_OK;
fail:
    sql_close(&s->base);
    return rc;
}

int state_store_open_sqlite(state_store **out, const char *path, const sqlite_options *opts)
{
    store_backend *be;
    int rc = store_backend_open_sqlite(&be, path, opts);
    if (rc != ST_OK)
        return rc;
    return state_store_open_backend(out, be, NULL);
}
