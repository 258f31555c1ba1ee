/*
 * A writer for the Prometheus text exposition format (version 0.0.4): the
 * one format every scraper, prometheus_client's parser and promtool read.
 *
 * Shaped as a few calls on a byte buffer rather than a registry of metric
 * objects: the numbers already live in the engine, the transport and the
 * store histograms, so a scrape reads them once, under the locks their
 * owners already take, and writes text. Nothing is kept between scrapes.
 *
 * Each family is opened once with prom_family (HELP and TYPE lines), then
 * its samples follow. Label values are escaped (backslash, quote,
 * newline); names are the caller's constants and must already be valid.
 */
#ifndef DD_OBS_PROM_H
#define DD_OBS_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

typedef enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM } prom_type;

/* "# HELP name help\n# TYPE name type\n". */
void prom_family(bytes *b, const char *name, prom_type type, const char *help);
/* A sample with at most one label (label NULL: none). */
void prom_sample_u64(bytes *b, const char *name, const char *label, const char *value, uint64_t v);
void prom_sample_double(bytes *b, const char *name, const char *label, const char *value, double v);
/* A label value of `len` bytes (not NUL-terminated), escaped. */
void prom_sample_double_n(bytes *b, const char *name, const char *label, const char *value,
                          size_t value_len, double v);
/* A sample with two labels, the first value `v1_len` bytes. */
void prom_sample2_u64(bytes *b, const char *name, const char *l1, const char *v1, size_t v1_len,
                      const char *l2, const char *v2, uint64_t v);
/* family + one unlabelled sample, the common case. */
void prom_counter(bytes *b, const char *name, const char *help, uint64_t v);
void prom_gauge(bytes *b, const char *name, const char *help, double v);

#endif
