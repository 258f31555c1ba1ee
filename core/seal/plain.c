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
                          const uint8_t *rest, size_t rest_len)
{
    return crc32c_3(header, 4, binding, binding_len, rest, rest_len);
}

int plain_wrap(int level, size_t threshold, const uint8_t *binding, size_t binding_len,
               const uint8_t *data, size_t len, bytes *out)
{
    if (len > UINT32_MAX)
        return error_set(ST_ELIMIT, "record of %zu bytes is larger than 4 GiB", len);
    size_t start = out->len;
    uint8_t header[PLAIN_HEADER_BYTES] = {'D', 'P', PLAIN_VERSION, 0, 0, 0, 0, 0};
    bytes_put(out, header, sizeof(header));
    int compressed = 0;
    if (level > 0 && len > 0 && len >= threshold) {
        uLongf bound = compressBound((uLong)len);
        if (!bytes_reserve(out, 4 + bound))
            return error_oom();
        uint8_t *at = out->data + out->len;
        store_u32le(at, (uint32_t)len);
        if (compress2(at + 4, &bound, data, (uLong)len, level) == Z_OK && 4 + bound < len) {
            out->len += 4 + bound;
            compressed = 1;
        }
    }
    if (!compressed)
        bytes_put(out, len ? data : (const uint8_t *)"", len);
    if (out->failed)
        return error_oom();
    uint8_t *h = out->data + start;
    h[3] = compressed ? PLAIN_FLAG_ZLIB : 0;
    size_t rest = out->len - start - PLAIN_HEADER_BYTES;
    store_u32le(h + 4, plain_crc(h, binding, binding_len, h + PLAIN_HEADER_BYTES, rest));
    return ST_OK;
}

/* Magic, version and flags: everything but the checksum. */
static inline int plain_check_header(const uint8_t *blob, size_t len)
{
    /* Two byte compares, not memcmp: this runs once per replayed event. */
    if (!blob || len < PLAIN_HEADER_BYTES || blob[0] != PLAIN_MAGIC[0] ||
        blob[1] != PLAIN_MAGIC[1]) {
        if (envelope_looks_sealed(blob, len))
            return error_set(ST_ECRYPTO, "record is sealed; open the store with its key ring");
        return error_set(ST_ECORRUPT, "record has no checksum envelope (damaged, or written "
                                      "without one)");
    }
    if (blob[2] != PLAIN_VERSION)
        return error_set(ST_ECORRUPT, "record envelope version %u is unknown", blob[2]);
    if (blob[3] & ~PLAIN_FLAG_ZLIB)
        return error_set(ST_ECORRUPT, "record envelope has unknown flags 0x%02x", blob[3]);
    return ST_OK;
}

static int plain_checksum_failed(void)
{
    return error_set(ST_ECORRUPT, "record fails its checksum (damaged, or moved from another "
                                  "record)");
}

/* The body of a record whose header and checksum were checked: in place,
 * or inflated into `scratch`. */
static inline int plain_body_view(uint64_t max_plain, const uint8_t *blob, size_t len,
                                  bytes *scratch, const uint8_t **view, size_t *view_len)
{
    const uint8_t *rest = blob + PLAIN_HEADER_BYTES;
    size_t rest_len = len - PLAIN_HEADER_BYTES;
    if (!(blob[3] & PLAIN_FLAG_ZLIB)) {
        if (rest_len > max_plain)
            return error_set(ST_ELIMIT, "record is %zu bytes, the limit is %llu", rest_len,
                             (unsigned long long)max_plain);
        *view = rest;
        *view_len = rest_len;
        return ST_OK;
    }
    if (rest_len < 4)
        return error_set(ST_ECORRUPT, "compressed record is truncated");
    uint32_t plain_len = load_u32le(rest);
    if (plain_len > max_plain)
        return error_set(ST_ELIMIT, "record declares %u bytes, the limit is %llu", plain_len,
                         (unsigned long long)max_plain);
    bytes_reset(scratch);
    if (!bytes_reserve(scratch, plain_len ? plain_len : 1))
        return error_oom();
    uLongf got = plain_len;
    if (uncompress(scratch->data, &got, rest + 4, (uLong)(rest_len - 4)) != Z_OK ||
        got != plain_len)
        return error_set(ST_ECORRUPT, "record does not inflate to its declared size");
    scratch->len = got;
    *view = scratch->data;
    *view_len = got;
    return ST_OK;
}

int plain_open_view(uint64_t max_plain, const uint8_t *binding, size_t binding_len,
                    const uint8_t *blob, size_t len, bytes *scratch, const uint8_t **view,
                    size_t *view_len)
{
    *view = NULL;
    *view_len = 0;
    int rc = plain_check_header(blob, len);
    if (rc != ST_OK)
        return rc;
    if (plain_crc(blob, binding, binding_len, blob + PLAIN_HEADER_BYTES,
                  len - PLAIN_HEADER_BYTES) != load_u32le(blob + 4))
        return plain_checksum_failed();
    return plain_body_view(max_plain, blob, len, scratch, view, view_len);
}

void plain_reader_init(plain_reader *r, uint64_t max_plain, const uint8_t *binding_head,
                       size_t head_len)
{
    r->max_plain = max_plain;
    for (unsigned flags = 0; flags <= PLAIN_FLAG_ZLIB; flags++) {
        uint8_t header[4] = {'D', 'P', PLAIN_VERSION, (uint8_t)flags};
        r->head_crc[flags] = crc32c(crc32c(0, header, 4), binding_head, head_len);
    }
}

int plain_reader_open(const plain_reader *r, const uint8_t *tail, size_t tail_len,
                      const uint8_t *tail2, size_t tail2_len, const uint8_t *blob, size_t len,
                      bytes *scratch, const uint8_t **view, size_t *view_len)
{
    *view = NULL;
    *view_len = 0;
    int rc = plain_check_header(blob, len);
    if (rc != ST_OK)
        return rc;
    uint32_t crc = crc32c_from(r->head_crc[blob[3]], tail, tail_len, tail2, tail2_len,
                               blob + PLAIN_HEADER_BYTES, len - PLAIN_HEADER_BYTES);
    uint32_t stored;
    memcpy(&stored, blob + 4, 4);
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    stored = load_u32le(blob + 4);
#endif
    if (crc != stored)
        return plain_checksum_failed();
    return plain_body_view(r->max_plain, blob, len, scratch, view, view_len);
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
