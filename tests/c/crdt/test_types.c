/*
 * The value semantics of each type, one small story per behaviour.
 */
#include "crdt_support.h"

static crdt *make(crdt_type t)
{
    crdt *v;
    ASSERT_OK(crdt_new(&v, t));
    return v;
}

/* Merges `from` into `into`, which then reads as `json`. */
static void expect_merge(crdt *into, const crdt *from, const char *json)
{
    ASSERT_OK(crdt_merge(into, from));
    ASSERT_STR_EQ(value_of(into), json);
}

/* `actor` assigns `value` to register r, its clock reading now_ms. */
static void assign(crdt *r, const char *value, uint64_t actor, uint64_t now_ms)
{
    apply_ok(r, op_val(CRDT_OP_ASSIGN, value), actor, now_ms);
}

/* A new register of `type` that `actor` assigned `value` at now_ms. */
static crdt *assigned(crdt_type type, const char *value, uint64_t actor, uint64_t now_ms)
{
    crdt *r = make(type);
    assign(r, value, actor, now_ms);
    return r;
}

static void free_both(crdt *a, crdt *b)
{
    crdt_free(a);
    crdt_free(b);
}

TEST(test_gcounter_sums_increments_of_all_actors)
{
    crdt *a = make(CRDT_GCOUNTER), *b = make(CRDT_GCOUNTER);
    apply_ok(a, op_amount(CRDT_OP_INCREMENT, 3), 1, 0);
    apply_ok(b, op_amount(CRDT_OP_INCREMENT, 4), 2, 0);
    apply_ok(a, op_amount(CRDT_OP_INCREMENT, 1), 1, 0);
    ASSERT_OK(crdt_merge(a, b));
    expect_merge(a, b, "{\"type\":\"GCounter\",\"value\":8}");
    free_both(a, b);
}

TEST(test_gcounter_rejects_decrement_with_etype)
{
    crdt *a = make(CRDT_GCOUNTER);
    crdt_op op = op_amount(CRDT_OP_DECREMENT, 1);
    crdt_ctx ctx = {1, 0};
    ASSERT_STATUS(crdt_apply(a, &op, &ctx, NULL), ST_ETYPE);
    crdt_free(a);
}

TEST(test_pncounter_goes_negative)
{
    crdt *a = make(CRDT_PNCOUNTER);
    apply_ok(a, op_amount(CRDT_OP_INCREMENT, 2), 1, 0);
    apply_ok(a, op_amount(CRDT_OP_DECREMENT, 5), 1, 0);
    int64_t v;
    ASSERT_OK(crdt_counter_value(a, &v));
    ASSERT_EQ_INT(v, -3);
    crdt_free(a);
}

TEST(test_orset_concurrent_add_wins_over_remove)
{
    crdt *a = make(CRDT_ORSET), *b = make(CRDT_ORSET);
    apply_ok(a, op_val(CRDT_OP_ADD, "x"), 1, 0);
    ASSERT_OK(crdt_merge(b, a));
    apply_ok(b, op_val(CRDT_OP_REMOVE, "x"), 2, 0);
    apply_ok(a, op_val(CRDT_OP_ADD, "x"), 1, 0);
    ASSERT_OK(crdt_merge(a, b));
    ASSERT_OK(crdt_merge(b, a));
    ASSERT_STR_EQ(value_of(a), "{\"elements\":[\"x\"],\"type\":\"ORSet\"}");
    ASSERT(crdt_equal(a, b));
    free_both(a, b);
}

TEST(test_orset_observed_remove_removes_everywhere)
{
    crdt *a = make(CRDT_ORSET), *b = make(CRDT_ORSET);
    apply_ok(a, op_val(CRDT_OP_ADD, "x"), 1, 0);
    apply_ok(a, op_val(CRDT_OP_ADD, "y"), 1, 0);
    ASSERT_OK(crdt_merge(b, a));
    apply_ok(b, op_val(CRDT_OP_REMOVE, "x"), 2, 0);
    expect_merge(a, b, "{\"elements\":[\"y\"],\"type\":\"ORSet\"}");
    ASSERT_EQ_U64(crdt_count(a), 1);
    free_both(a, b);
}

