/*
 * 64-bit hash: 8-byte lanes folded with multiply-rotate, a tail of up to
 * seven bytes, then a murmur3-style finaliser for avalanche.
 */
#include "util/hash.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/bytes.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (len * K1);
    while (len >= 8) {
        h ^= rotl64(load_u64le(p) * K2, 31) * K1;
        h = rotl64(h, 27) * 5 + 0x52dce729;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < len; i++)
        tail |= (uint64_t)p[i] << (8 * i);
    h ^= rotl64(tail * K2, 31) * K1;
    return hash_u64(h);
}

uint64_t hash_seed_default(void)
{
    static _Atomic uint64_t seed;
    uint64_t s = atomic_load_explicit(&seed, memory_order_relaxed);
    if (s)
        return s;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s = hash_u64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40)) |
        1;
    uint64_t expected = 0;
    if (!atomic_compare_exchange_strong(&seed, &expected, s))
        s = expected;
    return s;
}
