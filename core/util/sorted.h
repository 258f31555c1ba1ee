/*
 * Binary search over arrays kept sorted by a uint64_t key (actors, node
 * ids, sequence numbers).
 *
 * The key is a field at `key_offset` in elements `stride` bytes apart, so
 * one search serves a plain uint64_t array (stride 8, offset 0) and an
 * array of structs sorted by one member alike. Inline: with the stride and
 * offset constant at each call, it compiles to the loop a caller would
 * have written by hand.
 */
#ifndef DD_UTIL_SORTED_H
#define DD_UTIL_SORTED_H

#include <stddef.h>
#include <stdint.h>

/* The index of the first of `count` elements whose key is >= `key`
 * (`count` when there is none). */
static inline size_t sorted_lower_bound_u64(const void *base, size_t count, size_t stride,
                                            size_t key_offset, uint64_t key)
{
    /* no pointer arithmetic before the first element is read: an empty
     * array may be NULL (UBSan: offset applied to a null pointer) */
    const unsigned char *bytes = base;
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (*(const uint64_t *)(const void *)(bytes + mid * stride + key_offset) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#endif
