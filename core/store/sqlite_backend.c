/*
 * The SQLite engine: the embedded default. This file holds the connection,
 * the schema and its migrations, the prepared statements and the helpers
 * shared through sqlite_internal.h; the tables' operations live in
 * sqlite_journal.c, sqlite_snapshots.c and sqlite_state.c.
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
 *   journal_meta(pid PRIMARY KEY, highest, deleted_to)  -- survives
 *       deletion, so the highest sequence number never decreases, and
 *       says where deletion ended, so a missing first event is told
 *       from a deleted one (version 2)
 *   event_tags(tag, ordering) PRIMARY KEY(tag, ordering)
 *   snapshots(pid, seq, ts, data) PRIMARY KEY(pid, seq)
 *       in the same file, or in a second one ATTACHed as `snap`
 *   state(key PRIMARY KEY, revision, data)
 *
 * Payloads, snapshot data and state data are envelopes (version 3): sealed
 * ("DDSE", seal/envelope.h) or plain ("DP", seal/plain.h: a checksum and
 * optional zlib). A file from version 1 or 2 is migrated on open: its bare
 * unsealed records are wrapped in place, in the migration's transaction.
 *
 * State writes are single statements (compare-and-set in the WHERE
 * clause), so they need no explicit transaction outside a batch.
 */
#include "store/sqlite_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obs/store_files.h"
#include "store/sqlite_group_commit.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/status.h"

#define SCHEMA_VERSION 3

int sql_error(sql_backend *s, int src, const char *what)
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
    if (((src & 0xff) == SQLITE_IOERR || (src & 0xff) == SQLITE_FULL) && !s->failed_rc)
        s->failed_rc = src;
    return error_set(code, "sqlite '%s': %s: %s", s->path ? s->path : "?", what,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src));
}

/* A statement of the open (the switch to WAL, the migration's BEGIN
 * IMMEDIATE) retried until it gets its lock or `wait_ms` has passed.
 * SQLite answers SQLITE_BUSY at once, without the busy handler, where
 * waiting could deadlock: connections opening one new file together (the
 * first ones all switch it to WAL) failed with "database is locked". */
static int sql_exec_waiting(sql_backend *s, const char *sql, int wait_ms)
{
    uint64_t deadline = clock_monotonic_ms() + (uint64_t)wait_ms;
    useconds_t pause_us = 500;
    for (;;) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_BUSY || clock_monotonic_ms() >= deadline)
            return rc == SQLITE_OK ? ST_OK : sql_error(s, rc, "executing a statement");
        usleep(pause_us);
        if (pause_us < 16000)
            pause_us *= 2;
    }
}

/* Run once: a busy database is an error at once. */
int sql_exec(sql_backend *s, const char *sql)
{
    return sql_exec_waiting(s, sql, 0);
}

int sql_check_writable(sql_backend *s)
{
    if (!s->failed_rc)
        return ST_OK;
    return error_set(ST_EIO,
                     "sqlite '%s': an earlier write or sync failed (%s); nothing more is "
                     "written until the store is reopened",
                     s->path, sqlite3_errstr(s->failed_rc));
}

int sql_run(sql_backend *s, int q)
{
    /* Rolling back stays possible: it is how a failed write cleans up. */
    if (q != Q_ROLLBACK && q != Q_ROLLBACK_TO && q != Q_RELEASE) {
        int rc = sql_check_writable(s);
        if (rc != ST_OK)
            return rc;
    }
    sqlite3_stmt *st = s->q[q];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? ST_OK : sql_error(s, rc, "writing");
}

int sql_tx_begin(sql_backend *s)
{
    int rc = sql_run(s, s->depth ? Q_SAVEPOINT : Q_BEGIN);
    if (rc == ST_OK)
        s->depth++;
    return rc;
}

int sql_tx_commit(sql_backend *s)
{
    int rc = sql_run(s, s->depth > 1 ? Q_RELEASE : Q_COMMIT);
    if (rc == ST_OK)
        s->depth--;
    return rc;
}

