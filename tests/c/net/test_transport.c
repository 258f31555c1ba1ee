/*
 * The TCP transport over real sockets on 127.0.0.1: delivery both ways,
 * who is refused, what hostile or slow peers can and cannot do, queues,
 * reconnects and shutdown. Every wait has a deadline of a few seconds.
 */
#include <sodium.h>
#include <stdlib.h>

#include "net_test_util.h"
#include "util/rng.h"

static void connect_pair(net *a, net *b)
{
    char addr[64];
    ASSERT_OK(net_connect(a, addr_of(b, addr, sizeof(addr))));
    ASSERT(wait_event(a, NET_EV_CONNECTED, 3000, NULL));
    ASSERT(wait_event(b, NET_EV_CONNECTED, 3000, NULL));
}

/* Net 1 with queue limits soft and hard bytes per peer (c: its config). */
static net *open_with_queues(net_config *c, size_t soft, size_t hard)
{
    c->queue_soft_bytes = soft;
    c->queue_hard_bytes = hard;
    return open_config(c);
}

/* A raw peer 7 that a has authenticated. */
static void accept_raw_peer(raw_peer *r, net *a)
{
    ASSERT(raw_peer_open(r, net_port(a), TEST_SECRET, 7));
    ASSERT(wait_event(a, NET_EV_CONNECTED, 3000, NULL));
}

/* a drops its link with reason `reason` (and, unless NULL, names peer
 * node_id). */
static void expect_disconnect(net *a, const char *node_id, int reason)
{
    net_event ev;
    ASSERT(wait_event(a, NET_EV_DISCONNECTED, 3000, &ev));
    if (node_id)
        ASSERT_STR_EQ(ev.node_id, node_id);
    ASSERT_EQ_INT(ev.reason, reason);
    net_event_clear(&ev);
}

/* a still admits new peers: ids from..to-1 connect to it in turn. */
static void expect_admits(net *a, uint64_t from, uint64_t to)
{
    for (uint64_t id = from; id < to; id++) {
        net *b = open_net(id, TEST_SECRET);
        connect_pair(b, a);
        net_close(b);
    }
}

TEST(test_two_nets_exchange_messages_both_ways)
{
    net *a = open_net(1, TEST_SECRET), *b = open_net(2, TEST_SECRET);
    char addr[64];
    ASSERT_OK(net_connect(a, addr_of(b, addr, sizeof(addr))));
    net_event ev;
    ASSERT(wait_event(a, NET_EV_CONNECTED, 3000, &ev));
    ASSERT_STR_EQ(ev.node_id, "2");
    ASSERT_EQ_INT(ev.node_id_len, 1);
    ASSERT_EQ_U64(ev.incarnation, 1002);
    ASSERT_STR_EQ(ev.addr, net_address(b));
    net_event_clear(&ev);
    ASSERT(wait_event(b, NET_EV_CONNECTED, 3000, &ev));
    ASSERT_STR_EQ(ev.node_id, "1");
    ASSERT_STR_EQ(ev.addr, net_address(a));
    net_event_clear(&ev);

    ASSERT_OK(net_send(a, "2", "ping", 4, NET_RELIABLE, NET_CLASS_DELTA));
    ASSERT(wait_event(b, NET_EV_MESSAGE, 3000, &ev));
    ASSERT_STR_EQ(ev.node_id, "1");
    ASSERT_EQ_INT(ev.msg_class, NET_CLASS_DELTA);
    ASSERT_MEM_EQ(ev.data, ev.len, "ping", 4);
    net_event_clear(&ev);
    ASSERT_OK(net_send_to(b, net_address(a), "pong", 4, NET_DROPPABLE, NET_CLASS_FULL));
    ASSERT(wait_event(a, NET_EV_MESSAGE, 3000, &ev));
    ASSERT_MEM_EQ(ev.data, ev.len, "pong", 4);
    ASSERT_EQ_INT(ev.msg_class, NET_CLASS_FULL);
    net_event_clear(&ev);

    net_peer_stats ps;
    ASSERT_OK(net_peer_stats_get(a, "2", &ps));
    ASSERT(ps.connected);
    ASSERT_EQ_U64(ps.frames_out, 1);
    ASSERT_EQ_U64(ps.frames_in, 1);
    ASSERT_EQ_U64(ps.class_frames_out[NET_CLASS_DELTA], 1);
    ASSERT_EQ_U64(ps.class_frames_in[NET_CLASS_FULL], 1);
    ASSERT_EQ_U64(ps.class_bytes_out[NET_CLASS_DELTA], ps.bytes_out);
    ASSERT_EQ_U64(ps.class_bytes_in[NET_CLASS_FULL], ps.bytes_in);
    ASSERT(ps.bytes_out > 4 && ps.bytes_in > 4);
    ASSERT_EQ_INT(stats_of(a).peers_connected, 1);
    size_t count = 9;
    ASSERT_OK(net_peer_stats_all(a, NULL, 0, &count));
    ASSERT_EQ_INT(count, 1);
    net_peer_stats all[2];
    ASSERT_OK(net_peer_stats_all(a, all, 2, &count));
    ASSERT_STR_EQ(all[0].node_id, "2");
    ASSERT_EQ_U64(all[0].frames_out, 1);
    ASSERT_STATUS(net_peer_stats_all(a, NULL, 2, &count), ST_EINVAL);
    net_close(a);
    net_close(b);
}

