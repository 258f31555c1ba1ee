/*
 * The Promise forms of Journal and StateStore (lib/store.js exposes them as
 * the plain names; the synchronous ones in store.c carry `Sync`). Each
 * method reads its arguments on the main thread into a store_op, the ABI
 * call runs on the libuv pool (async_job.h), and the result is built back
 * on the main thread.
 *
 * Reads that hand many records to JS open a cursor on the pool and return
 * it; cursorNext reads the next batch on the pool, copying each record, so
 * the event loop turns between batches (lib/store.js wraps this as an
 * async iterator). recover runs dd_journal_recover on the pool and hands
 * its records to the main thread in batches through a thread-safe
 * function, waiting while the JS callbacks run: the callbacks run on the
 * main thread, between batches, in order, and a throw stops recovery.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "async_job.h"
#include "store.h"

#define BATCH_ROWS 256
#define BATCH_BYTES (1u << 20)

typedef struct store_op {
    uint8_t *key; /* pid, key, `after`, `prefix` or `from` */
    size_t key_len;
    uint8_t *state; /* state, or persist's payload */
    size_t state_len;
    uint8_t *state2; /* persist's state */
    size_t state2_len;
    char *tag;
    uint64_t u1, u2, u3;
    dd_snapshot_criteria criteria; /* loadSnapshot */
    int64_t count;
    uint32_t strategy;
    bool compact;
    uint64_t out;
    dd_buf buf, buf2;
    dd_journal_cursor *cursor;
    append_args append;
    /* cursorNext */
    dd_journal_event **rows;
    size_t nrows;
    row_shape shape;
} store_op;

static void free_rows(store_op *op)
{
    for (size_t i = 0; i < op->nrows; i++)
        free(op->rows[i]);
    free(op->rows);
    op->rows = NULL;
    op->nrows = 0;
}

static void op_release(async_job *job)
{
    store_op *op = job->data;
    if (!op)
        return;
    free(op->key);
    free(op->state);
    free(op->state2);
    free(op->tag);
    dd_buf_free(&op->buf);
    dd_buf_free(&op->buf2);
    if (op->cursor) /* opened but never handed to JS */
        dd_journal_cursor_close(op->cursor);
    append_args_free(&op->append);
    free_rows(op);
}

/* The start of every method: `this`, its handle, at least `min_args`
 * arguments, and a fresh job with a store_op. */
typedef struct op_call {
    napi_value self;
    size_t argc;
    napi_value argv[8];
    async_job *job;
    store_op *op;
} op_call;

static bool op_begin(napi_env env, napi_callback_info info, op_call *c, size_t min_args,
                     const char *usage)
{
    void *h = NULL;
    c->argc = 8;
    c->job = NULL;
    if (!handle_this(env, info, &c->argc, c->argv, &h))
        return false;
    napi_get_cb_info(env, info, NULL, NULL, &c->self, NULL);
    if (c->argc < min_args) {
        addon_type_error(env, usage);
        return false;
    }
    if (!(c->job = async_job_new(env, h, sizeof(store_op))))
        return false;
    c->op = c->job->data;
    c->job->release = op_release;
    return true;
}

/* Frees the job after a bad argument (the exception is already thrown). */
static napi_value op_abort(napi_env env, op_call *c)
{
    (void)env;
    if (c->job) {
        op_release(c->job);
        free(c->job->data);
        free(c->job);
    }
    return NULL;
}

static napi_value op_start(napi_env env, op_call *c, void (*run)(async_job *),
                           napi_value (*result)(napi_env, async_job *), const char *name)
{
    c->job->run = run;
    c->job->result = result;
    return async_job_start(env, c->job, c->self, c->argc, c->argv, name);
}

/* ---- results built on the main thread */

static napi_value result_undefined(napi_env env, async_job *job)
{
    (void)job;
    return addon_undefined(env);
}

