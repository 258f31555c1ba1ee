/*
 * Helpers shared by the transport tests: nets on loopback, waiting for
 * events with a deadline, and a "raw peer" that speaks the protocol by hand
 * over a blocking socket (through the sans-I/O session) so a test can
 * misbehave after authenticating: stop reading, replay, send oversized
 * frames. Every wait is bounded; nothing here can hang a test.
 */
#ifndef DD_NET_TEST_UTIL_H
#define DD_NET_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/session.h"
#include "net/transport.h"
#include "test.h"
#include "util/clock.h"
#include "util/status.h"

static const uint8_t TEST_SECRET[32] = "test-cluster-secret-32-bytes-ok";
static const uint8_t WRONG_SECRET[32] = "some-other-cluster-secret-value";

/* Node ids in the tests are the decimal text of a number; the returned
 * pointer stays valid for the next 63 calls, long enough for net_open to
 * copy it. */
static inline const char *id_text(uint64_t id)
{
    static char ring[64][24];
    static unsigned next;
    char *s = ring[next++ % 64];
    snprintf(s, 24, "%llu", (unsigned long long)id);
    return s;
}

static inline net_config test_config(uint64_t id, const uint8_t *secret)
{
    net_config c;
    net_config_default(&c);
    c.listen_addr = "127.0.0.1:0";
    c.node_id = id_text(id);
    c.incarnation = 1000 + id; /* fixed, so tests can check what peers see */
    c.secret = secret;
    c.plaintext = secret == NULL;
    c.reconnect_min_ms = 20;
    c.reconnect_max_ms = 200;
    return c;
}

/* A net opened with c, which must succeed. */
static inline net *open_config(const net_config *c)
{
    net *n = NULL;
    ASSERT_OK(net_open(&n, c));
    return n;
}

static inline net *open_net(uint64_t id, const uint8_t *secret)
{
    net_config c = test_config(id, secret);
    return open_config(&c);
}

/* Waits for an event of `kind` (others are discarded). */
static inline bool wait_event(net *n, net_event_kind kind, int timeout_ms, net_event *out)
{
    uint64_t deadline = clock_monotonic_ms() + (uint64_t)timeout_ms;
    for (;;) {
        net_event ev;
        while (net_poll(n, &ev) == ST_OK) {
            if (ev.kind == kind) {
                if (out)
                    *out = ev;
                else
                    net_event_clear(&ev);
                return true;
            }
            net_event_clear(&ev);
        }
        uint64_t now = clock_monotonic_ms();
        if (now >= deadline)
            return false;
        net_wait(n, (int)(deadline - now));
    }
}

/* Waits for an event of `kind` from peer `node_id`, failing the test when
 * none comes within timeout_ms or it names another peer. */
static inline void expect_event_from(net *n, net_event_kind kind, const char *node_id,
                                     int timeout_ms)
{
    net_event ev;
    ASSERT(wait_event(n, kind, timeout_ms, &ev));
    ASSERT_STR_EQ(ev.node_id, node_id);
    net_event_clear(&ev);
}

/* Polls `cond` every few milliseconds until it holds or time runs out. */
#define WAIT_UNTIL(cond, timeout_ms)                                                               \
    ({                                                                                             \
        uint64_t dl_ = clock_monotonic_ms() + (timeout_ms);                                        \
        bool ok_ = false;                                                                          \
        while (!(ok_ = (cond)) && clock_monotonic_ms() < dl_)                                      \
            usleep(2000);                                                                          \
        ok_;                                                                                       \
    })

/* The stats n keeps of peer `node_id` (which it must know). */
static inline net_peer_stats peer_stats_of(net *n, const char *node_id)
{
    net_peer_stats ps;
    ASSERT_OK(net_peer_stats_get(n, node_id, &ps));
    return ps;
}

static inline net_stats stats_of(net *n)
{
    net_stats s;
    net_stats_get(n, &s);
    return s;
}

static inline int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ASSERT_MSG(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect to port %u", port);
    return fd;
}

static inline void raw_send(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the other side closed: that is what some tests expect */
        p += w;
        len -= (size_t)w;
    }
}

/* True when the peer closed `fd` within timeout_ms (reads and discards). */
static inline bool raw_sees_close(int fd, int timeout_ms)
{
    uint64_t deadline = clock_monotonic_ms() + (uint64_t)timeout_ms;
    uint8_t buf[4096];
    while (clock_monotonic_ms() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            return true;
    }
    return false;
}

typedef struct raw_peer {
    int fd;
    session s;
    bytes out;
} raw_peer;

/* Connects to `port` and runs the handshake by hand; true when it opened. */
static inline bool raw_peer_open_as(raw_peer *r, uint16_t port, const uint8_t *secret, uint64_t id,
                                    uint64_t incarnation)
{
    memset(r, 0, sizeof(*r));
    r->fd = raw_connect(port);
    session_config c = {.secret = secret,
                        .plaintext = secret == NULL,
                        .node_id = id_text(id),
                        .incarnation = incarnation,
                        .advertised_addr = "127.0.0.1:1",
                        .max_message_bytes = 4u << 20};
    ASSERT_OK(session_init(&r->s, &c, true, &r->out));
    uint64_t deadline = clock_monotonic_ms() + 3000;
    while (clock_monotonic_ms() < deadline) {
        raw_send(r->fd, r->out.data, r->out.len);
        bytes_reset(&r->out);
        uint8_t buf[4096];
        ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
        if (n <= 0)
            return false;
        if (session_input(&r->s, buf, (size_t)n) != ST_OK)
            return false;
        session_item it;
        int rc;
        while ((rc = session_next(&r->s, &r->out, &it)) == ST_OK) {
            if (it.kind == SESSION_ITEM_OPENED) {
                raw_send(r->fd, r->out.data, r->out.len);
                bytes_reset(&r->out);
                return true;
            }
        }
        if (rc != ST_EDONE)
            return false;
    }
    return false;
}

static inline bool raw_peer_open(raw_peer *r, uint16_t port, const uint8_t *secret, uint64_t id)
{
    return raw_peer_open_as(r, port, secret, id, 77);
}

/* Reads one message from an opened raw peer; true when it arrived in time. */
static inline bool raw_peer_read(raw_peer *r, uint8_t *buf, size_t cap, size_t *len)
{
    uint64_t deadline = clock_monotonic_ms() + 3000;
    while (clock_monotonic_ms() < deadline) {
        session_item it;
        int rc = session_next(&r->s, &r->out, &it);
        if (rc == ST_OK && it.kind == SESSION_ITEM_MESSAGE) {
            *len = it.len < cap ? it.len : cap;
            memcpy(buf, it.data, *len);
            return true;
        }
        if (rc != ST_EDONE)
            return false;
        uint8_t chunk[4096];
        ssize_t n = recv(r->fd, chunk, sizeof(chunk), 0);
        if (n <= 0 || session_input(&r->s, chunk, (size_t)n) != ST_OK)
            return false;
    }
    return false;
}

static inline void raw_peer_close(raw_peer *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    session_free(&r->s);
    bytes_free(&r->out);
}

static inline char *addr_of(net *n, char *buf, size_t cap)
{
    snprintf(buf, cap, "127.0.0.1:%u", (unsigned)net_port(n));
    return buf;
}

#endif
