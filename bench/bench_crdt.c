/*
 * CRDT benchmarks (issues 4 and 20): one JSON line per measurement.
 *
 * The ORSet lines use 1e6 distinct 16-byte elements by one actor; the merge
 * line joins two 1e5-element sets that differ in 10% of their elements
 * (5% removed, 5% added concurrently by a second actor). Figures are
 * medians of several rounds (add: 3, increment: 5, merge: 11).
 *
 * Two peers do the same work in the same run. Apache Pekko Distributed
 * Data (bench/peers/pekko, bench/pekko_peer.sh) gives the `baseline` of
 * the add, add_with_delta, merge, increment and bytes_per_element lines;
 * its add is `add(...).resetDelta()`, as its Replicator calls it. The Rust
 * `crdts` crate (bench/peers) gives the `.vs_crdts` lines.
 * bytes_per_element is the growth of the resident set while the first 1e6
 * elements are added, so it runs first; it includes the elements, as
 * Pekko's heap-after-GC figure does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "crdt/crdt.h"

#define N_ADD 1000000u
#define N_INC 10000000u
#define N_MERGE 100000u

static void elem(uint64_t i, uint8_t out[16])
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull;
    memcpy(out, &x, 8);
    memcpy(out + 8, &i, 8);
}

static crdt_op add_op(const uint8_t *e)
{
    crdt_op op = {0};
    op.kind = CRDT_OP_ADD;
    op.value = e;
    op.value_len = 16;
    return op;
}

static void must(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "bench_crdt: %s failed (%d)\n", what, rc);
        exit(1);
    }
}

static double median(double *xs, int n)
{
    return bench_percentile(xs, (uint64_t)n, 50);
}

/* The crdts peer's figures, by name; 0 when the peer is not available. */
static double peer_inc, peer_add, peer_merge;

static void run_peer(void)
{
    const char *bin = "bench/peers/target/release/crdt_peer";
    if (access(bin, X_OK) != 0 && system("sh bench/crdt_peer.sh build") != 0) {
        fprintf(stderr, "bench_crdt: the crdts peer could not be built; no baselines\n");
        return;
    }
    FILE *p = popen(bin, "r");
    if (!p)
        return;
    char line[512];
    while (fgets(line, sizeof line, p)) {
        const char *v = strstr(line, "\"value\":");
        if (!v)
            continue;
        double x = atof(v + 8);
        if (strstr(line, "crdt.gcounter.increment"))
            peer_inc = x;
        else if (strstr(line, "crdt.orset.add"))
            peer_add = x;
        else if (strstr(line, "crdt.orset.merge_1e5"))
            peer_merge = x;
    }
    pclose(p);
}

static void report(const char *name, const char *unit, double v, double base, bool higher)
{
    if (base > 0)
        bench_report_vs(name, unit, v, base, higher);
    else
        bench_report(name, unit, v);
}

/* Seconds to add elements 0..N_ADD-1 to set (taking each delta, as a
 * replicator does, when `with_deltas`). */
static double time_adds(crdt *set, const crdt_ctx *ctx, bool with_deltas)
{
    uint8_t e[16];
    double t = bench_now_s();
    for (uint64_t i = 0; i < N_ADD; i++) {
        elem(i, e);
        crdt_op op = add_op(e);
        crdt *d = NULL;
        must(crdt_apply(set, &op, ctx, with_deltas ? &d : NULL), "add");
        if (d)
            crdt_free(d);
    }
    return bench_now_s() - t;
}

