/*
 * Sealing: round trips, key rotation, and every way a blob can be wrong
 * (wrong key, unknown key id, flipped bit, truncation, moved to another
 * place) failing cleanly with the right code.
 */
#include <string.h>

#include "seal/envelope.h"
#include "seal/seal.h"
#include "test.h"
#include "util/rng.h"
#include "util/status.h"

static void fill_key(uint8_t key[32], uint8_t salt)
{
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 13 + salt);
}

static sealer *make_sealer(uint32_t id, uint8_t salt, int level)
{
    keyring *k;
    uint8_t key[32];
    fill_key(key, salt);
    ASSERT_OK(keyring_new(&k));
    ASSERT_OK(keyring_add(k, id, key, 32));
    seal_options o = seal_options_default();
    o.compression_level = level;
    o.compress_threshold = 8;
    sealer *s;
    ASSERT_OK(sealer_new(&s, k, &o));
    keyring_release(k);
    return s;
}

static const uint8_t AAD[] = "state/key/1";

TEST(test_seal_then_open_round_trips_many_sizes)
{
    rng g;
    rng_seed(&g, test_seed());
    sealer *s = make_sealer(1, 0, 6);
    static uint8_t plain[70000];
    for (unsigned c = 0; c < test_cases(60); c++) {
        size_t len = (size_t)rng_below(&g, sizeof(plain));
        if (c < 3)
            len = c; /* 0, 1, 2 */
        int compressible = rng_chance(&g, 1, 2);
        for (size_t i = 0; i < len; i++)
            plain[i] = compressible ? (uint8_t)(i / 100) : (uint8_t)rng_next(&g);
        bytes sealed = BYTES_INIT, opened = BYTES_INIT;
        ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), plain, len, &sealed));
        ASSERT(envelope_looks_sealed(sealed.data, sealed.len));
        ASSERT_OK(seal_open(s, AAD, sizeof(AAD), sealed.data, sealed.len, &opened));
        ASSERT_MEM_EQ(opened.data, opened.len, plain, len);
        if (compressible && len > 1000)
            ASSERT(sealed.len < len / 2);
        bytes_free(&sealed);
        bytes_free(&opened);
    }
    sealer_free(s);
}

/* Seals "secret" with key (1, salt 0) and opens it with key (id, salt):
 * the status of the open, what it wrote in `opened`. */
static int open_with_other_key(uint32_t id, uint8_t salt, bytes *opened)
{
    sealer *a = make_sealer(1, 0, 6), *b = make_sealer(id, salt, 6);
    bytes sealed = BYTES_INIT;
    ASSERT_OK(seal_blob(a, AAD, sizeof(AAD), (const uint8_t *)"secret", 6, &sealed));
    int rc = seal_open(b, AAD, sizeof(AAD), sealed.data, sealed.len, opened);
    bytes_free(&sealed);
    sealer_free(a);
    sealer_free(b);
    return rc;
}

TEST(test_wrong_key_is_ecrypto)
{
    bytes opened = BYTES_INIT;
    ASSERT_STATUS(open_with_other_key(1, 99, &opened), ST_ECRYPTO);
    ASSERT_EQ_U64(opened.len, 0);
}

TEST(test_unknown_key_id_is_ecrypto)
{
    bytes opened = BYTES_INIT;
    ASSERT_STATUS(open_with_other_key(2, 0, &opened), ST_ECRYPTO);
    ASSERT(strstr(test_last_error(), "key id 1") != NULL);
}

TEST(test_blob_moved_to_another_place_fails)
{
    sealer *s = make_sealer(1, 0, 6);
    bytes sealed = BYTES_INIT, opened = BYTES_INIT;
    ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)"v", 1, &sealed));
    const uint8_t other[] = "state/key/2";
    ASSERT_STATUS(seal_open(s, other, sizeof(other), sealed.data, sealed.len, &opened), ST_ECRYPTO);
    bytes_free(&sealed);
    sealer_free(s);
}

TEST(test_every_flipped_bit_is_detected)
{
    sealer *s = make_sealer(1, 0, 6);
    bytes sealed = BYTES_INIT;
    const char *msg = "a message long enough to be compressed compressed compressed";
    ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)msg, strlen(msg), &sealed));
    for (size_t i = 0; i < sealed.len * 8; i++) {
        sealed.data[i / 8] ^= (uint8_t)(1u << (i % 8));
        bytes opened = BYTES_INIT;
        int rc = seal_open(s, AAD, sizeof(AAD), sealed.data, sealed.len, &opened);
        ASSERT_MSG(rc == ST_ECRYPTO || rc == ST_ECORRUPT || rc == ST_ELIMIT, "bit %zu: rc %d", i,
                   rc);
        bytes_free(&opened);
        sealed.data[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    bytes ok = BYTES_INIT;
    ASSERT_OK(seal_open(s, AAD, sizeof(AAD), sealed.data, sealed.len, &ok));
    bytes_free(&ok);
    bytes_free(&sealed);
    sealer_free(s);
}

TEST(test_truncated_envelopes_are_rejected)
{
    sealer *s = make_sealer(1, 0, 0);
    bytes sealed = BYTES_INIT;
    ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)"payload", 7, &sealed));
    for (size_t n = 0; n < sealed.len; n++) {
        bytes opened = BYTES_INIT;
        int rc = seal_open(s, AAD, sizeof(AAD), sealed.data, n, &opened);
        ASSERT_MSG(rc == ST_ECORRUPT || rc == ST_ECRYPTO, "length %zu: rc %d", n, rc);
    }
    bytes_free(&sealed);
    sealer_free(s);
}

