/*
 * An authenticated but hostile (or buggy) peer: it knows the cluster
 * secret, so its frames pass the transport, and it sends what a correct
 * node never would: unknown channel bytes, empty messages, malformed and
 * oversized address books, garbage replicator messages. The node must
 * count and ignore all of it, keep every value it stored, and keep
 * replicating with its honest peers. The hostile side is a bare core/net
 * endpoint (this test links the static library for it); the node is a
 * public dd_system with the TCP transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_peer.h"
#include "ddata.h"
#include "tcp_node.h"
#include "test.h"
#include "util/bytes.h"
#include "util/rng.h"

static const uint8_t secret[32] = {42, 42, 42};

/* A node of the honest cluster: TCP on loopback, seeded on `seed` unless
 * it is NULL, its address in addr. */
static void open_node(dd_system **sys, dd_replica **rep, const char *id, const char *seed,
                      char addr[TCP_NODE_ADDR_BYTES])
{
    tcp_node_options o = {.node_id = id, .secret = secret, .seed = seed};
    ASSERT_OK(tcp_system_open(sys, addr, &o));
    ASSERT_OK(tcp_replica_open(rep, *sys, 0));
}

static int64_t counter(dd_replica *r, const char *key)
{
    dd_crdt *v = NULL;
    if (dd_replica_get(&v, r, (const uint8_t *)key, strlen(key)) != DD_OK)
        return -1;
    int64_t out = -1;
    ASSERT_OK(dd_crdt_counter_value(&out, v));
    dd_crdt_free(v);
    return out;
}

static void incr(dd_replica *r, const char *key, uint64_t n)
{
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = n;
    ASSERT_OK(dd_replica_update(r, (const uint8_t *)key, strlen(key), DD_GCOUNTER, &op));
}

static int wait_value(dd_replica *r, const char *key, int64_t want, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 10) {
        if (counter(r, key) == want)
            return 1;
        tcp_sleep_ms(10);
    }
    return 0;
}

TEST(test_authenticated_garbage_is_ignored_and_nothing_stored_is_lost)
{
    rng r;
    rng_seed(&r, test_seed());
    dd_system *sa, *sb;
    dd_replica *ra, *rb;
    char addr_a[TCP_NODE_ADDR_BYTES], addr_b[TCP_NODE_ADDR_BYTES];
    open_node(&sa, &ra, "a", NULL, addr_a);
    open_node(&sb, &rb, "b", addr_a, addr_b);
    incr(ra, "kept", 5);
    ASSERT(wait_value(rb, "kept", 5, 8000));

    net *m = core_peer_connect("mallory", secret, NULL, addr_a);

    uint8_t buf[2048];
    unsigned cases = test_cases(300);
    for (unsigned i = 0; i < cases; i++) {
        size_t len = 1 + rng_below(&r, sizeof(buf) - 1);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)rng_next(&r);
        switch (i % 5) {
        case 0: buf[0] = 0; break; /* the replicator channel */
        case 1: buf[0] = 1; break; /* the address book */
        case 2:                    /* a book claiming a huge count */
            buf[0] = 1;
            memset(buf + 1, 0xff, len > 10 ? 9 : len - 1);
            break;
        case 3: /* a replicator header with random contents */
            buf[0] = 0;
            if (len > 3) {
                buf[1] = 0xDD;
                buf[2] = 1;
            }
            break;
        default: break; /* any channel byte */
        }
        (void)net_send(m, "a", buf, len, NET_RELIABLE, 0);
        if (i % 50 == 0)
            tcp_sleep_ms(5);
    }
    uint8_t empty = 0;
    (void)net_send(m, "a", &empty, 0, NET_RELIABLE, 0);
    tcp_sleep_ms(300);

    ASSERT_EQ_INT(counter(ra, "kept"), 5);
    incr(rb, "kept", 1);
    ASSERT_MSG(wait_value(ra, "kept", 6, 5000), "a stopped replicating after the garbage");
    dd_buf js = DD_BUF_INIT;
    ASSERT_OK(dd_system_stats_json(&js, sa));
    ASSERT_MSG(memmem(js.data, js.len, "\"decode_errors\":0,", 18) == NULL,
               "no decode error counted: %.*s", (int)js.len, (const char *)js.data);
    dd_buf_free(&js);
    net_close(m);
    ASSERT_OK(dd_replica_close(rb));
    ASSERT_OK(dd_system_close(sb));
    ASSERT_OK(dd_replica_close(ra));
    ASSERT_OK(dd_system_close(sa));
}
