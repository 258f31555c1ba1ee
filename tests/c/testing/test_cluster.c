/*
 * The C test doubles (testing/ddata_testing.h) as an application uses
 * them: a simulated cluster through the public ABI, a partition that
 * heals and converges, and the in-memory stores.
 */
#include <stdio.h>
#include <string.h>

#include "ddata_testing.h"
#include "test.h"

static int increment(dd_testing_cluster *c, uint32_t node, uint64_t amount)
{
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = amount;
    return dd_replica_update(dd_testing_cluster_replica(c, node), (const uint8_t *)"hits", 4,
                             DD_GCOUNTER, &op);
}

/* The counter at node i; -1 when the node does not have the key. */
static int64_t hits(dd_testing_cluster *c, uint32_t node)
{
    dd_crdt *v = NULL;
    int64_t n = -1;
    if (dd_replica_get(&v, dd_testing_cluster_replica(c, node), (const uint8_t *)"hits", 4) ==
        DD_OK)
        dd_crdt_counter_value(&n, v);
    dd_crdt_free(v);
    return n;
}

static bool all_equal(dd_testing_cluster *c, int64_t want)
{
    for (uint32_t i = 0; i < dd_testing_cluster_size(c); i++)
        if (hits(c, i) != want)
            return false;
    return true;
}

TEST(test_testing_cluster_partition_heals_and_converges)
{
    dd_testing_cluster_options o = DD_TESTING_CLUSTER_OPTIONS_INIT;
    dd_testing_cluster *c = NULL;
    o.seed = test_seed();
    o.drop_pct = 10;
    o.max_delay_ms = 40;
    ASSERT_OK(dd_testing_cluster_new(&c, &o));
    printf("seed %llu\n", (unsigned long long)dd_testing_cluster_seed(c));
    ASSERT_OK(dd_testing_cluster_run(c, 3000, 50)); /* membership settles */

    uint32_t groups[3] = {0, 0, 1};
    ASSERT_OK(dd_testing_cluster_partition(c, groups, 3));
    ASSERT_OK(increment(c, 0, 2));
    ASSERT_OK(increment(c, 2, 3));
    /* Each side converges on its own updates only. */
    bool sides = false;
    for (int s = 0; s < 120 && !sides; s++) {
        ASSERT_OK(dd_testing_cluster_run(c, 500, 50));
        ASSERT(hits(c, 2) == 3); /* n2 never hears from n0 */
        sides = hits(c, 0) == 2 && hits(c, 1) == 2;
    }
    ASSERT_MSG(sides, "n0 and n1 did not converge (seed %llu)",
               (unsigned long long)dd_testing_cluster_seed(c));

    dd_testing_cluster_heal(c);
    bool converged = false;
    for (int s = 0; s < 120 && !converged; s++) {
        ASSERT_OK(dd_testing_cluster_run(c, 500, 50));
        converged = all_equal(c, 5);
    }
    ASSERT_MSG(converged, "no convergence after the heal (seed %llu)",
               (unsigned long long)dd_testing_cluster_seed(c));
    ASSERT(dd_testing_cluster_sent(c) > 0);
    ASSERT(dd_testing_cluster_dropped(c) > 0); /* the partition and the 10% loss */
    dd_testing_cluster_free(c);
}

TEST(test_testing_cluster_same_seed_same_run)
{
    uint64_t sent[2], dropped[2];
    for (int k = 0; k < 2; k++) {
        dd_testing_cluster_options o = DD_TESTING_CLUSTER_OPTIONS_INIT;
        dd_testing_cluster *c = NULL;
        o.seed = test_seed();
        o.drop_pct = 20;
        o.min_delay_ms = 5;
        o.max_delay_ms = 80;
        ASSERT_OK(dd_testing_cluster_new(&c, &o));
        ASSERT_OK(dd_testing_cluster_run(c, 2000, 50));
        sent[k] = dd_testing_cluster_sent(c);
        dropped[k] = dd_testing_cluster_dropped(c);
        dd_testing_cluster_free(c);
    }
    ASSERT_EQ_U64(sent[0], sent[1]);
    ASSERT_EQ_U64(dropped[0], dropped[1]);
}

TEST(test_testing_cluster_restart_keeps_durable_keys)
{
    const char *durable[] = {"hits"};
    dd_replica_options ro = DD_REPLICA_OPTIONS_INIT;
    dd_testing_cluster_options o = DD_TESTING_CLUSTER_OPTIONS_INIT;
    dd_testing_cluster *c = NULL;
    ro.durable_keys = durable;
    ro.durable_key_count = 1;
    o.nodes = 1;
    o.seed = test_seed();
    o.replica = &ro;
    ASSERT_OK(dd_testing_cluster_new(&c, &o));
    ASSERT_OK(increment(c, 0, 7));
    ASSERT_OK(dd_testing_cluster_run(c, 200, 50));
    ASSERT_OK(dd_testing_cluster_restart(c, 0));
    ASSERT(hits(c, 0) == 7);
    dd_testing_cluster_free(c);
}

TEST(test_testing_cluster_rejects_bad_options)
{
    dd_testing_cluster_options o = DD_TESTING_CLUSTER_OPTIONS_INIT;
    dd_testing_cluster *c = NULL;
    o.nodes = 0;
    ASSERT_STATUS(dd_testing_cluster_new(&c, &o), DD_EINVAL);
    o.nodes = 2;
    o.drop_pct = 101;
    ASSERT_STATUS(dd_testing_cluster_new(&c, &o), DD_EINVAL);
    ASSERT_STATUS(dd_testing_cluster_new(&c, NULL), DD_EINVAL);
    ASSERT(c == NULL);
    dd_testing_cluster_free(NULL);
}

TEST(test_testing_memory_stores_open_and_hold_data)
{
    dd_state_store *s = NULL;
    dd_journal *j = NULL;
    uint64_t rev = 0;
    ASSERT_OK(dd_testing_memory_store(&s));
    ASSERT_OK(dd_state_store_upsert(&rev, s, (const uint8_t *)"k", 1, 0, (const uint8_t *)"v", 1));
    ASSERT_EQ_U64(rev, 1);
    ASSERT_OK(dd_state_store_close(s));
    ASSERT_OK(dd_testing_memory_journal(&j));
    ASSERT_OK(dd_journal_close(j));
}
