/*
 * Decoding limits, the core's twin of the public dd_limits.
 *
 * Every decoder takes one of these. The defaults keep a single hostile
 * message from costing more than tens of megabytes.
 */
#ifndef DD_UTIL_LIMITS_H
#define DD_UTIL_LIMITS_H

#include <stdint.h>

typedef struct limits {
    uint32_t max_depth;
    uint64_t max_bytes;
    uint64_t max_elements;
    uint64_t max_value_bytes;
    uint64_t max_clock_skew_ms;
} limits;

#define LIMITS_DEFAULT_DEPTH 32u
/* The hard ceiling on max_depth (the public DD_LIMITS_MAX_DEPTH). Decoding
 * and everything done with a decoded value (encode, clone, merge, JSON,
 * free) recurse once per level; 128 levels fit a 256 KiB thread stack with
 * room to spare even in an ASan build (tests/c/crdt/test_depth.c). */
#define LIMITS_MAX_DEPTH 128u
#define LIMITS_DEFAULT_BYTES (64ull << 20)
#define LIMITS_DEFAULT_ELEMENTS (4ull << 20)
#define LIMITS_DEFAULT_VALUE_BYTES (1ull << 20)
#define LIMITS_DEFAULT_CLOCK_SKEW_MS 300000ull

static inline limits limits_default(void)
{
    limits l = {LIMITS_DEFAULT_DEPTH, LIMITS_DEFAULT_BYTES, LIMITS_DEFAULT_ELEMENTS,
                LIMITS_DEFAULT_VALUE_BYTES, LIMITS_DEFAULT_CLOCK_SKEW_MS};
    return l;
}

#endif
