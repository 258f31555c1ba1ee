/*
 * Journal and StateStore: native classes over dd_journal / dd_state_store.
 * These are the synchronous forms (lib/store.js names them ...Sync); the
 * Promise forms are in store_async.c. Reads come back as plain objects
 * with Buffers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "store.h"

static int close_journal(void *h)
{
    return dd_journal_close(h);
}

static int close_state_store(void *h)
{
    return dd_state_store_close(h);
}

/* {backend: 'memory'|'sqlite'|'fs'|'postgres', path} -> dd_store_options. `path`
 * points into *scratch (caller frees). */
static bool read_store_options(napi_env env, napi_value o, dd_store_options *so, char **scratch)
{
    napi_value v;
    dd_store_options_init(so, DD_STORE_OPTIONS_VERSION);
    *scratch = NULL;
    if (addon_prop(env, o, "backend", &v)) {
        char name[16];
        size_t n = 0;
        if (napi_get_value_string_utf8(env, v, name, sizeof name, &n) != napi_ok) {
            addon_type_error(env, "options.backend must be 'memory', 'sqlite', 'fs' or 'postgres'");
            return false;
        }
        if (strcmp(name, "memory") == 0)
            so->backend = DD_BACKEND_MEMORY;
        else if (strcmp(name, "sqlite") == 0)
            so->backend = DD_BACKEND_SQLITE;
        else if (strcmp(name, "fs") == 0)
            so->backend = DD_BACKEND_FS;
        else if (strcmp(name, "postgres") == 0)
            so->backend = DD_BACKEND_POSTGRES;
        else {
            addon_type_error(env, "options.backend must be 'memory', 'sqlite', 'fs' or 'postgres'");
            return false;
        }
    }
    if (addon_prop(env, o, "path", &v)) {
        if (!(*scratch = addon_dup_string(env, v, "options.path")))
            return false;
        so->path = *scratch;
    }
    if (addon_prop(env, o, "snapshotPath", &v)) {
        /* one scratch per open: the two strings share it, path first */
        char *snap = addon_dup_string(env, v, "options.snapshotPath");
        if (!snap)
            return false;
        size_t path_len = *scratch ? strlen(*scratch) + 1 : 0, snap_len = strlen(snap) + 1;
        char *both = malloc(path_len + snap_len);
        if (!both) {
            free(snap);
            addon_fail(env, DD_ENOMEM);
            return false;
        }
        if (path_len)
            memcpy(both, *scratch, path_len);
        memcpy(both + path_len, snap, snap_len);
        free(snap);
        free(*scratch);
        *scratch = both;
        so->path = path_len ? both : NULL;
        so->snapshot_path = both + path_len;
    }
    if (addon_prop(env, o, "snapshotKeep", &v) &&
        !addon_arg_u32(env, v, &so->snapshot_keep, "options.snapshotKeep"))
        return false;
    if (!addon_bool_option(env, o, "mustExist", &so->must_exist,
                           "options.mustExist must be a boolean") ||
        !addon_bool_option(env, o, "readOnly", &so->read_only,
                           "options.readOnly must be a boolean"))
        return false;
    if (addon_prop(env, o, "busyTimeoutMs", &v) &&
        !addon_arg_u32(env, v, &so->busy_timeout_ms, "options.busyTimeoutMs"))
        return false;
    if (addon_prop(env, o, "compressionThreshold", &v) &&
        !addon_arg_u32(env, v, &so->compression_threshold, "options.compressionThreshold"))
        return false;
    if (addon_prop(env, o, "compressionLevel", &v)) {
        uint32_t level = 0;
        if (!addon_arg_u32(env, v, &level, "options.compressionLevel"))
            return false;
        so->compression_level = (int32_t)level; /* the library checks the range */
    }
    if (addon_prop(env, o, "sync", &v)) {
        char name[16];
        size_t n = 0;
        if (napi_get_value_string_utf8(env, v, name, sizeof name, &n) != napi_ok ||
            (strcmp(name, "off") && strcmp(name, "normal") && strcmp(name, "full"))) {
            addon_type_error(env, "options.sync must be 'off', 'normal' or 'full'");
            return false;
        }
        so->sync = name[0] == 'o' ? DD_SYNC_OFF : name[0] == 'n' ? DD_SYNC_NORMAL : DD_SYNC_FULL;
    }
    if (addon_prop(env, o, "keyring", &v)) {
        void *ring;
        if (!handle_arg(env, v, &ring, "options.keyring"))
            return false;
        so->keyring = ring;
        so->seal = DD_SEAL_REQUIRED;
    }
    return true;
}

