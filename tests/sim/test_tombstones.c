/*
 * A delete's life in clusters of several sizes: every node reports the
 * deletion to its subscribers once and collects the tombstone once. A
 * collected tombstone must stay gone; in a 2-node cluster it used to come
 * back from the peer that had not yet collected it, be collected again,
 * and fire a fresh DELETED event every cycle, forever.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "test.h"
#include "util/status.h"

#define KEY "gone"

typedef struct delete_log {
    unsigned deleted[SIM_MAX_NODES];
} delete_log;

static void on_event(void *ctx, uint32_t node, const engine_event *ev)
{
    delete_log *log = ctx;
    if (ev->kind == ENGINE_EV_DELETED && ev->key_len == strlen(KEY) &&
        memcmp(ev->key, KEY, ev->key_len) == 0)
        log->deleted[node]++;
}

/* Deletes one key on node 0 of an n-node cluster and runs `run_ms` past
 * it; every node must collect the tombstone and report the delete exactly
 * once, and hold no trace of the key at the end. */
static void delete_once_everywhere(uint32_t nodes, uint64_t gossip_ms, uint64_t grace_ms,
                                   uint64_t run_ms)
{
    sim_config c;
    sim_config_default(&c);
    c.seed = test_seed();
    c.nodes = nodes;
    if (gossip_ms)
        c.gossip_interval_ms = gossip_ms;
    if (grace_ms)
        c.tombstone_grace_ms = grace_ms;
    sim *s = NULL;
    ASSERT_OK(sim_new(&s, &c));
    delete_log log;
    memset(&log, 0, sizeof log);
    sim_on_event(s, on_event, &log);
    for (uint32_t i = 0; i < nodes; i++)
        ASSERT_OK(engine_subscribe(sim_node_at(s, i)->e, (const uint8_t *)KEY, strlen(KEY), false));
    sim_run(s, 10000); /* everyone hears of everyone */
    ASSERT_OK(sim_increment(s, 0, KEY, 1));
    sim_run(s, 2000);
    ASSERT_OK(sim_delete(s, 0, KEY));
    sim_run(s, run_ms);
    for (uint32_t i = 0; i < nodes; i++) {
        engine_stats st;
        engine_get_stats(sim_node_at(s, i)->e, &st);
        ASSERT_MSG(st.tombstones_collected == 1, "%u nodes, seed %llu: n%u collected %llu times",
                   nodes, (unsigned long long)c.seed, i,
                   (unsigned long long)st.tombstones_collected);
        ASSERT_MSG(log.deleted[i] == 1, "%u nodes, seed %llu: n%u reported %u deletes", nodes,
                   (unsigned long long)c.seed, i, log.deleted[i]);
        crdt *v = NULL;
        ASSERT_STATUS(engine_get(sim_node_at(s, i)->e, (const uint8_t *)KEY, strlen(KEY), &v),
                      ST_ENOTFOUND);
    }
    sim_free(s);
}

TEST(test_two_nodes_collect_a_tombstone_once_and_report_one_delete)
{
    delete_once_everywhere(2, 0, 0, 200000);
}

TEST(test_two_nodes_with_fast_gossip_and_short_grace_collect_once)
{
    delete_once_everywhere(2, 100, 1000, 60000);
}

TEST(test_three_nodes_collect_a_tombstone_once_and_report_one_delete)
{
    delete_once_everywhere(3, 0, 0, 200000);
}

TEST(test_five_nodes_collect_a_tombstone_once_and_report_one_delete)
{
    delete_once_everywhere(5, 0, 0, 200000);
}
