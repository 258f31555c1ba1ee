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

#endif
