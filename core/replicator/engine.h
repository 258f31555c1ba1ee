/*
 * The replicator engine: one node's replicated key-value store of CRDTs,
 * with membership, anti-entropy and consistency requests, and no I/O.
 *
 * Sans-I/O (DESIGN.md section 2): the engine never reads a clock, opens a
 * socket or starts a thread. A driver feeds it time (engine_tick) and
 * incoming messages (engine_deliver), and drains what it wants sent
 * (engine_next_outgoing) and what it wants the host to know
 * (engine_next_event). The simulator in tests/sim, the TCP transport in
 * core/net and a host's own transport all drive this same interface, so
 * what the simulator proves holds for all of them.
 *
 * Messages are addressed by node id (an opaque string); the driver maps ids
 * to addresses. Nothing here is thread-safe: the owner (dd_system) holds a
 * lock around every call.
 *
 * Ownership: the engine owns its CRDT values; engine_get hands out a copy.
 * The durable store, when given, is borrowed and must outlive the engine.
 */
#ifndef DD_REPLICATOR_ENGINE_H
#define DD_REPLICATOR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/crdt.h"
#include "store/state_store.h"
#include "util/bytes.h"
#include "util/limits.h"

typedef struct engine engine;

/* Numbering mirrors the public header's dd_consistency. */
typedef enum engine_consistency {
    ENGINE_LOCAL = 0,
    ENGINE_FROM = 1,          /* n replicas, this one included */
    ENGINE_MAJORITY = 2,      /* floor(N/2)+1 of the up members */
    ENGINE_MAJORITY_PLUS = 3, /* majority + n, at most N */
    ENGINE_ALL = 4
} engine_consistency;

/* How deltas leave a node after a local update (dstate's strategies). */
typedef enum engine_delta_strategy {
    ENGINE_DELTA_IMMEDIATE = 0, /* pushed to every up peer at once */
    ENGINE_DELTA_BATCHED = 1,   /* joined per key, pushed on the next gossip interval */
    ENGINE_DELTA_NONE = 2       /* digest anti-entropy only */
} engine_delta_strategy;

typedef enum engine_member_state {
    MEMBER_JOINING = 1,
    MEMBER_UP = 2,
    MEMBER_UNREACHABLE = 3,
    MEMBER_DOWN = 4,
    MEMBER_REMOVED = 5
} engine_member_state;

typedef enum engine_event_kind {
    ENGINE_EV_MEMBER = 1,       /* member_id changed to member_state */
    ENGINE_EV_CHANGED = 2,      /* a subscribed key changed */
    ENGINE_EV_DELETED = 3,      /* a subscribed key was deleted */
    ENGINE_EV_EXPIRED = 4,      /* a subscribed key expired */
    ENGINE_EV_REQUEST_DONE = 5, /* request_id finished with status */
    ENGINE_EV_OVERFLOW = 6      /* the queue was full; events were dropped */
} engine_event_kind;

typedef struct engine_event {
    engine_event_kind kind;
    uint8_t *key; /* owned; engine_event_clear frees */
    size_t key_len;
    uint64_t request_id;
    int status;
    char *member_id; /* owned */
    uint64_t member_incarnation;
    engine_member_state member_state;
    uint64_t dropped; /* ENGINE_EV_OVERFLOW: how many */
} engine_event;

/* A durable-key pattern or an expiry prefix: exact bytes, or a prefix. */
typedef struct engine_pattern {
    const uint8_t *bytes;
    size_t len;
    bool is_prefix;
} engine_pattern;

