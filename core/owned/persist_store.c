/*
 * The owned-state persistence over the durable state store (persist.h).
 *
 * Records live under "dd/" in the store (key "dd/owned/<type>", issue
 * 17.2), so one store serves owned state, a replica ("dd/replica/") and the
 * application. A store written before the namespace holds the record under
 * the bare "owned/<type>": loading falls back to it and moves it under the
 * namespace at once.
 *
 * A file of its own so the engine and its tests link without the store
 * module; the library links both.
 */
#include "owned/persist.h"
#include "util/error.h"
#include "util/status.h"

#define STORE_NAMESPACE "dd/"

static int namespaced(bytes *out, const uint8_t *key, size_t key_len)
{
    bytes_put(out, STORE_NAMESPACE, sizeof(STORE_NAMESPACE) - 1);
    bytes_put(out, key, key_len);
    return out->failed ? error_oom() : ST_OK;
}

static int store_load(void *ctx, const uint8_t *key, size_t key_len, bytes *out)
{
    uint64_t revision = 0;
    bytes k = BYTES_INIT;
    int rc = namespaced(&k, key, key_len);
    if (rc == ST_OK)
        rc = state_store_get(ctx, k.data, k.len, &revision, out);
    if (rc == ST_ENOTFOUND) {
        rc = state_store_get(ctx, key, key_len, &revision, out);
        if (rc == ST_OK)
            rc = state_store_upsert(ctx, k.data, k.len, STATE_ANY_REVISION, out->data, out->len,
                                    &revision);
        if (rc == ST_OK)
            rc = state_store_delete(ctx, key, key_len, STATE_ANY_REVISION);
    }
    bytes_free(&k);
    return rc;
}

static int store_save(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *data,
                      size_t len)
{
    uint64_t revision = 0;
    bytes k = BYTES_INIT;
    int rc = namespaced(&k, key, key_len);
    if (rc == ST_OK)
        rc = state_store_upsert(ctx, k.data, k.len, STATE_ANY_REVISION, data, len, &revision);
    bytes_free(&k);
    return rc;
}

owned_persist owned_persist_state_store(state_store *s)
{
    owned_persist p = {s, store_load, store_save};
    return p;
}
