/*
 * Transport benchmarks over loopback:
 *
 *   net.handshake_ms        median time from net_connect to CONNECTED
 *                           (TCP connect, Noise XXpsk3: three messages, AUTH back)
 *   net.frame_throughput    MB/s of 1 KiB messages from one net to another,
 *                           sealed, sent, opened and polled by the owner
 *   net.frame_throughput_1mib  the same with 1 MiB messages, each carried
 *                           as 17 Noise messages and reassembled
 *
 * The engine-level lines (net.visibility.*, net.updates_per_s) come with
 * the replicator wiring, not here.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "net/transport.h"
#include "util/status.h"

#define HANDSHAKES 41
#define MESSAGES 100000
#define MESSAGE_BYTES 1024
#define BIG_MESSAGES 200
#define BIG_MESSAGE_BYTES (1u << 20)

static const uint8_t SECRET[32] = "bench-cluster-secret-32-bytes-x";

static net *open_node(uint64_t id)
{
    char name[32];
    snprintf(name, sizeof(name), "bench-%llu", (unsigned long long)id);
    net_config c;
    net_config_default(&c);
    c.listen_addr = "127.0.0.1:0";
    c.node_id = name;
    c.secret = SECRET;
    net *n = NULL;
    if (net_open(&n, &c) != ST_OK) {
        fprintf(stderr, "bench_net: net_open failed\n");
        return NULL;
    }
    return n;
}

static bool wait_kind(net *n, net_event_kind kind, int timeout_ms)
{
    double end = bench_now_s() + timeout_ms / 1000.0;
    while (bench_now_s() < end) {
        net_event ev;
        while (net_poll(n, &ev) == ST_OK) {
            bool hit = ev.kind == kind;
            net_event_clear(&ev);
            if (hit)
                return true;
        }
        net_wait(n, 10);
    }
    return false;
}

static int bench_handshake(void)
{
    net *server = open_node(1);
    if (!server)
        return 1;
    double samples[HANDSHAKES];
    uint64_t n = 0;
    for (int i = 0; i < HANDSHAKES; i++) {
        net *client = open_node(100 + (uint64_t)i);
        if (!client)
            break;
        double t0 = bench_now_s();
        net_connect(client, net_address(server));
        bool ok = wait_kind(client, NET_EV_CONNECTED, 5000);
        double t1 = bench_now_s();
        net_close(client);
        wait_kind(server, NET_EV_DISCONNECTED, 1000);
        if (ok)
            samples[n++] = (t1 - t0) * 1000.0;
    }
    net_close(server);
    if (n == 0)
        return 1;
    bench_report("net.handshake_ms", "ms", bench_percentile(samples, n, 50));
    return 0;
}

typedef struct sender {
    net *n;
    const char *to;
    uint32_t messages, message_bytes;
    uint64_t dropped;
} sender;

static void *send_all(void *arg)
{
    sender *s = arg;
    static uint8_t msg[BIG_MESSAGE_BYTES];
    for (uint32_t i = 0; i < s->messages;) {
        memcpy(msg, &i, sizeof(i));
        int rc = net_send(s->n, s->to, msg, s->message_bytes, NET_DROPPABLE, NET_CLASS_DELTA);
        if (rc == ST_OK) {
            i++;
        } else if (rc == ST_EBUSY) {
            s->dropped++; /* queue full: back off and re-send, as gossip would */
            sched_yield();
        } else {
            return NULL;
        }
    }
    return NULL;
}

static int bench_throughput(const char *name, uint32_t messages, uint32_t message_bytes)
{
    net *a = open_node(1), *b = open_node(2);
    if (!a || !b)
        return 1;
    net_connect(a, net_address(b));
    if (!wait_kind(a, NET_EV_CONNECTED, 5000) || !wait_kind(b, NET_EV_CONNECTED, 5000))
        return 1;
    sender s = {a, "bench-2", messages, message_bytes, 0};
    pthread_t t;
    double t0 = bench_now_s();
    pthread_create(&t, NULL, send_all, &s);
    uint64_t got = 0;
    double end = t0 + 60;
    while (got < messages && bench_now_s() < end) {
        net_event ev;
        while (net_poll(b, &ev) == ST_OK) {
            got += ev.kind == NET_EV_MESSAGE;
            net_event_clear(&ev);
        }
        if (got < messages)
            net_wait(b, 10);
    }
    double t1 = bench_now_s();
    pthread_join(t, NULL);
    net_close(a);
    net_close(b);
    if (got < messages) {
        fprintf(stderr, "bench_net: only %llu of %u messages arrived\n", (unsigned long long)got,
                messages);
        return 1;
    }
    double mb = (double)messages * message_bytes / 1e6;
    bench_report(name, "MB/s", mb / (t1 - t0));
    return 0;
}

int main(void)
{
    int rc = bench_handshake();
    rc |= bench_throughput("net.frame_throughput", MESSAGES, MESSAGE_BYTES);
    rc |= bench_throughput("net.frame_throughput_1mib", BIG_MESSAGES, BIG_MESSAGE_BYTES);
    return rc;
}
