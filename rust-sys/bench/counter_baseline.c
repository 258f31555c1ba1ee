/*
 * The C side of rust.counter.increment: the loop ddata::Crdt::increment
 * runs, written directly against the C ABI (a GCounter, dd_crdt_apply with
 * an increment op on the stack, actor 1). Prints calls/s, the best of a
 * few rounds, for bench/rust.sh to hand to the Rust side as its baseline.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ddata.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull;
    double best = 0;
    for (int round = 0; round < 4; round++) {
        dd_crdt *c = NULL;
        if (dd_crdt_new(&c, DD_GCOUNTER) != DD_OK)
            return 1;
        double t0 = now_s();
        for (unsigned long long i = 0; i < n; i++) {
            dd_op op = DD_OP_INIT;
            op.kind = DD_OP_INCREMENT;
            op.amount = 1;
            if (dd_crdt_apply(c, &op, 1, 0, NULL) != DD_OK)
                return 1;
        }
        double rate = (double)n / (now_s() - t0);
        dd_crdt_free(c);
        if (round > 0 && rate > best) /* round 0 warms caches */
            best = rate;
    }
    printf("%.0f\n", best);
    return 0;
}
