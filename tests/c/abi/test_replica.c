/*
 * dd_system (pump mode) and dd_replica through the public header and
 * libddata.so only: two or three nodes in one process whose messages the
 * test carries by hand, as a host with its own transport would.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "ddata.h"
#include "test.h"

typedef struct node {
    dd_system *sys;
    dd_replica *rep;
    char id[16];
} node;

static uint64_t now_ms = 1700000000000ull;

static void node_open(node *n, const char *id, const char *seed, dd_state_store *store,
                      const char *const *durable, size_t ndurable)
{
    snprintf(n->id, sizeof(n->id), "%s", id);
    dd_system_options so;
    ASSERT_OK(dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION));
    so.node_id = id;
    so.seed = 42;
    const char *seeds[1] = {seed};
    so.seeds = seeds;
    so.seed_count = 1;
    ASSERT_OK(dd_system_open(&n->sys, &so));
    /* The test's clock is not the wall clock: give it before the replica
     * starts its timers. */
    ASSERT_OK(dd_system_tick(n->sys, now_ms));
    dd_replica_options ro;
    ASSERT_OK(dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION));
    ro.store = store;
    ro.durable_keys = durable;
    ro.durable_key_count = ndurable;
    ro.notify_interval_ms = 100;
    ASSERT_OK(dd_replica_open(&n->rep, n->sys, &ro));
}

static void node_close(node *n)
{
    ASSERT_OK(dd_replica_close(n->rep));
    ASSERT_OK(dd_system_close(n->sys));
}

/* Carries every queued message to its destination, then lets time pass. */
static void pump(node *nodes, size_t count, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        now_ms += 100;
        for (size_t i = 0; i < count; i++)
            ASSERT_OK(dd_system_tick(nodes[i].sys, now_ms));
        for (int moved = 1; moved;) {
            moved = 0;
            for (size_t i = 0; i < count; i++) {
                dd_buf to = DD_BUF_INIT, msg = DD_BUF_INIT;
                while (dd_system_next_outgoing(&msg, &to, nodes[i].sys) == DD_OK) {
                    moved = 1;
                    for (size_t j = 0; j < count; j++)
                        if (to.len == strlen(nodes[j].id) && !memcmp(to.data, nodes[j].id, to.len))
                            (void)dd_system_deliver(nodes[j].sys, now_ms, nodes[i].id,
                                                    strlen(nodes[i].id), msg.data, msg.len);
                    dd_buf_free(&to);
                    dd_buf_free(&msg);
                }
            }
        }
    }
}

static dd_op increment(uint64_t amount)
{
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = amount;
    return op;
}

static int64_t counter(dd_replica *r, const char *key)
{
    dd_crdt *v = NULL;
    int64_t out = -1;
    if (dd_replica_get(&v, r, (const uint8_t *)key, strlen(key)) == DD_OK)
        ASSERT_OK(dd_crdt_counter_value(&out, v));
    dd_crdt_free(v);
    return out;
}

#define K(s) (const uint8_t *)(s), strlen(s)

TEST(test_options_reject_unknown_versions_and_bad_values)
{
    dd_system_options so;
    ASSERT_STATUS(dd_system_options_init(&so, 99), DD_EINVAL);
    ASSERT_STATUS(dd_system_options_init(NULL, DD_SYSTEM_OPTIONS_VERSION), DD_EINVAL);
    ASSERT_OK(dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION));
    dd_system *sys = NULL;
    ASSERT_STATUS(dd_system_open(&sys, &so), DD_EINVAL); /* no node id */
    ASSERT(strstr(dd_error_last()->message, "node id"));
    ASSERT_STATUS(dd_system_open(&sys, NULL), DD_EINVAL);
    so.node_id = "a";
    so.transport = 77;
    ASSERT_STATUS(dd_system_open(&sys, &so), DD_EUNSUPPORTED);
    so.transport = DD_TRANSPORT_NONE;
    ASSERT_OK(dd_system_open(&sys, &so));
    dd_replica_options ro;
    ASSERT_STATUS(dd_replica_options_init(&ro, 0), DD_EINVAL);
    ASSERT_OK(dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION));
    ro.max_message_bytes = 10;
    dd_replica *r = NULL;
    ASSERT_STATUS(dd_replica_open(&r, sys, &ro), DD_EINVAL);
    ASSERT(r == NULL);
    ASSERT_OK(dd_system_close(sys));
}

