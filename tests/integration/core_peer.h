/*
 * The bare core/net endpoint the integration tests play a peer with
 * (test_hostile_peer.c, test_book_keys.c): it knows the cluster secret, so
 * it authenticates like a node, but it is driven frame by frame by the
 * test. A header, not a test: only test_*.c become executables.
 */
#ifndef DD_TEST_INTEGRATION_CORE_PEER_H
#define DD_TEST_INTEGRATION_CORE_PEER_H

#include <stdbool.h>

#include "net/transport.h"
#include "test.h"

/* A core/net endpoint `node_id` (with static key `static_sk`, or a random
 * one when NULL) connected and authenticated to the node at `addr`;
 * fails the test when it cannot authenticate within 5 s. */
static inline net *core_peer_connect(const char *node_id, const uint8_t secret[32],
                                     const uint8_t *static_sk, const char *addr)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.node_id = node_id;
    cfg.secret = secret;
    if (static_sk)
        cfg.static_sk = static_sk;
    net *m = NULL;
    ASSERT_OK(net_open(&m, &cfg));
    ASSERT_OK(net_connect(m, addr));
    bool connected = false;
    for (int t = 0; t < 5000 && !connected; t += 10) {
        net_event ev;
        while (net_poll(m, &ev) == 0) {
            connected |= ev.kind == NET_EV_CONNECTED;
            net_event_clear(&ev);
        }
        if (!connected)
            (void)net_wait(m, 10);
    }
    ASSERT_MSG(connected, "'%s' could not authenticate to %s", node_id, addr);
    return m;
}

#endif