static napi_value result_u64(napi_env env, async_job *job)
{
    return addon_u64(env, ((store_op *)job->data)->out);
}

static int close_cursor(void *h)
{
    return dd_journal_cursor_close(h);
}

/* The opened cursor as a JS object with close(); cursorNext reads it. */
static napi_value result_cursor(napi_env env, async_job *job)
{
    store_op *op = job->data;
    dd_journal_cursor *cur = op->cursor;
    op->cursor = NULL; /* handle_wrap owns it now, even on failure */
    return store_cursor_object(env, cur);
}

napi_value store_cursor_object(napi_env env, dd_journal_cursor *cur)
{
    napi_value o, close_fn;
    if (napi_create_object(env, &o) != napi_ok) {
        dd_journal_cursor_close(cur);
        return NULL;
    }
    if (!handle_wrap(env, o, cur, close_cursor))
        return NULL;
    if (napi_create_function(env, "close", NAPI_AUTO_LENGTH, handle_close_method, NULL,
                             &close_fn) != napi_ok ||
        napi_set_named_property(env, o, "close", close_fn) != napi_ok)
        return NULL;
    return o;
}

/* ---- journal */

static void run_append(async_job *job)
{
    store_op *op = job->data;
    append_args *a = &op->append;
    async_job_status(job, dd_journal_append(job->h, a->pid, a->pid_len, a->expected, a->evs, a->n));
}

/* appendAsync(pid, expectedSeq, events) -> Promise<undefined> */
static napi_value journal_append_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 0, ""))
        return NULL;
    if (!append_args_read(env, c.argc, c.argv, &c.op->append))
        return op_abort(env, &c);
    return op_start(env, &c, run_append, result_undefined, "ddata.journal.append");
}

static void run_highest_seq(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_highest_seq(&op->out, job->h, op->key, op->key_len));
}

static napi_value journal_highest_seq_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 1, "highestSeq(pid) needs a pid"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "pid"))
        return op_abort(env, &c);
    return op_start(env, &c, run_highest_seq, result_u64, "ddata.journal.highestSeq");
}

static void run_delete_to(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_delete_to(job->h, op->key, op->key_len, op->u1));
}

static napi_value journal_delete_to_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 2, "deleteTo(pid, toSeq) needs two arguments"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "pid") ||
        !addon_arg_u64(env, c.argv[1], &c.op->u1, "toSeq"))
        return op_abort(env, &c);
    return op_start(env, &c, run_delete_to, result_undefined, "ddata.journal.deleteTo");
}

static void run_save_snapshot(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_snapshot_save(job->h, op->key, op->key_len, op->u1, op->u2, op->state,
                                           op->state_len));
}

/* saveSnapshotAsync(pid, seq, timestampMs, state) */
static napi_value journal_save_snapshot_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 4,
                  "saveSnapshot(pid, seq, timestampMs, state) needs four arguments"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "pid") ||
        !addon_arg_u64(env, c.argv[1], &c.op->u1, "seq") ||
        !addon_arg_u64(env, c.argv[2], &c.op->u2, "timestampMs") ||
        !addon_dup_bytes(env, c.argv[3], &c.op->state, &c.op->state_len, "state"))
        return op_abort(env, &c);
    return op_start(env, &c, run_save_snapshot, result_undefined, "ddata.journal.saveSnapshot");
}

static void run_load_snapshot(async_job *job)
{
    store_op *op = job->data;
    int rc =
        dd_snapshot_load(&op->buf, &op->out, &op->u2, job->h, op->key, op->key_len, &op->criteria);
    op->count = rc == DD_ENOTFOUND; /* found nothing: resolves undefined */
    async_job_status(job, rc == DD_ENOTFOUND ? DD_OK : rc);
}

