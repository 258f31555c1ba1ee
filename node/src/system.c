/*
 * System and Replica: native classes over dd_system / dd_replica. Each
 * method is one ABI call plus conversions; lib/system.js adds the
 * EventEmitter (fed from the event fd through FdWatcher) and the Promises
 * for consistency-level reads and writes.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async_job.h"
#include "call.h"

static int close_system(void *h)
{
    return dd_system_close(h);
}

static int close_replica(void *h)
{
    return dd_replica_close(h);
}

/* Reads an array of at most `max` strings into strs[0..*n) (malloc'd; the
 * caller frees those read, also on failure) and their pointers into ptrs. */
static bool string_array(napi_env env, napi_value v, uint32_t max, char **strs, const char **ptrs,
                         uint32_t *n, const char *what)
{
    uint32_t len = 0;
    if (napi_get_array_length(env, v, &len) != napi_ok || len > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s must be an array of at most %u strings", what, max);
        addon_type_error(env, msg);
        return false;
    }
    char item_what[96];
    snprintf(item_what, sizeof item_what, "%s[i]", what);
    for (; *n < len; (*n)++) {
        napi_value item;
        napi_get_element(env, v, *n, &item);
        if (!(strs[*n] = addon_dup_string(env, item, item_what)))
            return false;
        ptrs[*n] = strs[*n];
    }
    return true;
}

#define MAX_SEEDS 64
#define MAX_PEER_KEYS 4096

/* An allow-list read from JS: keys back to back and one id (or NULL) per key. */
typedef struct peer_list {
    uint8_t *keys;
    char **ids;
    uint32_t n;
} peer_list;

static void peer_list_free(peer_list *pl)
{
    addon_free_strings(pl->ids, pl->n);
    free(pl->ids);
    free(pl->keys);
    memset(pl, 0, sizeof(*pl));
}

/* [key, ...] or [{key, nodeId}, ...], each key a 32-byte Buffer. */
static bool peer_list_read(napi_env env, napi_value v, peer_list *pl, const char *what)
{
    uint32_t len = 0;
    char msg[160];
    memset(pl, 0, sizeof(*pl));
    if (napi_get_array_length(env, v, &len) != napi_ok || len > MAX_PEER_KEYS) {
        snprintf(msg, sizeof msg, "%s must be an array of at most %u keys", what, MAX_PEER_KEYS);
        addon_type_error(env, msg);
        return false;
    }
    if (!len)
        return true;
    pl->keys = calloc(len, 32);
    pl->ids = calloc(len, sizeof(char *));
    if (!pl->keys || !pl->ids) {
        addon_fail(env, DD_ENOMEM);
        return false;
    }
    for (; pl->n < len; pl->n++) {
        napi_value item, key = NULL, id = NULL;
        napi_get_element(env, v, pl->n, &item);
        bool is_buffer = false;
        napi_is_buffer(env, item, &is_buffer);
        if (is_buffer) {
            key = item;
        } else if (!addon_prop(env, item, "key", &key)) {
            key = NULL;
        } else if (addon_prop(env, item, "nodeId", &id) &&
                   !(pl->ids[pl->n] = addon_dup_string(env, id, "peer key nodeId"))) {
            return false;
        }
        const uint8_t *data = NULL;
        size_t data_len = 0;
        char *scratch = NULL;
        if (!key || !addon_arg_bytes(env, key, &data, &data_len, &scratch, "peer key") ||
            data_len != 32) {
            free(scratch);
            if (key && data_len != 32) {
                snprintf(msg, sizeof msg, "%s[%u]: a key must be 32 bytes", what, pl->n);
                addon_type_error(env, msg);
            } else if (!key) {
                snprintf(msg, sizeof msg, "%s[%u] must be a Buffer or {key, nodeId}", what, pl->n);
                addon_type_error(env, msg);
            }
            pl->n++; /* its id, if any, is freed with the rest */
            return false;
        }
        memcpy(pl->keys + (size_t)pl->n * 32, data, 32);
        free(scratch);
    }
    return true;
}

/* An optional string option, copied into *out (caller frees; NULL when
 * absent). False when it threw. */
