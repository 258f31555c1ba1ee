/*
 * The event journal and snapshot store, over any engine (backend.h).
 *
 * What an event-sourced actor needs: atomic appends of a batch with
 * optimistic concurrency (expected_seq is the highest sequence number the
 * writer has seen; a mismatch is ST_ECONFLICT and nothing is written),
 * replay with inclusive bounds, a highest sequence number that never
 * decreases (not even after deletion), deletion up to a sequence number,
 * paginated pids, events by tag in a stable global order (projections
 * resume from the last `ordering` they saw), and snapshots found by
 * criteria.
 *
 * Callers pass and receive plaintext; sealing happens here, with each
 * event bound to (pid, seq, timestamp, tags) and each snapshot to
 * (pid, seq, timestamp) (store/binding.h). Without a key ring the same
 * path writes the plain envelope (seal/plain.h): a checksum over the
 * record and that binding, checked on every read (ST_ECORRUPT). A journal may be shared between
 * threads; every call takes its lock, and callbacks run under it (they must not call back into the
 * same journal).
 */
#ifndef DD_STORE_JOURNAL_H
#define DD_STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seal/seal.h"
#include "store/backend.h"

#define JOURNAL_MAX_BATCH 65536u

typedef struct journal journal;

typedef struct journal_options {
    uint64_t snapshot_keep; /* keep the newest N snapshots per pid; 0 = all */
    uint64_t max_event_bytes;
    /* Benchmarks and format tests only: without a sealer, store records
     * bare, as format 1 did (no checksum envelope). A store written so
     * is not readable by a journal opened without it. */
    bool bare_records;
} journal_options;

static inline journal_options journal_options_default(void)
{
    journal_options o = {0, 64ull << 20, false};
    return o;
}

typedef struct journal_event_in {
    const uint8_t *payload;
    size_t len;
    uint64_t timestamp_ms;
    const char *const *tags; /* NUL-terminated, non-empty; may be NULL */
    size_t tag_count;
} journal_event_in;

/* Takes ownership of `be` and `seal` (NULL = unsealed: a plain sealer,
 * checksums without compression, unless opts->bare_records), also on
 * failure. opts may be NULL. */
int journal_open_backend(journal **out, store_backend *be, sealer *seal,
                         const journal_options *opts);
int journal_open_memory(journal **out);
void journal_close(journal *j);

/* Writes events expected_seq + 1 .. expected_seq + count, all or none. */
int journal_append(journal *j, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                   const journal_event_in *events, size_t count);
/* Events with from <= seq <= to, at most max, ascending. Events passed to
 * fn carry plaintext payloads; a non-zero return from fn stops and is
 * returned. */
int journal_replay(journal *j, const uint8_t *pid, size_t pid_len, uint64_t from, uint64_t to,
                   uint64_t max, store_event_fn fn, void *ctx);
int journal_highest(journal *j, const uint8_t *pid, size_t pid_len, uint64_t *out);
/* Deletes events with seq <= to (clamped to the highest). */
int journal_delete_to(journal *j, const uint8_t *pid, size_t pid_len, uint64_t to);
int journal_pids(journal *j, const uint8_t *after, size_t after_len, uint64_t limit,
                 store_pid_fn fn, void *ctx);
int journal_by_tag(journal *j, const char *tag, uint64_t after_ordering, uint64_t max,
                   store_event_fn fn, void *ctx);

/* Saves (replacing one at the same seq), then prunes to snapshot_keep; a
 * failed prune does not fail the save. */
int journal_snapshot_save(journal *j, const uint8_t *pid, size_t pid_len, uint64_t seq,
                          uint64_t timestamp_ms, const uint8_t *data, size_t len);
/* The newest snapshot matching c (NULL = any); ST_ENOTFOUND when none.
 * `data` is replaced with the plaintext. */
int journal_snapshot_load(journal *j, const uint8_t *pid, size_t pid_len,
                          const snapshot_criteria *c, uint64_t *seq, uint64_t *timestamp_ms,
                          bytes *data);
/* Deletes the snapshots matching c (a single one: min_seq = max_seq). */
int journal_snapshot_delete(journal *j, const uint8_t *pid, size_t pid_len,
                            const snapshot_criteria *c);

#endif
