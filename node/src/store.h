/*
 * What the synchronous store methods (store.c) and their asynchronous forms
 * (store_async.c) share: how cursor rows become JS objects, how an expected
 * revision is read, and how append's events are read from JS. The async
 * forms read their arguments on the main thread with these same functions,
 * keep the JS values alive, and make the ABI call on the libuv pool.
 */
#ifndef DDATA_NODE_STORE_H
#define DDATA_NODE_STORE_H

#include "handle.h"

/* The shapes a journal cursor's records take in JS. */
typedef enum row_shape {
    ROW_EVENT,     /* {seq, timestampMs, payload} */
    ROW_TAGGED,    /* {pid, seq, ordering, timestampMs, payload} */
    ROW_PID,       /* Buffer */
    ROW_KEY,       /* {key, revision} */
    ROW_KEY_STATE, /* {key, revision, state} */
} row_shape;

napi_value row_to_js(napi_env env, const dd_journal_event *ev, row_shape shape);
/* Drains and closes cursor `c` into a JS array of `shape` rows (store.c). */
napi_value store_cursor_to_js(napi_env env, dd_journal_cursor *c, row_shape shape);
/* Cursor `cur` as a JS object with close(), which cursorNext reads
 * (store_async.c); the object owns it, even on failure. */
napi_value store_cursor_object(napi_env env, dd_journal_cursor *cur);

/* An expected revision: -1 means any. */
bool revision_arg(napi_env env, napi_value v, uint64_t *out);
/* range's count: a safe integer, negative to walk backward. */
bool count_arg(napi_env env, napi_value v, int64_t *out);

/* loadSnapshot's bound: undefined (none), a number (maxSeq) or an object
 * {minSeq, maxSeq, minTimestampMs, maxTimestampMs}; absent fields keep
 * DD_SNAPSHOT_CRITERIA_INIT's. */
bool snapshot_criteria_arg(napi_env env, napi_value v, dd_snapshot_criteria *out);

/* append's arguments (pid, expectedSeq, [{payload, timestampMs, tags}]).
 * Payloads given as Buffers are borrowed: the JS values must stay alive
 * while `evs` is used; strings and tags are copied and freed by
 * append_args_free. */
typedef struct append_args {
    const uint8_t *pid;
    size_t pid_len;
    char *pid_scratch;
    uint64_t expected;
    uint32_t n;
    dd_append_event *evs;
    char **scratch;
    char ***tag_lists;
    uint32_t *tag_counts;
} append_args;

/* Reads argv[0..3); false with the exception thrown (free the args anyway). */
bool append_args_read(napi_env env, size_t argc, napi_value *argv, append_args *a);
void append_args_free(append_args *a);

#endif
