/*
 * Owned: a native class over dd_owned (node-owned state, pump mode). Each
 * method is one ABI call plus conversions; lib/owned.js adds names for the
 * enums and an EventEmitter on the event fd. Views come back as
 * {nodeId, incarnation, age, baseAge, wireVersion, versionMismatch,
 * confirmedMs, base, deltas}: the application folds them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

static int close_owned(void *h)
{
    return dd_owned_close(h);
}

/* Copies a type name (1..127 bytes) into `buf`. */
static bool type_arg(napi_env env, napi_value v, char *buf, size_t cap)
{
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok || n >= cap) {
        addon_type_error(env, "type must be a string of at most 127 bytes");
        return false;
    }
    napi_get_value_string_utf8(env, v, buf, cap, &n);
    return true;
}

/* An optional handle argument (undefined or null = none). */
static bool optional_handle(napi_env env, size_t argc, napi_value *argv, size_t i, void **out,
                            const char *what)
{
    napi_valuetype t = napi_undefined;
    *out = NULL;
    if (argc <= i || napi_typeof(env, argv[i], &t) != napi_ok || t == napi_undefined ||
        t == napi_null)
        return true;
    return handle_arg(env, argv[i], out, what);
}

/* new Owned(nodeId, incarnation, store?, system?, {limits, maxQueued}?) */
static napi_value owned_new(napi_env env, napi_callback_info info)
{
    size_t argc = 5;
    napi_value argv[5], self, v;
    dd_limits limits;
    napi_get_cb_info(env, info, &argc, argv, &self, NULL);
    dd_owned_options o;
    dd_owned_options_init(&o, DD_OWNED_OPTIONS_VERSION);
    if (argc < 2 || !addon_arg_u64(env, argv[0], &o.node_id, "nodeId") ||
        !addon_arg_u64(env, argv[1], &o.incarnation, "incarnation"))
        return argc < 2 ? addon_type_error(env, "new Owned(nodeId, incarnation, store?, system?)")
                        : NULL;
    void *store, *system;
    if (!optional_handle(env, argc, argv, 2, &store, "store") ||
        !optional_handle(env, argc, argv, 3, &system, "system"))
        return NULL;
    o.store = store;
    o.system = system;
    napi_valuetype t = napi_undefined;
    if (argc > 4 && napi_typeof(env, argv[4], &t) == napi_ok && t == napi_object) {
        if (addon_prop(env, argv[4], "limits", &v)) {
            if (!addon_read_limits(env, v, &limits))
                return NULL;
            o.limits = &limits;
        }
        if (addon_prop(env, argv[4], "maxQueued", &v) &&
            !addon_arg_u64(env, v, &o.max_queued, "maxQueued"))
            return NULL;
    }
    dd_owned *h = NULL;
    int rc = dd_owned_open(&h, &o);
    if (rc)
        return addon_fail(env, rc);
    return handle_wrap(env, self, h, close_owned) ? self : NULL;
}

static bool u32_prop(napi_env env, napi_value o, const char *name, uint32_t *dst)
{
    napi_value v;
    return !addon_prop(env, o, name, &v) || addon_arg_u32(env, v, dst, name);
}

static bool u64_prop(napi_env env, napi_value o, const char *name, uint64_t *dst)
{
    napi_value v;
    return !addon_prop(env, o, name, &v) || addon_arg_u64(env, v, dst, name);
}

/* register(type, {strategy, onMismatch, wireVersion, ...}) with enums as numbers */
static napi_value owned_register(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    void *h;
    char type[128];
    if (!handle_this(env, info, &argc, argv, &h))
        return NULL;
    if (argc < 1 || !type_arg(env, argv[0], type, sizeof type))
        return argc < 1 ? addon_type_error(env, "register(type, options)") : NULL;
    dd_owned_type_options o;
    dd_owned_type_options_init(&o, DD_OWNED_TYPE_OPTIONS_VERSION);
    if (argc > 1 && (!u32_prop(env, argv[1], "strategy", &o.strategy) ||
                     !u32_prop(env, argv[1], "onMismatch", &o.on_mismatch) ||
                     !u32_prop(env, argv[1], "wireVersion", &o.wire_version) ||
                     !u32_prop(env, argv[1], "storageVersion", &o.storage_version) ||
                     !u32_prop(env, argv[1], "compactEvery", &o.compact_every) ||
                     !u64_prop(env, argv[1], "feedIntervalMs", &o.feed_interval_ms) ||
                     !u64_prop(env, argv[1], "syncIntervalMs", &o.sync_interval_ms) ||
                     !u64_prop(env, argv[1], "pullRetryMs", &o.pull_retry_ms) ||
                     !u64_prop(env, argv[1], "pullTimeoutMs", &o.pull_timeout_ms)))
        return NULL;
    int rc = dd_owned_register(h, type, &o);
    return rc ? addon_fail_on(env, rc, h) : addon_undefined(env);
}

