/*
 * The C runner of the owned-state conformance vectors
 * (the .json files in tests/conformance/owned/, format in the README there).
 *
 * Each case is a script of steps on a few nodes; the runner plays it
 * through the public ABI only, as the Python, Node and Rust runners do, and
 * carries messages between nodes itself (in order, nothing lost, unless a
 * step drops them). A failure names the file, the case and the step.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance_test.h"
#include "ddata.h"
#include "test.h"

#define MAX_NODES 8
#define MAX_STORES 8

typedef struct run {
    uint64_t ids[MAX_NODES];
    dd_owned *h[MAX_NODES];
    uint64_t last_request[MAX_NODES];
    char store_names[MAX_STORES][32];
    dd_state_store *stores[MAX_STORES];
    const cJSON *types; /* the case's type options */
    char failure[512];
} run;

/* Records why the case failed in r; -1. */
#define fail(r, ...) conf_fail((r)->failure, sizeof((r)->failure), __VA_ARGS__)

static uint64_t num(const cJSON *o, const char *k, uint64_t dflt)
{
    const cJSON *v = conf_get(o, k);
    return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *k, const char *dflt)
{
    const cJSON *v = conf_get(o, k);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* A JSON string (its UTF-8 bytes) or {"$bytes": base64}, into buf. */
static int bytes_of(run *r, const cJSON *v, uint8_t *buf, size_t cap, size_t *len)
{
    const char *err = conf_bytes(v, buf, cap, len);
    return err ? fail(r, "%s", err) : 0;
}

static int node_index(run *r, uint64_t id)
{
    for (int i = 0; i < MAX_NODES; i++)
        if (r->ids[i] == id)
            return i;
    for (int i = 0; i < MAX_NODES; i++)
        if (r->ids[i] == 0) {
            r->ids[i] = id;
            return i;
        }
    return -1;
}

static dd_state_store *store_named(run *r, const char *name)
{
    for (int i = 0; i < MAX_STORES; i++)
        if (r->stores[i] && strcmp(r->store_names[i], name) == 0)
            return r->stores[i];
    for (int i = 0; i < MAX_STORES; i++)
        if (!r->stores[i]) {
            dd_store_options o = DD_STORE_OPTIONS_INIT;
            if (dd_state_store_open(&r->stores[i], &o) != DD_OK)
                return NULL;
            snprintf(r->store_names[i], sizeof(r->store_names[i]), "%s", name);
            return r->stores[i];
        }
    return NULL;
}

static int enum_of(const char *name, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static const char *const STRATEGIES[] = {NULL, "active_push", "feed_lazy_pull",
                                         "feed_with_periodic_sync", "periodic_only"};
static const char *const POLICIES[] = {NULL, "keep_stale", "drop_and_wait"};
static const char *const URGENCIES[] = {"default", "immediate", "delayed", "suppressed"};
static const char *const EVENTS[] = {NULL,         "view_changed",     "view_removed",
                                     "query_done", "version_mismatch", "compact_wanted"};

static int register_types(run *r, dd_owned *h, const cJSON *types)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, types)
    {
        dd_owned_type_options o = DD_OWNED_TYPE_OPTIONS_INIT;
        int s = enum_of(str(t, "strategy", "active_push"), STRATEGIES, 5);
        int p = enum_of(str(t, "on_mismatch", "keep_stale"), POLICIES, 3);
        if (s < 0 || p < 0)
            return fail(r, "type %s: unknown strategy or policy", t->string);
        o.strategy = (uint32_t)s;
        o.on_mismatch = (uint32_t)p;
        o.wire_version = (uint32_t)num(t, "wire_version", o.wire_version);
        o.storage_version = (uint32_t)num(t, "storage_version", o.storage_version);
        o.compact_every = (uint32_t)num(t, "compact_every", o.compact_every);
        o.feed_interval_ms = num(t, "feed_interval_ms", o.feed_interval_ms);
        o.sync_interval_ms = num(t, "sync_interval_ms", o.sync_interval_ms);
        o.pull_retry_ms = num(t, "pull_retry_ms", o.pull_retry_ms);
        o.pull_timeout_ms = num(t, "pull_timeout_ms", o.pull_timeout_ms);
        int rc = dd_owned_register(h, t->string, &o);
        if (rc != DD_OK)
            return fail(r, "register %s: %s", t->string, dd_error_last()->message);
    }
    return 0;
}

