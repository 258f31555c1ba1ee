/*
 * Log records for the host: what an operator needs to know (membership
 * changes, handshake failures, reconnects, NACKs and full-state fallbacks,
 * store errors, slow fsyncs), queued for the host to drain, never printed.
 *
 * A record is one JSON object, made when the thing happens:
 *   {"event":"member.up","fields":{"incarnation":"3","member":"n2"},
 *    "level":"info","time_ms":1733100000000}
 * `event` is a stable dotted name (docs/observability.md lists them),
 * `level` one of debug/info/warn/error, `fields` string keys and string
 * values. JSON because every binding already parses it and a record then
 * needs no struct in the ABI that would have to grow with each new field.
 *
 * The queue is bounded (a host that never drains loses the oldest-first
 * overflow, counted and reported as a "log.dropped" record when it drains
 * again); nothing here takes a lock: the owner's lock covers it.
 */
#ifndef DD_OBS_LOG_QUEUE_H
#define DD_OBS_LOG_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

typedef struct log_field {
    const char *key;   /* a constant, [a-z_]+ */
    const char *value; /* value_len bytes, need not be NUL-terminated */
    size_t value_len;
} log_field;

typedef struct log_queue {
    bytes *items; /* ring of encoded records */
    size_t head, len, cap;
    uint64_t dropped; /* since the last drain reported it */
} log_queue;

#define LOG_QUEUE_CAP 1024u

void log_queue_init(log_queue *q);
void log_queue_free(log_queue *q);
/* Encodes and queues one record; when full, counts it as dropped. */
void log_queue_push(log_queue *q, log_level level, const char *event, uint64_t time_ms,
                    const log_field *fields, size_t field_count);
/* A field from a NUL-terminated string, or from an unsigned number
 * (formatted into `scratch`, which must outlive the push). */
log_field log_field_str(const char *key, const char *value);
log_field log_field_u64(const char *key, uint64_t v, char scratch[24]);
/* Moves the oldest record into *out (replacing its contents); ST_EDONE
 * when empty. A pending drop count comes out first, as "log.dropped". */
int log_queue_pop(log_queue *q, bytes *out, uint64_t now_ms);
size_t log_queue_count(const log_queue *q);

#endif
