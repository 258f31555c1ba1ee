/*
 * The plain envelope's pieces on their own: CRC-32C gives the standard
 * check value and the same answer in hardware and in the table version,
 * pieced or whole; a wrapped record opens only under its own binding and
 * with every byte intact; compression round-trips and is bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "seal/crc32c.h"
#include "seal/plain.h"
#include "test.h"
#include "util/status.h"

TEST(test_crc32c_matches_the_standard_check_value_and_the_table_version)
{
    const uint8_t *check = (const uint8_t *)"123456789";
    ASSERT_EQ_U64(crc32c(0, check, 9), 0xE3069283u);
    ASSERT_EQ_U64(crc32c_portable(0, check, 9), 0xE3069283u);
    /* Past 3 x 256 bytes the hardware version runs three stretches side
     * by side and joins them (crc32c.c): every length up to 2,600 and a
     * split inside, through, and across a stretch. */
    static uint8_t buf[2600];
    unsigned seed = (unsigned)test_seed();
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand_r(&seed);
    for (size_t n = 0; n <= sizeof(buf); n++) {
        uint32_t whole = crc32c(0, buf, n);
        ASSERT_EQ_U64(whole, crc32c_portable(0, buf, n));
        size_t cut = n / 3;
        ASSERT_EQ_U64(whole, crc32c(crc32c(0, buf, cut), buf + cut, n - cut));
        ASSERT_EQ_U64(crc32c(0x12345678u, buf, n), crc32c_portable(0x12345678u, buf, n));
    }
}

TEST(test_plain_record_opens_only_intact_and_in_its_place)
{
    const uint8_t *bind = (const uint8_t *)"event p 7", *other = (const uint8_t *)"event p 8";
    bytes blob = BYTES_INIT, out = BYTES_INIT;
    ASSERT_OK(plain_wrap(0, 0, bind, 9, (const uint8_t *)"payload", 7, &blob));
    ASSERT_OK(plain_open(1 << 20, bind, 9, blob.data, blob.len, &out));
    ASSERT_MEM_EQ(out.data, out.len, "payload", 7);
    ASSERT_STATUS(plain_open(1 << 20, other, 9, blob.data, blob.len, &out), ST_ECORRUPT);
    for (size_t i = 0; i < blob.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            blob.data[i] ^= (uint8_t)(1 << bit);
            bytes_reset(&out);
            int rc = plain_open(1 << 20, bind, 9, blob.data, blob.len, &out);
            ASSERT_MSG(rc == ST_ECORRUPT || rc == ST_ELIMIT || rc == ST_ECRYPTO,
                       "byte %zu bit %d flipped: status %d", i, bit, rc);
            blob.data[i] ^= (uint8_t)(1 << bit);
        }
    }
    ASSERT_STATUS(plain_open(1 << 20, bind, 9, blob.data, blob.len - 1, &out), ST_ECORRUPT);
    bytes_free(&blob);
    bytes_free(&out);
}

TEST(test_plain_compression_round_trips_and_respects_the_size_limit)
{
    static uint8_t big[8192];
    memset(big, 'q', sizeof(big));
    bytes blob = BYTES_INIT, out = BYTES_INIT;
    ASSERT_OK(plain_wrap(6, 256, (const uint8_t *)"k", 1, big, sizeof(big), &blob));
    ASSERT(blob.len < 200);
    ASSERT_OK(plain_open(1 << 20, (const uint8_t *)"k", 1, blob.data, blob.len, &out));
    ASSERT_MEM_EQ(out.data, out.len, big, sizeof(big));
    ASSERT_STATUS(plain_open(1000, (const uint8_t *)"k", 1, blob.data, blob.len, &out), ST_ELIMIT);
    bytes_reset(&blob);
    ASSERT_OK(plain_wrap(6, 256, (const uint8_t *)"k", 1, big, 100, &blob));
    ASSERT_EQ_U64(blob.len, PLAIN_HEADER_BYTES + 100); /* under the threshold: stored as is */
    bytes_free(&blob);
    bytes_free(&out);
}