void sql_tx_rollback(sql_backend *s)
{
    int saved = error_code();
    char msg[ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), "%s", error_message());
    if (s->depth > 1) {
        sql_run(s, Q_ROLLBACK_TO);
        sql_run(s, Q_RELEASE);
    } else if (!sqlite3_get_autocommit(s->db)) {
        sql_run(s, Q_ROLLBACK);
    }
    s->depth--;
    error_set(saved, "%s", msg);
}

int sql_step_rows(sql_backend *s, sqlite3_stmt *st, int (*row)(void *, sqlite3_stmt *), void *ctx)
{
    int rc, out = ST_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((out = row(ctx, st)) != 0)
            break;
    }
    if (out == ST_OK && rc != SQLITE_DONE)
        out = sql_error(s, rc, "reading");
    sqlite3_reset(st);
    return out;
}

static void sql_close(store_backend *b)
{
    sql_backend *s = (sql_backend *)b;
    if (!s)
        return;
    if (s->depth && s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sql_group_leave(s->group);
    if (s->listed)
        store_files_remove(s->path);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->q[i]);
    for (int i = 0; i < SQL_RANGE_SHAPES; i++)
        sqlite3_finalize(s->range_q[i]);
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

static const store_backend_ops sql_ops = {
    .name = "sqlite",
    STORE_BACKEND_OPS_NAMED(sql),
    .state_begin = sql_state_begin,
    .state_commit = sql_state_commit,
    .journal_deleted_to = sql_journal_deleted_to,
    .state_flush = sql_state_flush,
};

/* Migrations, in order; migration i brings a schema from version i to
 * i + 1. `%s` is the schema holding the snapshots table. Each is one
 * string, parenthesised where several literals make it up. */
static const char *const main_migrations[SCHEMA_VERSION] = {
    ("CREATE TABLE journal(ordering INTEGER PRIMARY KEY AUTOINCREMENT, pid BLOB NOT NULL,"
     " seq INTEGER NOT NULL, ts INTEGER NOT NULL, payload BLOB NOT NULL, tags BLOB);"
     "CREATE UNIQUE INDEX journal_pid_seq ON journal(pid, seq);"
     "CREATE TABLE journal_meta(pid BLOB PRIMARY KEY, highest INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE event_tags(tag BLOB NOT NULL, ordering INTEGER NOT NULL,"
     " PRIMARY KEY(tag, ordering)) WITHOUT ROWID;"
     "CREATE TABLE state(key BLOB PRIMARY KEY, revision INTEGER NOT NULL, data BLOB NOT NULL)"
     " WITHOUT ROWID;"),
    /* 2: the delete-to mark; a file from version 1 takes it from the
     * events still there (everything below the first was deleted). */
    ("ALTER TABLE journal_meta ADD COLUMN deleted_to INTEGER NOT NULL DEFAULT 0;"
     "UPDATE journal_meta SET deleted_to = COALESCE((SELECT MIN(seq) - 1 FROM journal"
     " WHERE journal.pid = journal_meta.pid), highest);"),
    /* 3: every unsealed record in the plain envelope (seal/plain.h);
     * sealed records are left as they are (sqlite_wrap.c). */
    ("UPDATE journal SET payload = dd_wrap_event(pid, seq, ts, tags, payload);"
     "UPDATE state SET data = dd_wrap_state(key, data);"),
};
static const char *const snap_migrations[SCHEMA_VERSION] = {
    ("CREATE TABLE %s.snapshots(pid BLOB NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
     " data BLOB NOT NULL, PRIMARY KEY(pid, seq)) WITHOUT ROWID;"),
    "",
    "UPDATE %s.snapshots SET data = dd_wrap_snapshot(pid, seq, ts, data);",
};

static int user_version(sql_backend *s, const char *schema, int *out)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "PRAGMA %s.user_version", schema);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_error(s, rc, "reading the schema version");
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? ST_OK : sql_error(s, rc, "reading the schema version");
}

