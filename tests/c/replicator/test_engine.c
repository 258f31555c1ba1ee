/*
 * The engine on its own and in pairs driven by hand: local operations,
 * hostile input (truncations and bit flips of real messages never crash
 * and never lose stored data), the message cap, subscriptions, expiry and
 * the event queue's cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replicator/engine.h"
#include "store/state_store.h"
#include "test.h"
#include "util/rng.h"
#include "util/status.h"

static engine *open_engine(const char *id, const char *seed, size_t max_message_bytes)
{
    engine_config c;
    engine_config_default(&c);
    c.node_id = id;
    c.incarnation = 1;
    const char *seeds[1] = {seed};
    c.seeds = seed ? seeds : NULL;
    c.seed_count = seed ? 1 : 0;
    if (max_message_bytes)
        c.max_message_bytes = max_message_bytes;
    engine *e = NULL;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    return e;
}

static int incr(engine *e, uint64_t now, const char *key, uint64_t amount)
{
    crdt_op op = {0};
    op.kind = CRDT_OP_INCREMENT;
    op.amount = amount;
    return engine_update(e, now, (const uint8_t *)key, strlen(key), CRDT_GCOUNTER, &op, NULL);
}

static int add(engine *e, uint64_t now, const char *key, const char *elem)
{
    crdt_op op = {0};
    op.kind = CRDT_OP_ADD;
    op.value = (const uint8_t *)elem;
    op.value_len = strlen(elem);
    return engine_update(e, now, (const uint8_t *)key, strlen(key), CRDT_ORSET, &op, NULL);
}

/* Moves every message between two engines; records them in `log` when given. */
typedef struct msglog {
    bytes msgs[256];
    size_t n;
    size_t max_len;
} msglog;

static void exchange(engine *a, const char *aid, engine *b, const char *bid, uint64_t now,
                     msglog *log)
{
    bytes to = BYTES_INIT, m = BYTES_INIT;
    for (int moved = 1; moved;) {
        moved = 0;
        while (engine_next_outgoing(a, &to, &m) == ST_OK) {
            moved = 1;
            if (log) {
                if (m.len > log->max_len)
                    log->max_len = m.len;
                if (log->n < 256) {
                    bytes_put(&log->msgs[log->n], m.data, m.len);
                    log->n++;
                }
            }
            (void)engine_deliver(b, now, aid, strlen(aid), m.data, m.len);
        }
        while (engine_next_outgoing(b, &to, &m) == ST_OK) {
            moved = 1;
            if (log && m.len > log->max_len)
                log->max_len = m.len;
            (void)engine_deliver(a, now, bid, strlen(bid), m.data, m.len);
        }
    }
    bytes_free(&to);
    bytes_free(&m);
}

static void run(engine *a, engine *b, uint64_t *now, int rounds, msglog *log)
{
    for (int i = 0; i < rounds; i++) {
        *now += 500;
        ASSERT_OK(engine_tick(a, *now));
        ASSERT_OK(engine_tick(b, *now));
        exchange(a, "a", b, "b", *now, log);
    }
}

static int64_t value_of(engine *e, const char *key)
{
    crdt *v = NULL;
    int64_t out = -1;
    bytes j = BYTES_INIT;
    if (engine_get(e, (const uint8_t *)key, strlen(key), &v) == ST_OK &&
        crdt_to_json(v, &j) == ST_OK) {
        bytes_put_u8(&j, 0);
        const char *p = (const char *)j.data;
        while ((p = strstr(p, "\"value\":")) != NULL) {
            p += 8;
            if (*p >= '0' && *p <= '9') {
                out = strtoll(p, NULL, 10);
                break;
            }
        }
    }
    bytes_free(&j);
    crdt_free(v);
    return out;
}

TEST(test_config_is_checked)
{
    engine_config c;
    engine_config_default(&c);
    engine *e = NULL;
    ASSERT_STATUS(engine_new(&e, &c, 0), ST_EINVAL); /* no node id */
    c.node_id = "a";
    c.max_message_bytes = 100;
    ASSERT_STATUS(engine_new(&e, &c, 0), ST_EINVAL);
    c.max_message_bytes = 4096;
    c.gossip_interval_ms = 0;
    ASSERT_STATUS(engine_new(&e, &c, 0), ST_EINVAL);
    ASSERT(e == NULL);
}

