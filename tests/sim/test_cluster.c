/*
 * Targeted cluster scenarios in the simulator: joining, delta and digest
 * propagation under each strategy, deletes and tombstone collection,
 * consistency levels, membership changes, oversized values, expiry-free
 * restarts with durable keys.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "test.h"
#include "util/status.h"

/* A simulation of c, run for meet_ms so that membership, which spreads by
 * gossip (fanout 1), has reached everyone before the scenario starts. */
static sim *started(const sim_config *c, uint64_t meet_ms)
{
    sim *s = NULL;
    ASSERT_OK(sim_new(&s, c));
    sim_run(s, meet_ms);
    return s;
}

static sim *cluster(uint32_t nodes, engine_delta_strategy strategy)
{
    sim_config c = sim_config_seeded(test_seed());
    c.nodes = nodes;
    c.strategy = strategy;
    return started(&c, 10000);
}

/* A cluster (immediate deltas) where every node has counter `key` at 1,
 * written on n0. */
static sim *cluster_holding(uint32_t nodes, const char *key)
{
    sim *s = cluster(nodes, ENGINE_DELTA_IMMEDIATE);
    ASSERT_OK(sim_increment(s, 0, key, 1));
    sim_run(s, 500);
    return s;
}

/* Partitions the first `nodes` nodes in two: n0..n(k-1) and the rest. */
static void split_at(sim *s, uint32_t nodes, uint32_t k)
{
    int groups[8];
    ASSERT(nodes <= 8);
    for (uint32_t i = 0; i < nodes; i++)
        groups[i] = i < k ? 0 : 1;
    sim_partition(s, groups);
}

/* Ends a partition and runs until every node agrees. */
static void heal_and_converge(sim *s)
{
    sim_heal(s);
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
}

/* Every one of the first `nodes` nodes reads counter `key` as want. */
static void expect_counter_everywhere(sim *s, uint32_t nodes, const char *key, int64_t want)
{
    for (uint32_t i = 0; i < nodes; i++)
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, key), want);
}

TEST(test_nodes_join_through_the_seed_and_see_each_other_up)
{
    sim *s = cluster(4, ENGINE_DELTA_IMMEDIATE);
    for (uint32_t i = 0; i < 4; i++) {
        ASSERT_EQ_U64(engine_up_peers(sim_node_at(s, i)->e), 3);
        engine_member_state st;
        ASSERT_OK(engine_member_state_of(sim_node_at(s, i)->e, "n3", &st));
        ASSERT_EQ_INT(st, MEMBER_UP);
    }
    sim_free(s);
}

static void propagates_with(engine_delta_strategy strategy)
{
    sim *s = cluster(3, strategy);
    ASSERT_OK(sim_increment(s, 0, "hits", 2));
    ASSERT_OK(sim_increment(s, 1, "hits", 3));
    ASSERT_OK(sim_set_add(s, 2, "tags", "red", false));
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    expect_counter_everywhere(s, 3, "hits", 5);
    sim_free(s);
}

TEST(test_updates_propagate_with_immediate_deltas)
{
    propagates_with(ENGINE_DELTA_IMMEDIATE);
}

TEST(test_updates_propagate_with_batched_deltas)
{
    propagates_with(ENGINE_DELTA_BATCHED);
}

TEST(test_updates_propagate_by_digest_gossip_alone)
{
    propagates_with(ENGINE_DELTA_NONE);
}

TEST(test_immediate_delta_arrives_within_one_step)
{
    sim *s = cluster(3, ENGINE_DELTA_IMMEDIATE);
    ASSERT_OK(sim_increment(s, 0, "x", 7));
    sim_run(s, 100);
    ASSERT_EQ_INT(sim_counter(sim_node_at(s, 1)->e, "x"), 7);
    ASSERT_EQ_INT(sim_counter(sim_node_at(s, 2)->e, "x"), 7);
    sim_free(s);
}

TEST(test_causal_gap_is_repaired_by_nack_and_full_state)
{
    sim *s = cluster(2, ENGINE_DELTA_IMMEDIATE);
    ASSERT_OK(sim_set_add(s, 0, "set", "a", false));
    sim_run(s, 200);
    /* Lose the next delta, then send one more: the receiver sees a gap. */
    sim_set_faults(s, 100, 0);
    ASSERT_OK(sim_set_add(s, 0, "set", "b", false));
    sim_run(s, 10);
    sim_set_faults(s, 0, 0);
    ASSERT_OK(sim_set_add(s, 0, "set", "c", false));
    sim_run(s, 300);
    engine_stats st;
    engine_get_stats(sim_node_at(s, 1)->e, &st);
    ASSERT(st.nacks_sent >= 1);
    const char *why;
    ASSERT_MSG(sim_converged(s, &why), "%s", why);
    sim_free(s);
}

