/*
 * Node-owned distributed state: the sans-I/O engine (the dstate model).
 *
 * A named state type is registered on every node. Each node owns one
 * instance of it and is its only writer; every other node holds a
 * read-only view of it. The owner publishes a full view or a view delta
 * (opaque bytes); a reader holds, per node, the last full view plus the
 * deltas after it, in order, and the host folds them (ddata never calls
 * back into the application).
 *
 * Generations (incarnation, age) order an instance's versions
 * lexicographically; every publish bumps age. A restart that loads the
 * persisted instance keeps its incarnation; a fresh start or a failed
 * load takes the engine's incarnation, which the host makes larger than
 * any before (and which the engine raises above a readable old record).
 * A reader applies a delta only when it is exactly age + 1 of the same
 * incarnation, drops older ones, and answers a gap or a newer incarnation
 * with a pull; a snapshot not newer than the view is discarded. Clocks are
 * never compared across nodes: only generations are.
 *
 * The engine does no I/O and reads no clock. The host drives it:
 *   owned_tick(now)                 timers: feeds, periodic sync, retries
 *   owned_deliver(from, bytes)      a message from another engine
 *   owned_next_outgoing(&to, &msg)  messages to send, until ST_EDONE
 *   owned_member_up/left            membership, from the node shell
 *   owned_next_event(&ev)           what changed, until ST_EDONE
 * Messages from nodes that are not up are dropped ("ghost" messages), so a
 * departed node's view, removed on leave, cannot come back until it
 * rejoins. Not thread-safe: one caller at a time (the ABI layer locks).
 */
#ifndef DD_OWNED_OWNED_H
#define DD_OWNED_OWNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "owned/persist.h"
#include "util/bytes.h"
#include "util/limits.h"

typedef struct owned owned;

/* Numbering is shared with the public header and never changes. */
typedef enum owned_strategy {
    OWNED_ACTIVE_PUSH = 1,
    OWNED_FEED_LAZY_PULL = 2,
    OWNED_FEED_WITH_PERIODIC_SYNC = 3,
    OWNED_PERIODIC_ONLY = 4,
} owned_strategy;

typedef enum owned_mismatch {
    OWNED_KEEP_STALE = 1,    /* keep the last view of a matching version, flagged */
    OWNED_DROP_AND_WAIT = 2, /* remove the view until versions match again */
} owned_mismatch;

typedef enum owned_urgency {
    OWNED_URGENCY_DEFAULT = 0, /* the strategy's: push now, next feed, next sync */
    OWNED_URGENCY_IMMEDIATE = 1,
    OWNED_URGENCY_DELAYED = 2, /* within delay_ms */
    OWNED_URGENCY_SUPPRESSED = 3,
} owned_urgency;

typedef enum owned_event_kind {
    OWNED_EV_VIEW_CHANGED = 1,     /* node's view of type moved to (incarnation, age) */
    OWNED_EV_VIEW_REMOVED = 2,     /* node left, or its version no longer matches */
    OWNED_EV_QUERY_DONE = 3,       /* request_id completed with status */
    OWNED_EV_VERSION_MISMATCH = 4, /* node speaks peer_version of type */
    OWNED_EV_COMPACT_WANTED = 5,   /* own type has compact_every deltas: publish a full view */
} owned_event_kind;

typedef struct owned_event {
    uint32_t kind;
    int32_t status; /* QUERY_DONE: ST_OK, ST_ETIMEOUT, ST_ENOTFOUND, ST_EUNSUPPORTED */
    uint64_t node;
    uint64_t incarnation;
    uint64_t age;
    uint64_t request_id;
    uint32_t peer_version;
    char type[OWNED_TYPE_NAME_MAX + 1];
} owned_event;

typedef struct owned_options {
    uint64_t node_id;
    uint64_t incarnation;  /* used by instances that are not loaded; > 0 */
    owned_persist persist; /* load == NULL: nothing is persisted */
    limits lim;
    size_t max_outgoing; /* queued messages; 0 = 65536 */
    size_t max_events;   /* queued events; 0 = 65536 */
} owned_options;

typedef struct owned_type_options {
    uint32_t strategy;        /* owned_strategy */
    uint32_t wire_version;    /* of the view bytes on the wire */
    uint32_t storage_version; /* of the persisted view bytes */
    uint32_t on_mismatch;     /* owned_mismatch */
    uint32_t compact_every;   /* deltas before OWNED_EV_COMPACT_WANTED; 0 = never */
    uint64_t feed_interval_ms;
    uint64_t sync_interval_ms;
    uint64_t pull_retry_ms;   /* re-send an unanswered pull after this */
    uint64_t pull_timeout_ms; /* a pending query fails after this */
} owned_type_options;

