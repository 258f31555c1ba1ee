/*
 * dd_owned attached to a dd_system with the built-in TCP transport,
 * through the public header and libddata.so only: nodes in one process on
 * loopback, each system's driver thread pumping its owned engine over
 * channel 2 with membership taken from the replicator. Every wait is
 * bounded so a regression fails instead of hanging.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddata.h"
#include "tcp_node.h"
#include "test.h"

#define TYPE "load"

typedef struct onode {
    const char *name;
    dd_system *sys;
    dd_replica *rep;
    dd_owned *own;
    uint64_t id; /* dd_owned_node_of(name) */
    char addr[TCP_NODE_ADDR_BYTES];
} onode;

static const uint8_t secret[32] = {7, 1, 7, 1, 7};

static void onode_open(onode *n, const char *name, const char *seed, uint32_t strategy)
{
    memset(n, 0, sizeof(*n));
    n->name = name;
    /* Short enough to see a departure, long enough not to flap under ASan
     * on a busy machine (a member marked down stays down). */
    tcp_node_options o = {.node_id = name,
                          .secret = secret,
                          .seed = seed,
                          .failure_timeout_ms = 2000,
                          .down_after_ms = 2000};
    ASSERT_OK(tcp_system_open(&n->sys, n->addr, &o));
    dd_replica_options ro;
    ASSERT_OK(dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION));
    ro.gossip_interval_ms = 100;
    ASSERT_OK(dd_replica_open(&n->rep, n->sys, &ro));
    dd_owned_options oo;
    ASSERT_OK(dd_owned_options_init(&oo, DD_OWNED_OPTIONS_VERSION));
    oo.system = n->sys;
    ASSERT_OK(dd_owned_open(&n->own, &oo));
    dd_owned_type_options to;
    ASSERT_OK(dd_owned_type_options_init(&to, DD_OWNED_TYPE_OPTIONS_VERSION));
    to.strategy = strategy;
    to.sync_interval_ms = 300;
    to.compact_every = 0;
    ASSERT_OK(dd_owned_register(n->own, TYPE, &to));
    ASSERT_OK(dd_owned_node_of(&n->id, name, strlen(name)));
}

static void onode_close(onode *n)
{
    ASSERT_OK(dd_owned_close(n->own));
    ASSERT_OK(dd_replica_close(n->rep));
    ASSERT_OK(dd_system_close(n->sys));
}

static void publish(onode *n, int full, const char *text)
{
    ASSERT_OK(dd_owned_publish(NULL, NULL, n->own, TYPE, full, (const uint8_t *)text, strlen(text),
                               DD_OWNED_URGENCY_DEFAULT, 0));
}

/* 1 when `reader` holds `owner`'s view with this base and `deltas` deltas
 * "d0".."d<deltas-1>" in order. */
static int view_is(onode *reader, onode *owner, const char *base, size_t deltas)
{
    dd_owned_view v;
    if (dd_owned_read(&v, reader->own, TYPE, owner->id) != DD_OK)
        return 0;
    int ok = v.node_id == owner->id && v.base.len == strlen(base) &&
             memcmp(v.base.data, base, v.base.len) == 0 && v.delta_count == deltas &&
             v.age == v.base_age + deltas;
    for (size_t i = 0; ok && i < deltas; i++) {
        char want[32];
        snprintf(want, sizeof(want), "d%zu", i);
        ok = v.deltas[i].len == strlen(want) && memcmp(v.deltas[i].data, want, strlen(want)) == 0;
    }
    dd_owned_view_free(&v);
    return ok;
}

static size_t node_count(onode *n)
{
    size_t count = 0;
    ASSERT_OK(dd_owned_nodes(NULL, 0, &count, n->own));
    return count;
}

typedef struct nodes_goal {
    onode *nodes;
    size_t count, want;
} nodes_goal;

static bool all_count(void *arg)
{
    nodes_goal *g = arg;
    for (size_t i = 0; i < g->count; i++)
        if (node_count(&g->nodes[i]) != g->want)
            return false;
    return true;
}

/* Waits up to timeout_ms for every node to count `want` owned peers. */
static bool wait_nodes(onode *n, size_t count, size_t want, int timeout_ms)
{
    nodes_goal g = {n, count, want};
    return tcp_wait_until(all_count, &g, timeout_ms);
}

/* Nodes "a", "b", "c"... (count of them) with `strategy`, seeded on the
 * first, once every one counts the others as owned peers. */
