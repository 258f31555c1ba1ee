/*
 * The Prometheus text writer (prom.h). Numbers are printed with %.17g for
 * doubles so a parsed value round-trips, and as integers when they are.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "obs/prom.h"

static const char *type_name(prom_type t)
{
    switch (t) {
    case PROM_COUNTER: return "counter";
    case PROM_GAUGE: return "gauge";
    default: return "histogram";
    }
}

void prom_family(bytes *b, const char *name, prom_type type, const char *help)
{
    bytes_put_str(b, "# HELP ");
    bytes_put_str(b, name);
    bytes_put_u8(b, ' ');
    bytes_put_str(b, help); /* constants without backslashes or newlines */
    bytes_put_str(b, "\n# TYPE ");
    bytes_put_str(b, name);
    bytes_put_u8(b, ' ');
    bytes_put_str(b, type_name(type));
    bytes_put_u8(b, '\n');
}

static void put_escaped(bytes *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\')
            bytes_put_str(b, "\\\\");
        else if (c == '"')
            bytes_put_str(b, "\\\"");
        else if (c == '\n')
            bytes_put_str(b, "\\n");
        else
            bytes_put_u8(b, (uint8_t)c);
    }
}

static void put_head(bytes *b, const char *name, const char *label, const char *value,
                     size_t value_len)
{
    bytes_put_str(b, name);
    if (label) {
        bytes_put_u8(b, '{');
        bytes_put_str(b, label);
        bytes_put_str(b, "=\"");
        put_escaped(b, value, value_len);
        bytes_put_str(b, "\"}");
    }
    bytes_put_u8(b, ' ');
}

void prom_sample_u64(bytes *b, const char *name, const char *label, const char *value, uint64_t v)
{
    char num[24];
    put_head(b, name, label, value, value ? strlen(value) : 0);
    int n = snprintf(num, sizeof(num), "%llu\n", (unsigned long long)v);
    bytes_put(b, num, (size_t)n);
}

void prom_sample2_u64(bytes *b, const char *name, const char *l1, const char *v1, size_t v1_len,
                      const char *l2, const char *v2, uint64_t v)
{
    char num[24];
    bytes_put_str(b, name);
    bytes_put_u8(b, '{');
    bytes_put_str(b, l1);
    bytes_put_str(b, "=\"");
    put_escaped(b, v1, v1_len);
    bytes_put_str(b, "\",");
    bytes_put_str(b, l2);
    bytes_put_str(b, "=\"");
    put_escaped(b, v2, strlen(v2));
    bytes_put_str(b, "\"} ");
    int n = snprintf(num, sizeof(num), "%llu\n", (unsigned long long)v);
    bytes_put(b, num, (size_t)n);
}

void prom_sample_double_n(bytes *b, const char *name, const char *label, const char *value,
                          size_t value_len, double v)
{
    char num[40];
    put_head(b, name, label, value, value_len);
    int n;
    if (isinf(v))
        n = snprintf(num, sizeof(num), "%s\n", v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
        n = snprintf(num, sizeof(num), "NaN\n");
    else
        n = snprintf(num, sizeof(num), "%.17g\n", v);
    bytes_put(b, num, (size_t)n);
}

void prom_sample_double(bytes *b, const char *name, const char *label, const char *value, double v)
{
    prom_sample_double_n(b, name, label, value, value ? strlen(value) : 0, v);
}

void prom_counter(bytes *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, PROM_COUNTER, help);
    prom_sample_u64(b, name, NULL, NULL, v);
}

void prom_gauge(bytes *b, const char *name, const char *help, double v)
{
    prom_family(b, name, PROM_GAUGE, help);
    prom_sample_double(b, name, NULL, NULL, v);
}