/* Defaults: active push, versions 1, keep stale, compact every 64, feed
 * 100 ms, sync 1000 ms, pull retry 200 ms, pull timeout 5000 ms. */
owned_type_options owned_type_defaults(void);

typedef struct owned_gen {
    uint64_t incarnation;
    uint64_t age;
} owned_gen;

static inline int owned_gen_cmp(owned_gen a, owned_gen b)
{
    if (a.incarnation != b.incarnation)
        return a.incarnation < b.incarnation ? -1 : 1;
    return a.age < b.age ? -1 : a.age > b.age ? 1 : 0;
}

/* A reader's copy of a view (or of the owner's own instance). */
typedef struct owned_view_copy {
    uint64_t node;
    owned_gen gen;
    uint64_t base_age;
    uint32_t wire_version;
    bool version_mismatch; /* kept stale under OWNED_KEEP_STALE */
    uint64_t confirmed_ms; /* engine time the owner last confirmed it */
    bytes base;
    bytes *deltas; /* n_deltas, ages base_age + 1 .. */
    size_t n_deltas;
} owned_view_copy;

void owned_view_copy_free(owned_view_copy *v);

typedef struct owned_stats {
    uint64_t messages_in;
    uint64_t ghost_dropped;   /* from nodes that are not up */
    uint64_t stale_dropped;   /* old deltas and snapshots not newer than the view */
    uint64_t version_dropped; /* type version mismatches */
    uint64_t unknown_type;    /* types not registered here */
    uint64_t corrupt;         /* undecodable messages */
    uint64_t deltas_applied;
    uint64_t snapshots_applied;
    uint64_t pulls_sent;
    uint64_t outgoing_dropped; /* queue full */
    uint64_t events_dropped;   /* queue full */
} owned_stats;

int owned_open(owned **out, const owned_options *opts);
void owned_close(owned *e);

/* Registers a type and loads this node's persisted instance of it. A
 * record that does not load (missing, corrupt, other storage version) is
 * replaced at the next publish by a fresh instance with a larger
 * incarnation. A store that fails otherwise (ST_EIO, ST_ECRYPTO: a wrong
 * key) fails the registration, so a readable record is never overwritten. */
int owned_register(owned *e, const char *type, const owned_type_options *opts);

/* Publishes a full view (full = true, replaces base and deltas) or a
 * delta. Persists first: on failure nothing changes and nothing is sent.
 * `out` (may be NULL) receives the new generation. */
int owned_publish(owned *e, const char *type, bool full, const uint8_t *data, size_t len,
                  uint32_t urgency, uint64_t delay_ms, owned_gen *out);

int owned_tick(owned *e, uint64_t now_ms);
/* ST_ECORRUPT etc. for undecodable bytes (nothing changes); ST_OK for
 * messages dropped by the protocol (ghosts, stale, unknown types). */
int owned_deliver(owned *e, uint64_t from, const uint8_t *data, size_t len);
/* ST_EDONE when nothing is queued. */
int owned_next_outgoing(owned *e, uint64_t *to, bytes *msg);
/* owned_next_outgoing, also saying whether a waiting query needs the
 * message (pulls and their answers: send reliably; the rest is repeated
 * by feeds and syncs). `reliable` may be NULL. */
int owned_next_outgoing_reliable(owned *e, uint64_t *to, bytes *msg, bool *reliable);
int owned_member_up(owned *e, uint64_t node, uint64_t incarnation);
int owned_member_left(owned *e, uint64_t node);

/* A read with a maximum staleness. Fresh (the view is at least the
 * generation the owner announced, and confirmed within max_staleness_ms):
 * *request_id = 0. Otherwise the engine pulls from the owner and
 * *request_id names the OWNED_EV_QUERY_DONE event to wait for.
 * ST_ENOTFOUND for a node that is not up; UINT64_MAX = any age. */
int owned_query(owned *e, const char *type, uint64_t node, uint64_t max_staleness_ms,
                uint64_t *request_id);
/* Copies the current view of node (this node: its own instance).
 * ST_ENOTFOUND when there is none. */
int owned_read(owned *e, const char *type, uint64_t node, owned_view_copy *out);
/* Nodes that are up, ascending; *count is set even when cap is short. */
int owned_nodes(owned *e, uint64_t *nodes, size_t cap, size_t *count);

int owned_next_event(owned *e, owned_event *out);
size_t owned_event_count(const owned *e);
size_t owned_outgoing_count(const owned *e);
owned_stats owned_get_stats(const owned *e);
uint64_t owned_node_id(const owned *e);

#endif