/* publish(type, full, data, urgency, delayMs) -> [incarnation, age] */
static napi_value owned_publish(napi_env env, napi_callback_info info)
{
    addon_call c;
    char type[128];
    bool full = false;
    const uint8_t *data;
    size_t len;
    uint32_t urgency;
    uint64_t delay, inc = 0, age = 0;
    if (!call_begin(&c, env, info, 5, "publish(type, full, data, urgency, delayMs)"))
        return NULL;
    napi_get_value_bool(env, c.argv[1], &full);
    if (!type_arg(env, c.argv[0], type, sizeof type) ||
        !addon_arg_u32(env, c.argv[3], &urgency, "urgency") ||
        !addon_arg_u64(env, c.argv[4], &delay, "delayMs") ||
        !call_bytes(&c, 2, &data, &len, "data"))
        return call_end(&c, DD_OK, NULL);
    int rc = dd_owned_publish(&inc, &age, c.h, type, full, data, len, urgency, delay);
    call_free(&c);
    if (rc)
        return addon_fail_on(env, rc, c.h);
    return addon_pair(env, addon_u64(env, inc), addon_u64(env, age));
}

CALL_WITH_NUMBER(owned_tick, dd_owned_tick, uint64_t, addon_arg_u64, "tick(nowMs)", "nowMs")

CALL_WITH_NUMBER_BYTES(owned_deliver, dd_owned_deliver, uint64_t, addon_arg_u64,
                       "deliver(fromNode, bytes)", "fromNode", "bytes")

/* nextOutgoing() -> [toNode, Buffer] | undefined */
static napi_value owned_next_outgoing(napi_env env, napi_callback_info info)
{
    addon_call c;
    dd_buf b = DD_BUF_INIT;
    uint64_t to = 0;
    napi_value out;
    if (!CALL_POLL(&c, env, info, dd_owned_next_outgoing(&b, &to, c.h), &out))
        return out;
    return addon_pair(env, addon_u64(env, to), addon_buf_to_js(env, &b));
}

static napi_value owned_member_up(napi_env env, napi_callback_info info)
{
    addon_call c;
    uint64_t node, inc;
    if (!call_begin(&c, env, info, 2, "memberUp(node, incarnation)") ||
        !addon_arg_u64(env, c.argv[0], &node, "node") ||
        !addon_arg_u64(env, c.argv[1], &inc, "incarnation"))
        return NULL;
    return call_end(&c, dd_owned_member_up(c.h, node, inc), addon_undefined(env));
}

CALL_WITH_NUMBER(owned_member_left, dd_owned_member_left, uint64_t, addon_arg_u64,
                 "memberLeft(node)", "node")

/* query(type, node, maxStalenessMs?) -> requestId (0: fresh, read now) */
static napi_value owned_query(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    void *h;
    char type[128];
    uint64_t node, stale = UINT64_MAX, req = 0;
    if (!handle_this(env, info, &argc, argv, &h))
        return NULL;
    if (argc < 2)
        return addon_type_error(env, "query(type, node, maxStalenessMs?)");
    napi_valuetype t = napi_undefined;
    if (!type_arg(env, argv[0], type, sizeof type) || !addon_arg_u64(env, argv[1], &node, "node"))
        return NULL;
    if (argc > 2 && napi_typeof(env, argv[2], &t) == napi_ok && t != napi_undefined &&
        !addon_arg_u64(env, argv[2], &stale, "maxStalenessMs"))
        return NULL;
    int rc = dd_owned_query(&req, h, type, node, stale);
    return rc ? addon_fail_on(env, rc, h) : addon_u64(env, req);
}