TEST(test_messages_arrive_in_order_and_intact)
{
    net *a = open_net(1, TEST_SECRET), *b = open_net(2, TEST_SECRET);
    connect_pair(a, b);
    rng g;
    rng_seed(&g, test_seed());
    uint8_t buf[3000];
    for (uint32_t i = 0; i < 300; i++) {
        size_t len = 4 + rng_below(&g, sizeof(buf) - 4);
        store_u32le(buf, i);
        memset(buf + 4, (int)(i & 0xff), len - 4);
        ASSERT_OK(net_send(a, "2", buf, len, NET_RELIABLE, 0));
    }
    for (uint32_t i = 0; i < 300; i++) {
        net_event ev;
        ASSERT(wait_event(b, NET_EV_MESSAGE, 3000, &ev));
        ASSERT_EQ_INT(load_u32le(ev.data), i);
        for (size_t k = 4; k < ev.len; k++)
            ASSERT_EQ_INT(ev.data[k], i & 0xff);
        net_event_clear(&ev);
    }
    net_close(a);
    net_close(b);
}

/* `outsider` dials a, whose handshake with it fails and is counted. */
static void expect_refused_dial(net *a, net *outsider)
{
    char addr[64];
    ASSERT_OK(net_connect(outsider, addr_of(a, addr, sizeof(addr))));
    ASSERT(WAIT_UNTIL(stats_of(a).handshake_failures >= 1, 3000));
}

TEST(test_wrong_secret_is_refused_counted_and_learns_nothing)
{
    net *a = open_net(1, TEST_SECRET), *intruder = open_net(9, WRONG_SECRET);
    expect_refused_dial(a, intruder);
    /* each side counts on its own I/O thread: the intruder learns of the
     * refusal only when `a` closes, after `a` counted it */
    ASSERT(WAIT_UNTIL(stats_of(a).rejected_connections >= 1, 3000));
    ASSERT(WAIT_UNTIL(stats_of(intruder).handshake_failures >= 1, 3000));
    ASSERT(!wait_event(a, NET_EV_CONNECTED, 200, NULL));
    ASSERT(!wait_event(intruder, NET_EV_CONNECTED, 10, NULL));
    ASSERT_STATUS(net_send(intruder, "1", "x", 1, NET_RELIABLE, 0), ST_ENOTFOUND);
    net_peer_stats ps;
    ASSERT_STATUS(net_peer_stats_get(intruder, "1", &ps), ST_ENOTFOUND);
    ASSERT_EQ_INT(stats_of(a).peers_connected, 0);
    net_close(intruder);
    net_close(a);
}

TEST(test_raw_peer_with_wrong_secret_never_gets_an_identity)
{
    net *a = open_net(1, TEST_SECRET);
    raw_peer r;
    ASSERT(!raw_peer_open(&r, net_port(a), WRONG_SECRET, 5));
    ASSERT_STR_EQ(r.s.peer.node_id, "");
    ASSERT_STR_EQ(r.s.peer.addr, "");
    raw_peer_close(&r);
    /* The raw side gave up on our AUTH; all `a` saw was a peer leaving. */
    ASSERT(WAIT_UNTIL(stats_of(a).rejected_connections == 1, 3000));
    ASSERT_EQ_INT(stats_of(a).peers_connected, 0);
    net_close(a);
}