static bool string_option(napi_env env, napi_value obj, const char *name, char **out)
{
    napi_value v;
    char what[64];
    *out = NULL;
    if (!addon_prop(env, obj, name, &v))
        return true;
    snprintf(what, sizeof what, "options.%s", name);
    return (*out = addon_dup_string(env, v, what)) != NULL;
}

/* An optional key or secret of exactly `len` bytes: *data borrows it (NULL
 * when absent), from *scratch when it was given as a string (caller frees).
 * False when it threw. */
static bool key_option(napi_env env, napi_value obj, const char *name, size_t len,
                       const uint8_t **data, char **scratch)
{
    napi_value v;
    size_t n = 0;
    char what[64], msg[96];
    *data = NULL;
    if (!addon_prop(env, obj, name, &v))
        return true;
    snprintf(what, sizeof what, "options.%s", name);
    if (!addon_arg_bytes(env, v, data, &n, scratch, what))
        return false;
    if (n != len) {
        snprintf(msg, sizeof msg, "%s must be %zu bytes", what, len);
        addon_type_error(env, msg);
        return false;
    }
    return true;
}

static const addon_number_option SYSTEM_NUMBERS[] = {
    {"incarnation", offsetof(dd_system_options, incarnation), true},
    {"seed", offsetof(dd_system_options, seed), true},
    {"failureTimeoutMs", offsetof(dd_system_options, failure_timeout_ms), true},
    {"maxEvents", offsetof(dd_system_options, max_events), false},
    {"downAfterMs", offsetof(dd_system_options, down_after_ms), true},
    {"removeAfterMs", offsetof(dd_system_options, remove_after_ms), true},
    {"tickIntervalMs", offsetof(dd_system_options, tick_interval_ms), false},
};

/* new System({nodeId, seeds, incarnation, seed, tcpListen, secret, ...}) */
static napi_value system_new(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], self, v;
    napi_get_cb_info(env, info, &argc, argv, &self, NULL);
    dd_system_options so;
    dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION);
    char *node_id = NULL, *listen = NULL, *seeds[MAX_SEEDS];
    const char *seed_ptrs[MAX_SEEDS];
    uint32_t nseeds = 0;
    const uint8_t *secret = NULL, *next_secret = NULL, *node_key = NULL;
    char *node_key_scratch = NULL;
    char *secret_scratch = NULL, *next_scratch = NULL, *key_file = NULL, *advertised = NULL;
    dd_limits limits;
    peer_list peers = {0};
    napi_value result = NULL;
    dd_system *sys = NULL;

    if (argc < 1 || !addon_prop(env, argv[0], "nodeId", &v)) {
        addon_type_error(env, "options.nodeId is required");
        goto done;
    }
    if (!(node_id = addon_dup_string(env, v, "options.nodeId")))
        goto done;
    so.node_id = node_id;
    if (addon_prop(env, argv[0], "seeds", &v)) {
        if (!string_array(env, v, MAX_SEEDS, seeds, seed_ptrs, &nseeds, "options.seeds"))
            goto done;
        so.seeds = seed_ptrs;
        so.seed_count = nseeds;
    }
    if (!addon_number_options(env, argv[0], &so, SYSTEM_NUMBERS, ADDON_COUNT(SYSTEM_NUMBERS),
                              "options."))
        goto done;
    if (!string_option(env, argv[0], "tcpListen", &listen))
        goto done;
    if (listen) {
        so.transport = DD_TRANSPORT_TCP;
        so.listen_address = listen;
        so.plaintext = 1;
    }
    if (!string_option(env, argv[0], "advertisedAddress", &advertised))
        goto done;
    if (advertised)
        so.advertised_address = advertised;
    if (addon_prop(env, argv[0], "limits", &v)) {
        if (!addon_read_limits(env, v, &limits))
            goto done;
        so.limits = &limits;
    }
    if (!key_option(env, argv[0], "secret", dd_secret_bytes(), &secret, &secret_scratch))
        goto done;
    if (secret) {
        so.secret = secret;
        so.plaintext = 0;
    }
    if (!string_option(env, argv[0], "nodeKeyFile", &key_file))
        goto done;
    if (key_file)
        so.node_key_file = key_file;
    if (!key_option(env, argv[0], "nodeKey", dd_key_bytes(), &node_key, &node_key_scratch))
        goto done;
    if (node_key)
        so.node_key = node_key;
    if (!key_option(env, argv[0], "nextSecret", dd_secret_bytes(), &next_secret, &next_scratch))
        goto done;
    if (next_secret)
        so.next_secret = next_secret;
    if (addon_prop(env, argv[0], "peerKeys", &v)) {
        if (!peer_list_read(env, v, &peers, "options.peerKeys"))
            goto done;
        so.peer_keys = peers.keys;
        so.peer_key_ids = (const char *const *)peers.ids;
        so.peer_key_count = peers.n;
    }
    int rc = dd_system_open(&sys, &so);
    if (rc) {
        addon_fail(env, rc);
        goto done;
    }
    if (handle_wrap(env, self, sys, close_system))
        result = self;
