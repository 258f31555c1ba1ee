/*
 * dd_system_leave over real TCP on loopback (issue 17.11): three systems,
 * one leaves, and the other two see it removed through the announcement,
 * not the failure detector. down_after_ms is 60 s and every wait here is a
 * few seconds at most, so a removal seen at all can only have come from
 * the leave; the assertions are on events (which, in which order), never
 * on how fast they came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddata.h"
#include "tcp_node.h"
#include "test.h"

#define DOWN_AFTER_MS 60000u

static const uint8_t secret[32] = {7, 1, 7, 2, 7, 3};

typedef struct tnode {
    dd_system *sys;
    dd_replica *rep;
    char addr[TCP_NODE_ADDR_BYTES];
    /* MEMBER events about "c", in order; whether "a" and "b" were seen up */
    uint32_t c_states[64];
    size_t c_n;
    bool ab_up[2];
} tnode;

static void tnode_open(tnode *n, const char *id, const char *seed)
{
    memset(n, 0, sizeof(*n));
    tcp_node_options o = {.node_id = id,
                          .secret = secret,
                          .seed = seed,
                          .failure_timeout_ms = 1000,
                          .down_after_ms = DOWN_AFTER_MS};
    ASSERT_OK(tcp_system_open(&n->sys, n->addr, &o));
    dd_replica_options ro;
    ASSERT_OK(dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION));
    ro.gossip_interval_ms = 100;
    ro.notify_interval_ms = 50;
    ASSERT_OK(dd_replica_open(&n->rep, n->sys, &ro));
}

static void drain(tnode *n)
{
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, n->sys) == DD_OK) {
        if (ev.kind == DD_EVENT_MEMBER && ev.member_id.len == 1 && ev.member_id.data[0] == 'c' &&
            n->c_n < 64)
            n->c_states[n->c_n++] = ev.member_state;
        if (ev.kind == DD_EVENT_MEMBER && ev.member_id.len == 1 &&
            (ev.member_id.data[0] == 'a' || ev.member_id.data[0] == 'b'))
            n->ab_up[ev.member_id.data[0] - 'a'] = ev.member_state == DD_MEMBER_UP;
        dd_event_clear(&ev);
    }
}

static bool saw(const tnode *n, uint32_t state)
{
    for (size_t i = 0; i < n->c_n; i++)
        if (n->c_states[i] == state)
            return true;
    return false;
}

typedef struct goal {
    tnode *nodes;
    size_t count;
    uint32_t state;
} goal;

static bool all_saw(void *arg)
{
    goal *g = arg;
    bool all = true;
    for (size_t i = 0; i < g->count; i++) {
        drain(&g->nodes[i]);
        all = all && saw(&g->nodes[i], g->state);
    }
    return all;
}

static bool c_sees_a_and_b(void *arg)
{
    tnode *c = arg;
    drain(c);
    return c->ab_up[0] && c->ab_up[1];
}

static bool counter_is(tnode *n, const char *key, int64_t want)
{
    int64_t value;
    ASSERT_OK(tcp_counter_read(&value, n->rep, key));
    return value == want;
}

typedef struct counter_goal {
    tnode *nodes;
    const char *key;
    int64_t want;
} counter_goal;

static bool both_read(void *arg)
{
    counter_goal *g = arg;
    return counter_is(&g->nodes[0], g->key, g->want) && counter_is(&g->nodes[1], g->key, g->want);
}

TEST(test_tcp_node_that_leaves_is_removed_by_the_others_before_down_after)
{
    tnode n[3];
    tnode_open(&n[0], "a", NULL);
    tnode_open(&n[1], "b", n[0].addr);
    tnode_open(&n[2], "c", n[0].addr);
    goal up = {n, 2, DD_MEMBER_UP};
    ASSERT_MSG(tcp_wait_until(all_saw, &up, 8000), "a and b never saw c up");
    ASSERT_MSG(tcp_wait_until(c_sees_a_and_b, &n[2], 8000), "c never saw a and b up");
    ASSERT_OK(tcp_counter_add(n[2].rep, "from-c", 9));

    ASSERT_OK(dd_system_leave(n[2].sys, 5000));

    goal removed = {n, 2, DD_MEMBER_REMOVED};
    ASSERT_MSG(tcp_wait_until(all_saw, &removed, 5000), "a and b never saw c removed");
    for (int i = 0; i < 2; i++) {
        /* up, then removed: no unreachable or down on the way */
        ASSERT(!saw(&n[i], DD_MEMBER_UNREACHABLE));
        ASSERT(!saw(&n[i], DD_MEMBER_DOWN));
        ASSERT_EQ_INT(n[i].c_states[n[i].c_n - 1], DD_MEMBER_REMOVED);
    }
    counter_goal g = {n, "from-c", 9};
    ASSERT_MSG(tcp_wait_until(both_read, &g, 5000), "c's write did not outlive it");
    /* The leaver said so itself too. */
    drain(&n[2]);
    ASSERT_EQ_INT(n[2].c_states[n[2].c_n - 1], DD_MEMBER_REMOVED);

    /* Afterwards it takes no part. */
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = 1;
    ASSERT_STATUS(dd_replica_update(n[2].rep, (const uint8_t *)"x", 1, DD_GCOUNTER, &op),
                  DD_EMISUSE);
    ASSERT(strstr(dd_error_last()->message, "has left"));
    int64_t from_c;
    ASSERT_OK(tcp_counter_read(&from_c, n[2].rep, "from-c"));
    ASSERT_EQ_INT(from_c, 9); /* local reads still work */
    ASSERT_STATUS(dd_system_leave(n[2].sys, 100), DD_EMISUSE);
    ASSERT_OK(dd_replica_close(n[2].rep));
    ASSERT_OK(dd_system_close(n[2].sys));

    /* Its links are gone now; a removed member is not suspected. */
    tcp_sleep_ms(2500);
    for (int i = 0; i < 2; i++) {
        drain(&n[i]);
        ASSERT(!saw(&n[i], DD_MEMBER_UNREACHABLE));
        ASSERT(!saw(&n[i], DD_MEMBER_DOWN));
    }
    for (int i = 1; i >= 0; i--) {
        ASSERT_OK(dd_replica_close(n[i].rep));
        ASSERT_OK(dd_system_close(n[i].sys));
    }
}

TEST(test_tcp_leave_without_a_replica_refuses_one_afterwards)
{
    dd_system *sys = NULL;
    char addr[TCP_NODE_ADDR_BYTES];
    tcp_node_options o = {.node_id = "solo", .secret = secret};
    ASSERT_OK(tcp_system_open(&sys, addr, &o));
    ASSERT_OK(dd_system_leave(sys, 1000));
    dd_replica *rep = NULL;
    dd_replica_options ro;
    ASSERT_OK(dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION));
    ASSERT_STATUS(dd_replica_open(&rep, sys, &ro), DD_EMISUSE);
    ASSERT(strstr(dd_error_last()->message, "'solo' has left the cluster"));
    ASSERT_OK(dd_system_close(sys));
    ASSERT_STATUS(dd_system_leave(sys, 0), DD_EMISUSE);
    ASSERT_STATUS(dd_system_leave(NULL, 0), DD_EMISUSE);
}