TEST(test_local_update_type_and_deleted_errors_change_nothing)
{
    engine *e = open_engine("a", NULL, 0);
    ASSERT_OK(incr(e, 1000000, "k", 2));
    ASSERT_STATUS(add(e, 1000000, "k", "x"), ST_ETYPE);
    ASSERT_EQ_INT(value_of(e, "k"), 2);
    crdt_op bad = {0};
    bad.kind = CRDT_OP_ASSIGN; /* not a counter op */
    ASSERT(engine_update(e, 1000000, (const uint8_t *)"k", 1, CRDT_GCOUNTER, &bad, NULL) != ST_OK);
    ASSERT_EQ_INT(value_of(e, "k"), 2);
    ASSERT_OK(engine_delete(e, 1000000, (const uint8_t *)"k", 1));
    ASSERT_STATUS(incr(e, 1000000, "k", 1), ST_EDELETED);
    ASSERT_STATUS(engine_update(e, 1000000, NULL, 0, CRDT_GCOUNTER, &bad, NULL), ST_EINVAL);
    ASSERT_EQ_U64(engine_key_count(e), 0);
    engine_free(e);
}

static void msglog_free(msglog *log)
{
    for (size_t i = 0; i < log->n; i++)
        bytes_free(&log->msgs[i]);
}

TEST(test_truncated_and_flipped_messages_never_lose_stored_data)
{
    uint64_t now = 1000000;
    engine *a = open_engine("a", "a", 1024);
    engine *b = open_engine("b", "a", 1024);
    msglog log;
    memset(&log, 0, sizeof(log));
    run(a, b, &now, 4, NULL);
    ASSERT_OK(incr(a, now, "count", 5));
    ASSERT_OK(add(a, now, "set", "x"));
    ASSERT_OK(engine_delete(a, now, (const uint8_t *)"gone", 4));
    run(a, b, &now, 6, &log);
    ASSERT(log.n > 5);
    ASSERT_EQ_INT(value_of(b, "count"), 5);

    rng r;
    rng_seed(&r, test_seed());
    unsigned cases = test_cases(3000);
    for (unsigned i = 0; i < cases; i++) {
        bytes *m = &log.msgs[rng_below(&r, log.n)];
        bytes mut = BYTES_INIT;
        bytes_put(&mut, m->data, m->len);
        if (rng_chance(&r, 1, 2)) {
            mut.len = (size_t)rng_below(&r, mut.len + 1);
        } else {
            for (int f = 0; f < 3; f++)
                mut.data[rng_below(&r, mut.len)] ^= (uint8_t)(1u << rng_below(&r, 8));
        }
        (void)engine_deliver(b, now, "a", 1, mut.data, mut.len);
        bytes_free(&mut);
        /* A flipped byte may be a valid but different value that merges
         * in; it can only grow a counter, never lose what b holds. */
        ASSERT(value_of(b, "count") >= 5);
        crdt *v = NULL;
        ASSERT_STATUS(engine_get(b, (const uint8_t *)"gone", 4, &v), ST_EDELETED);
    }
    msglog_free(&log);
    engine_free(a);
    engine_free(b);
}

