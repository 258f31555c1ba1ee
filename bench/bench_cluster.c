/*
 * Cluster benchmarks over the built-in TCP transport: three dd_system
 * nodes in this process, each with its own listener and driver thread,
 * talking over loopback with authenticated, encrypted links (immediate
 * delta push, the default).
 *
 *   net.visibility.p50 / .p99  ms from an update on node 1 until nodes 2
 *                              and 3 read it; 200 updates, each followed
 *                              by a random pause of 0-50 ms so no timer's
 *                              phase helps either side
 *   net.updates_per_s          updates per second on node 1 for 2 s,
 *                              counted until every node reads every update
 *                              (sustained, with convergence)
 *
 * Apache Pekko Distributed Data does the same in the same run
 * (bench/pekko_peer.sh run net: three ActorSystems with artery TCP on
 * 127.0.0.1, Update with WriteLocal, subscribers on nodes 2 and 3). The
 * `baseline` is Pekko with gossip-interval = 100 ms and
 * notify-subscribers-interval = 10 ms; the `.vs_pekko_defaults` lines
 * compare with Pekko's defaults (2 s and 500 ms).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "ddata.h"

#define NODES 3

typedef struct bnode {
    dd_system *sys;
    dd_replica *rep;
    char addr[256];
} bnode;

static bnode nodes[NODES];
static const uint8_t secret[32] = {7, 7, 7, 7};

static void die(const char *what)
{
    fprintf(stderr, "bench_cluster: %s: %s\n", what, dd_error_last()->message);
    exit(1);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void open_node(bnode *n, const char *id, const char *seed)
{
    dd_system_options so;
    dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION);
    so.node_id = id;
    so.transport = DD_TRANSPORT_TCP;
    so.listen_address = "127.0.0.1:0";
    so.secret = secret;
    so.seeds = &seed;
    so.seed_count = seed ? 1 : 0;
    if (dd_system_open(&n->sys, &so) != DD_OK)
        die("system open");
    dd_buf a = DD_BUF_INIT;
    if (dd_system_listen_address(&a, n->sys) != DD_OK)
        die("listen address");
    snprintf(n->addr, sizeof(n->addr), "%.*s", (int)a.len, (const char *)a.data);
    dd_buf_free(&a);
    dd_replica_options ro;
    dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION);
    ro.gossip_interval_ms = 200;
    if (dd_replica_open(&n->rep, n->sys, &ro) != DD_OK)
        die("replica open");
}

static void incr(bnode *n, const char *key, uint64_t amount)
{
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = amount;
    if (dd_replica_update(n->rep, (const uint8_t *)key, strlen(key), DD_GCOUNTER, &op) != DD_OK)
        die("update");
}

static int64_t counter(bnode *n, const char *key)
{
    dd_crdt *v = NULL;
    if (dd_replica_get(&v, n->rep, (const uint8_t *)key, strlen(key)) != DD_OK)
        return 0;
    int64_t out = 0;
    dd_crdt_counter_value(&out, v);
    dd_crdt_free(v);
    return out;
}

/* Polls every node until `key` reads `want` everywhere; seconds, or -1. */
static double wait_all(const char *key, int64_t want, double timeout_s)
{
    double start = bench_now_s();
    while (bench_now_s() - start < timeout_s) {
        int agree = 0;
        for (int i = 0; i < NODES; i++)
            agree += counter(&nodes[i], key) == want;
        if (agree == NODES)
            return bench_now_s() - start;
        sleep_us(20);
    }
    return -1;
}

static double visibility_p50, visibility_p99, updates_per_s;

static void bench_visibility(void)
{
    enum { SAMPLES = 200 };
    double *ms = calloc(SAMPLES, sizeof(double));
    if (!ms)
        die("oom");
    unsigned seed = 20;
    for (int i = 0; i < SAMPLES; i++) {
        double t0 = bench_now_s();
        incr(&nodes[0], "vis", 1);
        double t = wait_all("vis", i + 1, 5);
        if (t < 0) {
            fprintf(stderr, "bench_cluster: update %d not visible everywhere within 5 s\n", i);
            exit(1);
        }
        ms[i] = (bench_now_s() - t0) * 1000;
        sleep_us((long)(rand_r(&seed) % 50000));
    }
    visibility_p50 = bench_percentile(ms, SAMPLES, 50);
    visibility_p99 = bench_percentile(ms, SAMPLES, 99);
    free(ms);
}

typedef struct writer {
    int node;
    double seconds;
    uint64_t done;
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    char key[16];
    snprintf(key, sizeof(key), "u%d", w->node);
    double start = bench_now_s();
    while (bench_now_s() - start < w->seconds) {
        for (int i = 0; i < 256; i++)
            incr(&nodes[w->node], key, 1);
        w->done += 256;
    }
    return NULL;
}

static void bench_updates(void)
{
    writer w = {0, 2.0, 0};
    double start = bench_now_s();
    writer_main(&w);
    if (wait_all("u0", (int64_t)w.done, 30) < 0) {
        fprintf(stderr, "bench_cluster: writes of node 1 did not converge in 30 s\n");
        exit(1);
    }
    updates_per_s = (double)w.done / (bench_now_s() - start);
}

int main(void)
{
    open_node(&nodes[0], "b1", NULL);
    open_node(&nodes[1], "b2", nodes[0].addr);
    open_node(&nodes[2], "b3", nodes[0].addr);
    /* Warm up: the cluster has formed once an update made anywhere shows
     * up everywhere. */
    incr(&nodes[2], "warm", 1);
    if (wait_all("warm", 1, 15) < 0) {
        fprintf(stderr, "bench_cluster: the 3 nodes did not form a cluster within 15 s\n");
        return 1;
    }
    sleep_us(300000);
    /* BENCH_ONLY=net.updates_per_s: that figure alone, no peer
     * (bench/metrics_overhead.sh). */
    if (getenv("BENCH_ONLY") && strcmp(getenv("BENCH_ONLY"), "net.updates_per_s") == 0) {
        bench_updates();
        bench_report("net.updates_per_s", "ops/s", updates_per_s);
        for (int i = NODES - 1; i >= 0; i--) {
            dd_replica_close(nodes[i].rep);
            dd_system_close(nodes[i].sys);
        }
        return 0;
    }
    bench_visibility();
    bench_updates();
    for (int i = NODES - 1; i >= 0; i--) {
        dd_replica_close(nodes[i].rep);
        dd_system_close(nodes[i].sys);
    }
    /* The peer runs once ddata's nodes are closed, so neither disturbs
     * the other. */
    bench_peer pekko;
    bench_peer_run(&pekko, "sh bench/pekko_peer.sh run net");
    /* Each figure against Pekko's fast settings (its ".fast" line), then
     * every one again against Pekko's defaults (its plain line). */
    const struct {
        const char *name, *unit;
        double value;
        bool higher_is_better;
    } figures[] = {{"net.visibility.p50", "ms", visibility_p50, false},
                   {"net.visibility.p99", "ms", visibility_p99, false},
                   {"net.updates_per_s", "ops/s", updates_per_s, true}};
    for (int defaults = 0; defaults < 2; defaults++)
        for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
            char name[96], peer_name[96];
            snprintf(name, sizeof(name), "%s%s", figures[i].name,
                     defaults ? ".vs_pekko_defaults" : "");
            snprintf(peer_name, sizeof(peer_name), "%s%s", figures[i].name,
                     defaults ? "" : ".fast");
            bench_report_peer(name, figures[i].unit, figures[i].value,
                              bench_peer_value(&pekko, peer_name), figures[i].higher_is_better);
        }
    return 0;
}