TEST(test_plaintext_node_cannot_join_an_encrypted_cluster)
{
    net *a = open_net(1, TEST_SECRET), *p = open_net(3, NULL);
    expect_refused_dial(a, p);
    ASSERT_EQ_INT(stats_of(a).peers_connected, 0);
    net_close(p);
    net_close(a);
}

TEST(test_plaintext_mode_works_when_both_sides_choose_it)
{
    net *a = open_net(1, NULL), *b = open_net(2, NULL);
    connect_pair(a, b);
    ASSERT_OK(net_send(a, "2", "clear", 5, NET_RELIABLE, 0));
    net_event ev;
    ASSERT(wait_event(b, NET_EV_MESSAGE, 3000, &ev));
    ASSERT_MEM_EQ(ev.data, ev.len, "clear", 5);
    net_event_clear(&ev);
    net_close(a);
    net_close(b);
}

TEST(test_random_bytes_on_the_port_are_rejected_and_node_keeps_serving)
{
    net *a = open_net(1, TEST_SECRET);
    rng g;
    rng_seed(&g, test_seed());
    for (int i = 0; i < 10; i++) {
        int fd = raw_connect(net_port(a));
        uint8_t junk[2048];
        size_t n = 1 + rng_below(&g, sizeof(junk));
        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)rng_next(&g);
        raw_send(fd, junk, n);
        close(fd);
    }
    ASSERT(WAIT_UNTIL(stats_of(a).accepted == 10, 3000));
    net *b = open_net(2, TEST_SECRET);
    connect_pair(b, a);
    ASSERT_EQ_INT(stats_of(a).peers_connected, 1);
    net_close(b);
    net_close(a);
}

TEST(test_half_open_connection_times_out_without_blocking_others)
{
    net_config c = test_config(1, TEST_SECRET);
    c.handshake_timeout_ms = 1500;
    net *a = open_config(&c);
    int silent = raw_connect(net_port(a));
    int partial = raw_connect(net_port(a));
    raw_send(partial,
             "DDN\x02"
             "\x00\x30"
             "half an ephemeral",
             23); /* the preamble and half of message 1 */
    net *b = open_net(2, TEST_SECRET);
    connect_pair(b, a);
    /* b got in while both stalled connections were still pending. */
    net_stats st = stats_of(a);
    ASSERT_EQ_INT(st.peers_connected, 1);
    ASSERT_EQ_U64(st.handshake_timeouts, 0);
    ASSERT(raw_sees_close(silent, 5000));
    ASSERT(raw_sees_close(partial, 5000));
    ASSERT_EQ_U64(stats_of(a).handshake_timeouts, 2);
    ASSERT_EQ_U64(stats_of(a).rejected_connections, 2);
    ASSERT_EQ_INT(stats_of(a).peers_connected, 1);
    close(silent);
    close(partial);
    net_close(b);
    net_close(a);
}

TEST(test_unauthenticated_connections_beyond_the_cap_are_refused)
{
    net_config c = test_config(1, TEST_SECRET);
    c.max_pending = 2;
    net *a = open_config(&c);
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = raw_connect(net_port(a));
    ASSERT(WAIT_UNTIL(stats_of(a).pending_rejected == 2, 3000));
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    expect_admits(a, 2, 3);
    net_close(a);
}

