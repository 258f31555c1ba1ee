/*
 * The key ring: the keys that seal data at rest.
 *
 * Each key has a 32-bit id that is written into every envelope it seals,
 * so rotation needs no rewrite: add a new key, make it active, and blobs
 * sealed under retired keys still open as long as those keys stay in the
 * ring. Key bytes live in sodium_malloc memory (guard pages, locked, never
 * swapped) and are wiped when the ring is freed.
 *
 * A ring is shared by every store that seals with it, so it is reference
 * counted and locked; keys are never removed while the ring lives, which
 * lets a reader use a key pointer after dropping the lock.
 */
#ifndef DD_SEAL_KEYRING_H
#define DD_SEAL_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_BYTES 32u
#define KEYRING_MAX_KEYS 1024u

typedef enum seal_alg {
    SEAL_XCHACHA20POLY1305 = 1, /* default: any CPU, 24-byte random nonces */
    SEAL_AES256GCM = 2,         /* only where the CPU has AES-NI and CLMUL */
} seal_alg;

typedef struct keyring keyring;

int keyring_new(keyring **out);
keyring *keyring_retain(keyring *k);
/* Drops a reference; the last one wipes and frees every key. NULL-safe. */
void keyring_release(keyring *k);

/* ST_ECONFLICT when the id is taken. The first key added becomes active. */
int keyring_add(keyring *k, uint32_t id, const uint8_t *key, size_t key_len);
/* ST_ENOTFOUND when the id is not in the ring. */
int keyring_set_active(keyring *k, uint32_t id);
/* ST_EUNSUPPORTED for AES-256-GCM on a CPU without it. */
int keyring_set_algorithm(keyring *k, seal_alg alg);
/* 1 when this CPU can use `alg`. */
int seal_alg_available(seal_alg alg);

/* The active key, algorithm and id, for sealing; ST_ENOTFOUND if empty. */
int keyring_active(keyring *k, uint32_t *id, const uint8_t **key, seal_alg *alg);
/* The key with `id`, for opening; ST_ENOTFOUND when absent. */
int keyring_lookup(keyring *k, uint32_t id, const uint8_t **key);

#endif
