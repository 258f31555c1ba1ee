/*
 * The C side of bench/node.sh: node.counter.increment's loop (GCounter
 * increments of 1 through dd_crdt_apply on one dd_crdt), so the Node line
 * reports its cost against C measured in the same run on the same machine.
 * Kept out of the Node addon, which ships without benchmark code.
 * Prints the seconds `n` increments took.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ddata.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    dd_crdt *c = NULL;
    uint64_t actor = 0;
    int rc = 1;
    if (dd_crdt_new(&c, DD_GCOUNTER) != DD_OK || dd_actor_id_random(&actor) != DD_OK) {
        fprintf(stderr, "node_baseline: %s\n", dd_error_last()->message);
        goto done;
    }
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        dd_op op = DD_OP_INIT;
        op.kind = DD_OP_INCREMENT;
        op.amount = 1;
        if (dd_crdt_apply(c, &op, actor, 0, NULL) != DD_OK) {
            fprintf(stderr, "node_baseline: increment: %s\n", dd_error_last()->message);
            goto done;
        }
    }
    printf("%.9f\n", now_s() - t0);
    rc = 0;
done:
    dd_crdt_free(c);
    return rc;
}
