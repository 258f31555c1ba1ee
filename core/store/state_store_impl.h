/*
 * The state store's insides, shared by state_store.c (the record calls)
 * and state_blocks.c (ranges, batches, prefix purge, flush): one lock,
 * one engine, one sealer per store.
 */
#ifndef DD_STORE_STATE_STORE_IMPL_H
#define DD_STORE_STATE_STORE_IMPL_H

#include <pthread.h>

#include "seal/seal.h"
#include "store/backend.h"

struct state_store {
    store_backend *be;
    sealer *seal; /* sealed, or plain (checksum + compression): never NULL */
    pthread_mutex_t mu;
};

/* The associated data a record of `key` at `revision` is sealed with. */
void state_aad(const sealer *seal, bytes *aad, const uint8_t *key, size_t key_len,
               uint64_t revision);
/* Opens a record read from the engine into `out`; the error names the key. */
int state_record_open(sealer *seal, const uint8_t *key, size_t key_len, uint64_t revision,
                      const uint8_t *blob, size_t len, bytes *out);

/* A walk over records read from the engine: state_open_one opens each
 * (into `plain`, reused) and hands it to fn; with keys_only, fn gets the
 * key and revision alone and nothing is opened. The caller frees plain. */
typedef struct state_open_walk {
    sealer *seal;
    int keys_only;
    state_scan_fn fn;
    void *ctx;
    bytes plain;
} state_open_walk;
int state_open_one(void *c, const uint8_t *key, size_t key_len, uint64_t revision,
                   const uint8_t *blob, size_t len);

/* Runs op on the store's engine under the store's lock. */
int state_store_locked(state_store *s, int (*op)(store_backend *be));

/* What state_take_last keeps of the last record a walk visits: each of
 * key, state and revision may be NULL; found is set once one was seen. */
typedef struct state_last {
    bytes *key, *state;
    uint64_t *revision;
    int found;
} state_last;
int state_take_last(void *c, const uint8_t *key, size_t key_len, uint64_t revision,
                    const uint8_t *state, size_t state_len);

#endif