TEST(test_update_get_to_json_keys_and_delete)
{
    node a;
    node_open(&a, "a", "a", NULL, NULL, 0);
    dd_op op = increment(3);
    ASSERT_OK(dd_replica_update(a.rep, K("hits"), DD_GCOUNTER, &op));
    ASSERT_OK(dd_replica_update(a.rep, K("hits"), DD_GCOUNTER, &op));
    ASSERT_EQ_INT(counter(a.rep, "hits"), 6);
    dd_buf json = DD_BUF_INIT;
    ASSERT_OK(dd_replica_to_json(&json, a.rep, K("hits")));
    ASSERT(json.len > 0 && strstr((const char *)json.data, "6"));
    dd_buf_free(&json);

    dd_op add = DD_OP_INIT;
    add.kind = DD_OP_ADD;
    add.value = (const uint8_t *)"x";
    add.value_len = 1;
    ASSERT_STATUS(dd_replica_update(a.rep, K("hits"), DD_ORSET, &add), DD_ETYPE);
    ASSERT_EQ_INT(counter(a.rep, "hits"), 6);
    ASSERT_OK(dd_replica_update(a.rep, K("tags"), DD_ORSET, &add));

    uint64_t n = 0;
    ASSERT_OK(dd_replica_key_count(&n, a.rep));
    ASSERT_EQ_U64(n, 2);
    uint64_t cursor = 0;
    dd_buf page = DD_BUF_INIT;
    size_t seen = 0;
    while (dd_replica_keys(&page, a.rep, &cursor, 1) == DD_OK) {
        ASSERT(page.len >= 4);
        seen++;
        dd_buf_free(&page);
    }
    ASSERT_EQ_INT(seen, 2);
    ASSERT_STATUS(dd_replica_keys(&page, a.rep, &cursor, 1), DD_EDONE);

    ASSERT_OK(dd_replica_delete(a.rep, K("hits")));
    ASSERT_OK(dd_replica_delete(a.rep, K("hits"))); /* again: still fine */
    dd_crdt *v = NULL;
    ASSERT_STATUS(dd_replica_get(&v, a.rep, K("hits")), DD_EDELETED);
    ASSERT_STATUS(dd_replica_update(a.rep, K("hits"), DD_GCOUNTER, &op), DD_EDELETED);
    ASSERT_STATUS(dd_replica_get(&v, a.rep, K("never")), DD_ENOTFOUND);
    ASSERT_OK(dd_replica_key_count(&n, a.rep));
    ASSERT_EQ_U64(n, 1);
    node_close(&a);
}

TEST(test_null_closed_and_garbage_inputs_are_refused_with_codes)
{
    node a;
    node_open(&a, "a", "a", NULL, NULL, 0);
    dd_op op = increment(1);
    ASSERT_OK(dd_replica_update(a.rep, K("k"), DD_GCOUNTER, &op));
    ASSERT_STATUS(dd_replica_update(NULL, K("k"), DD_GCOUNTER, &op), DD_EMISUSE);
    ASSERT_STATUS(dd_replica_update(a.rep, NULL, 0, DD_GCOUNTER, &op), DD_EINVAL);
    ASSERT_STATUS(dd_replica_update(a.rep, K("k"), DD_GCOUNTER, NULL), DD_EINVAL);
    ASSERT_STATUS(dd_replica_update(a.rep, K("k2"), 99, &op), DD_EINVAL);
    ASSERT_STATUS(dd_system_tick((dd_system *)(uintptr_t)0x12345, now_ms), DD_EMISUSE);
    ASSERT(strlen(dd_error_last()->message) > 0);

    /* Garbage from the network: an error, and nothing stored is lost. */
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    ASSERT_STATUS(dd_system_deliver(a.sys, now_ms, "b", 1, junk, sizeof(junk)), DD_ECORRUPT);
    junk[0] = 0xDD;
    junk[1] = 1;
    junk[2] = 5; /* a STATE message with a nonsense body */
    int rc = dd_system_deliver(a.sys, now_ms, "b", 1, junk, sizeof(junk));
    ASSERT(rc == DD_ECORRUPT || rc == DD_ELIMIT);
    ASSERT_STATUS(dd_system_deliver(a.sys, now_ms, NULL, 1, junk, 4), DD_EINVAL);
    ASSERT_EQ_INT(counter(a.rep, "k"), 1);

    dd_replica *closed = a.rep;
    ASSERT_OK(dd_replica_close(a.rep));
    ASSERT_STATUS(dd_replica_update(closed, K("k"), DD_GCOUNTER, &op), DD_EMISUSE);
    ASSERT_STATUS(dd_replica_close(closed), DD_EMISUSE);
    ASSERT_OK(dd_system_close(a.sys));
    ASSERT_STATUS(dd_system_close(a.sys), DD_EMISUSE);
    ASSERT_OK(dd_replica_close(NULL));
    ASSERT_OK(dd_system_close(NULL));
}