TEST(test_no_message_exceeds_the_cap_even_for_a_huge_value)
{
    uint64_t now = 1000000;
    engine *a = open_engine("a", "a", 1024);
    engine *b = open_engine("b", "a", 1024);
    run(a, b, &now, 4, NULL);
    char elem[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(elem, sizeof(elem), "element-%05d", i);
        ASSERT_OK(add(a, now, "big", elem));
    }
    for (int i = 0; i < 300; i++) {
        snprintf(elem, sizeof(elem), "key-%d", i);
        ASSERT_OK(incr(a, now, elem, 1));
    }
    msglog log;
    memset(&log, 0, sizeof(log));
    /* b restarts empty: the big set must travel as full state. */
    engine_free(b);
    b = open_engine("b", "a", 1024);
    run(a, b, &now, 20, &log);
    ASSERT_MSG(log.max_len <= 1024, "a message of %zu bytes", log.max_len);
    crdt *va = NULL, *vb = NULL;
    ASSERT_OK(engine_get(a, (const uint8_t *)"big", 3, &va));
    ASSERT_OK(engine_get(b, (const uint8_t *)"big", 3, &vb));
    ASSERT(crdt_equal(va, vb));
    ASSERT_EQ_U64(engine_key_count(b), 301);
    crdt_free(va);
    crdt_free(vb);
    msglog_free(&log);
    engine_free(a);
    engine_free(b);
}

TEST(test_prefix_subscription_coalesces_and_covers_later_keys)
{
    engine *e = open_engine("a", NULL, 0);
    ASSERT_OK(engine_subscribe(e, (const uint8_t *)"cart/", 5, true));
    ASSERT_OK(engine_subscribe(e, (const uint8_t *)"exact", 5, false));
    ASSERT_OK(incr(e, 1000000, "cart/1", 1));
    ASSERT_OK(incr(e, 1000000, "cart/1", 1));
    ASSERT_OK(incr(e, 1000000, "cart/2", 1));
    ASSERT_OK(incr(e, 1000000, "other", 1));
    ASSERT_OK(incr(e, 1000000, "exact", 1));
    ASSERT_OK(engine_delete(e, 1000000, (const uint8_t *)"cart/2", 6));
    ASSERT_OK(engine_tick(e, 1001000));
    int changed = 0, deleted = 0;
    engine_event ev;
    while (engine_next_event(e, &ev) == ST_OK) {
        if (ev.kind == ENGINE_EV_CHANGED)
            changed++;
        if (ev.kind == ENGINE_EV_DELETED) {
            ASSERT_MEM_EQ(ev.key, ev.key_len, "cart/2", 6);
            deleted++;
        }
        ASSERT(ev.kind != ENGINE_EV_CHANGED || ev.key_len != 5 || memcmp(ev.key, "other", 5));
        engine_event_clear(&ev);
    }
    ASSERT_EQ_INT(changed, 2); /* cart/1 once, exact once */
    ASSERT_EQ_INT(deleted, 1);
    engine_free(e);
}

TEST(test_keys_under_an_expiry_prefix_expire_when_idle)
{
    static const engine_pattern expiry[] = {{(const uint8_t *)"session/", 8, true}};
    engine_config c;
    engine_config_default(&c);
    c.node_id = "a";
    c.expiry = expiry;
    c.expiry_count = 1;
    c.expire_after_ms = 10000;
    engine *e;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    ASSERT_OK(engine_subscribe(e, (const uint8_t *)"session/", 8, true));
    ASSERT_OK(incr(e, 1000000, "session/1", 1));
    ASSERT_OK(incr(e, 1000000, "session/2", 1));
    ASSERT_OK(incr(e, 1000000, "keep", 1));
    ASSERT_OK(engine_tick(e, 1006000));
    ASSERT_OK(incr(e, 1006000, "session/2", 1)); /* activity resets the clock */
    ASSERT_OK(engine_tick(e, 1012000));
    ASSERT_EQ_INT(value_of(e, "session/1"), -1);
    ASSERT_EQ_INT(value_of(e, "session/2"), 2);
    ASSERT_EQ_INT(value_of(e, "keep"), 1);
    int expired = 0;
    engine_event ev;
    while (engine_next_event(e, &ev) == ST_OK) {
        expired += ev.kind == ENGINE_EV_EXPIRED;
        engine_event_clear(&ev);
    }
    ASSERT_EQ_INT(expired, 1);
    /* Expired, not deleted: the key may be used again. */
    ASSERT_OK(incr(e, 1012000, "session/1", 1));
    engine_free(e);
}

