/*
 * dd_limits: the options-struct convention in its simplest form, plus the
 * one check every caller's limits pass through: the depth ceiling.
 */
#include "abi.h"

int abi_impl_dd_limits_init(dd_limits *opts, uint32_t version)
{
    ABI_INIT_DEFAULTS(opts, "opts", dd_limits, version, DD_LIMITS_VERSION, DD_LIMITS_INIT);
}

_Static_assert(DD_LIMITS_MAX_DEPTH == LIMITS_MAX_DEPTH, "public and core depth ceilings agree");

DD_API uint32_t dd_limits_max_depth(void)
{
    return DD_LIMITS_MAX_DEPTH;
}

int abi_limits(const dd_limits *in, limits *out)
{
    *out = limits_default();
    if (!in)
        return DD_OK;
    ABI_REQUIRE_VERSION("dd_limits", in->version, DD_LIMITS_VERSION);
    if (in->max_depth > DD_LIMITS_MAX_DEPTH)
        return error_set(DD_EINVAL, "dd_limits max_depth %u exceeds the ceiling of %u",
                         in->max_depth, DD_LIMITS_MAX_DEPTH);
    out->max_depth = in->max_depth;
    out->max_bytes = in->max_bytes;
    out->max_elements = in->max_elements;
    out->max_value_bytes = in->max_value_bytes;
    out->max_clock_skew_ms = in->max_clock_skew_ms;
    return DD_OK;
}