/* Delivers every queued message, in order, until all nodes are quiet. */
static int pump(run *r)
{
    for (int round = 0; round < 100; round++) {
        int moved = 0;
        for (int i = 0; i < MAX_NODES; i++) {
            if (!r->h[i])
                continue;
            dd_buf msg = DD_BUF_INIT;
            uint64_t to;
            while (dd_owned_next_outgoing(&msg, &to, r->h[i]) == DD_OK) {
                int j = node_index(r, to);
                if (j >= 0 && r->h[j])
                    dd_owned_deliver(r->h[j], r->ids[i], msg.data, msg.len);
                dd_buf_free(&msg);
                moved++;
            }
        }
        if (!moved)
            return 0;
    }
    return fail(r, "pump: still sending after 100 rounds");
}

static int check_status(run *r, const cJSON *step, int rc)
{
    int want = conf_status_of_name(str(step, "expect_status", "DD_OK"));
    if (rc != want)
        return fail(r, "returned %s (%s), expected %s", dd_status_name(rc),
                    dd_error_last()->message, str(step, "expect_status", "DD_OK"));
    return 0;
}

static int check_view(run *r, const dd_owned_view *v, const cJSON *expect)
{
    uint8_t buf[1024];
    size_t len;
    const cJSON *e;
    if ((e = conf_get(expect, "incarnation")) && v->incarnation != (uint64_t)e->valuedouble)
        return fail(r, "incarnation %llu, expected %g", (unsigned long long)v->incarnation,
                    e->valuedouble);
    if ((e = conf_get(expect, "age")) && v->age != (uint64_t)e->valuedouble)
        return fail(r, "age %llu, expected %g", (unsigned long long)v->age, e->valuedouble);
    if ((e = conf_get(expect, "base_age")) && v->base_age != (uint64_t)e->valuedouble)
        return fail(r, "base_age %llu, expected %g", (unsigned long long)v->base_age,
                    e->valuedouble);
    if ((e = conf_get(expect, "version_mismatch")) && (v->version_mismatch != 0) != cJSON_IsTrue(e))
        return fail(r, "version_mismatch %u", v->version_mismatch);
    if ((e = conf_get(expect, "base"))) {
        if (bytes_of(r, e, buf, sizeof(buf), &len))
            return -1;
        if (len != v->base.len || memcmp(buf, v->base.data, len) != 0)
            return fail(r, "base differs (%zu bytes, expected %zu)", v->base.len, len);
    }
    if ((e = conf_get(expect, "deltas"))) {
        if ((size_t)cJSON_GetArraySize(e) != v->delta_count)
            return fail(r, "%zu deltas, expected %d", v->delta_count, cJSON_GetArraySize(e));
        for (size_t i = 0; i < v->delta_count; i++) {
            if (bytes_of(r, cJSON_GetArrayItem(e, (int)i), buf, sizeof(buf), &len))
                return -1;
            if (len != v->deltas[i].len || memcmp(buf, v->deltas[i].data, len) != 0)
                return fail(r, "delta %zu differs", i);
        }
    }
    return 0;
}

