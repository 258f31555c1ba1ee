/*
 * A node that leaves cleanly (issue 17.11, core/replicator/leave.c): the
 * others mark it removed within one gossip interval, with no unreachable
 * or down state on the way, long before down_after_ms; what it wrote
 * (including write-behind durable keys and writes no delta carried) stays
 * in the cluster; and a later incarnation rejoins. Simulated time only:
 * every bound below is in the simulator's clock.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "test.h"
#include "util/status.h"

#define GOSSIP_MS 1000u
#define DOWN_AFTER_MS 600000u

/* What the survivors saw of the leaver. */
typedef struct watch {
    sim *s;
    const char *who;
    uint64_t removed_at[3]; /* sim time of the MEMBER removed event; 0: none */
    uint32_t detours[3];    /* unreachable or down events */
    uint32_t up_again[3];   /* up events after the removal */
} watch;

static void on_event(void *ctx, uint32_t node, const engine_event *ev)
{
    watch *w = ctx;
    if (ev->kind != ENGINE_EV_MEMBER || node >= 3 || strcmp(ev->member_id, w->who) != 0)
        return;
    if (ev->member_state == MEMBER_UNREACHABLE || ev->member_state == MEMBER_DOWN)
        w->detours[node]++;
    if (ev->member_state == MEMBER_REMOVED && !w->removed_at[node])
        w->removed_at[node] = sim_now(w->s);
    if (ev->member_state == MEMBER_UP && w->removed_at[node])
        w->up_again[node]++;
}

static const engine_pattern durable_keys[] = {{(const uint8_t *)"d-", 2, true}};

/* Three nodes that know each other; digest gossip only (no deltas), so a
 * write on the leaver reaches the others only through its hand-off. Fails
 * the test when the simulator cannot start. */
static sim *cluster(watch *w)
{
    sim_config c;
    sim_config_default(&c);
    c.seed = test_seed();
    c.nodes = 3;
    c.gossip_interval_ms = GOSSIP_MS;
    c.strategy = ENGINE_DELTA_NONE;
    c.down_after_ms = DOWN_AFTER_MS;
    c.stores = true;
    c.durable = durable_keys;
    c.durable_count = 1;
    c.write_behind = true;
    c.write_behind_interval_ms = 3600000; /* only an explicit flush writes */
    sim *s = NULL;
    ASSERT_MSG(sim_new(&s, &c) == ST_OK, "seed %" PRIu64 ": the simulator did not start",
               test_seed());
    sim_run(s, 10000);
    memset(w, 0, sizeof(*w));
    w->s = s;
    w->who = "n2";
    sim_on_event(s, on_event, w);
    return s;
}

static bool durable_record(state_store *st, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), "%s%s", ENGINE_DURABLE_PREFIX, key);
    bytes v = BYTES_INIT;
    uint64_t rev;
    int rc = state_store_get(st, (const uint8_t *)k, strlen(k), &rev, &v);
    bytes_free(&v);
    return rc == ST_OK;
}

TEST(test_leaving_node_is_removed_within_one_gossip_interval_without_down)
{
    watch w;
    sim *s = cluster(&w);
    for (uint32_t i = 0; i < 2; i++) {
        engine_member_state st;
        ASSERT_OK(engine_member_state_of(sim_node_at(s, i)->e, "n2", &st));
        ASSERT_EQ_INT(st, MEMBER_UP);
    }
    uint64_t left_at = sim_now(s);
    ASSERT_OK(engine_leave(sim_node_at(s, 2)->e, sim_node_now(s, 2)));
    sim_run(s, GOSSIP_MS);
    for (uint32_t i = 0; i < 2; i++) {
        ASSERT_MSG(w.removed_at[i], "seed %" PRIu64 ": n%u never saw n2 removed", test_seed(), i);
        ASSERT_MSG(w.removed_at[i] - left_at <= GOSSIP_MS,
                   "seed %" PRIu64 ": n%u saw n2 removed after %" PRIu64 " ms", test_seed(), i,
                   w.removed_at[i] - left_at);
        engine_member_state st;
        ASSERT_OK(engine_member_state_of(sim_node_at(s, i)->e, "n2", &st));
        ASSERT_EQ_INT(st, MEMBER_REMOVED);
        ASSERT(engine_member_left(sim_node_at(s, i)->e, "n2", 2));
    }
    ASSERT_EQ_U64(engine_leave_unacked(sim_node_at(s, 2)->e), 0);
    /* The leaver stops; nothing the survivors see afterwards is a detour. */
    sim_crash(s, 2);
    sim_run(s, 60000);
    for (uint32_t i = 0; i < 2; i++) {
        ASSERT_EQ_U64(w.detours[i], 0);
        ASSERT_EQ_U64(w.up_again[i], 0);
        ASSERT_EQ_U64(engine_up_peers(sim_node_at(s, i)->e), 1);
    }
    sim_free(s);
}

