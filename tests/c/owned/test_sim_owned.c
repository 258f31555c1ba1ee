/*
 * Simulator scenarios after dstate's fault and chaos suites: crash and
 * restart with and without persisted state, ghost node rejected, stale
 * snapshot discarded, version mismatch under both policies, split-brain
 * partition heal, generation ordering independent of clock skew, and a
 * ten-node full mesh converging through a lossy network.
 *
 * Every scenario also checks, after every simulated millisecond, that no
 * reader's view of a node ever moves to an older generation (a monitor).
 */
#include <string.h>

#include "owned/owned.h"
#include "sim.h"
#include "test.h"

static const char *const TYPES[4] = {"push", "lazy", "feedsync", "periodic"};
static const uint32_t STRATEGIES[4] = {OWNED_ACTIVE_PUSH, OWNED_FEED_LAZY_PULL,
                                       OWNED_FEED_WITH_PERIODIC_SYNC, OWNED_PERIODIC_ONLY};

/* Per-node type versions and the policy, for the version scenarios. */
static uint32_t g_wire_version[SIM_MAX_NODES];
static uint32_t g_policy = OWNED_KEEP_STALE;

static void setup_all(owned *e, void *ctx)
{
    (void)ctx;
    size_t i = sim_index(owned_node_id(e));
    for (int k = 0; k < 4; k++) {
        owned_type_options o = owned_type_defaults();
        o.strategy = STRATEGIES[k];
        o.wire_version = g_wire_version[i] ? g_wire_version[i] : 1;
        o.on_mismatch = g_policy;
        o.sync_interval_ms = 300;
        o.feed_interval_ms = 50;
        o.pull_retry_ms = 100;
        if (owned_register(e, TYPES[k], &o) != ST_OK)
            abort();
    }
}

/* The newest generation each reader has seen of each owner, per type. */
typedef struct monitor {
    owned_gen seen[4][SIM_MAX_NODES][SIM_MAX_NODES];
} monitor;

static void monitor_check(sim *s, monitor *mon)
{
    for (int k = 0; k < 4; k++)
        for (size_t at = 0; at < s->n; at++) {
            if (!s->nodes[at].alive)
                continue;
            for (size_t of = 0; of < s->n; of++) {
                uint64_t v;
                owned_gen g;
                if (of == at || !sim_view(s, at, of, TYPES[k], &v, &g))
                    continue;
                ASSERT_MSG(owned_gen_cmp(g, mon->seen[k][at][of]) >= 0,
                           "%s: node %zu's view of %zu went back from (%llu,%llu) to (%llu,%llu)",
                           TYPES[k], at, of, (unsigned long long)mon->seen[k][at][of].incarnation,
                           (unsigned long long)mon->seen[k][at][of].age,
                           (unsigned long long)g.incarnation, (unsigned long long)g.age);
                mon->seen[k][at][of] = g;
            }
        }
}

static void run_checked(sim *s, monitor *mon, uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t++) {
        sim_step(s);
        monitor_check(s, mon);
    }
}

static void boot(sim *s, monitor *mon, size_t n)
{
    memset(mon, 0, sizeof(*mon));
    sim_init(s, n, test_seed(), setup_all, NULL);
    for (size_t i = 0; i < n; i++)
        ASSERT_OK(sim_start(s, i));
    run_checked(s, mon, 20);
}

/* Random mutations on live nodes for `ms`, with random urgencies and an
 * occasional full view (compaction). */
static void churn(sim *s, monitor *mon, uint64_t ms, int types)
{
    for (uint64_t t = 0; t < ms; t++) {
        if (rng_chance(&s->r, 1, 3)) {
            size_t i = (size_t)rng_below(&s->r, s->n);
            int k = (int)rng_below(&s->r, (uint64_t)types);
            if (s->nodes[i].alive) {
                uint32_t urgency = (uint32_t)rng_below(&s->r, 4);
                bool full = rng_chance(&s->r, 1, 10);
                ASSERT_OK(sim_add(s, i, TYPES[k], 1 + rng_below(&s->r, 9), full, urgency));
            }
        }
        run_checked(s, mon, 1);
    }
    /* One last default-urgency mutation per node and type, so suppressed
     * ones are carried out. */
    for (size_t i = 0; i < s->n; i++)
        for (int k = 0; k < types; k++)
            if (s->nodes[i].alive)
                ASSERT_OK(sim_add(s, i, TYPES[k], 1, false, OWNED_URGENCY_DEFAULT));
}

