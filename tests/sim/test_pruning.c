/*
 * Removed-node pruning in the simulator (core/replicator/pruning.c): a
 * removed node's counter slots fold into the coordinator's, counter state
 * stops growing with churn, values stay exact on every node, and a node
 * cut off with an unpruned copy heals without counting anything twice.
 * Membership timings are short (down 5 s, removed 5 s later) so a scenario
 * runs in simulated minutes.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "test.h"
#include "util/status.h"

static sim_config quick_config(uint32_t nodes)
{
    sim_config c;
    sim_config_default(&c);
    c.seed = test_seed();
    c.nodes = nodes;
    c.down_after_ms = 5000;
    c.remove_after_ms = 5000;
    c.prune_interval_ms = 2000;
    c.prune_delay_ms = 2000;
    return c;
}

static sim *start(const sim_config *c)
{
    sim *s = NULL;
    if (sim_new(&s, c) != ST_OK)
        return NULL;
    sim_run(s, 10000); /* everyone hears of everyone */
    return s;
}

static crdt *value_at(sim *s, uint32_t node, const char *key)
{
    crdt *v = NULL;
    if (engine_get(sim_node_at(s, node)->e, (const uint8_t *)key, strlen(key), &v) != ST_OK)
        return NULL;
    return v;
}

static uint64_t slots_at(sim *s, uint32_t node, const char *key)
{
    crdt *v = value_at(s, node, key);
    uint64_t n = v ? crdt_counter_slots(v) : UINT64_MAX;
    crdt_free(v);
    return n;
}

static size_t encoded_size_at(sim *s, uint32_t node, const char *key)
{
    crdt *v = value_at(s, node, key);
    bytes b = BYTES_INIT;
    size_t n = v && crdt_encode(v, &b) == ST_OK ? b.len : 0;
    bytes_free(&b);
    crdt_free(v);
    return n;
}

static int map_add(sim *s, uint32_t node, const char *key, const char *mkey, int64_t amount)
{
    crdt_op op = {0};
    op.kind = amount >= 0 ? CRDT_OP_INCREMENT : CRDT_OP_DECREMENT;
    op.amount = (uint64_t)(amount >= 0 ? amount : -amount);
    op.key = (const uint8_t *)mkey;
    op.key_len = strlen(mkey);
    return engine_update(sim_node_at(s, node)->e, sim_node_now(s, node), (const uint8_t *)key,
                         strlen(key), CRDT_PNCOUNTERMAP, &op, NULL);
}

/* Whether the value of key at `node` still has a slot of `actor`: 1 or 0,
 * -1 when the node has no value. */
static int actor_slot_at(sim *s, uint32_t node, const char *key, uint64_t actor)
{
    crdt *v = value_at(s, node, key);
    int held = v ? crdt_holds_actor(v, actor) : -1;
    crdt_free(v);
    return held;
}

static int64_t map_value_at(sim *s, uint32_t node, const char *key, const char *mkey)
{
    crdt *v = value_at(s, node, key);
    int64_t x = INT64_MIN;
    const crdt *c = v ? crdt_map_get(v, (const uint8_t *)mkey, strlen(mkey)) : NULL;
    if (c && crdt_counter_value(c, &x) != ST_OK)
        x = INT64_MIN;
    crdt_free(v);
    return x;
}

TEST(test_removed_node_is_pruned_and_every_value_stays_exact)
{
    sim_config c = quick_config(4);
    sim *s = start(&c);
    ASSERT(s);
    for (uint32_t i = 0; i < 4; i++) {
        ASSERT_OK(sim_increment(s, i, "c", 10 + i));
        ASSERT_OK(map_add(s, i, "m", "a", 5));
        ASSERT_OK(map_add(s, i, "m", "b", -(int64_t)i));
    }
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    ASSERT_EQ_U64(slots_at(s, 0, "c"), 4);
    uint64_t removed = engine_actor(sim_node_at(s, 3)->e);
    sim_crash(s, 3); /* and it never comes back */
    sim_run(s, 40000);
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    engine_stats st;
    engine_get_stats(sim_node_at(s, 0)->e, &st);
    ASSERT_EQ_U64(st.actors_pruned, 1);
    for (uint32_t i = 0; i < 3; i++) {
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "c"), 10 + 11 + 12 + 13);
        ASSERT_EQ_U64(slots_at(s, i, "c"), 3);
        ASSERT_EQ_INT(map_value_at(s, i, "m", "a"), 20);
        ASSERT_EQ_INT(map_value_at(s, i, "m", "b"), -6);
        ASSERT_EQ_INT(actor_slot_at(s, i, "m", removed), 0);
    }
    sim_free(s);
}

/* Node 3 comes and goes 20 times, each time a new incarnation that writes
 * and dies; returns the slots left in "c" and checks the value. */
