/*
 * Replicator benchmarks (issue 6), one JSON line each:
 *
 *  gossip.convergence_rounds.n32/.n128/.n256  gossip rounds until every
 *      replica agrees after a burst of updates, in the simulator, with
 *      digest gossip alone (DD_DELTA_NONE, fanout 1), so the figure is the
 *      epidemic's, not a broadcast's. Target: 2*log2(N)+2.
 *  gossip.bytes_per_round.100k_keys_10_updates  bytes sent cluster-wide per
 *      gossip round, 5 nodes holding the same 100,000 keys, 10 keys updated
 *      per round; baseline = pushing the full store to one peer per node per
 *      round (actor-ts), computed from the same store. Target ratio >= 100.
 *  replica.update  ops/s of engine_update (GCounter increments over 1,000
 *      keys, immediate deltas to 4 peers encoded and queued).
 *  replica.keys_10.open_ms / replica.keys_1e6.open_ms  time to open an
 *      engine whose SQLite store holds 10 / 1,000,000 durable keys, until
 *      it answers a get.
 *  replica.pruning.slots_after_churn  counter slots left in one GCounter
 *      after 50 joins and deaths of fresh incarnations of one node (each
 *      increments once) beside 3 stable nodes, in the simulator, with
 *      removed-node pruning; baseline = the same run without pruning.
 *
 *
 * Scale (issue 20), in the simulator at 1,024 and 4,096 nodes (the
 * membership cap):
 *  gossip.convergence_rounds.n1024/.n4096  as above; baseline = the
 *      target 2*log2(N)+2 (ratio > 1: under it).
 *  gossip.round_ms.n256/.n1024/.n4096  wall-clock ms one simulated gossip
 *      round takes for the whole cluster (every node's ticks, sends and
 *      deliveries), so the cost of growth is visible.
 *  gossip.bytes_per_node_round.n1024  bytes each node sends per gossip
 *      round, 1,024 nodes holding the same 10,000 keys, 10 keys updated per
 *      round (immediate deltas); baseline = pushing the full store to one
 *      peer per round.
 *  replica.bytes_per_key.n1024  heap bytes per key per node for those
 *      10,000 keys (malloc's in-use bytes after convergence, minus before
 *      the keys): the key table, values, digest tree and version vectors.
 *
 * BENCH_QUICK=1 shrinks the big cases for a smoke run.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "sim.h"
#include "replicator/engine.h"
#include "store/sqlite_backend.h"
#include "util/status.h"

static bool quick(void)
{
    const char *q = getenv("BENCH_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* True once every node counts every other node as an up peer. */
static bool all_know_all(sim *s)
{
    uint32_t n = sim_nodes(s);
    for (uint32_t i = 0; i < n; i++)
        if (engine_up_peers(sim_node_at(s, i)->e) != n - 1)
            return false;
    return true;
}

static uint64_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return (uint64_t)m.uordblks + (uint64_t)m.hblkhd;
}

static void convergence(uint32_t n)
{
    sim_config c;
    sim_config_default(&c);
    c.seed = 7;
    c.nodes = n;
    c.strategy = ENGINE_DELTA_NONE;
    c.max_delay_ms = 20;
    sim *s;
    if (sim_new(&s, &c) != ST_OK) {
        fprintf(stderr, "bench: sim_new failed\n");
        return;
    }
    /* Let membership settle: everyone knows everyone. */
    bool large = n > 256;
    if (large) {
        for (int r = 0; r < 60 && !all_know_all(s); r++)
            sim_run(s, c.gossip_interval_ms);
        sim_run(s, 2 * c.gossip_interval_ms);
    } else {
        sim_run(s, 40 * c.gossip_interval_ms);
    }
    char key[32];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "k%u", i % 64);
        (void)sim_increment(s, i, key, 1);
    }
    const char *why;
    uint32_t rounds = 0;
    double wall = 0;
    while (!sim_converged(s, &why) && rounds < 200) {
        double t0 = bench_now_s();
        sim_run(s, c.gossip_interval_ms);
        wall += bench_now_s() - t0;
        rounds++;
    }
    char name[64];
    snprintf(name, sizeof(name), "gossip.convergence_rounds.n%u", n);
    uint32_t log2n = 0;
    while ((1u << log2n) < n)
        log2n++;
    if (large)
        bench_report_vs(name, "rounds", rounds, 2.0 * log2n + 2, false);
    else
        bench_report(name, "rounds", rounds);
    if (n >= 256) {
        snprintf(name, sizeof(name), "gossip.round_ms.n%u", n);
        bench_report(name, "ms", wall * 1000 / (rounds ? rounds : 1));
    }
    sim_free(s);
}