TEST(test_event_queue_is_capped_and_reports_the_overflow)
{
    engine_config c;
    engine_config_default(&c);
    c.node_id = "a";
    c.max_events = 3;
    engine *e;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    engine_event ev;
    ASSERT_OK(engine_next_event(e, &ev)); /* the node's own MEMBER up */
    ASSERT_EQ_INT(ev.kind, ENGINE_EV_MEMBER);
    engine_event_clear(&ev);
    ASSERT_OK(engine_subscribe(e, (const uint8_t *)"", 0, true));
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ASSERT_OK(incr(e, 1000000, key, 1));
    }
    ASSERT_OK(engine_tick(e, 1001000));
    int n = 0;
    uint64_t dropped = 0;
    while (engine_next_event(e, &ev) == ST_OK) {
        n++;
        if (ev.kind == ENGINE_EV_OVERFLOW)
            dropped = ev.dropped;
        engine_event_clear(&ev);
    }
    ASSERT_EQ_INT(n, 4);
    ASSERT_EQ_U64(dropped, 7);
    engine_free(e);
}

/* Node "a" keeping every key durable in st (or, with no patterns, only
 * reading st). */
static engine_config durable_config(state_store *st, bool durable)
{
    static const engine_pattern all[] = {{(const uint8_t *)"", 0, true}};
    engine_config c;
    engine_config_default(&c);
    c.node_id = "a";
    c.store = st;
    c.durable = durable ? all : NULL;
    c.durable_count = durable ? 1 : 0;
    return c;
}

/* The node of c started again as incarnation 2: it reads `key` as want. */
static engine *restart_reading(engine_config *c, const char *key, int64_t want)
{
    engine *e = NULL;
    c->incarnation = 2;
    ASSERT_OK(engine_new(&e, c, 1000000));
    ASSERT_EQ_INT(value_of(e, key), want);
    return e;
}

/* Whether st holds a record under key: ST_OK or ST_ENOTFOUND. */
static int record_in(state_store *st, const char *key)
{
    bytes rec = BYTES_INIT;
    uint64_t rev;
    int rc = state_store_get(st, (const uint8_t *)key, strlen(key), &rev, &rec);
    bytes_free(&rec);
    return rc;
}

/* A memory store holding one record: key = data (len bytes). */
static state_store *store_holding(const char *key, const char *data, size_t len)
{
    state_store *st;
    ASSERT_OK(state_store_open_memory(&st));
    ASSERT_OK(state_store_upsert(st, (const uint8_t *)key, strlen(key), 0, (const uint8_t *)data,
                                 len, NULL));
    return st;
}

TEST(test_durable_write_behind_flushes_on_close)
{
    state_store *st;
    ASSERT_OK(state_store_open_memory(&st));
    engine_config c = durable_config(st, true);
    c.write_behind = true;
    c.write_behind_interval_ms = 60000;
    engine *e;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    ASSERT_OK(incr(e, 1000000, "k", 4));
    ASSERT_STATUS(record_in(st, "dd/replica/k"), ST_ENOTFOUND);
    engine_free(e);
    ASSERT_OK(record_in(st, "dd/replica/k"));
    engine_free(restart_reading(&c, "k", 4));
    state_store_close(st);
}

TEST(test_corrupt_durable_record_fails_the_open_loudly)
{
    state_store *st = store_holding("dd/replica/bad", "\x01\x00\x01", 3);
    engine_config c = durable_config(st, false);
    engine *e = NULL;
    ASSERT_STATUS(engine_new(&e, &c, 1000000), ST_ECORRUPT);
    ASSERT(e == NULL);
    state_store_close(st);
}

/* Issue 17.2: the replica owns only its prefix; an application's record
 * (or owned state's) in the same store used to fail the open with
 * ST_ECORRUPT. */
