/*
 * The binary codec and the JSON reader on hostile input: every prefix and
 * every byte flip of valid encodings fails cleanly or decodes to a value
 * that re-encodes to the same bytes; limits give ST_ELIMIT.
 */
#include "crdt_support.h"
#include "util/rng.h"

static crdt *sample(crdt_type t, rng *r)
{
    crdt *v;
    ASSERT_OK(crdt_new(&v, t));
    static const char *const w[] = {"a", "bb", "ccc", ""};
    for (int i = 0; i < 6; i++) {
        crdt_op nested = {0}, op = {0};
        const char *x = w[rng_below(r, 4)];
        op.value = (const uint8_t *)x;
        op.value_len = strlen(x);
        op.key = (const uint8_t *)w[rng_below(r, 2)];
        op.key_len = strlen((const char *)op.key);
        op.amount = 1 + rng_below(r, 300);
        switch (t) {
        case CRDT_GCOUNTER:
        case CRDT_GCOUNTERMAP: op.kind = CRDT_OP_INCREMENT; break;
        case CRDT_PNCOUNTER:
        case CRDT_PNCOUNTERMAP: op.kind = CRDT_OP_DECREMENT; break;
        case CRDT_GSET:
        case CRDT_ORSET:
        case CRDT_ORMULTIMAP: op.kind = CRDT_OP_ADD; break;
        case CRDT_FLAG: op.kind = CRDT_OP_ENABLE; break;
        case CRDT_ORMAP:
            op.kind = CRDT_OP_UPDATE;
            op.value_type = CRDT_MVREGISTER;
            nested.kind = CRDT_OP_ASSIGN;
            nested.value = op.value;
            nested.value_len = op.value_len;
            op.nested = &nested;
            break;
        default: op.kind = CRDT_OP_ASSIGN; break;
        }
        crdt_ctx ctx = {1 + rng_below(r, 3), 1000 + (uint64_t)i};
        ASSERT_OK(crdt_apply(v, &op, &ctx, NULL));
    }
    return v;
}

static void check_input(const uint8_t *d, size_t n)
{
    crdt *v = NULL;
    int rc = crdt_decode(&v, d, n, NULL, 1000000);
    if (rc) {
        ASSERT_MSG(rc == ST_ECORRUPT || rc == ST_ELIMIT, "unexpected status %d", rc);
        ASSERT(v == NULL);
        ASSERT(strlen(error_message()) > 0);
        return;
    }
    bytes again = BYTES_INIT;
    ASSERT_OK(crdt_encode(v, &again));
    ASSERT_MEM_EQ(again.data, again.len, d, n);
    bytes_free(&again);
    crdt_free(v);
}

TEST(test_prefixes_and_byte_flips_fail_cleanly_or_stay_canonical)
{
    rng r;
    rng_seed(&r, test_seed());
    for (crdt_type t = 1; t <= CRDT_TYPE_MAX; t++) {
        crdt *v = sample(t, &r);
        bytes b = BYTES_INIT;
        ASSERT_OK(crdt_encode(v, &b));
        for (size_t n = 0; n < b.len; n++)
            check_input(b.data, n);
        uint8_t *m = malloc(b.len);
        for (unsigned k = 0; k < test_cases(300); k++) {
            memcpy(m, b.data, b.len);
            size_t at = rng_below(&r, b.len);
            m[at] ^= (uint8_t)(1 + rng_below(&r, 255));
            check_input(m, b.len);
        }
        free(m);
        bytes_free(&b);
        crdt_free(v);
    }
}

TEST(test_limits_reject_with_elimit)
{
    crdt *v;
    ASSERT_OK(crdt_new(&v, CRDT_ORSET));
    apply_ok(v, op_val(CRDT_OP_ADD, "abc"), 1, 0);
    apply_ok(v, op_val(CRDT_OP_ADD, "d"), 1, 0);
    bytes b = BYTES_INIT;
    ASSERT_OK(crdt_encode(v, &b));
    crdt *out;
    limits lim = limits_default();
    lim.max_elements = 1;
    ASSERT_STATUS(crdt_decode(&out, b.data, b.len, &lim, 0), ST_ELIMIT);
    lim = limits_default();
    lim.max_value_bytes = 2;
    ASSERT_STATUS(crdt_decode(&out, b.data, b.len, &lim, 0), ST_ELIMIT);
    lim = limits_default();
    lim.max_bytes = b.len - 1;
    ASSERT_STATUS(crdt_decode(&out, b.data, b.len, &lim, 0), ST_ELIMIT);
    bytes_free(&b);
    crdt_free(v);
}

TEST(test_json_reader_rejects_tampered_documents)
{
    crdt *v, *out;
    ASSERT_OK(crdt_new(&v, CRDT_PNCOUNTER));
    apply_ok(v, op_amount(CRDT_OP_INCREMENT, 5), 1, 0);
    bytes j = BYTES_INIT;
    ASSERT_OK(crdt_to_json(v, &j));
    bytes_put_u8(&j, 0);
    char *doc = (char *)j.data;
    char *five = strstr(doc, "\"value\":5");
    ASSERT(five != NULL);
    five[8] = '6'; /* the value no longer matches the state */
    ASSERT_STATUS(crdt_from_json(&out, doc, strlen(doc), NULL), ST_ECORRUPT);
    five[8] = '5';
    char *type = strstr(doc, "PNCounter");
    memcpy(type, "GCounter ", 9);
    ASSERT_STATUS(crdt_from_json(&out, doc, strlen(doc), NULL), ST_ECORRUPT);
    ASSERT_STATUS(crdt_from_json(&out, "[]", 2, NULL), ST_ECORRUPT);
    ASSERT_STATUS(
        crdt_from_json(&out, "{\"state\":\"!!\",\"type\":\"Flag\",\"value\":1}", 38, NULL),
        ST_ECORRUPT);
    bytes_free(&j);
    crdt_free(v);
}
