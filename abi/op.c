/*
 * dd_op: the operation descriptor shared by standalone values and replicas.
 */
#include "abi.h"

DD_API int dd_op_init(dd_op *op, uint32_t version)
{
    ABI_REQUIRE(op, "op");
    if (version != DD_OP_VERSION)
        return error_set(DD_EINVAL, "dd_op version %u is not supported (this library knows %u)",
                         version, DD_OP_VERSION);
    dd_op defaults = DD_OP_INIT;
    *op = defaults;
    return DD_OK;
}