TEST(test_slow_reader_gets_drops_while_others_keep_flowing)
{
    net_config c = test_config(1, TEST_SECRET);
    net *a = open_with_queues(&c, 64 << 10, 256 << 10);
    net *b = open_net(2, TEST_SECRET);
    connect_pair(b, a);
    raw_peer slow;
    ASSERT(raw_peer_open(&slow, net_port(a), TEST_SECRET, 7));
    ASSERT(WAIT_UNTIL(net_send(a, "7", "x", 1, NET_DROPPABLE, 0) == ST_OK, 3000));

    static uint8_t msg[1024];
    int dropped = 0, delivered_to_b = 0;
    for (int i = 0; i < 4000 && dropped < 50; i++) {
        int rc = net_send(a, "7", msg, sizeof(msg), NET_DROPPABLE, NET_CLASS_DELTA);
        ASSERT(rc == ST_OK || rc == ST_EBUSY);
        dropped += rc == ST_EBUSY;
        if (i % 100 == 0)
            usleep(1000);
    }
    ASSERT(dropped >= 50);
    for (int i = 0; i < 100; i++)
        ASSERT_OK(net_send(a, "2", msg, sizeof(msg), NET_RELIABLE, 0));
    for (int i = 0; i < 100; i++) {
        net_event ev;
        ASSERT(wait_event(b, NET_EV_MESSAGE, 3000, &ev));
        delivered_to_b++;
        net_event_clear(&ev);
    }
    ASSERT_EQ_INT(delivered_to_b, 100);
    net_peer_stats ps;
    ASSERT_OK(net_peer_stats_get(a, "7", &ps));
    ASSERT_EQ_U64(ps.queue_drops, (uint64_t)dropped);
    ASSERT(ps.queued_bytes <= c.queue_soft_bytes);
    ASSERT_EQ_U64(stats_of(a).queue_drops, (uint64_t)dropped);
    raw_peer_close(&slow);
    net_close(b);
    net_close(a);
}

TEST(test_reliable_overflow_closes_the_link_and_reports_it)
{
    net_config c = test_config(1, TEST_SECRET);
    net *a = open_with_queues(&c, 16 << 10, 64 << 10);
    raw_peer slow;
    accept_raw_peer(&slow, a);
    static uint8_t msg[4096];
    int rc = ST_OK;
    for (int i = 0; i < 20000 && rc == ST_OK; i++)
        rc = net_send(a, "7", msg, sizeof(msg), NET_RELIABLE, 0);
    ASSERT_STATUS(rc, ST_ELIMIT);
    expect_disconnect(a, "7", ST_ELIMIT);
    ASSERT_EQ_U64(stats_of(a).reliable_overflows, 1);
    ASSERT_STATUS(net_send(a, "7", msg, 1, NET_RELIABLE, 0), ST_ENOTFOUND);
    raw_peer_close(&slow);
    net_close(a);
}

TEST(test_oversized_frame_closes_the_connection)
{
    net_config c = test_config(1, TEST_SECRET);
    c.max_message_bytes = 1024;
    net *a = open_config(&c);
    raw_peer r;
    accept_raw_peer(&r, a);
    uint8_t hdr[2] = {0xff, 0xff}; /* one Noise message, more than 1024 + overhead */
    raw_send(r.fd, hdr, 2);
    expect_disconnect(a, NULL, ST_ELIMIT);
    ASSERT_EQ_U64(stats_of(a).malformed_frames, 1);
    ASSERT(raw_sees_close(r.fd, 3000));
    ASSERT_STATUS(net_send(a, "7", "x", 1, NET_RELIABLE, 0), ST_ENOTFOUND);
    uint8_t big[2000] = {0};
    ASSERT_STATUS(net_send(a, "7", big, sizeof(big), NET_RELIABLE, 0), ST_ENOTFOUND);
    raw_peer_close(&r);
    expect_admits(a, 2, 5); /* the node still admits others */
    net_close(a);
}

TEST(test_replayed_frame_is_rejected_and_closes_the_connection)
{
    net *a = open_net(1, TEST_SECRET);
    raw_peer r;
    accept_raw_peer(&r, a);
    bytes frame = BYTES_INIT;
    ASSERT_OK(session_seal(&r.s, 0, (const uint8_t *)"transfer 10", 11, &frame));
    raw_send(r.fd, frame.data, frame.len);
    raw_send(r.fd, frame.data, frame.len); /* the captured frame, again */
    net_event ev;
    ASSERT(wait_event(a, NET_EV_MESSAGE, 3000, &ev));
    ASSERT_MEM_EQ(ev.data, ev.len, "transfer 10", 11);
    net_event_clear(&ev);
    ASSERT(wait_event(a, NET_EV_DISCONNECTED, 3000, &ev));
    ASSERT_EQ_INT(ev.reason, ST_ECRYPTO);
    net_event_clear(&ev);
    ASSERT(!wait_event(a, NET_EV_MESSAGE, 100, NULL));
    ASSERT_EQ_U64(stats_of(a).auth_failures, 1);
    ASSERT_EQ_U64(stats_of(a).rejected_connections, 0); /* it had authenticated */
    bytes_free(&frame);
    raw_peer_close(&r);
    expect_admits(a, 2, 3); /* the node still admits others */
    net_close(a);
}