static napi_value result_snapshot(napi_env env, async_job *job)
{
    store_op *op = job->data;
    if (op->count)
        return addon_undefined(env);
    napi_value o;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "seq", addon_u64(env, op->out));
    napi_set_named_property(env, o, "timestampMs", addon_u64(env, op->u2));
    napi_set_named_property(env, o, "state", addon_buf_to_js(env, &op->buf));
    return o;
}

/* loadSnapshotAsync(pid, maxSeq | criteria?) -> Promise<{seq, timestampMs, state} | undefined> */
static napi_value journal_load_snapshot_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 1, "pid is required"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "pid") ||
        !snapshot_criteria_arg(env, c.argc > 1 ? c.argv[1] : NULL, &c.op->criteria))
        return op_abort(env, &c);
    return op_start(env, &c, run_load_snapshot, result_snapshot, "ddata.journal.loadSnapshot");
}

static void run_persist(async_job *job)
{
    store_op *op = job->data;
    dd_append_event ev = {op->state, op->state_len, 0, NULL, 0};
    dd_persist_options po;
    dd_persist_options_init(&po, DD_PERSIST_OPTIONS_VERSION);
    po.strategy = op->strategy;
    po.snapshot_every = op->u2;
    po.compact = op->compact;
    async_job_status(job, dd_journal_persist(&op->out, job->h, op->key, op->key_len, op->u1, &ev,
                                             op->state2, op->state2_len, &po));
}

/* persistAsync(pid, expectedSeq, payload, state, strategy, snapshotEvery, compact) -> Promise<seq>
 */
static napi_value journal_persist_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 7,
                  "persist(pid, expectedSeq, payload, state, strategy, every, compact)"))
        return NULL;
    napi_get_value_bool(env, c.argv[6], &c.op->compact);
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "pid") ||
        !addon_arg_u64(env, c.argv[1], &c.op->u1, "expectedSeq") ||
        !addon_dup_bytes(env, c.argv[2], &c.op->state, &c.op->state_len, "payload") ||
        !addon_dup_bytes(env, c.argv[3], &c.op->state2, &c.op->state2_len, "state") ||
        !addon_arg_u32(env, c.argv[4], &c.op->strategy, "strategy") ||
        !addon_arg_u64(env, c.argv[5], &c.op->u2, "snapshotEvery"))
        return op_abort(env, &c);
    return op_start(env, &c, run_persist, result_u64, "ddata.journal.persist");
}

static void run_replay_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(
        job, dd_journal_replay(&op->cursor, job->h, op->key, op->key_len, op->u1, op->u2, op->u3));
}

/* replayOpen(pid, fromSeq, toSeq, max) -> Promise<cursor> */
static napi_value journal_replay_open(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 4, "replay(pid, fromSeq, toSeq, max) needs four arguments"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "pid") ||
        !addon_arg_u64(env, c.argv[1], &c.op->u1, "fromSeq") ||
        !addon_arg_u64(env, c.argv[2], &c.op->u2, "toSeq") ||
        !addon_arg_u64(env, c.argv[3], &c.op->u3, "max"))
        return op_abort(env, &c);
    return op_start(env, &c, run_replay_open, result_cursor, "ddata.journal.replay");
}

static void run_by_tag_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_by_tag(&op->cursor, job->h, op->tag, op->u1, op->u2));
}

/* byTagOpen(tag, afterOrdering, max) -> Promise<cursor> */
static napi_value journal_by_tag_open(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 3, "byTag(tag, afterOrdering, max) needs three arguments"))
        return NULL;
    if (!(c.op->tag = addon_dup_string(env, c.argv[0], "tag")) ||
        !addon_arg_u64(env, c.argv[1], &c.op->u1, "afterOrdering") ||
        !addon_arg_u64(env, c.argv[2], &c.op->u2, "max"))
        return op_abort(env, &c);
    return op_start(env, &c, run_by_tag_open, result_cursor, "ddata.journal.byTag");
}

static void run_pids_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_pids(&op->cursor, job->h, op->key, op->key_len, op->u1));
}

