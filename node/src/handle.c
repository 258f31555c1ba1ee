/* Shared plumbing of the handle classes; see handle.h. */
#include "handle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void handle_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    js_handle *j = data;
    if (j->h)
        j->close(j->h);
    free(j);
}

bool handle_wrap(napi_env env, napi_value self, void *h, handle_close_fn close)
{
    js_handle *j = calloc(1, sizeof *j);
    if (!j) {
        close(h);
        addon_fail(env, DD_ENOMEM);
        return false;
    }
    j->h = h;
    j->close = close;
    if (napi_wrap(env, self, j, handle_finalize, NULL, NULL) != napi_ok) {
        handle_finalize(env, j, NULL);
        addon_type_error(env, "cannot wrap the handle");
        return false;
    }
    return true;
}

static js_handle *unwrap(napi_env env, napi_value v)
{
    js_handle *j = NULL;
    if (napi_unwrap(env, v, (void **)&j) != napi_ok)
        return NULL;
    return j;
}

bool handle_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, void **out)
{
    napi_value self;
    size_t capacity = *argc;
    napi_get_cb_info(env, info, argc, argv, &self, NULL);
    /* N-API counts every argument given but writes only `capacity` of them;
     * callers loop to argc (async jobs keep each argument alive) */
    if (*argc > capacity)
        *argc = capacity;
    js_handle *j = unwrap(env, self);
    if (!j) {
        addon_type_error(env, "method called on the wrong object");
        return false;
    }
    *out = j->h;
    return true;
}

bool handle_arg(napi_env env, napi_value v, void **out, const char *what)
{
    js_handle *j = unwrap(env, v);
    if (!j) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be a ddata handle object", what);
        addon_type_error(env, msg);
        return false;
    }
    /* A closed object as an argument is misuse, never "absent": in an
     * options struct NULL means no keyring (no sealing) or no store. */
    if (!j->h) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s handle is closed", what);
        addon_throw(env, DD_EMISUSE, msg);
        return false;
    }
    *out = j->h;
    return true;
}

napi_value handle_close_method(napi_env env, napi_callback_info info)
{
    napi_value self;
    size_t argc = 0;
    napi_get_cb_info(env, info, &argc, NULL, &self, NULL);
    js_handle *j = unwrap(env, self);
    if (!j)
        return addon_type_error(env, "close() called on the wrong object");
    int rc = 0;
    if (j->h)
        rc = j->close(j->h);
    j->h = NULL;
    return rc ? addon_fail(env, rc) : addon_undefined(env);
}

bool addon_prop(napi_env env, napi_value obj, const char *name, napi_value *out)
{
    bool has = false;
    napi_valuetype t = napi_undefined;
    if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object)
        return false;
    if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has)
        return false;
    if (napi_get_named_property(env, obj, name, out) != napi_ok)
        return false;
    return napi_typeof(env, *out, &t) == napi_ok && t != napi_undefined && t != napi_null;
}

bool addon_bool_option(napi_env env, napi_value obj, const char *name, uint32_t *out,
                       const char *message)
{
    napi_value v;
    bool b = false;
    if (!addon_prop(env, obj, name, &v))
        return true;
    if (napi_get_value_bool(env, v, &b) != napi_ok) {
        addon_type_error(env, message);
        return false;
    }
    *out = b ? 1 : 0;
    return true;
}

bool addon_number_options(napi_env env, napi_value obj, void *opts,
                          const addon_number_option *specs, size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        napi_value v;
        char what[96];
        if (!addon_prop(env, obj, specs[i].name, &v))
            continue;
        snprintf(what, sizeof what, "%s%s", prefix, specs[i].name);
        void *field = (char *)opts + specs[i].offset;
        if (specs[i].wide ? !addon_arg_u64(env, v, field, what)
                          : !addon_arg_u32(env, v, field, what))
            return false;
    }
    return true;
}

napi_value addon_u64(napi_env env, uint64_t v)
{
    napi_value out = NULL;
    if (v <= 9007199254740991ull)
        napi_create_double(env, (double)v, &out);
    else
        napi_create_bigint_uint64(env, v, &out);
    return out;
}