/* Pumped nodes "a", "b", "c"... (count of them), all seeded on "a", then
 * `rounds` rounds of the pump for them to meet (0: none). */
static void open_nodes(node *n, int count, int rounds)
{
    static const char *const ids[] = {"a", "b", "c"};
    for (int i = 0; i < count; i++)
        node_open(&n[i], ids[i], "a", NULL, NULL, 0);
    pump(n, (size_t)count, rounds);
}

TEST(test_two_pumped_nodes_converge_and_report_membership)
{
    node n[2];
    open_nodes(n, 2, 15);
    dd_op op = increment(2);
    ASSERT_OK(dd_replica_update(n[0].rep, K("c"), DD_GCOUNTER, &op));
    ASSERT_OK(dd_replica_update(n[1].rep, K("c"), DD_GCOUNTER, &op));
    pump(n, 2, 15);
    ASSERT_EQ_INT(counter(n[0].rep, "c"), 4);
    ASSERT_EQ_INT(counter(n[1].rep, "c"), 4);

    bool saw_b_up = false;
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, n[0].sys) == DD_OK)
        if (ev.kind == DD_EVENT_MEMBER && ev.member_id.len == 1 && ev.member_id.data[0] == 'b' &&
            ev.member_state == DD_MEMBER_UP)
            saw_b_up = true;
    dd_event_clear(&ev);
    ASSERT(saw_b_up);
    node_close(&n[0]);
    node_close(&n[1]);
}

/* b's count of undecodable messages, from dd_system_stats_json. */
static long long decode_errors(dd_system *sys)
{
    dd_buf js = DD_BUF_INIT;
    ASSERT_OK(dd_system_stats_json(&js, sys));
    const char *at = strstr((const char *)js.data, "\"decode_errors\":");
    long long n = at ? strtoll(at + strlen("\"decode_errors\":"), NULL, 10) : -1;
    dd_buf_free(&js);
    return n;
}

/* A node of a later release during a rolling upgrade: gossip in format
 * version 2 (byte 1 of every message) is refused by name, counted in
 * decode_errors and changes nothing; the same bytes in version 1 still
 * deliver (ABI.md, "Compatibility on disk and on the wire"). */
TEST(test_future_gossip_version_is_refused_and_counted)
{
    node n[2];
    open_nodes(n, 2, 15);
    dd_op op = increment(3);
    ASSERT_OK(dd_replica_update(n[0].rep, K("c"), DD_GCOUNTER, &op));
    now_ms += 100;
    ASSERT_OK(dd_system_tick(n[0].sys, now_ms));
    long long before = decode_errors(n[1].sys), refused = 0;
    dd_buf to = DD_BUF_INIT, held[64];
    while (refused < 64 && dd_system_next_outgoing(&held[refused], &to, n[0].sys) == DD_OK) {
        dd_buf *msg = &held[refused];
        if (to.len == 1 && to.data[0] == 'b') {
            msg->data[1] = 2;
            ASSERT_STATUS(dd_system_deliver(n[1].sys, now_ms, "a", 1, msg->data, msg->len),
                          DD_ECORRUPT);
            ASSERT(strstr(dd_error_last()->message, "version 2 is not supported") != NULL);
            msg->data[1] = 1;
            refused++;
        } else {
            dd_buf_free(msg);
        }
        dd_buf_free(&to);
    }
    ASSERT(refused > 0);
    ASSERT_EQ_INT(decode_errors(n[1].sys), before + refused);
    ASSERT(counter(n[1].rep, "c") != 3);
    for (long long i = 0; i < refused; i++) {
        ASSERT_OK(dd_system_deliver(n[1].sys, now_ms, "a", 1, held[i].data, held[i].len));
        dd_buf_free(&held[i]);
    }
    ASSERT_EQ_INT(counter(n[1].rep, "c"), 3);
    pump(n, 2, 15);
    ASSERT_EQ_INT(counter(n[1].rep, "c"), 3);
    node_close(&n[0]);
    node_close(&n[1]);
}