TEST(test_records_outside_the_prefix_are_not_the_replicas)
{
    state_store *st = store_holding("app/user/1", "{\"name\":\"x\"}", 12);
    ASSERT_OK(state_store_upsert(st, (const uint8_t *)"dd/owned/load", 13, 0,
                                 (const uint8_t *)"\x01\x00\x01", 3, NULL));
    engine_config c = durable_config(st, true);
    engine *e = NULL;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    ASSERT_OK(incr(e, 1000000, "hits", 3));
    engine_free(e);
    /* The application's record is untouched, the replica's is prefixed. */
    bytes rec = BYTES_INIT;
    uint64_t rev;
    ASSERT_OK(state_store_get(st, (const uint8_t *)"app/user/1", 10, &rev, &rec));
    ASSERT_EQ_INT(rec.len, 12);
    bytes_free(&rec);
    ASSERT_OK(record_in(st, "dd/replica/hits"));
    e = restart_reading(&c, "hits", 3);
    ASSERT(value_of(e, "app/user/1") < 0);
    engine_free(e);
    state_store_close(st);
}

/* A store written before the prefix existed (bare durable keys) still
 * loads: its records are moved under the prefix at open. */
TEST(test_bare_durable_records_of_an_older_store_move_under_the_prefix)
{
    state_store *st;
    ASSERT_OK(state_store_open_memory(&st));
    engine_config c = durable_config(st, true);
    c.durable_prefix = (const uint8_t *)"";
    c.durable_prefix_len = 0; /* writes as the code before the prefix did */
    engine *e = NULL;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    ASSERT_OK(incr(e, 1000000, "hits", 5));
    engine_free(e);
    c.durable_prefix = NULL;
    engine_free(restart_reading(&c, "hits", 5));
    ASSERT_STATUS(record_in(st, "hits"), ST_ENOTFOUND);
    ASSERT_OK(record_in(st, "dd/replica/hits"));
    state_store_close(st);
}

static void frag(bytes *b, uint64_t id, uint64_t index, uint64_t count, const uint8_t *piece,
                 size_t n)
{
    bytes_reset(b);
    bytes_put_u8(b, 0xDD);
    bytes_put_u8(b, 1);
    bytes_put_u8(b, 12); /* FRAG */
    bytes_put_varint(b, 1);
    bytes_put_varint(b, id);
    bytes_put_varint(b, index);
    bytes_put_varint(b, count);
    bytes_put_blob(b, piece, n);
}

TEST(test_pieces_reassemble_in_any_order_within_limits)
{
    engine_config c;
    engine_config_default(&c);
    c.node_id = "a";
    c.lim.max_bytes = 4096;
    engine *e;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    /* A WRITE_ACK (0xDD 1 9 inc req) in two pieces, last piece first. */
    static const uint8_t ack[] = {0xDD, 1, 9, 1, 5};
    bytes b = BYTES_INIT;
    frag(&b, 7, 1, 2, ack + 3, 2);
    ASSERT_OK(engine_deliver(e, 1000000, "b", 1, b.data, b.len));
    frag(&b, 7, 0, 2, ack, 3);
    ASSERT_OK(engine_deliver(e, 1000000, "b", 1, b.data, b.len));
    /* A message whose pieces add up to more than max_bytes is refused. */
    static uint8_t big[2000];
    memset(big, 0xAB, sizeof(big));
    frag(&b, 8, 0, 3, big, sizeof(big));
    ASSERT_OK(engine_deliver(e, 1000000, "b", 1, b.data, b.len));
    frag(&b, 8, 1, 3, big, sizeof(big));
    ASSERT_OK(engine_deliver(e, 1000000, "b", 1, b.data, b.len));
    frag(&b, 8, 2, 3, big, sizeof(big));
    ASSERT_STATUS(engine_deliver(e, 1000000, "b", 1, b.data, b.len), ST_ELIMIT);
    /* Pieces inside pieces, a zero count and an index past the count are
     * malformed. */
    frag(&b, 9, 3, 2, big, 10);
    ASSERT_STATUS(engine_deliver(e, 1000000, "b", 1, b.data, b.len), ST_ECORRUPT);
    frag(&b, 9, 0, 0, big, 10);
    ASSERT_STATUS(engine_deliver(e, 1000000, "b", 1, b.data, b.len), ST_ECORRUPT);
    /* At most 16 messages in reassembly per engine. */
    int limited = 0;
    for (uint64_t id = 100; id < 120; id++) {
        frag(&b, id, 0, 2, big, 10);
        limited += engine_deliver(e, 1000000, "b", 1, b.data, b.len) == ST_ELIMIT;
    }
    ASSERT(limited >= 4);
    bytes_free(&b);
    engine_free(e);
}

