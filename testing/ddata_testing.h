/*
 * ddata_testing: test doubles for applications' own C tests (#18.6), the C
 * twin of Python's ddata.testing, Node's ddata-crdt/testing and Rust's
 * ddata::testing. Link libddata_testing.a before libddata.
 *
 * A simulated cluster: N pump-mode nodes (dd_system + dd_replica) in one
 * process, driven only through the public ABI, with one manual clock and a
 * seeded network that drops, delays (and so reorders) messages, and
 * partitions and heals. Nothing runs on its own: dd_testing_cluster_step
 * advances the clock, ticks every node, hands their outgoing messages to
 * the network and delivers the ones that are due. The same seed gives the
 * same run: print dd_testing_cluster_seed when a test fails.
 *
 * Nodes are named "n0".."n{N-1}" and join through "n0". Calls return a
 * DD_* status like the library's; a message is in dd_error_last() for the
 * library's own failures.
 */
#ifndef DDATA_TESTING_H
#define DDATA_TESTING_H

#include <stdint.h>

#include "ddata.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dd_testing_cluster dd_testing_cluster;

typedef struct dd_testing_cluster_options {
    uint32_t version;      /* DD_TESTING_CLUSTER_OPTIONS_VERSION */
    uint32_t nodes;        /* 1..64 */
    uint64_t seed;         /* the network's randomness; 0 = 1 */
    uint64_t start_ms;     /* the clock's first reading */
    uint32_t drop_pct;     /* each message is lost with this chance, 0..100 */
    uint64_t min_delay_ms; /* each message arrives this much later, */
    uint64_t max_delay_ms; /* uniformly in [min, max] */
    /* For every replica; NULL = DD_REPLICA_OPTIONS_INIT. With durable keys
     * and no store, each node gets an in-memory state store of its own
     * that survives dd_testing_cluster_restart. */
    const dd_replica_options *replica;
} dd_testing_cluster_options;

#define DD_TESTING_CLUSTER_OPTIONS_VERSION 1
#define DD_TESTING_CLUSTER_OPTIONS_INIT                                                            \
    {                                                                                              \
        DD_TESTING_CLUSTER_OPTIONS_VERSION, 3, 1, 1000000, 0, 0, 0, NULL                           \
    }

/* The cluster, open and joined through "n0" (run a few steps to converge
 * membership). Free with dd_testing_cluster_free (NULL-safe). */
int dd_testing_cluster_new(dd_testing_cluster **out, const dd_testing_cluster_options *opts);
void dd_testing_cluster_free(dd_testing_cluster *c);

uint32_t dd_testing_cluster_size(const dd_testing_cluster *c);
uint64_t dd_testing_cluster_seed(const dd_testing_cluster *c);
/* The manual clock: the time every node was last ticked at. */
uint64_t dd_testing_cluster_now(const dd_testing_cluster *c);
/* "n<i>", or NULL past the end. */
const char *dd_testing_cluster_node_id(const dd_testing_cluster *c, uint32_t i);
/* Node i's system and replica; NULL while it is stopped. Borrowed: the
 * cluster closes them. */
dd_system *dd_testing_cluster_system(dd_testing_cluster *c, uint32_t i);
dd_replica *dd_testing_cluster_replica(dd_testing_cluster *c, uint32_t i);

/* Advances the clock by `ms`, ticks every running node, sends what they
 * queued and delivers what is due. A message a node refuses is counted as
 * dropped, as a real network loses it. */
int dd_testing_cluster_step(dd_testing_cluster *c, uint64_t ms);
/* `ms` of steps of `step_ms` (0 = 50). */
int dd_testing_cluster_run(dd_testing_cluster *c, uint64_t ms, uint64_t step_ms);

/* The network. partition: group[i] is node i's group; nodes of different
 * groups cannot talk, and messages already in flight between them are
 * lost. heal: everyone talks again. set_faults: loss and delay from now on. */
int dd_testing_cluster_partition(dd_testing_cluster *c, const uint32_t *group, uint32_t count);
void dd_testing_cluster_heal(dd_testing_cluster *c);
int dd_testing_cluster_set_faults(dd_testing_cluster *c, uint32_t drop_pct, uint64_t min_delay_ms,
                                  uint64_t max_delay_ms);
/* Messages handed to the network, and those it lost, so far. */
uint64_t dd_testing_cluster_sent(const dd_testing_cluster *c);
uint64_t dd_testing_cluster_dropped(const dd_testing_cluster *c);

/* A crash: closes node i (its in-memory store survives). restart: stops
 * it if running and opens it again with a new incarnation, same store. */
int dd_testing_cluster_stop(dd_testing_cluster *c, uint32_t i);
int dd_testing_cluster_restart(dd_testing_cluster *c, uint32_t i);

/* In-memory stores for tests (gone when closed). */
int dd_testing_memory_store(dd_state_store **out);
int dd_testing_memory_journal(dd_journal **out);

#ifdef __cplusplus
}
#endif

#endif /* DDATA_TESTING_H */
