/*
 * A read-only view of the engine's membership table, for node shells that
 * drive other engines on the same membership (node-owned state rides the
 * replicator's members). Kept apart from engine.h so that readers of the
 * table need not know the engine's internals.
 */
#ifndef DD_REPLICATOR_MEMBERS_VIEW_H
#define DD_REPLICATOR_MEMBERS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replicator/engine.h"

typedef struct engine_member_info {
    const char *id; /* not NUL-terminated; valid until the engine next changes */
    size_t id_len;
    uint64_t incarnation;
    engine_member_state state; /* the gossiped state */
    bool reachable;            /* this node's failure detector */
    bool is_self;
    uint64_t heartbeat;       /* the member's own counter, the highest seen */
    uint64_t last_seen_ms;    /* when that heartbeat last advanced (engine time) */
    uint64_t digest_match_ms; /* when its digest last equalled ours; 0: never */
} engine_member_info;
/* The engine's time: the latest `now` it was given. */
uint64_t engine_now_ms(const engine *e);

/* Members known to the engine, this node included (at index 0). */
size_t engine_member_count(const engine *e);
/* ST_ENOTFOUND past the end. */
int engine_member_at(const engine *e, size_t index, engine_member_info *out);

#endif