TEST(test_orset_remove_leaves_no_tombstone)
{
    crdt *a = make(CRDT_ORSET), *empty = make(CRDT_ORSET);
    char e[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(e, sizeof e, "element-%d", i);
        apply_ok(a, op_val(CRDT_OP_ADD, e), 1, 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(e, sizeof e, "element-%d", i);
        apply_ok(a, op_val(CRDT_OP_REMOVE, e), 1, 0);
    }
    bytes x = BYTES_INIT, y = BYTES_INIT;
    ASSERT_OK(crdt_encode(a, &x));
    ASSERT_OK(crdt_encode(empty, &y));
    /* one actor and its counter: the context only, no per-element residue */
    ASSERT(x.len <= y.len + 16);
    bytes_free(&x);
    bytes_free(&y);
    free_both(a, empty);
}

TEST(test_gset_is_a_union)
{
    crdt *a = make(CRDT_GSET), *b = make(CRDT_GSET);
    apply_ok(a, op_val(CRDT_OP_ADD, "b"), 1, 0);
    apply_ok(b, op_val(CRDT_OP_ADD, "a"), 2, 0);
    apply_ok(b, op_val(CRDT_OP_ADD, "b"), 2, 0);
    expect_merge(a, b, "{\"elements\":[\"a\",\"b\"],\"type\":\"GSet\"}");
    free_both(a, b);
}

TEST(test_lww_later_timestamp_wins_and_ties_go_to_higher_actor)
{
    crdt *a = assigned(CRDT_LWWREGISTER, "old", 1, 100);
    crdt *b = assigned(CRDT_LWWREGISTER, "new", 2, 200);
    expect_merge(a, b, "{\"type\":\"LWWRegister\",\"value\":\"new\"}");
    crdt *c = assigned(CRDT_LWWREGISTER, "from-9", 9, 500);
    crdt *d = assigned(CRDT_LWWREGISTER, "from-3", 3, 500);
    expect_merge(d, c, "{\"type\":\"LWWRegister\",\"value\":\"from-9\"}");
    free_both(a, b);
    free_both(c, d);
}

TEST(test_lww_local_write_wins_even_with_a_clock_behind)
{
    crdt *a = assigned(CRDT_LWWREGISTER, "first", 1, 1000);
    assign(a, "second", 1, 10);
    ASSERT_STR_EQ(value_of(a), "{\"type\":\"LWWRegister\",\"value\":\"second\"}");
    crdt_free(a);
}

TEST(test_lww_empty_register_always_loses)
{
    crdt *a = assigned(CRDT_LWWREGISTER, "v", 1, 0), *empty = make(CRDT_LWWREGISTER);
    ASSERT_OK(crdt_merge(a, empty));
    expect_merge(empty, a, "{\"type\":\"LWWRegister\",\"value\":\"v\"}");
    free_both(a, empty);
}

TEST(test_flag_stays_enabled)
{
    crdt *a = make(CRDT_FLAG), *b = make(CRDT_FLAG);
    apply_ok(a, op_val(CRDT_OP_ENABLE, NULL), 1, 0);
    ASSERT_OK(crdt_merge(a, b));
    expect_merge(b, a, "{\"type\":\"Flag\",\"value\":true}");
    free_both(a, b);
}

TEST(test_mvregister_keeps_concurrent_values_and_later_assign_replaces_them)
{
    crdt *a = assigned(CRDT_MVREGISTER, "x", 1, 0), *b = assigned(CRDT_MVREGISTER, "y", 2, 0);
    expect_merge(a, b, "{\"type\":\"MVRegister\",\"values\":[\"x\",\"y\"]}");
    assign(a, "z", 1, 0);
    expect_merge(b, a, "{\"type\":\"MVRegister\",\"values\":[\"z\"]}");
    free_both(a, b);
}

TEST(test_ormap_nests_values_and_merges_them)
{
    crdt *a = make(CRDT_ORMAP), *b = make(CRDT_ORMAP);
    crdt_op inc = op_amount(CRDT_OP_INCREMENT, 2);
    crdt_op up = op_key(CRDT_OP_UPDATE, "hits", NULL, 0);
    up.value_type = CRDT_GCOUNTER;
    up.nested = &inc;
    apply_ok(a, up, 1, 0);
    apply_ok(b, up, 2, 0);
    crdt_op add = op_val(CRDT_OP_ADD, "u1");
    crdt_op up2 = op_key(CRDT_OP_UPDATE, "users", NULL, 0);
    up2.value_type = CRDT_ORSET;
    up2.nested = &add;
    apply_ok(b, up2, 2, 0);
    ASSERT_OK(crdt_merge(a, b));
    ASSERT_STR_EQ(value_of(a), "{\"entries\":[{\"key\":\"hits\",\"value\":{\"type\":\"GCounter\","
                               "\"value\":4}},{\"key\":\"users\",\"value\":{\"elements\":[\"u1\"],"
                               "\"type\":\"ORSet\"}}],\"type\":\"ORMap\"}");
    free_both(a, b);
}

TEST(test_ormap_update_with_another_type_fails_with_etype)
{
    crdt *a = make(CRDT_ORMAP);
    crdt_op inc = op_amount(CRDT_OP_INCREMENT, 2);
    crdt_op up = op_key(CRDT_OP_UPDATE, "k", NULL, 0);
    up.value_type = CRDT_GCOUNTER;
    up.nested = &inc;
    apply_ok(a, up, 1, 0);
    crdt_op add = op_val(CRDT_OP_ADD, "x");
    up.value_type = CRDT_ORSET;
    up.nested = &add;
    crdt_ctx ctx = {1, 0};
    ASSERT_STATUS(crdt_apply(a, &up, &ctx, NULL), ST_ETYPE);
    crdt_free(a);
}

TEST(test_fixed_maps_take_their_shortcut_ops)
{
    crdt *lww = make(CRDT_LWWMAP), *pn = make(CRDT_PNCOUNTERMAP), *gc = make(CRDT_GCOUNTERMAP),
         *mm = make(CRDT_ORMULTIMAP);
    apply_ok(lww, op_key(CRDT_OP_ASSIGN, "k", "v", 0), 1, 5);
    apply_ok(pn, op_key(CRDT_OP_DECREMENT, "k", NULL, 3), 1, 0);
    apply_ok(gc, op_key(CRDT_OP_INCREMENT, "k", NULL, 3), 1, 0);
    apply_ok(mm, op_key(CRDT_OP_ADD, "k", "a", 0), 1, 0);
    apply_ok(mm, op_key(CRDT_OP_ADD, "k", "b", 0), 1, 0);
    apply_ok(mm, op_key(CRDT_OP_REMOVE, "k", "a", 0), 1, 0);
    ASSERT_STR_EQ(value_of(lww),
                  "{\"entries\":[{\"key\":\"k\",\"value\":\"v\"}],\"type\":\"LWWMap\"}");
    ASSERT_STR_EQ(value_of(pn),
                  "{\"entries\":[{\"key\":\"k\",\"value\":-3}],\"type\":\"PNCounterMap\"}");
    ASSERT_STR_EQ(value_of(gc),
                  "{\"entries\":[{\"key\":\"k\",\"value\":3}],\"type\":\"GCounterMap\"}");
    ASSERT_STR_EQ(value_of(mm),
                  "{\"entries\":[{\"key\":\"k\",\"value\":[\"b\"]}],\"type\":\"ORMultiMap\"}");
    apply_ok(mm, op_key(CRDT_OP_REMOVE, "k", NULL, 0), 1, 0);
    ASSERT_STR_EQ(value_of(mm), "{\"entries\":[],\"type\":\"ORMultiMap\"}");
    free_both(lww, pn);
    free_both(gc, mm);
}

TEST(test_map_remove_loses_to_concurrent_update)
{
    crdt *a = make(CRDT_PNCOUNTERMAP), *b = make(CRDT_PNCOUNTERMAP);
    apply_ok(a, op_key(CRDT_OP_INCREMENT, "k", NULL, 1), 1, 0);
    ASSERT_OK(crdt_merge(b, a));
    apply_ok(b, op_key(CRDT_OP_REMOVE, "k", NULL, 0), 2, 0);
    apply_ok(a, op_key(CRDT_OP_INCREMENT, "k", NULL, 1), 1, 0);
    ASSERT_OK(crdt_merge(b, a));
    ASSERT_OK(crdt_merge(a, b));
    ASSERT(crdt_equal(a, b));
    bool has;
    ASSERT_OK(crdt_contains(a, (const uint8_t *)"k", 1, &has));
    ASSERT(has);
    free_both(a, b);
}

TEST(test_orset_survives_growth_compaction_and_merge_at_scale)
{
    crdt *a = make(CRDT_ORSET), *b;
    char e[40];
    for (int i = 0; i < 20000; i++) {
        snprintf(e, sizeof e, "element-with-a-longer-name-%d", i);
        apply_ok(a, op_val(CRDT_OP_ADD, e), 1, 0);
    }
    ASSERT_OK(crdt_clone(&b, a));
    for (int i = 0; i < 20000; i += 2) {
        snprintf(e, sizeof e, "element-with-a-longer-name-%d", i);
        apply_ok(a, op_val(CRDT_OP_REMOVE, e), 1, 0);
    }
    for (int i = 1; i < 20000; i += 4) {
        snprintf(e, sizeof e, "element-with-a-longer-name-%d", i);
        apply_ok(b, op_val(CRDT_OP_ADD, e), 2, 0); /* a second dot, concurrent */
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(e, sizeof e, "element-with-a-longer-name-%d", i);
        bool has;
        ASSERT_OK(crdt_contains(a, (const uint8_t *)e, strlen(e), &has));
        ASSERT_EQ_INT(has, i % 2);
    }
    crdt *ab, *ba;
    ASSERT_OK(crdt_clone(&ab, a));
    ASSERT_OK(crdt_clone(&ba, b));
    ASSERT_OK(crdt_merge(ab, b));
    ASSERT_OK(crdt_merge(ba, a));
    ASSERT(crdt_equal(ab, ba));
    ASSERT_EQ_U64(crdt_count(ab), 10000);
    bytes x = BYTES_INIT;
    ASSERT_OK(crdt_encode(ab, &x));
    crdt *back;
    ASSERT_OK(crdt_decode(&back, x.data, x.len, NULL, 0));
    ASSERT(crdt_equal(back, ab));
    bytes_free(&x);
    free_both(back, ab);
    free_both(ba, a);
    crdt_free(b);
}
