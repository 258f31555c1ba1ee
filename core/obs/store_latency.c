/*
 * The process-wide store histograms (store_latency.h). Bucket bounds run
 * from 10 microseconds to 10 seconds, roughly three per decade: an fsync on
 * an SSD lands near the bottom, one on a busy disk near the top.
 */
#include <stdatomic.h>
#include <stdio.h>

#include "obs/prom.h"
#include "obs/store_latency.h"
#include "util/clock.h"

#define NBOUNDS 13

static const uint64_t bound_ns[NBOUNDS] = {
    10000ull,      25000ull,      100000ull,      250000ull,    1000000ull,
    2500000ull,    10000000ull,   25000000ull,    100000000ull, 250000000ull,
    1000000000ull, 2500000000ull, 10000000000ull,
};
static const char *const bound_text[NBOUNDS] = {
    "1e-05", "2.5e-05", "0.0001", "0.00025", "0.001", "0.0025", "0.01",
    "0.025", "0.1",     "0.25",   "1",       "2.5",   "10",
};

typedef struct histogram {
    _Atomic uint64_t bucket[NBOUNDS + 1]; /* non-cumulative; the last is +Inf */
    _Atomic uint64_t sum_ns;
    _Atomic uint64_t count;
} histogram;

static histogram hists[STORE_LATENCY_OP_COUNT];
static _Atomic uint64_t seal_failures;
static _Atomic uint64_t slow_fsyncs;

static const char *const op_name[STORE_LATENCY_OP_COUNT] = {"append", "replay", "upsert", "fsync"};

uint64_t store_latency_start(void)
{
    return clock_monotonic_ns();
}

void store_latency_record(store_latency_op op, uint64_t start_ns)
{
    uint64_t now = clock_monotonic_ns();
    uint64_t d = now > start_ns ? now - start_ns : 0;
    histogram *h = &hists[op];
    size_t i = 0;
    while (i < NBOUNDS && d > bound_ns[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, d, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    if (op == STORE_LATENCY_FSYNC && d >= STORE_SLOW_FSYNC_NS)
        atomic_fetch_add_explicit(&slow_fsyncs, 1, memory_order_relaxed);
}

uint64_t store_latency_slow_fsyncs(void)
{
    return atomic_load_explicit(&slow_fsyncs, memory_order_relaxed);
}

void store_latency_seal_failure(void)
{
    atomic_fetch_add_explicit(&seal_failures, 1, memory_order_relaxed);
}

void store_latency_write_prom(bytes *b)
{
    const char *name = "ddata_store_operation_duration_seconds";
    prom_family(b, name, PROM_HISTOGRAM,
                "Time one store operation took (journal append and replay, state upsert, fs "
                "fsync), all stores of the process");
    for (int op = 0; op < STORE_LATENCY_OP_COUNT; op++) {
        histogram *h = &hists[op];
        /* The count first: a scrape racing a record then never shows a
         * bucket above the count (cumulative buckets must not exceed it). */
        uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
        uint64_t sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
        uint64_t cum = 0;
        char line[160];
        for (int i = 0; i <= NBOUNDS; i++) {
            cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
            if (cum > count)
                cum = count;
            int n = snprintf(line, sizeof(line), "%s_bucket{op=\"%s\",le=\"%s\"} %llu\n", name,
                             op_name[op], i < NBOUNDS ? bound_text[i] : "+Inf",
                             (unsigned long long)(i < NBOUNDS ? cum : count));
            bytes_put(b, line, (size_t)n);
        }
        int n = snprintf(line, sizeof(line), "%s_sum{op=\"%s\"} %.9f\n%s_count{op=\"%s\"} %llu\n",
                         name, op_name[op], (double)sum_ns / 1e9, name, op_name[op],
                         (unsigned long long)count);
        bytes_put(b, line, (size_t)n);
    }
    prom_counter(b, "ddata_store_slow_fsyncs_total",
                 "fsync calls of the fs engine that took 100 ms or more",
                 atomic_load_explicit(&slow_fsyncs, memory_order_relaxed));
    prom_counter(b, "ddata_store_sealed_record_failures_total",
                 "Stored records that failed their seal or checksum when read back",
                 atomic_load_explicit(&seal_failures, memory_order_relaxed));
}
