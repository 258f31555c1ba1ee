/*
 * Small helpers the CRDT tests share: building ops, reading values as JSON.
 */
#ifndef DD_TEST_CRDT_SUPPORT_H
#define DD_TEST_CRDT_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"
#include "test.h"
#include "util/error.h"
#include "util/status.h"

static inline crdt_op op_val(crdt_op_kind k, const char *value)
{
    crdt_op op = {0};
    op.kind = k;
    op.value = (const uint8_t *)value;
    op.value_len = value ? strlen(value) : 0;
    return op;
}

static inline crdt_op op_amount(crdt_op_kind k, uint64_t amount)
{
    crdt_op op = {0};
    op.kind = k;
    op.amount = amount;
    return op;
}

static inline crdt_op op_key(crdt_op_kind k, const char *key, const char *value, uint64_t amount)
{
    crdt_op op = op_val(k, value);
    op.key = (const uint8_t *)key;
    op.key_len = strlen(key);
    op.amount = amount;
    return op;
}

/* The value JSON of v as a NUL-terminated string (static buffer per call). */
static inline const char *value_of(const crdt *v)
{
    static _Thread_local char buf[8192];
    bytes b = BYTES_INIT;
    ASSERT_OK(crdt_value_json(v, &b));
    size_t n = b.len < sizeof buf - 1 ? b.len : sizeof buf - 1;
    memcpy(buf, b.data, n);
    buf[n] = 0;
    bytes_free(&b);
    return buf;
}

static inline void apply_ok(crdt *v, crdt_op op, uint64_t actor, uint64_t now)
{
    crdt_ctx ctx = {actor, now};
    ASSERT_OK(crdt_apply(v, &op, &ctx, NULL));
}

#endif
