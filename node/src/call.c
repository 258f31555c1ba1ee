/* A method call on a handle object; see call.h. */
#include "call.h"

#include <stdlib.h>

bool call_begin(addon_call *c, napi_env env, napi_callback_info info, size_t min_args,
                const char *usage)
{
    c->env = env;
    c->h = NULL;
    c->argc = CALL_MAX_ARGS;
    c->nscratch = 0;
    if (!handle_this(env, info, &c->argc, c->argv, &c->h))
        return false;
    if (c->argc < min_args) {
        addon_type_error(env, usage);
        return false;
    }
    return true;
}

bool call_bytes(addon_call *c, size_t i, const uint8_t **p, size_t *n, const char *what)
{
    char *scratch = NULL;
    if (c->nscratch >= CALL_MAX_SCRATCH) { /* a method converts more than it declared */
        addon_fail(c->env, DD_ENOMEM);
        return false;
    }
    if (!addon_arg_bytes(c->env, c->argv[i], p, n, &scratch, what))
        return false;
    if (scratch)
        c->scratch[c->nscratch++] = scratch;
    return true;
}

bool call_begin_bytes(addon_call *c, napi_env env, napi_callback_info info, size_t min_args,
                      const char *usage, const uint8_t **p, size_t *n, const char *what)
{
    if (!call_begin(c, env, info, min_args, usage))
        return false;
    if (call_bytes(c, 0, p, n, what))
        return true;
    call_free(c);
    return false;
}

void call_free(addon_call *c)
{
    while (c->nscratch > 0)
        free(c->scratch[--c->nscratch]);
}

napi_value call_end(addon_call *c, int rc, napi_value ok)
{
    call_free(c);
    return rc ? addon_fail_on(c->env, rc, c->h) : ok;
}

/* call_found and call_polled: `absent` is the status that answers
 * undefined. */
static bool call_settle(addon_call *c, int rc, int absent, napi_value *out)
{
    call_free(c);
    *out = NULL;
    if (rc == absent)
        *out = addon_undefined(c->env);
    else if (rc)
        addon_fail_on(c->env, rc, c->h);
    return rc == DD_OK;
}

bool call_found(addon_call *c, int rc, napi_value *out)
{
    return call_settle(c, rc, DD_ENOTFOUND, out);
}

bool call_polled(addon_call *c, int rc, napi_value *out)
{
    return call_settle(c, rc, DD_EDONE, out);
}
