/*
 * The sealed envelope: the bytes a sealed blob is stored as.
 *
 *   offset size
 *    0     4   magic "DDSE"
 *    4     1   format version (1)
 *    5     1   algorithm (seal_alg)
 *    6     1   flags: bit 0 = the plaintext was zlib-compressed
 *    7     1   reserved, 0
 *    8     4   key id, little-endian
 *   12     4   plaintext length (before compression), little-endian
 *   16     n   nonce (24 bytes XChaCha20-Poly1305, 12 AES-256-GCM)
 *   16+n   ..  ciphertext, then the 16-byte tag
 *
 * The whole header (magic to nonce) is part of the AEAD's associated data,
 * followed by the caller's binding (store kind, pid or key, sequence
 * number), so neither the header nor the blob's place can be changed
 * without failing authentication. The plaintext length lets the reader
 * refuse an oversized blob before inflating anything.
 */
#ifndef DD_SEAL_ENVELOPE_H
#define DD_SEAL_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_MAGIC "DDSE"
#define ENVELOPE_VERSION 1u
#define ENVELOPE_FIXED_BYTES 16u
#define ENVELOPE_TAG_BYTES 16u
#define ENVELOPE_FLAG_ZLIB 1u

typedef struct envelope {
    uint8_t alg;
    uint8_t flags;
    uint32_t key_id;
    uint32_t plain_len;
    const uint8_t *header; /* fixed part + nonce: the AEAD's first AAD */
    size_t header_len;
    const uint8_t *nonce;
    size_t nonce_len;
    const uint8_t *cipher; /* ciphertext || tag */
    size_t cipher_len;
} envelope;

/* Nonce size of an algorithm, 0 when unknown. */
size_t envelope_nonce_bytes(uint8_t alg);

/* Splits `blob` into its parts without decrypting. ST_ECORRUPT (message
 * set) on a wrong magic, an unknown version, algorithm or flag, or a blob
 * too short; ST_ELIMIT when the declared plaintext exceeds max_plain. */
int envelope_parse(const uint8_t *blob, size_t len, uint64_t max_plain, envelope *out);

/* 1 when blob starts with the magic (it may still be malformed). */
int envelope_looks_sealed(const uint8_t *blob, size_t len);

#endif
