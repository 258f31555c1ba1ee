/*
 * dd_owned through the public header and libddata only: options, misuse
 * (NULL, closed and wrong-kind handles, garbage bytes), two engines pumped
 * by hand, events and their fd, and persistence through a dd_state_store.
 */
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>

#include "abi_stores.h"

static dd_owned *open_node(uint64_t id, uint64_t incarnation, dd_state_store *store)
{
    dd_owned_options o;
    ASSERT_OK(dd_owned_options_init(&o, DD_OWNED_OPTIONS_VERSION));
    o.node_id = id;
    o.incarnation = incarnation;
    o.store = store;
    dd_owned *h = NULL;
    ASSERT_OK(dd_owned_open(&h, &o));
    dd_owned_type_options t;
    ASSERT_OK(dd_owned_type_options_init(&t, DD_OWNED_TYPE_OPTIONS_VERSION));
    ASSERT_OK(dd_owned_register(h, "load", &t));
    return h;
}

/* Moves every queued message from a to b (and only those addressed to b). */
static int pump(dd_owned *a, uint64_t a_id, dd_owned *b, uint64_t b_id)
{
    dd_buf msg = DD_BUF_INIT;
    uint64_t to;
    int moved = 0;
    while (dd_owned_next_outgoing(&msg, &to, a) == DD_OK) {
        if (to == b_id) {
            ASSERT_OK(dd_owned_deliver(b, a_id, msg.data, msg.len));
            moved++;
        }
        dd_buf_free(&msg);
    }
    return moved;
}

TEST(test_owned_options_init_matches_the_macros)
{
    dd_owned_options a = DD_OWNED_OPTIONS_INIT, b;
    memset(&b, 0xff, sizeof(b));
    ASSERT_OK(dd_owned_options_init(&b, DD_OWNED_OPTIONS_VERSION));
    /* Field by field: the struct has padding after `version`. */
    ASSERT_EQ_INT(a.version, b.version);
    ASSERT_EQ_U64(a.node_id, b.node_id);
    ASSERT_EQ_U64(a.incarnation, b.incarnation);
    ASSERT(a.store == b.store && a.limits == b.limits);
    ASSERT_EQ_U64(a.max_queued, b.max_queued);
    dd_owned_type_options c = DD_OWNED_TYPE_OPTIONS_INIT, d;
    memset(&d, 0xff, sizeof(d));
    ASSERT_OK(dd_owned_type_options_init(&d, DD_OWNED_TYPE_OPTIONS_VERSION));
    ASSERT(memcmp(&c, &d, sizeof(c)) == 0);
    ASSERT_STATUS(dd_owned_options_init(&b, 99), DD_EINVAL);
    ASSERT_STATUS(dd_owned_type_options_init(NULL, DD_OWNED_TYPE_OPTIONS_VERSION), DD_EINVAL);
}

