/*
 * Property tests over every type: random operations on several replicas
 * with random merge orders (seeded; DD_SEED replays, DD_LONG=1 runs 20x).
 *
 *  - the join is commutative, associative and idempotent;
 *  - a replica fed only the deltas of its own ops and the states it merged
 *    equals the replica that applied the ops (delta = mutation);
 *  - a delta group (deltas joined together) merged into the old state
 *    equals the new state;
 *  - the binary and JSON forms round-trip exactly, and digests follow
 *    equality;
 *  - replicas converge once everyone has merged everyone.
 */
#include "crdt_support.h"
#include "util/rng.h"

#define REPLICAS 3

static const char *const elems[] = {"a", "b", "c", "dd", "", "\xff\x00z"};
static const char *const keys[] = {"k1", "k2", "k3"};

static crdt_op random_leaf(rng *r, crdt_type t, crdt_op *nested_store, int depth);

/* ORMap keys have a fixed value type each so most updates fit. */
static crdt_type ormap_key_type(size_t key, int depth)
{
    static const crdt_type t[] = {CRDT_PNCOUNTER, CRDT_ORSET, CRDT_ORMAP};
    crdt_type ty = t[key % 3];
    return (ty == CRDT_ORMAP && depth >= 2) ? CRDT_LWWREGISTER : ty;
}

static crdt_op random_leaf(rng *r, crdt_type t, crdt_op *store, int depth)
{
    size_t e = rng_below(r, 6), k = rng_below(r, 3);
    uint64_t amt = rng_below(r, 5);
    const char *el = elems[e];
    size_t ellen = e == 5 ? 3 : strlen(el);
    crdt_op op = {0};
    op.value = (const uint8_t *)el;
    op.value_len = ellen;
    op.key = (const uint8_t *)keys[k];
    op.key_len = strlen(keys[k]);
    op.amount = amt;
    uint64_t p = rng_below(r, 10);
    switch (t) {
    case CRDT_GCOUNTER: op.kind = CRDT_OP_INCREMENT; break;
    case CRDT_PNCOUNTER: op.kind = p < 5 ? CRDT_OP_INCREMENT : CRDT_OP_DECREMENT; break;
    case CRDT_GSET: op.kind = CRDT_OP_ADD; break;
    case CRDT_ORSET: op.kind = p < 6 ? CRDT_OP_ADD : p < 9 ? CRDT_OP_REMOVE : CRDT_OP_CLEAR; break;
    case CRDT_LWWREGISTER: op.kind = CRDT_OP_ASSIGN; break;
    case CRDT_FLAG: op.kind = CRDT_OP_ENABLE; break;
    case CRDT_MVREGISTER: op.kind = p < 9 ? CRDT_OP_ASSIGN : CRDT_OP_CLEAR; break;
    case CRDT_ORMAP:
        if (p < 7) {
            op.kind = CRDT_OP_UPDATE;
            op.value_type = ormap_key_type(k, depth);
            *store = random_leaf(r, op.value_type, store + 1, depth + 1);
            op.nested = store;
        } else {
            op.kind = p < 9 ? CRDT_OP_REMOVE : CRDT_OP_CLEAR;
        }
        break;
    case CRDT_LWWMAP:
        op.kind = p < 7 ? CRDT_OP_ASSIGN : p < 9 ? CRDT_OP_REMOVE : CRDT_OP_CLEAR;
        break;
    case CRDT_PNCOUNTERMAP:
        op.kind = p < 4 ? CRDT_OP_INCREMENT : p < 8 ? CRDT_OP_DECREMENT : CRDT_OP_REMOVE;
        break;
    case CRDT_GCOUNTERMAP: op.kind = p < 8 ? CRDT_OP_INCREMENT : CRDT_OP_REMOVE; break;
    case CRDT_ORMULTIMAP:
        op.kind = p < 6 ? CRDT_OP_ADD : CRDT_OP_REMOVE;
        if (p >= 8)
            op.value = NULL, op.value_len = 0; /* remove the whole key */
        break;
    }
    return op;
}

static void assert_same(const crdt *a, const crdt *b, const char *what)
{
    if (!crdt_equal(a, b)) {
        char va[8192];
        snprintf(va, sizeof va, "%s", value_of(a));
        test_fail(__FILE__, __LINE__, "%s: %s != %s", what, va, value_of(b));
    }
}

static crdt *clone_of(const crdt *v)
{
    crdt *c;
    ASSERT_OK(crdt_clone(&c, v));
    return c;
}

static void check_roundtrips(const crdt *v)
{
    bytes b = BYTES_INIT, j = BYTES_INIT, b2 = BYTES_INIT;
    ASSERT_OK(crdt_encode(v, &b));
    crdt *d;
    ASSERT_OK(crdt_decode(&d, b.data, b.len, NULL, UINT64_MAX));
    ASSERT_OK(crdt_encode(d, &b2));
    ASSERT_MEM_EQ(b.data, b.len, b2.data, b2.len);
    ASSERT_EQ_U64(crdt_digest(d), crdt_digest(v));
    ASSERT_OK(crdt_to_json(v, &j));
    crdt *fj;
    ASSERT_OK(crdt_from_json(&fj, (const char *)j.data, j.len, NULL));
    assert_same(fj, v, "json round trip");
    crdt_free(fj);
    crdt_free(d);
    bytes_free(&b);
    bytes_free(&b2);
    bytes_free(&j);
}

