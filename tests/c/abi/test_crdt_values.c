/*
 * dd_crdt through the public header and libddata.so only: every call's
 * happy path, and NULL, closed handles and garbage bytes yielding DD_E*
 * codes with a message.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ddata.h"
#include "test.h"

static dd_op op_of(uint32_t kind, const char *key, const char *value, uint64_t amount)
{
    dd_op op = DD_OP_INIT;
    op.kind = kind;
    op.amount = amount;
    if (key) {
        op.key = (const uint8_t *)key;
        op.key_len = strlen(key);
    }
    if (value) {
        op.value = (const uint8_t *)value;
        op.value_len = strlen(value);
    }
    return op;
}

static void assert_value(const dd_crdt *v, const char *expect)
{
    dd_buf b = DD_BUF_INIT;
    ASSERT_OK(dd_crdt_value_json(&b, v));
    ASSERT_MEM_EQ(b.data, b.len, expect, strlen(expect));
    dd_buf_free(&b);
}

TEST(test_orset_add_delta_and_merge_through_the_abi)
{
    dd_crdt *a, *b, *delta;
    ASSERT_OK(dd_crdt_new(&a, DD_ORSET));
    ASSERT_OK(dd_crdt_new(&b, DD_ORSET));
    dd_op add = op_of(DD_OP_ADD, NULL, "x", 0);
    ASSERT_OK(dd_crdt_apply(a, &add, 1, 0, &delta));
    ASSERT_OK(dd_crdt_merge(b, delta));
    ASSERT_EQ_INT(dd_crdt_contains(b, (const uint8_t *)"x", 1), 1);
    ASSERT_EQ_INT(dd_crdt_contains(b, (const uint8_t *)"y", 1), 0);
    ASSERT_EQ_INT(dd_crdt_equal(a, b), 1);
    uint64_t n, da, db;
    ASSERT_OK(dd_crdt_count(&n, b));
    ASSERT_EQ_U64(n, 1);
    ASSERT_OK(dd_crdt_digest(&da, a));
    ASSERT_OK(dd_crdt_digest(&db, b));
    ASSERT_EQ_U64(da, db);
    ASSERT_EQ_INT(dd_crdt_type_of(b), DD_ORSET);
    ASSERT_STR_EQ(dd_crdt_type_name(DD_ORSET), "ORSet");
    ASSERT_EQ_INT(dd_crdt_needs_causal_delta(DD_ORSET), 1);
    ASSERT_EQ_INT(dd_crdt_needs_causal_delta(DD_GCOUNTER), 0);
    assert_value(b, "{\"elements\":[\"x\"],\"type\":\"ORSet\"}");
    ASSERT_OK(dd_crdt_free(delta));
    ASSERT_OK(dd_crdt_free(a));
    ASSERT_OK(dd_crdt_free(b));
}

TEST(test_encode_decode_and_json_round_trip)
{
    dd_crdt *a, *back, *fromj;
    ASSERT_OK(dd_crdt_new(&a, DD_PNCOUNTERMAP));
    dd_op inc = op_of(DD_OP_DECREMENT, "k", NULL, 7);
    ASSERT_OK(dd_crdt_apply(a, &inc, 9, 0, NULL));
    dd_buf bin = DD_BUF_INIT, js = DD_BUF_INIT;
    ASSERT_OK(dd_crdt_encode(&bin, a));
    ASSERT_OK(dd_crdt_decode(&back, bin.data, bin.len, NULL, 0));
    ASSERT_EQ_INT(dd_crdt_equal(a, back), 1);
    ASSERT_OK(dd_crdt_to_json(&js, a));
    ASSERT_OK(dd_crdt_from_json(&fromj, (const char *)js.data, js.len, NULL));
    ASSERT_EQ_INT(dd_crdt_equal(a, fromj), 1);
    dd_crdt *k;
    ASSERT_OK(dd_crdt_map_get(&k, a, (const uint8_t *)"k", 1));
    int64_t v;
    ASSERT_OK(dd_crdt_counter_value(&v, k));
    ASSERT_EQ_INT(v, -7);
    ASSERT_STATUS(dd_crdt_map_get(&k, a, (const uint8_t *)"nope", 4), DD_ENOTFOUND);
    dd_buf_free(&bin);
    dd_buf_free(&js);
    dd_crdt_free(a);
    dd_crdt_free(back);
    dd_crdt_free(fromj);
}

TEST(test_typed_reads_of_register_flag_and_elements)
{
    dd_crdt *r, *f, *s;
    ASSERT_OK(dd_crdt_new(&r, DD_LWWREGISTER));
    ASSERT_OK(dd_crdt_new(&f, DD_FLAG));
    ASSERT_OK(dd_crdt_new(&s, DD_GSET));
    dd_buf b = DD_BUF_INIT;
    ASSERT_STATUS(dd_crdt_register_get(&b, r), DD_ENOTFOUND);
    dd_op as = op_of(DD_OP_ASSIGN, NULL, "hello", 0);
    ASSERT_OK(dd_crdt_apply(r, &as, 1, 1000, NULL));
    ASSERT_OK(dd_crdt_register_get(&b, r));
    ASSERT_MEM_EQ(b.data, b.len, "hello", 5);
    dd_buf_free(&b);
    ASSERT_EQ_INT(dd_crdt_flag_value(f), 0);
    dd_op en = op_of(DD_OP_ENABLE, NULL, NULL, 0);
    ASSERT_OK(dd_crdt_apply(f, &en, 1, 0, NULL));
    ASSERT_EQ_INT(dd_crdt_flag_value(f), 1);
    dd_op a1 = op_of(DD_OP_ADD, NULL, "bb", 0), a2 = op_of(DD_OP_ADD, NULL, "a", 0);
    ASSERT_OK(dd_crdt_apply(s, &a1, 1, 0, NULL));
    ASSERT_OK(dd_crdt_apply(s, &a2, 1, 0, NULL));
    ASSERT_OK(dd_crdt_elements(&b, s));
    ASSERT_MEM_EQ(b.data, b.len,
                  "\x01\x00\x00\x00"
                  "a"
                  "\x02\x00\x00\x00"
                  "bb",
                  11);
    dd_buf_free(&b);
    ASSERT_STATUS(dd_crdt_flag_value(s), DD_ETYPE);
    int64_t v;
    ASSERT_STATUS(dd_crdt_counter_value(&v, s), DD_ETYPE);
    dd_crdt_free(r);
    dd_crdt_free(f);
    dd_crdt_free(s);
}

TEST(test_nested_ormap_update_through_the_abi)
{
    dd_crdt *m;
    ASSERT_OK(dd_crdt_new(&m, DD_ORMAP));
    dd_op inner = op_of(DD_OP_INCREMENT, NULL, NULL, 4);
    dd_op mid = op_of(DD_OP_UPDATE, "c", NULL, 0);
    mid.value_type = DD_GCOUNTER;
    mid.nested = &inner;
    dd_op outer = op_of(DD_OP_UPDATE, "inner", NULL, 0);
    outer.value_type = DD_ORMAP;
    outer.nested = &mid;
    ASSERT_OK(dd_crdt_apply(m, &outer, 1, 0, NULL));
    assert_value(m, "{\"entries\":[{\"key\":\"inner\",\"value\":{\"entries\":[{\"key\":\"c\","
                    "\"value\":{\"type\":\"GCounter\",\"value\":4}}],\"type\":\"ORMap\"}}],"
                    "\"type\":\"ORMap\"}");
    dd_crdt_free(m);
}

TEST(test_null_and_closed_handles_are_misuse_with_a_message)
{
    dd_crdt *a;
    ASSERT_OK(dd_crdt_new(&a, DD_GCOUNTER));
    ASSERT_OK(dd_crdt_free(a));
    ASSERT_STATUS(dd_crdt_free(a), DD_EMISUSE);
    ASSERT_OK(dd_crdt_free(NULL));
    dd_op inc = op_of(DD_OP_INCREMENT, NULL, NULL, 1);
    ASSERT_STATUS(dd_crdt_apply(a, &inc, 1, 0, NULL), DD_EMISUSE);
    ASSERT(strlen(dd_error_last()->message) > 0);
    ASSERT_STATUS(dd_crdt_apply(NULL, &inc, 1, 0, NULL), DD_EMISUSE);
    ASSERT_STATUS(dd_crdt_merge(a, NULL), DD_EMISUSE);
    ASSERT_STATUS(dd_crdt_type_of(NULL), DD_EMISUSE);
    ASSERT_STATUS(dd_crdt_contains(a, (const uint8_t *)"x", 1), DD_EMISUSE);
    uint64_t n;
    ASSERT_STATUS(dd_crdt_count(&n, a), DD_EMISUSE);
    dd_buf b = DD_BUF_INIT;
    ASSERT_STATUS(dd_crdt_encode(&b, a), DD_EMISUSE);
    ASSERT_STATUS(dd_crdt_equal(a, a), DD_EMISUSE);
    ASSERT_STATUS(dd_crdt_flag_value(NULL), DD_EMISUSE);
    /* a forged handle */
    ASSERT_STATUS(dd_crdt_type_of((const dd_crdt *)(uintptr_t)0x12345678), DD_EMISUSE);
}