TEST(test_owned_survives_null_closed_and_garbage)
{
    dd_owned *h = NULL;
    ASSERT_STATUS(dd_owned_open(NULL, NULL), DD_EINVAL);
    ASSERT_STATUS(dd_owned_open(&h, NULL), DD_EINVAL);
    dd_owned_options o = DD_OWNED_OPTIONS_INIT;
    o.version = 7;
    ASSERT_STATUS(dd_owned_open(&h, &o), DD_EINVAL);
    o = (dd_owned_options)DD_OWNED_OPTIONS_INIT;
    o.incarnation = 0;
    ASSERT_STATUS(dd_owned_open(&h, &o), DD_EINVAL);
    ASSERT(dd_error_last()->message[0] != 0);
    o.store = (dd_state_store *)(uintptr_t)12345; /* forged */
    o.incarnation = 1;
    ASSERT_STATUS(dd_owned_open(&h, &o), DD_EMISUSE);

    h = open_node(1, 1, NULL);
    ASSERT_STATUS(dd_owned_register(h, "other", NULL), DD_EINVAL);
    ASSERT_STATUS(dd_owned_register(h, "", &(dd_owned_type_options)DD_OWNED_TYPE_OPTIONS_INIT),
                  DD_EINVAL);
    ASSERT_STATUS(dd_owned_register(h, "load", &(dd_owned_type_options)DD_OWNED_TYPE_OPTIONS_INIT),
                  DD_ECONFLICT);
    uint8_t junk[] = {1, 1, 200, 200, 200, 200, 200, 200};
    ASSERT_STATUS(dd_owned_deliver(h, 2, junk, sizeof(junk)), DD_ECORRUPT);
    ASSERT_STATUS(dd_owned_deliver(h, 2, NULL, 5), DD_EINVAL);
    ASSERT_STATUS(dd_owned_publish(NULL, NULL, h, NULL, 0, junk, 1, 0, 0), DD_EINVAL);
    ASSERT_STATUS(dd_owned_publish(NULL, NULL, h, "load", 0, junk, 1, 42, 0), DD_EINVAL);
    ASSERT_STATUS(dd_owned_publish(NULL, NULL, h, "other", 0, junk, 1, 0, 0), DD_ENOTFOUND);
    dd_owned_view v;
    ASSERT_STATUS(dd_owned_read(&v, h, "load", 2), DD_ENOTFOUND);
    ASSERT_STATUS(dd_owned_read(NULL, h, "load", 2), DD_EINVAL);
    uint64_t req;
    ASSERT_STATUS(dd_owned_query(&req, h, "load", 2, 0), DD_ENOTFOUND);
    dd_owned_event ev;
    ASSERT_STATUS(dd_owned_next_event(&ev, h), DD_EDONE);
    dd_buf msg = DD_BUF_INIT;
    uint64_t to;
    ASSERT_STATUS(dd_owned_next_outgoing(&msg, &to, h), DD_EDONE);

    ASSERT_OK(dd_owned_close(h));
    ASSERT_STATUS(dd_owned_close(h), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_tick(h, 1), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_deliver(h, 2, junk, sizeof(junk)), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_publish(NULL, NULL, h, "load", 0, junk, 1, 0, 0), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_member_up(NULL, 2, 1), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_member_left(h, 2), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_read(&v, h, "load", 1), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_next_event(&ev, h), DD_EMISUSE);
    int fd;
    ASSERT_STATUS(dd_owned_event_fd(&fd, h), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_register(h, "x", &(dd_owned_type_options)DD_OWNED_TYPE_OPTIONS_INIT),
                  DD_EMISUSE);
    ASSERT_STATUS(dd_owned_query(&req, h, "load", 2, 0), DD_EMISUSE);
    size_t count;
    ASSERT_STATUS(dd_owned_nodes(NULL, 0, &count, h), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_next_outgoing(&msg, &to, h), DD_EMISUSE);
    ASSERT_STATUS(dd_owned_nodes(NULL, 4, &count, h), DD_EINVAL);
    ASSERT_STATUS(dd_owned_query(NULL, h, "load", 2, 0), DD_EINVAL);
    ASSERT_OK(dd_owned_close(NULL));
    dd_owned_view_free(NULL);
    /* A handle of another kind is refused too. */
    dd_store_options so = DD_STORE_OPTIONS_INIT;
    dd_state_store *store = NULL;
    ASSERT_OK(dd_state_store_open(&store, &so));
    ASSERT_STATUS(dd_owned_tick((dd_owned *)store, 1), DD_EMISUSE);
    ASSERT_OK(dd_state_store_close(store));
}

