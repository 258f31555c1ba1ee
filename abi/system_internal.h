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
#include "util/hash.h"
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
    uint64_t now_ms;                   /* pump mode: the last time the host gave (any origin) */
    bool has_time;                     /* the host has given one (0 is a time, not a sentinel) */
    uint64_t (*wall_clock)(void *ctx); /* dd_system_set_wall_clock; NULL: realtime */
    void *wall_clock_ctx;
    engine *e; /* NULL until a replica is open */
    int event_fd;
    bool event_fd_signaled;
    sysnet *net; /* NULL in pump mode */
} sysobj;

void system_lock(sysobj *s);
/* Updates the event fd to match the queue, then unlocks. */
void system_unlock(sysobj *s);
/* The scheduling time for local operations: the host's last `now` in pump
 * mode (0 before the first), CLOCK_MONOTONIC with the built-in transport. */
uint64_t system_now(const sysobj *s);
/* The engine's wall clock (engine_config.wall_clock_ms; ctx is the sysobj):
 * the host's installed clock, else CLOCK_REALTIME. Called under the lock. */
uint64_t system_wall_ms(void *ctx);

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

/* Node-owned state on the built-in transport (the driver side in
 * system_net.c, the engine side in owned.c). One owned engine per system.
 * Lock order: the system lock, then the owned lock; never the reverse. */
typedef struct abi_owned abi_owned;
/* A system node id's owned-state id (dd_owned_node_of): the fixed-seed
 * hash the replicator also uses for member identity, so every node and
 * every binding maps a name to the same id. */
static inline uint64_t system_owned_id(const char *node_id, size_t len)
{
    return hash_bytes(node_id, len, 0);
}
/* Attaches `o` (handle `h`, retained until detached); called with the
 * system locked. DD_EUNSUPPORTED in pump mode, DD_ECONFLICT when another
 * engine is attached. */
int system_net_attach_owned(sysobj *s, const void *h, abi_owned *o);

/* owned.c: what the driver uses on an attached engine. lock/unlock take
 * the engine's lock (unlock re-arms its event fd); set_attached marks the
 * engine driven (pump calls refused) and gives it the driver's wake fd
 * (-1 on detach), called locked. */
struct owned;
void abi_owned_lock(abi_owned *o);
void abi_owned_unlock(abi_owned *o);
struct owned *abi_owned_engine(abi_owned *o);
void abi_owned_set_attached(abi_owned *o, int wake_fd);

#endif
