/*
 * The plain envelope: how an unsealed record is stored, so that it too is
 * checked on every read and may be compressed.
 *
 *   offset size
 *    0     4   magic "DDPE"
 *    4     1   format version (1)
 *    5     1   flags: bit 0 = the body is zlib-compressed
 *    6     2   reserved, 0
 *    8     4   plaintext length (before compression), little-endian
 *   12     4   CRC-32C (Castagnoli, crc32c.h) of bytes 0..11, then the
 *              caller's binding, then the body, little-endian
 *   16     ..  body
 *
 * The binding is the record's identity, the same bytes a sealed record
 * binds into its AEAD (store kind, pid or key, sequence number, timestamp,
 * tags), so a flipped bit anywhere, a record copied to another place or a
 * truncated one fails its checksum: ST_ECORRUPT. A checksum is not a MAC:
 * it finds damage, not an attacker who can rewrite the file (seal for
 * that). The header is shaped like the sealed one ("DDSE", envelope.h), so
 * a reader tells the two apart by the magic and refuses the one it was not
 * opened for.
 */
#ifndef DD_SEAL_PLAIN_H
#define DD_SEAL_PLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define PLAIN_MAGIC "DDPE"
#define PLAIN_VERSION 1u
#define PLAIN_HEADER_BYTES 16u
#define PLAIN_FLAG_ZLIB 1u

/* Appends the envelope of (data, len) to `out`: compressed with zlib at
 * `level` (0 = never) when len >= threshold and it saves space. */
int plain_wrap(int level, size_t threshold, const uint8_t *binding, size_t binding_len,
               const uint8_t *data, size_t len, bytes *out);

/* Checks `blob` against `binding`. An uncompressed body is not copied:
 * *view points into blob; a compressed one is inflated into `scratch`
 * (reset first) and *view points there. ST_ECORRUPT (message set) on a
 * bad magic, version, flag, length or checksum; ST_ECRYPTO when the blob
 * is sealed (the store needs its key ring); ST_ELIMIT when the declared
 * plaintext exceeds max_plain. */
int plain_open_view(uint64_t max_plain, const uint8_t *binding, size_t binding_len,
                    const uint8_t *blob, size_t len, bytes *scratch, const uint8_t **view,
                    size_t *view_len);

/* As plain_open_view, appending the plaintext to `out`. */
int plain_open(uint64_t max_plain, const uint8_t *binding, size_t binding_len, const uint8_t *blob,
               size_t len, bytes *out);

#endif