done:
    free(node_id);
    free(listen);
    free(secret_scratch);
    free(next_scratch);
    free(key_file);
    free(advertised);
    free(node_key_scratch);
    peer_list_free(&peers);
    addon_free_strings(seeds, nseeds);
    return result;
}

CALL_WITH_NUMBER(system_tick, dd_system_tick, uint64_t, addon_arg_u64, "tick(nowMs)", "nowMs")

/* deliver(nowMs, from, bytes) */
static napi_value system_deliver(napi_env env, napi_callback_info info)
{
    addon_call c;
    uint64_t now;
    const uint8_t *from, *bytes;
    size_t from_len, len;
    if (!call_begin(&c, env, info, 3, "deliver(nowMs, from, bytes) needs three arguments"))
        return NULL;
    if (!addon_arg_u64(env, c.argv[0], &now, "nowMs") ||
        !call_bytes(&c, 1, &from, &from_len, "from") || !call_bytes(&c, 2, &bytes, &len, "bytes"))
        return call_end(&c, DD_OK, NULL);
    int rc = dd_system_deliver(c.h, now, (const char *)from, from_len, bytes, len);
    return call_end(&c, rc, addon_undefined(env));
}

/* nextOutgoing() -> [toNodeId, Buffer] | undefined */
static napi_value system_next_outgoing(napi_env env, napi_callback_info info)
{
    addon_call c;
    dd_buf to = DD_BUF_INIT, msg = DD_BUF_INIT;
    napi_value arr;
    if (!CALL_POLL(&c, env, info, dd_system_next_outgoing(&msg, &to, c.h), &arr))
        return arr;
    arr = addon_pair(env, addon_str(env, to.data, to.len), addon_buf_to_js(env, &msg));
    dd_buf_free(&to);
    return arr;
}

static const char *const MEMBER_STATES[] = {"unknown",     "joining", "up",
                                            "unreachable", "down",    "removed"};

static void set(napi_env env, napi_value obj, const char *name, napi_value v)
{
    napi_set_named_property(env, obj, name, v);
}

/* nextEvent() -> {kind, ...} | undefined */
static napi_value system_next_event(napi_env env, napi_callback_info info)
{
    addon_call c;
    dd_event ev = DD_EVENT_INIT;
    napi_value obj;
    if (!CALL_POLL(&c, env, info, dd_system_next_event(&ev, c.h), &obj))
        return obj;
    napi_create_object(env, &obj);
    const char *kind = "unknown";
    switch (ev.kind) {
    case DD_EVENT_MEMBER:
        kind = "member";
        set(env, obj, "node", addon_str(env, ev.member_id.data, ev.member_id.len));
        set(env, obj, "incarnation", addon_u64(env, ev.member_incarnation));
        set(env, obj, "state",
            addon_str(env,
                      (const uint8_t *)MEMBER_STATES[ev.member_state <= 5 ? ev.member_state : 0],
                      strlen(MEMBER_STATES[ev.member_state <= 5 ? ev.member_state : 0])));
        break;
    case DD_EVENT_CHANGED:
    case DD_EVENT_DELETED:
    case DD_EVENT_EXPIRED:
        kind = ev.kind == DD_EVENT_CHANGED   ? "changed"
               : ev.kind == DD_EVENT_DELETED ? "deleted"
                                             : "expired";
        set(env, obj, "key", addon_str(env, ev.key.data, ev.key.len));
        break;
    case DD_EVENT_REQUEST_DONE:
        kind = "requestDone";
        set(env, obj, "requestId", addon_u64(env, ev.request_id));
        set(env, obj, "status", addon_int(env, ev.status));
        break;
    case DD_EVENT_OVERFLOW:
        kind = "overflow";
        set(env, obj, "dropped", addon_u64(env, ev.dropped));
        break;
    }
    set(env, obj, "kind", addon_str(env, (const uint8_t *)kind, strlen(kind)));
    dd_event_clear(&ev);
    return obj;
}