TEST(test_stale_incarnation_does_not_replace_the_newer_member)
{
    engine *e = open_engine("a", NULL, 0);
    uint8_t join_new[] = {0xDD, 1, 1, 7}; /* JOIN from b, incarnation 7 */
    uint8_t join_old[] = {0xDD, 1, 1, 3}; /* a ghost: b's former self */
    ASSERT_OK(engine_deliver(e, 1000000, "b", 1, join_new, sizeof(join_new)));
    ASSERT_OK(engine_deliver(e, 1000100, "b", 1, join_old, sizeof(join_old)));
    engine_member_state st;
    ASSERT_OK(engine_member_state_of(e, "b", &st));
    ASSERT_EQ_INT(st, MEMBER_UP);
    uint64_t last_inc = 0;
    engine_event ev;
    while (engine_next_event(e, &ev) == ST_OK) {
        if (ev.kind == ENGINE_EV_MEMBER && strcmp(ev.member_id, "b") == 0)
            last_inc = ev.member_incarnation;
        engine_event_clear(&ev);
    }
    ASSERT_EQ_U64(last_inc, 7);
    /* A newer incarnation does replace it. */
    uint8_t join_newer[] = {0xDD, 1, 1, 9};
    ASSERT_OK(engine_deliver(e, 1000200, "b", 1, join_newer, sizeof(join_newer)));
    while (engine_next_event(e, &ev) == ST_OK) {
        if (ev.kind == ENGINE_EV_MEMBER && strcmp(ev.member_id, "b") == 0)
            last_inc = ev.member_incarnation;
        engine_event_clear(&ev);
    }
    ASSERT_EQ_U64(last_inc, 9);
    engine_free(e);
}

TEST(test_node_told_it_is_down_refutes_with_a_new_incarnation)
{
    engine *e = open_engine("a", NULL, 0);
    uint64_t before = engine_incarnation(e), actor = engine_actor(e);
    bytes b = BYTES_INIT;
    bytes_put_u8(&b, 0xDD);
    bytes_put_u8(&b, 1);
    bytes_put_u8(&b, 2); /* GOSSIP */
    bytes_put_varint(&b, 1);
    bytes_put_varint(&b, 1); /* one member: a, same incarnation, down */
    bytes_put_blob(&b, "a", 1);
    bytes_put_varint(&b, before);
    bytes_put_u8(&b, MEMBER_DOWN);
    bytes_put_varint(&b, 5);
    bytes_put_u8(&b, 0); /* no status */
    ASSERT_OK(engine_deliver(e, 1000000, "b", 1, b.data, b.len));
    ASSERT(engine_incarnation(e) > before);
    ASSERT(engine_actor(e) != actor);
    bytes_free(&b);
    engine_free(e);
}

static void put_u64_le(bytes *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        bytes_put_u8(b, (uint8_t)(v >> (8 * i)));
}

/* PRUNE init from `from` (header: magic, version 1, type 13, incarnation 1). */
static void prune_init(bytes *b, uint64_t survivor, const uint64_t *actors, uint8_t n)
{
    const uint8_t head[] = {0xDD, 1, 13, 1, 1};
    bytes_put(b, head, sizeof(head));
    put_u64_le(b, survivor);
    bytes_put_u8(b, n);
    for (uint8_t i = 0; i < n; i++)
        put_u64_le(b, actors[i]);
}

/* The PRUNE messages b queued, concatenated; how many. */
static int prune_msgs(engine *e, bytes *out)
{
    bytes to = BYTES_INIT, m = BYTES_INIT;
    int n = 0;
    while (engine_next_outgoing(e, &to, &m) == ST_OK)
        if (m.len > 2 && m.data[2] == 13) {
            bytes_put(out, m.data, m.len);
            n++;
        }
    bytes_free(&to);
    bytes_free(&m);
    return n;
}