static int close_keyring(void *h)
{
    return dd_keyring_free(h);
}

static napi_value keyring_new(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    napi_value self;
    napi_get_cb_info(env, info, &argc, NULL, &self, NULL);
    dd_keyring *k = NULL;
    int rc = dd_keyring_new(&k);
    if (rc)
        return addon_fail(env, rc);
    return handle_wrap(env, self, k, close_keyring) ? self : NULL;
}

/* addKey(keyId, key32) */
CALL_WITH_NUMBER_BYTES(keyring_add_key, dd_keyring_add_key, uint32_t, addon_arg_u32,
                       "addKey(keyId, key) needs two arguments", "keyId", "key")

/* A seal algorithm named from JS, 'xchacha20poly1305' or 'aes256gcm', as
 * its DD_SEAL_* value; `v` NULL (no argument) or any other value throws.
 * False when it threw. */
static bool algorithm_arg(napi_env env, napi_value v, uint32_t *out)
{
    char name[24];
    size_t n = 0;
    if (!v || napi_get_value_string_utf8(env, v, name, sizeof name, &n) != napi_ok ||
        (strcmp(name, "xchacha20poly1305") && strcmp(name, "aes256gcm"))) {
        addon_type_error(env, "algorithm must be 'xchacha20poly1305' or 'aes256gcm'");
        return false;
    }
    *out = name[0] == 'a' ? DD_SEAL_AES256GCM : DD_SEAL_XCHACHA20POLY1305;
    return true;
}

/* setAlgorithm('xchacha20poly1305' | 'aes256gcm') */
static napi_value keyring_set_algorithm(napi_env env, napi_callback_info info)
{
    addon_call c;
    uint32_t alg;
    if (!call_begin(&c, env, info, 1, "setAlgorithm(name)") || !algorithm_arg(env, c.argv[0], &alg))
        return NULL;
    return call_end(&c, dd_keyring_set_algorithm(c.h, alg), addon_undefined(env));
}

CALL_WITH_NUMBER(keyring_set_active, dd_keyring_set_active, uint32_t, addon_arg_u32,
                 "setActive(keyId)", "keyId")

typedef int (*open_fn)(void **out, const dd_store_options *so);

static int open_journal(void **out, const dd_store_options *so)
{
    return dd_journal_open((dd_journal **)out, so);
}

static int open_state_store(void **out, const dd_store_options *so)
{
    return dd_state_store_open((dd_state_store **)out, so);
}

/* new Journal(options) / new StateStore(options) */
static napi_value store_class_new(napi_env env, napi_callback_info info, open_fn open,
                                  handle_close_fn close)
{
    size_t argc = 1;
    napi_value argv[1], self;
    napi_get_cb_info(env, info, &argc, argv, &self, NULL);
    dd_store_options so;
    char *scratch = NULL;
    napi_value out = NULL;
    if (read_store_options(env, argc ? argv[0] : NULL, &so, &scratch)) {
        void *h = NULL;
        int rc = open(&h, &so);
        if (rc)
            addon_fail(env, rc);
        else if (handle_wrap(env, self, h, close))
            out = self;
    }
    free(scratch);
    return out;
}

