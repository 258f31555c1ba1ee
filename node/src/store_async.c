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

/* ---- journal: the ABI calls, made on the pool */

static void run_append(async_job *job)
{
    store_op *op = job->data;
    append_args *a = &op->append;
    async_job_status(job, dd_journal_append(job->h, a->pid, a->pid_len, a->expected, a->evs, a->n));
}

static void run_highest_seq(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_highest_seq(&op->out, job->h, op->key, op->key_len));
}

static void run_delete_to(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_delete_to(job->h, op->key, op->key_len, op->u1));
}

static void run_save_snapshot(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_snapshot_save(job->h, op->key, op->key_len, op->u1, op->u2, op->state,
                                           op->state_len));
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
static void run_replay_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(
        job, dd_journal_replay(&op->cursor, job->h, op->key, op->key_len, op->u1, op->u2, op->u3));
}

static void run_by_tag_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_by_tag(&op->cursor, job->h, op->tag, op->u1, op->u2));
}

static void run_pids_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_journal_pids(&op->cursor, job->h, op->key, op->key_len, op->u1));
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

/* ---- state store: the ABI calls, made on the pool */

static void run_upsert(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_state_store_upsert(&op->out, job->h, op->key, op->key_len, op->u1,
                                                op->state, op->state_len));
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

static void run_delete(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_state_store_delete(job->h, op->key, op->key_len, op->u1));
}

static void run_keys_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job, dd_state_store_keys(&op->cursor, job->h, op->key, op->key_len));
}

