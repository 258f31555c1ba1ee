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

#endif
