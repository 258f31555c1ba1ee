/*
 * Argument checks every area of the handle layer shares (abi.h), kept in
 * one place so every message reads the same.
 */
#include "abi.h"

int abi_check_version(const char *what, uint32_t version, uint32_t known)
{
    if (version != known)
        return error_set(DD_EINVAL, "%s version %u is not supported (this library knows %u)", what,
                         version, known);
    return DD_OK;
}
