/*
 * The nesting ceiling: decoding (and everything done with a decoded value
 * afterwards: encode, clone, merge, compare, JSON, free) recurses once per
 * level of maps in maps, so the depth a caller may ask for is capped at
 * LIMITS_MAX_DEPTH, chosen to fit a 256 KiB thread stack. These tests run
 * the whole life of a value nested exactly that deep on such a thread.
 */
#include <pthread.h>
#include <stdlib.h>

#include "crdt_support.h"

/* The promise is for builds users run (test-c and test-release check it
 * at 256 KiB). A sanitizer build at -O0 has frames about 7x larger (clang
 * ASan: ds_decode 3,960 bytes against 560 with gcc -O2), so there the same
 * walk gets 8x the stack: it still proves the decoder never recurses past
 * the ceiling, and ASan still sees every access. */
#if defined(__SANITIZE_ADDRESS__)
#define DEPTH_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEPTH_TEST_UNDER_ASAN 1
#endif
#endif
#ifdef DEPTH_TEST_UNDER_ASAN
#define SMALL_STACK_BYTES (8u * 256u * 1024u)
#else
#define SMALL_STACK_BYTES (256u * 1024u)
#endif

/* A value of `levels` ORMaps, each holding the next under key "k", around
 * one GCounter: levels + 1 deep, as max_depth counts (a lone counter is 1). The codec writes a
 * map's only value last and without a length, so the encoding is the version byte, one 18-byte map
 * prefix per level, then the counter's body; the prefix is read off a real one-level encoding
 * rather than written out here. */
static void nested_blob(uint32_t levels, bytes *out)
{
    crdt_ctx ctx = {1, 0};
    crdt_op inc = op_amount(CRDT_OP_INCREMENT, 1);
    crdt_op upd = op_key(CRDT_OP_UPDATE, "k", NULL, 0);
    upd.value_type = CRDT_GCOUNTER;
    upd.nested = &inc;
    crdt *leaf, *one;
    ASSERT_OK(crdt_new(&leaf, CRDT_GCOUNTER));
    ASSERT_OK(crdt_apply(leaf, &inc, &ctx, NULL));
    ASSERT_OK(crdt_new(&one, CRDT_ORMAP));
    ASSERT_OK(crdt_apply(one, &upd, &ctx, NULL));
    bytes l = BYTES_INIT, m = BYTES_INIT;
    ASSERT_OK(crdt_encode(leaf, &l));
    ASSERT_OK(crdt_encode(one, &m));
    ASSERT(m.len > l.len && l.len > 1);
    size_t prefix = m.len - l.len;
    ASSERT_MEM_EQ(m.data + 1 + prefix, l.len - 1, l.data + 1, l.len - 1);
    *out = (bytes)BYTES_INIT;
    bytes_put(out, m.data, 1);
    for (uint32_t i = 0; i < levels; i++)
        bytes_put(out, m.data + 1, prefix);
    bytes_put(out, l.data + 1, l.len - 1);
    ASSERT(!out->failed);
    bytes_free(&l);
    bytes_free(&m);
    crdt_free(leaf);
    crdt_free(one);
}

typedef struct deep_job {
    const bytes *blob;
    uint32_t max_depth;
    int decode_rc;
    bool round_trip_ok;
} deep_job;

/* No ASSERT in here: a failed ASSERT longjmps to the runner's thread. */
static void *deep_life(void *arg)
{
    deep_job *job = arg;
    limits lim = limits_default();
    lim.max_depth = job->max_depth;
    crdt *v = NULL, *c = NULL;
    bytes again = BYTES_INIT, js = BYTES_INIT;
    job->decode_rc = crdt_decode(&v, job->blob->data, job->blob->len, &lim, 0);
    if (job->decode_rc)
        return NULL;
    job->round_trip_ok = crdt_encode(v, &again) == ST_OK && again.len == job->blob->len &&
                         memcmp(again.data, job->blob->data, again.len) == 0 &&
                         crdt_clone(&c, v) == ST_OK && crdt_merge(c, v) == ST_OK &&
                         crdt_equal(c, v) && crdt_to_json(v, &js) == ST_OK;
    bytes_free(&again);
    bytes_free(&js);
    crdt_free(c);
    crdt_free(v);
    return NULL;
}

static void run_on_small_stack(deep_job *job)
{
    pthread_attr_t attr;
    pthread_t t;
    ASSERT_EQ_INT(pthread_attr_init(&attr), 0);
    ASSERT_EQ_INT(pthread_attr_setstacksize(&attr, SMALL_STACK_BYTES), 0);
    ASSERT_EQ_INT(pthread_create(&t, &attr, deep_life, job), 0);
    ASSERT_EQ_INT(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
}

TEST(test_value_nested_to_the_ceiling_lives_on_a_256k_stack)
{
    bytes blob;
    nested_blob(LIMITS_MAX_DEPTH - 1, &blob);
    deep_job job = {&blob, LIMITS_MAX_DEPTH, -1, false};
    run_on_small_stack(&job);
    ASSERT_OK(job.decode_rc);
    ASSERT(job.round_trip_ok);
    bytes_free(&blob);
}

TEST(test_one_level_past_the_ceiling_is_elimit)
{
    bytes blob;
    nested_blob(LIMITS_MAX_DEPTH, &blob);
    deep_job job = {&blob, LIMITS_MAX_DEPTH, -1, false};
    run_on_small_stack(&job);
    ASSERT_STATUS(job.decode_rc, ST_ELIMIT);
    bytes_free(&blob);
}

/* A limits struct that asks for more than the ceiling (the core's callers
 * are trusted to validate, but a decoder must hold on its own) decodes no
 * deeper than the ceiling: 50,000 levels used to overflow the stack. */
TEST(test_depth_limit_above_the_ceiling_still_stops_at_the_ceiling)
{
    bytes blob;
    nested_blob(50000, &blob);
    deep_job job = {&blob, 50000, -1, false};
    run_on_small_stack(&job);
    ASSERT_STATUS(job.decode_rc, ST_ELIMIT);
    bytes_free(&blob);
}