/* pidsOpen(after, max) -> Promise<cursor> */
static napi_value journal_pids_open(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 2, "pids(after, max) needs two arguments"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "after") ||
        !addon_arg_u64(env, c.argv[1], &c.op->u1, "max"))
        return op_abort(env, &c);
    return op_start(env, &c, run_pids_open, result_cursor, "ddata.journal.pids");
}

/* ---- cursors: the next batch, read and copied on the pool */

static dd_journal_event *copy_row(const dd_journal_event *ev)
{
    dd_journal_event *r = malloc(sizeof *r + ev->pid_len + ev->len);
    if (!r)
        return NULL;
    uint8_t *p = (uint8_t *)(r + 1);
    *r = *ev;
    if (ev->pid_len)
        memcpy(p, ev->pid, ev->pid_len);
    if (ev->len)
        memcpy(p + ev->pid_len, ev->payload, ev->len);
    r->pid = p;
    r->payload = p + ev->pid_len;
    r->tags = NULL; /* not shown in JS rows */
    r->tag_count = 0;
    return r;
}

static int push_row(store_op *op, size_t *cap, const dd_journal_event *ev)
{
    if (op->nrows == *cap) {
        size_t n = *cap ? *cap * 2 : 64;
        dd_journal_event **rows = realloc(op->rows, n * sizeof *rows);
        if (!rows)
            return DD_ENOMEM;
        op->rows = rows;
        *cap = n;
    }
    if (!(op->rows[op->nrows] = copy_row(ev)))
        return DD_ENOMEM;
    op->nrows++;
    return DD_OK;
}

static void run_cursor_next(async_job *job)
{
    store_op *op = job->data;
    dd_journal_event ev;
    size_t cap = 0, bytes = 0;
    int rc = DD_OK;
    while (op->nrows < op->u1 && bytes < BATCH_BYTES) {
        rc = dd_journal_cursor_next(&ev, job->h);
        if (rc)
            break;
        if ((rc = push_row(op, &cap, &ev)))
            break;
        bytes += ev.pid_len + ev.len;
    }
    async_job_status(job, rc == DD_EDONE ? DD_OK : rc);
}

static napi_value result_rows(napi_env env, async_job *job)
{
    store_op *op = job->data;
    napi_value arr;
    napi_create_array_with_length(env, op->nrows, &arr);
    for (size_t i = 0; i < op->nrows; i++)
        napi_set_element(env, arr, (uint32_t)i, row_to_js(env, op->rows[i], op->shape));
    return arr;
}

/* cursorNext(cursor, shape, maxRows) -> Promise<rows> ([] at the end) */
static napi_value cursor_next(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    void *h = NULL;
    uint32_t shape = 0;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 3)
        return addon_type_error(env, "cursorNext(cursor, shape, maxRows) needs three arguments");
    if (!handle_arg(env, argv[0], &h, "cursor") || !addon_arg_u32(env, argv[1], &shape, "shape"))
        return NULL;
    if (shape > ROW_KEY_STATE)
        return addon_type_error(env, "shape must be a row shape");
    async_job *job = async_job_new(env, h, sizeof(store_op));
    if (!job)
        return NULL;
    store_op *op = job->data;
    job->release = op_release;
    op->shape = (row_shape)shape;
    if (!addon_arg_u64(env, argv[2], &op->u1, "maxRows") || op->u1 == 0) {
        if (op->u1 == 0)
            addon_type_error(env, "maxRows must be at least 1");
        free(job->data);
        free(job);
        return NULL;
    }
    job->run = run_cursor_next;
    job->result = result_rows;
    return async_job_start(env, job, argv[0], 0, NULL, "ddata.cursor.next");
}

/* ---- recover: dd_journal_recover on the pool, callbacks on the main thread */

