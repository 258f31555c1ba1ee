/*
 * The C runner of the replicator conformance vectors (the .json files in
 * tests/conformance/replicator/, format in the README there): several
 * pump-mode nodes on one explicit clock, updates, consistency-level
 * requests, deletes, subscriptions, expiry and restarts, with messages
 * delivered, dropped or reordered exactly as the steps say. The pump makes
 * every step deterministic, so each expectation is exact. Played through
 * the public ABI only, as the Python, Node and Rust runners play the same
 * files through their bindings.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conformance_test.h"
#include "ddata.h"
#include "test.h"

#define MAX_NODES 8
#define MAX_HELD 1024
#define MAX_BYTES 4096

typedef struct node {
    char name[64];
    int index;
    dd_system *sys;
    dd_replica *rep;
    dd_state_store *store; /* kept across restarts */
    uint64_t incarnation;
} node;

typedef struct held {
    char from[64], to[64];
    dd_buf msg;
} held;

typedef struct run {
    const cJSON *c; /* the case */
    node nodes[MAX_NODES];
    int count;
    uint64_t now;
    held held[MAX_HELD];
    int nheld;
    char failure[512];
} run;

#define fail(r, ...) conf_fail((r)->failure, sizeof((r)->failure), __VA_ARGS__)

/* The two queue reads, in one place each (their signatures are the ones
 * an ABI change would touch). */
static int next_outgoing(dd_system *sys, dd_buf *to, dd_buf *msg)
{
    return dd_system_next_outgoing(msg, to, sys);
}

static int next_event(dd_system *sys, dd_event *ev)
{
    return dd_system_next_event(ev, sys);
}

/* The case's clock starts at the wall-clock time and then moves only as
 * the steps say. It is both the pump clock (ticks, deliveries) and, through
 * dd_system_set_wall_clock, the wall clock LWW stamps and expiry read, so a
 * case is the same whenever and however fast it runs. */
static uint64_t start_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t case_wall_clock(void *ctx)
{
    return ((const run *)ctx)->now;
}

static node *find(run *r, const cJSON *name)
{
    for (int i = 0; cJSON_IsString(name) && i < r->count; i++)
        if (strcmp(r->nodes[i].name, name->valuestring) == 0)
            return &r->nodes[i];
    return NULL;
}

static node *find_str(run *r, const char *name, size_t len)
{
    for (int i = 0; i < r->count; i++)
        if (strlen(r->nodes[i].name) == len && memcmp(r->nodes[i].name, name, len) == 0)
            return &r->nodes[i];
    return NULL;
}

static uint64_t num(const cJSON *o, const char *k, uint64_t dflt)
{
    const cJSON *v = conf_get(o, k);
    return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : dflt;
}

static int node_open(run *r, node *n)
{
    const cJSON *opt = conf_get(r->c, "replica");
    const char *seeds[1] = {r->nodes[0].name};
    dd_system_options so;
    dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION);
    so.node_id = n->name;
    so.incarnation = n->incarnation;
    so.seed = (uint64_t)n->index + 1;
    so.seeds = seeds;
    so.seed_count = 1;
    so.failure_timeout_ms =
        num(conf_get(r->c, "system"), "failure_timeout_ms", so.failure_timeout_ms);
    so.down_after_ms = num(conf_get(r->c, "system"), "down_after_ms", so.down_after_ms);
    int rc = dd_system_open(&n->sys, &so);
    if (rc)
        return fail(r, "open %s: %s", n->name, dd_error_last()->message);
    if ((rc = dd_system_set_wall_clock(n->sys, case_wall_clock, r)) != DD_OK)
        return fail(r, "wall clock of %s: %s", n->name, dd_error_last()->message);
    dd_replica_options ro;
    dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION);
    ro.gossip_interval_ms = num(opt, "gossip_interval_ms", ro.gossip_interval_ms);
    ro.gossip_fanout = (uint32_t)num(opt, "gossip_fanout", ro.gossip_fanout);
    ro.notify_interval_ms = num(opt, "notify_interval_ms", ro.notify_interval_ms);
    ro.tombstone_grace_ms = num(opt, "tombstone_grace_ms", ro.tombstone_grace_ms);
    ro.expire_after_ms = num(opt, "expire_after_ms", 0);
    const char *durable[8], *expiry[8];
    const cJSON *it;
    cJSON_ArrayForEach(it, conf_get(opt, "durable_keys"))
    {
        if (ro.durable_key_count < 8 && cJSON_IsString(it))
            durable[ro.durable_key_count++] = it->valuestring;
    }
    cJSON_ArrayForEach(it, conf_get(opt, "expiry_prefixes"))
    {
        if (ro.expiry_prefix_count < 8 && cJSON_IsString(it))
            expiry[ro.expiry_prefix_count++] = it->valuestring;
    }
    ro.durable_keys = durable;
    ro.expiry_prefixes = expiry;
    if (ro.durable_key_count) {
        if (!n->store) {
            dd_store_options st;
            dd_store_options_init(&st, DD_STORE_OPTIONS_VERSION);
            if (dd_state_store_open(&n->store, &st))
                return fail(r, "store for %s: %s", n->name, dd_error_last()->message);
        }
        ro.store = n->store;
    }
    if (dd_replica_open(&n->rep, n->sys, &ro))
        return fail(r, "replica %s: %s", n->name, dd_error_last()->message);
    return 0;
}

