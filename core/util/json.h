/*
 * Canonical JSON output.
 *
 * ddata's JSON is canonical: one text per value (object keys sorted
 * bytewise, no insignificant white space, integers in decimal, strings with
 * the minimal escapes). Two equal values always print the same bytes, which
 * is what lets the conformance vectors compare output as strings.
 *
 * Byte strings that are valid UTF-8 without NUL print as JSON strings; any
 * other byte string prints as {"$bytes":"<base64>"} so nothing is lost or mangled.
 * Parsing uses libcjson; see json_read_bytes for the inverse of the rule.
 */
#ifndef DD_UTIL_JSON_H
#define DD_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

bool utf8_valid(const uint8_t *s, size_t len);

/* Writes a JSON string literal; `s` must be valid UTF-8. */
void json_put_string(bytes *out, const uint8_t *s, size_t len);
/* A byte string by the rule above. */
void json_put_bytes(bytes *out, const uint8_t *s, size_t len);
void json_put_u64(bytes *out, uint64_t v);
void json_put_i64(bytes *out, int64_t v);

/* Standard base64 with padding (libsodium's, VARIANT_ORIGINAL). out needs
 * base64_encoded_len(len) + 1 bytes: a NUL follows the text. */
size_t base64_encoded_len(size_t len);
void base64_encode(const uint8_t *in, size_t len, char *out);
/* Returns false on any character outside the alphabet or bad padding. */
bool base64_decode(const char *in, size_t len, bytes *out);

struct cJSON;
/* Inverse of json_put_bytes: a JSON string or {"$bytes": base64}. */
bool json_read_bytes(const struct cJSON *item, bytes *out);

#endif
