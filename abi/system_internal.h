/*
 * What abi/system.c and abi/replica.c share: the object behind a dd_system
 * handle. A system owns the lock every public call of the system and its
 * replica takes, the event fd, and (once a replica is open) the engine.
 * The engine is created by dd_replica_open because its configuration is
 * the union of the system's (identity, membership) and the replica's
 * (gossip, durability); until then the node does not take part.
 */
#ifndef DD_ABI_SYSTEM_INTERNAL_H
#define DD_ABI_SYSTEM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "ddata.h"
#include "replicator/engine.h"
#include "util/bytes.h"
#include "util/limits.h"

typedef struct sysnet sysnet; /* the built-in transport's driver (system_net.c) */

typedef struct sysobj {
    pthread_mutex_t mu;
    char *node_id;
    uint64_t incarnation;
    uint64_t seed;
    char **seeds;
    size_t seed_count;
    uint64_t failure_timeout_ms, down_after_ms, remove_after_ms;
    uint32_t max_events;
    limits lim;
    uint64_t now_ms; /* the last time the host gave */
    engine *e;       /* NULL until a replica is open */
    int event_fd;
    bool event_fd_signaled;
    sysnet *net; /* NULL in pump mode */
} sysobj;

void system_lock(sysobj *s);
/* Updates the event fd to match the queue, then unlocks. */
void system_unlock(sysobj *s);
/* The time for local operations: the host's last `now`, else the wall clock. */
uint64_t system_now(const sysobj *s);

/* The built-in transport (system_net.c). start dials the seeds and starts
 * the driver thread; stop joins it and closes the transport (NULL-safe);
 * wake asks the driver to send what the engine queued. */
int system_net_start(sysobj *s, const dd_system_options *o);
void system_net_stop(sysobj *s);
void system_net_wake(sysobj *s);
/* Hands what the engine queued to the transport now; called locked, a
 * no-op in pump mode. For dd_replica_close, so the last deltas leave
 * before the engine is freed. */
void system_net_flush(sysobj *s);

#endif
