/*
 * Store operation latencies, process-wide: how long journal appends and
 * replays, state-store upserts and the fs engine's fsyncs take, as
 * Prometheus histograms, and how many sealed (or enveloped) records failed
 * to open.
 *
 * Process-wide rather than per handle: a node's stores and a host's own
 * journals share the disk, and an operator asks "how slow is the disk for
 * ddata", not per handle; a scrape of any system (dd_system_metrics_text)
 * includes them. Counters are relaxed atomics, so the hot paths that record
 * take no lock and the cost is a clock read and three increments.
 */
#ifndef DD_OBS_STORE_LATENCY_H
#define DD_OBS_STORE_LATENCY_H

#include <stdint.h>

#include "util/bytes.h"

typedef enum store_latency_op {
    STORE_LATENCY_APPEND = 0, /* journal_append, the engine's write */
    STORE_LATENCY_REPLAY,     /* journal_replay, whole call */
    STORE_LATENCY_UPSERT,     /* state_store_upsert */
    STORE_LATENCY_FSYNC,      /* one fsync(2) in the fs engine */
    STORE_LATENCY_OP_COUNT
} store_latency_op;

/* Now, for the start of a measured operation (monotonic nanoseconds). */
uint64_t store_latency_start(void);
/* Records the time since `start_ns` for `op`. */
void store_latency_record(store_latency_op op, uint64_t start_ns);
/* fsyncs that took STORE_SLOW_FSYNC_NS or more, since the process began. */
uint64_t store_latency_slow_fsyncs(void);
/* One sealed or enveloped record that failed its check on read. */
void store_latency_seal_failure(void);
/* fsyncs slower than this are counted as slow (and logged by hosts). */
#define STORE_SLOW_FSYNC_NS 100000000ull

/* Writes the histograms and counters in Prometheus text. */
void store_latency_write_prom(bytes *b);

#endif