/* Drains events of node until one matches; false when none did. */
static int find_event(run *r, dd_owned *h, int idx, const cJSON *step, bool *found)
{
    int kind = enum_of(str(step, "kind", ""), EVENTS, 6);
    if (kind < 0)
        return fail(r, "unknown event kind %s", str(step, "kind", ""));
    dd_owned_event ev;
    *found = false;
    while (!*found && dd_owned_next_event(&ev, h) == DD_OK) {
        if ((int)ev.kind != kind)
            continue;
        if (conf_get(step, "of") && ev.node_id != num(step, "of", 0))
            continue;
        if (conf_get(step, "type") && strcmp(ev.type, str(step, "type", "")) != 0)
            continue;
        if (conf_get(step, "age") && ev.age != num(step, "age", 0))
            continue;
        if (conf_get(step, "incarnation") && ev.incarnation != num(step, "incarnation", 0))
            continue;
        if (conf_get(step, "peer_version") && ev.peer_version != num(step, "peer_version", 0))
            continue;
        if (kind == DD_OWNED_EV_QUERY_DONE) {
            if (ev.request_id != r->last_request[idx])
                continue;
            if (ev.status != conf_status_of_name(str(step, "status", "DD_OK")))
                return fail(r, "query finished with %s", dd_status_name(ev.status));
        }
        *found = true;
    }
    return 0;
}