static napi_value journal_new(napi_env env, napi_callback_info info)
{
    return store_class_new(env, info, open_journal, close_journal);
}

static napi_value state_store_new(napi_env env, napi_callback_info info)
{
    return store_class_new(env, info, open_state_store, close_state_store);
}

napi_value row_to_js(napi_env env, const dd_journal_event *ev, row_shape shape)
{
    if (shape == ROW_PID)
        return addon_bytes(env, ev->pid, ev->pid_len);
    napi_value o;
    napi_create_object(env, &o);
    if (shape == ROW_KEY || shape == ROW_KEY_STATE) {
        napi_set_named_property(env, o, "key", addon_bytes(env, ev->pid, ev->pid_len));
        napi_set_named_property(env, o, "revision", addon_u64(env, ev->seq));
        if (shape == ROW_KEY_STATE)
            napi_set_named_property(env, o, "state", addon_bytes(env, ev->payload, ev->len));
        return o;
    }
    if (shape == ROW_TAGGED)
        napi_set_named_property(env, o, "pid", addon_str(env, ev->pid, ev->pid_len));
    napi_set_named_property(env, o, "seq", addon_u64(env, ev->seq));
    if (shape == ROW_TAGGED)
        napi_set_named_property(env, o, "ordering", addon_u64(env, ev->ordering));
    napi_set_named_property(env, o, "timestampMs", addon_u64(env, ev->timestamp_ms));
    napi_set_named_property(env, o, "payload", addon_bytes(env, ev->payload, ev->len));
    return o;
}

/* Drains and closes `c` into a JS array of `shape` rows. */
napi_value store_cursor_to_js(napi_env env, dd_journal_cursor *c, row_shape shape)
{
    napi_value arr;
    napi_create_array(env, &arr);
    dd_journal_event ev;
    uint32_t i = 0;
    int rc;
    while ((rc = dd_journal_cursor_next(&ev, c)) == DD_OK)
        napi_set_element(env, arr, i++, row_to_js(env, &ev, shape));
    dd_journal_cursor_close(c);
    return rc == DD_EDONE ? arr : addon_fail(env, rc);
}

/* The result of a call that opened cursor `cur`: its rows, or the throw. */
static napi_value cursor_result(addon_call *c, int rc, dd_journal_cursor *cur, row_shape shape)
{
    call_free(c);
    return rc ? addon_fail(c->env, rc) : store_cursor_to_js(c->env, cur, shape);
}

bool revision_arg(napi_env env, napi_value v, uint64_t *out)
{
    double d = 0;
    if (napi_get_value_double(env, v, &d) == napi_ok && d == -1) {
        *out = dd_any_revision();
        return true;
    }
    return addon_arg_u64(env, v, out, "expectedRevision");
}

bool count_arg(napi_env env, napi_value v, int64_t *out)
{
    double d;
    if (!addon_arg_double(env, v, &d, "count"))
        return false;
    if (d != d || d > 9007199254740991.0 || d < -9007199254740991.0 || d != (double)(int64_t)d) {
        addon_type_error(env, "count must be a safe integer");
        return false;
    }
    *out = (int64_t)d;
    return true;
}

#define MAX_BATCH 4096