TEST(test_reconnects_after_the_peer_restarts_on_the_same_port)
{
    net *a = open_net(1, TEST_SECRET), *b = open_net(2, TEST_SECRET);
    char addr[64];
    addr_of(b, addr, sizeof(addr));
    connect_pair(a, b);
    net_close(b);
    net_event ev;
    expect_event_from(a, NET_EV_DISCONNECTED, "2", 3000);
    usleep(100 * 1000); /* a few failed redials: the backoff grows */

    net_config c = test_config(2, TEST_SECRET);
    c.listen_addr = addr;
    ASSERT_OK(net_open(&b, &c));
    expect_event_from(a, NET_EV_CONNECTED, "2", 3000);
    ASSERT_OK(net_send(a, "2", "back", 4, NET_RELIABLE, 0));
    ASSERT(wait_event(b, NET_EV_MESSAGE, 3000, &ev));
    ASSERT_MEM_EQ(ev.data, ev.len, "back", 4);
    net_event_clear(&ev);
    ASSERT_EQ_U64(peer_stats_of(a, "2").connects, 2);
    net_close(a);
    net_close(b);
}

TEST(test_disconnect_stops_redialling)
{
    net *a = open_net(1, TEST_SECRET), *b = open_net(2, TEST_SECRET);
    char addr[64];
    addr_of(b, addr, sizeof(addr));
    connect_pair(a, b);
    ASSERT_OK(net_disconnect(a, addr));
    expect_event_from(a, NET_EV_DISCONNECTED, "2", 3000);
    ASSERT(wait_event(b, NET_EV_DISCONNECTED, 3000, NULL));
    uint64_t dialled = stats_of(a).dialled;
    ASSERT(!wait_event(a, NET_EV_CONNECTED, 300, NULL)); /* backoff max is 200 ms */
    ASSERT_EQ_U64(stats_of(a).dialled, dialled);
    ASSERT_STATUS(net_disconnect(a, addr), ST_ENOTFOUND);
    ASSERT_STATUS(net_disconnect(a, NULL), ST_EINVAL);
    net_close(a);
    net_close(b);
}

TEST(test_dialling_each_other_settles_on_one_link)
{
    net *a = open_net(1, TEST_SECRET), *b = open_net(2, TEST_SECRET);
    char addr_a[64], addr_b[64];
    ASSERT_OK(net_connect(a, addr_of(b, addr_b, sizeof(addr_b))));
    ASSERT_OK(net_connect(b, addr_of(a, addr_a, sizeof(addr_a))));
    ASSERT(wait_event(a, NET_EV_CONNECTED, 3000, NULL));
    ASSERT(wait_event(b, NET_EV_CONNECTED, 3000, NULL));
    /* Both sides retire the duplicate link by the same rule; a brief
     * flap is allowed, the end state is one link each way. */
    ASSERT(WAIT_UNTIL(stats_of(a).peers_connected == 1 && stats_of(b).peers_connected == 1, 3000));
    usleep(300 * 1000);
    ASSERT_EQ_INT(stats_of(a).peers_connected, 1);
    ASSERT_EQ_INT(stats_of(b).peers_connected, 1);
    ASSERT(WAIT_UNTIL(net_send(a, "2", "one", 3, NET_RELIABLE, 0) == ST_OK, 3000));
    ASSERT(WAIT_UNTIL(net_send(b, "1", "two", 3, NET_RELIABLE, 0) == ST_OK, 3000));
    ASSERT(wait_event(b, NET_EV_MESSAGE, 3000, NULL));
    ASSERT(wait_event(a, NET_EV_MESSAGE, 3000, NULL));
    net_close(a);
    net_close(b);
}

