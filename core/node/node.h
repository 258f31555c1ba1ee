/*
 * The node: where the replicator, node-owned state and the transport meet.
 *
 * A node owns the lock every public call of a system and its replica
 * takes, the event fd that is readable while the replicator has events
 * queued, and (once a replica is open) the replicator engine. The engine
 * is created by the replica because its configuration is the union of the
 * node's (identity, membership) and the replica's (gossip, durability);
 * until then the node does not take part.
 *
 * With the built-in TCP transport (node_net_start) a driver thread pumps
 * the engine, an attached owned engine and an address book over one set of
 * links (driver.c, address_book.c, owned_link.c). Without it (pump mode)
 * the host moves messages itself through the engine.
 *
 * Lock order: the node lock, then an attached owned engine's lock; never
 * the reverse. The handle layer (abi/) only checks arguments, takes the
 * lock and calls in here or into the engine.
 */
#ifndef DD_NODE_NODE_H
#define DD_NODE_NODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/peer_keys.h"
#include "obs/log_queue.h"
#include "net/transport.h"
#include "replicator/engine.h"
#include "util/bytes.h"
#include "util/hash.h"
#include "util/limits.h"

/* The longest address a node dials or announces ("ip:port"). */
#define NODE_ADDR_MAX 255u

typedef struct node_net node_net; /* the built-in transport's driver */

typedef struct node {
    pthread_mutex_t mu;
    char *node_id;
    uint64_t incarnation;
    uint64_t seed;
    char **seeds;
    size_t seed_count;
    uint64_t failure_timeout_ms, down_after_ms, remove_after_ms;
    uint32_t max_events;
    limits lim;
    uint64_t now_ms;                   /* pump mode: the last time the host gave (any origin) */
    bool has_time;                     /* the host has given one (0 is a time, not a sentinel) */
    uint64_t (*wall_clock)(void *ctx); /* dd_system_set_wall_clock; NULL: realtime */
    void *wall_clock_ctx;
    engine *e; /* NULL until a replica is open */
    int event_fd;
    bool event_fd_signaled;
    size_t event_fd_queued; /* events (+ log records) queued at the last signal */
    bool logs_wanted;       /* the host reads log records (dd_system_next_log) */
    node_net *net;          /* NULL in pump mode */
    /* Log records of the node itself (transport, slow fsyncs); the engine
     * keeps its own. dd_system_next_log drains both. */
    log_queue logs;
    uint64_t slow_fsyncs_seen;
    bool left; /* node_leave was called: the node takes no further part */
} node;

/* What a node is opened with; strings are copied. */
typedef struct node_config {
    const char *node_id;
    uint64_t incarnation; /* never 0: the caller picks one */
    uint64_t seed;
    const char *const *seeds;
    size_t seed_count;
    uint64_t failure_timeout_ms, down_after_ms, remove_after_ms;
    uint32_t max_events;
    limits lim;
} node_config;

/* Opens a node in pump mode (ST_EIO when the event fd cannot be made). */
int node_open(node **out, const node_config *cfg);
/* Stops the transport, frees the engine if still open; NULL-safe. */
void node_free(node *n);

void node_lock(node *n);
/* Wakes the driver when the engine queued messages, updates the event fd
 * to match the event queue, then unlocks. */
void node_unlock(node *n);
/* The scheduling time for local operations: the host's last `now` in pump
 * mode (0 before the first), CLOCK_MONOTONIC with the built-in transport. */
uint64_t node_now(const node *n);
/* Log records queued (engine's and node's) and the process-wide slow
 * fsync check, which queues "store.slow_fsync" (locked). */
size_t node_log_count(const node *n);
void node_log_slow_fsyncs(node *n);
/* The transport's counters for metrics; called locked. ST_ENOTFOUND in
 * pump mode. */
int node_net_stats(node *n, net_stats *out);

/* The engine's wall clock (engine_config.wall_clock_ms; ctx is the node):
 * the host's installed clock, else CLOCK_REALTIME. Called under the lock. */