bool append_args_read(napi_env env, size_t argc, napi_value *argv, append_args *a)
{
    memset(a, 0, sizeof *a);
    if (argc < 3) {
        addon_type_error(env, "append(pid, expectedSeq, events) needs three arguments");
        return false;
    }
    if (!addon_arg_bytes(env, argv[0], &a->pid, &a->pid_len, &a->pid_scratch, "pid") ||
        !addon_arg_u64(env, argv[1], &a->expected, "expectedSeq"))
        return false;
    uint32_t n = 0;
    if (napi_get_array_length(env, argv[2], &n) != napi_ok || n > MAX_BATCH) {
        addon_type_error(env, "events must be an array of at most 4096 events");
        return false;
    }
    a->evs = calloc(n ? n : 1, sizeof *a->evs);
    a->scratch = calloc(n ? n : 1, sizeof *a->scratch);
    a->tag_lists = calloc(n ? n : 1, sizeof *a->tag_lists);
    a->tag_counts = calloc(n ? n : 1, sizeof *a->tag_counts);
    if (!a->evs || !a->scratch || !a->tag_lists || !a->tag_counts) {
        addon_fail(env, DD_ENOMEM);
        return false;
    }
    a->n = n;
    for (uint32_t i = 0; i < n; i++) {
        napi_value e, v;
        dd_append_event *ev = &a->evs[i];
        napi_get_element(env, argv[2], i, &e);
        if (!addon_prop(env, e, "payload", &v)) {
            addon_type_error(env, "every event needs a payload");
            return false;
        }
        if (!addon_arg_bytes(env, v, &ev->payload, &ev->len, &a->scratch[i], "event.payload"))
            return false;
        if (addon_prop(env, e, "timestampMs", &v) &&
            !addon_arg_u64(env, v, &ev->timestamp_ms, "event.timestampMs"))
            return false;
        if (addon_prop(env, e, "tags", &v)) {
            uint32_t nt = 0;
            if (napi_get_array_length(env, v, &nt) != napi_ok || nt > 64) {
                addon_type_error(env, "event.tags must be an array of at most 64 strings");
                return false;
            }
            char **tags = calloc(nt ? nt : 1, sizeof *tags);
            if (!tags) {
                addon_fail(env, DD_ENOMEM);
                return false;
            }
            a->tag_lists[i] = tags;
            a->tag_counts[i] = nt;
            for (uint32_t t = 0; t < nt; t++) {
                napi_value item;
                size_t len = 0;
                napi_get_element(env, v, t, &item);
                if (napi_get_value_string_utf8(env, item, NULL, 0, &len) != napi_ok) {
                    addon_type_error(env, "event.tags must hold strings");
                    return false;
                }
                if (!(tags[t] = malloc(len + 1))) {
                    addon_fail(env, DD_ENOMEM);
                    return false;
                }
                napi_get_value_string_utf8(env, item, tags[t], len + 1, &len);
            }
            ev->tags = (const char *const *)tags;
            ev->tag_count = nt;
        }
    }
    return true;
}

void append_args_free(append_args *a)
{
    addon_free_strings(a->scratch, a->n);
    if (a->tag_lists)
        for (uint32_t i = 0; i < a->n; i++) {
            for (uint32_t t = 0; a->tag_lists[i] && t < a->tag_counts[i]; t++)
                free(a->tag_lists[i][t]);
            free(a->tag_lists[i]);
        }
    free(a->tag_lists);
    free(a->tag_counts);
    free(a->scratch);
    free(a->evs);
    free(a->pid_scratch);
    memset(a, 0, sizeof *a);
}

/* appendSync(pid, expectedSeq, [{payload, timestampMs, tags}]) */
static napi_value journal_append(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    void *h;
    append_args a;
    napi_value out = NULL;
    if (!handle_this(env, info, &argc, argv, &h))
        return NULL;
    if (append_args_read(env, argc, argv, &a)) {
        int rc = dd_journal_append(h, a.pid, a.pid_len, a.expected, a.evs, a.n);
        out = rc ? addon_fail_on(env, rc, h) : addon_undefined(env);
    }
    append_args_free(&a);
    return out;
}

static napi_value journal_highest_seq(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *pid;
    size_t n;
    uint64_t v = 0;
    if (!call_begin_bytes(&c, env, info, 1, "pid is required", &pid, &n, "pid"))
        return NULL;
    int rc = dd_journal_highest_seq(&v, c.h, pid, n);
    return call_end(&c, rc, addon_u64(env, v));
}

