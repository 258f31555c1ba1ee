/*
 * dd_keyring: the handle layer over core/seal/keyring. The core ring is
 * reference counted, so a store opened with a ring keeps its keys after
 * the caller frees the handle.
 */
#include "abi.h"
#include "dd_store.h"
#include "seal/keyring.h"
#include "store_call_internal.h"

static void keyring_destroy(void *obj)
{
    keyring_release(obj);
}

int abi_impl_dd_keyring_new(dd_keyring **out)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    int rc = abi_impl_dd_init();
    if (rc != DD_OK)
        return rc;
    keyring *k;
    if ((rc = keyring_new(&k)) != ST_OK)
        return rc;
    uintptr_t h = abi_store_register(k, HK_KEYRING, keyring_destroy);
    *out = (dd_keyring *)h;
    return h ? DD_OK : DD_ENOMEM;
}

int abi_impl_dd_keyring_add_key(dd_keyring *ring, uint32_t key_id, const uint8_t *key,
                                size_t key_len)
{
    STORE_CALL(keyring, k, ring, HK_KEYRING, "keyring", keyring_add(k, key_id, key, key_len));
}

int abi_impl_dd_keyring_set_active(dd_keyring *ring, uint32_t key_id)
{
    STORE_CALL(keyring, k, ring, HK_KEYRING, "keyring", keyring_set_active(k, key_id));
}

int abi_impl_dd_keyring_set_algorithm(dd_keyring *ring, uint32_t algorithm)
{
    STORE_CALL(keyring, k, ring, HK_KEYRING, "keyring",
               keyring_set_algorithm(k, (seal_alg)algorithm));
}

int abi_impl_dd_seal_algorithm_available(uint32_t algorithm)
{
    if (algorithm != DD_SEAL_XCHACHA20POLY1305 && algorithm != DD_SEAL_AES256GCM)
        return 0;
    return seal_alg_available((seal_alg)algorithm);
}

int abi_impl_dd_keyring_free(dd_keyring *ring)
{
    return handle_close(ring, HK_KEYRING, "keyring");
}