CALL_GETTER(system_event_fd, dd_system_event_fd, int, addon_int)
CALL_GETTER(system_incarnation, dd_system_incarnation, uint64_t, addon_u64)

/* leaveSync(timeoutMs): blocks while a TCP node waits for the acks. */
CALL_WITH_NUMBER(system_leave_sync, dd_system_leave, uint64_t, addon_arg_u64,
                 "leaveSync(timeoutMs)", "timeoutMs")

/* leave(timeoutMs) -> Promise<undefined>: the wait runs on the pool. */
static void run_leave(async_job *job)
{
    async_job_status(job, dd_system_leave(job->h, *(uint64_t *)job->data));
}

static napi_value leave_done(napi_env env, async_job *job)
{
    (void)job;
    return addon_undefined(env);
}

static napi_value system_leave(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], self;
    void *h = NULL;
    uint64_t timeout_ms;
    if (!handle_this(env, info, &argc, argv, &h))
        return NULL;
    napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
    if (argc < 1)
        return addon_type_error(env, "leave(timeoutMs)");
    if (!addon_arg_u64(env, argv[0], &timeout_ms, "timeoutMs"))
        return NULL;
    async_job *job = async_job_new(env, h, sizeof(uint64_t));
    if (!job)
        return NULL;
    *(uint64_t *)job->data = timeout_ms;
    job->run = run_leave;
    job->result = leave_done;
    return async_job_start(env, job, self, argc, argv, "ddata.System.leave");
}

/* The calls that fill a dd_buf: listenAddress (the bound "ip:port" of a
 * TCP node), metricsText and statsJson (statistics as the library's
 * canonical text, which lib/ parses) as JS strings, publicKey (this node's
 * static public key) as a Buffer. One method, buf_call, serves them all,
 * told apart by the table row's data. */
typedef struct buf_reader {
    int (*fn)(dd_buf *out, dd_system *sys);
    addon_buf_shape shape;
} buf_reader;

static const buf_reader LISTEN_ADDRESS = {dd_system_listen_address, ADDON_BUF_TEXT};
static const buf_reader METRICS_TEXT = {dd_system_metrics_text, ADDON_BUF_TEXT};
static const buf_reader STATS_JSON = {dd_system_stats_json, ADDON_BUF_TEXT};
static const buf_reader PUBLIC_KEY = {dd_system_public_key, ADDON_BUF_BYTES};

static napi_value buf_call(napi_env env, napi_callback_info info)
{
    const buf_reader *reader = addon_method_data(env, info);
    size_t argc = 0;
    void *h;
    dd_buf out = DD_BUF_INIT;
    if (!handle_this(env, info, &argc, NULL, &h))
        return NULL;
    int rc = reader->fn(&out, h);
    return rc ? addon_fail(env, rc) : addon_buf_as(env, &out, reader->shape);
}

/* nextLog() -> the next log record's JSON text | undefined */
static napi_value system_next_log(napi_env env, napi_callback_info info)
{
    addon_call c;
    dd_buf out = DD_BUF_INIT;
    napi_value str;
    if (!CALL_POLL(&c, env, info, dd_system_next_log(&out, c.h), &str))
        return str;
    return addon_buf_as(env, &out, ADDON_BUF_TEXT);
}