TEST(test_restarted_peer_replaces_its_old_link_and_duplicates_are_retired)
{
    net *a = open_net(1, TEST_SECRET);
    raw_peer first, second, third;
    ASSERT(raw_peer_open_as(&first, net_port(a), TEST_SECRET, 7, 100));
    ASSERT(wait_event(a, NET_EV_CONNECTED, 3000, NULL));

    /* Same node id, new incarnation, while the old link still looks fine:
     * the node restarted, so the old link goes and the host hears of it. */
    ASSERT(raw_peer_open_as(&second, net_port(a), TEST_SECRET, 7, 101));
    net_event ev;
    ASSERT(wait_event(a, NET_EV_DISCONNECTED, 3000, &ev));
    ASSERT_EQ_U64(ev.incarnation, 100);
    net_event_clear(&ev);
    ASSERT(wait_event(a, NET_EV_CONNECTED, 3000, &ev));
    ASSERT_EQ_U64(ev.incarnation, 101);
    net_event_clear(&ev);
    ASSERT(raw_sees_close(first.fd, 3000));

    /* Same incarnation again: a duplicate link, replaced without events. */
    ASSERT(raw_peer_open_as(&third, net_port(a), TEST_SECRET, 7, 101));
    ASSERT(raw_sees_close(second.fd, 3000));
    ASSERT(!wait_event(a, NET_EV_DISCONNECTED, 100, NULL));
    ASSERT_OK(net_send(a, "7", "to-third", 8, NET_RELIABLE, 0));
    uint8_t buf[32];
    size_t len = 0;
    ASSERT(raw_peer_read(&third, buf, sizeof(buf), &len));
    ASSERT_MEM_EQ(buf, len, "to-third", 8);
    ASSERT_EQ_INT(stats_of(a).peers_connected, 1);
    raw_peer_close(&first);
    raw_peer_close(&second);
    raw_peer_close(&third);
    net_close(a);
}

TEST(test_slow_sender_does_not_stall_other_peers)
{
    net *a = open_net(1, TEST_SECRET);
    raw_peer slow;
    accept_raw_peer(&slow, a);
    bytes frame = BYTES_INIT;
    uint8_t payload[200];
    memset(payload, 'z', sizeof(payload));
    ASSERT_OK(session_seal(&slow.s, 0, payload, sizeof(payload), &frame));
    net *b = open_net(2, TEST_SECRET);
    char addr[64];
    ASSERT_OK(net_connect(b, addr_of(a, addr, sizeof(addr))));
    int from_b = 0;
    for (size_t i = 0; i < frame.len; i++) {
        raw_send(slow.fd, frame.data + i, 1); /* one byte at a time */
        if (i % 20 == 0 && net_send(b, "1", "hi", 2, NET_RELIABLE, 0) == ST_OK) {
            net_event ev;
            ASSERT(wait_event(a, NET_EV_MESSAGE, 3000, &ev));
            ASSERT_STR_EQ(ev.node_id, "2");
            net_event_clear(&ev);
            from_b++;
        }
        usleep(1000);
    }
    ASSERT(from_b >= 3);
    net_event ev;
    ASSERT(wait_event(a, NET_EV_MESSAGE, 3000, &ev));
    ASSERT_STR_EQ(ev.node_id, "7");
    ASSERT_MEM_EQ(ev.data, ev.len, payload, sizeof(payload));
    net_event_clear(&ev);
    bytes_free(&frame);
    raw_peer_close(&slow);
    net_close(b);
    net_close(a);
}

TEST(test_unauthenticated_peer_cannot_announce_a_large_frame)
{
    net *a = open_net(1, TEST_SECRET);
    int fd = raw_connect(net_port(a));
    /* A valid preamble, then a message length far below one Noise message,
     * far above any handshake message. */
    uint8_t hdr[6] = {'D', 'D', 'N', 2, 0x40, 0x00};
    raw_send(fd, hdr, 6);
    ASSERT(raw_sees_close(fd, 3000));
    ASSERT(WAIT_UNTIL(stats_of(a).malformed_frames == 1, 3000));
    close(fd);
    net_close(a);
}

TEST(test_close_with_traffic_in_flight_delivers_and_frees)
{
    net *a = open_net(1, TEST_SECRET), *b = open_net(2, TEST_SECRET);
    connect_pair(a, b);
    static uint8_t msg[1024];
    for (int i = 0; i < 1000; i++)
        ASSERT_OK(net_send(a, "2", msg, sizeof(msg), NET_RELIABLE, 0));
    net_close(a);
    int got = 0;
    net_event ev;
    while (wait_event(b, NET_EV_MESSAGE, 2000, &ev)) {
        got++;
        net_event_clear(&ev);
        if (got == 1000)
            break;
    }
    ASSERT_EQ_INT(got, 1000);
    ASSERT(WAIT_UNTIL(stats_of(b).peers_connected == 0, 3000));
    net_close(b);
}

