/*
 * Removed-node pruning in the counters (counter.c): a pruned actor's count
 * moves into the survivor's slot and a marker makes every later merge
 * ignore that actor, so an old, unpruned copy merged back in any order
 * counts the removed actor exactly once. Nested counters (PNCounterMap,
 * ORMap) prune too, and the encoding stays version 1 until a marker exists.
 */
#include "crdt_support.h"
#include "util/rng.h"

#define SURVIVOR 1u
#define REMOVED 2u

static crdt *new_value(crdt_type t)
{
    crdt *v;
    ASSERT_OK(crdt_new(&v, t));
    return v;
}

static crdt *clone_of(const crdt *v)
{
    crdt *c;
    ASSERT_OK(crdt_clone(&c, v));
    return c;
}

static int64_t counter(const crdt *v)
{
    int64_t x;
    ASSERT_OK(crdt_counter_value(v, &x));
    return x;
}

static void increment(crdt *v, uint64_t actor, int64_t amount)
{
    crdt_op op = op_amount(amount >= 0 ? CRDT_OP_INCREMENT : CRDT_OP_DECREMENT,
                           (uint64_t)(amount >= 0 ? amount : -amount));
    apply_ok(v, op, actor, 1);
}

static void map_increment(crdt *v, const char *key, uint64_t actor, int64_t amount)
{
    crdt_op op = op_key(amount >= 0 ? CRDT_OP_INCREMENT : CRDT_OP_DECREMENT, key, NULL,
                        (uint64_t)(amount >= 0 ? amount : -amount));
    apply_ok(v, op, actor, 1);
}

static uint8_t version_byte(const crdt *v)
{
    bytes b = BYTES_INIT;
    ASSERT_OK(crdt_encode(v, &b));
    uint8_t ver = b.data[0];
    bytes_free(&b);
    return ver;
}

static void assert_roundtrip(const crdt *v)
{
    bytes b = BYTES_INIT;
    ASSERT_OK(crdt_encode(v, &b));
    crdt *d;
    ASSERT_OK(crdt_decode(&d, b.data, b.len, NULL, 1));
    ASSERT(crdt_equal(v, d));
    crdt_free(d);
    bytes_free(&b);
}

/* A counter of `type` the survivor and the removed actor both counted in,
 * pruned: the removed actor's marker lives until keep_until_ms (0: forever). */
static crdt *pruned_counter(crdt_type type, int64_t survivor_count, int64_t removed_count,
                            uint64_t keep_until_ms)
{
    crdt *v = new_value(type);
    increment(v, SURVIVOR, survivor_count);
    increment(v, REMOVED, removed_count);
    ASSERT_OK(crdt_prune(v, REMOVED, SURVIVOR, keep_until_ms));
    return v;
}

/* The value of the counter under `key` in a counter map (0 when absent). */
static int64_t map_counter(const crdt *map, const char *key)
{
    const crdt *kv = crdt_map_get(map, (const uint8_t *)key, 1);
    int64_t x = 0;
    if (kv)
        ASSERT_OK(crdt_counter_value(kv, &x));
    return x;
}

/* Phase 1 of the protocol: the survivor merges every replica's copy, then
 * prunes the removed actor. Caller frees the result. */
static crdt *prune_at_coordinator(crdt *const *rep, int n)
{
    crdt *coord = clone_of(rep[SURVIVOR - 1]);
    for (int i = 0; i < n; i++)
        ASSERT_OK(crdt_merge(coord, rep[i]));
    ASSERT_OK(crdt_prune(coord, REMOVED, SURVIVOR, 0));
    return coord;
}

/* order[0..n-1]: a random permutation of 0..n-1 (Fisher-Yates). */
static void random_order(rng *r, int *order, int n)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint64_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* The randomized tests: test_cases(normal) cases from one seeded stream;
 * each case gets the stream and its number (for failure messages). */