static napi_value journal_delete_to(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *pid;
    size_t n;
    uint64_t to;
    if (!call_begin_bytes(&c, env, info, 2, "deleteTo(pid, toSeq) needs two arguments", &pid, &n,
                          "pid"))
        return NULL;
    if (!addon_arg_u64(env, c.argv[1], &to, "toSeq"))
        return call_end(&c, DD_OK, NULL);
    return call_end(&c, dd_journal_delete_to(c.h, pid, n, to), addon_undefined(env));
}

/* replay(pid, fromSeq, toSeq, max) -> [{seq, timestampMs, payload}] */
static napi_value journal_replay(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *pid;
    size_t n;
    uint64_t from, to, max;
    if (!call_begin_bytes(&c, env, info, 4, "replay(pid, fromSeq, toSeq, max) needs four arguments",
                          &pid, &n, "pid"))
        return NULL;
    if (!addon_arg_u64(env, c.argv[1], &from, "fromSeq") ||
        !addon_arg_u64(env, c.argv[2], &to, "toSeq") || !addon_arg_u64(env, c.argv[3], &max, "max"))
        return call_end(&c, DD_OK, NULL);
    dd_journal_cursor *cur = NULL;
    int rc = dd_journal_replay(&cur, c.h, pid, n, from, to, max);
    return cursor_result(&c, rc, cur, ROW_EVENT);
}

/* byTag(tag, afterOrdering, max) -> [{pid, seq, ordering, timestampMs, payload}] */
static napi_value journal_by_tag(napi_env env, napi_callback_info info)
{
    addon_call c;
    char tag[260];
    size_t n = 0;
    uint64_t after, max;
    if (!call_begin(&c, env, info, 3, "byTag(tag, afterOrdering, max) needs three arguments"))
        return NULL;
    if (napi_get_value_string_utf8(env, c.argv[0], NULL, 0, &n) != napi_ok || n >= sizeof tag)
        return addon_type_error(env, "tag must be a string of at most 256 bytes");
    napi_get_value_string_utf8(env, c.argv[0], tag, sizeof tag, &n);
    if (!addon_arg_u64(env, c.argv[1], &after, "afterOrdering") ||
        !addon_arg_u64(env, c.argv[2], &max, "max"))
        return NULL;
    dd_journal_cursor *cur = NULL;
    int rc = dd_journal_by_tag(&cur, c.h, tag, after, max);
    return cursor_result(&c, rc, cur, ROW_TAGGED);
}

/* saveSnapshot(pid, seq, timestampMs, state) */
static napi_value journal_save_snapshot(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *pid, *state;
    size_t n, len;
    uint64_t seq, ts;
    if (!call_begin_bytes(&c, env, info, 4,
                          "saveSnapshot(pid, seq, timestampMs, state) needs four arguments", &pid,
                          &n, "pid"))
        return NULL;
    if (!addon_arg_u64(env, c.argv[1], &seq, "seq") ||
        !addon_arg_u64(env, c.argv[2], &ts, "timestampMs") ||
        !call_bytes(&c, 3, &state, &len, "state"))
        return call_end(&c, DD_OK, NULL);
    int rc = dd_snapshot_save(c.h, pid, n, seq, ts, state, len);
    return call_end(&c, rc, addon_undefined(env));
}

bool snapshot_criteria_arg(napi_env env, napi_value v, dd_snapshot_criteria *out)
{
    napi_valuetype t = napi_undefined;
    napi_value f;
    dd_snapshot_criteria_init(out, DD_SNAPSHOT_CRITERIA_VERSION);
    if (!v || napi_typeof(env, v, &t) != napi_ok || t == napi_undefined)
        return true;
    if (t != napi_object)
        return addon_arg_u64(env, v, &out->max_seq, "maxSeq");
    return (!addon_prop(env, v, "minSeq", &f) || addon_arg_u64(env, f, &out->min_seq, "minSeq")) &&
           (!addon_prop(env, v, "maxSeq", &f) || addon_arg_u64(env, f, &out->max_seq, "maxSeq")) &&
           (!addon_prop(env, v, "minTimestampMs", &f) ||
            addon_arg_u64(env, f, &out->min_timestamp_ms, "minTimestampMs")) &&
           (!addon_prop(env, v, "maxTimestampMs", &f) ||
            addon_arg_u64(env, f, &out->max_timestamp_ms, "maxTimestampMs"));
}