/* Brings `schema` up to SCHEMA_VERSION; `with_main` and `with_snap` say
 * which tables live there. Runs under BEGIN IMMEDIATE, re-reading the
 * version inside, so two processes opening a new file migrate it once. */
static int migrate(sql_backend *s, const char *schema, int with_main, int with_snap, int wait_ms)
{
    int rc = sql_exec_waiting(s, "BEGIN IMMEDIATE", wait_ms);
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
        if (with_main && (rc = sql_exec(s, main_migrations[v])) != ST_OK)
            goto fail;
        snprintf(sql, sizeof(sql), snap_migrations[v], schema);
        if (with_snap && (rc = sql_exec(s, sql)) != ST_OK)
            goto fail;
        snprintf(sql, sizeof(sql), "PRAGMA %s.user_version = %d", schema, v + 1);
        if ((rc = sql_exec(s, sql)) != ST_OK)
            goto fail;
    }
    return sql_exec(s, "COMMIT");
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* The URI of a read-only open. With no -wal file beside it nobody is
 * writing the database and the main file is complete: open it immutable,
 * so that SQLite creates no -shm or -wal file either. With one, a writer
 * may be live: plain read-only (its -shm exists already). */
static char *read_only_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *wal = malloc(n + 5);
    if (!wal)
        return NULL;
    snprintf(wal, n + 5, "%s-wal", path);
    struct stat sb;
    int immutable = stat(wal, &sb) != 0;
    free(wal);
    char *uri = malloc(n * 3 + 32);
    if (!uri)
        return NULL;
    size_t at = (size_t)snprintf(uri, 8, "file:");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/._-~", c)) {
            uri[at++] = (char)c;
        } else {
            uri[at++] = '%';
            uri[at++] = hex[c >> 4];
            uri[at++] = hex[c & 15];
        }
    }
    snprintf(uri + at, 24, "?mode=ro%s", immutable ? "&immutable=1" : "");
    return uri;
}

/* Read-only opens migrate nothing: the schema must be this library's. A
 * file SQLite cannot read, or one without the ddata schema, is "not a
 * ddata store" (ST_ENOTFOUND) and is left exactly as it was. */
static int read_only_check(sql_backend *s, const char *schema)
{
    int v = 0;
    if (user_version(s, schema, &v) != ST_OK || v == 0)
        return error_set(ST_ENOTFOUND, "sqlite '%s': not a ddata store", s->path);
    if (v != SCHEMA_VERSION)
        return error_set(ST_EUNSUPPORTED,
                         "sqlite '%s': schema version %d, this library reads %d (open it "
                         "writable with a matching library to migrate)",
                         s->path, v, SCHEMA_VERSION);
    return ST_OK;
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
        [Q_J_DEL_MARK] = "UPDATE journal_meta SET deleted_to = max(deleted_to, ?2) WHERE pid = ?1",
        [Q_J_DELETED_TO] = "SELECT deleted_to FROM journal_meta WHERE pid = ?1",
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
            for (int r = 0; r < SQL_INSERT_ROWS; r++)
                at += snprintf(buf[i] + at, sizeof(buf[i]) - (size_t)at, "%s(?,?,?,?,?)",
                               r ? "," : "");
        } else {
            snprintf(buf[i], sizeof(buf[i]), fixed[i], snap, snap);
        }
        int rc = sqlite3_prepare_v3(s->db, buf[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
        if (rc != SQLITE_OK)
            return sql_error(s, rc, "preparing statements");
    }
    return ST_OK;
}

static int pragmas(sql_backend *s, const char *schema, const sqlite_options *o)
{
    static const char *const sync_names[] = {"OFF", "NORMAL", "FULL"};
    char sql[160];
    snprintf(sql, sizeof(sql), "PRAGMA %s.journal_mode = WAL; PRAGMA %s.synchronous = %s", schema,
             schema, sync_names[o->sync]);
    return sql_exec_waiting(s, sql, o->busy_timeout_ms);
}