static uint64_t full_state_bytes(engine *e);

/* 1,024 nodes, 10,000 keys: bytes per node per round, heap bytes per key. */
/* Counts traffic from zero over `rounds` gossip intervals, each after ten
 * increments of random keys key-0..key-(keys-1) on random nodes of n. */
static void churn_rounds(sim *s, uint64_t seed, uint32_t keys, uint32_t n, uint32_t rounds,
                         uint64_t interval_ms)
{
    rng r;
    rng_seed(&r, seed);
    sim_reset_bytes(s);
    char key[32];
    for (uint32_t k = 0; k < rounds; k++) {
        for (int u = 0; u < 10; u++) {
            snprintf(key, sizeof(key), "key-%u", (uint32_t)rng_below(&r, keys));
            (void)sim_increment(s, (uint32_t)rng_below(&r, n), key, 1);
        }
        sim_run(s, interval_ms);
    }
}

static void scale_keys(uint32_t n, uint32_t keys)
{
    sim_config c;
    sim_config_default(&c);
    c.seed = 13;
    c.nodes = n;
    c.max_delay_ms = 20;
    sim *s;
    if (sim_new(&s, &c) != ST_OK)
        return;
    for (int r = 0; r < 60 && !all_know_all(s); r++)
        sim_run(s, c.gossip_interval_ms);
    sim_run(s, 3 * c.gossip_interval_ms);
    uint64_t heap0 = heap_in_use();
    char key[32];
    for (uint32_t i = 0; i < keys; i++) {
        snprintf(key, sizeof(key), "key-%u", i);
        (void)sim_increment(s, i % n, key, 1);
        if (i % 100 == 99)
            sim_run(s, 100);
    }
    if (sim_run_until_converged(s, 600000, 1000) == UINT64_MAX)
        fprintf(stderr, "bench: %u keys on %u nodes did not converge\n", keys, n);
    sim_run(s, 3 * c.gossip_interval_ms); /* nothing left in flight */
    uint64_t heap1 = heap_in_use();
    uint32_t rounds = 10;
    churn_rounds(s, 5, keys, n, rounds, c.gossip_interval_ms);
    char name[80];
    snprintf(name, sizeof(name), "gossip.bytes_per_node_round.n%u%s", n, quick() ? "(quick)" : "");
    bench_report_vs(name, "bytes", (double)sim_bytes_sent(s) / rounds / n,
                    (double)full_state_bytes(sim_node_at(s, 0)->e), false);
    snprintf(name, sizeof(name), "replica.bytes_per_key.n%u%s", n, quick() ? "(quick)" : "");
    bench_report(name, "bytes", (double)(heap1 - heap0) / ((double)n * keys));
    sim_free(s);
}

static uint64_t full_state_bytes(engine *e)
{
    uint64_t total = 0, cursor = 0;
    const uint8_t *key;
    size_t len;
    bytes b = BYTES_INIT;
    while (engine_keys_next(e, &cursor, &key, &len) == ST_OK) {
        crdt *v = NULL;
        if (engine_get(e, key, len, &v) != ST_OK)
            continue;
        bytes_reset(&b);
        (void)crdt_encode(v, &b);
        total += len + b.len + 4; /* key, value, two length prefixes */
        crdt_free(v);
    }
    bytes_free(&b);
    return total;
}