/* setPeerKeys([key | {key, nodeId}, ...]): replaces the allow-list. */
static napi_value system_set_peer_keys(napi_env env, napi_callback_info info)
{
    addon_call c;
    peer_list pl;
    if (!call_begin(&c, env, info, 1, "setPeerKeys(keys)"))
        return NULL;
    if (!peer_list_read(env, c.argv[0], &pl, "keys")) {
        peer_list_free(&pl);
        call_free(&c);
        return NULL;
    }
    int rc = dd_system_set_peer_keys(c.h, pl.keys, (const char *const *)pl.ids, pl.n);
    peer_list_free(&pl);
    return call_end(&c, rc, addon_undefined(env));
}

/* generateNodeKey(path): writes a key file (0600), returns its public key. */
static napi_value generate_node_key(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (argc < 1)
        return addon_type_error(env, "generateNodeKey(path) needs a path");
    char *path = addon_dup_string(env, argv[0], "path");
    if (!path)
        return NULL;
    dd_buf out = DD_BUF_INIT;
    int rc = dd_node_key_generate(&out, path);
    free(path);
    if (rc)
        return addon_fail(env, rc);
    return addon_buf_to_js(env, &out);
}

/* ---- Replica */

/* The numeric Replica options, in the order they are read (the order
 * decides which bad option is reported first). */
static const addon_number_option REPLICA_TUNING[] = {
    {"gossipFanout", offsetof(dd_replica_options, gossip_fanout), false},
    {"maxMessageBytes", offsetof(dd_replica_options, max_message_bytes), false},
    {"tombstoneGraceMs", offsetof(dd_replica_options, tombstone_grace_ms), true},
    {"expireAfterMs", offsetof(dd_replica_options, expire_after_ms), true},
    {"writeBehindIntervalMs", offsetof(dd_replica_options, write_behind_interval_ms), true},
    {"deltaStrategy", offsetof(dd_replica_options, delta_strategy), false},
};

static const addon_number_option REPLICA_INTERVALS[] = {
    {"gossipIntervalMs", offsetof(dd_replica_options, gossip_interval_ms), true},
    {"notifyIntervalMs", offsetof(dd_replica_options, notify_interval_ms), true},
};

/* new Replica(system, {gossipIntervalMs, gossipFanout, notifyIntervalMs,
 * tombstoneGraceMs, store, durableKeys, writeBehind, writeBehindIntervalMs,
 * expiryPrefixes, expireAfterMs, deltaStrategy, storePrefix}) */
static napi_value replica_new(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], self, v;
    void *sys = NULL, *store = NULL;
    napi_get_cb_info(env, info, &argc, argv, &self, NULL);
    if (argc < 1 || !handle_arg(env, argv[0], &sys, "system"))
        return NULL;
    dd_replica_options ro;
    dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION);
    char *keys[64], *prefixes[64];
    const char *key_ptrs[64], *prefix_ptrs[64];
    uint32_t nkeys = 0, nprefixes = 0;
    char store_prefix[257];
    napi_value result = NULL;
    if (argc > 1) {
        bool write_behind = false;
        if (addon_prop(env, argv[1], "storePrefix", &v)) {
            size_t n = 0;
            if (napi_get_value_string_utf8(env, v, store_prefix, sizeof(store_prefix), &n) !=
                napi_ok) {
                addon_type_error(env, "storePrefix must be a string");
                goto done;
            }
            if (n > 255) {
                addon_type_error(env, "storePrefix is longer than 255 bytes");
                goto done;
            }
            ro.store_prefix = store_prefix;
        }
        if (!addon_number_options(env, argv[1], &ro, REPLICA_TUNING, ADDON_COUNT(REPLICA_TUNING),
                                  ""))
            goto done;
        if (addon_prop(env, argv[1], "writeBehind", &v)) {
            napi_get_value_bool(env, v, &write_behind);
            ro.write_behind = write_behind ? 1 : 0;
        }
        if (addon_prop(env, argv[1], "expiryPrefixes", &v)) {
            if (!string_array(env, v, 64, prefixes, prefix_ptrs, &nprefixes, "expiryPrefixes"))
                goto done;
            ro.expiry_prefixes = prefix_ptrs;
            ro.expiry_prefix_count = nprefixes;
        }
        if (!addon_number_options(env, argv[1], &ro, REPLICA_INTERVALS,
                                  ADDON_COUNT(REPLICA_INTERVALS), ""))
            goto done;
        if (addon_prop(env, argv[1], "store", &v)) {
            if (!handle_arg(env, v, &store, "store"))
                goto done;
            ro.store = store;
        }
        if (addon_prop(env, argv[1], "durableKeys", &v)) {
            if (!string_array(env, v, 64, keys, key_ptrs, &nkeys, "durableKeys"))
                goto done;
            ro.durable_keys = key_ptrs;
            ro.durable_key_count = nkeys;
        }
    }
    dd_replica *r = NULL;
    int rc = dd_replica_open(&r, sys, &ro);
    if (rc)
        addon_fail(env, rc);
    else if (handle_wrap(env, self, r, close_replica))
        result = self;
