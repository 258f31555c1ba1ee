/*
 * Versions and process-wide initialisation.
 */
#include <sodium.h>

#include "abi.h"

DD_API const char *dd_version(void)
{
    return DDATA_VERSION;
}

int abi_impl_dd_version_number(void)
{
    return DDATA_VERSION_NUMBER;
}

int abi_impl_dd_abi_version(void)
{
    return DDATA_ABI_VERSION;
}

int abi_impl_dd_init(void)
{
    /* sodium_init is itself idempotent and thread-safe; 1 = already done. */
    if (sodium_init() < 0)
        return error_set(DD_EUNSUPPORTED, "libsodium failed to initialise");
    return DD_OK;
}
