/*
 * dd_op: the operation descriptor shared by standalone values and replicas.
 */
#include <string.h>

#include "abi.h"
#include "crdt/crdt.h"

int abi_impl_dd_op_init(dd_op *op, uint32_t version)
{
    ABI_INIT_DEFAULTS(op, "op", dd_op, version, DD_OP_VERSION, DD_OP_INIT);
}

int abi_op_convert(const dd_op *op, crdt_op *ops, uint32_t max)
{
    if (!op)
        return error_set(DD_EINVAL, "op must not be NULL");
    uint32_t i = 0;
    for (const dd_op *o = op; o; o = o->nested, i++) {
        if (i == max)
            return error_set(DD_ELIMIT, "op nesting exceeds %u levels", max);
        ABI_REQUIRE_VERSION("dd_op", o->version, DD_OP_VERSION);
        if (o->kind < DD_OP_INCREMENT || o->kind > DD_OP_UPDATE)
            return error_set(DD_EINVAL, "unknown op kind %u", o->kind);
        if ((!o->key && o->key_len) || (!o->value && o->value_len))
            return error_set(DD_EINVAL, "op key or value is NULL with a non-zero length");
        crdt_op *c = &ops[i];
        memset(c, 0, sizeof(*c));
        c->kind = (crdt_op_kind)o->kind;
        c->amount = o->amount;
        c->key = o->key;
        c->key_len = o->key_len;
        c->value = o->value;
        c->value_len = o->value_len;
        c->value_type = (crdt_type)o->value_type;
        if (i)
            ops[i - 1].nested = c;
        if (o->kind != DD_OP_UPDATE)
            break;
    }
    return DD_OK;
}
