/*
 * What the state store benchmarks (bench_state_blocks.c, bench_state_keys.c)
 * share: opening a store through the public header or giving up with the
 * library's message, and the best-of-rounds rate they report.
 *
 * A header of static functions rather than part of bench.c: bench_support
 * links nothing but libc, while these need libddata.
 */
#ifndef DD_BENCH_STATE_H
#define DD_BENCH_STATE_H

#include <stdio.h>
#include <stdlib.h>

#include "ddata.h"

/* A benchmark cannot go on after a failed call: say which and exit. */
static inline void bench_must(int rc, const char *what)
{
    if (rc != DD_OK) {
        fprintf(stderr, "%s: %s\n", what, dd_error_last()->message);
        exit(1);
    }
}

/* The state store at `path` on `backend`, written with `sync`; exits when
 * it cannot be opened. */
static inline dd_state_store *bench_state_open(uint32_t backend, const char *path, uint32_t sync)
{
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.backend = backend;
    o.path = path;
    o.sync = sync;
    dd_state_store *s = NULL;
    if (dd_state_store_open(&s, &o) != DD_OK) {
        fprintf(stderr, "open %s: %s\n", path, dd_error_last()->message);
        exit(1);
    }
    return s;
}

/* One measured pass over `store`, done the `way` the benchmark compares
 * (the new building block or the old workaround): returns how many items
 * it saw and its own duration in *elapsed_s (each pass decides what the
 * clock covers). */
typedef int (*bench_pass_fn)(void *store, int way, double *elapsed_s);

/* The best of `rounds` passes, in items per second. Every pass must see
 * exactly `n` items: a rate over fewer would flatter, so a short pass exits
 * with "<what> saw <seen> of <n>". */
static inline double bench_best_rate(int rounds, int n, const char *what, bench_pass_fn pass,
                                     void *store, int way)
{
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        double dt = 0;
        int seen = pass(store, way, &dt);
        if (seen != n) {
            fprintf(stderr, "%s saw %d of %d\n", what, seen, n);
            exit(1);
        }
        if (n / dt > best)
            best = n / dt;
    }
    return best;
}

#endif
