/*
 * dd_error_last: a thread-local view of the core's last error.
 */
#include "abi.h"

static _Thread_local dd_error last;

DD_API const dd_error *dd_error_last(void)
{
    last.code = error_code();
    last.message = error_message();
    return &last;
}

DD_API void dd_error_clear(void)
{
    error_clear();
}