TEST(test_prune_init_is_acked_only_for_the_coordinator_and_dead_actors)
{
    uint64_t now = 1000000;
    engine *a = open_engine("a", "a", 0);
    engine *b = open_engine("b", "a", 0);
    run(a, b, &now, 4, NULL);
    ASSERT_OK(incr(b, now, "count", 5));
    run(a, b, &now, 2, NULL);
    uint64_t dead = 42, alive[2] = {dead, engine_actor(b)};

    /* a survivor that is not a's actor: no ack */
    bytes msg = BYTES_INIT, acks = BYTES_INIT;
    prune_init(&msg, engine_actor(a) + 1, alive, 2);
    ASSERT_OK(engine_deliver(b, now, "a", 1, msg.data, msg.len));
    ASSERT_EQ_INT(prune_msgs(b, &acks), 0);
    /* from b's view "b" is not the coordinator either (a is smaller) */
    bytes_reset(&msg);
    prune_init(&msg, engine_actor(b), alive, 2);
    ASSERT_OK(engine_deliver(a, now, "b", 1, msg.data, msg.len));
    ASSERT_EQ_INT(prune_msgs(a, &acks), 0);
    /* the coordinator: b acks the unknown actor, never its own */
    bytes_reset(&msg);
    prune_init(&msg, engine_actor(a), alive, 2);
    ASSERT_OK(engine_deliver(b, now, "a", 1, msg.data, msg.len));
    ASSERT_EQ_INT(prune_msgs(b, &acks), 1);
    ASSERT_EQ_U64(acks.len, 15);    /* header, kind, 1, actor, 0 states (none holds it) */
    ASSERT_EQ_INT(acks.data[4], 2); /* ack */
    ASSERT_EQ_INT(acks.data[5], 1); /* one actor */
    ASSERT_EQ_INT(acks.data[6], 42);
    ASSERT_EQ_INT(acks.data[14], 0);

    /* every truncation of the init and the ack is refused or harmless */
    for (size_t len = 0; len < msg.len; len++)
        (void)engine_deliver(b, now, "a", 1, msg.data, len);
    for (size_t len = 0; len < acks.len; len++)
        (void)engine_deliver(a, now, "b", 1, acks.data, len);
    ASSERT_STATUS(engine_deliver(b, now, "a", 1, msg.data, msg.len - 1), ST_ECORRUPT);
    ASSERT_EQ_INT(value_of(a, "count"), 5);
    ASSERT_EQ_INT(value_of(b, "count"), 5);
    bytes_free(&msg);
    bytes_free(&acks);
    engine_free(a);
    engine_free(b);
}

/* Issue 17.11: a node that leaves before any answer to its JOIN reached it
 * knows no member to announce to; the member that learned of it from the
 * JOIN gossips to it, and the reply is the announcement. */
TEST(test_node_that_left_before_hearing_anyone_answers_with_its_announcement)
{
    engine *a = open_engine("a", NULL, 0), *b = open_engine("b", "a", 0);
    ASSERT(a && b);
    uint64_t now = 1000000;
    ASSERT_OK(engine_tick(b, now));
    bytes to = BYTES_INIT, m = BYTES_INIT;
    while (engine_next_outgoing(b, &to, &m) == ST_OK)
        ASSERT_OK(engine_deliver(a, now, "b", 1, m.data, m.len)); /* the JOIN */
    while (engine_next_outgoing(a, &to, &m) == ST_OK)
        ; /* its answer is lost: b never hears of a */
    bytes_free(&to);
    bytes_free(&m);
    engine_member_state st;
    ASSERT_OK(engine_member_state_of(a, "b", &st));
    ASSERT_EQ_INT(st, MEMBER_UP);
    ASSERT_OK(engine_leave(b, now));
    ASSERT_EQ_U64(engine_leave_unacked(b), 0);
    run(a, b, &now, 4, NULL);
    ASSERT_OK(engine_member_state_of(a, "b", &st));
    ASSERT_EQ_INT(st, MEMBER_REMOVED);
    ASSERT(engine_member_left(a, "b", 1));
    engine_free(a);
    engine_free(b);
}