TEST(test_undrained_inbound_queue_pauses_reading_and_loses_nothing)
{
    net_config c = test_config(2, TEST_SECRET);
    c.inbound_cap_bytes = 32 << 10;
    net *b = open_config(&c);
    net *a = open_net(1, TEST_SECRET);
    connect_pair(a, b);
    static uint8_t msg[1024];
    for (uint32_t i = 0; i < 2000; i++) {
        store_u32le(msg, i);
        ASSERT_OK(net_send(a, "2", msg, sizeof(msg), NET_RELIABLE, 0));
    }
    usleep(200 * 1000);
    net_peer_stats ps;
    ASSERT_OK(net_peer_stats_get(b, "1", &ps));
    ASSERT(ps.frames_in < 2000); /* b stopped reading */
    for (uint32_t i = 0; i < 2000; i++) {
        net_event ev;
        ASSERT(wait_event(b, NET_EV_MESSAGE, 3000, &ev));
        ASSERT_EQ_INT(load_u32le(ev.data), i);
        net_event_clear(&ev);
    }
    net_close(a);
    net_close(b);
}

TEST(test_bad_arguments_are_errors_not_crashes)
{
    net *a = open_net(1, TEST_SECRET);
    net_config c = test_config(1, NULL);
    c.plaintext = false;
    net *x = NULL;
    ASSERT_STATUS(net_open(&x, &c), ST_EINVAL);
    ASSERT(x == NULL);
    ASSERT_STATUS(net_open(NULL, &c), ST_EINVAL);
    c = test_config(1, TEST_SECRET);
    c.node_id = NULL;
    ASSERT_STATUS(net_open(&x, &c), ST_EINVAL);
    c.node_id = "";
    ASSERT_STATUS(net_open(&x, &c), ST_EINVAL);
    c = test_config(1, TEST_SECRET);
    c.listen_addr = "not-an-address";
    ASSERT_STATUS(net_open(&x, &c), ST_EINVAL);
    c.listen_addr = "127.0.0.1:99999";
    ASSERT_STATUS(net_open(&x, &c), ST_EINVAL);
    c = test_config(1, TEST_SECRET);
    c.queue_hard_bytes = c.queue_soft_bytes - 1;
    ASSERT_STATUS(net_open(&x, &c), ST_EINVAL);
    ASSERT_STATUS(net_connect(a, "nope"), ST_EINVAL);
    ASSERT_STATUS(net_connect(NULL, "127.0.0.1:1"), ST_EINVAL);
    ASSERT_STATUS(net_send(a, "2", NULL, 3, NET_RELIABLE, 0), ST_EINVAL);
    ASSERT_STATUS(net_send(a, NULL, "x", 1, NET_RELIABLE, 0), ST_EINVAL);
    net_peer_stats ps;
    ASSERT_STATUS(net_peer_stats_get(a, NULL, &ps), ST_EINVAL);
    ASSERT_STATUS(net_send(a, "2", "x", 1, (net_priority)7, 0), ST_EINVAL);
    ASSERT_STATUS(net_send(a, "2", "x", 1, NET_RELIABLE, 0), ST_ENOTFOUND);
    ASSERT_STATUS(net_send_to(a, "127.0.0.1:1", "x", 1, NET_RELIABLE, 0), ST_ENOTFOUND);
    ASSERT_STATUS(net_poll(a, NULL), ST_EINVAL);
    net_event ev;
    ASSERT_STATUS(net_poll(a, &ev), ST_EDONE);
    ASSERT_STATUS(net_wait(a, 1), ST_ETIMEOUT);
    net_event_clear(NULL);
    net_close(NULL);
    net_close(a);
}

TEST(test_dialling_itself_gives_up_quietly)
{
    net *a = open_net(1, TEST_SECRET);
    char addr[64];
    ASSERT_OK(net_connect(a, addr_of(a, addr, sizeof(addr))));
    ASSERT(!wait_event(a, NET_EV_CONNECTED, 300, NULL));
    ASSERT(stats_of(a).dialled <= 2);
    net_close(a);
}

static net *open_net_with_key(uint64_t id, const uint8_t sk[32], bool pin)
{
    net_config c = test_config(id, TEST_SECRET);
    c.static_sk = sk;
    c.pin_node_keys = pin;
    net *n = NULL;
    ASSERT_OK(net_open(&n, &c));
    return n;
}