TEST(test_bad_arguments_are_einval)
{
    dd_crdt *a;
    ASSERT_STATUS(dd_crdt_new(NULL, DD_ORSET), DD_EINVAL);
    ASSERT_STATUS(dd_crdt_new(&a, 99), DD_EINVAL);
    ASSERT_STATUS(dd_crdt_new(&a, 0), DD_EINVAL);
    ASSERT_OK(dd_crdt_new(&a, DD_ORSET));
    ASSERT_STATUS(dd_crdt_apply(a, NULL, 1, 0, NULL), DD_EINVAL);
    dd_op bad = op_of(99, NULL, NULL, 0);
    ASSERT_STATUS(dd_crdt_apply(a, &bad, 1, 0, NULL), DD_EINVAL);
    dd_op old = op_of(DD_OP_ADD, NULL, "x", 0);
    old.version = 77;
    ASSERT_STATUS(dd_crdt_apply(a, &old, 1, 0, NULL), DD_EINVAL);
    dd_op nulval = op_of(DD_OP_ADD, NULL, NULL, 0);
    nulval.value_len = 3;
    ASSERT_STATUS(dd_crdt_apply(a, &nulval, 1, 0, NULL), DD_EINVAL);
    dd_op inc = op_of(DD_OP_INCREMENT, NULL, NULL, 1);
    ASSERT_STATUS(dd_crdt_apply(a, &inc, 1, 0, NULL), DD_ETYPE);
    dd_op cyc = op_of(DD_OP_UPDATE, "k", NULL, 0);
    cyc.value_type = DD_ORMAP;
    cyc.nested = &cyc;
    dd_crdt *m;
    ASSERT_OK(dd_crdt_new(&m, DD_ORMAP));
    ASSERT_STATUS(dd_crdt_apply(m, &cyc, 1, 0, NULL), DD_ELIMIT);
    dd_crdt *g;
    ASSERT_OK(dd_crdt_new(&g, DD_GCOUNTER));
    ASSERT_STATUS(dd_crdt_merge(a, g), DD_ETYPE);
    ASSERT_STATUS(dd_crdt_decode(&g, NULL, 3, NULL, 0), DD_EINVAL);
    dd_crdt_free(a);
    dd_crdt_free(m);
    dd_crdt_free(g);
}

