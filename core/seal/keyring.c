/*
 * The key ring. See keyring.h for why keys are never removed and live in
 * sodium_malloc memory.
 */
#include "seal/keyring.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

typedef struct ring_key {
    uint32_t id;
    uint8_t *key; /* sodium_malloc'd, SEAL_KEY_BYTES */
} ring_key;

struct keyring {
    atomic_uint refs;
    pthread_mutex_t mu;
    ring_key *keys;
    size_t count, cap;
    uint32_t active;
    int has_active;
    seal_alg alg;
};

int seal_alg_available(seal_alg alg)
{
    if (sodium_init() < 0)
        return 0;
    if (alg == SEAL_XCHACHA20POLY1305)
        return 1;
    if (alg == SEAL_AES256GCM)
        return crypto_aead_aes256gcm_is_available();
    return 0;
}

int keyring_new(keyring **out)
{
    if (sodium_init() < 0)
        return error_set(ST_ECRYPTO, "libsodium failed to initialise");
    keyring *k = calloc(1, sizeof(*k));
    if (!k)
        return error_oom();
    atomic_init(&k->refs, 1);
    pthread_mutex_init(&k->mu, NULL);
    k->alg = SEAL_XCHACHA20POLY1305;
    *out = k;
    return ST_OK;
}

keyring *keyring_retain(keyring *k)
{
    if (k)
        atomic_fetch_add(&k->refs, 1);
    return k;
}

void keyring_release(keyring *k)
{
    if (!k || atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    for (size_t i = 0; i < k->count; i++)
        sodium_free(k->keys[i].key); /* wipes before freeing */
    free(k->keys);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

static ring_key *find(keyring *k, uint32_t id)
{
    for (size_t i = 0; i < k->count; i++)
        if (k->keys[i].id == id)
            return &k->keys[i];
    return NULL;
}

int keyring_add(keyring *k, uint32_t id, const uint8_t *key, size_t key_len)
{
    if (!key || key_len != SEAL_KEY_BYTES)
        return error_set(ST_EINVAL, "key %u must be %u bytes, got %zu", id, SEAL_KEY_BYTES,
                         key ? key_len : 0);
    int rc = ST_OK;
    pthread_mutex_lock(&k->mu);
    if (find(k, id)) {
        rc = error_set(ST_ECONFLICT, "key id %u is already in the key ring", id);
        goto done;
    }
    if (k->count >= KEYRING_MAX_KEYS) {
        rc = error_set(ST_ELIMIT, "the key ring holds at most %u keys", KEYRING_MAX_KEYS);
        goto done;
    }
    if (!array_reserve(&k->keys, &k->cap, k->count + 1, sizeof(*k->keys))) {
        rc = error_oom();
        goto done;
    }
    uint8_t *secret = sodium_malloc(SEAL_KEY_BYTES);
    if (!secret) {
        rc = error_oom();
        goto done;
    }
    memcpy(secret, key, SEAL_KEY_BYTES);
    k->keys[k->count++] = (ring_key){id, secret};
    if (!k->has_active) {
        k->active = id;
        k->has_active = 1;
    }
done:
    pthread_mutex_unlock(&k->mu);
    return rc;
}

int keyring_set_active(keyring *k, uint32_t id)
{
    pthread_mutex_lock(&k->mu);
    int rc = ST_OK;
    if (find(k, id)) {
        k->active = id;
        k->has_active = 1;
    } else {
        rc = error_set(ST_ENOTFOUND, "key id %u is not in the key ring", id);
    }
    pthread_mutex_unlock(&k->mu);
    return rc;
}

int keyring_set_algorithm(keyring *k, seal_alg alg)
{
    if (alg != SEAL_XCHACHA20POLY1305 && alg != SEAL_AES256GCM)
        return error_set(ST_EINVAL, "unknown sealing algorithm %d", (int)alg);
    if (!seal_alg_available(alg))
        return error_set(ST_EUNSUPPORTED,
                         "aes-256-gcm needs a cpu with aes-ni and pclmul; this one has not");
    pthread_mutex_lock(&k->mu);
    k->alg = alg;
    pthread_mutex_unlock(&k->mu);
    return ST_OK;
}

int keyring_active(keyring *k, uint32_t *id, const uint8_t **key, seal_alg *alg)
{
    pthread_mutex_lock(&k->mu);
    int rc = ST_OK;
    ring_key *rk = k->has_active ? find(k, k->active) : NULL;
    if (rk) {
        *id = rk->id;
        *key = rk->key;
        *alg = k->alg;
    } else {
        rc = error_set(ST_ENOTFOUND, "the key ring has no active key");
    }
    pthread_mutex_unlock(&k->mu);
    return rc;
}

int keyring_lookup(keyring *k, uint32_t id, const uint8_t **key)
{
    pthread_mutex_lock(&k->mu);
    ring_key *rk = find(k, id);
    if (rk)
        *key = rk->key;
    pthread_mutex_unlock(&k->mu);
    return rk ? ST_OK : error_set(ST_ENOTFOUND, "key id %u is not in the key ring", id);
}
