/*
 * Errors, two ways: dd_error_last, the thread-local view of the core's last
 * error (constructors, and anything without a handle), and dd_handle_error,
 * the last failure recorded on a handle (abi/handle.c keeps it in the
 * handle's slot). abi_call_leave is where the generated wrappers of
 * abi/calls_<area>.c record a failure on the call's handle and apply the rule
 * that a successful call leaves the thread's error untouched.
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

DD_API int dd_handle_error(const dd_error **out, const void *handle)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    return handle_last_error(handle, out);
}

int abi_call_leave(int rc, const void *handle)
{
    if (rc < 0 && rc != DD_EDONE && handle)
        handle_record_error(handle, rc, error_code() == rc ? error_message() : dd_status_str(rc));
    return error_call_leave(rc);
}
