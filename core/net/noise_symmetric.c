/*
 * Noise SymmetricState (spec §5.2) with the BLAKE2b hash functions
 * (§12.8: HASHLEN 64, BLOCKLEN 128). HMAC is RFC 2104 over unkeyed BLAKE2b
 * and HKDF is the spec's own two- and three-output form (§4.3), not RFC
 * 5869's: the spec defines it directly on HMAC, so it is written out here.
 */
#include <sodium.h>
#include <string.h>

#include "net/noise.h"

static void hmac_blake2b(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
                         const uint8_t *b, size_t b_len, uint8_t out[NOISE_HASHLEN])
{
    uint8_t pad[NOISE_BLOCKLEN], inner[NOISE_HASHLEN];
    crypto_generichash_blake2b_state st;
    /* Keys here are at most HASHLEN bytes, below BLOCKLEN: no pre-hash. */
    memset(pad, 0x36, sizeof(pad));
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
    crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
    if (a_len)
        crypto_generichash_blake2b_update(&st, a, a_len);
    if (b_len)
        crypto_generichash_blake2b_update(&st, b, b_len);
    crypto_generichash_blake2b_final(&st, inner, NOISE_HASHLEN);
    memset(pad, 0x5c, sizeof(pad));
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
    crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
    crypto_generichash_blake2b_update(&st, inner, sizeof(inner));
    crypto_generichash_blake2b_final(&st, out, NOISE_HASHLEN);
    sodium_memzero(pad, sizeof(pad));
    sodium_memzero(inner, sizeof(inner));
}

/* HKDF(chaining_key, ikm, 2 or 3): out3 may be NULL. */
static void hkdf(const uint8_t ck[NOISE_HASHLEN], const uint8_t *ikm, size_t ikm_len,
                 uint8_t out1[NOISE_HASHLEN], uint8_t out2[NOISE_HASHLEN],
                 uint8_t out3[NOISE_HASHLEN])
{
    uint8_t temp[NOISE_HASHLEN];
    const uint8_t one = 0x01, two = 0x02, three = 0x03;
    hmac_blake2b(ck, NOISE_HASHLEN, ikm, ikm_len, NULL, 0, temp);
    hmac_blake2b(temp, NOISE_HASHLEN, &one, 1, NULL, 0, out1);
    hmac_blake2b(temp, NOISE_HASHLEN, out1, NOISE_HASHLEN, &two, 1, out2);
    if (out3)
        hmac_blake2b(temp, NOISE_HASHLEN, out2, NOISE_HASHLEN, &three, 1, out3);
    sodium_memzero(temp, sizeof(temp));
}

void noise_symmetric_init(noise_symmetric *s, const char *protocol_name)
{
    size_t len = strlen(protocol_name);
    if (len <= NOISE_HASHLEN) {
        memset(s->h, 0, NOISE_HASHLEN);
        memcpy(s->h, protocol_name, len);
    } else {
        crypto_generichash_blake2b(s->h, NOISE_HASHLEN, (const uint8_t *)protocol_name, len, NULL,
                                   0);
    }
    memcpy(s->ck, s->h, NOISE_HASHLEN);
    noise_cipher_init(&s->cipher, NULL);
}

void noise_symmetric_mix_key(noise_symmetric *s, const uint8_t *ikm, size_t len)
{
    uint8_t temp_k[NOISE_HASHLEN];
    hkdf(s->ck, ikm, len, s->ck, temp_k, NULL);
    /* HASHLEN 64 > 32: temp_k is truncated to the key size. */
    noise_cipher_init(&s->cipher, temp_k);
    sodium_memzero(temp_k, sizeof(temp_k));
}

void noise_symmetric_mix_hash(noise_symmetric *s, const uint8_t *data, size_t len)
{
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
    crypto_generichash_blake2b_update(&st, s->h, NOISE_HASHLEN);
    if (len)
        crypto_generichash_blake2b_update(&st, data, len);
    crypto_generichash_blake2b_final(&st, s->h, NOISE_HASHLEN);
}

void noise_symmetric_mix_key_and_hash(noise_symmetric *s, const uint8_t *ikm, size_t len)
{
    uint8_t temp_h[NOISE_HASHLEN], temp_k[NOISE_HASHLEN];
    hkdf(s->ck, ikm, len, s->ck, temp_h, temp_k);
    noise_symmetric_mix_hash(s, temp_h, NOISE_HASHLEN);
    noise_cipher_init(&s->cipher, temp_k);
    sodium_memzero(temp_h, sizeof(temp_h));
    sodium_memzero(temp_k, sizeof(temp_k));
}

int noise_symmetric_encrypt_and_hash(noise_symmetric *s, const uint8_t *plain, size_t len,
                                     uint8_t *out, size_t *out_len)
{
    int rc = noise_cipher_encrypt(&s->cipher, s->h, NOISE_HASHLEN, plain, len, out, out_len);
    if (rc == 0)
        noise_symmetric_mix_hash(s, out, *out_len);
    return rc;
}

int noise_symmetric_decrypt_and_hash(noise_symmetric *s, const uint8_t *cipher, size_t len,
                                     uint8_t *out, size_t *out_len)
{
    /* h must absorb the ciphertext, which in-place decryption overwrites. */
    uint8_t h_next[NOISE_HASHLEN];
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
    crypto_generichash_blake2b_update(&st, s->h, NOISE_HASHLEN);
    if (len)
        crypto_generichash_blake2b_update(&st, cipher, len);
    crypto_generichash_blake2b_final(&st, h_next, NOISE_HASHLEN);
    int rc = noise_cipher_decrypt(&s->cipher, s->h, NOISE_HASHLEN, cipher, len, out, out_len);
    if (rc == 0)
        memcpy(s->h, h_next, NOISE_HASHLEN);
    return rc;
}

void noise_symmetric_split(noise_symmetric *s, noise_cipher *c1, noise_cipher *c2)
{
    uint8_t k1[NOISE_HASHLEN], k2[NOISE_HASHLEN];
    hkdf(s->ck, NULL, 0, k1, k2, NULL);
    noise_cipher_init(c1, k1);
    noise_cipher_init(c2, k2);
    sodium_memzero(k1, sizeof(k1));
    sodium_memzero(k2, sizeof(k2));
}

void noise_symmetric_wipe(noise_symmetric *s)
{
    sodium_memzero(s, sizeof(*s));
}