TEST(test_event_fd_is_readable_exactly_while_events_are_queued)
{
    node a;
    node_open(&a, "a", "a", NULL, NULL, 0);
    int fd = -1;
    ASSERT_OK(dd_system_event_fd(&fd, a.sys));
    ASSERT(fd >= 0);
    ASSERT_OK(dd_replica_subscribe(a.rep, K("user/"), 1));
    dd_op op = increment(1);
    ASSERT_OK(dd_replica_update(a.rep, K("user/1"), DD_GCOUNTER, &op));
    ASSERT_OK(dd_replica_update(a.rep, K("user/1"), DD_GCOUNTER, &op)); /* coalesced */
    ASSERT_OK(dd_replica_update(a.rep, K("other"), DD_GCOUNTER, &op));
    now_ms += 1000;
    ASSERT_OK(dd_system_tick(a.sys, now_ms));
    struct pollfd p = {fd, POLLIN, 0};
    ASSERT_EQ_INT(poll(&p, 1, 0), 1);
    int changed = 0;
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, a.sys) == DD_OK)
        if (ev.kind == DD_EVENT_CHANGED) {
            ASSERT_MEM_EQ(ev.key.data, ev.key.len, "user/1", 6);
            changed++;
        }
    dd_event_clear(&ev);
    ASSERT_EQ_INT(changed, 1);
    /* Log records (membership of this node) share the fd: drain them too. */
    dd_buf log = DD_BUF_INIT;
    while (dd_system_next_log(&log, a.sys) == DD_OK)
        dd_buf_free(&log);
    p.revents = 0;
    ASSERT_EQ_INT(poll(&p, 1, 0), 0);
    node_close(&a);
}

TEST(test_majority_write_completes_with_an_event_carrying_its_id)
{
    node n[3];
    open_nodes(n, 3, 20);
    dd_op op = increment(5);
    uint64_t id = 0;
    ASSERT_OK(dd_replica_write(&id, n[0].rep, K("w"), DD_GCOUNTER, &op, DD_CONSISTENCY_MAJORITY, 0,
                               5000));
    ASSERT(id != 0);
    pump(n, 3, 3);
    int done = 0;
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, n[0].sys) == DD_OK)
        if (ev.kind == DD_EVENT_REQUEST_DONE && ev.request_id == id) {
            ASSERT_STATUS(ev.status, DD_OK);
            done++;
        }
    dd_event_clear(&ev);
    ASSERT_EQ_INT(done, 1);
    ASSERT_STATUS(dd_replica_write(&id, n[0].rep, K("w"), DD_GCOUNTER, &op, 9, 0, 5000), DD_EINVAL);
    for (int i = 0; i < 3; i++)
        node_close(&n[i]);
}