TEST(test_owned_two_nodes_publish_and_read_through_the_abi)
{
    dd_owned *a = open_node(1, 1, NULL), *b = open_node(2, 1, NULL);
    ASSERT_OK(dd_owned_tick(a, 1000));
    ASSERT_OK(dd_owned_tick(b, 5000));
    ASSERT_OK(dd_owned_member_up(a, 2, 1));
    ASSERT_OK(dd_owned_member_up(b, 1, 1));
    int fd = -1;
    ASSERT_OK(dd_owned_event_fd(&fd, b));
    ASSERT(fd >= 0);
    struct pollfd p = {fd, POLLIN, 0};
    ASSERT_EQ_INT(poll(&p, 1, 0), 0);
    pump(a, 1, b, 2);
    pump(b, 2, a, 1);
    uint64_t inc = 0, age = 0;
    ASSERT_OK(dd_owned_publish(&inc, &age, a, "load", 1, (const uint8_t *)"base", 4,
                               DD_OWNED_URGENCY_DEFAULT, 0));
    ASSERT_EQ_U64(inc, 1);
    ASSERT_EQ_U64(age, 1);
    ASSERT_OK(dd_owned_publish(NULL, &age, a, "load", 0, (const uint8_t *)"+1", 2,
                               DD_OWNED_URGENCY_IMMEDIATE, 0));
    ASSERT_EQ_U64(age, 2);
    ASSERT(pump(a, 1, b, 2) >= 2);
    ASSERT_EQ_INT(poll(&p, 1, 0), 1);
    dd_owned_view v;
    ASSERT_OK(dd_owned_read(&v, b, "load", 1));
    ASSERT_EQ_U64(v.incarnation, 1);
    ASSERT_EQ_U64(v.age, 2);
    ASSERT_EQ_U64(v.base_age, 1);
    ASSERT_MEM_EQ(v.base.data, v.base.len, "base", 4);
    ASSERT_EQ_INT(v.delta_count, 1);
    ASSERT_MEM_EQ(v.deltas[0].data, v.deltas[0].len, "+1", 2);
    dd_owned_view_free(&v);
    dd_owned_view_free(&v); /* twice is harmless */
    dd_owned_event ev;
    int changed = 0;
    while (dd_owned_next_event(&ev, b) == DD_OK)
        if (ev.kind == DD_OWNED_EV_VIEW_CHANGED && ev.node_id == 1) {
            ASSERT_STR_EQ(ev.type, "load");
            changed++;
        }
    ASSERT(changed >= 1);
    ASSERT_EQ_INT(poll(&p, 1, 0), 0); /* drained: the fd is quiet */
    uint64_t req = 99;
    ASSERT_OK(dd_owned_query(&req, b, "load", 1, 60000));
    ASSERT_EQ_U64(req, 0);
    ASSERT_OK(dd_owned_tick(b, 100000));
    ASSERT_OK(dd_owned_query(&req, b, "load", 1, 10));
    ASSERT(req != 0);
    pump(b, 2, a, 1);
    pump(a, 1, b, 2);
    ASSERT_OK(dd_owned_next_event(&ev, b));
    ASSERT_EQ_INT(ev.kind, DD_OWNED_EV_QUERY_DONE);
    ASSERT_EQ_U64(ev.request_id, req);
    ASSERT_EQ_INT(ev.status, DD_OK);
    uint64_t nodes[4];
    size_t n = 0;
    ASSERT_OK(dd_owned_nodes(nodes, 4, &n, b));
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_U64(nodes[0], 1);
    ASSERT_OK(dd_owned_member_left(b, 1));
    ASSERT_STATUS(dd_owned_read(&v, b, "load", 1), DD_ENOTFOUND);
    ASSERT_OK(dd_owned_close(a));
    ASSERT_OK(dd_owned_close(b));
}

TEST(test_owned_restart_reloads_from_the_state_store)
{
    dd_store_options so;
    ASSERT_OK(dd_store_options_init(&so, DD_STORE_OPTIONS_VERSION));
    dd_state_store *store = NULL;
    ASSERT_OK(dd_state_store_open(&store, &so));
    dd_owned *a = open_node(1, 5, store);
    uint64_t inc, age;
    ASSERT_OK(dd_owned_publish(&inc, &age, a, "load", 1, (const uint8_t *)"v1", 2, 0, 0));
    ASSERT_OK(dd_owned_publish(&inc, &age, a, "load", 0, (const uint8_t *)"d2", 2, 0, 0));
    ASSERT_OK(dd_owned_close(a));
    /* The record is in the store under the library's namespace, dd/owned/load;
     * a store from before the namespace held it under owned/load: put it
     * back there to show such a store still loads (and is moved). */
    dd_buf rec = DD_BUF_INIT;
    uint64_t revision = 0;
    ASSERT_OK(dd_state_store_get(&rec, &revision, store, (const uint8_t *)"dd/owned/load", 13));
    ASSERT(rec.len > 0);
    ASSERT_OK(dd_state_store_upsert(&revision, store, (const uint8_t *)"owned/load", 10,
                                    DD_ANY_REVISION, rec.data, rec.len));
    ASSERT_OK(dd_state_store_delete(store, (const uint8_t *)"dd/owned/load", 13, DD_ANY_REVISION));
    dd_buf_free(&rec);
    /* Restarted with a new process incarnation: the loaded one is kept. */
    a = open_node(1, 9, store);
    dd_owned_view v;
    ASSERT_OK(dd_owned_read(&v, a, "load", 1));
    ASSERT_EQ_U64(v.incarnation, 5);
    ASSERT_EQ_U64(v.age, 2);
    ASSERT_MEM_EQ(v.deltas[0].data, v.deltas[0].len, "d2", 2);
    dd_owned_view_free(&v);
    ASSERT_STATUS(dd_state_store_get(&rec, &revision, store, (const uint8_t *)"owned/load", 10),
                  DD_ENOTFOUND);
    ASSERT_OK(dd_state_store_get(&rec, &revision, store, (const uint8_t *)"dd/owned/load", 13));
    dd_buf_free(&rec);
    /* The engine keeps the store alive after its handle closes. */
    ASSERT_OK(dd_state_store_close(store));
    ASSERT_OK(dd_owned_publish(&inc, &age, a, "load", 0, (const uint8_t *)"d3", 2, 0, 0));
    ASSERT_EQ_U64(age, 3);
    ASSERT_OK(dd_owned_close(a));
}

