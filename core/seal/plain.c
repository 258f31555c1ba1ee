/*
 * The plain envelope (layout and purpose in plain.h): a CRC-32C
 * (crc32c.h, in hardware where the CPU has it) and optional zlib for
 * unsealed records.
 */
#include "seal/plain.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "seal/crc32c.h"
#include "seal/envelope.h"
#include "util/error.h"
#include "util/status.h"

static uint32_t plain_crc(const uint8_t *header, const uint8_t *binding, size_t binding_len,
                          const uint8_t *body, size_t body_len)
{
    uint32_t crc = crc32c(0, header, 12);
    crc = crc32c(crc, binding, binding_len);
    return crc32c(crc, body, body_len);
}

int plain_wrap(int level, size_t threshold, const uint8_t *binding, size_t binding_len,
               const uint8_t *data, size_t len, bytes *out)
{
    if (len > UINT32_MAX)
        return error_set(ST_ELIMIT, "record of %zu bytes is larger than 4 GiB", len);
    if (binding_len > UINT32_MAX)
        return error_set(ST_ELIMIT, "record binding is too large");
    uint8_t *packed = NULL;
    const uint8_t *body = len ? data : (const uint8_t *)"";
    size_t body_len = len;
    uint8_t flags = 0;
    if (level > 0 && len > 0 && len >= threshold) {
        uLongf bound = compressBound((uLong)len);
        packed = malloc(bound);
        if (!packed)
            return error_oom();
        if (compress2(packed, &bound, data, (uLong)len, level) == Z_OK && bound < len) {
            body = packed;
            body_len = bound;
            flags = PLAIN_FLAG_ZLIB;
        }
    }
    uint8_t header[PLAIN_HEADER_BYTES];
    memcpy(header, PLAIN_MAGIC, 4);
    header[4] = PLAIN_VERSION;
    header[5] = flags;
    header[6] = 0;
    header[7] = 0;
    store_u32le(header + 8, (uint32_t)len);
    store_u32le(header + 12, plain_crc(header, binding, binding_len, body, body_len));
    bytes_put(out, header, sizeof(header));
    bytes_put(out, body, body_len);
    free(packed);
    return out->failed ? error_oom() : ST_OK;
}

int plain_open_view(uint64_t max_plain, const uint8_t *binding, size_t binding_len,
                    const uint8_t *blob, size_t len, bytes *scratch, const uint8_t **view,
                    size_t *view_len)
{
    *view = NULL;
    *view_len = 0;
    if (envelope_looks_sealed(blob, len))
        return error_set(ST_ECRYPTO, "record is sealed; open the store with its key ring");
    if (!blob || len < PLAIN_HEADER_BYTES || memcmp(blob, PLAIN_MAGIC, 4) != 0)
        return error_set(ST_ECORRUPT, "record has no checksum envelope (damaged, or written "
                                      "without one)");
    if (blob[4] != PLAIN_VERSION)
        return error_set(ST_ECORRUPT, "record envelope version %u is unknown", blob[4]);
    if ((blob[5] & ~PLAIN_FLAG_ZLIB) || blob[6] || blob[7])
        return error_set(ST_ECORRUPT, "record envelope has unknown flags");
    uint32_t plain_len = load_u32le(blob + 8);
    if (plain_len > max_plain)
        return error_set(ST_ELIMIT, "record declares %u bytes, the limit is %llu", plain_len,
                         (unsigned long long)max_plain);
    const uint8_t *body = blob + PLAIN_HEADER_BYTES;
    size_t body_len = len - PLAIN_HEADER_BYTES;
    if (plain_crc(blob, binding, binding_len, body, body_len) != load_u32le(blob + 12))
        return error_set(ST_ECORRUPT, "record fails its checksum (damaged, or moved from "
                                      "another record)");
    if (!(blob[5] & PLAIN_FLAG_ZLIB)) {
        if (body_len != plain_len)
            return error_set(ST_ECORRUPT, "record length does not match its header");
        *view = body;
        *view_len = body_len;
        return ST_OK;
    }
    bytes_reset(scratch);
    if (!bytes_reserve(scratch, plain_len ? plain_len : 1))
        return error_oom();
    uLongf got = plain_len;
    if (uncompress(scratch->data, &got, body, (uLong)body_len) != Z_OK || got != plain_len)
        return error_set(ST_ECORRUPT, "record does not inflate to its declared size");
    scratch->len = got;
    *view = scratch->data;
    *view_len = got;
    return ST_OK;
}

int plain_open(uint64_t max_plain, const uint8_t *binding, size_t binding_len, const uint8_t *blob,
               size_t len, bytes *out)
{
    bytes scratch = BYTES_INIT;
    const uint8_t *view;
    size_t view_len;
    int rc =
        plain_open_view(max_plain, binding, binding_len, blob, len, &scratch, &view, &view_len);
    if (rc == ST_OK) {
        bytes_put(out, view, view_len);
        if (out->failed)
            rc = error_oom();
    }
    bytes_free(&scratch);
    return rc;
}
