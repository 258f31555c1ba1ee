/*
 * The dynamic-array helpers of util/alloc.h: ring_reserve keeps a wrapped
 * ring's items in order when it grows (the engine's outgoing and event
 * queues rely on it).
 */
#include "test.h"
#include "util/alloc.h"

/* Pushes `v` at the tail of a ring of ints. */
static void ring_push(int **items, size_t *cap, size_t *head, size_t *len, int v)
{
    ASSERT(ring_reserve(items, cap, head, *len, sizeof(int)));
    (*items)[(*head + *len) % *cap] = v;
    (*len)++;
}

static int ring_pop(int *items, size_t cap, size_t *head, size_t *len)
{
    int v = items[*head];
    *head = (*head + 1) % cap;
    (*len)--;
    return v;
}

TEST(test_ring_reserve_keeps_a_wrapped_ring_in_order)
{
    int *items = NULL;
    size_t cap = 0, head = 0, len = 0;
    int next_in = 0, next_out = 0;
    /* Fill, drain part, refill past the end so the ring wraps, then grow
     * it while wrapped: pops must still come out in push order. */
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 7 + round * 3; i++)
            ring_push(&items, &cap, &head, &len, next_in++);
        for (int i = 0; i < 5; i++)
            ASSERT_EQ_INT(ring_pop(items, cap, &head, &len), next_out++);
    }
    ASSERT(cap >= len);
    while (len > 0)
        ASSERT_EQ_INT(ring_pop(items, cap, &head, &len), next_out++);
    ASSERT_EQ_INT(next_out, next_in);
    free(items);
}

TEST(test_ring_reserve_leaves_room_alone_when_not_full)
{
    int *items = NULL;
    size_t cap = 0, head = 0;
    ASSERT(ring_reserve(&items, &cap, &head, 0, sizeof(int)));
    ASSERT(cap >= 1);
    int *before = items;
    size_t cap_before = cap;
    head = 3 % cap;
    ASSERT(ring_reserve(&items, &cap, &head, cap - 1, sizeof(int)));
    ASSERT(items == before);
    ASSERT_EQ_U64(cap, cap_before);
    ASSERT_EQ_U64(head, 3 % cap_before);
    free(items);
}