TEST(test_delete_reaches_every_node_and_updates_then_fail)
{
    sim *s = cluster_holding(3, "k");
    ASSERT_OK(sim_delete(s, 1, "k"));
    sim_run(s, 500);
    for (uint32_t i = 0; i < 3; i++) {
        crdt *v = NULL;
        ASSERT_STATUS(engine_get(sim_node_at(s, i)->e, (const uint8_t *)"k", 1, &v), ST_EDELETED);
        ASSERT_STATUS(sim_increment(s, i, "k", 1), ST_EDELETED);
    }
    sim_free(s);
}

TEST(test_delete_wins_over_a_concurrent_update_in_a_partition)
{
    sim *s = cluster_holding(3, "k");
    split_at(s, 3, 1);
    ASSERT_OK(sim_delete(s, 0, "k"));
    ASSERT_OK(sim_increment(s, 2, "k", 5));
    sim_run(s, 3000);
    heal_and_converge(s);
    expect_counter_everywhere(s, 3, "k", -1);
    sim_free(s);
}

TEST(test_tombstones_are_collected_once_every_member_has_them)
{
    sim *s = cluster_holding(3, "gone");
    ASSERT_OK(sim_delete(s, 0, "gone"));
    sim_run(s, 40000); /* > rounds to agree + the 20 s grace */
    for (uint32_t i = 0; i < 3; i++) {
        engine_stats st;
        engine_get_stats(sim_node_at(s, i)->e, &st);
        ASSERT_MSG(st.tombstones_collected == 1, "n%u collected %llu", i,
                   (unsigned long long)st.tombstones_collected);
        crdt *v = NULL;
        ASSERT_STATUS(engine_get(sim_node_at(s, i)->e, (const uint8_t *)"gone", 4, &v),
                      ST_ENOTFOUND);
    }
    sim_free(s);
}

TEST(test_tombstone_is_kept_while_a_member_is_cut_off)
{
    sim *s = cluster_holding(3, "gone");
    split_at(s, 3, 2);
    ASSERT_OK(sim_delete(s, 0, "gone"));
    sim_run(s, 25000); /* n2 is unreachable (not yet down): it must block collection */
    engine_stats st;
    engine_get_stats(sim_node_at(s, 0)->e, &st);
    ASSERT_EQ_U64(st.tombstones_collected, 0);
    heal_and_converge(s);
    ASSERT_EQ_INT(sim_counter(sim_node_at(s, 2)->e, "gone"), -1);
    sim_free(s);
}

typedef struct done_log {
    uint64_t id;
    int status;
    int count;
} done_log;

static void on_done(void *ctx, uint32_t node, const engine_event *ev)
{
    (void)node;
    done_log *d = ctx;
    if (ev->kind == ENGINE_EV_REQUEST_DONE && ev->request_id == d->id) {
        d->status = ev->status;
        d->count++;
    }
}

/* Starts an increment of counter "w" by `amount` on n0 at `level` (n: the
 * replica count where the level takes one), to finish within timeout_ms;
 * its request id goes to d. */
static void start_write(sim *s, uint64_t amount, engine_consistency level, uint32_t n,
                        uint64_t timeout_ms, done_log *d)
{
    crdt_op op = {0};
    op.kind = CRDT_OP_INCREMENT;
    op.amount = amount;
    ASSERT_OK(engine_write(sim_node_at(s, 0)->e, sim_node_now(s, 0), (const uint8_t *)"w", 1,
                           CRDT_GCOUNTER, &op, level, n, timeout_ms, &d->id));
}

TEST(test_majority_write_completes_when_a_majority_acknowledges)
{
    sim *s = cluster(5, ENGINE_DELTA_IMMEDIATE);
    done_log d = {0};
    sim_on_event(s, on_done, &d);
    start_write(s, 4, ENGINE_MAJORITY, 0, 2000, &d);
    sim_run(s, 500);
    ASSERT_EQ_INT(d.count, 1);
    ASSERT_STATUS(d.status, ST_OK);
    sim_free(s);
}