TEST(test_durable_keys_come_back_when_the_replica_reopens)
{
    dd_store_options so;
    ASSERT_OK(dd_store_options_init(&so, DD_STORE_OPTIONS_VERSION));
    so.backend = DD_BACKEND_MEMORY;
    dd_state_store *store = NULL;
    ASSERT_OK(dd_state_store_open(&store, &so));
    const char *durable[] = {"cart/*", "config"};
    node a;
    node_open(&a, "a", "a", store, durable, 2);
    dd_op op = increment(7);
    ASSERT_OK(dd_replica_update(a.rep, K("cart/1"), DD_GCOUNTER, &op));
    ASSERT_OK(dd_replica_update(a.rep, K("config"), DD_GCOUNTER, &op));
    ASSERT_OK(dd_replica_update(a.rep, K("scratch"), DD_GCOUNTER, &op));
    ASSERT_OK(dd_state_store_close(store)); /* deferred: the replica holds it */
    node_close(&a);

    /* The store is gone now; use a fresh one to show the handle died. */
    ASSERT_STATUS(dd_state_store_close(store), DD_EMISUSE);
    ASSERT_OK(dd_state_store_open(&store, &so));
    node_open(&a, "a", "a", store, durable, 2);
    ASSERT_OK(dd_replica_update(a.rep, K("cart/1"), DD_GCOUNTER, &op));
    node_close(&a);
    node_open(&a, "a", "a", store, durable, 2);
    ASSERT_EQ_INT(counter(a.rep, "cart/1"), 7);
    ASSERT_EQ_INT(counter(a.rep, "scratch"), -1);
    node_close(&a);
    ASSERT_OK(dd_state_store_close(store));
}

TEST(test_second_replica_on_one_system_is_busy)
{
    node a;
    node_open(&a, "a", "a", NULL, NULL, 0);
    dd_replica_options ro = DD_REPLICA_OPTIONS_INIT;
    dd_replica *r2 = NULL;
    ASSERT_STATUS(dd_replica_open(&r2, a.sys, &ro), DD_EBUSY);
    node_close(&a);
}

TEST(test_every_replica_and_system_call_survives_null_and_closed_handles)
{
    node a;
    node_open(&a, "a", "a", NULL, NULL, 0);
    dd_replica *r = a.rep;
    dd_system *sys = a.sys;
    ASSERT_OK(dd_replica_close(r));
    ASSERT_OK(dd_system_close(sys));
    dd_op op = increment(1);
    dd_crdt *v = NULL;
    dd_buf b = DD_BUF_INIT;
    uint64_t u = 0, cursor = 0;
    int fd = 0;
    dd_event ev = DD_EVENT_INIT;
    dd_replica *handles[2] = {NULL, r};
    for (int i = 0; i < 2; i++) {
        dd_replica *h = handles[i];
        ASSERT_STATUS(dd_replica_update(h, K("k"), DD_GCOUNTER, &op), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_get(&v, h, K("k")), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_to_json(&b, h, K("k")), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_delete(h, K("k")), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_keys(&b, h, &cursor, 0), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_key_count(&u, h), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_subscribe(h, K("k"), 0), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_write(&u, h, K("k"), DD_GCOUNTER, &op, 0, 0, 10), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_read(&u, h, K("k"), 0, 0, 10), DD_EMISUSE);
        ASSERT_STATUS(dd_replica_flush(h), DD_EMISUSE);
        ASSERT(strlen(dd_error_last()->message) > 0);
    }
    dd_system *sys_handles[2] = {NULL, sys};
    for (int i = 0; i < 2; i++) {
        dd_system *h = sys_handles[i];
        ASSERT_STATUS(dd_system_tick(h, now_ms), DD_EMISUSE);
        ASSERT_STATUS(dd_system_deliver(h, now_ms, "b", 1, (const uint8_t *)"x", 1), DD_EMISUSE);
        dd_buf to = DD_BUF_INIT;
        ASSERT_STATUS(dd_system_next_outgoing(&b, &to, h), DD_EMISUSE);
        ASSERT_STATUS(dd_system_next_event(&ev, h), DD_EMISUSE);
        ASSERT_STATUS(dd_system_event_fd(&fd, h), DD_EMISUSE);
        ASSERT_STATUS(dd_system_incarnation(&u, h), DD_EMISUSE);
        dd_replica *out = NULL;
        dd_replica_options ro = DD_REPLICA_OPTIONS_INIT;
        ASSERT_STATUS(dd_replica_open(&out, h, &ro), DD_EMISUSE);
    }
    /* NULL out-parameters are argument errors, not crashes. */
    node_open(&a, "a", "a", NULL, NULL, 0);
    ASSERT_STATUS(dd_replica_get(NULL, a.rep, K("k")), DD_EINVAL);
    ASSERT_STATUS(dd_replica_to_json(NULL, a.rep, K("k")), DD_EINVAL);
    ASSERT_STATUS(dd_replica_keys(&b, a.rep, NULL, 0), DD_EINVAL);
    ASSERT_STATUS(dd_replica_key_count(NULL, a.rep), DD_EINVAL);
    ASSERT_STATUS(dd_replica_write(NULL, a.rep, K("k"), DD_GCOUNTER, &op, 0, 0, 10), DD_EINVAL);
    ASSERT_STATUS(dd_replica_read(NULL, a.rep, K("k"), 0, 0, 10), DD_EINVAL);
    ASSERT_STATUS(dd_replica_read(&u, a.rep, K("k"), 17, 0, 10), DD_EINVAL);
    ASSERT_STATUS(dd_replica_subscribe(a.rep, NULL, 3, 0), DD_EINVAL);
    ASSERT_STATUS(dd_system_next_outgoing(&b, NULL, a.sys), DD_EINVAL);
    ASSERT_STATUS(dd_system_next_event(NULL, a.sys), DD_EINVAL);
    dd_event bad = DD_EVENT_INIT;
    bad.version = 42;
    ASSERT_STATUS(dd_system_next_event(&bad, a.sys), DD_EINVAL);
    ASSERT_STATUS(dd_system_event_fd(NULL, a.sys), DD_EINVAL);
    ASSERT_STATUS(dd_replica_open(NULL, a.sys, NULL), DD_EINVAL);
    dd_event_clear(NULL);
    node_close(&a);
}

