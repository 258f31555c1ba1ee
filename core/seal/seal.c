/*
 * Sealing and opening of blobs: zlib, then XChaCha20-Poly1305 or
 * AES-256-GCM from libsodium, inside the envelope of envelope.h.
 *
 * Nonces are random per blob (24 bytes for XChaCha20, where random nonces
 * are safe for any number of messages; 12 for AES-GCM, safe for far more
 * blobs than one key should seal before rotation).
 */
#include "seal/seal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "seal/envelope.h"
#include "seal/plain.h"
#include "util/error.h"
#include "util/status.h"

struct sealer {
    keyring *ring; /* NULL: plain (seal/plain.h) */
    seal_options opts;
};

int sealer_new(sealer **out, keyring *ring, const seal_options *opts)
{
    if (!out)
        return error_set(ST_EINVAL, "sealer: out must not be NULL");
    seal_options o = opts ? *opts : seal_options_default();
    if (o.compression_level < 0 || o.compression_level > 9)
        return error_set(ST_EINVAL, "compression level %d is not in 0..9", o.compression_level);
    if (!o.max_plain_bytes || o.max_plain_bytes > UINT32_MAX)
        o.max_plain_bytes = UINT32_MAX;
    sealer *s = calloc(1, sizeof(*s));
    if (!s)
        return error_oom();
    s->ring = ring ? keyring_retain(ring) : NULL;
    s->opts = o;
    *out = s;
    return ST_OK;
}

bool sealer_is_sealed(const sealer *s)
{
    return s && s->ring;
}

uint64_t sealer_max_plain(const sealer *s)
{
    return s->opts.max_plain_bytes;
}

void sealer_free(sealer *s)
{
    if (!s)
        return;
    if (s->ring)
        keyring_release(s->ring);
    free(s);
}

/* One of libsodium's AEADs: every combined-mode construction has these two
 * signatures, so a pair of pointers is all that differs between them. */
typedef struct aead_impl {
    int (*encrypt)(unsigned char *c, unsigned long long *clen, const unsigned char *m,
                   unsigned long long mlen, const unsigned char *ad, unsigned long long adlen,
                   const unsigned char *nsec, const unsigned char *npub, const unsigned char *k);
    int (*decrypt)(unsigned char *m, unsigned long long *mlen, unsigned char *nsec,
                   const unsigned char *c, unsigned long long clen, const unsigned char *ad,
                   unsigned long long adlen, const unsigned char *npub, const unsigned char *k);
} aead_impl;

/* AES-256-GCM when asked for, XChaCha20-Poly1305 (the default) otherwise. */
static const aead_impl *aead_for(seal_alg alg)
{
    static const aead_impl aes256gcm = {crypto_aead_aes256gcm_encrypt,
                                        crypto_aead_aes256gcm_decrypt};
    static const aead_impl xchacha20poly1305 = {crypto_aead_xchacha20poly1305_ietf_encrypt,
                                                crypto_aead_xchacha20poly1305_ietf_decrypt};
    return alg == SEAL_AES256GCM ? &aes256gcm : &xchacha20poly1305;
}

int seal_blob(sealer *s, const uint8_t *aad, size_t aad_len, const uint8_t *plain, size_t len,
              bytes *out)
{
    if (len > UINT32_MAX || len > s->opts.max_plain_bytes)
        return error_set(ST_ELIMIT, "blob of %zu bytes is larger than the sealing limit %llu", len,
                         (unsigned long long)s->opts.max_plain_bytes);
    if (!s->ring)
        return plain_wrap(s->opts.compression_level, s->opts.compress_threshold, aad, aad_len,
                          plain, len, out);
    uint32_t key_id;
    const uint8_t *key;
    seal_alg alg;
    int rc = keyring_active(s->ring, &key_id, &key, &alg);
    if (rc != ST_OK)
        return rc;
    uint8_t *packed = NULL;
    const uint8_t *body = plain ? plain : (const uint8_t *)"";
    size_t body_len = len;
    uint8_t flags = 0;
    if (s->opts.compression_level > 0 && len >= s->opts.compress_threshold && len > 0) {
        uLongf bound = compressBound((uLong)len);
        packed = malloc(bound);
        if (!packed)
            return error_oom();
        if (compress2(packed, &bound, plain, (uLong)len, s->opts.compression_level) == Z_OK &&
            bound < len) {
            body = packed;
            body_len = bound;
            flags = ENVELOPE_FLAG_ZLIB;
        }
    }
    size_t nonce_len = envelope_nonce_bytes((uint8_t)alg);
    uint8_t header[ENVELOPE_FIXED_BYTES + 24];
    memcpy(header, ENVELOPE_MAGIC, 4);
    header[4] = ENVELOPE_VERSION;
    header[5] = (uint8_t)alg;
    header[6] = flags;
    header[7] = 0;
    store_u32le(header + 8, key_id);
    store_u32le(header + 12, (uint32_t)len);
    randombytes_buf(header + ENVELOPE_FIXED_BYTES, nonce_len);
    size_t header_len = ENVELOPE_FIXED_BYTES + nonce_len;

    bytes ad = BYTES_INIT;
    bytes_put(&ad, header, header_len);
    bytes_put(&ad, aad, aad_len);
    size_t start = out->len;
    bytes_put(out, header, header_len);
    if (ad.failed || !bytes_reserve(out, body_len + ENVELOPE_TAG_BYTES)) {
        rc = error_oom();
        goto done;
    }
    unsigned long long cipher_len;
    aead_for(alg)->encrypt(out->data + out->len, &cipher_len, body, body_len, ad.data, ad.len, NULL,
                           header + ENVELOPE_FIXED_BYTES, key);
    out->len += body_len + ENVELOPE_TAG_BYTES;
    (void)start;
done:
    bytes_free(&ad);
    free(packed);
    return rc;
}