done:
    addon_free_strings(keys, nkeys);
    addon_free_strings(prefixes, nprefixes);
    return result;
}

/* update(key, type, op) */
static napi_value replica_update(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *k;
    size_t kn;
    uint32_t type;
    op_scratch ops;
    if (!call_begin_bytes(&c, env, info, 1, "key is required", &k, &kn, "key"))
        return NULL;
    if (c.argc < 3) {
        addon_type_error(env, "update(key, type, op) needs three arguments");
        return call_end(&c, DD_OK, NULL);
    }
    if (!addon_arg_u32(env, c.argv[1], &type, "type") || !addon_read_op(env, c.argv[2], &ops))
        return call_end(&c, DD_OK, NULL);
    int rc = dd_replica_update(c.h, k, kn, type, &ops.ops[0]);
    addon_op_free(&ops);
    return call_end(&c, rc, addon_undefined(env));
}

/* get(key) -> Crdt | undefined */
static napi_value replica_get(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *k;
    size_t kn;
    if (!call_begin_bytes(&c, env, info, 1, "key is required", &k, &kn, "key"))
        return NULL;
    dd_crdt *v = NULL;
    int rc = dd_replica_get(&v, c.h, k, kn);
    call_free(&c);
    if (rc == DD_ENOTFOUND || rc == DD_EDELETED)
        return addon_undefined(env);
    return rc ? addon_fail_on(env, rc, c.h) : addon_wrap_crdt(env, v, 1);
}

static napi_value replica_delete(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *k;
    size_t kn;
    if (!call_begin_bytes(&c, env, info, 1, "key is required", &k, &kn, "key"))
        return NULL;
    return call_end(&c, dd_replica_delete(c.h, k, kn), addon_undefined(env));
}

/* subscribe(key, prefix = false) */
static napi_value replica_subscribe(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *k;
    size_t kn;
    bool prefix = false;
    if (!call_begin_bytes(&c, env, info, 1, "key is required", &k, &kn, "key"))
        return NULL;
    if (c.argc > 1)
        napi_get_value_bool(env, c.argv[1], &prefix);
    return call_end(&c, dd_replica_subscribe(c.h, k, kn, prefix), addon_undefined(env));
}

/* keys() -> [string] */
static napi_value replica_keys(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    void *h;
    if (!handle_this(env, info, &argc, NULL, &h))
        return NULL;
    napi_value arr;
    napi_create_array(env, &arr);
    uint64_t cursor = 0;
    uint32_t idx = 0;
    for (;;) {
        dd_buf b = DD_BUF_INIT;
        int rc = dd_replica_keys(&b, h, &cursor, 0);
        if (rc == DD_EDONE)
            break;
        if (rc)
            return addon_fail_on(env, rc, h);
        addon_lp_append(env, arr, &idx, &b, true);
        dd_buf_free(&b);
    }
    return arr;
}

/* write(key, type, op, consistency, n, timeoutMs) -> requestId
 * read(key, consistency, n, timeoutMs) -> requestId */
