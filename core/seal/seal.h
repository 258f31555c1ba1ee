/*
 * Sealing: compress (zlib) then encrypt (AEAD) a blob, bound to its place.
 *
 * A sealer holds a key ring and the compression settings; the stores call
 * seal_blob on every write and seal_open on every read, above the engine,
 * so each engine stores sealed bytes without knowing. The caller's `aad`
 * names where the blob belongs (a SEAL_KIND_*, the pid or key, the
 * sequence number or revision): a blob moved to another place fails to
 * open with ST_ECRYPTO, as does a wrong key or a flipped bit. Opening never
 * writes, so a failure loses nothing.
 *
 * Compression runs only for plaintexts of at least `compress_threshold`
 * bytes and is kept only when it saves space.
 *
 * A sealer made without a key ring is plain: it compresses the same way
 * and writes the plain envelope (seal/plain.h), a CRC-32 over the record
 * and its binding instead of the AEAD, so unsealed stores share this one
 * path and every record is checked on read.
 */
#ifndef DD_SEAL_SEAL_H
#define DD_SEAL_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seal/keyring.h"
#include "util/bytes.h"

/* The first byte of every binding, so an event can never pass for a
 * snapshot or a state record. */
enum { SEAL_KIND_STATE = 1, SEAL_KIND_EVENT = 2, SEAL_KIND_SNAPSHOT = 3 };

typedef struct seal_options {
    int compression_level;     /* 0 = off, 1..9 zlib levels; default 6 */
    size_t compress_threshold; /* bytes; default 256 */
    uint64_t max_plain_bytes;  /* largest blob opened; default 64 MiB */
} seal_options;

static inline seal_options seal_options_default(void)
{
    seal_options o = {6, 256, 64ull << 20};
    return o;
}

typedef struct sealer sealer;

/* Takes its own reference on `ring`; ring NULL makes a plain sealer
 * (checksum and compression, no encryption). opts may be NULL (defaults). */
int sealer_new(sealer **out, keyring *ring, const seal_options *opts);
void sealer_free(sealer *s);
/* true when the sealer encrypts (has a key ring). */
bool sealer_is_sealed(const sealer *s);
/* The largest plaintext the sealer opens (seal_options.max_plain_bytes). */
uint64_t sealer_max_plain(const sealer *s);

/* Appends the envelope of (plain, len) to `out`. */
int seal_blob(sealer *s, const uint8_t *aad, size_t aad_len, const uint8_t *plain, size_t len,
              bytes *out);
/* Appends the plaintext of `blob` to `out`. ST_ECRYPTO: wrong key, unknown
 * key id, tampered or moved; ST_ECORRUPT: not an envelope; ST_ELIMIT: too
 * large. */
int seal_open(sealer *s, const uint8_t *aad, size_t aad_len, const uint8_t *blob, size_t len,
              bytes *out);
/* As seal_open, without a copy where it can: *view points into `blob` (an
 * uncompressed plain record) or into `scratch` (reset first), valid while
 * both live. */
int seal_open_view(sealer *s, const uint8_t *aad, size_t aad_len, const uint8_t *blob, size_t len,
                   bytes *scratch, const uint8_t **view, size_t *view_len);

#endif
