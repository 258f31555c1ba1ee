/*
 * dd_store_rekey: the handle layer over core/store/rekey. The store is
 * opened from the caller's options as it would be for writing (it must
 * exist); its keyring makes the sealer that opens the stored records, the
 * new ring the one that seals them again.
 */
#include "abi.h"
#include "dd_store.h"
#include "seal/seal.h"
#include "store/rekey.h"

int abi_impl_dd_store_rekey(const dd_store_options *opts, dd_keyring *new_keyring,
                            uint64_t *records)
{
    if (records)
        *records = 0;
    ABI_REQUIRE(opts, "opts");
    ABI_REQUIRE(new_keyring, "new_keyring");
    ABI_REQUIRE_VERSION("dd_store_options", opts->version, DD_STORE_OPTIONS_VERSION);
    if (opts->read_only)
        return error_set(DD_EINVAL, "rekey: the store options are read_only; a rekey writes");
    if (opts->backend == DD_BACKEND_MEMORY)
        return error_set(DD_EUNSUPPORTED, "rekey: a memory store has nothing at rest to rekey");
    dd_store_options o = *opts;
    o.must_exist = 1;
    dd_store_options with_new = o;
    with_new.keyring = new_keyring;
    store_backend *be = NULL;
    sealer *from = NULL, *to = NULL;
    int rc = abi_store_open_parts(&o, &be, &from, NULL);
    if (rc != DD_OK)
        return rc;
    if ((rc = abi_store_sealer(&with_new, &to, NULL)) == DD_OK)
        rc = store_rekey(be, from, to, records);
    sealer_free(to);
    sealer_free(from);
    be->ops->close(be);
    return rc;
}