static void open_cluster(onode *n, int count, uint32_t strategy)
{
    static const char *const names[] = {"a", "b", "c"};
    for (int i = 0; i < count; i++)
        onode_open(&n[i], names[i], i ? n[0].addr : NULL, strategy);
    ASSERT_MSG(wait_nodes(n, (size_t)count, (size_t)count - 1, 10000),
               "owned membership did not form");
}

static void close_cluster(onode *n, int count)
{
    for (int i = count - 1; i >= 0; i--)
        onode_close(&n[i]);
}

/* Waits up to timeout_ms for view_is(reader, owner, base, deltas). */
static bool wait_view(onode *reader, onode *owner, const char *base, size_t deltas, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (view_is(reader, owner, base, deltas))
            return true;
        tcp_sleep_ms(10);
    }
    return false;
}

/* Drains events until one of `kind` about `node` arrives; 0 on timeout. */
static int wait_event(onode *n, uint32_t kind, uint64_t node, uint64_t request, int timeout_ms,
                      int32_t *status)
{
    int fd = -1;
    ASSERT_OK(dd_owned_event_fd(&fd, n->own));
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        dd_owned_event ev;
        while (dd_owned_next_event(&ev, n->own) == DD_OK)
            if (ev.kind == kind && ev.node_id == node && ev.request_id == request) {
                if (status)
                    *status = ev.status;
                return 1;
            }
        struct pollfd p = {fd, POLLIN, 0};
        (void)poll(&p, 1, 20);
    }
    return 0;
}

TEST(test_three_tcp_nodes_see_each_others_owned_state)
{
    onode n[3];
    open_cluster(n, 3, DD_OWNED_ACTIVE_PUSH);
    char bases[3][16];
    for (int i = 0; i < 3; i++) {
        snprintf(bases[i], sizeof(bases[i]), "base-%s", n[i].name);
        publish(&n[i], 1, bases[i]);
    }
    for (int r = 0; r < 3; r++)
        for (int o = 0; o < 3; o++)
            ASSERT_MSG(wait_view(&n[r], &n[o], bases[o], 0, 8000), "%s did not read %s's view",
                       n[r].name, n[o].name);
    uint64_t ids[4];
    size_t count = 0;
    ASSERT_OK(dd_owned_nodes(ids, 4, &count, n[0].own));
    ASSERT_EQ_U64(count, 2);
    ASSERT((ids[0] == n[1].id && ids[1] == n[2].id) || (ids[0] == n[2].id && ids[1] == n[1].id));

    /* A delta stream arrives complete and in order. */
    for (int i = 0; i < 30; i++) {
        char d[16];
        snprintf(d, sizeof(d), "d%d", i);
        publish(&n[0], 0, d);
    }
    ASSERT_MSG(wait_view(&n[1], &n[0], bases[0], 30, 8000) &&
                   wait_view(&n[2], &n[0], bases[0], 30, 8000),
               "the delta stream did not arrive in order");
    char *text = tcp_stats_text(n[1].sys);
    ASSERT(text);
    ASSERT_MSG(strstr(text, "\"owned\":{\"corrupt\":0,\"deltas_applied\":"), "no owned stats: %s",
               text);
    ASSERT_MSG(strstr(text, "\"members\":2,"), "b's owned engine does not count 2 members: %s",
               text);
    free(text);

    /* The driver pumps: the host's pump calls are refused. */
    dd_buf out = DD_BUF_INIT;
    uint64_t to = 0;
    ASSERT_STATUS(dd_owned_tick(n[0].own, 1), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_next_outgoing(&out, &to, n[0].own), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_member_up(n[0].own, 99, 1), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_member_left(n[0].own, n[1].id), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_deliver(n[0].own, n[1].id, (const uint8_t *)"x", 1), DD_EMISUSE);
    ASSERT(view_is(&n[0], &n[1], bases[1], 0));

    /* A node that closes goes down in the replicator: its view goes. */
    onode_close(&n[2]);
    int32_t st = 0;
    ASSERT_MSG(wait_event(&n[0], DD_OWNED_EV_VIEW_REMOVED, n[2].id, 0, 10000, &st),
               "a did not drop c's view");
    ASSERT_STATUS(dd_owned_read(&(dd_owned_view){0}, n[0].own, TYPE, n[2].id), DD_ENOTFOUND);
    ASSERT_MSG(wait_nodes(n, 2, 1, 10000), "a and b still count c");
    ASSERT(view_is(&n[1], &n[0], bases[0], 30));
    close_cluster(n, 2);
}

