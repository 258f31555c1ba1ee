/*
 * JSON as the tools print it, built with cJSON: byte strings that are
 * printable ASCII as JSON strings, anything else as {"$bytes":"<base64>"},
 * the canonical JSON form of byte strings (docs/json.md); unsigned 64-bit
 * numbers exactly (cJSON's own numbers are doubles, exact only to 2^53).
 * Objects are built with their keys in byte order, so a line is canonical.
 * Shared by inspect and export.
 */
#ifndef DD_TOOLS_JSON_OUT_H
#define DD_TOOLS_JSON_OUT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ddata.h"

/* New items (NULL when out of memory; cJSON_Add*ToObject takes NULL as a
 * failure and the line is then not printed). */
cJSON *json_bytes_item(const uint8_t *s, size_t len);
cJSON *json_u64_item(uint64_t v);
/* {"ordering","payload","pid","seq","tags","timestamp_ms"} of an event. */
cJSON *json_event_item(const dd_journal_event *ev);

/* Adds `item` to `object` under `name`; 0, or -1 (item deleted) when
 * either is NULL or the add fails. */
int json_add(cJSON *object, const char *name, cJSON *item);
/* {name: item}, or NULL (item deleted) when item is NULL or memory ran out. */
cJSON *json_wrap(const char *name, cJSON *item);
/* `object`, or NULL (object deleted) when `failed`: the end of a build
 * whose json_add results were or-ed into `failed`. */
cJSON *json_checked(cJSON *object, int failed);

/* Prints `item` on one line of `f` and deletes it; 0, or -1 when it was
 * NULL or could not be printed. */
int json_print_line(FILE *f, cJSON *item);

/* Writes a byte string by the rule above (text output of the tools). */
void json_put_bytes(FILE *f, const uint8_t *s, size_t len);

/* True when `data` is a sealed envelope (core/seal/envelope.h's magic): a
 * store opened without its key ring hands sealed blobs back as they are. */
int json_is_sealed(const uint8_t *data, size_t len);

#endif