TEST(test_write_to_all_times_out_in_a_partition_but_keeps_its_local_effect)
{
    sim *s = cluster(3, ENGINE_DELTA_IMMEDIATE);
    done_log d = {0};
    sim_on_event(s, on_done, &d);
    split_at(s, 3, 2);
    start_write(s, 1, ENGINE_ALL, 0, 1000, &d);
    sim_run(s, 2000);
    ASSERT_EQ_INT(d.count, 1);
    ASSERT_STATUS(d.status, ST_ETIMEOUT);
    ASSERT_EQ_INT(sim_counter(sim_node_at(s, 0)->e, "w"), 1);
    sim_free(s);
}

TEST(test_majority_read_merges_what_the_replies_carry)
{
    sim *s = cluster(3, ENGINE_DELTA_NONE);
    ASSERT_OK(sim_increment(s, 1, "r", 9));
    done_log d = {0};
    sim_on_event(s, on_done, &d);
    ASSERT_OK(engine_read(sim_node_at(s, 0)->e, sim_node_now(s, 0), (const uint8_t *)"r", 1,
                          ENGINE_ALL, 0, 2000, &d.id));
    sim_run(s, 300);
    ASSERT_EQ_INT(d.count, 1);
    ASSERT_STATUS(d.status, ST_OK);
    ASSERT_EQ_INT(sim_counter(sim_node_at(s, 0)->e, "r"), 9);
    sim_free(s);
}

typedef struct state_log {
    engine_member_state seen[8];
    int n;
} state_log;

static void on_member(void *ctx, uint32_t node, const engine_event *ev)
{
    state_log *l = ctx;
    if (node == 0 && ev->kind == ENGINE_EV_MEMBER && strcmp(ev->member_id, "n2") == 0 && l->n < 8)
        l->seen[l->n++] = ev->member_state;
}

TEST(test_crashed_node_becomes_unreachable_then_down)
{
    sim *s = cluster(3, ENGINE_DELTA_IMMEDIATE);
    state_log log = {{0}, 0};
    sim_on_event(s, on_member, &log);
    sim_crash(s, 2);
    sim_run(s, 60000);
    ASSERT_EQ_INT(log.n, 2);
    ASSERT_EQ_INT(log.seen[0], MEMBER_UNREACHABLE);
    ASSERT_EQ_INT(log.seen[1], MEMBER_DOWN);
    ASSERT_EQ_U64(engine_up_peers(sim_node_at(s, 0)->e), 1);
    sim_free(s);
}

TEST(test_restarted_node_replaces_its_old_self_and_catches_up)
{
    sim *s = cluster(3, ENGINE_DELTA_IMMEDIATE);
    ASSERT_OK(sim_increment(s, 0, "k", 3));
    sim_run(s, 500);
    sim_crash(s, 2);
    sim_run(s, 2000);
    ASSERT_OK(sim_restart(s, 2, false));
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    ASSERT_EQ_INT(sim_counter(sim_node_at(s, 2)->e, "k"), 3);
    engine_member_state st;
    ASSERT_OK(engine_member_state_of(sim_node_at(s, 0)->e, "n2", &st));
    ASSERT_EQ_INT(st, MEMBER_UP);
    sim_free(s);
}

TEST(test_value_larger_than_the_message_cap_still_replicates)
{
    sim_config c = sim_config_seeded(test_seed());
    c.max_message_bytes = 1024;
    c.strategy = ENGINE_DELTA_NONE;
    sim *s = started(&c, 3000);
    char elem[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(elem, sizeof(elem), "element-%d", i);
        ASSERT_OK(sim_set_add(s, 0, "big", elem, false));
    }
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    sim_free(s);
}

TEST(test_durable_keys_survive_a_full_cluster_restart)
{
    static const engine_pattern durable[] = {{(const uint8_t *)"keep/", 5, true},
                                             {(const uint8_t *)"exact", 5, false}};
    sim_config c = sim_config_seeded(test_seed());
    c.stores = true;
    c.durable = durable;
    c.durable_count = 2;
    sim *s = started(&c, 3000);
    ASSERT_OK(sim_increment(s, 0, "keep/a", 5));
    ASSERT_OK(sim_increment(s, 1, "keep/a", 6));
    ASSERT_OK(sim_increment(s, 2, "exact", 7));
    ASSERT_OK(sim_increment(s, 2, "volatile", 8));
    ASSERT_OK(sim_increment(s, 0, "keep/gone", 1));
    sim_run(s, 1000);
    ASSERT_OK(sim_delete(s, 1, "keep/gone"));
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    for (uint32_t i = 0; i < 3; i++)
        sim_crash(s, i);
    for (uint32_t i = 0; i < 3; i++) {
        ASSERT_OK(sim_restart(s, i, true));
        /* Loaded before the engine answers anything. */
        engine *e = sim_node_at(s, i)->e;
        ASSERT_EQ_INT(sim_counter(e, "keep/a"), 11);
        ASSERT_EQ_INT(sim_counter(e, "exact"), 7);
        ASSERT_EQ_INT(sim_counter(e, "volatile"), -1);
        crdt *v = NULL;
        ASSERT_STATUS(engine_get(e, (const uint8_t *)"keep/gone", 9, &v), ST_EDELETED);
    }
    sim_free(s);
}