static void node_close(node *n)
{
    dd_replica_close(n->rep);
    dd_system_close(n->sys);
    n->rep = NULL;
    n->sys = NULL;
}

static bool is_cut(const cJSON *cut, const char *from, const char *to)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cut)
    {
        if (cJSON_IsString(it) &&
            (strcmp(it->valuestring, from) == 0 || strcmp(it->valuestring, to) == 0))
            return true;
    }
    return false;
}

/* Delivers every queued message, node by node in case order, each queue in
 * order, until all queues are empty; messages touching `cut` are lost. */
static int pump(run *r, const cJSON *cut)
{
    for (int round = 0; round < 1000; round++) {
        bool moved = false;
        for (int i = 0; i < r->count; i++) {
            node *n = &r->nodes[i];
            if (!n->sys)
                continue;
            dd_buf to = DD_BUF_INIT, msg = DD_BUF_INIT;
            int rc;
            while ((rc = next_outgoing(n->sys, &to, &msg)) == DD_OK) {
                node *dst = find_str(r, (const char *)to.data, to.len);
                moved = true;
                if (dst && dst->sys && !is_cut(cut, n->name, dst->name))
                    dd_system_deliver(dst->sys, r->now, n->name, strlen(n->name), msg.data,
                                      msg.len); /* a refused message is the network's loss */
                dd_buf_free(&to);
                dd_buf_free(&msg);
            }
            if (rc != DD_EDONE)
                return fail(r, "outgoing of %s: %s", n->name, dd_status_name(rc));
        }
        if (!moved)
            return 0;
    }
    return fail(r, "messages never stopped");
}

/* run {ms, step_ms, cut}: the clock advances by ms in steps; each step
 * ticks every open node, then pumps. */
static int step_run(run *r, const cJSON *s)
{
    uint64_t ms = num(s, "ms", 0), step = num(s, "step_ms", 100);
    const cJSON *cut = conf_get(s, "cut");
    for (uint64_t t = 0; t < ms; t += step) {
        r->now += step;
        for (int i = 0; i < r->count; i++)
            if (r->nodes[i].sys && dd_system_tick(r->nodes[i].sys, r->now))
                return fail(r, "tick %s: %s", r->nodes[i].name, dd_error_last()->message);
        if (pump(r, cut))
            return -1;
    }
    return 0;
}

static int step_hold(run *r, node *n)
{
    dd_buf to = DD_BUF_INIT, msg = DD_BUF_INIT;
    int rc;
    while ((rc = next_outgoing(n->sys, &to, &msg)) == DD_OK) {
        if (r->nheld == MAX_HELD)
            return fail(r, "too many held messages");
        held *h = &r->held[r->nheld++];
        snprintf(h->from, sizeof h->from, "%s", n->name);
        snprintf(h->to, sizeof h->to, "%.*s", (int)to.len, (const char *)to.data);
        h->msg = msg;
        msg = (dd_buf)DD_BUF_INIT;
        dd_buf_free(&to);
    }
    return rc == DD_EDONE ? 0 : fail(r, "outgoing: %s", dd_status_name(rc));
}

