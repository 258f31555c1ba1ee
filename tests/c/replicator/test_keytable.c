/*
 * The replicator's key table: lookups after inserts and removals (the
 * backward-shift deletion is the subtle part), leaf digests as XORs, and
 * per-origin sequence numbers. Property tests compare against a naive
 * model under random churn.
 */
#include <stdio.h>
#include <stdlib.h>

#include "replicator/keytable.h"
#include "test.h"
#include "util/rng.h"
#include "util/status.h"

TEST(test_insert_then_find_returns_the_same_entry)
{
    keytable t;
    ASSERT_OK(kt_init(&t));
    uint32_t idx;
    bool created;
    ASSERT_OK(kt_insert(&t, (const uint8_t *)"alpha", 5, &idx, &created));
    ASSERT(created);
    ASSERT_EQ_U64(kt_find(&t, (const uint8_t *)"alpha", 5), idx);
    uint32_t again;
    ASSERT_OK(kt_insert(&t, (const uint8_t *)"alpha", 5, &again, &created));
    ASSERT(!created);
    ASSERT_EQ_U64(again, idx);
    ASSERT_EQ_U64(kt_find(&t, (const uint8_t *)"alph", 4), KT_NONE);
    ASSERT_MEM_EQ(kt_at(&t, idx)->key, kt_at(&t, idx)->key_len, "alpha", 5);
    kt_free(&t);
}

TEST(test_random_churn_matches_a_naive_model)
{
    enum { UNIVERSE = 3000 };
    rng r;
    rng_seed(&r, test_seed());
    keytable t;
    ASSERT_OK(kt_init(&t));
    static bool present[UNIVERSE];
    memset(present, 0, sizeof(present));
    char key[16];
    unsigned ops = test_cases(40000);
    for (unsigned i = 0; i < ops; i++) {
        uint32_t k = (uint32_t)rng_below(&r, UNIVERSE);
        int len = snprintf(key, sizeof(key), "key%u", k);
        uint32_t idx = kt_find(&t, (const uint8_t *)key, (size_t)len);
        ASSERT_MSG((idx != KT_NONE) == present[k], "key%u: table and model disagree", k);
        if (present[k] && rng_chance(&r, 1, 2)) {
            kt_remove(&t, idx);
            present[k] = false;
        } else if (!present[k]) {
            bool created;
            ASSERT_OK(kt_insert(&t, (const uint8_t *)key, (size_t)len, &idx, &created));
            ASSERT(created);
            present[k] = true;
        }
    }
    uint64_t live = 0;
    for (uint32_t k = 0; k < UNIVERSE; k++) {
        int len = snprintf(key, sizeof(key), "key%u", k);
        ASSERT((kt_find(&t, (const uint8_t *)key, (size_t)len) != KT_NONE) == present[k]);
        live += present[k];
    }
    ASSERT_EQ_U64(t.live, live);
    kt_free(&t);
}

/* Inserts key (len bytes), which must be new; its index. */
static uint32_t insert_new(keytable *t, const char *key, size_t len)
{
    uint32_t idx;
    bool created = false;
    ASSERT_OK(kt_insert(t, (const uint8_t *)key, len, &idx, &created));
    ASSERT(created);
    return idx;
}

TEST(test_leaf_digest_is_the_xor_of_its_keys_and_removal_takes_it_out)
{
    keytable t;
    ASSERT_OK(kt_init(&t));
    uint32_t a = insert_new(&t, "a", 1), b = insert_new(&t, "b", 1);
    kt_set_digest(&t, a, 0x1111);
    kt_set_digest(&t, b, 0x2222);
    uint64_t all = kt_bucket_xor(&t, 0, KT_LEAVES);
    ASSERT_EQ_U64(all, 0x1111 ^ 0x2222);
    kt_set_digest(&t, a, 0x4444); /* replacing, not adding */
    ASSERT_EQ_U64(kt_bucket_xor(&t, 0, KT_LEAVES), 0x4444 ^ 0x2222);
    kt_remove(&t, b);
    ASSERT_EQ_U64(kt_bucket_xor(&t, 0, KT_LEAVES), 0x4444);
    uint32_t leaf = kt_leaf_of(kt_at(&t, a)->wire_hash);
    ASSERT_EQ_U64(kt_bucket_xor(&t, leaf, 1), 0x4444);
    kt_free(&t);
}

TEST(test_sequence_numbers_are_tracked_per_origin)
{
    keytable t;
    ASSERT_OK(kt_init(&t));
    kentry *e = kt_at(&t, insert_new(&t, "a", 1));
    ASSERT_EQ_U64(kt_seq_get(e, 7), 0);
    ASSERT_OK(kt_seq_set(e, 7, 3));
    ASSERT_OK(kt_seq_set(e, 9, 1));
    ASSERT_OK(kt_seq_set(e, 7, 4));
    ASSERT_EQ_U64(kt_seq_get(e, 7), 4);
    ASSERT_EQ_U64(kt_seq_get(e, 9), 1);
    ASSERT_EQ_INT(e->nseqs, 2);
    kt_free(&t);
}

TEST(test_binary_keys_with_nul_bytes_are_distinct)
{
    keytable t;
    ASSERT_OK(kt_init(&t));
    uint32_t a = insert_new(&t, "x\0y", 3), b = insert_new(&t, "x\0z", 3);
    ASSERT(a != b);
    ASSERT_EQ_U64(kt_find(&t, (const uint8_t *)"x", 1), KT_NONE);
    kt_free(&t);
}
