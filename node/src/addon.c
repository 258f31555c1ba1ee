/*
 * The addon's entry point and the helpers every area shares: argument
 * conversion, errors, exports. Areas live in their own files (core.c,
 * crdt.c, ...) and add their functions through addon_init_<area>.
 */
#include "addon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

addon_state *addon_get_state(napi_env env)
{
    addon_state *st = NULL;
    napi_get_instance_data(env, (void **)&st);
    return st;
}

static napi_value throw_status(napi_env env, int rc, const char *message)
{
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending)
        return NULL;
    addon_state *st = addon_get_state(env);
    napi_value factory = NULL, args[2], err = NULL;
    if (st && st->error_factory &&
        napi_get_reference_value(env, st->error_factory, &factory) == napi_ok && factory &&
        napi_create_int32(env, rc, &args[0]) == napi_ok &&
        napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &args[1]) == napi_ok) {
        napi_value global;
        napi_get_global(env, &global);
        if (napi_call_function(env, global, factory, 2, args, &err) == napi_ok && err) {
            napi_throw(env, err);
            return NULL;
        }
    }
    napi_throw_error(env, dd_status_name(rc), message);
    return NULL;
}

napi_value addon_fail(napi_env env, int rc)
{
    const dd_error *e = dd_error_last();
    const char *msg = (e && e->code == rc && e->message) ? e->message : dd_status_str(rc);
    return throw_status(env, rc, msg);
}

napi_value addon_fail_on(napi_env env, int rc, const void *handle)
{
    /* The thread's record first: the call ran on this thread, so it is this
     * call's own; the handle's record is the fallback (read before anything
     * else touches the thread's slot: dd_handle_error on a handle the call
     * closed fails and sets it). */
    const dd_error *e = dd_error_last();
    if (e && e->code == rc && e->message)
        return throw_status(env, rc, e->message);
    const dd_error *he = NULL;
    if (handle && dd_handle_error(&he, handle) == DD_OK && he->code == rc)
        return throw_status(env, rc, he->message);
    return throw_status(env, rc, dd_status_str(rc));
}

napi_value addon_throw(napi_env env, int rc, const char *message)
{
    return throw_status(env, rc, message);
}

napi_value addon_type_error(napi_env env, const char *message)
{
    return throw_status(env, DD_EINVAL, message);
}

static bool arg_fail(napi_env env, const char *what, const char *expected)
{
    char msg[160];
    snprintf(msg, sizeof msg, "%s must be %s", what, expected);
    addon_type_error(env, msg);
    return false;
}

bool addon_arg_double(napi_env env, napi_value v, double *out, const char *what)
{
    if (napi_get_value_double(env, v, out) != napi_ok)
        return arg_fail(env, what, "a number");
    return true;
}

bool addon_arg_u32(napi_env env, napi_value v, uint32_t *out, const char *what)
{
    double d;
    if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 4294967295.0) ||
        d != (double)(uint32_t)d)
        return arg_fail(env, what, "an integer from 0 to 2^32-1");
    *out = (uint32_t)d;
    return true;
}

bool addon_arg_u64(napi_env env, napi_value v, uint64_t *out, const char *what)
{
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok)
        return arg_fail(env, what, "a non-negative integer");
    if (t == napi_bigint) {
        bool lossless = false;
        if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok || !lossless)
            return arg_fail(env, what, "a non-negative integer below 2^64");
        return true;
    }
    double d;
    if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) ||
        d > 9007199254740991.0 || d != (double)(uint64_t)d)
        return arg_fail(env, what, "a non-negative safe integer or a bigint");
    *out = (uint64_t)d;
    return true;
}

bool addon_arg_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len, char **scratch,
                     const char *what)
{
    bool is = false;
    *scratch = NULL;
    if (napi_is_buffer(env, v, &is) == napi_ok && is) {
        void *p = NULL;
        if (napi_get_buffer_info(env, v, &p, len) != napi_ok)
            return arg_fail(env, what, "a string or a Buffer");
        *data = p ? p : (const uint8_t *)"";
        return true;
    }
    if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
        napi_typedarray_type type;
        size_t n, off;
        void *p = NULL;
        napi_value ab;
        if (napi_get_typedarray_info(env, v, &type, &n, &p, &ab, &off) != napi_ok ||
            type != napi_uint8_array)
            return arg_fail(env, what, "a string, a Buffer or a Uint8Array");
        *data = p ? p : (const uint8_t *)"";
        *len = n;
        return true;
    }
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
        return arg_fail(env, what, "a string, a Buffer or a Uint8Array");
    char *s = malloc(n + 1);
    if (!s) {
        throw_status(env, DD_ENOMEM, "out of memory converting a string");
        return false;
    }
    napi_get_value_string_utf8(env, v, s, n + 1, &n);
    *scratch = s;
    *data = (const uint8_t *)s;
    *len = n;
    return true;
}

napi_value addon_buf_to_js(napi_env env, dd_buf *buf)
{
    napi_value out = NULL;
    void *dst = NULL;
    if (napi_create_buffer_copy(env, buf->len, buf->data ? (void *)buf->data : (void *)"", &dst,
                                &out) != napi_ok)
        out = NULL;
    dd_buf_free(buf);
    return out;
}

napi_value addon_int(napi_env env, int64_t v)
{
    napi_value out = NULL;
    napi_create_int64(env, v, &out);
    return out;
}

napi_value addon_undefined(napi_env env)
{
    napi_value out = NULL;
    napi_get_undefined(env, &out);
    return out;
}

bool addon_export(napi_env env, napi_value exports, const addon_fn *fns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        napi_value fn;
        if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn) !=
                napi_ok ||
            napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok)
            return false;
    }
    return true;
}

/* setErrorFactory(fn): lib/errors.js hands over the function that builds
 * the Error subclass for a status. */
static napi_value set_error_factory(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    napi_valuetype t = napi_undefined;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_function)
        return addon_type_error(env, "error factory must be a function");
    addon_state *st = addon_get_state(env);
    if (st->error_factory)
        napi_delete_reference(env, st->error_factory);
    napi_create_reference(env, argv[0], 1, &st->error_factory);
    return addon_undefined(env);
}

static void state_free(napi_env env, void *data, void *hint)
{
    (void)hint;
    addon_state *st = data;
    if (st->error_factory)
        napi_delete_reference(env, st->error_factory);
    if (st->crdt_ctor)
        napi_delete_reference(env, st->crdt_ctor);
    free(st);
}

NAPI_MODULE_INIT()
{
    addon_state *st = calloc(1, sizeof *st);
    if (!st || napi_set_instance_data(env, st, state_free, NULL) != napi_ok) {
        free(st);
        napi_throw_error(env, "DD_ENOMEM", "ddata: cannot allocate addon state");
        return NULL;
    }
    static const addon_fn fns[] = {{"setErrorFactory", set_error_factory}};
    if (!addon_export(env, exports, fns, ADDON_COUNT(fns)) || !addon_init_core(env, exports) ||
        !addon_init_watch(env, exports) || !addon_init_crdt(env, exports) ||
        !addon_init_system(env, exports) || !addon_init_store(env, exports) ||
        !addon_init_store_async(env, exports) || !addon_init_state_blocks(env, exports) ||
        !addon_init_owned(env, exports))
        return NULL;
    return exports;
}
