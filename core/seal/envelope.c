/*
 * Parsing of the sealed envelope (layout in envelope.h). This is the code
 * that sees hostile bytes first, so it only splits and bounds-checks; the
 * AEAD decides whether the parts are genuine.
 */
#include "seal/envelope.h"

#include <string.h>

#include "seal/keyring.h"
#include "util/bytes.h"
#include "util/error.h"
#include "util/status.h"

size_t envelope_nonce_bytes(uint8_t alg)
{
    switch (alg) {
    case SEAL_XCHACHA20POLY1305: return 24;
    case SEAL_AES256GCM: return 12;
    default: return 0;
    }
}

int envelope_looks_sealed(const uint8_t *blob, size_t len)
{
    return blob && len >= 4 && memcmp(blob, ENVELOPE_MAGIC, 4) == 0;
}

int envelope_parse(const uint8_t *blob, size_t len, uint64_t max_plain, envelope *out)
{
    memset(out, 0, sizeof(*out));
    if (!blob || len < ENVELOPE_FIXED_BYTES)
        return error_set(ST_ECORRUPT, "sealed envelope is truncated (%zu bytes)", blob ? len : 0);
    if (memcmp(blob, ENVELOPE_MAGIC, 4) != 0)
        return error_set(ST_ECORRUPT, "not a sealed envelope (bad magic)");
    if (blob[4] != ENVELOPE_VERSION)
        return error_set(ST_ECORRUPT, "sealed envelope version %u is unknown", blob[4]);
    size_t nonce = envelope_nonce_bytes(blob[5]);
    if (!nonce)
        return error_set(ST_ECORRUPT, "sealed envelope algorithm %u is unknown", blob[5]);
    if (blob[6] & ~ENVELOPE_FLAG_ZLIB)
        return error_set(ST_ECORRUPT, "sealed envelope has unknown flags 0x%02x", blob[6]);
    if (blob[7] != 0)
        return error_set(ST_ECORRUPT, "sealed envelope reserved byte is not zero");
    out->alg = blob[5];
    out->flags = blob[6];
    out->key_id = load_u32le(blob + 8);
    out->plain_len = load_u32le(blob + 12);
    if (out->plain_len > max_plain)
        return error_set(ST_ELIMIT, "sealed envelope declares %u bytes, the limit is %llu",
                         out->plain_len, (unsigned long long)max_plain);
    if (len - ENVELOPE_FIXED_BYTES < nonce + ENVELOPE_TAG_BYTES)
        return error_set(ST_ECORRUPT, "sealed envelope is truncated (%zu bytes)", len);
    out->header = blob;
    out->header_len = ENVELOPE_FIXED_BYTES + nonce;
    out->nonce = blob + ENVELOPE_FIXED_BYTES;
    out->nonce_len = nonce;
    out->cipher = blob + out->header_len;
    out->cipher_len = len - out->header_len;
    /* Without compression the ciphertext is exactly plaintext + tag. */
    if (!(out->flags & ENVELOPE_FLAG_ZLIB) &&
        out->cipher_len - ENVELOPE_TAG_BYTES != (size_t)out->plain_len)
        return error_set(ST_ECORRUPT, "sealed envelope length does not match its header");
    return ST_OK;
}
