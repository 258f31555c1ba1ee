/*
 * Fuzzes the binary CRDT decoder at the depth ceiling: every input is
 * decoded as the innermost value of a chain of ORMaps already
 * LIMITS_MAX_DEPTH - 1 deep, with max_depth at the ceiling, on a thread
 * with a bounded stack. Random
 * bytes alone almost never nest a hundred maps; the wrapper puts every
 * input right at the edge, where one more map level must be ST_ELIMIT and
 * anything that decodes must survive encode, clone, merge and JSON.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"
#include "decoded_value.h"
#include "util/status.h"

/* The ceiling promises 256 KiB for gcc builds, ASan included
 * (tests/c/crdt/test_depth.c). This target is built by clang at -O0 with
 * libFuzzer, ASan and UBSan instrumentation, whose decoder frames measure
 * about six times larger (ds_decode 3960 bytes against gcc ASan's 560,
 * -fstack-usage), so it gets 2 MiB: still bounded, still fatal on
 * unbounded recursion. */
#define SMALL_STACK_BYTES (2048u * 1024u)

/* The encoding of a one-level ORMap {"k": GCounter}: version byte, the
 * map's own bytes up to its only value, then the counter's body. The map
 * part repeats once per level; it is taken from a real encoding. */
static bytes map_prefix = BYTES_INIT;
static uint8_t version_byte;

static void learn_prefix(void)
{
    crdt_ctx ctx = {1, 0};
    crdt_op inc = {0};
    inc.kind = CRDT_OP_INCREMENT;
    inc.amount = 1;
    crdt_op upd = {0};
    upd.kind = CRDT_OP_UPDATE;
    upd.key = (const uint8_t *)"k";
    upd.key_len = 1;
    upd.value_type = CRDT_GCOUNTER;
    upd.nested = &inc;
    crdt *leaf = NULL, *one = NULL;
    bytes l = BYTES_INIT, m = BYTES_INIT;
    if (crdt_new(&leaf, CRDT_GCOUNTER) || crdt_apply(leaf, &inc, &ctx, NULL) ||
        crdt_new(&one, CRDT_ORMAP) || crdt_apply(one, &upd, &ctx, NULL) || crdt_encode(leaf, &l) ||
        crdt_encode(one, &m) || m.len <= l.len)
        abort();
    version_byte = m.data[0];
    bytes_put(&map_prefix, m.data + 1, m.len - l.len);
    if (map_prefix.failed)
        abort();
    bytes_free(&l);
    bytes_free(&m);
    crdt_free(leaf);
    crdt_free(one);
}

typedef struct deep_input {
    const uint8_t *data;
    size_t len;
} deep_input;

static void *decode_deep(void *arg)
{
    const deep_input *in = arg;
    bytes wrapped = BYTES_INIT;
    bytes_put(&wrapped, &version_byte, 1);
    for (uint32_t i = 0; i + 1 < LIMITS_MAX_DEPTH; i++)
        bytes_put(&wrapped, map_prefix.data, map_prefix.len);
    bytes_put(&wrapped, in->data, in->len);
    if (wrapped.failed)
        abort();
    limits lim = limits_default();
    lim.max_elements = 4096;
    lim.max_depth = LIMITS_MAX_DEPTH;
    crdt *v = NULL;
    int rc = crdt_decode(&v, wrapped.data, wrapped.len, &lim, 1000000);
    if (rc) {
        if ((rc != ST_ECORRUPT && rc != ST_ELIMIT && rc != ST_ENOMEM) || v)
            abort();
        bytes_free(&wrapped);
        return NULL;
    }
    check_decoded_value(v, wrapped.data, wrapped.len);
    bytes_free(&wrapped);
    crdt_free(v);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!map_prefix.len)
        learn_prefix();
    deep_input in = {data, size};
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, SMALL_STACK_BYTES) ||
        pthread_create(&t, &attr, decode_deep, &in) || pthread_join(t, NULL))
        abort();
    pthread_attr_destroy(&attr);
    return 0;
}