typedef struct recover_job {
    async_job *job;
    uint8_t *pid;
    size_t pid_len;
    napi_threadsafe_function tsfn;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool handed;  /* the main thread is done with the batch */
    bool stopped; /* a JS callback threw (job->error holds it) */
    bool have_snapshot;
    uint64_t snap_seq;
    uint8_t *snap;
    size_t snap_len;
    store_op batch; /* rows only */
    size_t cap, bytes;
    uint64_t last;
} recover_job;

/* Waits (on the pool thread) until the main thread has run the callbacks
 * for what is buffered. Returns nonzero when recovery must stop. */
static int recover_hand_over(recover_job *r)
{
    if (r->stopped)
        return 1;
    if (!r->have_snapshot && r->batch.nrows == 0)
        return 0;
    pthread_mutex_lock(&r->mu);
    r->handed = false;
    if (napi_call_threadsafe_function(r->tsfn, r, napi_tsfn_blocking) != napi_ok) {
        r->stopped = true; /* the environment is going away */
        pthread_mutex_unlock(&r->mu);
        return 1;
    }
    while (!r->handed)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return r->stopped;
}

static int recover_on_snapshot(void *ctx, uint64_t seq, const uint8_t *state, size_t len)
{
    recover_job *r = ctx;
    r->snap = malloc(len ? len : 1);
    if (!r->snap)
        return DD_ENOMEM;
    if (len)
        memcpy(r->snap, state, len);
    r->snap_len = len;
    r->snap_seq = seq;
    r->have_snapshot = true;
    return 0;
}

static int recover_on_event(void *ctx, const dd_journal_event *ev)
{
    recover_job *r = ctx;
    int rc = push_row(&r->batch, &r->cap, ev);
    if (rc)
        return rc;
    r->bytes += ev->pid_len + ev->len;
    if (r->batch.nrows >= BATCH_ROWS || r->bytes >= BATCH_BYTES)
        return recover_hand_over(r);
    return 0;
}

static void run_recover(async_job *job)
{
    recover_job *r = job->data;
    int rc = dd_journal_recover(&r->last, job->h, r->pid, r->pid_len, recover_on_snapshot,
                                recover_on_event, r);
    if (rc == DD_OK)
        recover_hand_over(r); /* the last, partial batch */
    async_job_status(job, rc);
}

/* Calls fn(args...) on the main thread; a throw is kept to reject with. */
static void recover_call(napi_env env, recover_job *r, napi_value fn, size_t argc, napi_value *argv)
{
    napi_valuetype t = napi_undefined;
    napi_value global, result, err;
    if (r->stopped || napi_typeof(env, fn, &t) != napi_ok || t != napi_function)
        return;
    napi_get_global(env, &global);
    if (napi_call_function(env, global, fn, argc, argv, &result) != napi_ok) {
        r->stopped = true;
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok && err)
            napi_create_reference(env, err, 1, &r->job->error);
    }
}

static void recover_batch_js(napi_env env, napi_value js_cb, void *context, void *data)
{
    (void)js_cb;
    (void)context;
    recover_job *r = data;
    napi_value keep, on_snapshot, on_event;
    if (env && napi_get_reference_value(env, r->job->keep, &keep) == napi_ok) {
        napi_get_element(env, keep, 2, &on_snapshot);
        napi_get_element(env, keep, 3, &on_event);
        if (r->have_snapshot) {
            napi_value argv[2] = {addon_u64(env, r->snap_seq),
                                  addon_bytes(env, r->snap, r->snap_len)};
            recover_call(env, r, on_snapshot, 2, argv);
        }
        for (size_t i = 0; i < r->batch.nrows && !r->stopped; i++) {
            napi_value o = row_to_js(env, r->batch.rows[i], ROW_EVENT);
            recover_call(env, r, on_event, 1, &o);
        }
    } else {
        r->stopped = true;
    }
    free(r->snap);
    r->snap = NULL;
    r->have_snapshot = false;
    free_rows(&r->batch);
    r->cap = r->bytes = 0;
    pthread_mutex_lock(&r->mu);
    r->handed = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void recover_release(async_job *job)
{
    recover_job *r = job->data;
    if (!r)
        return;
    if (r->tsfn)
        napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->pid);
    free(r->snap);
    free_rows(&r->batch);
}

