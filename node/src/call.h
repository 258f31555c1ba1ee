/*
 * One method call on a handle object, the shape nearly every method of
 * Journal, StateStore, Keyring, System, Replica and Owned has: take `this`
 * and the arguments, convert them (strings to bytes land in the call's
 * scratch), make one ABI call, turn its status into a throw or the result.
 * Keeping that in one place keeps each method one ABI call plus conversions.
 */
#ifndef DDATA_NODE_CALL_H
#define DDATA_NODE_CALL_H

#include "handle.h"

#define CALL_MAX_ARGS 8
#define CALL_MAX_SCRATCH 4

typedef struct addon_call {
    napi_env env;
    void *h; /* NULL once closed: the library then answers DD_EMISUSE */
    size_t argc;
    napi_value argv[CALL_MAX_ARGS];
    char *scratch[CALL_MAX_SCRATCH];
    int nscratch;
} addon_call;

/* Reads `this` and the arguments; with fewer than `min_args` arguments
 * throws `usage` as a DD_EINVAL error. False when it threw. */
bool call_begin(addon_call *c, napi_env env, napi_callback_info info, size_t min_args,
                const char *usage);
/* call_begin, then argument 0 as bytes: the key, pid or prefix most
 * methods take first. False when it threw (the call is freed). */
bool call_begin_bytes(addon_call *c, napi_env env, napi_callback_info info, size_t min_args,
                      const char *usage, const uint8_t **p, size_t *n, const char *what);
/* Argument i as bytes (a Buffer, a Uint8Array or a string). */
bool call_bytes(addon_call *c, size_t i, const uint8_t **p, size_t *n, const char *what);
/* Frees what the conversions allocated. */
void call_free(addon_call *c);
/* Frees the call, then throws for a failed status `rc` (returning NULL) or
 * returns `ok`. With rc 0 and ok NULL it returns NULL for an exception a
 * conversion already threw. */
napi_value call_end(addon_call *c, int rc, napi_value ok);

/* Ends a lookup: frees the call; true when `rc` is DD_OK and the caller
 * builds the result into *out; otherwise *out is undefined (DD_ENOTFOUND)
 * or NULL with the error thrown. */
bool call_found(addon_call *c, int rc, napi_value *out);
/* The same for a poll (nextEvent, nextOutgoing, nextLog), where DD_EDONE
 * (nothing waiting) answers undefined. */
bool call_polled(addon_call *c, int rc, napi_value *out);
/* The start of every poll method (they take no arguments): begins the
 * call `c` on `this`, then makes the ABI call `poll` (an expression on
 * the call's handle, evaluated only once the call began). True when an
 * item came and the caller builds it into *out; otherwise *out is the
 * answer already: undefined when nothing waits, NULL when it threw. */
#define CALL_POLL(c, env, info, poll, out)                                                         \
    (call_begin(c, env, info, 0, NULL) ? call_polled(c, poll, out) : (*(out) = NULL, false))

/* Defines the method `name`: no arguments, one ABI call `fn(&v, this)`
 * that writes a number of C type `type`, answered as `to_js(env, v)`
 * (addon_int, addon_u64). The getters of System, Replica and Owned
 * (eventFd, incarnation, keyCount) are all this shape; v is only read
 * when fn succeeded. */
#define CALL_GETTER(name, fn, type, to_js)                                                         \
    static napi_value name(napi_env env, napi_callback_info info)                                  \
    {                                                                                              \
        addon_call c;                                                                              \
        type v = 0;                                                                                \
        if (!call_begin(&c, env, info, 0, NULL))                                                   \
            return NULL;                                                                           \
        int rc = fn(&v, c.h);                                                                      \
        return call_end(&c, rc, to_js(env, v));                                                    \
    }

/* Defines the method `name`: one number argument of C type `type`, read
 * by `read` (addon_arg_u64, addon_arg_u32) and named `what` in its error,
 * `usage` thrown when it is missing; one ABI call `fn(this, v)`, answered
 * undefined (tick, leaveSync, memberLeft, setActive). */
#define CALL_WITH_NUMBER(name, fn, type, read, usage, what)                                        \
    static napi_value name(napi_env env, napi_callback_info info)                                  \
    {                                                                                              \
        addon_call c;                                                                              \
        type v;                                                                                    \
        if (!call_begin(&c, env, info, 1, usage) || !read(env, c.argv[0], &v, what))               \
            return NULL;                                                                           \
        return call_end(&c, fn(c.h, v), addon_undefined(env));                                     \
    }

/* The same with bytes for a second argument, named `bytes_what`: one ABI
 * call `fn(this, v, p, n)` (deliver, addKey). */
#define CALL_WITH_NUMBER_BYTES(name, fn, type, read, usage, what, bytes_what)                      \
    static napi_value name(napi_env env, napi_callback_info info)                                  \
    {                                                                                              \
        addon_call c;                                                                              \
        type v;                                                                                    \
        const uint8_t *p;                                                                          \
        size_t n;                                                                                  \
        if (!call_begin(&c, env, info, 2, usage))                                                  \
            return NULL;                                                                           \
        if (!read(env, c.argv[0], &v, what) || !call_bytes(&c, 1, &p, &n, bytes_what))             \
            return call_end(&c, DD_OK, NULL);                                                      \
        return call_end(&c, fn(c.h, v, p, n), addon_undefined(env));                               \
    }

#endif
