/*
 * The owned-state wire and record codecs: round trips, and that no input
 * (truncated, oversized, random) is misread or crashes the decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "owned/persist.h"
#include "owned/wire.h"
#include "test.h"
#include "util/rng.h"
#include "util/status.h"

static owned_blob blob(const char *s)
{
    owned_blob b = {(const uint8_t *)s, strlen(s)};
    return b;
}

static void encode_sample(bytes *out, uint8_t kind)
{
    owned_blob deltas[3] = {blob("d1"), blob(""), blob("delta three")};
    owned_feed_entry feed[2] = {{blob("load"), 1, 7, 9}, {blob("shards"), 2, 3, 0}};
    owned_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = kind;
    m.type = blob("load");
    m.type_version = 3;
    m.incarnation = 42;
    m.age = 1000;
    if (kind == OWNED_MSG_SNAPSHOT) {
        m.flags = OWNED_SNAP_REPLY;
        m.base = blob("base view");
    }
    if (kind == OWNED_MSG_SNAPSHOT || kind == OWNED_MSG_DELTAS) {
        m.deltas = deltas;
        m.n_deltas = 3;
    }
    if (kind == OWNED_MSG_FEED) {
        m.feed = feed;
        m.n_feed = 2;
    }
    owned_msg_encode(out, &m);
}

TEST(test_every_kind_round_trips_to_the_same_bytes)
{
    limits lim = limits_default();
    for (uint8_t kind = OWNED_MSG_SNAPSHOT; kind <= OWNED_MSG_PULL; kind++) {
        bytes b = BYTES_INIT, again = BYTES_INIT;
        encode_sample(&b, kind);
        owned_msg m;
        ASSERT_OK(owned_msg_decode(&m, b.data, b.len, &lim));
        ASSERT_EQ_INT(m.kind, kind);
        if (kind != OWNED_MSG_FEED) {
            ASSERT_MEM_EQ(m.type.data, m.type.len, "load", 4);
            ASSERT_EQ_INT(m.type_version, 3);
            ASSERT_EQ_U64(m.incarnation, 42);
            ASSERT_EQ_U64(m.age, 1000);
        } else {
            ASSERT_EQ_INT(m.n_feed, 2);
            ASSERT_MEM_EQ(m.feed[1].type.data, m.feed[1].type.len, "shards", 6);
            ASSERT_EQ_U64(m.feed[0].age, 9);
        }
        if (kind == OWNED_MSG_SNAPSHOT || kind == OWNED_MSG_DELTAS) {
            ASSERT_EQ_INT(m.n_deltas, 3);
            ASSERT_MEM_EQ(m.deltas[2].data, m.deltas[2].len, "delta three", 11);
            ASSERT_EQ_INT(m.deltas[1].len, 0);
        }
        owned_msg_encode(&again, &m);
        ASSERT_MEM_EQ(again.data, again.len, b.data, b.len);
        owned_msg_free(&m);
        bytes_free(&b);
        bytes_free(&again);
    }
}

TEST(test_every_truncation_is_rejected_as_corrupt)
{
    limits lim = limits_default();
    for (uint8_t kind = OWNED_MSG_SNAPSHOT; kind <= OWNED_MSG_PULL; kind++) {
        bytes b = BYTES_INIT;
        encode_sample(&b, kind);
        for (size_t len = 0; len < b.len; len++) {
            owned_msg m;
            uint8_t *copy = malloc(len ? len : 1);
            memcpy(copy, b.data, len);
            int rc = owned_msg_decode(&m, copy, len, &lim);
            ASSERT_MSG(rc == ST_ECORRUPT || rc == ST_ELIMIT,
                       "kind %u truncated to %zu bytes: rc %d", kind, len, rc);
            free(copy);
        }
        bytes_free(&b);
    }
}

TEST(test_trailing_bytes_and_unknown_kinds_are_corrupt)
{
    limits lim = limits_default();
    bytes b = BYTES_INIT;
    encode_sample(&b, OWNED_MSG_PULL);
    bytes_put_u8(&b, 0);
    owned_msg m;
    ASSERT_STATUS(owned_msg_decode(&m, b.data, b.len, &lim), ST_ECORRUPT);
    b.data[1] = 9;
    ASSERT_STATUS(owned_msg_decode(&m, b.data, b.len, &lim), ST_ECORRUPT);
    b.data[0] = 2;
    ASSERT_STATUS(owned_msg_decode(&m, b.data, b.len, &lim), ST_EUNSUPPORTED);
    bytes_free(&b);
}

TEST(test_hostile_counts_hit_limits_before_allocating)
{
    limits lim = limits_default();
    bytes b = BYTES_INIT;
    bytes_put_u8(&b, OWNED_WIRE_FORMAT);
    bytes_put_u8(&b, OWNED_MSG_DELTAS);
    bytes_put_blob(&b, "t", 1);
    bytes_put_varint(&b, 1);
    bytes_put_varint(&b, 1);
    bytes_put_varint(&b, 1);
    bytes_put_varint(&b, UINT64_MAX / 2); /* deltas */
    owned_msg m;
    ASSERT_STATUS(owned_msg_decode(&m, b.data, b.len, &lim), ST_ELIMIT);
    lim.max_bytes = 4;
    ASSERT_STATUS(owned_msg_decode(&m, b.data, b.len, &lim), ST_ELIMIT);
    bytes_free(&b);
}