static napi_value owned_read(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    void *h;
    char type[128];
    uint64_t node;
    if (!handle_this(env, info, &argc, argv, &h))
        return NULL;
    if (argc < 2)
        return addon_type_error(env, "read(type, node)");
    if (!type_arg(env, argv[0], type, sizeof type) || !addon_arg_u64(env, argv[1], &node, "node"))
        return NULL;
    dd_owned_view v;
    int rc = dd_owned_read(&v, h, type, node);
    if (rc)
        return addon_fail_on(env, rc, h);
    napi_value o, deltas, b;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "nodeId", addon_u64(env, v.node_id));
    napi_set_named_property(env, o, "incarnation", addon_u64(env, v.incarnation));
    napi_set_named_property(env, o, "age", addon_u64(env, v.age));
    napi_set_named_property(env, o, "baseAge", addon_u64(env, v.base_age));
    napi_set_named_property(env, o, "wireVersion", addon_u64(env, v.wire_version));
    napi_get_boolean(env, v.version_mismatch != 0, &b);
    napi_set_named_property(env, o, "versionMismatch", b);
    napi_set_named_property(env, o, "confirmedMs", addon_u64(env, v.confirmed_ms));
    napi_set_named_property(env, o, "base", addon_bytes(env, v.base.data, v.base.len));
    napi_create_array_with_length(env, v.delta_count, &deltas);
    for (size_t i = 0; i < v.delta_count; i++) {
        napi_set_element(env, deltas, (uint32_t)i,
                         addon_bytes(env, v.deltas[i].data, v.deltas[i].len));
    }
    napi_set_named_property(env, o, "deltas", deltas);
    dd_owned_view_free(&v);
    return o;
}

static napi_value owned_nodes(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    void *h;
    if (!handle_this(env, info, &argc, NULL, &h))
        return NULL;
    uint64_t ids[256];
    size_t n = 0;
    int rc = dd_owned_nodes(ids, 256, &n, h);
    if (rc)
        return addon_fail_on(env, rc, h);
    uint64_t *all = ids;
    if (n > 256) {
        if (!(all = malloc(n * sizeof *all)))
            return addon_fail(env, DD_ENOMEM);
        size_t cap = n;
        if ((rc = dd_owned_nodes(all, cap, &n, h)) != 0 || n > cap) {
            free(all);
            return addon_fail(env, rc ? rc : DD_EBUSY);
        }
    }
    napi_value arr;
    napi_create_array_with_length(env, n, &arr);
    for (size_t i = 0; i < n; i++)
        napi_set_element(env, arr, (uint32_t)i, addon_u64(env, all[i]));
    if (all != ids)
        free(all);
    return arr;
}

static const char *const EVENT_KINDS[] = {"unknown",   "viewChanged",     "viewRemoved",
                                          "queryDone", "versionMismatch", "compactWanted"};

static napi_value owned_next_event(napi_env env, napi_callback_info info)
{
    addon_call c;
    dd_owned_event ev;
    napi_value o;
    if (!CALL_POLL(&c, env, info, dd_owned_next_event(&ev, c.h), &o))
        return o;
    const char *kind = EVENT_KINDS[ev.kind <= 5 ? ev.kind : 0];
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "kind", addon_str(env, (const uint8_t *)kind, strlen(kind)));
    napi_set_named_property(env, o, "status", addon_int(env, ev.status));
    napi_set_named_property(env, o, "nodeId", addon_u64(env, ev.node_id));
    napi_set_named_property(env, o, "incarnation", addon_u64(env, ev.incarnation));
    napi_set_named_property(env, o, "age", addon_u64(env, ev.age));
    napi_set_named_property(env, o, "requestId", addon_u64(env, ev.request_id));
    napi_set_named_property(env, o, "peerVersion", addon_u64(env, ev.peer_version));
    ev.type[sizeof ev.type - 1] = 0;
    napi_set_named_property(env, o, "type",
                            addon_str(env, (const uint8_t *)ev.type, strlen(ev.type)));
    return o;
}

CALL_GETTER(owned_event_fd, dd_owned_event_fd, int, addon_int)

/* Owned.nodeOf(nodeId): the id views use for a system's node id. */
static napi_value owned_node_of(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    const uint8_t *data;
    size_t len;
    char *scratch = NULL;
    if (argc < 1)
        return addon_type_error(env, "Owned.nodeOf(nodeId)");
    if (!addon_arg_bytes(env, argv[0], &data, &len, &scratch, "nodeId"))
        return NULL;
    uint64_t id = 0;
    int rc = dd_owned_node_of(&id, (const char *)data, len);
    free(scratch);
    return rc ? addon_fail(env, rc) : addon_u64(env, id);
}

#define M ADDON_METHOD

static const napi_property_descriptor OWNED_METHODS[] = {
    M("register", owned_register),
    M("publish", owned_publish),
    M("tick", owned_tick),
    M("deliver", owned_deliver),
    M("nextOutgoing", owned_next_outgoing),
    M("memberUp", owned_member_up),
    M("memberLeft", owned_member_left),
    M("query", owned_query),
    M("read", owned_read),
    M("nodes", owned_nodes),
    M("nextEvent", owned_next_event),
    M("eventFd", owned_event_fd),
    M("close", handle_close_method),
    ADDON_STATIC("nodeOf", owned_node_of),
};

bool addon_init_owned(napi_env env, napi_value exports)
{
    return ADDON_DEFINE_CLASS(env, exports, "Owned", owned_new, OWNED_METHODS);
}
