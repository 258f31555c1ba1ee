/*
 * Allocation with the size arithmetic checked first.
 *
 * Every decoder sizes allocations from untrusted counts; these helpers make
 * the overflow check impossible to forget. They return NULL on overflow or
 * exhaustion and never set the error themselves, so the caller can say what
 * it was allocating.
 */
#ifndef DD_UTIL_ALLOC_H
#define DD_UTIL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline bool size_mul_ok(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

static inline bool size_add_ok(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* malloc(count * size), or NULL when the product overflows. */
static inline void *alloc_array(size_t count, size_t size)
{
    size_t total;
    if (!size_mul_ok(count, size, &total))
        return NULL;
    return malloc(total ? total : 1);
}

/* realloc to count * size, or NULL (old block untouched) on overflow. */
static inline void *realloc_array(void *ptr, size_t count, size_t size)
{
    size_t total;
    if (!size_mul_ok(count, size, &total))
        return NULL;
    return realloc(ptr, total ? total : 1);
}

/* Growth policy shared by every dynamic array: at least `need`, doubling. */
static inline size_t grow_capacity(size_t current, size_t need)
{
    size_t cap = current ? current : 8;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return need;
        cap *= 2;
    }
    return cap;
}

/* Reallocates the array whose pointer is at `items` (a T **) to `count`
 * elements of `size` bytes: the step of growing arrays that share one
 * capacity. false, with the array untouched, on overflow or exhaustion. The
 * pointer moves through memcpy so that any T ** may be passed without type
 * punning. */
static inline bool array_resize(void *items, size_t count, size_t size)
{
    void *old, *grown;
    memcpy(&old, items, sizeof(old));
    if (!(grown = realloc_array(old, count, size)))
        return false;
    memcpy(items, &grown, sizeof(grown));
    return true;
}

/* Makes room for `need` elements of `size` bytes in a dynamic array:
 * `items` is the address of the array's pointer (T **), `cap` of its
 * capacity. Grows by grow_capacity (array_resize); false, with the array
 * untouched, on overflow or exhaustion. */
static inline bool array_reserve(void *items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t ncap = grow_capacity(*cap, need);
    if (!array_resize(items, ncap, size))
        return false;
    *cap = ncap;
    return true;
}

/* array_reserve for two arrays side by side that share one uint32_t
 * capacity (the CRDTs' actors beside their counts or versions): room for
 * `need` elements in both. false, with *cap unchanged, on overflow or
 * exhaustion (a first array already grown keeps its larger block). */
static inline bool array_pair_reserve(void *first, size_t first_size, void *second,
                                      size_t second_size, uint32_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    uint32_t ncap = (uint32_t)grow_capacity(*cap, need);
    if (!array_resize(first, ncap, first_size) || !array_resize(second, ncap, second_size))
        return false;
    *cap = ncap;
    return true;
}

/* Makes room for one more item in a ring buffer of `size`-byte items:
 * `items` is the address of its pointer (T **), `len` items are in use from
 * *head of *cap. When full, moves them in order into a larger array and
 * sets *head to 0. false, with the ring untouched, on exhaustion. */
static inline bool ring_reserve(void *items, size_t *cap, size_t *head, size_t len, size_t size)
{
    if (len < *cap)
        return true;
    size_t ncap = grow_capacity(*cap, len + 1);
    unsigned char *old, *grown = alloc_array(ncap, size);
    if (!grown)
        return false;
    memcpy(&old, items, sizeof(old));
    for (size_t i = 0; i < len; i++)
        memcpy(grown + i * size, old + ((*head + i) % *cap) * size, size);
    free(old);
    memcpy(items, &grown, sizeof(grown));
    *cap = ncap;
    *head = 0;
    return true;
}

/* Takes the oldest item off a ring of `cap` slots that holds *len > 0:
 * *head moves on, *len shrinks, and the returned index is where the item
 * still lies, for the caller to move out or free before the next push. */
static inline size_t ring_take_oldest(size_t *head, size_t *len, size_t cap)
{
    size_t oldest = *head;
    *head = (oldest + 1) % cap;
    (*len)--;
    return oldest;
}

#endif