TEST(test_fresh_read_pulls_through_the_transport)
{
    onode n[2];
    open_cluster(n, 2, DD_OWNED_FEED_LAZY_PULL);
    publish(&n[0], 1, "v1");
    publish(&n[0], 0, "d0");
    /* A member the failure detector drops (a starved ASan run) ends the
     * pull with DD_ENOTFOUND, by design; the point here is that a pull over
     * a stable link completes, so such a flap gets a few more tries. */
    uint64_t req = 0;
    int32_t st = -1;
    for (int attempt = 0; attempt < 3 && st != DD_OK; attempt++) {
        ASSERT_MSG(wait_nodes(n, 2, 1, 10000), "owned membership did not re-form");
        ASSERT_OK(dd_owned_query(&req, n[1].own, TYPE, n[0].id, 0));
        ASSERT_MSG(req != 0, "a zero-staleness read must pull");
        ASSERT_MSG(wait_event(&n[1], DD_OWNED_EV_QUERY_DONE, n[0].id, req, 8000, &st),
                   "the pull did not complete");
        ASSERT_MSG(st == DD_OK || st == DD_ENOTFOUND, "the pull ended with %d", st);
    }
    ASSERT_STATUS(st, DD_OK);
    ASSERT(view_is(&n[1], &n[0], "v1", 1));
    /* A node that is not a member is not found. */
    ASSERT_STATUS(dd_owned_query(&req, n[1].own, TYPE, 12345, 0), DD_ENOTFOUND);
    close_cluster(n, 2);
}

TEST(test_closing_system_and_owned_in_either_order_is_safe)
{
    onode n;
    onode_open(&n, "solo", NULL, DD_OWNED_ACTIVE_PUSH);
    publish(&n, 1, "mine");
    /* One engine per system; a closed one makes room. */
    dd_owned_options oo;
    ASSERT_OK(dd_owned_options_init(&oo, DD_OWNED_OPTIONS_VERSION));
    oo.system = n.sys;
    dd_owned *second = NULL;
    ASSERT_STATUS(dd_owned_open(&second, &oo), DD_ECONFLICT);
    ASSERT(second == NULL);
    ASSERT_OK(dd_owned_close(n.own));
    ASSERT_STATUS(dd_owned_publish(NULL, NULL, n.own, TYPE, 1, (const uint8_t *)"x", 1, 0, 0),
                  DD_EMISUSE);
    ASSERT_OK(dd_owned_open(&second, &oo));

    /* System first: the engine survives in pump mode with its own state. */
    dd_owned_type_options to;
    ASSERT_OK(dd_owned_type_options_init(&to, DD_OWNED_TYPE_OPTIONS_VERSION));
    ASSERT_OK(dd_owned_register(second, TYPE, &to));
    ASSERT_OK(dd_owned_publish(NULL, NULL, second, TYPE, 1, (const uint8_t *)"kept", 4, 0, 0));
    ASSERT_OK(dd_replica_close(n.rep));
    ASSERT_OK(dd_system_close(n.sys));
    ASSERT_OK(dd_owned_tick(second, 5)); /* detached: the host pumps again */
    dd_owned_view v;
    ASSERT_OK(dd_owned_read(&v, second, TYPE, n.id));
    ASSERT_MEM_EQ(v.base.data, v.base.len, "kept", 4);
    dd_owned_view_free(&v);
    ASSERT_OK(dd_owned_close(second));
    ASSERT_STATUS(dd_owned_open(&second, &oo), DD_EMISUSE); /* closed system */
}

TEST(test_attach_is_checked)
{
    dd_system *pump = NULL;
    ASSERT_OK(tcp_pump_system_open(&pump, "pump"));
    dd_owned_options oo;
    ASSERT_OK(dd_owned_options_init(&oo, DD_OWNED_OPTIONS_VERSION));
    ASSERT(oo.system == NULL);
    oo.system = pump;
    dd_owned *o = NULL;
    ASSERT_STATUS(dd_owned_open(&o, &oo), DD_EUNSUPPORTED);
    ASSERT(o == NULL && strstr(dd_error_last()->message, "pump"));
    oo.system = (dd_system *)(uintptr_t)0xdead;
    ASSERT_STATUS(dd_owned_open(&o, &oo), DD_EMISUSE);
    ASSERT_OK(dd_system_close(pump));

    uint64_t a = 0, b = 0, a2 = 0;
    ASSERT_OK(dd_owned_node_of(&a, "node-a", 6));
    ASSERT_OK(dd_owned_node_of(&a2, "node-a", 6));
    ASSERT_OK(dd_owned_node_of(&b, "node-b", 6));
    ASSERT_EQ_U64(a, a2);
    ASSERT(a != b);
    ASSERT_STATUS(dd_owned_node_of(NULL, "x", 1), DD_EINVAL);
    ASSERT_STATUS(dd_owned_node_of(&a, NULL, 1), DD_EINVAL);
    ASSERT_STATUS(dd_owned_node_of(&a, "x", 0), DD_EINVAL);
    char long_id[300];
    memset(long_id, 'x', sizeof(long_id));
    ASSERT_STATUS(dd_owned_node_of(&a, long_id, sizeof(long_id)), DD_EINVAL);
}

