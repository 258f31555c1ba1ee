/*
 * A delete in a 2-node cluster over real TCP, with the settings that once
 * made it repeat forever (gossip every 100 ms, 1 s tombstone grace): each
 * node reports the delete once and collects the tombstone once. The
 * simulator scenarios (tests/sim/test_tombstones.c) cover more sizes and
 * seeds; this one checks the same rule through the whole node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddata.h"
#include "tcp_node.h"
#include "test.h"

#define KEY "gone"

static const uint8_t secret[32] = {7, 7, 7, 1, 2, 3};

typedef struct tnode {
    dd_system *sys;
    dd_replica *rep;
    char addr[TCP_NODE_ADDR_BYTES];
    unsigned deleted;
} tnode;

static void tnode_open(tnode *n, const char *id, const char *seed)
{
    tcp_node_options o = {
        .node_id = id, .secret = secret, .seed = seed, .failure_timeout_ms = 1000};
    ASSERT_OK(tcp_system_open(&n->sys, n->addr, &o));
    ASSERT_OK(tcp_replica_open(&n->rep, n->sys, 1000));
    ASSERT_OK(dd_replica_subscribe(n->rep, (const uint8_t *)KEY, strlen(KEY), 0));
}

static void drain(tnode *n)
{
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, n->sys) == DD_OK) {
        if (ev.kind == DD_EVENT_DELETED && ev.key.len == strlen(KEY) &&
            memcmp(ev.key.data, KEY, ev.key.len) == 0)
            n->deleted++;
        dd_event_clear(&ev);
    }
}

static uint64_t collected(tnode *n)
{
    char *text = tcp_stats_text(n->sys);
    ASSERT(text);
    const char *at = strstr(text, "\"tombstones_collected\":");
    ASSERT(at);
    uint64_t v = strtoull(at + strlen("\"tombstones_collected\":"), NULL, 10);
    free(text);
    return v;
}

static bool both_have_it(void *arg)
{
    tnode *n = arg;
    for (int i = 0; i < 2; i++) {
        drain(&n[i]);
        dd_crdt *v = NULL;
        if (dd_replica_get(&v, n[i].rep, (const uint8_t *)KEY, strlen(KEY)) != DD_OK)
            return false;
        dd_crdt_free(v);
    }
    return true;
}

TEST(test_two_tcp_nodes_report_and_collect_a_delete_once)
{
    tnode n[2];
    memset(n, 0, sizeof n);
    tnode_open(&n[0], "a", NULL);
    tnode_open(&n[1], "b", n[0].addr);
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = 1;
    ASSERT_OK(dd_replica_update(n[0].rep, (const uint8_t *)KEY, strlen(KEY), DD_GCOUNTER, &op));
    ASSERT(tcp_wait_until(both_have_it, n, 10000));
    ASSERT_OK(dd_replica_delete(n[0].rep, (const uint8_t *)KEY, strlen(KEY)));
    /* 15 s: agreement, the 1 s grace, and many gossip rounds after it, in
     * which a returning tombstone would be collected again */
    for (int i = 0; i < 150; i++) {
        tcp_sleep_ms(100);
        drain(&n[0]);
        drain(&n[1]);
    }
    for (int i = 0; i < 2; i++) {
        printf("node %d: %u deletes reported, %llu tombstones collected\n", i, n[i].deleted,
               (unsigned long long)collected(&n[i]));
        ASSERT_EQ_INT(n[i].deleted, 1);
        ASSERT_EQ_U64(collected(&n[i]), 1);
    }
    for (int i = 0; i < 2; i++) {
        ASSERT_OK(dd_replica_close(n[i].rep));
        ASSERT_OK(dd_system_close(n[i].sys));
    }
}
