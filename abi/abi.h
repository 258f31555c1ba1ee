/*
 * Shared helpers of the handle layer (the abi/ sources): argument checks that set
 * the error message, and conversions between public and core structs.
 */
#ifndef DD_ABI_ABI_H
#define DD_ABI_ABI_H

#ifndef DDATA_BUILDING
#define DDATA_BUILDING 1
#endif
#include "ddata.h"

#include "handle.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/status.h"

/* The implementations behind the public functions (abi/impl.h, generated)
 * and the bracket the generated wrappers (abi/calls_<area>.c) put around each:
 * error_call_enter before, abi_call_leave after, which records a failure
 * on `handle` (the call's first handle argument, or NULL) and returns rc. */
#include "impl.h"
int abi_call_leave(int rc, const void *handle);

/* Every generated public function, one row each in abi/calls_<area>.c:
 * `name`, taking the parameters after `args`, runs abi_impl_<name>`args`
 * between error_call_enter and abi_call_leave, so the error rules of
 * ABI.md section 3 are one piece of code. `handle` is the call's first
 * handle argument, or NULL. */
#define ABI_BRACKET(name, handle, args, ...)                                                       \
    DD_API int name(__VA_ARGS__)                                                                   \
    {                                                                                              \
        error_call_enter();                                                                        \
        return abi_call_leave((abi_impl_##name args), (handle));                                   \
    }

/* Returns DD_EINVAL naming the parameter when `ptr` is NULL. */
#define ABI_REQUIRE(ptr, name)                                                                     \
    do {                                                                                           \
        if (!(ptr))                                                                                \
            return error_set(DD_EINVAL, "%s must not be NULL", name);                              \
    } while (0)

/* Returns DD_EINVAL naming the parameter when the result buffer `buf` is
 * NULL; otherwise empties it, so a failed call leaves nothing to free. */
#define ABI_REQUIRE_BUF(buf, name)                                                                 \
    do {                                                                                           \
        ABI_REQUIRE(buf, name);                                                                    \
        (buf)->data = NULL;                                                                        \
        (buf)->len = 0;                                                                            \
    } while (0)

/* Returns DD_EINVAL naming the struct unless `version` is the one this
 * library knows: the one check every versioned public struct gets. */
int abi_check_version(const char *what, uint32_t version, uint32_t known);
#define ABI_REQUIRE_VERSION(what, version, known)                                                  \
    do {                                                                                           \
        int version_rc_ = abi_check_version((what), (version), (known));                           \
        if (version_rc_)                                                                           \
            return version_rc_;                                                                    \
    } while (0)

/* The body of every dd_<struct>_init(ptr, version): checks both, then fills
 * in the struct's defaults (`init`, its DD_*_INIT). */
#define ABI_INIT_DEFAULTS(ptr, name, type, version, known, init)                                   \
    do {                                                                                           \
        ABI_REQUIRE(ptr, name);                                                                    \
        ABI_REQUIRE_VERSION(#type, version, known);                                                \
        type defaults_ = init;                                                                     \
        *(ptr) = defaults_;                                                                        \
        return DD_OK;                                                                              \
    } while (0)

/* Copies a public dd_limits (NULL = defaults) into the core's struct. */
int abi_limits(const dd_limits *in, limits *out);

/* Hands out `v` as a dd_crdt handle (*out); on failure frees `v` and
 * returns DD_ENOMEM. */
struct crdt;
int abi_crdt_wrap(dd_crdt **out, struct crdt *v);

/* Moves a core buffer into a dd_buf (ownership passes to the caller). */
struct bytes;
int abi_buf_from_bytes(dd_buf *out, struct bytes *b);

/* Checks a public dd_op chain and turns it into crdt_op structs, one per
 * nesting level, in `ops` (at least `max` of them). */
struct crdt_op;
int abi_op_convert(const dd_op *op, struct crdt_op *ops, uint32_t max);

#endif
