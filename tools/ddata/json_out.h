/*
 * Byte strings as the tools print them in JSON: printable ASCII as a JSON
 * string, anything else as {"$bytes":"<base64>"}, the canonical JSON form
 * of byte strings (docs/json.md). Shared by inspect and export.
 */
#ifndef DD_TOOLS_JSON_OUT_H
#define DD_TOOLS_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void json_put_bytes(FILE *f, const uint8_t *s, size_t len);

/* True when `data` is a sealed envelope (core/seal/envelope.h's magic): a
 * store opened without its key ring hands sealed blobs back as they are. */
int json_is_sealed(const uint8_t *data, size_t len);

#endif