typedef struct engine_config {
    const char *node_id; /* required; copied */
    uint64_t incarnation;
    uint64_t seed;            /* peer choice, request ids */
    state_store *store;       /* durable keys; may be NULL (then nothing is durable) */
    const char *const *seeds; /* node ids to join through; may include self */
    size_t seed_count;

    uint64_t gossip_interval_ms;
    uint32_t gossip_fanout; /* peers per gossip interval */
    engine_delta_strategy delta_strategy;
    size_t max_message_bytes; /* no outgoing message is larger */
    uint64_t notify_interval_ms;

    uint64_t failure_timeout_ms; /* floor of the failure detector */
    double phi_threshold;
    uint64_t down_after_ms;      /* unreachable this long -> down */
    uint64_t remove_after_ms;    /* down this long -> removed (and pruned) */
    uint64_t tombstone_grace_ms; /* after every member saw a tombstone */

    const engine_pattern *durable; /* copied */
    size_t durable_count;
    bool write_behind;
    uint64_t write_behind_interval_ms;

    const engine_pattern *expiry; /* copied */
    size_t expiry_count;
    uint64_t expire_after_ms;

    size_t max_events;
    limits lim;

    /* Removed-node pruning (pruning.c): counter slots of dead actors (a
     * removed member, or a member's former incarnation) are folded into
     * the coordinator's slot. */
    bool prune_disabled;
    uint64_t prune_interval_ms;   /* the coordinator looks for dead actors this often */
    uint64_t prune_delay_ms;      /* an actor dead this long may be pruned */
    uint64_t prune_marker_ttl_ms; /* then its markers are dropped (and it is forgotten) */

    /* The time every node compares (issue 17.1): LWW timestamps, the
     * clock-skew check of received values, changed times behind expiry and
     * prune-marker lifetimes. now_ms (the host's clock, any origin) only
     * schedules. NULL: now_ms serves for both (the simulator's one clock). */
    uint64_t (*wall_clock_ms)(void *ctx);
    void *wall_clock_ctx;

    /* Durable records live under this key prefix in the store (issue
     * 17.2), so one store serves a replica, owned state and the
     * application; the rest is ignored. NULL: ENGINE_DURABLE_PREFIX. At
     * most ENGINE_DURABLE_PREFIX_MAX bytes; copied. */
    const uint8_t *durable_prefix;
    size_t durable_prefix_len;
} engine_config;

#define ENGINE_DURABLE_PREFIX "dd/replica/"
#define ENGINE_DURABLE_PREFIX_MAX 255

void engine_config_default(engine_config *c);

/* Creates the engine and, with a store, loads every durable key before
 * returning, so the first answer and the first gossip already carry them. */
int engine_new(engine **out, const engine_config *c, uint64_t now_ms);
void engine_free(engine *e);

int engine_tick(engine *e, uint64_t now_ms);
/* Malformed input yields ST_ECORRUPT / ST_ELIMIT and changes nothing that
 * was already stored. */
int engine_deliver(engine *e, uint64_t now_ms, const char *from, size_t from_len,
                   const uint8_t *msg, size_t len);
/* Moves the next outgoing message into *to (the node id, no NUL counted)
 * and *msg; ST_EDONE when there is none. */
int engine_next_outgoing(engine *e, bytes *to, bytes *msg);
/* How a message should travel, handed out with it so the transport never
 * reads a message header: what it carries (links count deltas and full
 * states apart) and whether a waiting request needs it (never dropped). */
typedef enum engine_traffic {
    ENGINE_TRAFFIC_OTHER,
    ENGINE_TRAFFIC_DELTA,
    ENGINE_TRAFFIC_FULL
} engine_traffic;
typedef struct engine_outgoing_info {
    engine_traffic traffic;
    bool reliable;
} engine_outgoing_info;
/* engine_next_outgoing, also filling `info` (may be NULL). */
int engine_next_outgoing_info(engine *e, bytes *to, bytes *msg, engine_outgoing_info *info);
size_t engine_outgoing_count(const engine *e);

int engine_next_event(engine *e, engine_event *out);
size_t engine_event_count(const engine *e);
void engine_event_clear(engine_event *ev);

/* Local operations, immediate. ST_ETYPE when the key holds another type,
 * ST_EDELETED when it was deleted. engine_update writes the key's slot in
 * the key table to `idx_out` (may be NULL; requests.c builds writes on
 * it); the update stays applied even when the write-through fails. */
int engine_update(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len, crdt_type type,
                  const crdt_op *op, uint32_t *idx_out);
/* A copy of the value (caller frees). ST_ENOTFOUND, ST_EDELETED. */
int engine_get(engine *e, const uint8_t *key, size_t key_len, crdt **out);
int engine_delete(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len);
/* Iterates live keys: start with *cursor = 0; ST_EDONE at the end. The key
 * pointer is valid until the next mutation of the engine. */
int engine_keys_next(engine *e, uint64_t *cursor, const uint8_t **key, size_t *key_len);
uint64_t engine_key_count(const engine *e); /* live keys */
/* Delta origins (actors) whose sequence numbers the key tracks; 0 if the
 * key is unknown. Statistics and tests: pruning forgets dead ones. */