/* release {order}: delivers the held messages with these indexes, in this
 * order; the others are lost. */
static int step_release(run *r, const cJSON *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, conf_get(s, "order"))
    {
        int i = cJSON_IsNumber(it) ? it->valueint : -1;
        if (i < 0 || i >= r->nheld)
            return fail(r, "no held message %d (%d held)", i, r->nheld);
        held *h = &r->held[i];
        node *dst = find_str(r, h->to, strlen(h->to));
        if (dst && dst->sys)
            dd_system_deliver(dst->sys, r->now, h->from, strlen(h->from), h->msg.data, h->msg.len);
    }
    for (int i = 0; i < r->nheld; i++)
        dd_buf_free(&r->held[i].msg);
    r->nheld = 0;
    return 0;
}

typedef struct flat_op {
    dd_op op;
    uint8_t key[MAX_BYTES], value[MAX_BYTES];
} flat_op;

/* {kind, amount, key, value}: the flat ops of SCHEMA.md (no nesting). */
static int read_op(run *r, const cJSON *j, flat_op *f)
{
    static const char *const kinds[] = {"increment", "decrement", "add",   "remove",
                                        "clear",     "assign",    "enable"};
    const cJSON *kind = conf_get(j, "kind"), *v;
    dd_op_init(&f->op, DD_OP_VERSION);
    for (uint32_t k = 0; cJSON_IsString(kind) && k < 7; k++)
        if (strcmp(kinds[k], kind->valuestring) == 0)
            f->op.kind = k + 1;
    if (!f->op.kind)
        return fail(r, "op without a known kind");
    f->op.amount = num(j, "amount", 0);
    const char *err = NULL;
    if ((v = conf_get(j, "key")) && !(err = conf_bytes(v, f->key, MAX_BYTES, &f->op.key_len)))
        f->op.key = f->key;
    if (!err && (v = conf_get(j, "value")) &&
        !(err = conf_bytes(v, f->value, MAX_BYTES, &f->op.value_len)))
        f->op.value = f->value;
    return err ? fail(r, "%s", err) : 0;
}

static int consistency_of(const cJSON *s)
{
    static const char *const names[] = {"local", "from", "majority", "majority_plus", "all"};
    const cJSON *c = conf_get(s, "consistency");
    for (int i = 0; cJSON_IsString(c) && i < 5; i++)
        if (strcmp(names[i], c->valuestring) == 0)
            return i;
    return -1;
}

static const char *event_kind_name(uint32_t kind)
{
    switch (kind) {
    case DD_EVENT_CHANGED: return "changed";
    case DD_EVENT_DELETED: return "deleted";
    case DD_EVENT_EXPIRED: return "expired";
    case DD_EVENT_REQUEST_DONE: return "request_done";
    case DD_EVENT_OVERFLOW: return "overflow";
    default: return "member";
    }
}

/* expect_events {node, events}: every queued event but membership, in
 * order, matches `events` ({kind, key, status}; absent fields match all). */