/* Issue 17.1: the host's clock may start anywhere, 0 included. A 3-node
 * cluster ticking 0, 100, 200, ... used to end at [6, 6, 3]: 0 read as
 * "use the wall clock", the replicas scheduled gossip in epoch time and
 * the small ticks never reached it. */
TEST(test_pump_cluster_ticking_from_zero_converges)
{
    now_ms = 0;
    node n[3];
    open_nodes(n, 3, 0);
    dd_op op = increment(2);
    for (int i = 0; i < 3; i++)
        ASSERT_OK(dd_replica_update(n[i].rep, K("hits"), DD_GCOUNTER, &op));
    pump(n, 3, 60);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ_INT(counter(n[i].rep, "hits"), 6);
    for (int i = 0; i < 3; i++)
        node_close(&n[i]);
    now_ms = 1700000000000ull;
}

/* A host clock stepping back is the host's bug: reported by name, never
 * absorbed (the node keeps its time). */
TEST(test_pump_time_going_backwards_is_refused)
{
    node a;
    node_open(&a, "a", "a", NULL, NULL, 0);
    ASSERT_OK(dd_system_tick(a.sys, now_ms + 500));
    ASSERT_STATUS(dd_system_tick(a.sys, now_ms + 499), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "backwards") != NULL);
    ASSERT_STATUS(dd_system_deliver(a.sys, now_ms, "b", 1, (const uint8_t *)"x", 1), DD_EINVAL);
    ASSERT_OK(dd_system_tick(a.sys, now_ms + 500));
    ASSERT_STATUS(dd_system_set_wall_clock(NULL, NULL, NULL), DD_EMISUSE);
    node_close(&a);
}

static uint64_t fixed_wall(void *ctx)
{
    return *(const uint64_t *)ctx;
}

static int register_is(dd_replica *r, const char *key, const char *want)
{
    dd_crdt *v = NULL;
    dd_buf b = DD_BUF_INIT;
    int same = dd_replica_get(&v, r, K(key)) == DD_OK && dd_crdt_register_get(&b, v) == DD_OK &&
               b.len == strlen(want) && !memcmp(b.data, want, b.len);
    dd_buf_free(&b);
    dd_crdt_free(v);
    return same;
}

/* LWW timestamps come from the wall clock, not from the pump's time: of
 * two concurrent writes the one later on the wall wins though its pump
 * time is earlier. */