uint32_t engine_key_origins(const engine *e, const uint8_t *key, size_t key_len);

int engine_subscribe(engine *e, const uint8_t *key, size_t key_len, bool is_prefix);

/* Consistency requests. The local effect of a write is immediate and kept
 * even when the request times out; the completion arrives as an
 * ENGINE_EV_REQUEST_DONE event carrying *request_id (ST_OK or
 * ST_ETIMEOUT). ENGINE_LOCAL completes at once (the event is still queued). */
int engine_write(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len, crdt_type type,
                 const crdt_op *op, engine_consistency level, uint32_t n, uint64_t timeout_ms,
                 uint64_t *request_id);
int engine_read(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len,
                engine_consistency level, uint32_t n, uint64_t timeout_ms, uint64_t *request_id);

/* Identity and membership. */
const char *engine_node_id(const engine *e);
uint64_t engine_incarnation(const engine *e);
uint64_t engine_actor(const engine *e);
uint64_t engine_actor_of(const char *node_id, size_t len, uint64_t incarnation);
/* Members other than self that are up. */
size_t engine_up_peers(const engine *e);
/* The state of `node_id` as this node sees it; ST_ENOTFOUND if unknown. */
int engine_member_state_of(const engine *e, const char *node_id, engine_member_state *state);

/* Leaving cleanly (leave.c, issue 17.11). engine_leave pushes batched
 * deltas, flushes write-behind keys, offers every key to up to three live
 * peers (KEYS: they ask for what they lack) and announces the departure
 * to every member not removed; those answer at once with an ack and mark
 * this node removed without waiting for the failure detector. From then
 * on the engine refuses local writes and requests (ST_EMISUSE), no longer
 * gossips, and only answers the hand-off, announcing again each gossip
 * interval to live members that have not acknowledged. ST_EMISUSE when it
 * has already left; a write-behind failure is returned after the
 * announcement is queued. */
int engine_leave(engine *e, uint64_t now_ms);
bool engine_has_left(const engine *e);
/* Members that were up and reachable at the leave and have not yet
 * acknowledged it (0 before engine_leave). */
size_t engine_leave_unacked(const engine *e);
/* Whether member `id` announced its departure to this node (and has not
 * come back with a new incarnation since). */
bool engine_member_left(const engine *e, const char *id, size_t len);
/* A new link to `id` came up (the transport saw it connect): if it had
 * left, it may be a new incarnation that knows nobody (a seed node
 * restarted without seeds), so it is gossiped to again now and then, as
 * removed members are, and learns the cluster. */
void engine_member_link_up(engine *e, const char *id, size_t len);

/* Writes all write-behind keys now (also done on engine_free); defined in
 * durable.c. */
int durable_flush(engine *e);

/* Statistics, for tests, benchmarks and metrics. */
#define ENGINE_WIRE_KINDS 16
typedef struct engine_stats {
    uint64_t msgs_sent, bytes_sent, msgs_received, bytes_received;
    uint64_t decode_errors, nacks_sent, full_states_sent, tombstones_collected, expired;
    uint64_t actors_pruned; /* dead actors this node pruned as coordinator */
    /* Observability (docs/observability.md): messages and bytes by wire
     * type (index = the type byte; 0 = unknown), gossip rounds that sent a
     * digest status, consistency requests that timed out, outgoing
     * messages refused because the queue was full. */
    uint64_t msgs_sent_by_type[ENGINE_WIRE_KINDS], bytes_sent_by_type[ENGINE_WIRE_KINDS];
    uint64_t msgs_received_by_type[ENGINE_WIRE_KINDS], bytes_received_by_type[ENGINE_WIRE_KINDS];
    uint64_t digest_rounds, request_timeouts, outgoing_dropped;
} engine_stats;
/* The wire type's name for metric labels ("gossip", "delta", ...; "other"). */
const char *engine_wire_kind_name(unsigned kind);
/* Log records (obs/log_queue.h): membership changes, NACKs, full-state
 * fallbacks, durable-store failures. engine_next_log moves the oldest
 * into *out as JSON; ST_EDONE when none. */
int engine_next_log(engine *e, bytes *out);
size_t engine_log_count(const engine *e);
/* Keys held as tombstones; consistency requests waiting for replies. */
uint64_t engine_tombstone_count(const engine *e);
size_t engine_pending_requests(const engine *e);
void engine_get_stats(const engine *e, engine_stats *out);

#endif