static napi_value result_recover(napi_env env, async_job *job)
{
    return addon_u64(env, ((recover_job *)job->data)->last);
}

/* recoverAsync(pid, onSnapshot, onEvent) -> Promise<last seq> */
static napi_value journal_recover_async(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3], self, name;
    void *h = NULL;
    if (!handle_this(env, info, &argc, argv, &h))
        return NULL;
    napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
    if (argc < 3)
        return addon_type_error(env, "recover(pid, onSnapshot, onEvent) needs three arguments");
    async_job *job = async_job_new(env, h, sizeof(recover_job));
    if (!job)
        return NULL;
    recover_job *r = job->data;
    r->job = job;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    job->release = recover_release;
    if (!addon_dup_bytes(env, argv[0], &r->pid, &r->pid_len, "pid") ||
        napi_create_string_utf8(env, "ddata.journal.recover", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL,
                                        recover_batch_js, &r->tsfn) != napi_ok) {
        recover_release(job);
        free(job->data);
        free(job);
        return NULL;
    }
    job->run = run_recover;
    job->result = result_recover;
    return async_job_start(env, job, self, argc, argv, "ddata.journal.recover");
}

/* ---- state store */

static void run_upsert(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_state_store_upsert(&op->out, job->h, op->key, op->key_len, op->u1,
                                                op->state, op->state_len));
}

/* upsertAsync(key, expectedRevision, state) -> Promise<revision> */
static napi_value store_upsert_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 3, "upsert(key, expectedRevision, state) needs three arguments"))
        return NULL;
    if (!revision_arg(env, c.argv[1], &c.op->u1) ||
        !addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "key") ||
        !addon_dup_bytes(env, c.argv[2], &c.op->state, &c.op->state_len, "state"))
        return op_abort(env, &c);
    return op_start(env, &c, run_upsert, result_u64, "ddata.stateStore.upsert");
}

static void run_get(async_job *job)
{
    store_op *op = job->data;
    int rc = dd_state_store_get(&op->buf, &op->out, job->h, op->key, op->key_len);
    op->count = rc == DD_ENOTFOUND;
    async_job_status(job, rc == DD_ENOTFOUND ? DD_OK : rc);
}

static napi_value result_get(napi_env env, async_job *job)
{
    store_op *op = job->data;
    if (op->count)
        return addon_undefined(env);
    napi_value o;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "revision", addon_u64(env, op->out));
    napi_set_named_property(env, o, "state", addon_buf_to_js(env, &op->buf));
    return o;
}

static napi_value store_get_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 1, "key is required"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "key"))
        return op_abort(env, &c);
    return op_start(env, &c, run_get, result_get, "ddata.stateStore.get");
}

static void run_delete(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_state_store_delete(job->h, op->key, op->key_len, op->u1));
}

static napi_value store_delete_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 2, "delete(key, expectedRevision) needs two arguments"))
        return NULL;
    if (!revision_arg(env, c.argv[1], &c.op->u1) ||
        !addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "key"))
        return op_abort(env, &c);
    return op_start(env, &c, run_delete, result_undefined, "ddata.stateStore.delete");
}

static void run_keys_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_state_store_keys(&op->cursor, job->h, op->key, op->key_len));
}

static napi_value store_keys_open(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 1, "keys(prefix) needs one argument"))
        return NULL;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "prefix"))
        return op_abort(env, &c);
    return op_start(env, &c, run_keys_open, result_cursor, "ddata.stateStore.keys");
}

static void run_range_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job,
                     dd_state_store_range(&op->cursor, job->h, op->key, op->key_len, op->count));
}