static void run_seeded_cases(unsigned normal, void (*one_case)(rng *r, unsigned c))
{
    rng r;
    rng_seed(&r, test_seed());
    unsigned cases = test_cases(normal);
    for (unsigned c = 0; c < cases; c++)
        one_case(&r, c);
}

TEST(test_prune_folds_the_removed_slot_into_the_survivor)
{
    crdt *v = new_value(CRDT_PNCOUNTER);
    increment(v, SURVIVOR, 5);
    increment(v, REMOVED, 7);
    increment(v, REMOVED, -2);
    increment(v, 3, 1);
    ASSERT_EQ_U64(crdt_counter_slots(v), 4);
    ASSERT_EQ_U64(version_byte(v), 1);
    ASSERT_OK(crdt_prune(v, REMOVED, SURVIVOR, 0));
    ASSERT_EQ_INT(counter(v), 11);
    ASSERT_EQ_U64(crdt_counter_slots(v), 3);
    ASSERT(!crdt_holds_actor(v, REMOVED));
    ASSERT(crdt_has_prune_markers(v));
    ASSERT_EQ_U64(version_byte(v), 2);
    assert_roundtrip(v);
    /* idempotent */
    crdt *again = clone_of(v);
    ASSERT_OK(crdt_prune(again, REMOVED, SURVIVOR, 0));
    ASSERT(crdt_equal(v, again));
    ASSERT_STATUS(crdt_prune(again, SURVIVOR, SURVIVOR, 0), ST_EINVAL);
    crdt_free(again);
    crdt_free(v);
}

TEST(test_removed_slot_in_a_later_delta_or_merge_is_ignored)
{
    crdt *old = new_value(CRDT_GCOUNTER);
    increment(old, SURVIVOR, 2);
    increment(old, REMOVED, 3);
    crdt *pruned = clone_of(old);
    ASSERT_OK(crdt_prune(pruned, REMOVED, SURVIVOR, 0));
    /* a stale delta of the removed actor arrives after the prune */
    crdt *delta = new_value(CRDT_GCOUNTER);
    increment(delta, REMOVED, 3);
    ASSERT_OK(crdt_merge(pruned, delta));
    ASSERT_EQ_INT(counter(pruned), 5);
    ASSERT_OK(crdt_merge(old, pruned));
    ASSERT_EQ_INT(counter(old), 5);
    ASSERT(crdt_equal(old, pruned));
    crdt_free(delta);
    crdt_free(old);
    crdt_free(pruned);
}

/* Replicas hold partial copies; the removed actor stops; the survivor
 * merges every copy (phase 1 of the protocol) and prunes; then copies
 * (pruned and not), and further increments, merge in a random order. */