/* Creates the file before SQLite does, so it is private (0600: SQLite
 * would use 0644 minus the umask, and gives its -wal and -shm files the
 * database's mode), and looks at what is there without blocking: a FIFO
 * would hang SQLite's first read. With must_exist, a missing or empty file
 * is refused rather than turned into a new store. */
/* Checks (and, unless must_exist or read_only, creates 0600) the file at
 * `path` before SQLite opens it: a FIFO or device would block SQLite's
 * open, a symbolic link may point anywhere. A read-only open (inspect)
 * reports what is not a store as ST_ENOTFOUND, "not a ddata store". */
static int prepare_file(const char *path, bool must_exist, bool read_only)
{
    if (strcmp(path, ":memory:") == 0)
        return ST_OK;
    must_exist = must_exist || read_only;
    int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
                (must_exist ? 0 : O_CREAT);
    int not_store = read_only ? ST_ENOTFOUND : ST_ECORRUPT;
    int fd = open(path, flags, 0600);
    if (fd < 0 && errno == ENOENT && must_exist)
        return error_set(ST_ENOTFOUND, "sqlite store '%s' does not exist%s", path,
                         read_only ? ", not a ddata store" : "");
    if (fd < 0 && errno == ELOOP)
        return error_set(not_store, "sqlite store '%s' is a symbolic link", path);
    if (fd < 0)
        return error_set(ST_EIO, "sqlite store '%s': %s", path, strerror(errno));
    struct stat st;
    int rc = ST_OK;
    if (fstat(fd, &st) != 0)
        rc = error_set(ST_EIO, "sqlite store '%s': %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = error_set(not_store, "sqlite store '%s' is not a regular file, not a ddata store",
                       path);
    else if (must_exist && st.st_size == 0)
        rc = error_set(not_store, "sqlite store '%s' is empty (0 bytes), not a ddata store", path);
    close(fd);
    return rc;
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
    int rc = prepare_file(path, o.must_exist, o.read_only);
    if (rc == ST_OK && o.snapshot_path && o.snapshot_path[0])
        rc = prepare_file(o.snapshot_path, o.must_exist, o.read_only);
    if (rc != ST_OK)
        goto fail;
    int flags = o.read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
                            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    char *uri = o.read_only ? read_only_uri(path) : NULL;
    if (o.read_only && !uri) {
        sql_close(&s->base);
        return error_oom();
    }
    rc = sqlite3_open_v2(uri ? uri : path, &s->db, flags, NULL);
    free(uri);
    if (rc != SQLITE_OK) {
        rc = o.read_only ? error_set(ST_ENOTFOUND, "sqlite '%s': not a ddata store (%s)", path,
                                     s->db ? sqlite3_errmsg(s->db) : "cannot open")
                         : sql_error(s, rc, "opening");
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
            rc = sql_error(s, rc, "attaching the snapshot file");
            goto fail;
        }
        snap = "snap";
    }
    if (o.read_only) {
        if ((rc = read_only_check(s, "main")) != ST_OK)
            goto fail;
        if (strcmp(snap, "main") != 0 && (rc = read_only_check(s, snap)) != ST_OK)
            goto fail;
        if ((rc = prepare_all(s, snap)) != ST_OK)
            goto fail;
        *out = &s->base;
        return ST_OK;
    }
    if ((rc = sql_register_wrap(s)) != ST_OK || (rc = pragmas(s, "main", &o)) != ST_OK)
        goto fail;
    if (strcmp(snap, "main") != 0 && (rc = pragmas(s, snap, &o)) != ST_OK)
        goto fail;
    if (strcmp(snap, "main") == 0) {
        rc = migrate(s, "main", 1, 1, o.busy_timeout_ms);
    } else {
        rc = migrate(s, "main", 1, 0, o.busy_timeout_ms);
        if (rc == ST_OK)
            rc = migrate(s, snap, 0, 1, o.busy_timeout_ms);
    }
    if (rc != ST_OK)
        goto fail;
    if ((rc = prepare_all(s, snap)) != ST_OK)
        goto fail;
    store_files_add(s->path);
    s->listed = true;
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
