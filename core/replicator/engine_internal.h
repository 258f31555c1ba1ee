/*
 * The engine's state, shared by its source files (engine.c: lifecycle;
 * engine_queues.c; engine_changes.c; engine_local.c; engine_dispatch.c; membership.c;
 * antientropy.c; pruning.c; requests.c; durable.c). Nothing outside core/replicator includes this.
 */
#ifndef DD_REPLICATOR_ENGINE_INTERNAL_H
#define DD_REPLICATOR_ENGINE_INTERNAL_H

#include "replicator/engine.h"
#include "replicator/keytable.h"
#include "replicator/wire.h"
#include "obs/log_queue.h"
#include "util/rng.h"

typedef struct member {
    char *id;
    size_t id_len;
    uint64_t id_hash; /* hash_digest(id): compact identity in tombstone sets */
    uint64_t incarnation;
    uint64_t actor;
    engine_member_state state; /* gossiped: joining, up, down, removed */
    bool reachable;            /* local failure-detector view */
    uint64_t heartbeat;        /* the member's own counter, max seen */
    uint64_t last_seen_ms;     /* when the heartbeat last advanced */
    double mean_interval_ms;
    uint64_t state_since_ms;
    uint64_t unreachable_since_ms;
    /* When a digest status this member sent last equalled ours, bucket for
     * bucket (0: never); the convergence-lag gauge. */
    uint64_t digest_match_ms;
    /* leave.c: the member announced its departure to this node (not
     * gossiped to any more); or, on a node that is leaving, the member
     * acknowledged its announcement. */
    bool left;
    bool leave_acked;
    bool leave_handoff; /* on the leaving node: this member was offered its keys */
} member;

typedef struct outmsg {
    char *to;
    size_t to_len;
    uint8_t *data;
    size_t len;
    wire_type type; /* what it carries, for engine_outgoing_info */
} outmsg;

typedef struct subscription {
    uint8_t *key;
    size_t len;
    bool is_prefix;
} subscription;

typedef struct request {
    uint64_t id;
    bool is_read;
    uint8_t *key;
    size_t key_len;
    uint32_t needed; /* replicas including this one */
    uint32_t got;    /* replies, this one included */
    uint64_t deadline_ms;
    uint64_t *from; /* id hashes that replied */
    uint32_t nfrom;
} request;

/* An actor that will never write again: a removed member's, or the one a
 * member used before it took a new incarnation (pruning.c). */
typedef struct dead_actor {
    uint64_t actor;
    uint64_t since_ms;
} dead_actor;

/* The coordinator's phase 1 for one dead actor: who has acknowledged. */
typedef struct prune_task {
    uint64_t removed;
    uint64_t *acked; /* id hashes of members */
    uint32_t nacked;
} prune_task;

typedef struct partial {
    uint64_t from_hash, msg_id;
    uint32_t count, have;
    uint64_t bytes;
    uint64_t started_ms;
    bytes *pieces;
} partial;

struct engine {
    engine_config cfg;
    char *node_id;
    size_t node_id_len;
    uint64_t incarnation;
    uint64_t actor;
    rng rng;
    uint64_t now_ms;
    uint8_t durable_prefix[ENGINE_DURABLE_PREFIX_MAX]; /* durable.c */
    size_t durable_prefix_len;
    uint64_t next_gossip_ms, next_notify_ms, next_flush_ms;
    uint64_t heartbeat;
    bool joined;

    keytable kt;

    member *members; /* members[0] is this node */
    size_t nmembers, cap_members;
    /* membership_find's index: open addressing by id_hash, each slot the
     * member's index + 1 (0: empty); NULL falls back to a scan. */
    uint32_t *member_slots;
    size_t member_slots_cap;

    outmsg *out; /* ring buffer */
    size_t out_head, out_len, out_cap;
    uint64_t out_bytes;

    engine_event *events; /* ring buffer */
    size_t ev_head, ev_len, ev_cap;
    uint64_t ev_dropped;

    subscription *subs;
    size_t nsubs;

    engine_pattern *durable; /* owned copies */
    engine_pattern *expiry;

    request *reqs;
    size_t nreqs, cap_reqs;
    uint64_t next_request_id;

    partial *partials;
    size_t npartials;
    uint64_t partial_bytes; /* all partials together, bounded by 2 * max_bytes */
    uint64_t next_msg_id;

    /* Entry indices with work pending, deduplicated by the KE_* flags. */
    uint32_t *stale, *notify, *batched, *dirty, *tombs;
    size_t nstale, nnotify, nbatched, ndirty, ntombs;
    size_t cap_stale, cap_notify, cap_batched, cap_dirty, cap_tombs;

    dead_actor *dead; /* oldest first */
    size_t ndead, cap_dead;
    prune_task *tasks;
    size_t ntasks;
    uint64_t next_prune_ms, next_marker_drop_ms;
    uint32_t peak_up; /* most up members (self included) seen lately */
    uint64_t peak_at_ms;

    engine_stats stats;
    log_queue logs; /* log records for the host (engine_next_log) */

    /* leave.c: this node has left (engine_leave); it then only carries its
     * announcement and answers the hand-off. */
    bool left;
};

/* Node ids are at most this many bytes (no NUL inside). */
#define ENGINE_MAX_NODE_ID 255u

/* engine.c */
int idx_push(uint32_t **v, size_t *n, size_t *cap, uint32_t idx);
bool engine_pattern_match(const engine_pattern *p, size_t n, const uint8_t *key, size_t len);