static void counter_prune_case(rng *r, unsigned c)
{
    (void)c;
    enum { NR = 5 };
    crdt *rep[NR];
    int64_t truth = 0;
    for (int i = 0; i < NR; i++)
        rep[i] = new_value(CRDT_PNCOUNTER);
    for (int step = 0; step < 40; step++) {
        int i = (int)rng_below(r, NR);
        uint64_t actor = 1 + rng_below(r, 4); /* 1 survivor, 2 removed, 3..4 others */
        if (rng_chance(r, 1, 3)) {
            ASSERT_OK(crdt_merge(rep[i], rep[rng_below(r, NR)]));
            continue;
        }
        /* an actor writes at "its" replica only (actor a lives at a - 1) */
        i = (int)(actor - 1);
        int64_t amt = (int64_t)rng_below(r, 9) - 3;
        increment(rep[i], actor, amt);
        truth += amt;
    }
    crdt *coord = prune_at_coordinator(rep, NR);
    ASSERT_EQ_INT(counter(coord), truth);
    /* after the prune only live actors write */
    crdt *pool[NR + 3];
    int np = 0;
    for (int i = 0; i < NR; i++)
        pool[np++] = rep[i];
    pool[np++] = coord;
    for (int k = 0; k < 2; k++) {
        crdt *w = clone_of(coord);
        uint64_t actor = k ? SURVIVOR : 3;
        int64_t amt = 1 + (int64_t)rng_below(r, 5);
        increment(w, actor, amt);
        truth += amt;
        pool[np++] = w;
    }
    /* two random merge orders of everything give the same state */
    crdt *x = new_value(CRDT_PNCOUNTER), *y = new_value(CRDT_PNCOUNTER);
    int order[NR + 3];
    random_order(r, order, np);
    for (int i = 0; i < np; i++) {
        ASSERT_OK(crdt_merge(x, pool[order[i]]));
        ASSERT_OK(crdt_merge(y, pool[np - 1 - i]));
        if (rng_chance(r, 1, 4))
            ASSERT_OK(crdt_merge(x, pool[order[rng_below(r, (uint64_t)i + 1)]]));
    }
    ASSERT_EQ_INT(counter(x), truth);
    ASSERT(crdt_equal(x, y));
    ASSERT(!crdt_holds_actor(x, REMOVED));
    /* idempotent, and a join of a pruned copy with an unpruned one is
     * the same from either side */
    crdt *again = clone_of(x);
    ASSERT_OK(crdt_merge(again, x));
    ASSERT(crdt_equal(again, x));
    crdt *a = clone_of(rep[REMOVED - 1]), *b = clone_of(coord);
    ASSERT_OK(crdt_merge(a, coord));
    ASSERT_OK(crdt_merge(b, rep[REMOVED - 1]));
    ASSERT(crdt_equal(a, b));
    assert_roundtrip(x);
    crdt_free(a);
    crdt_free(b);
    crdt_free(again);
    crdt_free(x);
    crdt_free(y);
    for (int i = NR; i < np; i++)
        crdt_free(pool[i]);
    for (int i = 0; i < NR; i++)
        crdt_free(rep[i]);
}

TEST(test_pruned_and_unpruned_copies_merge_in_any_order_to_the_true_total)
{
    run_seeded_cases(200, counter_prune_case);
}

static void check_map_prune(crdt_type type)
{
    crdt *s = new_value(type), *x = NULL;
    if (type == CRDT_ORMAP) {
        crdt_op inner = op_amount(CRDT_OP_INCREMENT, 4);
        crdt_op op = op_key(CRDT_OP_UPDATE, "k", NULL, 0);
        op.value_type = CRDT_PNCOUNTER;
        op.nested = &inner;
        apply_ok(s, op, SURVIVOR, 1);
        x = clone_of(s);
        inner.amount = 6;
        apply_ok(x, op, REMOVED, 1);
        inner.kind = CRDT_OP_DECREMENT;
        inner.amount = 1;
        apply_ok(s, op, SURVIVOR, 1); /* concurrent: two dots for "k" */
    } else {
        map_increment(s, "k", SURVIVOR, 4);
        x = clone_of(s);
        map_increment(x, "k", REMOVED, 6);
        map_increment(x, "j", REMOVED, 2);
        map_increment(s, "k", SURVIVOR, type == CRDT_PNCOUNTERMAP ? -1 : 1);
    }
    crdt *old = clone_of(s); /* a replica that holds both, unpruned */
    ASSERT_OK(crdt_merge(old, x));
    crdt *coord = clone_of(old);
    ASSERT(crdt_holds_actor(coord, REMOVED));
    ASSERT_OK(crdt_prune(coord, REMOVED, SURVIVOR, 0));
    ASSERT(!crdt_holds_actor(coord, REMOVED));
    ASSERT_MSG(strcmp(value_of(coord), value_of(old)) == 0, "%s", value_of(coord));
    assert_roundtrip(coord);
    /* every order of the pruned copy with the unpruned ones converges */
    crdt *a = clone_of(old), *b = clone_of(coord), *c = clone_of(x);
    ASSERT_OK(crdt_merge(a, coord));
    ASSERT_OK(crdt_merge(b, old));
    ASSERT_OK(crdt_merge(b, x));
    ASSERT_OK(crdt_merge(c, coord));
    ASSERT_OK(crdt_merge(c, s));
    ASSERT(crdt_equal(a, b));
    ASSERT(crdt_equal(a, c));
    ASSERT(!crdt_holds_actor(a, REMOVED));
    ASSERT_STR_EQ(value_of(a), value_of(old));
    crdt *objs[] = {s, x, old, coord, a, b, c};
    for (size_t i = 0; i < sizeof objs / sizeof *objs; i++)
        crdt_free(objs[i]);
}

