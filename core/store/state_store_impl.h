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

#endif