static void *publisher(void *arg)
{
    dd_owned *h = arg;
    for (int k = 0; k < 2000; k++)
        if (dd_owned_publish(NULL, NULL, h, "load", k % 100 == 0, (const uint8_t *)"d", 1, 0, 0) !=
            DD_OK)
            return (void *)1;
    return NULL;
}

TEST(test_owned_handle_may_be_shared_between_threads)
{
    dd_owned *a = open_node(1, 1, NULL), *b = open_node(2, 1, NULL);
    ASSERT_OK(dd_owned_member_up(a, 2, 1));
    ASSERT_OK(dd_owned_member_up(b, 1, 1));
    pthread_t t;
    ASSERT_EQ_INT(pthread_create(&t, NULL, publisher, a), 0);
    dd_owned_event ev;
    for (uint64_t now = 1; now < 3000; now++) {
        ASSERT_OK(dd_owned_tick(a, now));
        pump(a, 1, b, 2);
        pump(b, 2, a, 1);
        while (dd_owned_next_event(&ev, a) == DD_OK)
            ;
    }
    void *res;
    ASSERT_EQ_INT(pthread_join(t, &res), 0);
    ASSERT(res == NULL);
    pump(a, 1, b, 2);
    pump(b, 2, a, 1);
    pump(a, 1, b, 2);
    dd_owned_view v;
    ASSERT_OK(dd_owned_read(&v, b, "load", 1));
    ASSERT_EQ_U64(v.age, 2000);
    ASSERT_EQ_U64(v.base_age, 1901);
    ASSERT_EQ_INT(v.delta_count, 99);
    dd_owned_view_free(&v);
    ASSERT_OK(dd_owned_close(a));
    ASSERT_OK(dd_owned_close(b));
}

TEST(test_owned_instance_survives_a_restart_on_sqlite)
{
    char path[1024];
    dd_store_options so = sqlite_store_options(path, "owned.db");
    so.sync = DD_SYNC_FULL;
    dd_state_store *store = NULL;
    ASSERT_OK(dd_state_store_open(&store, &so));
    dd_owned *a = open_node(1, 11, store);
    ASSERT_OK(dd_owned_publish(NULL, NULL, a, "load", 1, (const uint8_t *)"shards:0-63", 11, 0, 0));
    ASSERT_OK(dd_owned_publish(NULL, NULL, a, "load", 0, (const uint8_t *)"+64", 3, 0, 0));
    ASSERT_OK(dd_owned_close(a));
    ASSERT_OK(dd_state_store_close(store));

    /* A new process: the store file is all that is left. */
    ASSERT_OK(dd_state_store_open(&store, &so));
    a = open_node(1, 12, store);
    dd_owned_view v;
    ASSERT_OK(dd_owned_read(&v, a, "load", 1));
    ASSERT_EQ_U64(v.incarnation, 11);
    ASSERT_EQ_U64(v.age, 2);
    ASSERT_MEM_EQ(v.base.data, v.base.len, "shards:0-63", 11);
    ASSERT_EQ_INT(v.delta_count, 1);
    dd_owned_view_free(&v);
    ASSERT_OK(dd_owned_close(a));
    ASSERT_OK(dd_state_store_close(store));
}
