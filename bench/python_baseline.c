/*
 * The C side of bench/python.sh: the same replica work the Python
 * benchmark does (counter increments on one key, ORSet adds cycling over
 * 1024 elements), through the public ABI, so python.* lines can report
 * their cost against C measured in the same run on the same machine.
 * Prints "counter <calls/s>" and "orset <calls/s>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ddata.h"

#define ELEMENTS 1024

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    fprintf(stderr, "python_baseline: %s: %s\n", what, dd_error_last()->message);
    return 1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    dd_system_options so;
    dd_replica_options ro;
    dd_system *sys = NULL;
    dd_replica *rep = NULL;
    static char elems[ELEMENTS][8];
    int rc = 1;

    if (dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION) != DD_OK ||
        dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION) != DD_OK)
        return fail("options");
    const char *seeds[] = {"bench"};
    so.node_id = "bench";
    so.seeds = seeds;
    so.seed_count = 1;
    if (dd_system_open(&sys, &so) != DD_OK)
        return fail("dd_system_open");
    if (dd_replica_open(&rep, sys, &ro) != DD_OK) {
        fail("dd_replica_open");
        goto done;
    }

    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = 1;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (dd_replica_update(rep, (const uint8_t *)"hits", 4, DD_PNCOUNTER, &op) != DD_OK) {
            fail("increment");
            goto done;
        }
    }
    printf("counter %.0f\n", (double)n / (now_s() - t0));

    for (int i = 0; i < ELEMENTS; i++)
        snprintf(elems[i], sizeof(elems[i]), "e%d", i);
    dd_op add = DD_OP_INIT;
    add.kind = DD_OP_ADD;
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        const char *e = elems[i % ELEMENTS];
        add.value = (const uint8_t *)e;
        add.value_len = strlen(e);
        if (dd_replica_update(rep, (const uint8_t *)"cart", 4, DD_ORSET, &add) != DD_OK) {
            fail("add");
            goto done;
        }
    }
    printf("orset %.0f\n", (double)n / (now_s() - t0));
    rc = 0;
done:
    dd_replica_close(rep);
    dd_system_close(sys);
    return rc;
}
