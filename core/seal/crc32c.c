/*
 * CRC-32C: the SSE4.2 crc32 instruction on x86-64 when the CPU has it,
 * else a byte-at-a-time table (reflected polynomial 0x82F63B78). See
 * crc32c.h.
 *
 * One crc32 instruction takes 3 cycles before the next may use its
 * result, but the CPU can start one every cycle. A long buffer (a 1 KiB
 * snapshot) is therefore cut into three stretches checksummed side by
 * side, and the three results are joined: the CRC register is linear, so
 * crc(a || b || c) = a's register moved past 2L bytes ^ b's moved past L
 * ^ c's. Moving a register past L zero bytes is a multiplication by x^8L
 * modulo the polynomial; with PCLMULQDQ that is one carry-less multiply
 * by a constant (x^(8L-33), computed once here) and one crc32 of the
 * product (which multiplies by x^32 and reduces, the remaining x coming
 * from the product's bit alignment).
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
#include <wmmintrin.h>

/* a * b modulo the polynomial, both reflected (bit 31 is x^0). */
static uint32_t gf2_multiply(uint32_t a, uint32_t b)
{
    uint32_t product = 0;
    for (int i = 0; i < 32; i++) {
        if (a & (0x80000000u >> i))
            product ^= b;
        b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
    }
    return product;
}

/* x^n modulo the polynomial, reflected. */
static uint32_t gf2_x_power(uint64_t n)
{
    uint32_t result = 0x80000000u, square = 0x40000000u; /* x^0, x^1 */
    for (; n; n >>= 1) {
        if (n & 1)
            result = gf2_multiply(result, square);
        square = gf2_multiply(square, square);
    }
    return result;
}

/* Bytes per stretch in the three-way loop, and the constants that move a
 * register past one (shift_1) and two (shift_2) stretches. */
#define CRC32C_STRETCH 256u
static uint64_t shift_1, shift_2;
static int has_clmul;

/* Checksums `rounds` x 3 stretches from p, continuing c. */
__attribute__((target("sse4.2,pclmul"), noinline)) static uint64_t
three_way(uint64_t c, const uint8_t *p, size_t rounds)
{
    const __m128i k = _mm_set_epi64x((long long)shift_1, (long long)shift_2);
    for (; rounds; rounds--, p += 3 * CRC32C_STRETCH) {
        uint64_t b = 0, d = 0;
        for (size_t i = 0; i < CRC32C_STRETCH; i += 8) {
            uint64_t w0, w1, w2;
            memcpy(&w0, p + i, 8);
            memcpy(&w1, p + CRC32C_STRETCH + i, 8);
            memcpy(&w2, p + 2 * CRC32C_STRETCH + i, 8);
            c = _mm_crc32_u64(c, w0);
            b = _mm_crc32_u64(b, w1);
            d = _mm_crc32_u64(d, w2);
        }
        /* c moves past two stretches, b past one. */
        __m128i moved_c = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)c), k, 0x00);
        __m128i moved_b = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)b), k, 0x10);
        c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(moved_c)) ^
            _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(moved_b)) ^ d;
    }
    return c;
}

__attribute__((target("sse4.2"))) static inline uint32_t sse42_run(uint32_t c32, const uint8_t *p,
                                                                   size_t n)
{
    uint64_t c = c32;
    if (n >= 3 * CRC32C_STRETCH && has_clmul) {
        size_t rounds = n / (3 * CRC32C_STRETCH);
        c = three_way(c, p, rounds);
        p += rounds * 3 * CRC32C_STRETCH;
        n -= rounds * 3 * CRC32C_STRETCH;
    }
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

__attribute__((target("sse4.2"))) static uint32_t crc32c_from_sse42(uint32_t crc, const uint8_t *a,
                                                                    size_t an, const uint8_t *b,
                                                                    size_t bn, const uint8_t *c,
                                                                    size_t cn)
{
    crc = sse42_run(~crc, a, an);
    crc = sse42_run(crc, b, bn);
    return ~sse42_run(crc, c, cn);
}

static int sse42, cpu_known;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_init(void)
{
    __builtin_cpu_init();
    shift_2 = gf2_x_power(8 * 2 * CRC32C_STRETCH - 33);
    shift_1 = gf2_x_power(8 * CRC32C_STRETCH - 33);
    has_clmul = __builtin_cpu_supports("pclmul") ? 1 : 0;
    sse42 = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    __atomic_store_n(&cpu_known, 1, __ATOMIC_RELEASE);
}

static int has_sse42(void)
{
    /* Once known, one load: this runs for every record read. */
    if (!__atomic_load_n(&cpu_known, __ATOMIC_ACQUIRE))
        pthread_once(&cpu_once, cpu_init);
    return sse42;
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
