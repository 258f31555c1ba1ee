/*
 * The two hashes of hash.h.
 *
 * The keyed hash mixes the input, 16 bytes at a time, into a 64-bit state
 * through 64x64->128-bit products of input words xored with four secret
 * words, each product folded (high half xor low half): the shape wyhash
 * made common. Its key is 32 bytes from libsodium's randombytes, drawn once
 * per process by whichever thread hashes first; without the key a peer
 * cannot tell which inputs collide. Why not SipHash: the set index lookups
 * are memory-bound, and the ~100 instructions of SipHash per element
 * (libsodium's crypto_shorthash, SipHash-2-4, or 1-3) leave the processor
 * fewer lookups in flight: `crdt.orset.contains` ran 40% slower and
 * `crdt.orset.add` 20-25% slower with either, where this hash costs
 * nothing measurable.
 *
 * The digest hash folds 8-byte lanes with multiply-rotate, then a tail of
 * up to seven bytes, then a murmur3-style finaliser for avalanche; its
 * output is part of what nodes exchange, so it never changes.
 */
#include "util/hash.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util/bytes.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full

static uint8_t index_key[HASH_KEY_BYTES];
static atomic_bool index_key_ready;
static pthread_once_t index_key_once = PTHREAD_ONCE_INIT;

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t load_u32le64(const uint8_t *p)
{
    return load_u32le(p);
}

/* The 128-bit product of a and b folded to 64 bits. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t keyed(const uint64_t k[4], const uint8_t *p, size_t len)
{
    uint64_t h = k[0] ^ ((uint64_t)len * K1);
    for (; len > 16; p += 16, len -= 16)
        h = fold_mul(load_u64le(p) ^ k[1], load_u64le(p + 8) ^ h);
    /* 0..16 bytes left, read as two words that together cover every byte
     * (overlapping when fewer than 16); the length, already in h, tells
     * which bytes they are. */
    uint64_t a = 0, b = 0;
    if (len >= 8) {
        a = load_u64le(p);
        b = load_u64le(p + len - 8);
    } else if (len >= 4) {
        a = load_u32le64(p);
        b = load_u32le64(p + len - 4);
    } else if (len) {
        a = (uint64_t)p[0] | (uint64_t)p[len / 2] << 8 | (uint64_t)p[len - 1] << 16;
    }
    h = fold_mul(a ^ k[2], b ^ h);
    return fold_mul(h ^ k[3], h ^ k[1]);
}

static void index_key_draw(void)
{
    /* sodium_init fails only without a system random source, and then
     * randombytes_buf would abort inside libsodium all the same. */
    if (sodium_init() < 0)
        abort();
    randombytes_buf(index_key, sizeof index_key);
    atomic_store_explicit(&index_key_ready, true, memory_order_release);
}

static inline void key_words(const uint8_t key[HASH_KEY_BYTES], uint64_t k[4])
{
    for (int i = 0; i < 4; i++)
        k[i] = load_u64le(key + 8 * i);
}

uint64_t hash_keyed(const void *data, size_t len)
{
    if (!atomic_load_explicit(&index_key_ready, memory_order_acquire))
        (void)pthread_once(&index_key_once, index_key_draw);
    uint64_t k[4];
    key_words(index_key, k);
    return keyed(k, data, len);
}

uint64_t hash_keyed_with(const uint8_t key[HASH_KEY_BYTES], const void *data, size_t len)
{
    uint64_t k[4];
    key_words(key, k);
    return keyed(k, data, len);
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

uint64_t hash_digest(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = len * K1;
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
