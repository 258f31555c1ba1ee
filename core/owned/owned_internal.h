/*
 * The engine's internals, shared by engine.c (queues, membership, timers),
 * owner.c (this node's instances) and reader.c (views of other nodes).
 */
#ifndef DD_OWNED_OWNED_INTERNAL_H
#define DD_OWNED_OWNED_INTERNAL_H

#include "owned/owned.h"
#include "owned/wire.h"

/* A base view and the deltas after it: an instance, owned or viewed. */
typedef struct owned_chain {
    uint64_t incarnation;
    uint64_t base_age;
    bytes base;
    bytes *deltas;
    size_t n_deltas, cap_deltas;
} owned_chain;

typedef struct owned_view {
    bool present;
    owned_chain chain;
    uint32_t wire_version;
    bool mismatch;  /* last message spoke another version */
    bool announced; /* ann_* hold the newest generation heard of */
    owned_gen ann;
    uint64_t confirmed_ms;
    bool want_pull; /* a gap or newer incarnation was seen */
    uint64_t pull_sent_ms;
    bool pull_in_flight;
} owned_view;

typedef struct owned_member {
    uint64_t node;
    uint64_t incarnation;
    bool up;
    owned_view *views; /* one per registered type, same index */
} owned_member;

typedef struct owned_type {
    char name[OWNED_TYPE_NAME_MAX + 1];
    size_t name_len;
    owned_type_options opt;
    owned_chain own;
    bool loaded;          /* own came from the store */
    uint64_t pushed_age;  /* newest age sent to peers */
    bool push_snapshot;   /* a full view was published since the last push */
    uint64_t push_due_ms; /* UINT64_MAX: nothing due */
    bool feed_dirty;
    uint64_t feed_due_ms;
    uint64_t next_feed_ms;
    uint64_t next_sync_ms;
    bool compact_asked;
} owned_type;

typedef struct owned_query_req {
    uint64_t id;
    uint64_t node;
    size_t type;
    uint64_t max_staleness_ms;
    uint64_t deadline_ms;
} owned_query_req;

typedef struct owned_out {
    uint64_t to;
    uint8_t *data;
    size_t len;
    bool reliable; /* owned_msg_reliable of what it carries */
} owned_out;

struct owned {
    uint64_t node_id;
    uint64_t incarnation;
    owned_persist persist;
    limits lim;
    uint64_t now_ms;  /* engine time: monotonic */
    uint64_t host_ms; /* the host's time at the last tick */
    bool ticked;

    owned_type *types;
    size_t n_types, cap_types;

    owned_member *members;
    size_t n_members, cap_members;

    owned_query_req *queries;
    size_t n_queries, cap_queries;
    uint64_t next_request_id;

    owned_out *out;
    size_t out_head, out_len, out_cap, max_outgoing;

    owned_event *events;
    size_t ev_head, ev_len, ev_cap, max_events;

    owned_stats stats;
    bytes scratch; /* record encoding for saves */
};

/* engine.c */
owned_type *owned_find_type(owned *e, const uint8_t *name, size_t len, size_t *index);
owned_member *owned_find_member(owned *e, uint64_t node);
/* Takes the encoding in `b` (resets it). */
void owned_send(owned *e, uint64_t to, bytes *b, bool reliable);
void owned_send_msg(owned *e, uint64_t to, const owned_msg *m);
void owned_emit(owned *e, const owned_event *ev);
/* An event of `kind` about type t on `node`, every other field zero. */
owned_event owned_event_about(uint32_t kind, const owned_type *t, uint64_t node);
void owned_emit_simple(owned *e, uint32_t kind, const owned_type *t, uint64_t node, owned_gen gen);

/* chain helpers (owner.c) */
owned_gen owned_chain_gen(const owned_chain *c);
void owned_chain_clear(owned_chain *c);
int owned_chain_set_base(owned_chain *c, const uint8_t *data, size_t len);
int owned_chain_push(owned_chain *c, const uint8_t *data, size_t len);
/* Builds a SNAPSHOT of `c` in `m` (m->deltas allocated; free it). */
int owned_chain_snapshot(const owned_chain *c, owned_msg *m);

/* owner.c */
void owned_owner_tick(owned *e);
void owned_owner_answer_pull(owned *e, uint64_t from, owned_type *t, const owned_msg *m);
void owned_owner_greet(owned *e, uint64_t node);

/* reader.c */
int owned_reader_deliver(owned *e, owned_member *from, const owned_msg *m);
void owned_reader_tick(owned *e);
void owned_view_clear(owned_view *v);
void owned_queries_complete(owned *e, uint64_t node, size_t type, int status, bool force);

#endif
