/*
 * What the anti-entropy files share: the batch that builds every list
 * message (antientropy_batch.c), the tombstone bookkeeping the repair
 * handlers consult (antientropy_tombstones.c), and the malformed-message
 * error. The protocol itself is described at the top of antientropy.c.
 */
#ifndef DD_REPLICATOR_ANTIENTROPY_INTERNAL_H
#define DD_REPLICATOR_ANTIENTROPY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replicator/engine_internal.h"

#define MAX_LIST 1000000u
#define MAX_PEERS 4096u

/* A list message under construction: entries are appended to `body`
 * between batch_begin and batch_end; a message leaves before the next
 * entry would pass the size budget. */
typedef struct batch {
    engine *e;
    wire_type type;
    const char *to; /* NULL: every up peer */
    size_t to_len;
    bytes prefix, prefix_next; /* fields before the count; _next after the first flush */
    bytes body;
    uint64_t count;
    size_t entry_start;
    size_t budget;
} batch;

/* `to` NULL: every up peer. */
void batch_init(batch *bt, engine *e, wire_type type, const char *to, size_t to_len);
void batch_begin(batch *bt);
/* Ends an entry: when it pushed the body over budget, what came before it
 * leaves as one message and the entry starts the next. */
void batch_end(batch *bt);
/* Sends what is left; with `always`, also an empty list. Frees the batch. */
void batch_finish(batch *bt, bool always);
/* One delta entry: key, type, origin actor and its per-key sequence, the
 * change time and the encoded delta. Nothing is added when the delta does
 * not encode. */
void batch_put_delta(batch *bt, const kentry *ke, const crdt *delta, uint64_t seq);
/* A STATE batch: the full states of keys, answering `request_id` (0 for
 * repair nobody asked for by id). */
void batch_init_states(batch *bt, engine *e, const char *to, size_t to_len, uint64_t request_id);
/* One full-state entry for key `idx`; an entry that does not encode is
 * taken back out. */
void batch_put_state(batch *bt, uint32_t idx);

/* Sets ST_ECORRUPT, "replicator: malformed <what> message", and returns it. */
int antientropy_corrupt(const char *what);

/* Records that the peer with id hash `peer_hash` holds tombstone `ke`. */
void antientropy_tomb_add(kentry *ke, uint64_t peer_hash);
/* Whether the peer with id hash `peer_hash` is recorded as holding `ke`. */
static inline bool antientropy_tomb_has(const kentry *ke, uint64_t peer_hash)
{
    for (uint32_t i = 0; i < ke->tomb_seen_n; i++)
        if (ke->tomb_seen[i] == peer_hash)
            return true;
    return false;
}
/* True when `ke` is a tombstone the peer with id hash `peer_hash` is known
 * to hold (or to have held and collected): digest repair must not offer it
 * back (see the top of antientropy.c). Inline: it is asked once per key of
 * every KEYS list built (keys_for_buckets). */
static inline bool antientropy_tomb_known_to(const kentry *ke, uint64_t peer_hash)
{
    return (ke->flags & KE_TOMB) && antientropy_tomb_has(ke, peer_hash);
}
int antientropy_handle_tomb_seen(engine *e, const char *from, size_t from_len, reader *r);

#endif
