/*
 * Noise CipherState (spec §5.1) with the ChaChaPoly cipher functions
 * (§12.3): ChaCha20-Poly1305 as in RFC 8439, whose 96-bit nonce is 32 zero
 * bits followed by the little-endian 64-bit counter n. That is exactly
 * libsodium's crypto_aead_chacha20poly1305_ietf.
 */
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "net/noise.h"
#include "util/bytes.h"
#include "util/error.h"
#include "util/status.h"

static void nonce_bytes(uint64_t n, uint8_t nonce[12])
{
    memset(nonce, 0, 4);
    store_u64le(nonce + 4, n);
}

void noise_cipher_init(noise_cipher *c, const uint8_t *key)
{
    c->has_key = key != NULL;
    if (key)
        memcpy(c->k, key, NOISE_KEYLEN);
    else
        memset(c->k, 0, NOISE_KEYLEN);
    c->n = 0;
}

/* EncryptWithAd or DecryptWithAd (§5.1): one message through the cipher.
 * Both directions share the keyless copy, the nonce and its exhaustion. */
static int cipher_with_ad(noise_cipher *c, bool encrypt, const uint8_t *ad, size_t ad_len,
                          const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
    if (!c->has_key) { /* without a key both return their input as it is */
        if (len && out != in)
            memmove(out, in, len);
        *out_len = len;
        return ST_OK;
    }
    if (c->n == UINT64_MAX)
        return error_set(ST_ELIMIT, "noise: cipher nonce exhausted (rekey or reconnect)");
    uint8_t nonce[12];
    nonce_bytes(c->n, nonce);
    unsigned long long written = 0;
    if (encrypt) {
        crypto_aead_chacha20poly1305_ietf_encrypt(out, &written, in, len, ad, ad_len, NULL, nonce,
                                                  c->k);
    } else {
        if (len < NOISE_TAGLEN)
            return error_set(ST_ECRYPTO, "noise: message shorter than its tag");
        if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &written, NULL, in, len, ad, ad_len,
                                                      nonce, c->k) != 0)
            return error_set(ST_ECRYPTO, "noise: message failed authentication");
    }
    c->n++;
    *out_len = (size_t)written;
    return ST_OK;
}

int noise_cipher_encrypt(noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *plain,
                         size_t len, uint8_t *out, size_t *out_len)
{
    return cipher_with_ad(c, true, ad, ad_len, plain, len, out, out_len);
}

int noise_cipher_decrypt(noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *cipher,
                         size_t len, uint8_t *out, size_t *out_len)
{
    return cipher_with_ad(c, false, ad, ad_len, cipher, len, out, out_len);
}

void noise_cipher_rekey(noise_cipher *c)
{
    if (!c->has_key)
        return;
    uint8_t zeros[NOISE_KEYLEN] = {0}, out[NOISE_KEYLEN + NOISE_TAGLEN], nonce[12];
    nonce_bytes(UINT64_MAX, nonce);
    unsigned long long clen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, zeros, sizeof(zeros), NULL, 0, NULL,
                                              nonce, c->k);
    memcpy(c->k, out, NOISE_KEYLEN);
    sodium_memzero(out, sizeof(out));
}

void noise_cipher_wipe(noise_cipher *c)
{
    sodium_memzero(c, sizeof(*c));
}
