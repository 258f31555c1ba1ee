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

/* Backends. More (SQLite, file system) are declared in their own headers
 * beside their sources. */
int state_store_open_memory(state_store **out);

#endif