static peer_key listed(net *n, const char *id)
{
    peer_key k;
    memset(&k, 0, sizeof(k));
    net_public_key(n, k.public_key);
    snprintf(k.node_id, sizeof(k.node_id), "%s", id ? id : "");
    return k;
}

TEST(test_allow_list_refuses_an_unlisted_key_and_a_reload_closes_removed_links)
{
    uint8_t sk_b[32], sk_c[32];
    randombytes_buf(sk_b, 32);
    randombytes_buf(sk_c, 32);
    net *a = open_net(1, TEST_SECRET), *b = open_net_with_key(2, sk_b, false),
        *c = open_net_with_key(3, sk_c, false);
    peer_key keys[1] = {listed(b, "2")};
    ASSERT_OK(net_set_peer_keys(a, keys, 1));
    connect_pair(b, a);
    char addr[64];
    ASSERT_OK(net_connect(c, addr_of(a, addr, sizeof(addr))));
    ASSERT(WAIT_UNTIL(stats_of(a).refused_peers >= 1, 3000));
    ASSERT(WAIT_UNTIL(stats_of(c).handshake_failures >= 1, 3000));
    ASSERT(!wait_event(c, NET_EV_CONNECTED, 50, NULL));
    /* b's key leaves the list: its link closes and it stays out. */
    peer_key only_c[1] = {listed(c, "3")};
    ASSERT_OK(net_set_peer_keys(a, only_c, 1));
    net_event ev;
    ASSERT(wait_event(a, NET_EV_DISCONNECTED, 3000, &ev));
    ASSERT_STR_EQ(ev.node_id, "2");
    ASSERT_EQ_INT(ev.reason, ST_ECRYPTO);
    net_event_clear(&ev);
    ASSERT(wait_event(a, NET_EV_CONNECTED, 3000, &ev)); /* c, on its next redial */
    ASSERT_STR_EQ(ev.node_id, "3");
    net_event_clear(&ev);
    ASSERT(WAIT_UNTIL(stats_of(a).refused_peers >= 2, 3000)); /* b's redial */
    net_peer_stats ps;
    ASSERT_OK(net_peer_stats_get(a, "2", &ps));
    ASSERT(!ps.connected);
    net_close(c);
    net_close(b);
    net_close(a);
}

TEST(test_allow_list_entry_binds_the_key_to_its_node_id)
{
    uint8_t sk_b[32];
    randombytes_buf(sk_b, 32);
    net *a = open_net(1, TEST_SECRET), *b = open_net_with_key(2, sk_b, false);
    peer_key keys[1] = {listed(b, "someone-else")};
    ASSERT_OK(net_set_peer_keys(a, keys, 1));
    char addr[64];
    ASSERT_OK(net_connect(b, addr_of(a, addr, sizeof(addr))));
    ASSERT(WAIT_UNTIL(stats_of(a).refused_peers >= 1, 3000));
    ASSERT_EQ_INT(stats_of(a).peers_connected, 0);
    net_close(b);
    net_close(a);
}

TEST(test_pinned_node_id_refuses_a_second_key)
{
    uint8_t sk_a[32], sk_b1[32], sk_b2[32];
    randombytes_buf(sk_a, 32);
    randombytes_buf(sk_b1, 32);
    randombytes_buf(sk_b2, 32);
    net *a = open_net_with_key(1, sk_a, true);
    net *b1 = open_net_with_key(2, sk_b1, true);
    connect_pair(b1, a);
    net_close(b1);
    ASSERT(wait_event(a, NET_EV_DISCONNECTED, 3000, NULL));
    /* Another process claims id 2 with another key: refused. */
    net *b2 = open_net_with_key(2, sk_b2, true);
    char addr[64];
    ASSERT_OK(net_connect(b2, addr_of(a, addr, sizeof(addr))));
    ASSERT(WAIT_UNTIL(stats_of(a).refused_peers >= 1, 3000));
    ASSERT(!wait_event(a, NET_EV_CONNECTED, 100, NULL));
    net_close(b2);
    /* The first key comes back: admitted again. */
    net *b3 = open_net_with_key(2, sk_b1, true);
    connect_pair(b3, a);
    net_close(b3);
    net_close(a);
}