typedef struct querier {
    onode *reader;
    onode *owner;
    int done;
} querier;

static void *query_main(void *arg)
{
    querier *q = arg;
    for (int i = 0; i < 200; i++) {
        uint64_t req = 0;
        (void)dd_owned_query(&req, q->reader->own, TYPE, q->owner->id, 0);
        dd_owned_view v;
        if (dd_owned_read(&v, q->reader->own, TYPE, q->owner->id) == DD_OK)
            dd_owned_view_free(&v);
        dd_owned_event ev;
        while (dd_owned_next_event(&ev, q->reader->own) == DD_OK)
            ;
    }
    q->done = 1;
    return NULL;
}

TEST(test_host_threads_and_the_drivers_share_the_engines)
{
    onode n[2];
    open_cluster(n, 2, DD_OWNED_ACTIVE_PUSH);
    publish(&n[0], 1, "start");
    querier q = {&n[1], &n[0], 0};
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, query_main, &q) == 0);
    for (int i = 0; i < 200; i++) {
        char d[32];
        snprintf(d, sizeof(d), "d%d", i);
        publish(&n[0], 0, d);
    }
    pthread_join(t, NULL);
    ASSERT(q.done);
    ASSERT_MSG(wait_view(&n[1], &n[0], "start", 200, 8000),
               "b did not get a's 200 deltas in order");
    close_cluster(n, 2);
}

TEST(test_a_restarted_node_is_seen_with_its_new_instance)
{
    onode n[2];
    open_cluster(n, 2, DD_OWNED_ACTIVE_PUSH);
    publish(&n[1], 1, "before");
    ASSERT_MSG(wait_view(&n[0], &n[1], "before", 0, 8000), "a did not read b");
    onode_close(&n[1]);
    tcp_sleep_ms(5); /* the next incarnation (wall ms) is larger */
    onode_open(&n[1], "b", n[0].addr, DD_OWNED_ACTIVE_PUSH);
    publish(&n[1], 1, "after");
    ASSERT_MSG(wait_view(&n[0], &n[1], "after", 0, 10000),
               "a did not read the restarted b's new instance");
    close_cluster(n, 2);
}

/* Issue 17.11: owned state belongs to its node, so nothing of it is handed
 * off; a node that leaves has its view dropped by the others as soon as
 * the replicator removes it (its announcement), with no unreachable or
 * down on the way, while its links are still open. */
TEST(test_owned_view_of_a_node_that_leaves_goes_with_its_announcement)
{
    onode n[2];
    onode_open(&n[0], "a", NULL, DD_OWNED_ACTIVE_PUSH);
    onode_open(&n[1], "b", n[0].addr, DD_OWNED_ACTIVE_PUSH);
    ASSERT_MSG(wait_nodes(n, 2, 1, 10000), "owned membership did not form");
    publish(&n[1], 1, "base-b");
    int seen = 0;
    for (int waited = 0; !seen && waited <= 8000; waited += 10) {
        seen = view_is(&n[0], &n[1], "base-b", 0);
        if (!seen)
            tcp_sleep_ms(10);
    }
    ASSERT_MSG(seen, "a never read b's view");
    ASSERT_OK(dd_system_leave(n[1].sys, 5000));
    ASSERT_MSG(wait_event(&n[0], DD_OWNED_EV_VIEW_REMOVED, n[1].id, 0, 10000, NULL),
               "a did not drop the view of b, which left");
    size_t removed = 0, detours = 0;
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, n[0].sys) == DD_OK)
        if (ev.kind == DD_EVENT_MEMBER && ev.member_id.len == 1 && ev.member_id.data[0] == 'b') {
            removed += ev.member_state == DD_MEMBER_REMOVED;
            detours +=
                ev.member_state == DD_MEMBER_UNREACHABLE || ev.member_state == DD_MEMBER_DOWN;
        }
    dd_event_clear(&ev);
    ASSERT_EQ_U64(removed, 1);
    ASSERT_EQ_U64(detours, 0);
    onode_close(&n[1]);
    onode_close(&n[0]);
}
