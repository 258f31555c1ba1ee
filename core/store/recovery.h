/*
 * Persistence strategies and recovery for event-sourced actors, as
 * ave-actors names them:
 *
 *  - Light: every event is written with a snapshot of the state after it
 *    (fast recovery, more bytes written).
 *  - Full: events only, and a snapshot every `snapshot_every` events
 *    (100 by default); optionally the events a snapshot covers are
 *    deleted (compaction).
 *
 * Recovery loads the latest snapshot and replays the events after it
 * through the caller's functions. A gap in the event log (an event
 * missing between the snapshot and the highest sequence number) fails
 * with ST_ECORRUPT rather than recovering a wrong state. Callbacks run
 * without the journal's lock held, so they may use the journal.
 */
#ifndef DD_STORE_RECOVERY_H
#define DD_STORE_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/journal.h"

typedef enum persist_strategy { PERSIST_LIGHT = 1, PERSIST_FULL = 2 } persist_strategy;

typedef struct persist_options {
    persist_strategy strategy;
    uint64_t snapshot_every; /* Full: events between snapshots; 0 = 100 */
    bool compact;            /* Full: delete events covered by a snapshot */
} persist_options;

/* Appends one event (at expected_seq + 1) and, as the strategy says, a
 * snapshot of `state` (the state after the event). The event is what is
 * acknowledged: when the snapshot or the compaction fails afterwards the
 * call still returns ST_OK, since recovery replays from an older snapshot. */
int persist_event(journal *j, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                  const journal_event_in *event, const uint8_t *state, size_t state_len,
                  const persist_options *opts, uint64_t *new_seq);

/* Called once with the snapshot recovery starts from (not at all when
 * there is none); non-zero stops recovery and is returned. */
typedef int (*recover_snapshot_fn)(void *ctx, uint64_t seq, const uint8_t *state, size_t len);
/* Called for each event after the snapshot, in order. */
typedef int (*recover_event_fn)(void *ctx, const store_event *ev);

/* Recovers pid; *recovered_seq is the last sequence number applied (0
 * for a pid with no history). */
int recover(journal *j, const uint8_t *pid, size_t pid_len, recover_snapshot_fn on_snapshot,
            recover_event_fn on_event, void *ctx, uint64_t *recovered_seq);

#endif
