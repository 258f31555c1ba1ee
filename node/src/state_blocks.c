/*
 * StateStore's building blocks (issue 17.13): scan with bounds, last and
 * purge by prefix, batch, flush, each in a blocking form (scanSync, ...)
 * and a Promise form run on the libuv pool (lib/store.js names them).
 *
 * Both forms share one shape: the arguments are read and checked on the
 * main thread into a blocks_op that owns copies of every byte it will
 * pass (so a pool thread never reads JS memory), blocks_call makes the one
 * ABI call, and blocks_result builds the JS value on the main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async_job.h"
#include "call.h"
#include "store.h"

enum { BLOCK_SCAN, BLOCK_LAST, BLOCK_PURGE, BLOCK_BATCH, BLOCK_FLUSH };

#define MAX_BATCH_OPS 65536u

typedef struct blocks_op {
    int kind;
    int sync;        /* scan: drain the cursor into an array */
    row_shape shape; /* scan */
    dd_state_range range;
    uint8_t *bytes[3]; /* start, end, prefix (owned) */
    dd_state_op *ops;
    uint8_t **owned; /* batch: 2 per op (key, state) */
    uint32_t nops;
    uint64_t *revisions;
    dd_journal_cursor *cursor;
    dd_buf buf, key;
    uint64_t revision;
    int found;
} blocks_op;

static void blocks_free(blocks_op *op)
{
    for (int i = 0; i < 3; i++)
        free(op->bytes[i]);
    for (uint32_t i = 0; op->owned && i < 2 * op->nops; i++)
        free(op->owned[i]);
    free(op->owned);
    free(op->ops);
    free(op->revisions);
    dd_buf_free(&op->buf);
    dd_buf_free(&op->key);
    if (op->cursor)
        dd_journal_cursor_close(op->cursor);
}

static bool bool_prop(napi_env env, napi_value obj, const char *name, uint32_t *out)
{
    return addon_bool_option(env, obj, name, out, "scan options: a flag must be a boolean");
}

/* scan({start, end, prefix, startExclusive, endInclusive, reverse, limit,
 * values}) */
static bool read_scan(napi_env env, size_t argc, napi_value *argv, blocks_op *op)
{
    int rc = dd_state_range_init(&op->range, DD_STATE_RANGE_VERSION);
    if (rc != DD_OK) {
        addon_fail(env, rc);
        return false;
    }
    op->kind = BLOCK_SCAN;
    op->shape = ROW_KEY_STATE;
    if (argc < 1)
        return true;
    napi_valuetype t;
    napi_typeof(env, argv[0], &t);
    if (t == napi_undefined || t == napi_null)
        return true;
    if (t != napi_object) {
        addon_type_error(env, "scan(options) takes an object");
        return false;
    }
    static const char *const names[3] = {"start", "end", "prefix"};
    const uint8_t **ptrs[3] = {&op->range.start, &op->range.end, &op->range.prefix};
    size_t *lens[3] = {&op->range.start_len, &op->range.end_len, &op->range.prefix_len};
    for (int i = 0; i < 3; i++) {
        napi_value v;
        if (!addon_prop(env, argv[0], names[i], &v))
            continue;
        if (!addon_dup_bytes(env, v, &op->bytes[i], lens[i], names[i]))
            return false;
        *ptrs[i] = op->bytes[i];
    }
    napi_value v;
    if (addon_prop(env, argv[0], "limit", &v) && !addon_arg_u64(env, v, &op->range.limit, "limit"))
        return false;
    uint32_t values = 1;
    if (!bool_prop(env, argv[0], "startExclusive", &op->range.start_exclusive) ||
        !bool_prop(env, argv[0], "endInclusive", &op->range.end_inclusive) ||
        !bool_prop(env, argv[0], "reverse", &op->range.reverse) ||
        !bool_prop(env, argv[0], "values", &values))
        return false;
    op->range.keys_only = !values;
    op->shape = values ? ROW_KEY_STATE : ROW_KEY;
    return true;
}

static bool read_prefix(napi_env env, size_t argc, napi_value *argv, blocks_op *op, int kind)
{
    op->kind = kind;
    if (argc < 1)
        return true;
    napi_valuetype t;
    napi_typeof(env, argv[0], &t);
    if (t == napi_undefined)
        return true;
    return addon_dup_bytes(env, argv[0], &op->bytes[2], &op->range.prefix_len, "prefix");
}

