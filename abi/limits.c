/*
 * dd_limits: the options-struct convention in its simplest form.
 */
#include "abi.h"

int abi_impl_dd_limits_init(dd_limits *opts, uint32_t version)
{
    ABI_REQUIRE(opts, "opts");
    if (version != DD_LIMITS_VERSION)
        return error_set(DD_EINVAL, "dd_limits version %u is not supported (this library knows %u)",
                         version, DD_LIMITS_VERSION);
    dd_limits defaults = DD_LIMITS_INIT;
    *opts = defaults;
    return DD_OK;
}

int abi_limits(const dd_limits *in, limits *out)
{
    *out = limits_default();
    if (!in)
        return DD_OK;
    if (in->version != DD_LIMITS_VERSION)
        return error_set(DD_EINVAL, "dd_limits version %u is not supported (this library knows %u)",
                         in->version, DD_LIMITS_VERSION);
    out->max_depth = in->max_depth;
    out->max_bytes = in->max_bytes;
    out->max_elements = in->max_elements;
    out->max_value_bytes = in->max_value_bytes;
    out->max_clock_skew_ms = in->max_clock_skew_ms;
    return DD_OK;
}