/* loadSnapshot(pid, maxSeq | {minSeq, maxSeq, minTimestampMs, maxTimestampMs}?)
 * -> {seq, timestampMs, state} | undefined */
static napi_value journal_load_snapshot(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *pid;
    size_t n;
    dd_snapshot_criteria crit;
    if (!call_begin_bytes(&c, env, info, 1, "pid is required", &pid, &n, "pid"))
        return NULL;
    if (!snapshot_criteria_arg(env, c.argc > 1 ? c.argv[1] : NULL, &crit))
        return call_end(&c, DD_OK, NULL);
    dd_buf b = DD_BUF_INIT;
    uint64_t seq = 0, ts = 0;
    napi_value out;
    if (call_found(&c, dd_snapshot_load(&b, &seq, &ts, c.h, pid, n, &crit), &out)) {
        napi_create_object(env, &out);
        napi_set_named_property(env, out, "seq", addon_u64(env, seq));
        napi_set_named_property(env, out, "timestampMs", addon_u64(env, ts));
        napi_set_named_property(env, out, "state", addon_buf_to_js(env, &b));
    }
    return out;
}

/* persist(pid, expectedSeq, payload, state, strategy, snapshotEvery, compact) -> seq
 * strategy: 1 light, 2 full */
static napi_value journal_persist(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *pid, *payload, *state;
    size_t pn, plen, slen;
    uint64_t expected, every, seq = 0;
    uint32_t strategy;
    bool compact = false;
    if (!call_begin(&c, env, info, 7,
                    "persist(pid, expectedSeq, payload, state, strategy, every, compact)"))
        return NULL;
    napi_get_value_bool(env, c.argv[6], &compact);
    if (!call_bytes(&c, 0, &pid, &pn, "pid") ||
        !addon_arg_u64(env, c.argv[1], &expected, "expectedSeq") ||
        !call_bytes(&c, 2, &payload, &plen, "payload") ||
        !call_bytes(&c, 3, &state, &slen, "state") ||
        !addon_arg_u32(env, c.argv[4], &strategy, "strategy") ||
        !addon_arg_u64(env, c.argv[5], &every, "snapshotEvery"))
        return call_end(&c, DD_OK, NULL);
    dd_append_event ev = {payload, plen, 0, NULL, 0};
    dd_persist_options po;
    dd_persist_options_init(&po, DD_PERSIST_OPTIONS_VERSION);
    po.strategy = strategy;
    po.snapshot_every = every;
    po.compact = compact;
    int rc = dd_journal_persist(&seq, c.h, pid, pn, expected, &ev, state, slen, &po);
    return call_end(&c, rc, addon_u64(env, seq));
}

typedef struct recover_ctx {
    napi_env env;
    napi_value on_snapshot, on_event;
} recover_ctx;

/* Calls back into JS on this thread, during dd_journal_recover; a throw
 * stops recovery (the exception stays pending and is rethrown). */
static int call_js(recover_ctx *c, napi_value fn, size_t argc, napi_value *argv)
{
    napi_valuetype t = napi_undefined;
    if (!fn || napi_typeof(c->env, fn, &t) != napi_ok || t != napi_function)
        return 0;
    napi_value global, result;
    napi_get_global(c->env, &global);
    return napi_call_function(c->env, global, fn, argc, argv, &result) == napi_ok ? 0 : DD_EINVAL;
}

static int on_snapshot(void *ctx, uint64_t seq, const uint8_t *state, size_t len)
{
    recover_ctx *c = ctx;
    napi_value argv[2] = {addon_u64(c->env, seq), addon_bytes(c->env, state, len)};
    return call_js(c, c->on_snapshot, 2, argv);
}