/* batch([['upsert', key, expectedRevision, state], ['delete', key,
 * expectedRevision], ...]): the C order in every op. */
static bool read_batch(napi_env env, size_t argc, napi_value *argv, blocks_op *op)
{
    op->kind = BLOCK_BATCH;
    uint32_t n = 0;
    bool is_array = false;
    if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
        napi_get_array_length(env, argv[0], &n) != napi_ok || n > MAX_BATCH_OPS) {
        addon_type_error(env, "batch(ops) takes an array of at most 65536 ops");
        return false;
    }
    op->ops = calloc(n ? n : 1, sizeof(*op->ops));
    op->owned = calloc(2 * (size_t)(n ? n : 1), sizeof(*op->owned));
    op->revisions = calloc(n ? n : 1, sizeof(*op->revisions));
    if (!op->ops || !op->owned || !op->revisions) {
        addon_fail(env, DD_ENOMEM);
        return false;
    }
    op->nops = n;
    for (uint32_t i = 0; i < n; i++) {
        napi_value item, kind_v, key_v, rev_v, state_v;
        char kind[8] = "";
        size_t klen = 0;
        uint32_t len = 0;
        bool arr = false;
        char usage[160];
        snprintf(usage, sizeof usage,
                 "batch op %u: expected ['upsert', key, expectedRevision, state] or "
                 "['delete', key, expectedRevision]",
                 i);
        if (napi_get_element(env, argv[0], i, &item) != napi_ok ||
            napi_is_array(env, item, &arr) != napi_ok || !arr ||
            napi_get_array_length(env, item, &len) != napi_ok || len < 3 ||
            napi_get_element(env, item, 0, &kind_v) != napi_ok ||
            napi_get_value_string_utf8(env, kind_v, kind, sizeof kind, &klen) != napi_ok ||
            (strcmp(kind, "upsert") && strcmp(kind, "delete")) ||
            len != (strcmp(kind, "upsert") == 0 ? 4u : 3u)) {
            addon_type_error(env, usage);
            return false;
        }
        dd_state_op *o = &op->ops[i];
        o->kind = kind[0] == 'u' ? DD_STATE_OP_UPSERT : DD_STATE_OP_DELETE;
        napi_get_element(env, item, 1, &key_v);
        napi_get_element(env, item, 2, &rev_v);
        if (!addon_dup_bytes(env, key_v, &op->owned[2 * i], &o->key_len, "key") ||
            !revision_arg(env, rev_v, &o->expected_revision))
            return false;
        o->key = op->owned[2 * i];
        if (o->kind == DD_STATE_OP_UPSERT) {
            napi_get_element(env, item, 3, &state_v);
            if (!addon_dup_bytes(env, state_v, &op->owned[2 * i + 1], &o->len, "state"))
                return false;
            o->state = op->owned[2 * i + 1];
        }
    }
    return true;
}

static int blocks_call(blocks_op *op, void *h)
{
    int rc = DD_OK;
    switch (op->kind) {
    case BLOCK_SCAN: return dd_state_store_scan(&op->cursor, h, &op->range);
    case BLOCK_LAST:
        rc = dd_state_store_last_prefix(&op->buf, &op->key, &op->revision, h, op->bytes[2],
                                        op->range.prefix_len);
        op->found = rc == DD_OK;
        return rc == DD_ENOTFOUND ? DD_OK : rc;
    case BLOCK_PURGE: return dd_state_store_purge_prefix(h, op->bytes[2], op->range.prefix_len);
    case BLOCK_BATCH: return dd_state_store_batch(op->revisions, h, op->ops, op->nops);
    default: return dd_state_store_flush(h);
    }
}

static napi_value blocks_result(napi_env env, blocks_op *op)
{
    napi_value out;
    switch (op->kind) {
    case BLOCK_SCAN: {
        dd_journal_cursor *cur = op->cursor;
        op->cursor = NULL;
        return op->sync ? store_cursor_to_js(env, cur, op->shape) : store_cursor_object(env, cur);
    }
    case BLOCK_LAST:
        if (!op->found)
            return addon_undefined(env);
        napi_create_object(env, &out);
        napi_set_named_property(env, out, "key", addon_buf_to_js(env, &op->key));
        napi_set_named_property(env, out, "revision", addon_u64(env, op->revision));
        napi_set_named_property(env, out, "state", addon_buf_to_js(env, &op->buf));
        return out;
    case BLOCK_BATCH:
        napi_create_array_with_length(env, op->nops, &out);
        for (uint32_t i = 0; i < op->nops; i++)
            napi_set_element(env, out, i, addon_u64(env, op->revisions[i]));
        return out;
    default: return addon_undefined(env);
    }
}