static void bytes_per_round(void)
{
    uint32_t keys = quick() ? 10000 : 100000;
    sim_config c;
    sim_config_default(&c);
    c.seed = 11;
    c.nodes = 5;
    c.max_delay_ms = 20;
    sim *s;
    if (sim_new(&s, &c) != ST_OK)
        return;
    sim_run(s, 5000);
    char key[32];
    for (uint32_t i = 0; i < keys; i++) {
        snprintf(key, sizeof(key), "key-%u", i);
        (void)sim_increment(s, i % 5, key, 1);
        if (i % 1000 == 999)
            sim_run(s, 100);
    }
    if (sim_run_until_converged(s, 600000, 1000) == UINT64_MAX)
        fprintf(stderr, "bench: 100k keys did not converge\n");
    sim_run(s, 3000);
    uint32_t rounds = 10;
    churn_rounds(s, 3, keys, 5, rounds, c.gossip_interval_ms);
    double per_round = (double)sim_bytes_sent(s) / rounds;
    double baseline = 5.0 * (double)full_state_bytes(sim_node_at(s, 0)->e);
    bench_report_vs(quick() ? "gossip.bytes_per_round.10k_keys_10_updates(quick)"
                            : "gossip.bytes_per_round.100k_keys_10_updates",
                    "bytes", per_round, baseline, false);
    sim_free(s);
}

static void update_rate(void)
{
    engine_config c;
    engine_config_default(&c);
    c.node_id = "bench";
    c.incarnation = 1;
    engine *e;
    if (engine_new(&e, &c, 1000) != ST_OK)
        return;
    /* Four peers join, so every update encodes and queues its delta. */
    for (int p = 0; p < 4; p++) {
        char id[8];
        snprintf(id, sizeof(id), "p%d", p);
        uint8_t join[4] = {0xDD, 1, 1, 1};
        (void)engine_deliver(e, 1000, id, strlen(id), join, sizeof(join));
    }
    bytes to = BYTES_INIT, msg = BYTES_INIT;
    while (engine_next_outgoing(e, &to, &msg) == ST_OK)
        ;
    char keys[1000][12];
    for (int i = 0; i < 1000; i++)
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
    crdt_op op = {0};
    op.kind = CRDT_OP_INCREMENT;
    op.amount = 1;
    uint64_t n = quick() ? 100000 : 1000000;
    double t0 = bench_now_s();
    for (uint64_t i = 0; i < n; i++) {
        const char *k = keys[i % 1000];
        (void)engine_update(e, 1000, (const uint8_t *)k, strlen(k), CRDT_GCOUNTER, &op, NULL);
        if ((i & 255) == 255)
            while (engine_next_outgoing(e, &to, &msg) == ST_OK)
                ;
    }
    double dt = bench_now_s() - t0;
    bench_report("replica.update", "ops/s", (double)n / dt);
    bytes_free(&to);
    bytes_free(&msg);
    engine_free(e);
}

static void open_time(uint64_t keys, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "/tmp/ddata-bench-replica-%d-%llu.db", (int)getpid(),
             (unsigned long long)keys);
    unlink(path);
    state_store *st;
    if (state_store_open_sqlite(&st, path, NULL) != ST_OK) {
        fprintf(stderr, "bench: cannot open %s\n", path);
        return;
    }
    engine_pattern all = {(const uint8_t *)"", 0, true};
    engine_config c;
    engine_config_default(&c);
    c.node_id = "bench";
    c.incarnation = 1;
    c.store = st;
    c.durable = &all;
    c.durable_count = 1;
    c.write_behind = true; /* one transaction for the bulk load */
    engine *e;
    if (engine_new(&e, &c, 1000) != ST_OK)
        return;
    crdt_op op = {0};
    op.kind = CRDT_OP_INCREMENT;
    op.amount = 1;
    char key[32];
    for (uint64_t i = 0; i < keys; i++) {
        snprintf(key, sizeof(key), "key-%llu", (unsigned long long)i);
        (void)engine_update(e, 1000, (const uint8_t *)key, strlen(key), CRDT_GCOUNTER, &op, NULL);
    }
    (void)durable_flush(e);
    engine_free(e);
    state_store_close(st);

    /* Small stores: the median of several opens (the first pays for page
     * cache misses and lazy process set-up that a service pays once). */
    int reps = keys <= 1000 ? 9 : 1;
    double samples[9];
    for (int k = 0; k < reps; k++) {
        double t0 = bench_now_s();
        if (state_store_open_sqlite(&st, path, NULL) != ST_OK)
            return;
        c.store = st;
        if (engine_new(&e, &c, 2000) != ST_OK) {
            fprintf(stderr, "bench: reopen failed\n");
            return;
        }
        crdt *v = NULL;
        int rc = engine_get(e, (const uint8_t *)"key-0", 5, &v);
        samples[k] = (bench_now_s() - t0) * 1000.0;
        if (rc != ST_OK || engine_key_count(e) != keys)
            fprintf(stderr, "bench: reopened replica is missing keys\n");
        crdt_free(v);
        engine_free(e);
        state_store_close(st);
    }
    bench_report(name, "ms", bench_percentile(samples, (uint64_t)reps, 50));
    unlink(path);
    char aux[300];
    snprintf(aux, sizeof(aux), "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof(aux), "%s-shm", path);
    unlink(aux);
}