/* A new value of `type` after op (actor 1, at now_ms) in *v, and its
 * encoding. */
static dd_buf encoded_after(dd_crdt **v, uint32_t type, dd_op op, uint64_t now_ms)
{
    ASSERT_OK(dd_crdt_new(v, type));
    ASSERT_OK(dd_crdt_apply(*v, &op, 1, now_ms, NULL));
    dd_buf b = DD_BUF_INIT;
    ASSERT_OK(dd_crdt_encode(&b, *v));
    return b;
}

TEST(test_garbage_bytes_are_corrupt_and_lose_nothing)
{
    dd_crdt *a, *out = NULL;
    dd_buf good = encoded_after(&a, DD_ORSET, op_of(DD_OP_ADD, NULL, "keep", 0), 0);
    ASSERT_STATUS(dd_crdt_decode(&out, (const uint8_t *)"\x07garbage", 8, NULL, 0), DD_ECORRUPT);
    ASSERT(out == NULL);
    ASSERT_STATUS(dd_crdt_decode(&out, good.data, good.len - 1, NULL, 0), DD_ECORRUPT);
    ASSERT_STATUS(dd_crdt_decode(&out, good.data, 0, NULL, 0), DD_ECORRUPT);
    ASSERT_STATUS(dd_crdt_from_json(&out, "{\"type\":1}", 10, NULL), DD_ECORRUPT);
    ASSERT_STATUS(dd_crdt_from_json(&out, "nope", 4, NULL), DD_ECORRUPT);
    dd_limits lim = DD_LIMITS_INIT;
    lim.max_bytes = 4;
    ASSERT_STATUS(dd_crdt_decode(&out, good.data, good.len, &lim, 0), DD_ELIMIT);
    ASSERT(strstr(dd_error_last()->message, "limit") != NULL);
    ASSERT_EQ_INT(dd_crdt_contains(a, (const uint8_t *)"keep", 4), 1);
    dd_buf_free(&good);
    dd_crdt_free(a);
}

TEST(test_lww_timestamp_beyond_the_skew_is_elimit)
{
    dd_crdt *r, *out = NULL;
    dd_buf b = encoded_after(&r, DD_LWWREGISTER, op_of(DD_OP_ASSIGN, NULL, "v", 0), 10000000);
    ASSERT_STATUS(dd_crdt_decode(&out, b.data, b.len, NULL, 1000), DD_ELIMIT);
    ASSERT_OK(dd_crdt_decode(&out, b.data, b.len, NULL, 10000000));
    dd_buf_free(&b);
    dd_crdt_free(out);
    dd_crdt_free(r);
}

TEST(test_type_name_of_an_unknown_type_is_never_null)
{
    ASSERT_STR_EQ(dd_crdt_type_name(0), "unknown");
    ASSERT_STR_EQ(dd_crdt_type_name(999), "unknown");
    ASSERT_STR_EQ(dd_crdt_type_name(DD_ORMULTIMAP), "ORMultiMap");
}

TEST(test_random_actor_ids_are_nonzero_and_distinct)
{
    uint64_t seen[64];
    for (int i = 0; i < 64; i++) {
        ASSERT_OK(dd_actor_id_random(&seen[i]));
        ASSERT(seen[i] != 0);
        for (int j = 0; j < i; j++)
            ASSERT(seen[i] != seen[j]);
    }
    ASSERT_STATUS(dd_actor_id_random(NULL), DD_EINVAL);
}
