/*
 * The storage backend interface: one table of functions per engine.
 *
 * The journal, the snapshot store and the durable state store are written
 * once (journal.c, state_store.c) above this table; an engine (memory,
 * SQLite, file system, PostgreSQL, a user's own) only stores and
 * finds opaque blobs. Sealing (compression + AEAD, core/seal) happens above
 * the table too, so every engine gets it without knowing: the blobs an
 * engine sees are already sealed, and only the sequence numbers, revisions,
 * timestamps and tags it must index stay in the clear.
 *
 * Rules every engine keeps (the contract suite in tests/c/store checks
 * them against each engine):
 *  - journal_append is all-or-nothing; it writes events numbered
 *    expected_seq + 1 .. expected_seq + count only when the highest
 *    sequence number of the pid is expected_seq, ST_ECONFLICT otherwise.
 *  - the highest sequence number never decreases, even after deletion.
 *  - every event gets a global `ordering`, increasing in commit order and
 *    never reused; by-tag queries return events in that order.
 *  - state records follow state_store.h (revisions, compare-and-set).
 *  - callbacks receive pointers valid only during the call; a non-zero
 *    return stops the iteration and is returned.
 *  - nothing an engine writes is visible half-done after a crash.
 *
 * Engines need not check what they read back: the journal layer checks
 * every replay for continuity (sequence numbers contiguous from the
 * delete-to mark to the highest) and order (orderings strictly
 * increasing), and ends a read that breaks either with ST_ECORRUPT.
 */
#ifndef DD_STORE_BACKEND_H
#define DD_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/state_store.h"

/* Sequence numbers and timestamps are stored as SQL INTEGER (signed 64
 * bit) by some engines, so the usable range stops here. */
#define STORE_SEQ_MAX ((uint64_t)INT64_MAX)

typedef struct store_event {
    uint64_t seq;
    uint64_t timestamp_ms;
    uint64_t ordering; /* global order; ignored on append */
    const uint8_t *pid;
    size_t pid_len; /* set on output (by-tag); ignored on append */
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *tags; /* encoded with store_tags_encode (tags.h); may be NULL */
    size_t tags_len;
} store_event;

typedef int (*store_event_fn)(void *ctx, const store_event *ev);
typedef int (*store_pid_fn)(void *ctx, const uint8_t *pid, size_t pid_len);

/* A snapshot matches when min_seq <= seq <= max_seq and
 * min_ts <= timestamp <= max_ts (bounds inclusive). */
typedef struct snapshot_criteria {
    uint64_t min_seq, max_seq;
    uint64_t min_ts, max_ts;
} snapshot_criteria;

static inline snapshot_criteria snapshot_criteria_any(void)
{
    snapshot_criteria c = {0, STORE_SEQ_MAX, 0, STORE_SEQ_MAX};
    return c;
}

typedef struct store_snapshot {
    uint64_t seq;
    uint64_t timestamp_ms;
    const uint8_t *data;
    size_t len;
} store_snapshot;

typedef int (*store_snapshot_fn)(void *ctx, const store_snapshot *snap);

typedef struct store_backend store_backend;

/* The members of the table below as function types, so an engine declares
 * its own with one line each (`backend_state_get_fn pg_state_get;`) and
 * the parameter lists are written once, here. What each does is said at
 * its member. */
typedef int backend_journal_append_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                      uint64_t expected_seq, const store_event *events,
                                      size_t count);
typedef int backend_journal_replay_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                      uint64_t from, uint64_t to, uint64_t max, store_event_fn fn,
                                      void *ctx);
typedef int backend_journal_highest_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                       uint64_t *out);
typedef int backend_journal_delete_to_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                         uint64_t to);
typedef int backend_journal_pids_fn(store_backend *b, const uint8_t *after, size_t after_len,
                                    uint64_t limit, store_pid_fn fn, void *ctx);
typedef int backend_journal_by_tag_fn(store_backend *b, const uint8_t *tag, size_t tag_len,
                                      uint64_t after, uint64_t max, store_event_fn fn, void *ctx);
typedef int backend_snapshot_save_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                     uint64_t seq, uint64_t timestamp_ms, const uint8_t *data,
                                     size_t len);
typedef int backend_snapshot_find_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                     const snapshot_criteria *c, store_snapshot_fn fn, void *ctx);
typedef int backend_snapshot_delete_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                       const snapshot_criteria *c);
typedef int backend_snapshot_prune_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                      uint64_t keep);
typedef int backend_state_upsert_fn(store_backend *b, const uint8_t *key, size_t key_len,
                                    uint64_t expected_revision, const uint8_t *state,
                                    size_t state_len, uint64_t *new_revision);
typedef int backend_state_get_fn(store_backend *b, const uint8_t *key, size_t key_len,
                                 uint64_t *revision, bytes *state);
typedef int backend_state_delete_fn(store_backend *b, const uint8_t *key, size_t key_len,
                                    uint64_t expected_revision);
typedef int backend_state_scan_fn(store_backend *b, const uint8_t *prefix, size_t prefix_len,
                                  state_scan_fn fn, void *ctx);
typedef int backend_state_range_fn(store_backend *b, const uint8_t *from, size_t from_len,
                                   int64_t count, state_scan_fn fn, void *ctx);