static int on_event(void *ctx, const dd_journal_event *ev)
{
    recover_ctx *c = ctx;
    napi_value o = row_to_js(c->env, ev, ROW_EVENT);
    return call_js(c, c->on_event, 1, &o);
}

/* recover(pid, onSnapshot(seq, state), onEvent(event)) -> last seq */
static napi_value journal_recover(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *pid;
    size_t pn;
    if (!call_begin_bytes(&c, env, info, 3, "recover(pid, onSnapshot, onEvent)", &pid, &pn, "pid"))
        return NULL;
    recover_ctx rc_ctx = {env, c.argv[1], c.argv[2]};
    uint64_t last = 0;
    int rc = dd_journal_recover(&last, c.h, pid, pn, on_snapshot, on_event, &rc_ctx);
    call_free(&c);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending)
        return NULL;
    return rc ? addon_fail_on(env, rc, c.h) : addon_u64(env, last);
}

/* upsert(key, expectedRevision, state) -> revision; expectedRevision -1 = any */
static napi_value store_upsert(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *key, *state;
    size_t kn, len;
    uint64_t expected, rev = 0;
    if (!call_begin(&c, env, info, 3, "upsert(key, expectedRevision, state) needs three arguments"))
        return NULL;
    if (!revision_arg(env, c.argv[1], &expected) || !call_bytes(&c, 0, &key, &kn, "key") ||
        !call_bytes(&c, 2, &state, &len, "state"))
        return call_end(&c, DD_OK, NULL);
    int rc = dd_state_store_upsert(&rev, c.h, key, kn, expected, state, len);
    return call_end(&c, rc, addon_u64(env, rev));
}

/* get(key) -> {revision, state} | undefined */
static napi_value store_get(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *key;
    size_t kn;
    if (!call_begin_bytes(&c, env, info, 1, "key is required", &key, &kn, "key"))
        return NULL;
    dd_buf b = DD_BUF_INIT;
    uint64_t rev = 0;
    napi_value out;
    if (call_found(&c, dd_state_store_get(&b, &rev, c.h, key, kn), &out)) {
        napi_create_object(env, &out);
        napi_set_named_property(env, out, "revision", addon_u64(env, rev));
        napi_set_named_property(env, out, "state", addon_buf_to_js(env, &b));
    }
    return out;
}

/* delete(key, expectedRevision) ; -1 = any */
static napi_value store_delete(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *key;
    size_t kn;
    uint64_t expected;
    if (!call_begin(&c, env, info, 2, "delete(key, expectedRevision) needs two arguments"))
        return NULL;
    if (!revision_arg(env, c.argv[1], &expected) || !call_bytes(&c, 0, &key, &kn, "key"))
        return call_end(&c, DD_OK, NULL);
    return call_end(&c, dd_state_store_delete(c.h, key, kn, expected), addon_undefined(env));
}

/* pids(after, max) -> [pid Buffers greater than `after`, in byte order] */
static napi_value journal_pids(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *after;
    size_t n;
    uint64_t max;
    if (!call_begin_bytes(&c, env, info, 2, "pids(after, max) needs two arguments", &after, &n,
                          "after"))
        return NULL;
    if (!addon_arg_u64(env, c.argv[1], &max, "max"))
        return call_end(&c, DD_OK, NULL);
    dd_journal_cursor *cur = NULL;
    int rc = dd_journal_pids(&cur, c.h, after, n, max);
    return cursor_result(&c, rc, cur, ROW_PID);
}

/* keys(prefix) -> [{key, revision}] in byte order */
static napi_value store_keys(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *prefix;
    size_t n;
    if (!call_begin_bytes(&c, env, info, 1, "keys(prefix) needs one argument", &prefix, &n,
                          "prefix"))
        return NULL;
    dd_journal_cursor *cur = NULL;
    int rc = dd_state_store_keys(&cur, c.h, prefix, n);
    return cursor_result(&c, rc, cur, ROW_KEY);
}