static void run_case(crdt_type t, rng *r)
{
    crdt *rep[REPLICAS], *shadow[REPLICAS], *before[REPLICAS], *group[REPLICAS];
    for (int i = 0; i < REPLICAS; i++) {
        ASSERT_OK(crdt_new(&rep[i], t));
        ASSERT_OK(crdt_new(&shadow[i], t));
        ASSERT_OK(crdt_new(&group[i], t));
        before[i] = clone_of(rep[i]);
    }
    unsigned steps = 10 + (unsigned)rng_below(r, 30);
    uint64_t now = 1000;
    for (unsigned s = 0; s < steps; s++) {
        int i = (int)rng_below(r, REPLICAS);
        now += rng_below(r, 3);
        if (rng_chance(r, 1, 4)) {
            int j = (int)rng_below(r, REPLICAS);
            ASSERT_OK(crdt_merge(rep[i], rep[j]));
            ASSERT_OK(crdt_merge(shadow[i], shadow[j]));
            /* a full-state merge starts a new delta group */
            crdt_free(before[i]);
            before[i] = clone_of(rep[i]);
            crdt_free(group[i]);
            ASSERT_OK(crdt_new(&group[i], t));
            continue;
        }
        crdt_op store[8];
        crdt_op op = random_leaf(r, t, store, 0);
        crdt_ctx ctx = {100 + (uint64_t)i, now};
        crdt *delta = NULL;
        int rc = crdt_apply(rep[i], &op, &ctx, &delta);
        if (rc == ST_ELIMIT || rc == ST_ETYPE)
            continue;
        ASSERT_OK(rc);
        ASSERT(delta != NULL);
        ASSERT_OK(crdt_merge(shadow[i], delta));
        ASSERT_OK(crdt_merge(group[i], delta));
        crdt_free(delta);
        assert_same(shadow[i], rep[i], "delta join equals the mutation");
        crdt *g = clone_of(before[i]);
        ASSERT_OK(crdt_merge(g, group[i]));
        assert_same(g, rep[i], "delta group equals the mutations");
        crdt_free(g);
    }
    /* join laws on the three diverged replicas */
    crdt *ab = clone_of(rep[0]), *ba = clone_of(rep[1]);
    ASSERT_OK(crdt_merge(ab, rep[1]));
    ASSERT_OK(crdt_merge(ba, rep[0]));
    assert_same(ab, ba, "merge commutes");
    crdt *ab_c = clone_of(ab), *bc = clone_of(rep[1]);
    ASSERT_OK(crdt_merge(ab_c, rep[2]));
    ASSERT_OK(crdt_merge(bc, rep[2]));
    crdt *a_bc = clone_of(rep[0]);
    ASSERT_OK(crdt_merge(a_bc, bc));
    assert_same(ab_c, a_bc, "merge associates");
    crdt *twice = clone_of(ab_c);
    ASSERT_OK(crdt_merge(twice, ab_c));
    ASSERT_OK(crdt_merge(twice, rep[1]));
    assert_same(twice, ab_c, "merge is idempotent");
    for (int i = 0; i < REPLICAS; i++)
        check_roundtrips(rep[i]);
    check_roundtrips(ab_c);
    /* convergence */
    for (int i = 0; i < REPLICAS; i++)
        for (int j = 0; j < REPLICAS; j++)
            ASSERT_OK(crdt_merge(rep[i], rep[j]));
    for (int i = 1; i < REPLICAS; i++)
        ASSERT_OK(crdt_merge(rep[0], rep[i]));
    for (int i = 1; i < REPLICAS; i++) {
        ASSERT_OK(crdt_merge(rep[i], rep[0]));
        assert_same(rep[i], rep[0], "replicas converge");
        ASSERT_EQ_U64(crdt_digest(rep[i]), crdt_digest(rep[0]));
    }
    crdt_free(ab);
    crdt_free(ba);
    crdt_free(ab_c);
    crdt_free(bc);
    crdt_free(a_bc);
    crdt_free(twice);
    for (int i = 0; i < REPLICAS; i++) {
        crdt_free(rep[i]);
        crdt_free(shadow[i]);
        crdt_free(before[i]);
        crdt_free(group[i]);
    }
}

static void run_type(crdt_type t, unsigned cases)
{
    rng r;
    rng_seed(&r, test_seed() ^ (uint64_t)t * 0x9e3779b97f4a7c15ull);
    for (unsigned c = 0; c < test_cases(cases); c++)
        run_case(t, &r);
}

TEST(test_gcounter_laws)
{
    run_type(CRDT_GCOUNTER, 300);
}
TEST(test_pncounter_laws)
{
    run_type(CRDT_PNCOUNTER, 300);
}
TEST(test_gset_laws)
{
    run_type(CRDT_GSET, 300);
}
TEST(test_orset_laws)
{
    run_type(CRDT_ORSET, 500);
}
TEST(test_lwwregister_laws)
{
    run_type(CRDT_LWWREGISTER, 300);
}
TEST(test_flag_laws)
{
    run_type(CRDT_FLAG, 100);
}
TEST(test_mvregister_laws)
{
    run_type(CRDT_MVREGISTER, 300);
}
TEST(test_ormap_laws)
{
    run_type(CRDT_ORMAP, 300);
}
TEST(test_lwwmap_laws)
{
    run_type(CRDT_LWWMAP, 300);
}
TEST(test_pncountermap_laws)
{
    run_type(CRDT_PNCOUNTERMAP, 300);
}
TEST(test_gcountermap_laws)
{
    run_type(CRDT_GCOUNTERMAP, 300);
}
TEST(test_ormultimap_laws)
{
    run_type(CRDT_ORMULTIMAP, 300);
}