static napi_value store_range_open(napi_env env, napi_callback_info info)
{
    op_call c;
    double d;
    if (!op_begin(env, info, &c, 2, "range(from, count) needs two arguments"))
        return NULL;
    if (!addon_arg_double(env, c.argv[1], &d, "count"))
        return op_abort(env, &c);
    if (d != d || d > 9007199254740991.0 || d < -9007199254740991.0 || d != (double)(int64_t)d) {
        addon_type_error(env, "count must be a safe integer");
        return op_abort(env, &c);
    }
    c.op->count = (int64_t)d;
    if (!addon_dup_bytes(env, c.argv[0], &c.op->key, &c.op->key_len, "from"))
        return op_abort(env, &c);
    return op_start(env, &c, run_range_open, result_cursor, "ddata.stateStore.range");
}

static void run_last(async_job *job)
{
    store_op *op = job->data;
    int rc = dd_state_store_last(&op->buf, &op->buf2, &op->out, job->h);
    op->count = rc == DD_ENOTFOUND;
    async_job_status(job, rc == DD_ENOTFOUND ? DD_OK : rc);
}

static napi_value result_last(napi_env env, async_job *job)
{
    store_op *op = job->data;
    if (op->count)
        return addon_undefined(env);
    napi_value o;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "key", addon_buf_to_js(env, &op->buf2));
    napi_set_named_property(env, o, "revision", addon_u64(env, op->out));
    napi_set_named_property(env, o, "state", addon_buf_to_js(env, &op->buf));
    return o;
}

static napi_value store_last_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 0, ""))
        return NULL;
    return op_start(env, &c, run_last, result_last, "ddata.stateStore.last");
}

static void run_purge(async_job *job)
{
    async_job_status(job, dd_state_store_purge(job->h));
}

static napi_value store_purge_async(napi_env env, napi_callback_info info)
{
    op_call c;
    if (!op_begin(env, info, &c, 0, ""))
        return NULL;
    return op_start(env, &c, run_purge, result_undefined, "ddata.stateStore.purge");
}

#define M ADDON_METHOD

/* Adds `props` to exports[cls].prototype (the class store.c defined). */
bool store_add_methods(napi_env env, napi_value exports, const char *cls,
                       const napi_property_descriptor *props, size_t n)
{
    napi_value ctor, proto;
    return napi_get_named_property(env, exports, cls, &ctor) == napi_ok &&
           napi_get_named_property(env, ctor, "prototype", &proto) == napi_ok &&
           napi_define_properties(env, proto, n, props) == napi_ok;
}

bool addon_init_store_async(napi_env env, napi_value exports)
{
    napi_property_descriptor j[] = {
        M("appendAsync", journal_append_async),
        M("highestSeqAsync", journal_highest_seq_async),
        M("deleteToAsync", journal_delete_to_async),
        M("saveSnapshotAsync", journal_save_snapshot_async),
        M("loadSnapshotAsync", journal_load_snapshot_async),
        M("persistAsync", journal_persist_async),
        M("recoverAsync", journal_recover_async),
        M("replayOpen", journal_replay_open),
        M("byTagOpen", journal_by_tag_open),
        M("pidsOpen", journal_pids_open),
    };
    napi_property_descriptor s[] = {
        M("upsertAsync", store_upsert_async), M("getAsync", store_get_async),
        M("deleteAsync", store_delete_async), M("keysOpen", store_keys_open),
        M("rangeOpen", store_range_open),     M("lastAsync", store_last_async),
        M("purgeAsync", store_purge_async),
    };
    static const addon_fn fns[] = {{"cursorNext", cursor_next}};
    return store_add_methods(env, exports, "Journal", j, ADDON_COUNT(j)) &&
           store_add_methods(env, exports, "StateStore", s, ADDON_COUNT(s)) &&
           addon_export(env, exports, fns, ADDON_COUNT(fns));
}