static int do_step(void *ctx, const cJSON *step)
{
    run *r = ctx;
    const char *op = str(step, "op", "");
    int idx = node_index(r, num(step, "node", 0));
    dd_owned *h = idx >= 0 ? r->h[idx] : NULL;
    if (strcmp(op, "open") == 0) {
        dd_owned_options o = DD_OWNED_OPTIONS_INIT;
        o.node_id = num(step, "node", 0);
        o.incarnation = num(step, "incarnation", 1);
        if (conf_get(step, "store") && !(o.store = store_named(r, str(step, "store", ""))))
            return fail(r, "cannot open store");
        if (h)
            return fail(r, "node %llu is open", (unsigned long long)o.node_id);
        int rc = dd_owned_open(&r->h[idx], &o);
        if (rc != DD_OK)
            return fail(r, "open: %s", dd_error_last()->message);
        const cJSON *types = conf_get(step, "types") ? conf_get(step, "types") : r->types;
        return register_types(r, r->h[idx], types);
    }
    if (strcmp(op, "pump") == 0)
        return pump(r);
    if (!h && strcmp(op, "mesh") != 0)
        return fail(r, "node %llu is not open", (unsigned long long)num(step, "node", 0));
    if (strcmp(op, "close") == 0) {
        int rc = dd_owned_close(h);
        r->h[idx] = NULL;
        return rc == DD_OK ? 0 : fail(r, "close failed");
    }
    if (strcmp(op, "mesh") == 0) { /* every open node sees every other up */
        for (int i = 0; i < MAX_NODES; i++)
            for (int j = 0; j < MAX_NODES; j++)
                if (i != j && r->h[i] && r->h[j])
                    dd_owned_member_up(r->h[i], r->ids[j], num(step, "incarnation", 1));
        return 0;
    }
    if (strcmp(op, "member_up") == 0)
        return check_status(
            r, step, dd_owned_member_up(h, num(step, "peer", 0), num(step, "incarnation", 1)));
    if (strcmp(op, "member_left") == 0)
        return check_status(r, step, dd_owned_member_left(h, num(step, "peer", 0)));
    if (strcmp(op, "tick") == 0)
        return check_status(r, step, dd_owned_tick(h, num(step, "now_ms", 0)));
    if (strcmp(op, "drop") == 0) { /* the network loses node's queued messages */
        dd_buf msg = DD_BUF_INIT;
        uint64_t to;
        while (dd_owned_next_outgoing(&msg, &to, h) == DD_OK)
            dd_buf_free(&msg);
        return 0;
    }
    if (strcmp(op, "publish") == 0) {
        uint8_t buf[1024];
        size_t len = 0;
        if (bytes_of(r, conf_get(step, "data"), buf, sizeof(buf), &len))
            return -1;
        int u = enum_of(str(step, "urgency", "default"), URGENCIES, 4);
        uint64_t inc = 0, age = 0;
        int rc = dd_owned_publish(&inc, &age, h, str(step, "type", ""),
                                  cJSON_IsTrue(conf_get(step, "full")), buf, len,
                                  u < 0 ? 99u : (uint32_t)u, num(step, "delay_ms", 0));
        if (check_status(r, step, rc))
            return -1;
        const cJSON *e = conf_get(step, "expect");
        if (rc == DD_OK && e && (inc != num(e, "incarnation", inc) || age != num(e, "age", age)))
            return fail(r, "published (%llu, %llu)", (unsigned long long)inc,
                        (unsigned long long)age);
        return 0;
    }
    if (strcmp(op, "deliver") == 0) {
        const char *hex = str(step, "hex", "");
        size_t n = strlen(hex) / 2;
        uint8_t *b = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) {
            unsigned x;
            sscanf(hex + 2 * i, "%2x", &x);
            b[i] = (uint8_t)x;
        }
        int rc = dd_owned_deliver(h, num(step, "from", 0), b, n);
        free(b);
        return check_status(r, step, rc);
    }
    if (strcmp(op, "read") == 0) {
        dd_owned_view v;
        int rc = dd_owned_read(&v, h, str(step, "type", ""), num(step, "of", 0));
        if (check_status(r, step, rc))
            return -1;
        int bad = rc == DD_OK && conf_get(step, "expect")
                      ? check_view(r, &v, conf_get(step, "expect"))
                      : 0;
        dd_owned_view_free(&v);
        return bad;
    }
    if (strcmp(op, "query") == 0) {
        uint64_t req = 0;
        int rc = dd_owned_query(&req, h, str(step, "type", ""), num(step, "of", 0),
                                num(step, "max_staleness_ms", UINT64_MAX));
        if (check_status(r, step, rc))
            return -1;
        r->last_request[idx] = req;
        const cJSON *pending = conf_get(step, "pending");
        if (pending && (req != 0) != cJSON_IsTrue(pending))
            return fail(r, "query %s", req ? "is pending" : "was fresh");
        return 0;
    }
    if (strcmp(op, "expect_event") == 0 || strcmp(op, "expect_no_event") == 0) {
        bool found;
        if (find_event(r, h, idx, step, &found))
            return -1;
        bool want = strcmp(op, "expect_event") == 0;
        if (found != want)
            return fail(r, "event %s %s", str(step, "kind", ""), want ? "missing" : "present");
        return 0;
    }
    if (strcmp(op, "nodes") == 0) {
        uint64_t ids[MAX_NODES];
        size_t n = 0;
        dd_owned_nodes(ids, MAX_NODES, &n, h);
        const cJSON *e = conf_get(step, "expect");
        if ((size_t)cJSON_GetArraySize(e) != n)
            return fail(r, "%zu nodes, expected %d", n, cJSON_GetArraySize(e));
        for (size_t i = 0; i < n; i++)
            if (ids[i] != (uint64_t)cJSON_GetArrayItem(e, (int)i)->valuedouble)
                return fail(r, "node %zu is %llu", i, (unsigned long long)ids[i]);
        return 0;
    }
    return fail(r, "unknown op '%s'", op);
}

static void run_free(run *r)
{
    for (int i = 0; i < MAX_NODES; i++)
        dd_owned_close(r->h[i]);
    for (int i = 0; i < MAX_STORES; i++)
        dd_state_store_close(r->stores[i]);
}

/* One case: a fresh set of nodes plays the steps until one fails. */
static int play_case(const char *file, const char *name, const cJSON *c)
{
    run r;
    memset(&r, 0, sizeof(r));
    r.types = conf_get(c, "types");
    int failed = conf_play_steps("owned", file, name, c, do_step, &r, r.failure);
    run_free(&r);
    return failed;
}

TEST(test_owned_conformance_vectors_pass)
{
    expect_conformance_area_passes("owned", play_case);
}