static uint64_t churn(bool prune, size_t *size_mid, size_t *size_end)
{
    sim_config c = quick_config(4);
    c.prune_disabled = !prune;
    c.prune_marker_ttl_ms = 30000;
    sim *s = start(&c);
    ASSERT(s);
    int64_t total = 0;
    for (uint32_t i = 0; i < 3; i++) {
        ASSERT_OK(sim_increment(s, i, "c", 1));
        total++;
    }
    sim_crash(s, 3);
    for (int round = 0; round < 20; round++) {
        ASSERT_OK(sim_restart(s, 3, false));
        sim_run(s, 3000);
        ASSERT_OK(sim_increment(s, 3, "c", 2));
        ASSERT_OK(sim_increment(s, (uint32_t)round % 3, "c", 1));
        total += 3;
        sim_run(s, 2000);
        sim_crash(s, 3);
        sim_run(s, 15000);
        if (round == 9)
            *size_mid = encoded_size_at(s, 0, "c");
    }
    sim_run(s, 30000);
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    *size_end = encoded_size_at(s, 0, "c");
    for (uint32_t i = 0; i < 3; i++) {
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "c"), total);
        /* delta origins of forgotten incarnations are dropped too */
        uint32_t origins = engine_key_origins(sim_node_at(s, i)->e, (const uint8_t *)"c", 1);
        if (prune)
            ASSERT_MSG(origins <= 8, "n%u tracks %u origins", i, origins);
        else
            ASSERT_MSG(origins >= 20, "n%u tracks %u origins", i, origins);
    }
    uint64_t slots = slots_at(s, 0, "c");
    sim_free(s);
    return slots;
}

TEST(test_counter_state_stops_growing_with_churn)
{
    size_t mid = 0, end = 0, mid0 = 0, end0 = 0;
    uint64_t pruned = churn(true, &mid, &end);
    uint64_t unpruned = churn(false, &mid0, &end0);
    ASSERT_MSG(pruned <= 4, "%llu slots left", (unsigned long long)pruned);
    ASSERT_MSG(unpruned >= 23, "%llu slots without pruning", (unsigned long long)unpruned);
    ASSERT_MSG(end <= mid + 20, "encoded size grew from %zu to %zu", mid, end);
    ASSERT_MSG(end0 > mid0 + 80, "without pruning: %zu then %zu", mid0, end0);
}

TEST(test_partitioned_node_with_an_unpruned_copy_heals_without_double_counting)
{
    sim_config c = quick_config(5);
    sim *s = start(&c);
    ASSERT(s);
    ASSERT_OK(sim_increment(s, 4, "c", 5));
    ASSERT_OK(sim_increment(s, 0, "c", 1));
    ASSERT_OK(map_add(s, 4, "m", "a", 7));
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    uint64_t removed = engine_actor(sim_node_at(s, 4)->e);
    uint64_t n0 = engine_actor(sim_node_at(s, 0)->e);
    /* n3 is cut off holding n4's slots; n4 dies; the majority prunes n4,
     * while n3, a minority of one that removed everyone else, prunes
     * nothing */
    int groups[5] = {0, 0, 0, 1, 0};
    sim_partition(s, groups);
    sim_crash(s, 4);
    sim_run(s, 40000);
    ASSERT_EQ_INT(actor_slot_at(s, 0, "c", removed), 0);
    crdt *v = value_at(s, 3, "c");
    ASSERT(v && crdt_holds_actor(v, removed) && crdt_holds_actor(v, n0));
    crdt_free(v);
    sim_heal(s);
    sim_run(s, 20000);
    ASSERT(sim_run_until_converged(s, 60000, 500) != UINT64_MAX);
    for (uint32_t i = 0; i < 4; i++) {
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "c"), 6);
        ASSERT_EQ_INT(map_value_at(s, i, "m", "a"), 7);
        ASSERT_EQ_INT(actor_slot_at(s, i, "c", removed), 0);
    }
    sim_free(s);
}

TEST(test_pruning_waits_for_every_up_member_to_acknowledge)
{
    sim_config c = quick_config(4);
    c.down_after_ms = 600000; /* n2 stays up (unreachable) while cut off */
    sim *s = start(&c);
    ASSERT(s);
    ASSERT_OK(sim_increment(s, 3, "c", 5));
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    uint64_t old = engine_actor(sim_node_at(s, 3)->e);
    int groups[4] = {0, 0, 1, 0};
    sim_partition(s, groups);
    ASSERT_OK(sim_restart(s, 3, false)); /* its old actor is dead */
    sim_run(s, 30000);
    ASSERT_EQ_INT(actor_slot_at(s, 0, "c", old), 1); /* n2 has not acknowledged */
    sim_heal(s);
    sim_run(s, 30000);
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    for (uint32_t i = 0; i < 4; i++) {
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "c"), 5);
        ASSERT_EQ_INT(actor_slot_at(s, i, "c", old), 0);
    }
    sim_free(s);
}

TEST(test_next_coordinator_takes_over_when_the_coordinator_dies)
{
    sim_config c = quick_config(5);
    sim *s = start(&c);
    ASSERT(s);
    for (uint32_t i = 0; i < 5; i++)
        ASSERT_OK(sim_increment(s, i, "c", 1 + i));
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    uint64_t a4 = engine_actor(sim_node_at(s, 4)->e), a0 = engine_actor(sim_node_at(s, 0)->e);
    sim_crash(s, 4);
    sim_run(s, 9000); /* n4 is being removed */
    sim_crash(s, 0);  /* and the coordinator dies too */
    sim_run(s, 60000);
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    engine_stats st;
    engine_get_stats(sim_node_at(s, 1)->e, &st);
    ASSERT(st.actors_pruned >= 1);
    for (uint32_t i = 1; i < 4; i++) {
        ASSERT_EQ_INT(sim_counter(sim_node_at(s, i)->e, "c"), 15);
        crdt *v = value_at(s, i, "c");
        ASSERT(v && !crdt_holds_actor(v, a4) && !crdt_holds_actor(v, a0));
        ASSERT_EQ_U64(crdt_counter_slots(v), 3);
        crdt_free(v);
    }
    sim_free(s);
}