TEST(test_idle_keys_expire_on_every_node_and_do_not_come_back)
{
    static const engine_pattern expiry[] = {{(const uint8_t *)"sess/", 5, true}};
    sim_config c = sim_config_seeded(test_seed());
    c.expiry = expiry;
    c.expiry_count = 1;
    c.expire_after_ms = 20000;
    c.max_skew_ms = 200;
    sim *s = started(&c, 10000);
    ASSERT_OK(sim_increment(s, 0, "sess/1", 1));
    ASSERT_OK(sim_increment(s, 1, "sess/2", 1));
    ASSERT_OK(sim_increment(s, 2, "plain", 1));
    sim_run(s, 12000);
    ASSERT_OK(sim_increment(s, 1, "sess/2", 1)); /* still in use */
    expect_counter_everywhere(s, 3, "sess/1", 1);
    sim_run(s, 15000);
    for (uint32_t i = 0; i < 3; i++) {
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "sess/1"), -1);
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "sess/2"), 2);
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "plain"), 1);
    }
    sim_run(s, 30000);
    const char *why;
    ASSERT_MSG(sim_converged(s, &why), "%s", why);
    expect_counter_everywhere(s, 3, "sess/2", -1);
    sim_free(s);
}

static uint64_t write_at(sim *s, engine_consistency level, uint32_t n, done_log *d)
{
    d->count = 0;
    start_write(s, 1, level, n, 1500, d);
    sim_run(s, 2000);
    ASSERT_EQ_INT(d->count, 1);
    return d->id;
}

TEST(test_levels_count_replicas_as_documented)
{
    /* Five nodes, two cut off: three replicas reachable from n0. */
    sim *s = cluster(5, ENGINE_DELTA_IMMEDIATE);
    done_log d = {0};
    sim_on_event(s, on_done, &d);
    split_at(s, 5, 3);
    write_at(s, ENGINE_LOCAL, 0, &d);
    ASSERT_STATUS(d.status, ST_OK);
    write_at(s, ENGINE_FROM, 3, &d);
    ASSERT_STATUS(d.status, ST_OK);
    write_at(s, ENGINE_FROM, 4, &d);
    ASSERT_STATUS(d.status, ST_ETIMEOUT);
    write_at(s, ENGINE_MAJORITY, 0, &d); /* 3 of 5 */
    ASSERT_STATUS(d.status, ST_OK);
    write_at(s, ENGINE_MAJORITY_PLUS, 1, &d); /* 4 of 5 */
    ASSERT_STATUS(d.status, ST_ETIMEOUT);
    write_at(s, ENGINE_ALL, 0, &d);
    ASSERT_STATUS(d.status, ST_ETIMEOUT);
    sim_heal(s);
    sim_run(s, 3000);
    write_at(s, ENGINE_ALL, 0, &d);
    ASSERT_STATUS(d.status, ST_OK);
    sim_free(s);
}

TEST(test_removed_members_are_eventually_forgotten)
{
    sim *s = cluster(3, ENGINE_DELTA_IMMEDIATE);
    state_log log = {{0}, 0};
    sim_on_event(s, on_member, &log);
    sim_crash(s, 2);
    sim_run(s, 400000); /* down after ~40 s, removed 300 s later */
    ASSERT_EQ_INT(log.n, 3);
    ASSERT_EQ_INT(log.seen[2], MEMBER_REMOVED);
    engine_member_state st;
    ASSERT_OK(engine_member_state_of(sim_node_at(s, 0)->e, "n2", &st));
    sim_run(s, 310000);
    ASSERT_STATUS(engine_member_state_of(sim_node_at(s, 0)->e, "n2", &st), ST_ENOTFOUND);
    /* The node can still come back, as a new incarnation. */
    ASSERT_OK(sim_restart(s, 2, false));
    sim_run(s, 10000);
    ASSERT_OK(engine_member_state_of(sim_node_at(s, 0)->e, "n2", &st));
    ASSERT_EQ_INT(st, MEMBER_UP);
    sim_free(s);
}