static int step_expect_events(run *r, node *n, const cJSON *s)
{
    const cJSON *want = conf_get(s, "events");
    const cJSON *w = want ? want->child : NULL;
    dd_event ev;
    int rc, i = 0, out = 0;
    dd_event_init(&ev, DD_EVENT_VERSION);
    while (out == 0 && (rc = next_event(n->sys, &ev)) == DD_OK) {
        if (ev.kind != DD_EVENT_MEMBER) {
            const cJSON *k = conf_get(w, "kind"), *key = conf_get(w, "key"),
                        *st = conf_get(w, "status");
            uint8_t kb[MAX_BYTES];
            size_t kl = 0;
            if (!w)
                out = fail(r, "unexpected event %d: %s '%.*s'", i, event_kind_name(ev.kind),
                           (int)ev.key.len, (const char *)ev.key.data);
            else if (!cJSON_IsString(k) || strcmp(k->valuestring, event_kind_name(ev.kind)) != 0)
                out = fail(r, "event %d: %s, expected %s", i, event_kind_name(ev.kind),
                           cJSON_IsString(k) ? k->valuestring : "?");
            else if (key && (conf_bytes(key, kb, sizeof kb, &kl) || kl != ev.key.len ||
                             memcmp(kb, ev.key.data, kl) != 0))
                out =
                    fail(r, "event %d: key '%.*s'", i, (int)ev.key.len, (const char *)ev.key.data);
            else if (cJSON_IsString(st) && conf_status_of_name(st->valuestring) != ev.status)
                out = fail(r, "event %d: status %s", i, dd_status_name(ev.status));
            w = w ? w->next : NULL;
            i++;
        }
        dd_event_clear(&ev);
    }
    dd_event_clear(&ev);
    if (out == 0 && w)
        out = fail(r, "%d events, more expected", i);
    return out;
}

/* expect {node, key, value}: value as dd_crdt_value_json, null = absent,
 * "$deleted" = deleted. */
static int step_expect(run *r, node *n, const uint8_t *key, size_t klen, const cJSON *s)
{
    const cJSON *want = conf_get(s, "value");
    dd_crdt *v = NULL;
    int rc = dd_replica_get(&v, n->rep, key, klen);
    if (cJSON_IsNull(want))
        return rc == DD_ENOTFOUND ? 0 : fail(r, "%s has the key (%s)", n->name, dd_status_name(rc));
    if (cJSON_IsString(want) && strcmp(want->valuestring, "$deleted") == 0) {
        dd_crdt_free(v);
        return rc == DD_EDELETED ? 0
                                 : fail(r, "%s: %s, expected deleted", n->name, dd_status_name(rc));
    }
    if (rc)
        return fail(r, "%s: get: %s", n->name, dd_status_name(rc));
    dd_buf b = DD_BUF_INIT;
    cJSON *got = NULL;
    int out = 0;
    if (dd_crdt_value_json(&b, v) || !(got = cJSON_ParseWithLength((const char *)b.data, b.len)))
        out = fail(r, "value_json failed");
    else if (!cJSON_Compare(got, want, 1))
        out = fail(r, "%s: value %.*s", n->name, (int)b.len, (const char *)b.data);
    cJSON_Delete(got);
    dd_buf_free(&b);
    dd_crdt_free(v);
    return out;
}

static int step_expect_keys(run *r, node *n, const cJSON *s)
{
    dd_buf b = DD_BUF_INIT;
    uint64_t cursor = 0;
    const cJSON *w = conf_get(s, "keys") ? conf_get(s, "keys")->child : NULL;
    int rc, i = 0;
    while ((rc = dd_replica_keys(&b, n->rep, &cursor, 0)) == DD_OK) {
        for (size_t p = 0; p + 4 <= b.len;) {
            uint32_t len = (uint32_t)b.data[p] | (uint32_t)b.data[p + 1] << 8 |
                           (uint32_t)b.data[p + 2] << 16 | (uint32_t)b.data[p + 3] << 24;
            uint8_t kb[MAX_BYTES];
            size_t kl = 0;
            if (!w || conf_bytes(w, kb, sizeof kb, &kl) || kl != len ||
                memcmp(kb, b.data + p + 4, len) != 0) {
                dd_buf_free(&b);
                return fail(r, "%s: key %d is '%.*s'", n->name, i, (int)len,
                            (const char *)b.data + p + 4);
            }
            w = w->next;
            i++;
            p += 4 + len;
        }
        dd_buf_free(&b);
    }
    dd_buf_free(&b);
    if (rc != DD_EDONE)
        return fail(r, "keys: %s", dd_status_name(rc));
    return w ? fail(r, "%s: %d keys, more expected", n->name, i) : 0;
}

/* Runs one step; its status (compared with expect_status), or 1 when the
 * runner failed (r->failure set). */