/* Type masks: bit k is TYPES[k]. Lazy types converge only when read. */
#define PUSH 0x1
#define EAGER 0xd /* push, feedsync, periodic */

static bool all_converged(sim *s, int mask)
{
    for (int k = 0; k < 4; k++)
        if ((mask & (1 << k)) && !sim_converged(s, TYPES[k]))
            return false;
    return true;
}

static bool settle(sim *s, monitor *mon, uint64_t max_ms, int mask)
{
    for (uint64_t t = 0; t < max_ms; t += 10) {
        if (all_converged(s, mask))
            return true;
        run_checked(s, mon, 10);
    }
    return all_converged(s, mask);
}

/* A lazy reader gets the owner's latest generation by asking. */
static void query_all_lazy(sim *s, monitor *mon)
{
    for (size_t at = 0; at < s->n; at++)
        for (size_t of = 0; of < s->n; of++) {
            uint64_t req;
            if (at != of)
                ASSERT_OK(owned_query(s->nodes[at].e, "lazy", s->nodes[of].id, 0, &req));
        }
    run_checked(s, mon, 200);
}

/* The faults stop: no loss, no duplicates, delays of 5 ms at most. */
static void quiet_network(sim *s)
{
    s->drop_pct = 0;
    s->dup_pct = 0;
    s->max_delay_ms = 5;
}

/* Churn on the push type for churn_ms, which then settles. */
static void churn_settled(sim *s, monitor *mon, uint64_t churn_ms)
{
    churn(s, mon, churn_ms, 1);
    ASSERT(settle(s, mon, 2000, PUSH));
}

static void boot_settled(sim *s, monitor *mon, size_t n, uint64_t churn_ms)
{
    boot(s, mon, n);
    churn_settled(s, mon, churn_ms);
}

/* Node i crashes and starts again without its state: its store wiped, or
 * (failed_load) a store whose load fails once; its value starts at 0. */
static void restart_without_state(sim *s, size_t i, bool failed_load)
{
    sim_crash(s, i, false);
    if (failed_load)
        s->nodes[i].store.fail_load = true;
    else
        sim_store_wipe(&s->nodes[i].store);
    *sim_value(s, i, "push") = 0;
    ASSERT_OK(sim_start(s, i));
    s->nodes[i].store.fail_load = false;
}

/* The eager types settle within max_ms, and the lazy one once read: every
 * type converged. */
static void converge_all_types(sim *s, monitor *mon, uint64_t max_ms)
{
    ASSERT(settle(s, mon, max_ms, EAGER));
    query_all_lazy(s, mon);
    ASSERT(all_converged(s, 0xf));
}

TEST(test_crash_and_restart_with_persisted_state_keeps_the_incarnation)
{
    sim s;
    monitor mon;
    boot_settled(&s, &mon, 4, 300);
    owned_gen before;
    uint64_t value;
    ASSERT(sim_view(&s, 0, 0, "push", &value, &before));
    sim_crash(&s, 0, false);
    run_checked(&s, &mon, 50);
    ASSERT_OK(sim_start(&s, 0));
    owned_gen after;
    uint64_t loaded;
    ASSERT(sim_view(&s, 0, 0, "push", &loaded, &after));
    ASSERT_EQ_U64(after.incarnation, before.incarnation);
    ASSERT_EQ_U64(after.age, before.age);
    ASSERT_EQ_U64(loaded, value);
    churn_settled(&s, &mon, 300);
    sim_free(&s);
}