napi_value addon_str(napi_env env, const uint8_t *p, size_t n)
{
    napi_value out = NULL;
    napi_create_string_utf8(env, p ? (const char *)p : "", n, &out);
    return out;
}

napi_value addon_bytes(napi_env env, const uint8_t *p, size_t n)
{
    napi_value out = NULL;
    void *dst;
    napi_create_buffer_copy(env, n, n ? p : (const uint8_t *)"", &dst, &out);
    return out;
}

char *addon_dup_string(napi_env env, napi_value v, const char *what)
{
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be a string", what);
        addon_type_error(env, msg);
        return NULL;
    }
    char *s = malloc(n + 1);
    if (!s) {
        addon_fail(env, DD_ENOMEM);
        return NULL;
    }
    napi_get_value_string_utf8(env, v, s, n + 1, &n);
    return s;
}

void addon_free_strings(char **strs, size_t n)
{
    for (size_t i = 0; strs && i < n; i++)
        free(strs[i]);
}

bool addon_dup_bytes(napi_env env, napi_value v, uint8_t **out, size_t *n, const char *what)
{
    const uint8_t *p;
    char *scratch = NULL;
    if (!addon_arg_bytes(env, v, &p, n, &scratch, what))
        return false;
    if (scratch) {
        *out = (uint8_t *)scratch;
        return true;
    }
    *out = malloc(*n ? *n : 1);
    if (!*out) {
        addon_fail(env, DD_ENOMEM);
        return false;
    }
    if (*n)
        memcpy(*out, p, *n);
    return true;
}

napi_value addon_buf_as(napi_env env, dd_buf *b, addon_buf_shape shape)
{
    if (shape == ADDON_BUF_BYTES)
        return addon_buf_to_js(env, b);
    napi_value out = NULL;
    if (shape == ADDON_BUF_TEXT) {
        napi_create_string_utf8(env, (const char *)b->data, b->len, &out);
    } else {
        uint32_t i = 0;
        napi_create_array(env, &out);
        addon_lp_append(env, out, &i, b, false);
    }
    dd_buf_free(b);
    return out;
}

void addon_lp_append(napi_env env, napi_value arr, uint32_t *idx, const dd_buf *b, bool as_string)
{
    for (size_t off = 0; off + 4 <= b->len;) {
        uint32_t n = (uint32_t)b->data[off] | (uint32_t)b->data[off + 1] << 8 |
                     (uint32_t)b->data[off + 2] << 16 | (uint32_t)b->data[off + 3] << 24;
        off += 4;
        if (n > b->len - off)
            break;
        const uint8_t *p = b->data + off;
        napi_set_element(env, arr, (*idx)++,
                         as_string ? addon_str(env, p, n) : addon_bytes(env, p, n));
        off += n;
    }
}

bool addon_define_class(napi_env env, napi_value exports, const char *name, napi_callback ctor,
                        const napi_property_descriptor *props, size_t n)
{
    napi_value cls;
    return napi_define_class(env, name, NAPI_AUTO_LENGTH, ctor, NULL, n, props, &cls) == napi_ok &&
           napi_set_named_property(env, exports, name, cls) == napi_ok;
}

const void *addon_method_data(napi_env env, napi_callback_info info)
{
    void *data = NULL;
    napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
    return data;
}

bool addon_extend_class(napi_env env, napi_value exports, const char *name,
                        const napi_property_descriptor *props, size_t n)
{
    napi_value ctor, proto;
    return napi_get_named_property(env, exports, name, &ctor) == napi_ok &&
           napi_get_named_property(env, ctor, "prototype", &proto) == napi_ok &&
           napi_define_properties(env, proto, n, props) == napi_ok;
}

napi_value addon_pair(napi_env env, napi_value a, napi_value b)
{
    napi_value arr = NULL;
    napi_create_array_with_length(env, 2, &arr);
    napi_set_element(env, arr, 0, a);
    napi_set_element(env, arr, 1, b);
    return arr;
}
