/*
 * dd_system with the built-in TCP transport, through the public header and
 * libddata.so only: several nodes in one process, each with its own
 * listener and driver thread, talking over loopback. Every wait is bounded
 * (a few seconds) so a regression fails instead of hanging.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddata.h"
#include "tcp_node.h"
#include "test.h"

typedef struct tnode {
    dd_system *sys;
    dd_replica *rep;
    char addr[TCP_NODE_ADDR_BYTES];
} tnode;

static const uint8_t secret_a[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t secret_b[32] = {9, 9, 9};

static void tnode_open(tnode *n, const char *id, const char *seed, const uint8_t *secret)
{
    tcp_node_options o = {
        .node_id = id, .secret = secret, .seed = seed, .failure_timeout_ms = 1000};
    ASSERT_OK(tcp_system_open(&n->sys, n->addr, &o));
    ASSERT_OK(tcp_replica_open(&n->rep, n->sys, 0));
}

static void tnode_close(tnode *n)
{
    ASSERT_OK(dd_replica_close(n->rep));
    ASSERT_OK(dd_system_close(n->sys));
}

/* Nodes "a", "b", "c"... with secret_a, every one after the first seeded
 * on the first. */
static void open_cluster(tnode *n, int count)
{
    static const char *const ids[] = {"a", "b", "c"};
    for (int i = 0; i < count; i++)
        tnode_open(&n[i], ids[i], i ? n[0].addr : NULL, secret_a);
}

static void close_cluster(tnode *n, int count)
{
    for (int i = count - 1; i >= 0; i--)
        tnode_close(&n[i]);
}

static void incr(tnode *n, const char *key, uint64_t amount)
{
    ASSERT_OK(tcp_counter_add(n->rep, key, amount));
}

static int64_t counter(tnode *n, const char *key)
{
    int64_t out;
    ASSERT_OK(tcp_counter_read(&out, n->rep, key));
    return out;
}

typedef struct counter_goal {
    tnode *nodes;
    size_t count;
    const char *key;
    int64_t want;
} counter_goal;

static bool all_read(void *arg)
{
    counter_goal *g = arg;
    for (size_t i = 0; i < g->count; i++)
        if (counter(&g->nodes[i], g->key) != g->want)
            return false;
    return true;
}

/* Waits up to timeout_ms for every node to read `want`. */
static bool wait_counter(tnode *nodes, size_t count, const char *key, int64_t want, int timeout_ms)
{
    counter_goal g = {nodes, count, key, want};
    return tcp_wait_until(all_read, &g, timeout_ms);
}

/* Increments key on n[at], then waits as wait_counter does. */
static bool incr_and_wait(tnode *n, size_t count, int at, const char *key, uint64_t amount,
                          int64_t want, int timeout_ms)
{
    incr(&n[at], key, amount);
    return wait_counter(n, count, key, want, timeout_ms);
}

TEST(test_three_tcp_nodes_converge_on_concurrent_increments)
{
    tnode n[3];
    open_cluster(n, 3);
    for (int i = 0; i < 3; i++)
        incr(&n[i], "hits", (uint64_t)i + 1);
    ASSERT_MSG(wait_counter(n, 3, "hits", 6, 8000), "nodes did not converge on 6");
    /* After joining, an update travels as a delta at once. */
    ASSERT_MSG(incr_and_wait(n, 3, 2, "hits", 10, 16, 3000), "nodes did not converge on 16");
    close_cluster(n, 3);
}

TEST(test_stats_json_counts_peers_and_deltas)
{
    tnode n[2];
    open_cluster(n, 2);
    ASSERT(incr_and_wait(n, 2, 0, "k", 1, 1, 8000));
    ASSERT(incr_and_wait(n, 2, 0, "k", 1, 2, 3000));
    dd_buf to = DD_BUF_INIT, msg = DD_BUF_INIT;
    ASSERT_STATUS(dd_system_next_outgoing(&msg, &to, n[0].sys), DD_EMISUSE);
    char *text = tcp_stats_text(n[0].sys);
    ASSERT(text);
    ASSERT_MSG(strstr(text, "\"node\":\"b\""), "no peer b in %s", text);
    ASSERT_MSG(strstr(text, "\"rejected_connections\":"), "no rejected count in %s", text);
    ASSERT_MSG(!strstr(text, "\"delta_frames_out\":0,"), "no delta left a: %s", text);
    free(text);
    close_cluster(n, 2);
}