TEST(test_counter_map_prunes_nested_counters_and_converges)
{
    check_map_prune(CRDT_PNCOUNTERMAP);
    check_map_prune(CRDT_GCOUNTERMAP);
}

TEST(test_ormap_prunes_a_nested_counter_under_every_dot)
{
    check_map_prune(CRDT_ORMAP);
}

TEST(test_unpruned_values_keep_their_version_1_encoding)
{
    /* version 1 bytes of a PNCounter {1: +3, 2: -1}, as written before
     * pruning existed */
    static const uint8_t v1[] = {1, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1};
    crdt *v;
    ASSERT_OK(crdt_decode(&v, v1, sizeof v1, NULL, 1));
    ASSERT_EQ_INT(counter(v), 2);
    bytes b = BYTES_INIT;
    ASSERT_OK(crdt_encode(v, &b));
    ASSERT_MEM_EQ(b.data, b.len, v1, sizeof v1);
    bytes_free(&b);
    crdt_free(v);
}

TEST(test_decoder_rejects_bad_markers_and_survives_every_truncation)
{
    crdt *v = pruned_counter(CRDT_GCOUNTER, 2, 3, 0);
    bytes b = BYTES_INIT;
    ASSERT_OK(crdt_encode(v, &b));
    /* 2, type, n=1, actor(8), count, nmarkers=1, removed(8), survivor(8), folded, keep */
    ASSERT_EQ_U64(b.len, 1 + 1 + 1 + 9 + 1 + 18);
    crdt *d = NULL;
    for (size_t len = 0; len < b.len; len++)
        ASSERT(crdt_decode(&d, b.data, len, NULL, 1) != ST_OK);
    uint8_t bad[64];
    memcpy(bad, b.data, b.len);
    bad[12] = 0; /* no markers, yet version 2 */
    ASSERT_STATUS(crdt_decode(&d, bad, 13, NULL, 1), ST_ECORRUPT);
    memcpy(bad, b.data, b.len);
    bad[13] = 1; /* the marked actor is the one that still has a slot */
    bad[21] = 7;
    ASSERT_STATUS(crdt_decode(&d, bad, b.len, NULL, 1), ST_ECORRUPT);
    memcpy(bad, b.data, b.len);
    memcpy(bad + 21, bad + 13, 8); /* survivor == removed */
    ASSERT_STATUS(crdt_decode(&d, bad, b.len, NULL, 1), ST_ECORRUPT);
    ASSERT(d == NULL);
    bytes_free(&b);
    crdt_free(v);
}

TEST(test_conflicting_markers_resolve_to_the_smallest_survivor_everywhere)
{
    crdt *a = new_value(CRDT_GCOUNTER), *b;
    increment(a, REMOVED, 3);
    b = clone_of(a);
    ASSERT_OK(crdt_prune(a, REMOVED, 5, 0));
    ASSERT_OK(crdt_prune(b, REMOVED, 4, 0));
    crdt *ab = clone_of(a), *ba = clone_of(b);
    ASSERT_OK(crdt_merge(ab, b));
    ASSERT_OK(crdt_merge(ba, a));
    ASSERT(crdt_equal(ab, ba));
    crdt *objs[] = {a, b, ab, ba};
    for (size_t i = 0; i < 4; i++)
        crdt_free(objs[i]);
}

TEST(test_markers_are_dropped_once_their_time_has_passed)
{
    crdt *v = pruned_counter(CRDT_GCOUNTER, 2, 3, 1000);
    ASSERT(!crdt_drop_prune_markers(v, 999));
    ASSERT(crdt_has_prune_markers(v));
    ASSERT(crdt_drop_prune_markers(v, 1000));
    ASSERT(!crdt_has_prune_markers(v));
    ASSERT_EQ_INT(counter(v), 5);
    ASSERT_EQ_U64(version_byte(v), 1);
    crdt_free(v);
}

