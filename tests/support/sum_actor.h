/*
 * The actor the recovery tests replay, in the core and through the ABI
 * alike: a running sum of its events' single-byte payloads, whose snapshot
 * is the 8-byte sum. The two layers hand events over in different types,
 * so each test keeps a one-line event callback around sum_actor_apply; the
 * snapshot callback has the same signature in both and is shared whole.
 */
#ifndef DD_TEST_SUM_ACTOR_H
#define DD_TEST_SUM_ACTOR_H

#include <stdint.h>
#include <string.h>

#include "test.h"

typedef struct sum_actor {
    uint64_t sum;
    uint64_t events_applied;
    uint64_t snapshot_seq; /* the snapshot recovery started from; 0: none */
} sum_actor;

/* Snapshot callback (ctx: a sum_actor): the state is the 8-byte sum. */
static inline int sum_actor_load_snapshot(void *ctx, uint64_t seq, const uint8_t *state, size_t len)
{
    sum_actor *a = ctx;
    ASSERT_EQ_U64(len, 8);
    memcpy(&a->sum, state, 8);
    a->snapshot_seq = seq;
    return 0;
}

/* One event (ctx: a sum_actor): its payload's first byte joins the sum. */
static inline int sum_actor_apply(void *ctx, const uint8_t *payload)
{
    sum_actor *a = ctx;
    a->sum += payload[0];
    a->events_applied++;
    return 0;
}

#endif