TEST(test_wrong_secret_is_refused_and_learns_nothing)
{
    tnode n[3];
    open_cluster(n, 2);
    ASSERT(incr_and_wait(n, 2, 0, "secret-key", 7, 7, 8000));
    tnode_open(&n[2], "intruder", n[0].addr, secret_b);
    tcp_sleep_ms(1500);
    ASSERT_EQ_INT(counter(&n[2], "secret-key"), -1);
    char *text = tcp_stats_text(n[0].sys);
    ASSERT(text);
    ASSERT_MSG(!strstr(text, "\"handshake_failures\":0,"), "no failure counted: %s", text);
    ASSERT_MSG(!strstr(text, "intruder"), "the intruder became a peer: %s", text);
    free(text);
    close_cluster(n, 3);
}

TEST(test_tcp_options_are_checked)
{
    dd_system *s = NULL;
    dd_system_options so;
    ASSERT_OK(dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION));
    so.node_id = "x";
    so.transport = DD_TRANSPORT_TCP;
    ASSERT_STATUS(dd_system_open(&s, &so), DD_EINVAL); /* no listen address */
    so.listen_address = "127.0.0.1:0";
    ASSERT_STATUS(dd_system_open(&s, &so), DD_EINVAL); /* no secret */
    so.listen_address = "not an address";
    so.plaintext = 1;
    ASSERT(dd_system_open(&s, &so) < 0);
    ASSERT(s == NULL);
    so.transport = 7;
    ASSERT_STATUS(dd_system_open(&s, &so), DD_EUNSUPPORTED);
    ASSERT_EQ_INT((int)dd_secret_bytes(), DD_SECRET_BYTES);
}

TEST(test_transport_calls_in_pump_mode_and_on_closed_handles)
{
    dd_system *s = NULL;
    ASSERT_OK(tcp_pump_system_open(&s, "pump"));
    dd_buf b = DD_BUF_INIT;
    ASSERT_STATUS(dd_system_listen_address(&b, s), DD_EUNSUPPORTED);
    ASSERT_STATUS(dd_system_connect(s, "127.0.0.1:1"), DD_EUNSUPPORTED);
    ASSERT_STATUS(dd_system_connect(s, NULL), DD_EINVAL);
    ASSERT_OK(dd_system_stats_json(&b, s));
    ASSERT(b.len > 0 && memmem(b.data, b.len, "\"transport\":null", 16));
    dd_buf_free(&b);
    ASSERT_OK(dd_system_close(s));
    ASSERT_STATUS(dd_system_stats_json(&b, s), DD_EMISUSE);
    ASSERT_STATUS(dd_system_listen_address(&b, s), DD_EMISUSE);
    ASSERT_STATUS(dd_system_stats_json(NULL, NULL), DD_EINVAL);
    ASSERT_STATUS(dd_system_stats_json(&b, NULL), DD_EMISUSE);
}

/* A thread of increments on one node (arg), reading stats and the value
 * now and then. */
static void *hammer_main(void *arg)
{
    tnode *node = arg;
    for (int i = 0; i < 500; i++) {
        incr(node, "shared", 1);
        if (i % 50 == 0) {
            dd_buf js = DD_BUF_INIT;
            (void)dd_system_stats_json(&js, node->sys);
            dd_buf_free(&js);
            (void)counter(node, "shared");
        }
    }
    return NULL;
}

TEST(test_calls_from_many_threads_while_the_driver_runs)
{
    tnode n[2];
    open_cluster(n, 2);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT(pthread_create(&t[i], NULL, hammer_main, &n[i % 2]) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_MSG(wait_counter(n, 2, "shared", 2000, 8000), "the nodes did not reach 2000");
    close_cluster(n, 2);
}

TEST(test_system_closed_before_its_replica_stops_cleanly)
{
    tnode n[2];
    open_cluster(n, 2);
    ASSERT(incr_and_wait(n, 2, 1, "k", 3, 3, 8000));
    ASSERT_OK(dd_system_close(n[0].sys)); /* deferred: the replica is open */
    /* The node still works meanwhile. */
    ASSERT(incr_and_wait(n, 2, 0, "k", 1, 4, 3000));
    ASSERT_OK(dd_replica_close(n[0].rep)); /* now the driver stops */
    ASSERT_STATUS(dd_system_stats_json(&(dd_buf)DD_BUF_INIT, n[0].sys), DD_EMISUSE);
    incr(&n[1], "k", 1); /* the survivor keeps going alone */
    ASSERT_EQ_INT(counter(&n[1], "k"), 5);
    tnode_close(&n[1]);
}