TEST(test_crash_and_restart_without_state_takes_a_new_incarnation)
{
    sim s;
    monitor mon;
    boot_settled(&s, &mon, 4, 300);
    owned_gen before, seen;
    uint64_t v;
    ASSERT(sim_view(&s, 0, 0, "push", &v, &before));
    restart_without_state(&s, 0, false);
    ASSERT(settle(&s, &mon, 2000, PUSH));
    ASSERT(sim_view(&s, 1, 0, "push", &v, &seen));
    ASSERT(seen.incarnation > before.incarnation);
    ASSERT(seen.age < before.age); /* a newer incarnation wins at a lower age */
    ASSERT_EQ_U64(v, 0);
    sim_free(&s);
}

TEST(test_crash_and_restart_with_a_failed_load_takes_a_new_incarnation)
{
    sim s;
    monitor mon;
    boot_settled(&s, &mon, 3, 200);
    owned_gen before, after;
    uint64_t v;
    ASSERT(sim_view(&s, 2, 2, "push", &v, &before));
    restart_without_state(&s, 2, true);
    ASSERT(sim_view(&s, 2, 2, "push", &v, &after));
    ASSERT(after.incarnation > before.incarnation);
    churn_settled(&s, &mon, 200);
    sim_free(&s);
}

TEST(test_ghost_node_is_rejected_until_it_rejoins)
{
    sim s;
    monitor mon;
    boot(&s, &mon, 4);
    s.max_delay_ms = 30; /* plenty of messages still in flight at the leave */
    churn(&s, &mon, 100, 1);
    /* Node 3 is declared gone while its engine keeps running and
     * publishing, and its in-flight messages still arrive. */
    for (size_t j = 0; j < 3; j++)
        ASSERT_OK(owned_member_left(s.nodes[j].e, s.nodes[3].id));
    memset(&mon, 0, sizeof(mon)); /* views of 3 are gone on purpose */
    for (int k = 0; k < 20; k++) {
        ASSERT_OK(sim_add(&s, 3, "push", 1, k % 5 == 0, OWNED_URGENCY_IMMEDIATE));
        run_checked(&s, &mon, 10);
    }
    run_checked(&s, &mon, 400);
    uint64_t ghosts = 0;
    for (size_t j = 0; j < 3; j++) {
        uint64_t v;
        owned_gen g;
        ASSERT(!sim_view(&s, j, 3, "push", &v, &g));
        ghosts += owned_get_stats(s.nodes[j].e).ghost_dropped;
    }
    ASSERT(ghosts > 0);
    /* It rejoins: its view comes back and converges. */
    for (size_t j = 0; j < 3; j++)
        ASSERT_OK(owned_member_up(s.nodes[j].e, s.nodes[3].id, 2));
    ASSERT(settle(&s, &mon, 3000, PUSH));
    sim_free(&s);
}

TEST(test_stale_snapshots_are_discarded_under_reordering)
{
    sim s;
    monitor mon;
    boot(&s, &mon, 4);
    s.min_delay_ms = 1;
    s.max_delay_ms = 400; /* periodic snapshots overtake each other */
    s.dup_pct = 20;
    churn(&s, &mon, 1500, 4);
    s.max_delay_ms = 5;
    ASSERT(settle(&s, &mon, 5000, EAGER));
    uint64_t stale = 0;
    for (size_t j = 0; j < 4; j++)
        stale += owned_get_stats(s.nodes[j].e).stale_dropped;
    ASSERT(stale > 0);
    sim_free(&s);
}