static void run_range_open(async_job *job)
{
    store_op *op = job->data;
    async_job_status(job,
                     dd_state_store_range(&op->cursor, job->h, op->key, op->key_len, op->count));
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

static void run_purge(async_job *job)
{
    async_job_status(job, dd_state_store_purge(job->h));
}

/* ---- the methods: what each reads, in the order it reads it (the order
 * decides which bad argument is reported), and what runs on the pool */

/* Where one argument goes in the store_op. */
typedef enum op_arg_kind {
    ARG_END,    /* ends the list */
    ARG_KEY,    /* bytes, copied: pid, key, `after`, `prefix` or `from` */
    ARG_STATE,  /* bytes, copied: state, or persist's payload */
    ARG_STATE2, /* bytes, copied: persist's state */
    ARG_TAG,    /* a string, copied */
    ARG_U1,     /* u64 arguments: u1, u2, u3 in the order the ABI call takes them */
    ARG_U2,
    ARG_U3,
    ARG_REVISION, /* an expected revision (-1: any), into u1 */
    ARG_STRATEGY, /* u32 */
    ARG_COMPACT,  /* a boolean, never refused */
    ARG_CRITERIA, /* loadSnapshot's optional bound */
    ARG_COUNT,    /* range's signed count */
    ARG_APPEND,   /* all of append's arguments (append_args_read) */
} op_arg_kind;

typedef struct op_arg {
    op_arg_kind kind;
    uint32_t index; /* which argument */
    const char *what;
} op_arg;

typedef struct store_async_method {
    size_t min_args;
    const char *usage; /* thrown with fewer than min_args arguments */
    op_arg args[8];    /* read in this order, up to ARG_END */
    void (*run)(async_job *job);
    napi_value (*result)(napi_env env, async_job *job);
    const char *resource; /* the async resource name */
} store_async_method;

static bool read_arg(napi_env env, const op_arg *a, op_call *c)
{
    store_op *op = c->op;
    napi_value v = c->argv[a->index];
    switch (a->kind) {
    case ARG_KEY: return addon_dup_bytes(env, v, &op->key, &op->key_len, a->what);
    case ARG_STATE: return addon_dup_bytes(env, v, &op->state, &op->state_len, a->what);
    case ARG_STATE2: return addon_dup_bytes(env, v, &op->state2, &op->state2_len, a->what);
    case ARG_TAG: return (op->tag = addon_dup_string(env, v, a->what)) != NULL;
    case ARG_U1: return addon_arg_u64(env, v, &op->u1, a->what);
    case ARG_U2: return addon_arg_u64(env, v, &op->u2, a->what);
    case ARG_U3: return addon_arg_u64(env, v, &op->u3, a->what);
    case ARG_REVISION: return revision_arg(env, v, &op->u1);
    case ARG_STRATEGY: return addon_arg_u32(env, v, &op->strategy, a->what);
    case ARG_COMPACT: napi_get_value_bool(env, v, &op->compact); return true;
    case ARG_CRITERIA:
        return snapshot_criteria_arg(env, c->argc > a->index ? v : NULL, &op->criteria);
    case ARG_COUNT: return count_arg(env, v, &op->count);
    case ARG_APPEND: return append_args_read(env, c->argc, c->argv, &op->append);
    case ARG_END: break;
    }
    return true;
}

/* The callback of every method below but recoverAsync: the table row's
 * store_async_method says what to read and what to run. */
static napi_value store_async_call(napi_env env, napi_callback_info info)
{
    const store_async_method *m = addon_method_data(env, info);
    op_call c;
    if (!op_begin(env, info, &c, m->min_args, m->usage))
        return NULL;
    for (const op_arg *a = m->args; a->kind != ARG_END; a++)
        if (!read_arg(env, a, &c))
            return op_abort(env, &c);
    c.job->run = m->run;
    c.job->result = m->result;
    return async_job_start(env, c.job, c.self, c.argc, c.argv, m->resource);
}

/* appendAsync(pid, expectedSeq, events) -> Promise<undefined> */
static const store_async_method APPEND = {
    .args = {{ARG_APPEND, 0, NULL}},
    .run = run_append,
    .result = result_undefined,
    .resource = "ddata.journal.append",
};

static const store_async_method HIGHEST_SEQ = {
    .min_args = 1,
    .usage = "highestSeq(pid) needs a pid",
    .args = {{ARG_KEY, 0, "pid"}},
    .run = run_highest_seq,
    .result = result_u64,
    .resource = "ddata.journal.highestSeq",
};

static const store_async_method DELETE_TO = {
    .min_args = 2,
    .usage = "deleteTo(pid, toSeq) needs two arguments",
    .args = {{ARG_KEY, 0, "pid"}, {ARG_U1, 1, "toSeq"}},
    .run = run_delete_to,
    .result = result_undefined,
    .resource = "ddata.journal.deleteTo",
};

/* saveSnapshotAsync(pid, seq, timestampMs, state) */
static const store_async_method SAVE_SNAPSHOT = {
    .min_args = 4,
    .usage = "saveSnapshot(pid, seq, timestampMs, state) needs four arguments",
    .args = {{ARG_KEY, 0, "pid"},
             {ARG_U1, 1, "seq"},
             {ARG_U2, 2, "timestampMs"},
             {ARG_STATE, 3, "state"}},
    .run = run_save_snapshot,
    .result = result_undefined,
    .resource = "ddata.journal.saveSnapshot",
};

/* loadSnapshotAsync(pid, maxSeq | criteria?) -> Promise<{seq, timestampMs, state} | undefined> */
static const store_async_method LOAD_SNAPSHOT = {
    .min_args = 1,
    .usage = "pid is required",
    .args = {{ARG_KEY, 0, "pid"}, {ARG_CRITERIA, 1, NULL}},
    .run = run_load_snapshot,
    .result = result_snapshot,
    .resource = "ddata.journal.loadSnapshot",
};

/* persistAsync(pid, expectedSeq, payload, state, strategy, snapshotEvery, compact) -> Promise<seq>
 */
static const store_async_method PERSIST = {
    .min_args = 7,
    .usage = "persist(pid, expectedSeq, payload, state, strategy, every, compact)",
    .args = {{ARG_COMPACT, 6, NULL},
             {ARG_KEY, 0, "pid"},
             {ARG_U1, 1, "expectedSeq"},
             {ARG_STATE, 2, "payload"},
             {ARG_STATE2, 3, "state"},
             {ARG_STRATEGY, 4, "strategy"},
             {ARG_U2, 5, "snapshotEvery"}},
    .run = run_persist,
    .result = result_u64,
    .resource = "ddata.journal.persist",
};

/* replayOpen(pid, fromSeq, toSeq, max) -> Promise<cursor> */
static const store_async_method REPLAY_OPEN = {
    .min_args = 4,
    .usage = "replay(pid, fromSeq, toSeq, max) needs four arguments",
    .args = {{ARG_KEY, 0, "pid"}, {ARG_U1, 1, "fromSeq"}, {ARG_U2, 2, "toSeq"}, {ARG_U3, 3, "max"}},
    .run = run_replay_open,
    .result = result_cursor,
    .resource = "ddata.journal.replay",
};

/* byTagOpen(tag, afterOrdering, max) -> Promise<cursor> */
static const store_async_method BY_TAG_OPEN = {
    .min_args = 3,
    .usage = "byTag(tag, afterOrdering, max) needs three arguments",
    .args = {{ARG_TAG, 0, "tag"}, {ARG_U1, 1, "afterOrdering"}, {ARG_U2, 2, "max"}},
    .run = run_by_tag_open,
    .result = result_cursor,
    .resource = "ddata.journal.byTag",
};

/* pidsOpen(after, max) -> Promise<cursor> */
static const store_async_method PIDS_OPEN = {
    .min_args = 2,
    .usage = "pids(after, max) needs two arguments",
    .args = {{ARG_KEY, 0, "after"}, {ARG_U1, 1, "max"}},
    .run = run_pids_open,
    .result = result_cursor,
    .resource = "ddata.journal.pids",
};

/* upsertAsync(key, expectedRevision, state) -> Promise<revision> */
static const store_async_method UPSERT = {
    .min_args = 3,
    .usage = "upsert(key, expectedRevision, state) needs three arguments",
    .args = {{ARG_REVISION, 1, NULL}, {ARG_KEY, 0, "key"}, {ARG_STATE, 2, "state"}},
    .run = run_upsert,
    .result = result_u64,
    .resource = "ddata.stateStore.upsert",
};

static const store_async_method GET = {
    .min_args = 1,
    .usage = "key is required",
    .args = {{ARG_KEY, 0, "key"}},
    .run = run_get,
    .result = result_get,
    .resource = "ddata.stateStore.get",
};

static const store_async_method DELETE = {
    .min_args = 2,
    .usage = "delete(key, expectedRevision) needs two arguments",
    .args = {{ARG_REVISION, 1, NULL}, {ARG_KEY, 0, "key"}},
    .run = run_delete,
    .result = result_undefined,
    .resource = "ddata.stateStore.delete",
};

static const store_async_method KEYS_OPEN = {
    .min_args = 1,
    .usage = "keys(prefix) needs one argument",
    .args = {{ARG_KEY, 0, "prefix"}},
    .run = run_keys_open,
    .result = result_cursor,
    .resource = "ddata.stateStore.keys",
};

static const store_async_method RANGE_OPEN = {
    .min_args = 2,
    .usage = "range(from, count) needs two arguments",
    .args = {{ARG_COUNT, 1, NULL}, {ARG_KEY, 0, "from"}},
    .run = run_range_open,
    .result = result_cursor,
    .resource = "ddata.stateStore.range",
};

static const store_async_method LAST = {
    .run = run_last,
    .result = result_last,
    .resource = "ddata.stateStore.last",
};

static const store_async_method PURGE = {
    .run = run_purge,
    .result = result_undefined,
    .resource = "ddata.stateStore.purge",
};

/* A method served by store_async_call, as `method` says. */
#define ASYNC(name, method) ADDON_METHOD_DATA(name, store_async_call, method)

static const napi_property_descriptor JOURNAL_ASYNC_METHODS[] = {
    ASYNC("appendAsync", &APPEND),
    ASYNC("highestSeqAsync", &HIGHEST_SEQ),
    ASYNC("deleteToAsync", &DELETE_TO),
    ASYNC("saveSnapshotAsync", &SAVE_SNAPSHOT),
    ASYNC("loadSnapshotAsync", &LOAD_SNAPSHOT),
    ASYNC("persistAsync", &PERSIST),
    ADDON_METHOD("recoverAsync", journal_recover_async),
    ASYNC("replayOpen", &REPLAY_OPEN),
    ASYNC("byTagOpen", &BY_TAG_OPEN),
    ASYNC("pidsOpen", &PIDS_OPEN),
};

static const napi_property_descriptor STATE_STORE_ASYNC_METHODS[] = {
    ASYNC("upsertAsync", &UPSERT), ASYNC("getAsync", &GET),         ASYNC("deleteAsync", &DELETE),
    ASYNC("keysOpen", &KEYS_OPEN), ASYNC("rangeOpen", &RANGE_OPEN), ASYNC("lastAsync", &LAST),
    ASYNC("purgeAsync", &PURGE),
};

bool addon_init_store_async(napi_env env, napi_value exports)
{
    static const addon_fn fns[] = {{"cursorNext", cursor_next}};
    return ADDON_EXTEND_CLASS(env, exports, "Journal", JOURNAL_ASYNC_METHODS) &&
           ADDON_EXTEND_CLASS(env, exports, "StateStore", STATE_STORE_ASYNC_METHODS) &&
           addon_export(env, exports, fns, ADDON_COUNT(fns));
}