int seal_open(sealer *s, const uint8_t *aad, size_t aad_len, const uint8_t *blob, size_t len,
              bytes *out)
{
    if (!s->ring)
        return plain_open(s->opts.max_plain_bytes, aad, aad_len, blob, len, out);
    if (len >= PLAIN_MAGIC_BYTES && memcmp(blob, PLAIN_MAGIC, PLAIN_MAGIC_BYTES) == 0)
        return error_set(ST_ECRYPTO, "record is not sealed but the store was opened with a key "
                                     "ring (written unsealed?)");
    envelope env;
    int rc = envelope_parse(blob, len, s->opts.max_plain_bytes, &env);
    if (rc != ST_OK)
        return rc;
    const uint8_t *key;
    if (keyring_lookup(s->ring, env.key_id, &key) != ST_OK)
        return error_set(ST_ECRYPTO, "sealed with key id %u, which is not in the key ring",
                         env.key_id);
    if (!seal_alg_available((seal_alg)env.alg))
        return error_set(ST_EUNSUPPORTED, "sealed with aes-256-gcm, which this cpu lacks");
    size_t body_len = env.cipher_len - ENVELOPE_TAG_BYTES;
    uint8_t *body = malloc(body_len ? body_len : 1);
    bytes ad = BYTES_INIT;
    if (!body) {
        rc = error_oom();
        goto done;
    }
    bytes_put(&ad, env.header, env.header_len);
    bytes_put(&ad, aad, aad_len);
    if (ad.failed) {
        rc = error_oom();
        goto done;
    }
    const aead_impl *aead = aead_for((seal_alg)env.alg);
    unsigned long long opened_len;
    if (aead->decrypt(body, &opened_len, NULL, env.cipher, env.cipher_len, ad.data, ad.len,
                      env.nonce, key) != 0) {
        rc = error_set(ST_ECRYPTO, "sealed blob failed authentication (wrong key, tampered "
                                   "bytes, or moved from another record)");
        goto done;
    }
    if (!(env.flags & ENVELOPE_FLAG_ZLIB)) {
        bytes_put(out, body, body_len);
    } else {
        if (!bytes_reserve(out, env.plain_len ? env.plain_len : 1)) {
            rc = error_oom();
            goto done;
        }
        uLongf got = env.plain_len;
        if (uncompress(out->data + out->len, &got, body, (uLong)body_len) != Z_OK ||
            got != env.plain_len) {
            rc = error_set(ST_ECORRUPT, "sealed blob does not inflate to its declared size");
            goto done;
        }
        out->len += got;
    }
    if (out->failed)
        rc = error_oom();
done:
    if (body) {
        sodium_memzero(body, body_len);
        free(body);
    }
    bytes_free(&ad);
    return rc;
}

int seal_open_view(sealer *s, const uint8_t *aad, size_t aad_len, const uint8_t *blob, size_t len,
                   bytes *scratch, const uint8_t **view, size_t *view_len)
{
    if (!s->ring)
        return plain_open_view(s->opts.max_plain_bytes, aad, aad_len, blob, len, scratch, view,
                               view_len);
    bytes_reset(scratch);
    int rc = seal_open(s, aad, aad_len, blob, len, scratch);
    *view = rc == ST_OK ? (scratch->data ? scratch->data : (const uint8_t *)"") : NULL;
    *view_len = rc == ST_OK ? scratch->len : 0;
    return rc;
}