typedef bool (*blocks_reader)(napi_env env, size_t argc, napi_value *argv, blocks_op *op);

/* What tells the calls apart: how the arguments are read (NULL: a prefix,
 * read_prefix), which ABI call is made, and the Promise form's async
 * resource name. Each is the table row data of both forms. */
typedef struct block_call {
    blocks_reader read;
    int kind;
    const char *resource;
} block_call;

static const block_call SCAN = {read_scan, BLOCK_SCAN, "ddata.stateStore.scan"};
static const block_call LAST_PREFIX = {NULL, BLOCK_LAST, "ddata.stateStore.last"};
static const block_call PURGE_PREFIX = {NULL, BLOCK_PURGE, "ddata.stateStore.purge"};
static const block_call BATCH = {read_batch, BLOCK_BATCH, "ddata.stateStore.batch"};
static const block_call FLUSH = {NULL, BLOCK_FLUSH, "ddata.stateStore.flush"};

static bool block_read_args(napi_env env, const block_call *call, size_t argc, napi_value *argv,
                            blocks_op *op)
{
    return call->read ? call->read(env, argc, argv, op)
                      : read_prefix(env, argc, argv, op, call->kind);
}

/* ---- blocking forms ---- */

static napi_value run_sync(napi_env env, napi_callback_info info)
{
    const block_call *call = addon_method_data(env, info);
    addon_call c;
    if (!call_begin(&c, env, info, 0, NULL))
        return NULL;
    blocks_op op;
    memset(&op, 0, sizeof op);
    op.sync = 1;
    bool ok = block_read_args(env, call, c.argc, c.argv, &op);
    napi_value out = NULL;
    int rc = DD_OK;
    if (ok && (rc = blocks_call(&op, c.h)) == DD_OK)
        out = blocks_result(env, &op);
    blocks_free(&op);
    return call_end(&c, rc, out);
}

/* ---- Promise forms ---- */

static void job_run(async_job *job)
{
    async_job_status(job, blocks_call(job->data, job->h));
}

static napi_value job_result(napi_env env, async_job *job)
{
    return blocks_result(env, job->data);
}

static void job_release(async_job *job)
{
    if (job->data)
        blocks_free(job->data);
}

static napi_value run_async(napi_env env, napi_callback_info info)
{
    const block_call *call = addon_method_data(env, info);
    size_t argc = 4;
    napi_value argv[4], self;
    void *h = NULL;
    if (!handle_this(env, info, &argc, argv, &h))
        return NULL;
    napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
    async_job *job = async_job_new(env, h, sizeof(blocks_op));
    if (!job)
        return NULL;
    job->release = job_release;
    job->run = job_run;
    job->result = job_result;
    if (!block_read_args(env, call, argc, argv, job->data)) {
        job_release(job);
        free(job->data);
        free(job);
        return NULL;
    }
    return async_job_start(env, job, self, argc, argv, call->resource);
}

static const napi_property_descriptor STATE_STORE_BLOCK_METHODS[] = {
    ADDON_METHOD_DATA("scan", run_sync, &SCAN),
    ADDON_METHOD_DATA("scanOpen", run_async, &SCAN),
    ADDON_METHOD_DATA("lastPrefix", run_sync, &LAST_PREFIX),
    ADDON_METHOD_DATA("lastPrefixAsync", run_async, &LAST_PREFIX),
    ADDON_METHOD_DATA("purgePrefix", run_sync, &PURGE_PREFIX),
    ADDON_METHOD_DATA("purgePrefixAsync", run_async, &PURGE_PREFIX),
    ADDON_METHOD_DATA("batch", run_sync, &BATCH),
    ADDON_METHOD_DATA("batchAsync", run_async, &BATCH),
    ADDON_METHOD_DATA("flush", run_sync, &FLUSH),
    ADDON_METHOD_DATA("flushAsync", run_async, &FLUSH),
};

bool addon_init_state_blocks(napi_env env, napi_value exports)
{
    return ADDON_EXTEND_CLASS(env, exports, "StateStore", STATE_STORE_BLOCK_METHODS);
}
