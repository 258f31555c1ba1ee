/*
 * Shared pieces of the Node addon: per-environment state, argument helpers
 * and the one way errors reach JavaScript.
 *
 * Errors are built by a JavaScript factory (lib/errors.js registers it at
 * load time) so that a failing call throws the right Error subclass, with
 * `status` and `code`, straight from C; no JS wrapper has to catch and
 * rethrow on the hot path.
 */
#ifndef DDATA_NODE_ADDON_H
#define DDATA_NODE_ADDON_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "ddata.h"

typedef struct addon_state {
    napi_ref error_factory; /* (status, message) => Error */
    napi_ref crdt_ctor;     /* the Crdt class, for values made in C */
} addon_state;

addon_state *addon_get_state(napi_env env);

/* Throws the JS error for a failed ddata call: status `rc` and the message
 * from dd_error_last(). Returns NULL so callers can `return addon_fail(...)`. */
napi_value addon_fail(napi_env env, int rc);
/* The same for a call made with `handle`: the message is the failure
 * recorded on it (dd_handle_error), falling back to dd_error_last() when
 * the record is not this call's (an argument error found before the
 * lookup). */
napi_value addon_fail_on(napi_env env, int rc, const void *handle);
/* Throws the JS error for status `rc` with `message` (a failure found in
 * the addon before any ABI call, or captured on a pool thread where
 * dd_error_last() was read). Returns NULL. */
napi_value addon_throw(napi_env env, int rc, const char *message);
/* Throws a DD_EINVAL error with `message` (bad JS argument). */
napi_value addon_type_error(napi_env env, const char *message);

/* Argument conversions; each throws and returns false on a wrong type. */
bool addon_arg_double(napi_env env, napi_value v, double *out, const char *what);
bool addon_arg_u32(napi_env env, napi_value v, uint32_t *out, const char *what);
bool addon_arg_u64(napi_env env, napi_value v, uint64_t *out, const char *what);
/* Borrows the bytes of a Buffer/TypedArray, or of a string copied into
 * `scratch` (caller frees *scratch with free()). */
bool addon_arg_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len, char **scratch,
                     const char *what);

napi_value addon_buf_to_js(napi_env env, dd_buf *buf); /* frees buf */
napi_value addon_int(napi_env env, int64_t v);
napi_value addon_undefined(napi_env env);

/* Ops from JS objects ({kind, amount, key, value, valueType, nested});
 * strings converted to bytes live in the scratch until addon_op_free. */
#define OP_MAX_DEPTH 32
typedef struct op_scratch {
    dd_op ops[OP_MAX_DEPTH];
    char *strings[OP_MAX_DEPTH * 2];
    int nstrings;
} op_scratch;
bool addon_read_op(napi_env env, napi_value obj, op_scratch *s); /* ops[0] is the op */
void addon_op_free(op_scratch *s);
bool addon_read_limits(napi_env env, napi_value v, dd_limits *lim);
/* A new JS Crdt owning `h` (freed on failure). */
napi_value addon_wrap_crdt(napi_env env, dd_crdt *h, uint64_t actor);

/* Adds the named functions of one area to `exports`. */
typedef struct addon_fn {
    const char *name;
    napi_callback cb;
} addon_fn;
bool addon_export(napi_env env, napi_value exports, const addon_fn *fns, size_t n);

/* Each area registers its functions from here (add one line per area in
 * addon.c). */
bool addon_init_core(napi_env env, napi_value exports);
bool addon_init_watch(napi_env env, napi_value exports);
bool addon_init_crdt(napi_env env, napi_value exports);
bool addon_init_system(napi_env env, napi_value exports);
bool addon_init_store(napi_env env, napi_value exports);
bool addon_init_store_async(napi_env env, napi_value exports);
bool addon_init_state_blocks(napi_env env, napi_value exports);
bool addon_init_owned(napi_env env, napi_value exports);

#define ADDON_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
