/*
 * Benchmarks of node-owned state (issue 10):
 *
 *   owned.publish         mutations/s published with active push among 5
 *                         nodes in the simulator: persist (a memory-backed
 *                         durable state store per node), encode, deliver to
 *                         4 readers and apply there; 8-byte deltas and a
 *                         full view every 64, as an application answering
 *                         COMPACT_WANTED
 *   owned.query_fresh_us  p50 of a read with a max staleness that must
 *                         pull (feed_lazy_pull): the reader's query, the
 *                         owner answering the pull, the reader applying the
 *                         answer, its event and the read; only engine calls
 *                         are timed, not the simulated network
 */
#include <stdio.h>
#include <string.h>

#include "../tests/c/owned/sim.h"
#include "bench.h"
#include "owned/persist.h"
#include "store/state_store.h"

static uint32_t g_strategy;

static void setup(owned *e, void *ctx)
{
    (void)ctx;
    owned_type_options o = owned_type_defaults();
    o.strategy = g_strategy;
    o.feed_interval_ms = 1000000; /* no feed traffic inside the timed part */
    o.sync_interval_ms = 1000000;
    if (owned_register(e, "load", &o) != ST_OK)
        abort();
}

static void drain_events(owned *e)
{
    owned_event ev;
    while (owned_next_event(e, &ev) == ST_OK)
        ;
}

static void bench_publish(void)
{
    sim s;
    g_strategy = OWNED_ACTIVE_PUSH;
    sim_init(&s, 5, 42, setup, NULL);
    s.max_delay_ms = s.min_delay_ms;
    state_store *stores[5];
    owned_persist persist[5];
    for (size_t i = 0; i < 5; i++) {
        if (state_store_open_memory(&stores[i]) != ST_OK)
            abort();
        persist[i] = owned_persist_state_store(stores[i]);
    }
    s.persist = persist;
    for (size_t i = 0; i < 5; i++)
        sim_start(&s, i);
    sim_run(&s, 10);
    const unsigned per_ms = 200, ms = 250;
    uint64_t n = 0;
    unsigned since_full[5] = {0};
    double t0 = bench_now_s();
    for (unsigned t = 0; t < ms; t++) {
        for (unsigned k = 0; k < per_ms; k++) {
            size_t i = k % 5;
            bool full = since_full[i] == 64;
            since_full[i] = full ? 0 : since_full[i] + 1;
            if (sim_add(&s, i, "load", 1, full, OWNED_URGENCY_DEFAULT) != ST_OK)
                abort();
            n++;
        }
        sim_step(&s);
        for (size_t i = 0; i < 5; i++) /* a host drains its events */
            drain_events(s.nodes[i].e);
    }
    sim_run(&s, 5);
    double dt = bench_now_s() - t0;
    if (!sim_converged(&s, "load")) {
        fprintf(stderr, "bench_owned: publish did not converge\n");
        abort();
    }
    bench_report("owned.publish", "mutations/s", (double)n / dt);
    sim_free(&s);
    for (size_t i = 0; i < 5; i++)
        state_store_close(stores[i]);
}

static void drain(owned *e)
{
    bytes msg = BYTES_INIT;
    uint64_t to;
    owned_event ev;
    while (owned_next_outgoing(e, &to, &msg) == ST_OK)
        ;
    while (owned_next_event(e, &ev) == ST_OK)
        ;
    bytes_free(&msg);
}

static void bench_query(void)
{
    sim s;
    g_strategy = OWNED_FEED_LAZY_PULL;
    sim_init(&s, 5, 43, setup, NULL);
    for (size_t i = 0; i < 5; i++)
        sim_start(&s, i);
    owned *owner = s.nodes[0].e, *reader = s.nodes[1].e;
    uint64_t owner_id = s.nodes[0].id, reader_id = s.nodes[1].id;
    uint8_t delta[16] = {1};
    owned_publish(owner, "load", true, delta, sizeof(delta), 0, 0, NULL);
    enum { N = 20000 };
    static double samples[N];
    bytes msg = BYTES_INIT;
    uint64_t to, now = 2000000000ull;
    for (unsigned k = 0; k < N; k++) {
        /* Not timed: the owner mutates (compacting now and then) and
         * everyone's clock moves on, so the reader's view is stale. */
        now++;
        for (size_t i = 0; i < 5; i++)
            owned_tick(s.nodes[i].e, now);
        owned_publish(owner, "load", k % 64 == 63, delta, sizeof(delta), 0, 0, NULL);
        drain(owner);
        drain(reader);

        double t0 = bench_now_s(), spent = 0;
        uint64_t req = 0;
        if (owned_query(reader, "load", owner_id, 0, &req) != ST_OK || req == 0)
            abort();
        while (owned_next_outgoing(reader, &to, &msg) == ST_OK)
            if (to == owner_id)
                owned_deliver(owner, reader_id, msg.data, msg.len);
        while (owned_next_outgoing(owner, &to, &msg) == ST_OK)
            if (to == reader_id)
                owned_deliver(reader, owner_id, msg.data, msg.len);
        owned_event ev;
        bool done = false;
        while (owned_next_event(reader, &ev) == ST_OK)
            done |= ev.kind == OWNED_EV_QUERY_DONE && ev.request_id == req && ev.status == ST_OK;
        owned_view_copy v;
        if (!done || owned_read(reader, "load", owner_id, &v) != ST_OK)
            abort();
        spent = bench_now_s() - t0;
        owned_view_copy_free(&v);
        samples[k] = spent * 1e6;
    }
    bytes_free(&msg);
    bench_report("owned.query_fresh_us", "us", bench_percentile(samples, N, 50));
    sim_free(&s);
}

int main(void)
{
    bench_publish();
    bench_query();
    return 0;
}
