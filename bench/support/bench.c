/*
 * Benchmark output helpers. See bench.h.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void print_number(double v)
{
    if (v == (double)(int64_t)v && v < 1e15 && v > -1e15)
        printf("%lld", (long long)v);
    else
        printf("%.6g", v);
}

void bench_report(const char *name, const char *unit, double value)
{
    printf("{\"name\":\"%s\",\"unit\":\"%s\",\"value\":", name, unit);
    print_number(value);
    printf("}\n");
    fflush(stdout);
}

void bench_report_vs(const char *name, const char *unit, double value, double baseline,
                     bool higher_is_better)
{
    double ratio = higher_is_better ? value / baseline : baseline / value;
    printf("{\"name\":\"%s\",\"unit\":\"%s\",\"value\":", name, unit);
    print_number(value);
    printf(",\"baseline\":");
    print_number(baseline);
    printf(",\"ratio\":%.3f}\n", ratio);
    fflush(stdout);
}

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_percentile(double *samples, uint64_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(samples, n, sizeof(double), cmp_double);
    uint64_t i = (uint64_t)((p / 100.0) * (double)(n - 1) + 0.5);
    return samples[i < n ? i : n - 1];
}

uint64_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0, resident = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

int bench_remove_dir(const char *dir)
{
    char cmd[4200];
    int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

void bench_peer_run(bench_peer *p, const char *cmd)
{
    p->n = 0;
    FILE *f = popen(cmd, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) && p->n < BENCH_PEER_MAX) {
        const char *name = strstr(line, "\"name\":\"");
        const char *value = strstr(line, "\"value\":");
        if (!name || !value)
            continue;
        name += 8;
        const char *end = strchr(name, '"');
        if (!end || end - name >= 64)
            continue;
        memcpy(p->names[p->n], name, (size_t)(end - name));
        p->names[p->n][end - name] = 0;
        p->values[p->n] = atof(value + 8);
        p->n++;
    }
    if (pclose(f) != 0)
        fprintf(stderr, "bench: peer '%s' failed\n", cmd);
}

double bench_peer_value(const bench_peer *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->values[i];
    return 0;
}

void bench_report_peer(const char *name, const char *unit, double value, double base,
                       bool higher_is_better)
{
    if (base > 0)
        bench_report_vs(name, unit, value, base, higher_is_better);
    else
        bench_report(name, unit, value);
}
