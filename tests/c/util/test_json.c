/*
 * Canonical JSON output helpers, UTF-8 validation and base64.
 */
#include <cjson/cJSON.h>

#include "test.h"
#include "util/json.h"
#include "util/rng.h"

static void assert_json(const char *expect, const void *s, size_t len)
{
    bytes b = BYTES_INIT;
    json_put_bytes(&b, s, len);
    ASSERT_MEM_EQ(b.data, b.len, expect, strlen(expect));
    bytes_free(&b);
}

TEST(test_strings_escape_only_what_json_requires)
{
    assert_json("\"a\\\"b\\\\c\\n\\u0001\"", "a\"b\\c\n\x01", 7);
    assert_json("\"h\xc3\xa9\"", "h\xc3\xa9", 3);
}

TEST(test_invalid_utf8_and_nul_take_the_bytes_form)
{
    assert_json("{\"$bytes\":\"/w==\"}", "\xff", 1);
    assert_json("{\"$bytes\":\"YQBi\"}", "a\0b", 3);
}

TEST(test_utf8_validation_rejects_overlong_and_surrogates)
{
    ASSERT(utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
    ASSERT(!utf8_valid((const uint8_t *)"\xc0\x80", 2));
    ASSERT(!utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
    ASSERT(!utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
    ASSERT(!utf8_valid((const uint8_t *)"\xe2\x82", 2));
}

TEST(test_bytes_round_trip_through_cjson)
{
    rng g;
    rng_seed(&g, test_seed());
    for (int round = 0; round < 500; round++) {
        uint8_t raw[40];
        size_t n = rng_below(&g, sizeof(raw));
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)(rng_chance(&g, 1, 2) ? 'a' + rng_below(&g, 26) : rng_next(&g));
        bytes text = BYTES_INIT, back = BYTES_INIT;
        json_put_bytes(&text, raw, n);
        bytes_put_u8(&text, 0);
        cJSON *parsed = cJSON_Parse((const char *)text.data);
        ASSERT_MSG(parsed, "cJSON could not parse %s", (const char *)text.data);
        ASSERT(json_read_bytes(parsed, &back));
        ASSERT_MEM_EQ(back.data, back.len, raw, n);
        cJSON_Delete(parsed);
        bytes_free(&text);
        bytes_free(&back);
    }
}

/* base64_decode must refuse the whole of `text`. */
static void expect_base64_refused(const char *text)
{
    bytes b = BYTES_INIT;
    ASSERT_MSG(!base64_decode(text, strlen(text), &b), "\"%s\" was accepted", text);
    bytes_free(&b);
}

TEST(test_base64_rejects_bad_padding_and_alphabet)
{
    expect_base64_refused("abc");
    expect_base64_refused("a=bc");
    expect_base64_refused("ab!c");
    bytes b = BYTES_INIT;
    ASSERT(base64_decode("aGk=", 4, &b));
    ASSERT_MEM_EQ(b.data, b.len, "hi", 2);
    bytes_free(&b);
}

TEST(test_base64_matches_the_rfc4648_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        size_t n = strlen(plain[i]);
        char text[16];
        ASSERT_EQ_U64(base64_encoded_len(n), strlen(coded[i]));
        base64_encode((const uint8_t *)plain[i], n, text);
        ASSERT_MEM_EQ(text, base64_encoded_len(n), coded[i], strlen(coded[i]));
        bytes b = BYTES_INIT;
        ASSERT(base64_decode(coded[i], strlen(coded[i]), &b));
        ASSERT_MEM_EQ(b.data, b.len, plain[i], n);
        bytes_free(&b);
    }
    /* The alphabet's last two characters (bytes 0xfb 0xff 0xbf). */
    char text[8];
    base64_encode((const uint8_t *)"\xfb\xff\xbf", 3, text);
    ASSERT_MEM_EQ(text, 4, "+/+/", 4);
}

TEST(test_base64_refuses_non_canonical_trailing_bits)
{
    /* "aGl=" would decode to "hi" only by dropping set bits; canonical JSON
     * has one text per value, so only "aGk=" is accepted. */
    expect_base64_refused("aGl=");
    expect_base64_refused("aGk");
}
