/*
 * Thread-local last error. See error.h.
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/status.h"

static _Thread_local int last_code;
static _Thread_local char last_message[ERROR_MESSAGE_MAX];

/* The call frame (see error_call_enter). Every public call touches these
 * two, so they use the initial-exec TLS model: a plain %fs-relative load
 * instead of a __tls_get_addr call per access in the shared library. They
 * are 8 bytes, well within the static TLS surplus glibc keeps for
 * dlopen'ed libraries (Python and Node load ddata that way). */
#define HOT_TLS __attribute__((tls_model("initial-exec")))
static _Thread_local unsigned call_depth HOT_TLS;
static _Thread_local int saved_valid HOT_TLS;
static _Thread_local int saved_code;
static _Thread_local char saved_message[ERROR_MESSAGE_MAX];

static _Thread_local unsigned long serial;

unsigned long error_serial(void)
{
    return serial;
}

static void save_before_overwrite(void)
{
    serial++;
    if (call_depth == 0 || saved_valid)
        return;
    saved_code = last_code;
    memcpy(saved_message, last_message, sizeof(saved_message));
    saved_valid = 1;
}

int error_set(int code, const char *fmt, ...)
{
    save_before_overwrite();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof(last_message), fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

int error_wrap(const char *fmt, ...)
{
    char prefix[ERROR_MESSAGE_MAX];
    char old[ERROR_MESSAGE_MAX];
    save_before_overwrite();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, last_message, sizeof(old));
    size_t n = strlen(prefix);
    if (n + 2 >= sizeof(last_message))
        n = sizeof(last_message) - 3;
    memcpy(last_message, prefix, n);
    memcpy(last_message + n, ": ", 2);
    size_t room = sizeof(last_message) - n - 3;
    size_t m = strnlen(old, room);
    memcpy(last_message + n + 2, old, m);
    last_message[n + 2 + m] = '\0';
    return last_code;
}

void error_clear(void)
{
    save_before_overwrite();
    last_code = ST_OK;
    last_message[0] = '\0';
}

int error_code(void)
{
    return last_code;
}

const char *error_message(void)
{
    return last_message[0] ? last_message : "no error";
}

int error_oom(void)
{
    return error_set(ST_ENOMEM, "out of memory");
}

void error_call_enter(void)
{
    if (call_depth++ == 0)
        saved_valid = 0;
}

int error_call_leave(int rc)
{
    if (call_depth == 0)
        return rc;
    if (--call_depth == 0 && saved_valid) {
        if (rc >= 0 || rc == ST_EDONE) {
            last_code = saved_code;
            memcpy(last_message, saved_message, sizeof(last_message));
        }
        saved_valid = 0;
    }
    return rc;
}