TEST(test_lww_stamps_come_from_the_wall_clock_not_the_pump)
{
    node n[2];
    open_nodes(n, 2, 0);
    uint64_t wall_a = 5000, wall_b = 9000;
    ASSERT_OK(dd_system_set_wall_clock(n[0].sys, fixed_wall, &wall_a));
    ASSERT_OK(dd_system_set_wall_clock(n[1].sys, fixed_wall, &wall_b));
    pump(n, 2, 15);
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_ASSIGN;
    op.value = (const uint8_t *)"from-b";
    op.value_len = 6;
    ASSERT_OK(dd_replica_update(n[1].rep, K("r"), DD_LWWREGISTER, &op));
    /* a writes a second later on the pump's clock, before it hears of b's */
    now_ms += 1000;
    ASSERT_OK(dd_system_tick(n[0].sys, now_ms));
    ASSERT_OK(dd_system_tick(n[1].sys, now_ms));
    op.value = (const uint8_t *)"from-a";
    ASSERT_OK(dd_replica_update(n[0].rep, K("r"), DD_LWWREGISTER, &op));
    pump(n, 2, 15);
    ASSERT(register_is(n[0].rep, "r", "from-b"));
    ASSERT(register_is(n[1].rep, "r", "from-b"));
    ASSERT_OK(dd_system_set_wall_clock(n[0].sys, NULL, NULL));
    node_close(&n[0]);
    node_close(&n[1]);
}

/* Issue 17.11: the first node of a fresh cluster reports itself up, as a
 * node that joins (or restarts) does; it was missing from its own members. */
TEST(test_first_node_of_a_fresh_cluster_reports_itself_up)
{
    node a;
    node_open(&a, "a", "a", NULL, NULL, 0);
    bool saw_self_up = false;
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, a.sys) == DD_OK)
        if (ev.kind == DD_EVENT_MEMBER && ev.member_id.len == 1 && ev.member_id.data[0] == 'a' &&
            ev.member_state == DD_MEMBER_UP)
            saw_self_up = true;
    dd_event_clear(&ev);
    ASSERT(saw_self_up);
    node_close(&a);
}

/* Issue 17.11 in pump mode: dd_system_leave returns at once, the host
 * carries the announcement like any message, and within that one round
 * (well under a gossip interval, far under down_after_ms) the others see
 * the node removed, with no unreachable or down before it. */
static void member_events_about(dd_system *sys, const char *id, uint32_t *states, size_t *n)
{
    dd_event ev = DD_EVENT_INIT;
    while (dd_system_next_event(&ev, sys) == DD_OK)
        if (ev.kind == DD_EVENT_MEMBER && ev.member_id.len == strlen(id) &&
            !memcmp(ev.member_id.data, id, ev.member_id.len) && *n < 16)
            states[(*n)++] = ev.member_state;
    dd_event_clear(&ev);
}

TEST(test_pumped_node_that_leaves_is_removed_when_the_host_carries_the_announcement)
{
    node n[3];
    node_open(&n[0], "a", "a", NULL, NULL, 0);
    node_open(&n[1], "b", "a", NULL, NULL, 0);
    node_open(&n[2], "c", "a", NULL, NULL, 0);
    pump(n, 3, 40);
    uint32_t states[2][16];
    size_t count[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        member_events_about(n[i].sys, "c", states[i], &count[i]);
    ASSERT_OK(dd_system_leave(n[2].sys, 60000)); /* pump mode: does not wait */
    count[0] = count[1] = 0;
    pump(n, 3, 1);
    for (int i = 0; i < 2; i++) {
        member_events_about(n[i].sys, "c", states[i], &count[i]);
        ASSERT_EQ_U64(count[i], 1);
        ASSERT_EQ_INT(states[i][0], DD_MEMBER_REMOVED);
    }
    dd_op op = increment(1);
    ASSERT_STATUS(dd_replica_update(n[2].rep, K("x"), DD_GCOUNTER, &op), DD_EMISUSE);
    ASSERT_STATUS(dd_system_leave(n[2].sys, 0), DD_EMISUSE);
    pump(n, 3, 20);
    for (int i = 0; i < 2; i++) {
        member_events_about(n[i].sys, "c", states[i], &count[i]);
        ASSERT_EQ_U64(count[i], 1); /* nothing after the removal */
    }
    for (int i = 2; i >= 0; i--)
        node_close(&n[i]);
}