TEST(test_leaving_node_hands_off_writes_and_flushes_write_behind_keys)
{
    watch w;
    sim *s = cluster(&w);
    ASSERT_OK(sim_increment(s, 0, "d-shared", 2));
    ASSERT_OK(sim_increment(s, 2, "d-shared", 5));
    ASSERT_OK(sim_increment(s, 2, "d-only-n2", 7));
    ASSERT_OK(sim_increment(s, 2, "plain", 3));
    ASSERT(!durable_record(sim_node_at(s, 2)->store, "d-only-n2")); /* still write-behind */
    ASSERT_OK(engine_leave(sim_node_at(s, 2)->e, sim_node_now(s, 2)));
    ASSERT(durable_record(sim_node_at(s, 2)->store, "d-only-n2"));
    ASSERT(durable_record(sim_node_at(s, 2)->store, "d-shared"));
    sim_run(s, GOSSIP_MS);
    sim_crash(s, 2);
    const char *why = NULL;
    uint64_t took = sim_run_until_converged(s, 30000, 500);
    ASSERT_MSG(took != UINT64_MAX, "seed %" PRIu64 ": not converged: %s", test_seed(),
               sim_converged(s, &why) ? "" : why);
    for (uint32_t i = 0; i < 2; i++) {
        engine *e = sim_node_at(s, i)->e;
        ASSERT_MSG(sim_counter(e, "d-only-n2") == 7, "seed %" PRIu64 ": n%u lost n2's write",
                   test_seed(), i);
        ASSERT_EQ_INT(sim_counter(e, "d-shared"), 7);
        ASSERT_EQ_INT(sim_counter(e, "plain"), 3);
    }
    sim_free(s);
}

TEST(test_node_that_left_refuses_writes_and_a_second_leave)
{
    watch w;
    sim *s = cluster(&w);
    engine *e = sim_node_at(s, 2)->e;
    ASSERT(!engine_has_left(e));
    ASSERT_OK(engine_leave(e, sim_node_now(s, 2)));
    ASSERT(engine_has_left(e));
    ASSERT_EQ_INT(sim_increment(s, 2, "x", 1), ST_EMISUSE);
    ASSERT_EQ_INT(sim_delete(s, 2, "x"), ST_EMISUSE);
    ASSERT_EQ_INT(engine_leave(e, sim_node_now(s, 2)), ST_EMISUSE);
    engine_member_state st;
    ASSERT_OK(engine_member_state_of(e, "n2", &st));
    ASSERT_EQ_INT(st, MEMBER_REMOVED);
    /* It neither gossips nor refutes the removal it announced. */
    sim_run(s, 10 * GOSSIP_MS);
    ASSERT_EQ_U64(engine_incarnation(e), 1);
    ASSERT_EQ_U64(engine_up_peers(sim_node_at(s, 0)->e), 1);
    sim_free(s);
}

TEST(test_node_that_left_rejoins_with_a_new_incarnation)
{
    watch w;
    sim *s = cluster(&w);
    ASSERT_OK(engine_leave(sim_node_at(s, 2)->e, sim_node_now(s, 2)));
    sim_run(s, GOSSIP_MS);
    ASSERT_OK(sim_restart(s, 2, true));
    sim_run(s, 10 * GOSSIP_MS);
    for (uint32_t i = 0; i < 2; i++) {
        engine_member_state st;
        ASSERT_OK(engine_member_state_of(sim_node_at(s, i)->e, "n2", &st));
        ASSERT_MSG(st == MEMBER_UP, "seed %" PRIu64 ": n%u sees n2 in state %d", test_seed(), i,
                   (int)st);
        ASSERT(!engine_member_left(sim_node_at(s, i)->e, "n2", 2));
    }
    ASSERT_OK(sim_increment(s, 2, "after", 1));
    ASSERT(sim_run_until_converged(s, 30000, 500) != UINT64_MAX);
    ASSERT_EQ_INT(sim_counter(sim_node_at(s, 0)->e, "after"), 1);
    sim_free(s);
}

TEST(test_malformed_leave_message_is_rejected_and_changes_nothing)
{
    watch w;
    sim *s = cluster(&w);
    engine *e = sim_node_at(s, 0)->e;
    /* magic, version, WIRE_LEAVE (14), incarnation 1, then the body */
    const uint8_t bad_phase[] = {0xDD, 1, 14, 1, 3};
    const uint8_t trailing[] = {0xDD, 1, 14, 1, 1, 0};
    const uint8_t empty[] = {0xDD, 1, 14, 1};
    ASSERT_EQ_INT(engine_deliver(e, sim_node_now(s, 0), "n2", 2, bad_phase, sizeof(bad_phase)),
                  ST_ECORRUPT);
    ASSERT_EQ_INT(engine_deliver(e, sim_node_now(s, 0), "n2", 2, trailing, sizeof(trailing)),
                  ST_ECORRUPT);
    ASSERT_EQ_INT(engine_deliver(e, sim_node_now(s, 0), "n2", 2, empty, sizeof(empty)),
                  ST_ECORRUPT);
    engine_member_state st;
    ASSERT_OK(engine_member_state_of(e, "n2", &st));
    ASSERT_EQ_INT(st, MEMBER_UP);
    sim_free(s);
}

TEST(test_leave_announcement_is_repeated_until_acknowledged_under_message_loss)
{
    watch w;
    sim *s = cluster(&w);
    sim_set_faults(s, 40, 10); /* 40% of messages lost, 10% duplicated */
    ASSERT_OK(engine_leave(sim_node_at(s, 2)->e, sim_node_now(s, 2)));
    sim_run(s, 20 * GOSSIP_MS);
    for (uint32_t i = 0; i < 2; i++) {
        ASSERT_MSG(w.removed_at[i], "seed %" PRIu64 ": n%u never saw n2 removed", test_seed(), i);
        ASSERT_EQ_U64(w.detours[i], 0);
    }
    ASSERT_MSG(engine_leave_unacked(sim_node_at(s, 2)->e) == 0,
               "seed %" PRIu64 ": acks missing after 20 intervals", test_seed());
    sim_free(s);
}
