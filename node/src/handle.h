/*
 * A JS object owning one ddata handle (system, replica, journal, state
 * store): close() closes it at once, the finalizer closes it if close() was
 * never called. The C side tolerates any order (a replica keeps its system
 * alive; closing twice is DD_EMISUSE, which close() avoids by forgetting
 * the handle), so GC may finalize parents before children.
 */
#ifndef DDATA_NODE_HANDLE_H
#define DDATA_NODE_HANDLE_H

#include "addon.h"

typedef int (*handle_close_fn)(void *h);

typedef struct js_handle {
    void *h;
    handle_close_fn close;
} js_handle;

/* Wraps `h` into `self` (from a constructor). Closes `h` on failure. */
bool handle_wrap(napi_env env, napi_value self, void *h, handle_close_fn close);
/* The handle of `this` (NULL once closed: the library then answers
 * DD_EMISUSE); throws and returns false when `this` is no such object. */
bool handle_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, void **out);
bool handle_arg(napi_env env, napi_value v, void **out, const char *what);
/* close(): the method every handle class shares. */
napi_value handle_close_method(napi_env env, napi_callback_info info);

/* Reads an optional property; false when absent, undefined or null. */
bool addon_prop(napi_env env, napi_value obj, const char *name, napi_value *out);
/* Returns a u64 as a number when exact, else a bigint. */
napi_value addon_u64(napi_env env, uint64_t v);
napi_value addon_str(napi_env env, const uint8_t *p, size_t n);

#endif
