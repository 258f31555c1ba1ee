/*
 * The log-record queue (log_queue.h): a ring of encoded records, grown to
 * LOG_QUEUE_CAP and no further.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/log_queue.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/status.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_queue_init(log_queue *q)
{
    memset(q, 0, sizeof(*q));
}

void log_queue_free(log_queue *q)
{
    for (size_t i = 0; i < q->len; i++)
        bytes_free(&q->items[(q->head + i) % q->cap]);
    free(q->items);
    memset(q, 0, sizeof(*q));
}

log_field log_field_str(const char *key, const char *value)
{
    log_field f = {key, value, value ? strlen(value) : 0};
    return f;
}

log_field log_field_u64(const char *key, uint64_t v, char scratch[24])
{
    int n = snprintf(scratch, 24, "%llu", (unsigned long long)v);
    log_field f = {key, scratch, (size_t)n};
    return f;
}

static void encode(bytes *b, log_level level, const char *event, uint64_t time_ms,
                   const log_field *fields, size_t n)
{
    /* Keys in sorted order (canonical JSON): event, fields, level, time_ms;
     * the fields as the caller lists them, which is sorted by convention. */
    bytes_put_str(b, "{\"event\":");
    json_put_string(b, (const uint8_t *)event, strlen(event));
    bytes_put_str(b, ",\"fields\":{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            bytes_put_u8(b, ',');
        json_put_string(b, (const uint8_t *)fields[i].key, strlen(fields[i].key));
        bytes_put_u8(b, ':');
        json_put_string(b, (const uint8_t *)fields[i].value, fields[i].value_len);
    }
    bytes_put_str(b, "},\"level\":");
    json_put_string(b, (const uint8_t *)level_names[level], strlen(level_names[level]));
    bytes_put_str(b, ",\"time_ms\":");
    json_put_u64(b, time_ms);
    bytes_put_u8(b, '}');
}

void log_queue_push(log_queue *q, log_level level, const char *event, uint64_t time_ms,
                    const log_field *fields, size_t field_count)
{
    if (q->len == LOG_QUEUE_CAP) {
        q->dropped++;
        return;
    }
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        if (cap > LOG_QUEUE_CAP)
            cap = LOG_QUEUE_CAP;
        bytes *items = alloc_array(cap, sizeof(bytes));
        if (!items) {
            q->dropped++;
            return;
        }
        for (size_t i = 0; i < q->len; i++)
            items[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = items;
        q->cap = cap;
        q->head = 0;
    }
    bytes b = BYTES_INIT;
    encode(&b, level, event, time_ms, fields, field_count);
    if (b.failed) {
        bytes_free(&b);
        q->dropped++;
        return;
    }
    q->items[(q->head + q->len) % q->cap] = b;
    q->len++;
}

int log_queue_pop(log_queue *q, bytes *out, uint64_t now_ms)
{
    bytes_free(out);
    if (q->dropped) {
        char num[24];
        log_field f = log_field_u64("count", q->dropped, num);
        encode(out, LOG_WARN, "log.dropped", now_ms, &f, 1);
        q->dropped = 0;
        return out->failed ? ST_ENOMEM : ST_OK;
    }
    if (!q->len)
        return ST_EDONE;
    *out = q->items[ring_take_oldest(&q->head, &q->len, q->cap)];
    return ST_OK;
}

size_t log_queue_count(const log_queue *q)
{
    return q->len + (q->dropped ? 1 : 0);
}
