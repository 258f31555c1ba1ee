/*
 * The deterministic cluster simulator.
 *
 * N replicator engines in one process, driven through exactly the pump
 * interface a transport uses (engine_tick, engine_deliver,
 * engine_next_outgoing), over a simulated network with virtual time and
 * one seeded RNG: it drops, duplicates, delays (and so reorders)
 * messages, partitions and heals, crashes and restarts nodes with or
 * without their durable store, and skews each node's clock. The same seed
 * replays the same run exactly (the FoundationDB approach): a failing
 * scenario prints its seed and DD_SEED=<seed> replays it.
 */
#ifndef DD_SIM_H
#define DD_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "replicator/engine.h"
#include "util/rng.h"

#define SIM_MAX_NODES 4096

typedef struct sim_config {
    uint32_t nodes;
    uint64_t seed;
    uint32_t drop_pct; /* each message */
    uint32_t dup_pct;
    uint64_t min_delay_ms, max_delay_ms;
    uint64_t max_skew_ms; /* each node's clock is off by up to this */
    uint64_t step_ms;     /* tick granularity */
    uint64_t gossip_interval_ms;
    uint32_t fanout;
    engine_delta_strategy strategy;
    size_t max_message_bytes;
    bool stores; /* every node gets a memory state store */
    const engine_pattern *durable;
    size_t durable_count;
    uint64_t tombstone_grace_ms;
    const engine_pattern *expiry;
    size_t expiry_count;
    uint64_t expire_after_ms;
    /* membership and pruning; 0 keeps the engine's default */
    uint64_t down_after_ms, remove_after_ms;
    uint64_t prune_interval_ms, prune_delay_ms, prune_marker_ttl_ms;
    bool prune_disabled;
    /* write-behind of durable keys (engine_config.write_behind) */
    bool write_behind;
    uint64_t write_behind_interval_ms;
} sim_config;

void sim_config_default(sim_config *c);
/* The defaults with `seed`. */
sim_config sim_config_seeded(uint64_t seed);

typedef struct sim_node {
    engine *e; /* NULL while crashed */
    char id[16];
    uint64_t incarnation;
    int64_t skew_ms;
    state_store *store;
    int group; /* partition group */
} sim_node;

typedef struct sim sim;

int sim_new(sim **out, const sim_config *c);
void sim_free(sim *s);
uint64_t sim_now(const sim *s);
uint32_t sim_nodes(const sim *s);
sim_node *sim_node_at(sim *s, uint32_t i);
rng *sim_rng(sim *s);
/* The node's own clock (virtual time plus its skew). */
uint64_t sim_node_now(const sim *s, uint32_t i);

/* Advances virtual time by ms, delivering and ticking on the way. */
void sim_run(sim *s, uint64_t ms);

void sim_partition(sim *s, const int *groups); /* groups[i] for node i */
void sim_heal(sim *s);
void sim_set_faults(sim *s, uint32_t drop_pct, uint32_t dup_pct);
void sim_crash(sim *s, uint32_t i);
/* Restarts with a new incarnation, with the old store or a fresh one. */
int sim_restart(sim *s, uint32_t i, bool keep_store);

/* True when every running node holds the same live keys with equal
 * values; on false, *why says where they differ (static storage). */
bool sim_converged(sim *s, const char **why);
/* Runs until converged or `max_ms` passed; returns the ms it took or
 * UINT64_MAX. Checks every check_ms. */
uint64_t sim_run_until_converged(sim *s, uint64_t max_ms, uint64_t check_ms);

/* Cluster-wide bytes handed to the network since the last reset. */
uint64_t sim_bytes_sent(const sim *s);
/* The largest message any node has sent. */
size_t sim_max_message(const sim *s);
void sim_reset_bytes(sim *s);

/* Called for every event a node yields (may be NULL). */
typedef void (*sim_event_fn)(void *ctx, uint32_t node, const engine_event *ev);
void sim_on_event(sim *s, sim_event_fn fn, void *ctx);

/* Helpers for scenarios: a counter's value (-1 when absent or deleted),
 * and one-line updates on a running node at its own clock. */
int64_t sim_counter(engine *e, const char *key);
int sim_increment(sim *s, uint32_t node, const char *key, uint64_t amount);
int sim_delete(sim *s, uint32_t node, const char *key);
int sim_set_add(sim *s, uint32_t node, const char *key, const char *element, bool remove);
/* How many scenario seeds to run: DD_SIM_SEEDS, else `normal` (a fifth
 * of it under AddressSanitizer), times 20 with DD_LONG. */
unsigned sim_seed_count(unsigned normal);

#endif