TEST(test_a_pruned_actor_cannot_write_again)
{
    crdt *v = pruned_counter(CRDT_PNCOUNTER, 1, 1, 0);
    crdt_ctx ctx = {REMOVED, 1};
    crdt_op op = op_amount(CRDT_OP_INCREMENT, 1);
    ASSERT_STATUS(crdt_apply(v, &op, &ctx, NULL), ST_ECONFLICT);
    crdt *d = NULL;
    ASSERT_STATUS(crdt_apply(v, &op, &ctx, &d), ST_ECONFLICT);
    ASSERT(d == NULL);
    ASSERT_EQ_INT(counter(v), 2);
    assert_roundtrip(v);
    crdt_free(v);
}

/* As above for a PNCounterMap, where concurrent updates give a key several
 * dots (collapsed by the prune) and a replica that has not seen the prune
 * keeps writing, superseding dots the coordinator pruned. */
static void counter_map_prune_case(rng *r, unsigned c)
{
    static const char *const keys[] = {"a", "b", "c"};
    enum { NR = 4 };
    crdt *rep[NR];
    int64_t truth[3] = {0, 0, 0};
    for (int i = 0; i < NR; i++)
        rep[i] = new_value(CRDT_PNCOUNTERMAP);
    for (int step = 0; step < 30; step++) {
        int i = (int)rng_below(r, NR);
        if (rng_chance(r, 1, 3)) {
            ASSERT_OK(crdt_merge(rep[i], rep[rng_below(r, NR)]));
            continue;
        }
        int k = (int)rng_below(r, 3);
        int64_t amt = (int64_t)rng_below(r, 9) - 3;
        map_increment(rep[i], keys[k], (uint64_t)i + 1, amt); /* actor i+1 at replica i */
        truth[k] += amt;
    }
    crdt *coord = prune_at_coordinator(rep, NR);
    ASSERT(!crdt_holds_actor(coord, REMOVED));
    for (int k = 0; k < 3; k++)
        ASSERT_EQ_INT(map_counter(coord, keys[k]), truth[k]);
    /* after the prune, live actors keep writing: the survivor on the
     * pruned copy, actor 3 on its own copy that has not seen it */
    for (int step = 0; step < 6; step++) {
        int k = (int)rng_below(r, 3);
        int64_t amt = 1 + (int64_t)rng_below(r, 4);
        if (rng_chance(r, 1, 2))
            map_increment(coord, keys[k], SURVIVOR, amt);
        else
            map_increment(rep[2], keys[k], 3, amt);
        truth[k] += amt;
    }
    crdt *pool[NR + 1];
    for (int i = 0; i < NR; i++)
        pool[i] = rep[i];
    pool[NR] = coord;
    int order[NR + 1];
    random_order(r, order, NR + 1);
    crdt *x = new_value(CRDT_PNCOUNTERMAP), *y = new_value(CRDT_PNCOUNTERMAP);
    for (int i = 0; i <= NR; i++) {
        ASSERT_OK(crdt_merge(x, pool[order[i]]));
        ASSERT_OK(crdt_merge(y, pool[NR - i]));
    }
    ASSERT(crdt_equal(x, y));
    for (int k = 0; k < 3; k++) {
        int64_t v = map_counter(x, keys[k]);
        ASSERT_MSG(v == truth[k], "case %u key %s: %lld != %lld", c, keys[k], (long long)v,
                   (long long)truth[k]);
    }
    assert_roundtrip(x);
    crdt_free(x);
    crdt_free(y);
    for (int i = 0; i <= NR; i++)
        crdt_free(pool[i]);
}

TEST(test_pruned_counter_maps_merge_in_any_order_to_the_true_totals)
{
    run_seeded_cases(150, counter_map_prune_case);
}