/* engine_queues.c */
int engine_send(engine *e, wire_type type, const char *to, size_t to_len, bytes *msg);
void engine_emit(engine *e, engine_event *ev);

/* engine_changes.c */
/* Everything that must follow a change of an entry's value: digest,
 * subscriptions, durability, expiry clock. `kind` is the event kind.
 * Returns the write-through status (the change itself always stands). */
int engine_changed(engine *e, uint32_t idx, engine_event_kind kind);
void engine_refresh_digests(engine *e);
uint64_t engine_entry_digest(const kentry *ke);
/* Merges a received full state (value NULL with tomb) into the key. */
int engine_merge_state(engine *e, const uint8_t *key, size_t key_len, crdt_type type, bool tomb,
                       crdt *value, uint64_t changed_ms, uint32_t *idx_out);
/* Makes entry idx a tombstone (value dropped, delete event). */
void engine_mark_tomb(engine *e, uint32_t idx);
/* Inserts a key of `type`, durable when a durable pattern matches it. */
int engine_new_entry(engine *e, const uint8_t *key, size_t len, crdt_type type, uint32_t *idx);
/* Emits the change events collected since the last notify interval. */
void engine_notify_flush(engine *e);
/* Drops the keys whose expiry time has passed. */
void engine_expiry_scan(engine *e);
/* Appends one STATE entry for `idx`. */
int engine_put_state_entry(engine *e, bytes *b, uint32_t idx);
/* Reads and merges one STATE entry; *was_tomb says whether the entry
 * itself was a tombstone (what the sender holds), whatever the result. */
int engine_read_state_entry(engine *e, reader *r, uint32_t *idx_out, bool *was_tomb);

/* engine_local.c */
/* The shared time (engine_config.wall_clock_ms, else now_ms). */
static inline uint64_t engine_wall_ms(const engine *e)
{
    return e->cfg.wall_clock_ms ? e->cfg.wall_clock_ms(e->cfg.wall_clock_ctx) : e->now_ms;
}

int engine_check_key(const engine *e, const uint8_t *key, size_t len);

/* engine_dispatch.c */
/* Frees partially reassembled message `at` (the last one moves into it). */
void engine_partial_drop(engine *e, size_t at);

/* membership.c */
int membership_init(engine *e);
void membership_free(engine *e);
/* This node starts the cluster: up at once, with its MEMBER event. */
void membership_start_cluster(engine *e);
member *membership_find(engine *e, const char *id, size_t len);
/* Applies what the header of a message from `from` says (incarnation). */
member *membership_heard(engine *e, const char *from, size_t from_len, uint64_t incarnation,
                         bool add);
void membership_put(engine *e, bytes *b);
int membership_read(engine *e, reader *r, member *sender);
void membership_tick(engine *e);
/* Members other than self in state up (reachable or not: sending to a
 * member wrongly suspected costs little), in a stable order. */
size_t membership_up_peers(const engine *e, const member **out, size_t max);
uint32_t membership_up_count(const engine *e); /* self included */
/* Marks `m` removed at once, with its MEMBER event (leave.c: a member
 * that announced its departure, or this node itself when it leaves). */
void membership_mark_removed(engine *e, member *m);
bool membership_counts_for_tombstones(const member *m);

/* antientropy.c */
void antientropy_gossip_round(engine *e);
int antientropy_handle(engine *e, member *from, const char *from_id, size_t from_len,
                       wire_type type, reader *r);
void antientropy_push_delta(engine *e, uint32_t idx, const crdt *delta, uint64_t seq);
void antientropy_flush_batched(engine *e);
void antientropy_push_state_all(engine *e, uint32_t idx, uint64_t request_id);
void antientropy_tomb_round(engine *e);
void antientropy_tomb_check(engine *e, uint32_t idx);
/* KEYS listing every key (no reply wanted) to one member: the receiver
 * asks (WANT) for what it lacks. A leaving node's hand-off (leave.c). */
void antientropy_offer_keys(engine *e, const char *to, size_t to_len);

/* pruning.c */
void prune_note_dead(engine *e, uint64_t actor);
void prune_tick(engine *e);
int prune_handle(engine *e, member *from, const char *from_id, size_t from_len, reader *r);
void prune_free(engine *e);

/* leave.c */
/* A local write or request after engine_leave: ST_EMISUSE, said once here. */
int leave_refuse(const engine *e);
/* The tick of a node that has left: announces again to whoever has not
 * acknowledged, once per gossip interval. */
void leave_tick(engine *e);
/* A message a node that has left does not take: the sender still thinks
 * it is in, so it gets the announcement (unless it acknowledged one). */
void leave_answer(engine *e, const char *from, size_t from_len);
/* WIRE_LEAVE from `from` (announce or ack); `inc` is the header's. */
int leave_handle(engine *e, const char *from, size_t from_len, uint64_t inc, reader *r);
/* Whether a node that has left still takes a message of `type`: the
 * hand-off's answers (KEYS, WANT, NACK, STATE, DELTA), acks and pieces. */
bool leave_accepts(wire_type type);

/* requests.c */
int requests_on_ack(engine *e, uint64_t from_hash, uint64_t id);
void requests_tick(engine *e);
void requests_free(engine *e);

/* durable.c */
int durable_load(engine *e);
int durable_write(engine *e, uint32_t idx);
int durable_remove(engine *e, const uint8_t *key, size_t len);

#endif