TEST(test_type_names_are_checked)
{
    ASSERT(owned_type_name_ok((const uint8_t *)"load", 4));
    ASSERT(!owned_type_name_ok((const uint8_t *)"", 0));
    ASSERT(!owned_type_name_ok((const uint8_t *)"a\0b", 3));
    char long_name[OWNED_TYPE_NAME_MAX + 1];
    memset(long_name, 'x', sizeof(long_name));
    ASSERT(!owned_type_name_ok((const uint8_t *)long_name, sizeof(long_name)));
}

TEST(test_random_bytes_never_crash_the_decoders)
{
    rng r;
    rng_seed(&r, test_seed());
    limits lim = limits_default();
    uint8_t buf[96];
    unsigned cases = test_cases(20000);
    for (unsigned k = 0; k < cases; k++) {
        size_t len = (size_t)rng_below(&r, sizeof(buf) + 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rng_next(&r);
        if (len > 1 && rng_chance(&r, 3, 4)) {
            buf[0] = OWNED_WIRE_FORMAT;
            buf[1] = (uint8_t)(1 + rng_below(&r, 4));
        }
        owned_msg m;
        if (owned_msg_decode(&m, buf, len, &lim) == ST_OK) {
            /* What is accepted re-encodes (canonically: varints may come
             * in longer forms) to bytes that decode to the same message. */
            bytes once = BYTES_INIT, twice = BYTES_INIT;
            owned_msg_encode(&once, &m);
            owned_msg_free(&m);
            ASSERT(once.len <= len);
            ASSERT_OK(owned_msg_decode(&m, once.data, once.len, &lim));
            owned_msg_encode(&twice, &m);
            owned_msg_free(&m);
            bool same = once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0;
            bytes_free(&once);
            bytes_free(&twice);
            ASSERT(same);
        }
        owned_record rec;
        if (owned_record_decode(&rec, buf, len, &lim) == ST_OK)
            owned_record_free(&rec);
    }
}

TEST(test_record_round_trips)
{
    limits lim = limits_default();
    owned_blob deltas[2] = {blob("a"), blob("bc")};
    owned_record r = {7, 3, 10, blob("base"), deltas, 2};
    bytes b = BYTES_INIT;
    owned_record_encode(&b, &r);
    owned_record out;
    ASSERT_OK(owned_record_decode(&out, b.data, b.len, &lim));
    ASSERT_EQ_INT(out.storage_version, 7);
    ASSERT_EQ_U64(out.incarnation, 3);
    ASSERT_EQ_U64(out.base_age, 10);
    ASSERT_MEM_EQ(out.base.data, out.base.len, "base", 4);
    ASSERT_EQ_INT(out.n_deltas, 2);
    ASSERT_MEM_EQ(out.deltas[1].data, out.deltas[1].len, "bc", 2);
    owned_record_free(&out);
    b.data[0] = 9;
    ASSERT_STATUS(owned_record_decode(&out, b.data, b.len, &lim), ST_EUNSUPPORTED);
    b.data[0] = OWNED_RECORD_FORMAT;
    ASSERT_STATUS(owned_record_decode(&out, b.data, b.len - 1, &lim), ST_ECORRUPT);
    char key[sizeof(OWNED_KEY_PREFIX) + OWNED_TYPE_NAME_MAX];
    ASSERT_EQ_INT(owned_record_key(key, (const uint8_t *)"load", 4), 10);
    ASSERT_STR_EQ(key, "owned/load");
    bytes_free(&b);
}
