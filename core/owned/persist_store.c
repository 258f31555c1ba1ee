/*
 * The owned-state persistence over the durable state store (persist.h).
 *
 * A file of its own so the engine and its tests link without the store
 * module; the library links both.
 */
#include "owned/persist.h"

static int store_load(void *ctx, const uint8_t *key, size_t key_len, bytes *out)
{
    uint64_t revision = 0;
    return state_store_get(ctx, key, key_len, &revision, out);
}

static int store_save(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *data,
                      size_t len)
{
    uint64_t revision = 0;
    return state_store_upsert(ctx, key, key_len, STATE_ANY_REVISION, data, len, &revision);
}

owned_persist owned_persist_state_store(state_store *s)
{
    owned_persist p = {s, store_load, store_save};
    return p;
}