static void version_scenario(uint32_t policy)
{
    sim s;
    monitor mon;
    memset(g_wire_version, 0, sizeof(g_wire_version));
    g_policy = policy;
    boot_settled(&s, &mon, 3, 200);
    uint64_t old_value;
    owned_gen old_gen;
    ASSERT(sim_view(&s, 1, 0, "push", &old_value, &old_gen));
    /* Node 0 upgrades its view format and restarts with its store. */
    sim_crash(&s, 0, false);
    g_wire_version[0] = 2;
    ASSERT_OK(sim_start(&s, 0));
    for (int k = 0; k < 5; k++)
        ASSERT_OK(sim_add(&s, 0, "push", 1, false, OWNED_URGENCY_DEFAULT));
    memset(&mon, 0, sizeof(mon));
    run_checked(&s, &mon, 500);
    for (size_t j = 1; j < 3; j++) {
        owned_view_copy v;
        int rc = owned_read(s.nodes[j].e, "push", s.nodes[0].id, &v);
        if (policy == OWNED_KEEP_STALE) {
            ASSERT_OK(rc);
            ASSERT(v.version_mismatch);
            ASSERT(owned_gen_cmp(v.gen, old_gen) == 0);
            ASSERT_EQ_U64(sim_fold(&v), old_value);
            owned_view_copy_free(&v);
        } else {
            ASSERT_STATUS(rc, ST_ENOTFOUND);
        }
        ASSERT(owned_get_stats(s.nodes[j].e).version_dropped > 0);
    }
    /* Node 0 sees the others' old version too, and keeps or drops. */
    /* The rest upgrade (restarting with their stores): all converge. */
    for (size_t j = 1; j < 3; j++) {
        sim_crash(&s, j, false);
        g_wire_version[j] = 2;
        ASSERT_OK(sim_start(&s, j));
    }
    churn(&s, &mon, 200, 1);
    ASSERT(settle(&s, &mon, 3000, PUSH));
    sim_free(&s);
    memset(g_wire_version, 0, sizeof(g_wire_version));
    g_policy = OWNED_KEEP_STALE;
}

TEST(test_version_mismatch_keep_stale_policy)
{
    version_scenario(OWNED_KEEP_STALE);
}

TEST(test_version_mismatch_drop_and_wait_policy)
{
    version_scenario(OWNED_DROP_AND_WAIT);
}

TEST(test_split_brain_partition_heals)
{
    sim s;
    monitor mon;
    boot(&s, &mon, 6);
    s.drop_pct = 5;
    churn(&s, &mon, 200, 4);
    sim_partition(&s, 3);
    churn(&s, &mon, 800, 4);
    /* Each side converged on its own side's owners; not across. */
    uint64_t v0, v3;
    owned_gen g0, g3;
    ASSERT(sim_view(&s, 0, 0, "push", &v0, &g0));
    ASSERT(sim_view(&s, 3, 0, "push", &v3, &g3));
    ASSERT(owned_gen_cmp(g3, g0) < 0);
    sim_heal(&s);
    s.drop_pct = 0;
    converge_all_types(&s, &mon, 5000);
    sim_free(&s);
}

TEST(test_generation_order_is_independent_of_clock_skew)
{
    sim s;
    monitor mon;
    memset(&mon, 0, sizeof(mon));
    sim_init(&s, 5, test_seed(), setup_all, NULL);
    const int64_t skews[5] = {0, 3600000, -3600000, 300000, -777};
    for (size_t i = 0; i < 5; i++) {
        s.nodes[i].skew_ms = skews[i];
        ASSERT_OK(sim_start(&s, i));
    }
    s.max_delay_ms = 40;
    churn(&s, &mon, 600, 4);
    /* Node 1's clock jumps back two hours mid-run; node 2's forward. */
    s.nodes[1].skew_ms -= 7200000;
    s.nodes[2].skew_ms += 7200000;
    churn(&s, &mon, 600, 4);
    quiet_network(&s); /* there was no loss or duplication */
    converge_all_types(&s, &mon, 5000);
    sim_free(&s);
}