static int call(void *ctx, const cJSON *s, const char *op)
{
    run *r = ctx;
    if (strcmp(op, "run") == 0)
        return step_run(r, s) ? 1 : 0;
    if (strcmp(op, "release") == 0)
        return step_release(r, s) ? 1 : 0;
    node *n = find(r, conf_get(s, "node"));
    if (!n) {
        fail(r, "no node named by the step");
        return 1;
    }
    if (strcmp(op, "restart") == 0) {
        node_close(n);
        n->incarnation++;
        return node_open(r, n) ? 1 : 0;
    }
    if (!n->sys) {
        fail(r, "node %s is closed", n->name);
        return 1;
    }
    if (strcmp(op, "hold") == 0)
        return step_hold(r, n) ? 1 : 0;
    if (strcmp(op, "expect_events") == 0)
        return step_expect_events(r, n, s) ? 1 : 0;
    if (strcmp(op, "expect_keys") == 0)
        return step_expect_keys(r, n, s) ? 1 : 0;
    uint8_t key[MAX_BYTES];
    size_t klen = 0;
    const char *err = conf_bytes(conf_get(s, "key"), key, sizeof key, &klen);
    if (err) {
        fail(r, "key: %s", err);
        return 1;
    }
    if (strcmp(op, "expect") == 0)
        return step_expect(r, n, key, klen, s) ? 1 : 0;
    if (strcmp(op, "delete") == 0)
        return dd_replica_delete(n->rep, key, klen);
    if (strcmp(op, "subscribe") == 0)
        return dd_replica_subscribe(n->rep, key, klen, cJSON_IsTrue(conf_get(s, "prefix")));
    if (strcmp(op, "read") == 0) {
        uint64_t rid = 0;
        return dd_replica_read(&rid, n->rep, key, klen, (uint32_t)consistency_of(s),
                               (uint32_t)num(s, "n", 0), num(s, "timeout_ms", 5000));
    }
    if (strcmp(op, "update") == 0 || strcmp(op, "write") == 0) {
        const cJSON *type = conf_get(s, "type");
        flat_op f;
        if (!cJSON_IsString(type) || conf_type_of_name(type->valuestring) < 0) {
            fail(r, "unknown type");
            return 1;
        }
        if (read_op(r, conf_get(s, "apply"), &f))
            return 1;
        if (op[0] == 'u')
            return dd_replica_update(n->rep, key, klen,
                                     (uint32_t)conf_type_of_name(type->valuestring), &f.op);
        uint64_t rid = 0;
        return dd_replica_write(
            &rid, n->rep, key, klen, (uint32_t)conf_type_of_name(type->valuestring), &f.op,
            (uint32_t)consistency_of(s), (uint32_t)num(s, "n", 0), num(s, "timeout_ms", 5000));
    }
    fail(r, "unknown op");
    return 1;
}

static int play_case(const char *file, const char *name, const cJSON *c)
{
    run *r = calloc(1, sizeof *r);
    if (!r)
        return 1;
    r->c = c;
    r->now = start_ms();
    bool failed = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, conf_get(c, "nodes"))
    {
        if (r->count == MAX_NODES || !cJSON_IsString(it))
            break;
        node *n = &r->nodes[r->count];
        snprintf(n->name, sizeof n->name, "%s", it->valuestring);
        n->index = r->count++;
        n->incarnation = 1;
    }
    for (int i = 0; i < r->count && !failed; i++)
        if (node_open(r, &r->nodes[i])) {
            fprintf(stderr, "  replicator/%s: %s: %s\n", file, name, r->failure);
            failed = true;
        }
    failed = failed || conf_play_status_steps("replicator", file, name, c, call, r, r->failure,
                                              sizeof(r->failure));
    for (int i = 0; i < r->nheld; i++)
        dd_buf_free(&r->held[i].msg);
    for (int i = 0; i < r->count; i++) {
        node_close(&r->nodes[i]);
        dd_state_store_close(r->nodes[i].store);
    }
    free(r);
    return failed;
}

TEST(test_replicator_conformance_vectors_pass)
{
    expect_conformance_area_passes("replicator", play_case);
}
