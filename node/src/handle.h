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
/* The handle of `v` passed as an argument; throws DD_EMISUSE when `v` was
 * closed (a closed keyring must never read as "no keyring"). */
bool handle_arg(napi_env env, napi_value v, void **out, const char *what);
/* close(): the method every handle class shares. */
napi_value handle_close_method(napi_env env, napi_callback_info info);

/* Reads an optional property; false when absent, undefined or null. */
bool addon_prop(napi_env env, napi_value obj, const char *name, napi_value *out);
/* An optional boolean option, into *out as 1 or 0 (left as it is when
 * absent); a value that is no boolean throws `message`. False when it
 * threw. */
bool addon_bool_option(napi_env env, napi_value obj, const char *name, uint32_t *out,
                       const char *message);
/* An optional numeric field of an options struct: read from property
 * `name` into the field at `offset`, a uint64_t when `wide`, else a
 * uint32_t. */
typedef struct addon_number_option {
    const char *name;
    size_t offset;
    bool wide;
} addon_number_option;
/* Reads the `n` options of `specs` present on `obj` into `opts`, in table
 * order; an error names the option as prefix + name. False when it threw. */
bool addon_number_options(napi_env env, napi_value obj, void *opts,
                          const addon_number_option *specs, size_t n, const char *prefix);
/* Returns a u64 as a number when exact, else a bigint. */
napi_value addon_u64(napi_env env, uint64_t v);
napi_value addon_str(napi_env env, const uint8_t *p, size_t n);
/* [a, b]: the two-value results (destination and message, incarnation
 * and age). */
napi_value addon_pair(napi_env env, napi_value a, napi_value b);
/* How a dd_buf the library filled reaches JS. */
typedef enum addon_buf_shape {
    ADDON_BUF_BYTES, /* a Buffer */
    ADDON_BUF_TEXT,  /* a string */
    ADDON_BUF_LIST,  /* an array of Buffers, from the library's list format */
} addon_buf_shape;
/* `b` as `shape`; frees b. */
napi_value addon_buf_as(napi_env env, dd_buf *b, addon_buf_shape shape);
/* A new Buffer holding a copy of p[0..n) (p may be NULL when n is 0). */
napi_value addon_bytes(napi_env env, const uint8_t *p, size_t n);
/* Copies a JS string into malloc'd memory (caller frees); throws and
 * returns NULL when `v` is no string. */
char *addon_dup_string(napi_env env, napi_value v, const char *what);
/* Frees strs[0..n), the strings of a list copied from JS (the list itself
 * stays the caller's); `strs` NULL frees nothing. */
void addon_free_strings(char **strs, size_t n);
/* Copies the bytes of `v` (a Buffer, a Uint8Array or a string) into
 * malloc'd memory (*out, caller frees; never NULL on success): a pool
 * thread must not read JS memory the caller may change. Throws and returns
 * false on failure. */
bool addon_dup_bytes(napi_env env, napi_value v, uint8_t **out, size_t *n, const char *what);
/* Appends the items of a length-prefixed list (u32 little-endian length,
 * then the bytes; the library's list format) to `arr` from index *idx, as
 * strings or Buffers; stops at a truncated item. */
void addon_lp_append(napi_env env, napi_value arr, uint32_t *idx, const dd_buf *b, bool as_string);

/* The rows of a class's method table: a prototype method, and a static
 * one (a function on the class itself). Each file keeps its tables static
 * const at file scope, beside the functions they name, and hands them to
 * addon_define_class or addon_extend_class. */
#define ADDON_METHOD(name, fn)                                                                     \
    {                                                                                              \
        name, NULL, fn, NULL, NULL, NULL, napi_default_method, NULL                                \
    }
/* A method whose callback serves a family of methods that differ by one
 * function or constant: `data` (a static const object) tells them apart,
 * read back with addon_method_data. */
#define ADDON_METHOD_DATA(name, fn, data)                                                          \
    {                                                                                              \
        name, NULL, fn, NULL, NULL, NULL, napi_default_method, (void *)(data)                      \
    }
#define ADDON_STATIC(name, fn)                                                                     \
    {                                                                                              \
        name, NULL, fn, NULL, NULL, NULL, napi_static, NULL                                        \
    }
/* The `data` of the table row that `info`'s call came through. */
const void *addon_method_data(napi_env env, napi_callback_info info);
/* Defines class `name` with constructor `ctor` and the `n` methods of
 * `props`, and sets exports[name]. */
bool addon_define_class(napi_env env, napi_value exports, const char *name, napi_callback ctor,
                        const napi_property_descriptor *props, size_t n);
/* Adds `props` to exports[name].prototype: methods of a class that another
 * file defined (the Promise forms of Journal and StateStore, StateStore's
 * block calls). */
bool addon_extend_class(napi_env env, napi_value exports, const char *name,
                        const napi_property_descriptor *props, size_t n);
/* The two with the count taken from the table, an array in scope. */
#define ADDON_DEFINE_CLASS(env, exports, name, ctor, table)                                        \
    addon_define_class(env, exports, name, ctor, table, ADDON_COUNT(table))
#define ADDON_EXTEND_CLASS(env, exports, name, table)                                              \
    addon_extend_class(env, exports, name, table, ADDON_COUNT(table))

#endif
