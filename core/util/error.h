/*
 * The thread-local "last error" of the calling thread.
 *
 * Errors are set once, at the place that knows what went wrong, and passed up
 * unchanged (libgit2's git_error_set). The message is formatted into a fixed
 * per-thread buffer, so reporting an error never allocates and never fails.
 */
#ifndef DD_UTIL_ERROR_H
#define DD_UTIL_ERROR_H

#include <stddef.h>

#define ERROR_MESSAGE_MAX 512

/* How much of a key a message quotes (as "%.*s", error_key_len(len), key):
 * enough to recognise it, never enough to crowd out the rest. */
#define ERROR_KEY_SHOWN 64
static inline int error_key_len(size_t key_len)
{
    return (int)(key_len > ERROR_KEY_SHOWN ? ERROR_KEY_SHOWN : key_len);
}

/* Records `code` and a printf-style message; returns `code` so callers can
 * write `return error_set(ST_EINVAL, "...")`. */
int error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with more context, keeping the code. */
int error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void error_clear(void);
/* Counts the errors set on this thread: a caller can tell whether code it
 * ran (a callback) set one. */
unsigned long error_serial(void);
int error_code(void);
const char *error_message(void);

/* Convenience for the most common failure. */
int error_oom(void);

/* Call frames: the rule "a successful call leaves the last error as it
 * was". The ABI brackets every public call with error_call_enter and
 * error_call_leave (abi/calls_<area>.c, generated). Inside the outermost frame the
 * first error_set lazily saves the error that was there before; when the
 * call then succeeds (rc >= 0, or ST_EDONE, which is not a failure), the
 * saved error is put back, so a failure the call recovered from internally
 * never leaks out. Nested public calls (ddata called from a callback, or
 * one ABI function calling another) only count depth. The saving costs
 * nothing on a call that sets no error. */
void error_call_enter(void);
int error_call_leave(int rc);

#endif