int main(void)
{
    crdt_ctx ctx = {1, 0};
    uint8_t e[16];

    /* ORSet: add (with the resident-set growth), contains, codecs, remove */
    uint64_t rss0 = bench_rss_bytes();
    crdt *set;
    must(crdt_new(&set, CRDT_ORSET), "new");
    double add_rate[3];
    add_rate[0] = N_ADD / time_adds(set, &ctx, false);
    uint64_t rss1 = bench_rss_bytes();
    for (int r = 1; r < 3; r++) {
        crdt *again;
        must(crdt_new(&again, CRDT_ORSET), "new");
        add_rate[r] = N_ADD / time_adds(again, &ctx, false);
        crdt_free(again);
    }

    /* the same adds, each also producing its delta (what a replicator does) */
    crdt *set2;
    must(crdt_new(&set2, CRDT_ORSET), "new");
    double add_delta_s = time_adds(set2, &ctx, true);
    crdt_free(set2);

    double t = bench_now_s();
    uint64_t found = 0;
    for (uint64_t i = 0; i < N_ADD; i++) {
        elem((i * 7919) % N_ADD, e);
        bool has;
        must(crdt_contains(set, e, 16, &has), "contains");
        found += has;
    }
    double contains_s = bench_now_s() - t;
    if (found != N_ADD)
        must(1, "contains result");

    bytes enc = BYTES_INIT;
    t = bench_now_s();
    must(crdt_encode(set, &enc), "encode");
    double enc_s = bench_now_s() - t;
    crdt *back;
    t = bench_now_s();
    must(crdt_decode(&back, enc.data, enc.len, NULL, 0), "decode");
    double dec_s = bench_now_s() - t;
    crdt_free(back);

    t = bench_now_s();
    for (uint64_t i = 0; i < N_ADD; i++) {
        elem(i, e);
        crdt_op op = add_op(e);
        op.kind = CRDT_OP_REMOVE;
        must(crdt_apply(set, &op, &ctx, NULL), "remove");
    }
    double remove_s = bench_now_s() - t;
    crdt_free(set);

    /* GCounter */
    crdt *c;
    must(crdt_new(&c, CRDT_GCOUNTER), "new");
    crdt_op inc = {0};
    inc.kind = CRDT_OP_INCREMENT;
    inc.amount = 1;
    double inc_rate[5];
    for (int r = 0; r < 5; r++) {
        t = bench_now_s();
        for (uint64_t i = 0; i < N_INC; i++)
            must(crdt_apply(c, &inc, &ctx, NULL), "increment");
        inc_rate[r] = N_INC / (bench_now_s() - t);
    }
    crdt_free(c);

    /* merge of two 1e5 sets differing in 10% */
    crdt *a, *b;
    must(crdt_new(&a, CRDT_ORSET), "new");
    for (uint64_t i = 0; i < N_MERGE; i++) {
        elem(i, e);
        crdt_op op = add_op(e);
        must(crdt_apply(a, &op, &ctx, NULL), "add");
    }
    must(crdt_clone(&b, a), "clone");
    crdt_ctx ctx2 = {2, 0};
    for (uint64_t i = 0; i < N_MERGE / 20; i++) {
        elem(i, e);
        crdt_op op = add_op(e);
        op.kind = CRDT_OP_REMOVE;
        must(crdt_apply(b, &op, &ctx2, NULL), "remove");
        elem(N_MERGE + i, e);
        op = add_op(e);
        must(crdt_apply(b, &op, &ctx2, NULL), "add");
    }
    double merge_ms[11];
    for (int r = 0; r < 11; r++) {
        crdt *x;
        must(crdt_clone(&x, a), "clone");
        t = bench_now_s();
        must(crdt_merge(x, b), "merge");
        double ms = (bench_now_s() - t) * 1e3;
        if (crdt_count(x) != N_MERGE)
            must(1, "merge result");
        crdt_free(x);
        merge_ms[r] = ms;
    }
    crdt_free(a);
    crdt_free(b);

    double inc_median = median(inc_rate, 5), add = median(add_rate, 3),
           merge = median(merge_ms, 11);
    double bytes = (double)(rss1 - rss0) / N_ADD;
    bench_peer pekko;
    bench_peer_run(&pekko, "sh bench/pekko_peer.sh run crdt");
    double pekko_add = bench_peer_value(&pekko, "crdt.orset.add");
    bench_report_peer("crdt.gcounter.increment", "ops/s", inc_median,
                      bench_peer_value(&pekko, "crdt.gcounter.increment"), true);
    bench_report_peer("crdt.orset.add", "ops/s", add, pekko_add, true);
    bench_report_peer("crdt.orset.add_with_delta", "ops/s", N_ADD / add_delta_s, pekko_add, true);
    bench_report("crdt.orset.contains", "ops/s", N_ADD / contains_s);
    bench_report("crdt.orset.remove", "ops/s", N_ADD / remove_s);
    bench_report_peer("crdt.orset.merge_1e5", "ms", merge,
                      bench_peer_value(&pekko, "crdt.orset.merge_1e5"), false);
    bench_report_peer("crdt.orset.bytes_per_element", "bytes", bytes,
                      bench_peer_value(&pekko, "crdt.orset.bytes_per_element"), false);

    run_peer();
    report("crdt.gcounter.increment.vs_crdts", "ops/s", inc_median, peer_inc, true);
    report("crdt.orset.add.vs_crdts", "ops/s", add, peer_add, true);
    report("crdt.orset.merge_1e5.vs_crdts", "ms", merge, peer_merge, false);
    bench_report("crdt.codec.encode", "MB/s", (double)enc.len / 1e6 / enc_s);
    bench_report("crdt.codec.decode", "MB/s", (double)enc.len / 1e6 / dec_s);
    bytes_free(&enc);
    return 0;
}
