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

int error_set(int code, const char *fmt, ...)
{
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