uint64_t node_wall_ms(void *ctx);

/* A node id's owned-state id (dd_owned_node_of): the fixed-seed hash the
 * replicator also uses for member identity, so every node and every
 * binding maps a name to the same id. */
static inline uint64_t node_owned_id(const char *node_id, size_t len)
{
    return hash_digest(node_id, len);
}

/* The built-in transport's options; strings and keys are copied by
 * net_open. `node_key` (DD_KEY_BYTES) or `node_key_file`, not both. */
typedef struct node_net_config {
    const char *listen_address;
    const char *advertised_address;
    const uint8_t *secret;
    const uint8_t *next_secret;
    bool plaintext;
    const char *node_key_file;
    const uint8_t *node_key;
    const uint8_t *peer_keys;        /* peer_key_count keys back to back */
    const char *const *peer_key_ids; /* NULL, or one id (or NULL) per key */
    size_t peer_key_count;
    uint32_t tick_interval_ms; /* 0: 10 ms */
} node_net_config;

/* The allow-list as the ABI passes it (keys back to back, optional ids)
 * turned into the transport's entries; the caller frees *out. */
int node_peer_keys_from(const uint8_t *keys, const char *const *ids, size_t count, peer_key **out);

/* Opens the transport, dials the seeds and starts the driver thread. On
 * failure nothing is left running. */
int node_net_start(node *n, const node_net_config *cfg);
/* Joins the driver and closes the transport (no-op in pump mode). Takes
 * the node lock: call unlocked. */
void node_net_stop(node *n);
/* Asks the driver to send what the engine queued. */
void node_net_wake(node *n);
/* Hands what the engine queued to the transport now; called locked, a
 * no-op in pump mode. For closing a replica, so the last deltas leave
 * before the engine is freed. */
void node_net_flush(node *n);
/* The transport, or NULL in pump mode; called locked. */
net *node_transport(node *n);

/* An owned engine as the host shares it with the node: the host keeps its
 * lock and its handle; the node calls these with its own lock held. */
struct owned;
typedef struct node_owned_host {
    void *ctx;
    void (*lock)(void *ctx);
    /* Re-arms the owned engine's event fd, then unlocks. */
    void (*unlock)(void *ctx);
    struct owned *(*engine)(void *ctx);
    /* Marks the engine driven (pump calls refused) with the driver's wake
     * fd, or back in pump mode (-1); called with the owned lock held. */
    void (*set_attached)(void *ctx, int wake_fd);
    /* Whether the host closed it (the node then detaches). */
    bool (*closed)(void *ctx);
    /* The node's reference goes; may free the engine. */
    void (*release)(void *ctx);
} node_owned_host;

/* Attaches an owned engine: it is ticked with the replicator, its messages
 * travel on their own channel, and its membership follows the
 * replicator's. Called locked. On success the node holds the reference
 * the host took for it; ST_EUNSUPPORTED in pump mode, ST_ECONFLICT when
 * another engine is attached. */
int node_attach_owned(node *n, const node_owned_host *host);

/* Leaves the cluster cleanly (departure.c, issue 17.11): with a replica
 * open, engine_leave (write-behind flushed, keys offered, departure
 * announced); with the built-in transport, then waits up to timeout_ms
 * for the live members' acks (ST_ETIMEOUT when some did not answer; the
 * node has left all the same). Pump mode returns at once: the host
 * carries the announcement (next_outgoing) and the acks (deliver). A
 * second call is ST_EMISUSE. Call unlocked. */
int node_leave(node *n, uint64_t timeout_ms);
/* ST_EMISUSE naming the node once it has left (called locked). */
int node_refuse_left(const node *n);

/* Canonical JSON (keys sorted) of the engine's counters and, with a
 * transport, its totals, one object per peer and the owned engine's
 * counters. Called locked. */
int node_stats_json(node *n, bytes *out);

#endif