TEST(test_rotation_keeps_old_blobs_readable)
{
    keyring *k;
    uint8_t k1[32], k2[32];
    fill_key(k1, 1);
    fill_key(k2, 2);
    ASSERT_OK(keyring_new(&k));
    ASSERT_OK(keyring_add(k, 10, k1, 32));
    sealer *s;
    ASSERT_OK(sealer_new(&s, k, NULL));
    bytes old = BYTES_INIT, fresh = BYTES_INIT, out = BYTES_INIT;
    ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)"old", 3, &old));
    ASSERT_OK(keyring_add(k, 11, k2, 32));
    ASSERT_STATUS(keyring_add(k, 11, k2, 32), ST_ECONFLICT);
    ASSERT_STATUS(keyring_set_active(k, 12), ST_ENOTFOUND);
    ASSERT_OK(keyring_set_active(k, 11));
    ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)"new", 3, &fresh));
    envelope e;
    ASSERT_OK(envelope_parse(fresh.data, fresh.len, 1 << 20, &e));
    ASSERT_EQ_U64(e.key_id, 11);
    ASSERT_OK(seal_open(s, AAD, sizeof(AAD), old.data, old.len, &out));
    ASSERT_MEM_EQ(out.data, out.len, "old", 3);
    bytes_reset(&out);
    ASSERT_OK(seal_open(s, AAD, sizeof(AAD), fresh.data, fresh.len, &out));
    ASSERT_MEM_EQ(out.data, out.len, "new", 3);
    bytes_free(&old);
    bytes_free(&fresh);
    bytes_free(&out);
    sealer_free(s);
    keyring_release(k);
}

TEST(test_aes_gcm_works_or_says_unsupported)
{
    keyring *k;
    uint8_t key[32];
    fill_key(key, 5);
    ASSERT_OK(keyring_new(&k));
    ASSERT_OK(keyring_add(k, 1, key, 32));
    int rc = keyring_set_algorithm(k, SEAL_AES256GCM);
    if (!seal_alg_available(SEAL_AES256GCM)) {
        ASSERT_EQ_INT(rc, ST_EUNSUPPORTED);
        ASSERT(strstr(test_last_error(), "aes") != NULL);
    } else {
        ASSERT_OK(rc);
        sealer *s;
        ASSERT_OK(sealer_new(&s, k, NULL));
        bytes sealed = BYTES_INIT, out = BYTES_INIT;
        ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)"gcm", 3, &sealed));
        ASSERT_EQ_INT(sealed.data[5], SEAL_AES256GCM);
        ASSERT_OK(seal_open(s, AAD, sizeof(AAD), sealed.data, sealed.len, &out));
        ASSERT_MEM_EQ(out.data, out.len, "gcm", 3);
        sealed.data[sealed.len - 1] ^= 1;
        bytes_reset(&out);
        ASSERT_STATUS(seal_open(s, AAD, sizeof(AAD), sealed.data, sealed.len, &out), ST_ECRYPTO);
        bytes_free(&sealed);
        bytes_free(&out);
        sealer_free(s);
    }
    keyring_release(k);
}

TEST(test_bad_keys_and_empty_ring_are_rejected)
{
    keyring *k;
    ASSERT_OK(keyring_new(&k));
    uint8_t key[16] = {0};
    ASSERT_STATUS(keyring_add(k, 1, key, sizeof(key)), ST_EINVAL);
    ASSERT_STATUS(keyring_add(k, 1, NULL, 32), ST_EINVAL);
    sealer *s;
    ASSERT_OK(sealer_new(&s, k, NULL));
    bytes out = BYTES_INIT;
    ASSERT_STATUS(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)"x", 1, &out), ST_ENOTFOUND);
    sealer_free(s);
    keyring_release(k);
}

TEST(test_declared_size_over_limit_is_elimit)
{
    sealer *s = make_sealer(1, 0, 0);
    bytes sealed = BYTES_INIT;
    ASSERT_OK(seal_blob(s, AAD, sizeof(AAD), (const uint8_t *)"0123456789", 10, &sealed));
    envelope e;
    ASSERT_STATUS(envelope_parse(sealed.data, sealed.len, 5, &e), ST_ELIMIT);
    ASSERT_OK(envelope_parse(sealed.data, sealed.len, 10, &e));
    bytes_free(&sealed);
    sealer_free(s);
}