/* Slots left in "c" on node 0 after `rounds` incarnations of node 3 came,
 * incremented and died; -1 if the value is wrong. */
static double churn_slots(bool prune, int rounds)
{
    sim_config c;
    sim_config_default(&c);
    c.seed = 11;
    c.nodes = 4;
    c.down_after_ms = 5000;
    c.remove_after_ms = 5000;
    c.prune_interval_ms = 2000;
    c.prune_delay_ms = 2000;
    c.prune_marker_ttl_ms = 60000;
    c.prune_disabled = !prune;
    sim *s;
    if (sim_new(&s, &c) != ST_OK)
        return -1;
    sim_run(s, 10000);
    int64_t total = 0;
    for (uint32_t i = 0; i < 3; i++, total++)
        (void)sim_increment(s, i, "c", 1);
    sim_crash(s, 3);
    for (int r = 0; r < rounds; r++) {
        if (sim_restart(s, 3, false) != ST_OK)
            break;
        sim_run(s, 3000);
        (void)sim_increment(s, 3, "c", 1);
        total++;
        sim_run(s, 2000);
        sim_crash(s, 3);
        sim_run(s, 15000);
    }
    sim_run(s, 30000);
    double slots = -1;
    crdt *v = NULL;
    engine *e = sim_node_at(s, 0)->e;
    if (sim_counter(e, "c") == total && engine_get(e, (const uint8_t *)"c", 1, &v) == ST_OK)
        slots = (double)crdt_counter_slots(v);
    crdt_free(v);
    sim_free(s);
    return slots;
}

static void pruning_churn(void)
{
    double with = churn_slots(true, 50), without = churn_slots(false, 50);
    bench_report_vs("replica.pruning.slots_after_churn", "slots", with, without, false);
}

int main(void)
{
    /* One case alone: BENCH_NODES=n converges n nodes, BENCH_KEYS=k runs
     * the 1,024-node case with k keys. */
    /* BENCH_ONLY=replica.update: that figure alone (bench/metrics_overhead.sh). */
    if (getenv("BENCH_ONLY") && strcmp(getenv("BENCH_ONLY"), "replica.update") == 0) {
        update_rate();
        return 0;
    }
    if (getenv("BENCH_NODES") || getenv("BENCH_KEYS")) {
        if (getenv("BENCH_NODES"))
            convergence((uint32_t)atoi(getenv("BENCH_NODES")));
        if (getenv("BENCH_KEYS"))
            scale_keys(1024, (uint32_t)atoi(getenv("BENCH_KEYS")));
        return 0;
    }
    convergence(32);
    convergence(128);
    convergence(256);
    convergence(1024);
    if (!quick())
        convergence(4096);
    scale_keys(1024, quick() ? 1000 : 10000);
    bytes_per_round();
    update_rate();
    pruning_churn();
    open_time(10, "replica.keys_10.open_ms");
    if (quick())
        open_time(100000, "replica.keys_1e5.open_ms(quick)");
    else
        open_time(1000000, "replica.keys_1e6.open_ms");
    return 0;
}
