/*
 * CRC-32C: the SSE4.2 crc32 instruction on x86-64 when the CPU has it,
 * else a byte-at-a-time table (reflected polynomial 0x82F63B78). See
 * crc32c.h.
 */
#include "seal/crc32c.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        table[i] = c;
    }
}

uint32_t crc32c_portable(uint32_t crc, const uint8_t *p, size_t n)
{
    pthread_once(&table_once, table_init);
    uint32_t c = ~crc;
    while (n--)
        c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static inline uint32_t sse42_run(uint32_t c32, const uint8_t *p,
                                                                   size_t n)
{
    uint64_t c = c32;
    /* Four words a turn: the loop's own counting and branching otherwise
     * costs as many instructions as the crc32 it drives. */
    for (; n >= 32; n -= 32, p += 32) {
        uint64_t w[4];
        memcpy(w, p, 32);
        c = _mm_crc32_u64(c, w[0]);
        c = _mm_crc32_u64(c, w[1]);
        c = _mm_crc32_u64(c, w[2]);
        c = _mm_crc32_u64(c, w[3]);
    }
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
    }
    c32 = (uint32_t)c;
    if (n >= 4) {
        uint32_t word;
        memcpy(&word, p, 4);
        c32 = _mm_crc32_u32(c32, word);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t half;
        memcpy(&half, p, 2);
        c32 = _mm_crc32_u16(c32, half);
        p += 2;
        n -= 2;
    }
    if (n)
        c32 = _mm_crc32_u8(c32, *p);
    return c32;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p,
                                                               size_t n)
{
    return ~sse42_run(~crc, p, n);
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_from_sse42(uint32_t crc,
                                                                    const uint8_t *a, size_t an,
                                                                    const uint8_t *b, size_t bn,
                                                                    const uint8_t *c, size_t cn)
{
    crc = sse42_run(~crc, a, an);
    crc = sse42_run(crc, b, bn);
    return ~sse42_run(crc, c, cn);
}

static int has_sse42(void)
{
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    }
    return known;
}

uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    return has_sse42() ? crc32c_sse42(crc, p, n) : crc32c_portable(crc, p, n);
}

uint32_t crc32c_from(uint32_t crc, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                     const uint8_t *c, size_t cn)
{
    if (has_sse42())
        return crc32c_from_sse42(crc, a, an, b, bn, c, cn);
    return crc32c_portable(crc32c_portable(crc32c_portable(crc, a, an), b, bn), c, cn);
}
#else
uint32_t crc32c_from(uint32_t crc, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                     const uint8_t *c, size_t cn)
{
    return crc32c_portable(crc32c_portable(crc32c_portable(crc, a, an), b, bn), c, cn);
}

uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    return crc32c_portable(crc, p, n);
}

#endif

uint32_t crc32c_3(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c,
                  size_t cn)
{
    return crc32c_from(0, a, an, b, bn, c, cn);
}