static napi_value replica_write(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *k;
    size_t kn;
    uint32_t type, level, n;
    uint64_t timeout, id = 0;
    op_scratch ops;
    if (!call_begin_bytes(&c, env, info, 1, "key is required", &k, &kn, "key"))
        return NULL;
    if (c.argc < 6) {
        addon_type_error(env,
                         "write(key, type, op, consistency, n, timeoutMs) needs six arguments");
        return call_end(&c, DD_OK, NULL);
    }
    if (!addon_arg_u32(env, c.argv[1], &type, "type") ||
        !addon_arg_u32(env, c.argv[3], &level, "consistency") ||
        !addon_arg_u32(env, c.argv[4], &n, "n") ||
        !addon_arg_u64(env, c.argv[5], &timeout, "timeoutMs") ||
        !addon_read_op(env, c.argv[2], &ops))
        return call_end(&c, DD_OK, NULL);
    int rc = dd_replica_write(&id, c.h, k, kn, type, &ops.ops[0], level, n, timeout);
    addon_op_free(&ops);
    return call_end(&c, rc, addon_u64(env, id));
}

static napi_value replica_read(napi_env env, napi_callback_info info)
{
    addon_call c;
    const uint8_t *k;
    size_t kn;
    uint32_t level, n;
    uint64_t timeout, id = 0;
    if (!call_begin_bytes(&c, env, info, 1, "key is required", &k, &kn, "key"))
        return NULL;
    if (c.argc < 4) {
        addon_type_error(env, "read(key, consistency, n, timeoutMs) needs four arguments");
        return call_end(&c, DD_OK, NULL);
    }
    if (!addon_arg_u32(env, c.argv[1], &level, "consistency") ||
        !addon_arg_u32(env, c.argv[2], &n, "n") ||
        !addon_arg_u64(env, c.argv[3], &timeout, "timeoutMs"))
        return call_end(&c, DD_OK, NULL);
    int rc = dd_replica_read(&id, c.h, k, kn, level, n, timeout);
    return call_end(&c, rc, addon_u64(env, id));
}

static napi_value replica_flush(napi_env env, napi_callback_info info)
{
    addon_call c;
    if (!call_begin(&c, env, info, 0, NULL))
        return NULL;
    return call_end(&c, dd_replica_flush(c.h), addon_undefined(env));
}

CALL_GETTER(replica_key_count, dd_replica_key_count, uint64_t, addon_u64)

#define M ADDON_METHOD

static const napi_property_descriptor SYSTEM_METHODS[] = {
    M("tick", system_tick),
    M("deliver", system_deliver),
    M("nextOutgoing", system_next_outgoing),
    M("nextEvent", system_next_event),
    M("eventFd", system_event_fd),
    M("incarnation", system_incarnation),
    M("leave", system_leave),
    M("leaveSync", system_leave_sync),
    ADDON_METHOD_DATA("listenAddress", buf_call, &LISTEN_ADDRESS),
    ADDON_METHOD_DATA("statsJson", buf_call, &STATS_JSON),
    ADDON_METHOD_DATA("metricsText", buf_call, &METRICS_TEXT),
    M("nextLog", system_next_log),
    ADDON_METHOD_DATA("publicKey", buf_call, &PUBLIC_KEY),
    M("setPeerKeys", system_set_peer_keys),
    M("close", handle_close_method),
};

static const napi_property_descriptor REPLICA_METHODS[] = {
    M("update", replica_update),       M("get", replica_get),   M("delete", replica_delete),
    M("subscribe", replica_subscribe), M("keys", replica_keys), M("keyCount", replica_key_count),
    M("write", replica_write),         M("read", replica_read), M("flush", replica_flush),
    M("close", handle_close_method),
};

bool addon_init_system(napi_env env, napi_value exports)
{
    static const addon_fn fns[] = {{"generateNodeKey", generate_node_key}};
    return addon_export(env, exports, fns, ADDON_COUNT(fns)) &&
           ADDON_DEFINE_CLASS(env, exports, "System", system_new, SYSTEM_METHODS) &&
           ADDON_DEFINE_CLASS(env, exports, "Replica", replica_new, REPLICA_METHODS);
}
