/*
 * Byte buffers and the bounds-checked reader.
 */
#include "test.h"
#include "util/bytes.h"
#include "util/rng.h"

TEST(test_varint_round_trips_edge_values)
{
    const uint64_t values[] = {0,         1, 127, 128, 16383, 16384, UINT32_MAX, (uint64_t)1 << 63,
                               UINT64_MAX};
    bytes b = BYTES_INIT;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        bytes_put_varint(&b, values[i]);
    reader r = reader_make(b.data, b.len);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        ASSERT_EQ_U64(reader_varint(&r), values[i]);
    ASSERT(reader_done(&r));
    bytes_free(&b);
}

TEST(test_svarint_round_trips_random_values)
{
    rng g;
    rng_seed(&g, test_seed());
    bytes b = BYTES_INIT;
    int64_t v[1000];
    for (int i = 0; i < 1000; i++) {
        v[i] = (int64_t)rng_next(&g) >> (rng_below(&g, 64));
        bytes_put_svarint(&b, v[i]);
    }
    reader r = reader_make(b.data, b.len);
    for (int i = 0; i < 1000; i++)
        ASSERT_EQ_INT(reader_svarint(&r), v[i]);
    ASSERT(reader_done(&r));
    bytes_free(&b);
}

TEST(test_reader_fails_on_short_input_and_stays_failed)
{
    uint8_t data[3] = {1, 2, 3};
    reader r = reader_make(data, sizeof(data));
    ASSERT_EQ_INT(reader_u32(&r), 0);
    ASSERT(!reader_ok(&r));
    ASSERT_EQ_INT(reader_u8(&r), 0);
    ASSERT(!reader_ok(&r));
}

TEST(test_varint_rejects_overlong_encoding)
{
    uint8_t eleven[11];
    memset(eleven, 0xff, sizeof(eleven));
    reader r = reader_make(eleven, sizeof(eleven));
    reader_varint(&r);
    ASSERT(!reader_ok(&r));
    uint8_t tenth_too_big[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    r = reader_make(tenth_too_big, sizeof(tenth_too_big));
    reader_varint(&r);
    ASSERT(!reader_ok(&r));
}

TEST(test_blob_length_beyond_max_or_input_fails)
{
    bytes b = BYTES_INIT;
    bytes_put_blob(&b, "hello", 5);
    size_t len;
    reader r = reader_make(b.data, b.len);
    ASSERT(reader_blob(&r, 4, &len) == NULL);
    ASSERT(!reader_ok(&r));
    r = reader_make(b.data, b.len - 1);
    ASSERT(reader_blob(&r, 100, &len) == NULL);
    r = reader_make(b.data, b.len);
    const uint8_t *p = reader_blob(&r, 100, &len);
    ASSERT_MEM_EQ(p, len, "hello", 5);
    bytes_free(&b);
}

TEST(test_fixed_width_integers_are_little_endian)
{
    bytes b = BYTES_INIT;
    bytes_put_u32(&b, 0x04030201u);
    bytes_put_u64(&b, 0x0807060504030201ull);
    const uint8_t expect[] = {1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8};
    ASSERT_MEM_EQ(b.data, b.len, expect, sizeof(expect));
    bytes_free(&b);
}

TEST(test_printf_appends_without_terminator)
{
    bytes b = BYTES_INIT;
    bytes_printf(&b, "%d-%s", 42, "x");
    bytes_printf(&b, "!");
    ASSERT_MEM_EQ(b.data, b.len, "42-x!", 5);
    bytes_free(&b);
}

TEST(test_reader_over_null_input_is_empty)
{
    reader r = reader_make(NULL, 0);
    ASSERT_EQ_U64(reader_left(&r), 0);
    ASSERT(reader_done(&r));
    ASSERT_EQ_INT(reader_u8(&r), 0);
    ASSERT(!reader_ok(&r));
}