TEST(test_ten_node_full_mesh_converges_through_a_lossy_network)
{
    sim s;
    monitor mon;
    boot(&s, &mon, 10);
    s.drop_pct = 10;
    s.dup_pct = 5;
    s.max_delay_ms = 25;
    churn(&s, &mon, 1500, 4);
    quiet_network(&s);
    ASSERT(settle(&s, &mon, 5000, EAGER));
    ASSERT(!all_converged(&s, 0x2)); /* lazy views wait for reads */
    query_all_lazy(&s, &mon);
    ASSERT(sim_converged(&s, "push"));
    ASSERT(sim_converged(&s, "lazy"));
    ASSERT(sim_converged(&s, "feedsync"));
    ASSERT(sim_converged(&s, "periodic"));
    sim_free(&s);
}

TEST(test_partition_with_membership_changes_heals)
{
    sim s;
    monitor mon;
    boot(&s, &mon, 6);
    churn(&s, &mon, 200, 4);
    /* The failure detectors on each side declare the other side gone. */
    sim_partition(&s, 3);
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 6; b++)
            if ((a < 3) != (b < 3))
                ASSERT_OK(owned_member_left(s.nodes[a].e, s.nodes[b].id));
    memset(&mon, 0, sizeof(mon));
    churn(&s, &mon, 600, 4);
    uint64_t v;
    owned_gen g;
    ASSERT(!sim_view(&s, 0, 4, "push", &v, &g));
    /* Heal: everyone is up again, views come back by greeting. */
    sim_heal(&s);
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 6; b++)
            if ((a < 3) != (b < 3))
                ASSERT_OK(owned_member_up(s.nodes[a].e, s.nodes[b].id, 2));
    converge_all_types(&s, &mon, 3000);
    sim_free(&s);
}

/* dstate's chaos suite in small: rounds of random faults (crashes with and
 * without the store, failed loads, partitions, loss, duplication, long
 * delays, clock jumps), then a quiet period in which everything must
 * converge. DD_LONG=1 runs twenty times as many rounds. */
TEST(test_chaos_rounds_converge_after_the_faults_stop)
{
    sim s;
    monitor mon;
    boot(&s, &mon, 7);
    unsigned rounds = test_cases(4);
    for (unsigned round = 0; round < rounds; round++) {
        s.drop_pct = (unsigned)rng_below(&s.r, 25);
        s.dup_pct = (unsigned)rng_below(&s.r, 15);
        s.max_delay_ms = 1 + rng_below(&s.r, 200);
        if (rng_chance(&s.r, 1, 2))
            sim_partition(&s, 1 + (size_t)rng_below(&s.r, s.n - 1));
        size_t victim = (size_t)rng_below(&s.r, s.n);
        s.nodes[(victim + 1) % s.n].skew_ms += (int64_t)rng_below(&s.r, 7200000) - 3600000;
        churn(&s, &mon, 150, 4);
        /* Crash a node; restart it with its store, without, or with a
         * failed load. */
        sim_crash(&s, victim, rng_chance(&s.r, 1, 2));
        run_checked(&s, &mon, 20);
        int how = (int)rng_below(&s.r, 3);
        if (how == 1)
            sim_store_wipe(&s.nodes[victim].store);
        s.nodes[victim].store.fail_load = how == 2;
        if (how != 0)
            memset(s.nodes[victim].values, 0, sizeof(s.nodes[victim].values));
        ASSERT_OK(sim_start(&s, victim));
        s.nodes[victim].store.fail_load = false;
        /* A restarted node's persisted value is what it had published. */
        if (how == 0) {
            uint64_t v;
            owned_gen g;
            ASSERT(sim_view(&s, victim, victim, "push", &v, &g));
            ASSERT_EQ_U64(v, *sim_value(&s, victim, "push"));
        }
        /* Peers that were told it left learn it is back. */
        for (size_t j = 0; j < s.n; j++)
            if (j != victim)
                ASSERT_OK(owned_member_up(s.nodes[j].e, s.nodes[victim].id, 100 + round));
        memset(&mon, 0, sizeof(mon)); /* the victim's views restart */
        churn(&s, &mon, 150, 4);
        sim_heal(&s);
    }
    quiet_network(&s);
    churn(&s, &mon, 10, 4);
    converge_all_types(&s, &mon, 5000);
    sim_free(&s);
}
