/*
 * Benchmark output: one JSON object per line, as `make bench` promises.
 *
 *   {"name":"crdt.orset.add","unit":"ops/s","value":6100000}
 *   {"name":"...","unit":"...","value":...,"baseline":...,"ratio":...}
 *
 * `ratio` is always "how many times better ddata is": value / baseline for
 * higher-is-better units, baseline / value for lower-is-better ones.
 */
#ifndef DD_BENCH_H
#define DD_BENCH_H

#include <stdbool.h>
#include <stdint.h>

void bench_report(const char *name, const char *unit, double value);
/* higher_is_better decides which way the ratio is taken. */
void bench_report_vs(const char *name, const char *unit, double value, double baseline,
                     bool higher_is_better);
double bench_now_s(void);
/* Percentile p (0..100) of n samples; sorts the array. */
double bench_percentile(double *samples, uint64_t n, double p);
/* The process's resident set size in bytes (from /proc/self/statm). */
uint64_t bench_rss_bytes(void);

/* Removes the directory `dir` a benchmark made (mkdtemp) and everything in
 * it; 0 when that worked. */
int bench_remove_dir(const char *dir);

/* A peer's figures: the JSON lines another program printed, by name. */
#define BENCH_PEER_MAX 32
typedef struct bench_peer {
    char names[BENCH_PEER_MAX][64];
    double values[BENCH_PEER_MAX];
    int n;
} bench_peer;

/* Runs the shell command `cmd` and keeps the lines it prints; a peer that
 * cannot run leaves `p` empty (its stderr says why). */
void bench_peer_run(bench_peer *p, const char *cmd);
/* The value of the line named exactly `name`; 0 when there is none. */
double bench_peer_value(const bench_peer *p, const char *name);
/* bench_report_vs when the peer measured `base`, bench_report otherwise. */
void bench_report_peer(const char *name, const char *unit, double value, double base,
                       bool higher_is_better);

#endif
