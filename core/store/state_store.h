/*
 * Durable state: key -> (revision, bytes), with compare-and-set.
 *
 * The contract every backend (memory, SQLite, file system, a user's own)
 * keeps, and what the replicator's durable keys and the owned-state
 * persistence are written against:
 *
 *  - Revisions start at 1 and grow by one per successful upsert of a key.
 *  - upsert with expected_revision 0 inserts (ST_ECONFLICT if the key
 *    exists); with N it replaces revision N (ST_ECONFLICT otherwise);
 *    with STATE_ANY_REVISION it writes unconditionally. A failed upsert
 *    changes nothing.
 *  - A successful upsert is durable as the backend's sync setting says
 *    (SQLite synchronous=FULL: on disk when the call returns).
 *  - Sealing (compression + AEAD, core/seal) happens inside, so callers
 *    pass and receive plaintext.
 */
#ifndef DD_STORE_STATE_STORE_H
#define DD_STORE_STATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define STATE_ANY_REVISION UINT64_MAX

typedef struct state_store state_store;

/* Called for each record by state_store_scan; a non-zero return stops the
 * scan and is returned by it. `state` is valid only during the call. */
typedef int (*state_scan_fn)(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                             const uint8_t *state, size_t state_len);

int state_store_upsert(state_store *s, const uint8_t *key, size_t key_len,
                       uint64_t expected_revision, const uint8_t *state, size_t state_len,
                       uint64_t *new_revision);
/* ST_ENOTFOUND when the key has no record. */
int state_store_get(state_store *s, const uint8_t *key, size_t key_len, uint64_t *revision,
                    bytes *state);
/* ST_ENOTFOUND when absent; expected_revision as for upsert (0 not allowed). */
int state_store_delete(state_store *s, const uint8_t *key, size_t key_len,
                       uint64_t expected_revision);
/* Visits every record whose key starts with `prefix` (all when prefix_len
 * is 0), in key order. */
int state_store_scan(state_store *s, const uint8_t *prefix, size_t prefix_len, state_scan_fn fn,
                     void *ctx);
/* Groups many upserts into one durable transaction (write-behind flushes,
 * bulk loads). Between begin and commit, upserts are not yet durable. */
int state_store_begin(state_store *s);
int state_store_commit(state_store *s);
void state_store_close(state_store *s);

/* The rest of the collection operations ave-actors' store contract names
 * (added after the contract above; existing callers are unaffected). */
/* Visits up to |count| records starting at `from` (inclusive): forward in
 * key order when count > 0 (from the first key when from_len is 0),
 * backward when count < 0 (from the last key when from_len is 0). */
int state_store_range(state_store *s, const uint8_t *from, size_t from_len, int64_t count,
                      state_scan_fn fn, void *ctx);
/* The record with the greatest key; ST_ENOTFOUND when the store is empty. */
int state_store_last(state_store *s, bytes *key, uint64_t *revision, bytes *state);
/* Deletes every record. */
int state_store_purge(state_store *s);

/* ---- building blocks (issue 17.13): bounded ranges, prefix-scoped
 * last/purge, atomic batches, flush. A collection of another framework
 * is a key prefix; these let it be one without touching its neighbours. */

/* Key bounds, independent of direction: keys k with start <= k (start < k
 * when start_exclusive) and k < end (k <= end when end_inclusive). A bound
 * of length 0 is absent. reverse walks from the greatest key down; limit
 * 0 means no limit. keys_only lets an engine skip reading states (it may
 * pass state NULL, len 0). */
typedef struct state_bounds {
    const uint8_t *start;
    size_t start_len;
    const uint8_t *end;
    size_t end_len;
    int start_exclusive;
    int end_inclusive;
    int reverse;
    int keys_only;
    uint64_t limit;
} state_bounds;

/* Narrows `b` to keys starting with `prefix`: start becomes the prefix
 * when it was below it, end the first key past every extension of the
 * prefix (the prefix with trailing 0xFF bytes dropped and its last byte
 * incremented; none when the prefix is all 0xFF) when that is lower. The
 * new end is kept in `scratch`, which must outlive `b`'s use. */
int state_bounds_clip_prefix(state_bounds *b, const uint8_t *prefix, size_t prefix_len,
                             bytes *scratch);

typedef enum state_op_kind { STATE_OP_UPSERT = 1, STATE_OP_DELETE = 2 } state_op_kind;

/* One write of a batch. Upserts take expected revisions as
 * state_store_upsert does; deletes N or STATE_ANY_REVISION (a missing key
 * with ANY is nothing to do, with N a conflict). */
typedef struct state_op {
    int kind;
    const uint8_t *key;
    size_t key_len;
    uint64_t expected_revision;
    const uint8_t *state;
    size_t state_len;
} state_op;

#define STATE_BATCH_MAX_OPS 65536u

/* Visits the records within `b`, in key order (reverse when asked). */
int state_store_scan_range(state_store *s, const state_bounds *b, state_scan_fn fn, void *ctx);
/* The record with the greatest key starting with `prefix` (any key when
 * prefix_len is 0); ST_ENOTFOUND when there is none. */
int state_store_last_prefix(state_store *s, const uint8_t *prefix, size_t prefix_len, bytes *key,
                            uint64_t *revision, bytes *state);
/* Deletes every record whose key starts with `prefix` (all when
 * prefix_len is 0), as one transaction where the engine has them. */
int state_store_purge_prefix(state_store *s, const uint8_t *prefix, size_t prefix_len);
/* Applies `ops` all or nothing: when any op's expected revision does not
 * hold, ST_ECONFLICT naming the op's index and nothing is written. A key
 * may appear once per batch. revisions (may be NULL; n entries) receives
 * each upsert's new revision, 0 for deletes. */
int state_store_batch(state_store *s, const state_op *ops, size_t n, uint64_t *revisions);
/* Makes every write so far durable on the medium, whatever the sync
 * setting (SQLite: a WAL checkpoint; fs: syncfs; memory, PostgreSQL:
 * nothing to do). */
int state_store_flush(state_store *s);

/* Backends. More (SQLite, file system) are declared in their own headers
 * beside their sources. */
int state_store_open_memory(state_store **out);

#endif
