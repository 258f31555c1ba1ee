/*
 * The plain envelope: how an unsealed record is stored, so that it too is
 * checked on every read and may be compressed.
 *
 *   offset size
 *    0     2   magic "DP"
 *    2     1   format version (1)
 *    3     1   flags: bit 0 = the body is zlib-compressed
 *    4     4   CRC-32C (Castagnoli, crc32c.h) of bytes 0..3, then the
 *              caller's binding, then everything from offset 8,
 *              little-endian
 *    8     ..  the record; or, compressed, its length before compression
 *              (u32, little-endian) and then the zlib stream
 *
 * Eight bytes on a small event is the whole cost on disk (rows are read
 * and written page by page, so it shows in replay and append speed); the
 * length is only needed, and only stored, when there is something to
 * inflate, so a hostile length is refused before inflating.
 *
 * The binding is the record's identity, the same bytes a sealed record
 * binds into its AEAD (store kind, pid or key, sequence number, timestamp,
 * tags), so a flipped bit anywhere, a record copied to another place or a
 * truncated one fails its checksum: ST_ECORRUPT. A checksum is not a MAC:
 * it finds damage, not an attacker who can rewrite the file (seal for
 * that). The magic differs from the sealed one ("DDSE", envelope.h) in
 * its second byte, so a reader tells the two apart and refuses the one it
 * was not opened for.
 */
#ifndef DD_SEAL_PLAIN_H
#define DD_SEAL_PLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define PLAIN_MAGIC "DP"
#define PLAIN_MAGIC_BYTES 2u
#define PLAIN_VERSION 1u
#define PLAIN_HEADER_BYTES 8u
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

/* Replaying one pid opens thousands of records whose bindings all start
 * with the same bytes (kind and pid, store/binding.h). A reader computes
 * the checksum over header and that shared head once per flags value,
 * and each record continues from there over the rest of its binding (in
 * two pieces, so the caller need not join them) and its body: the same
 * checksum plain_open_view computes, a fraction of the work. */
typedef struct plain_reader {
    uint64_t max_plain;
    uint32_t head_crc[PLAIN_FLAG_ZLIB + 1]; /* by the header's flags byte */
} plain_reader;

void plain_reader_init(plain_reader *r, uint64_t max_plain, const uint8_t *binding_head,
                       size_t head_len);

/* As plain_open_view, with the binding = head (given to the reader) ||
 * tail || tail2. */
int plain_reader_open(const plain_reader *r, const uint8_t *tail, size_t tail_len,
                      const uint8_t *tail2, size_t tail2_len, const uint8_t *blob, size_t len,
                      bytes *scratch, const uint8_t **view, size_t *view_len);

/* As plain_open_view, appending the plaintext to `out`. */
int plain_open(uint64_t max_plain, const uint8_t *binding, size_t binding_len, const uint8_t *blob,
               size_t len, bytes *out);

#endif
