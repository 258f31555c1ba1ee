/*
 * CRDT benchmarks (issue 4): one JSON line per measurement.
 *
 * The ORSet lines use 1e6 distinct 16-byte elements by one actor; the merge
 * line joins two 1e5-element sets that differ in 10% of their elements
 * (5% removed, 5% added concurrently). The Rust `crdts` crate (bench/peers)
 * does the same work in the same run; its figure is the `baseline` of the
 * add, merge and increment lines. bytes_per_element is the growth of the
 * resident set while the 1e6 elements are added, so it runs first.
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

/* The peer's figures, by name; 0 when the peer is not available. */
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

int main(void)
{
    crdt_ctx ctx = {1, 0};
    uint8_t e[16];

    /* ORSet: add (with the resident-set growth), contains, codecs, remove */
    uint64_t rss0 = bench_rss_bytes();
    crdt *set;
    must(crdt_new(&set, CRDT_ORSET), "new");
    double t = bench_now_s();
    for (uint64_t i = 0; i < N_ADD; i++) {
        elem(i, e);
        crdt_op op = add_op(e);
        must(crdt_apply(set, &op, &ctx, NULL), "add");
    }
    double add_s = bench_now_s() - t;
    uint64_t rss1 = bench_rss_bytes();

    /* the same adds, each also producing its delta (what a replicator does) */
    crdt *set2;
    must(crdt_new(&set2, CRDT_ORSET), "new");
    t = bench_now_s();
    for (uint64_t i = 0; i < N_ADD; i++) {
        elem(i, e);
        crdt_op op = add_op(e);
        crdt *d;
        must(crdt_apply(set2, &op, &ctx, &d), "add");
        crdt_free(d);
    }
    double add_delta_s = bench_now_s() - t;
    crdt_free(set2);

    t = bench_now_s();
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
    t = bench_now_s();
    for (uint64_t i = 0; i < N_INC; i++)
        must(crdt_apply(c, &inc, &ctx, NULL), "increment");
    double inc_s = bench_now_s() - t;
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
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        crdt *x;
        must(crdt_clone(&x, a), "clone");
        t = bench_now_s();
        must(crdt_merge(x, b), "merge");
        double ms = (bench_now_s() - t) * 1e3;
        if (crdt_count(x) != N_MERGE)
            must(1, "merge result");
        crdt_free(x);
        if (ms < best)
            best = ms;
    }
    crdt_free(a);
    crdt_free(b);

    run_peer();
    report("crdt.gcounter.increment", "ops/s", N_INC / inc_s, peer_inc, true);
    report("crdt.orset.add", "ops/s", N_ADD / add_s, peer_add, true);
    bench_report("crdt.orset.add_with_delta", "ops/s", N_ADD / add_delta_s);
    bench_report("crdt.orset.contains", "ops/s", N_ADD / contains_s);
    bench_report("crdt.orset.remove", "ops/s", N_ADD / remove_s);
    report("crdt.orset.merge_1e5", "ms", best, peer_merge, false);
    bench_report("crdt.orset.bytes_per_element", "bytes", (double)(rss1 - rss0) / N_ADD);
    bench_report("crdt.codec.encode", "MB/s", (double)enc.len / 1e6 / enc_s);
    bench_report("crdt.codec.decode", "MB/s", (double)enc.len / 1e6 / dec_s);
    bytes_free(&enc);
    return 0;
}