/* range(from, count) -> [{key, revision, state}]; count < 0 walks backward */
static napi_value store_range(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *from;
    size_t n;
    int64_t count;
    if (!call_begin(&c, env, info, 2, "range(from, count) needs two arguments") ||
        !count_arg(env, c.argv[1], &count))
        return NULL;
    if (!call_bytes(&c, 0, &from, &n, "from"))
        return call_end(&c, DD_OK, NULL);
    dd_journal_cursor *cur = NULL;
    int rc = dd_state_store_range(&cur, c.h, from, n, count);
    return cursor_result(&c, rc, cur, ROW_KEY_STATE);
}

/* last() -> {key, revision, state} | undefined */
static napi_value store_last(napi_env env, napi_callback_info info)
{
    addon_call c;
    if (!call_begin(&c, env, info, 0, NULL))
        return NULL;
    dd_buf state = DD_BUF_INIT, key = DD_BUF_INIT;
    uint64_t rev = 0;
    napi_value out;
    if (call_found(&c, dd_state_store_last(&state, &key, &rev, c.h), &out)) {
        napi_create_object(env, &out);
        napi_set_named_property(env, out, "key", addon_buf_to_js(env, &key));
        napi_set_named_property(env, out, "revision", addon_u64(env, rev));
        napi_set_named_property(env, out, "state", addon_buf_to_js(env, &state));
    }
    return out;
}

/* purge(): deletes every record */
static napi_value store_purge(napi_env env, napi_callback_info info)
{
    addon_call c;
    if (!call_begin(&c, env, info, 0, NULL))
        return NULL;
    return call_end(&c, dd_state_store_purge(c.h), addon_undefined(env));
}

/* sealAlgorithmAvailable('aes256gcm' | 'xchacha20poly1305') -> bool */
static napi_value seal_algorithm_available(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], out;
    uint32_t alg;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (!algorithm_arg(env, argc > 0 ? argv[0] : NULL, &alg))
        return NULL;
    napi_get_boolean(env, dd_seal_algorithm_available(alg) == 1, &out);
    return out;
}

#define M ADDON_METHOD

static const napi_property_descriptor JOURNAL_METHODS[] = {
    M("append", journal_append),
    M("highestSeq", journal_highest_seq),
    M("deleteTo", journal_delete_to),
    M("replay", journal_replay),
    M("saveSnapshot", journal_save_snapshot),
    M("loadSnapshot", journal_load_snapshot),
    M("byTag", journal_by_tag),
    M("persist", journal_persist),
    M("recover", journal_recover),
    M("pids", journal_pids),
    M("close", handle_close_method),
};

static const napi_property_descriptor KEYRING_METHODS[] = {
    M("addKey", keyring_add_key),
    M("setActive", keyring_set_active),
    M("setAlgorithm", keyring_set_algorithm),
    M("close", handle_close_method),
};

static const napi_property_descriptor STATE_STORE_METHODS[] = {
    M("upsert", store_upsert), M("get", store_get),
    M("delete", store_delete), M("keys", store_keys),
    M("range", store_range),   M("last", store_last),
    M("purge", store_purge),   M("close", handle_close_method),
};

bool addon_init_store(napi_env env, napi_value exports)
{
    static const addon_fn fns[] = {{"sealAlgorithmAvailable", seal_algorithm_available}};
    return addon_export(env, exports, fns, ADDON_COUNT(fns)) &&
           ADDON_DEFINE_CLASS(env, exports, "Keyring", keyring_new, KEYRING_METHODS) &&
           ADDON_DEFINE_CLASS(env, exports, "Journal", journal_new, JOURNAL_METHODS) &&
           ADDON_DEFINE_CLASS(env, exports, "StateStore", state_store_new, STATE_STORE_METHODS);
}