typedef int backend_state_purge_fn(store_backend *b);
typedef int backend_state_begin_fn(store_backend *b);
typedef int backend_state_commit_fn(store_backend *b);
typedef void backend_close_fn(store_backend *b);
typedef int backend_journal_deleted_to_fn(store_backend *b, const uint8_t *pid, size_t pid_len,
                                          uint64_t *out);
typedef int backend_state_scan_range_fn(store_backend *b, const state_bounds *r, state_scan_fn fn,
                                        void *ctx);
typedef int backend_state_batch_fn(store_backend *b, const state_op *ops, size_t n,
                                   uint64_t *revisions);
typedef int backend_state_purge_prefix_fn(store_backend *b, const uint8_t *prefix,
                                          size_t prefix_len);
typedef int backend_state_flush_fn(store_backend *b);

typedef struct store_backend_ops {
    const char *name;

    /* Journal. */
    backend_journal_append_fn *journal_append;
    /* Events with from <= seq <= to, ascending, at most max. */
    backend_journal_replay_fn *journal_replay;
    /* 0 for an unknown pid. */
    backend_journal_highest_fn *journal_highest;
    backend_journal_delete_to_fn *journal_delete_to;
    /* Pids greater than `after` (all when after_len is 0), ascending, at
     * most `limit`. */
    backend_journal_pids_fn *journal_pids;
    /* Events carrying `tag` with ordering > after, ascending, at most max. */
    backend_journal_by_tag_fn *journal_by_tag;

    /* Snapshots. Save replaces a snapshot at the same (pid, seq). */
    backend_snapshot_save_fn *snapshot_save;
    /* Calls fn for matching snapshots, newest (highest seq) first, until fn
     * returns non-zero; ST_ENOTFOUND when none matched. */
    backend_snapshot_find_fn *snapshot_find;
    backend_snapshot_delete_fn *snapshot_delete;
    /* Keeps the newest `keep` snapshots of pid, deletes the rest. */
    backend_snapshot_prune_fn *snapshot_prune;

    /* Durable state, as state_store.h describes (expected_revision is
     * never STATE_ANY_REVISION here when the caller seals). */
    backend_state_upsert_fn *state_upsert;
    backend_state_get_fn *state_get;
    backend_state_delete_fn *state_delete;
    backend_state_scan_fn *state_scan;
    /* Up to |count| records: from `from` (inclusive; the first key when
     * from_len is 0) in key order when count > 0, from `from` (inclusive;
     * the last key when from_len is 0) in reverse key order when count < 0. */
    backend_state_range_fn *state_range;
    /* Deletes every state record. */
    backend_state_purge_fn *state_purge;
    backend_state_begin_fn *state_begin;
    backend_state_commit_fn *state_commit;

    backend_close_fn *close;

    /* Optional (NULL is allowed; kept last so engines written against the
     * table before it still fit): the delete-to mark of pid, the highest
     * sequence number journal_delete_to has removed (0 when none), kept
     * apart from the events like the highest sequence number. With it the
     * journal layer tells a deleted head from a lost one; without it,
     * replay checks continuity from the first event it reads. */
    backend_journal_deleted_to_fn *journal_deleted_to;

    /* Optional, each on its own (NULL: the generic form in
     * state_generic.c runs on the members above). */
    /* Records within `r` (state_store.h), in key order or reversed. */
    backend_state_scan_range_fn *state_scan_range;
    /* All or nothing, as state_store_batch; ops are checked, keys unique,
     * blobs sealed. The conflict message names the op's index. */
    backend_state_batch_fn *state_batch;
    /* Deletes the records whose key starts with prefix (all when 0). */
    backend_state_purge_prefix_fn *state_purge_prefix;
    /* Makes every write so far durable. */
    backend_state_flush_fn *state_flush;
} store_backend_ops;

/* The members every built-in engine defines under one naming convention,
 * <engine>_<member> (fs_journal_append, sql_state_batch, ...), so that an
 * engine's table states only its name and where it differs: the members
 * it shares with another engine or leaves out (begin/commit, the
 * delete-to mark, flush). */
#define STORE_BACKEND_OPS_NAMED(engine)                                                            \
    .journal_append = engine##_journal_append, .journal_replay = engine##_journal_replay,          \
    .journal_highest = engine##_journal_highest, .journal_delete_to = engine##_journal_delete_to,  \
    .journal_pids = engine##_journal_pids, .journal_by_tag = engine##_journal_by_tag,              \
    .snapshot_save = engine##_snapshot_save, .snapshot_find = engine##_snapshot_find,              \
    .snapshot_delete = engine##_snapshot_delete, .snapshot_prune = engine##_snapshot_prune,        \
    .state_upsert = engine##_state_upsert, .state_get = engine##_state_get,                        \
    .state_delete = engine##_state_delete, .state_scan = engine##_state_scan,                      \
    .state_range = engine##_state_range, .state_purge = engine##_state_purge,                      \
    .close = engine##_close, .state_scan_range = engine##_state_scan_range,                        \
    .state_batch = engine##_state_batch, .state_purge_prefix = engine##_state_purge_prefix

/* Engines embed this as their first member. */
struct store_backend {
    const store_backend_ops *ops;
};

/* Orders keys and pids: bytewise, a prefix before its extensions. */
static inline int store_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? __builtin_memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Engines. */
int store_backend_open_memory(store_backend **out);

typedef enum store_sync {
    STORE_SYNC_OFF = 0,
    STORE_SYNC_NORMAL = 1,
    STORE_SYNC_FULL = 2,
} store_sync;

#endif
