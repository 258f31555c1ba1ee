/*
 * The owned-state engine's rules, one at a time: delta ordering, pulls,
 * stale snapshots, ghosts, version policies, persistence before publish,
 * incarnations on restart, strategies, urgencies and queries. Most tests
 * run two or three nodes in the simulator with a perfect network; the
 * ordering rules feed hand-made messages to one engine.
 */
#include <string.h>

#include "owned/owned.h"
#include "owned/owned_internal.h" /* white-box: queue caps */
#include "sim.h"
#include "test.h"
#include "util/error.h"

static owned_type_options g_opts;

static void setup_load(owned *e, void *ctx)
{
    (void)ctx;
    if (owned_register(e, "load", &g_opts) != ST_OK)
        abort();
}

static void start(sim *s, size_t n, uint32_t strategy)
{
    g_opts = owned_type_defaults();
    g_opts.strategy = strategy;
    sim_init(s, n, test_seed(), setup_load, NULL);
    for (size_t i = 0; i < n; i++)
        ASSERT_OK(sim_start(s, i));
    sim_run(s, 20);
}

/* n nodes of `strategy` started; node 0 has published one delta of `value`
 * at the default urgency. */
static void start_published(sim *s, size_t n, uint32_t strategy, uint64_t value)
{
    start(s, n, strategy);
    ASSERT_OK(sim_add(s, 0, "load", value, false, OWNED_URGENCY_DEFAULT));
}

/* Counts events of a kind, draining the queue. */
static size_t drain_events(owned *e, uint32_t kind, owned_event *last)
{
    owned_event ev = {0};
    size_t n = 0;
    while (owned_next_event(e, &ev) == ST_OK)
        if (ev.kind == kind) {
            n++;
            if (last)
                *last = ev;
        }
    return n;
}

/* A DELTAS message of `n` one-byte deltas from `first`. */
static void deltas_msg(bytes *out, const char *type, uint64_t inc, uint64_t first, size_t n,
                       uint32_t version)
{
    owned_blob d[8];
    uint8_t one = 1;
    for (size_t i = 0; i < n; i++) {
        d[i].data = &one;
        d[i].len = 1;
    }
    owned_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = OWNED_MSG_DELTAS;
    m.type.data = (const uint8_t *)type;
    m.type.len = strlen(type);
    m.type_version = version;
    m.incarnation = inc;
    m.age = first;
    m.deltas = d;
    m.n_deltas = n;
    bytes_reset(out);
    owned_msg_encode(out, &m);
}

static void snapshot_msg(bytes *out, uint64_t inc, uint64_t base_age, uint64_t value,
                         uint32_t version)
{
    uint8_t v[8];
    u64_bytes(v, value);
    owned_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = OWNED_MSG_SNAPSHOT;
    m.type.data = (const uint8_t *)"load";
    m.type.len = 4;
    m.type_version = version;
    m.incarnation = inc;
    m.age = base_age;
    m.base.data = v;
    m.base.len = 8;
    bytes_reset(out);
    owned_msg_encode(out, &m);
}

/* Delivers to e, from node 2, a snapshot_msg of these arguments. */
static int deliver_snapshot(owned *e, uint64_t inc, uint64_t base_age, uint64_t value,
                            uint32_t version)
{
    bytes b = BYTES_INIT;
    snapshot_msg(&b, inc, base_age, value, version);
    int rc = owned_deliver(e, 2, b.data, b.len);
    bytes_free(&b);
    return rc;
}

/* Delivers to e, from node 2, a deltas_msg of "load" with these arguments. */
static int deliver_deltas(owned *e, uint64_t inc, uint64_t first, size_t n, uint32_t version)
{
    bytes b = BYTES_INIT;
    deltas_msg(&b, "load", inc, first, n, version);
    int rc = owned_deliver(e, 2, b.data, b.len);
    bytes_free(&b);
    return rc;
}

/* Node 1, incarnation 1, default limits. */
static owned_options node1_options(void)
{
    owned_options o;
    memset(&o, 0, sizeof(o));
    o.node_id = 1;
    o.incarnation = 1;
    o.lim = limits_default();
    return o;
}

/* One engine (node 1) that knows node 2 and holds its view at (5, 3),
 * taking views of another wire version as `on_mismatch` says. */
static owned *reader_engine_on_mismatch(uint32_t on_mismatch)
{
    owned_options o = node1_options();
    owned *e = NULL;
    ASSERT_OK(owned_open(&e, &o));
    owned_type_options t = owned_type_defaults();
    t.on_mismatch = on_mismatch;
    ASSERT_OK(owned_register(e, "load", &t));
    ASSERT_OK(owned_member_up(e, 2, 1));
    ASSERT_OK(deliver_snapshot(e, 5, 3, 10, 1));
    return e;
}

static owned *reader_engine(void)
{
    return reader_engine_on_mismatch(owned_type_defaults().on_mismatch);
}

static size_t count_pulls(owned *e)
{
    bytes msg = BYTES_INIT;
    uint64_t to;
    size_t pulls = 0;
    limits lim = limits_default();
    while (owned_next_outgoing(e, &to, &msg) == ST_OK) {
        owned_msg m;
        if (owned_msg_decode(&m, msg.data, msg.len, &lim) == ST_OK) {
            pulls += m.kind == OWNED_MSG_PULL;
            owned_msg_free(&m);
        }
    }
    bytes_free(&msg);
    return pulls;
}

static owned_gen view_gen(owned *e, uint64_t node)
{
    owned_view_copy v;
    owned_gen g = {0, 0};
    if (owned_read(e, "load", node, &v) == ST_OK)
        g = v.gen;
    owned_view_copy_free(&v);
    return g;
}

TEST(test_delta_applies_only_at_exactly_age_plus_one)
{
    owned *e = reader_engine();
    count_pulls(e);
    ASSERT_OK(deliver_deltas(e, 5, 4, 1, 1));
    ASSERT_EQ_U64(view_gen(e, 2).age, 4);
    /* Older and duplicate deltas are dropped without a pull. */
    ASSERT_OK(deliver_deltas(e, 5, 3, 2, 1));
    ASSERT_EQ_U64(view_gen(e, 2).age, 4);
    ASSERT_EQ_INT(count_pulls(e), 0);
    ASSERT(owned_get_stats(e).stale_dropped >= 1);
    /* An overlapping run applies its new suffix only. */
    ASSERT_OK(deliver_deltas(e, 5, 4, 3, 1));
    ASSERT_EQ_U64(view_gen(e, 2).age, 6);
    owned_view_copy v;
    ASSERT_OK(owned_read(e, "load", 2, &v));
    ASSERT_EQ_INT(v.n_deltas, 3);
    ASSERT_EQ_U64(sim_fold(&v), 13);
    owned_view_copy_free(&v);
    owned_close(e);
}

TEST(test_gap_and_newer_incarnation_trigger_a_pull)
{
    owned *e = reader_engine();
    count_pulls(e);
    bytes b = BYTES_INIT;
    ASSERT_OK(deliver_deltas(e, 5, 6, 1, 1)); /* gap: view is at 3 */
    ASSERT_EQ_U64(view_gen(e, 2).age, 3);
    ASSERT_EQ_INT(count_pulls(e), 1);
    /* A second gap while the pull is in flight does not pull again ... */
    ASSERT_OK(deliver_deltas(e, 5, 7, 1, 1));
    ASSERT_EQ_INT(count_pulls(e), 0);
    /* ... but the retry timer does. */
    ASSERT_OK(owned_tick(e, 1000));
    ASSERT_EQ_INT(count_pulls(e), 1);
    deltas_msg(&b, "load", 6, 1, 1, 1); /* newer incarnation */
    ASSERT_OK(owned_tick(e, 2000));
    count_pulls(e);
    ASSERT_OK(owned_deliver(e, 2, b.data, b.len));
    ASSERT_EQ_U64(view_gen(e, 2).incarnation, 5);
    ASSERT_OK(owned_tick(e, 3000));
    ASSERT(count_pulls(e) >= 1);
    /* An older incarnation is dropped. */
    ASSERT_OK(deliver_deltas(e, 4, 4, 1, 1));
    ASSERT_EQ_U64(view_gen(e, 2).incarnation, 5);
    bytes_free(&b);
    owned_close(e);
}

TEST(test_snapshot_not_newer_than_the_view_is_discarded)
{
    owned *e = reader_engine();
    uint64_t stale_before = owned_get_stats(e).stale_dropped;
    ASSERT_OK(deliver_snapshot(e, 5, 2, 99, 1));  /* (5,2) < (5,3) */
    ASSERT_OK(deliver_snapshot(e, 4, 50, 99, 1)); /* older incarnation, larger age */
    ASSERT_EQ_U64(owned_get_stats(e).stale_dropped, stale_before + 2);
    owned_view_copy v;
    ASSERT_OK(owned_read(e, "load", 2, &v));
    ASSERT_EQ_U64(sim_fold(&v), 10);
    owned_view_copy_free(&v);
    ASSERT_OK(deliver_snapshot(e, 6, 0, 1, 1)); /* newer incarnation, age 0 wins */
    ASSERT_EQ_U64(view_gen(e, 2).incarnation, 6);
    owned_close(e);
}

TEST(test_ghost_messages_do_not_bring_a_departed_node_back)
{
    owned *e = reader_engine();
    drain_events(e, 0, NULL);
    ASSERT_OK(owned_member_left(e, 2));
    ASSERT_EQ_INT(drain_events(e, OWNED_EV_VIEW_REMOVED, NULL), 1);
    owned_view_copy v;
    ASSERT_STATUS(owned_read(e, "load", 2, &v), ST_ENOTFOUND);
    bytes b = BYTES_INIT;
    snapshot_msg(&b, 9, 9, 5, 1);
    ASSERT_OK(owned_deliver(e, 2, b.data, b.len));
    ASSERT_OK(owned_deliver(e, 77, b.data, b.len)); /* never a member */
    ASSERT_STATUS(owned_read(e, "load", 2, &v), ST_ENOTFOUND);
    ASSERT_EQ_U64(owned_get_stats(e).ghost_dropped, 2);
    uint64_t req;
    ASSERT_STATUS(owned_query(e, "load", 2, 0, &req), ST_ENOTFOUND);
    /* After a rejoin, its messages count again. */
    ASSERT_OK(owned_member_up(e, 2, 2));
    ASSERT_OK(owned_deliver(e, 2, b.data, b.len));
    ASSERT_EQ_U64(view_gen(e, 2).age, 9);
    bytes_free(&b);
    owned_close(e);
}

TEST(test_version_mismatch_keep_stale_keeps_the_view_flagged)
{
    owned *e = reader_engine();
    drain_events(e, 0, NULL);
    ASSERT_OK(deliver_snapshot(e, 5, 20, 77, 2));
    owned_event ev = {0};
    ASSERT_EQ_INT(drain_events(e, OWNED_EV_VERSION_MISMATCH, &ev), 1);
    ASSERT_EQ_INT(ev.peer_version, 2);
    owned_view_copy v;
    ASSERT_OK(owned_read(e, "load", 2, &v));
    ASSERT(v.version_mismatch);
    ASSERT_EQ_U64(sim_fold(&v), 10);
    owned_view_copy_free(&v);
    /* A stale view is not fresh for a bounded read. */
    uint64_t req = 0;
    ASSERT_OK(owned_query(e, "load", 2, UINT64_MAX, &req));
    ASSERT(req != 0);
    /* The owner speaking version 1 again clears the flag. */
    ASSERT_OK(deliver_snapshot(e, 5, 21, 78, 1));
    ASSERT_OK(owned_read(e, "load", 2, &v));
    ASSERT(!v.version_mismatch);
    ASSERT_EQ_U64(sim_fold(&v), 78);
    owned_view_copy_free(&v);
    owned_close(e);
}

TEST(test_version_mismatch_drop_and_wait_removes_the_view)
{
    owned *e = reader_engine_on_mismatch(OWNED_DROP_AND_WAIT);
    drain_events(e, 0, NULL);
    ASSERT_OK(deliver_deltas(e, 5, 4, 1, 2));
    ASSERT_EQ_INT(drain_events(e, OWNED_EV_VIEW_REMOVED, NULL), 1);
    owned_view_copy v;
    ASSERT_STATUS(owned_read(e, "load", 2, &v), ST_ENOTFOUND);
    /* It waits: a matching version brings the view back. */
    ASSERT_OK(deliver_snapshot(e, 5, 30, 40, 1));
    ASSERT_EQ_U64(view_gen(e, 2).age, 30);
    owned_close(e);
}

TEST(test_garbage_input_changes_nothing)
{
    owned *e = reader_engine();
    owned_gen before = view_gen(e, 2);
    uint8_t junk[] = {1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ASSERT_STATUS(owned_deliver(e, 2, junk, sizeof(junk)), ST_ECORRUPT);
    ASSERT_STATUS(owned_deliver(e, 2, junk, 0), ST_ECORRUPT);
    ASSERT(owned_gen_cmp(view_gen(e, 2), before) == 0);
    ASSERT_EQ_U64(owned_get_stats(e).corrupt, 2);
    owned_close(e);
}

/* A node of a later release (wire format OWNED_WIRE_FORMAT + 1) during a
 * rolling upgrade: its messages are refused by name, counted, and change
 * nothing; the same message in this node's format still applies
 * (ABI.md, "Compatibility on disk and on the wire"). */
TEST(test_future_wire_format_is_refused_and_counted)
{
    owned *e = reader_engine();
    owned_gen before = view_gen(e, 2);
    bytes b = BYTES_INIT;
    deltas_msg(&b, "load", 5, 4, 1, 1);
    b.data[0] = OWNED_WIRE_FORMAT + 1;
    ASSERT_STATUS(owned_deliver(e, 2, b.data, b.len), ST_EUNSUPPORTED);
    ASSERT(strstr(error_message(), "wire format 2 is not supported") != NULL);
    ASSERT(owned_gen_cmp(view_gen(e, 2), before) == 0);
    ASSERT_EQ_U64(owned_get_stats(e).corrupt, 1);
    b.data[0] = OWNED_WIRE_FORMAT;
    ASSERT_OK(owned_deliver(e, 2, b.data, b.len));
    ASSERT_EQ_U64(view_gen(e, 2).age, 4);
    bytes_free(&b);
    owned_close(e);
}

TEST(test_active_push_reaches_every_member)
{
    sim s;
    start(&s, 3, OWNED_ACTIVE_PUSH);
    s.max_delay_ms = s.min_delay_ms; /* in order: no gaps, so no pulls */
    for (int k = 0; k < 5; k++)
        ASSERT_OK(sim_add(&s, 0, "load", 2, false, OWNED_URGENCY_DEFAULT));
    sim_run(&s, 20);
    uint64_t v;
    owned_gen g;
    ASSERT(sim_view(&s, 1, 0, "load", &v, &g));
    ASSERT_EQ_U64(v, 10);
    ASSERT_EQ_U64(g.age, 5);
    ASSERT(sim_converged(&s, "load"));
    ASSERT_EQ_U64(owned_get_stats(s.nodes[1].e).pulls_sent, 0);
    sim_free(&s);
}

TEST(test_publish_persists_before_it_publishes)
{
    sim s;
    start_published(&s, 2, OWNED_ACTIVE_PUSH, 1);
    sim_run(&s, 10);
    s.nodes[0].store.fail_save = true;
    int rc = sim_add(&s, 0, "load", 5, false, OWNED_URGENCY_IMMEDIATE);
    ASSERT_STATUS(rc, ST_EIO);
    ASSERT_EQ_INT(owned_outgoing_count(s.nodes[0].e), 0);
    sim_run(&s, 10);
    uint64_t v;
    owned_gen g;
    ASSERT(sim_view(&s, 0, 0, "load", &v, &g));
    ASSERT_EQ_U64(g.age, 1);
    ASSERT(sim_view(&s, 1, 0, "load", &v, &g));
    ASSERT_EQ_U64(g.age, 1);
    ASSERT_EQ_U64(v, 1);
    sim_free(&s);
}

TEST(test_restart_with_store_keeps_incarnation_without_takes_a_larger_one)
{
    sim s;
    start_published(&s, 2, OWNED_ACTIVE_PUSH, 3);
    ASSERT_OK(sim_add(&s, 0, "load", 4, true, OWNED_URGENCY_DEFAULT));
    owned_gen before = view_gen(s.nodes[0].e, s.nodes[0].id);
    sim_crash(&s, 0, false);
    ASSERT_OK(sim_start(&s, 0));
    owned_gen after = view_gen(s.nodes[0].e, s.nodes[0].id);
    ASSERT(owned_gen_cmp(before, after) == 0);
    sim_crash(&s, 0, false);
    s.nodes[0].store.fail_load = true;
    ASSERT_OK(sim_start(&s, 0));
    after = view_gen(s.nodes[0].e, s.nodes[0].id);
    ASSERT(after.incarnation > before.incarnation);
    ASSERT_EQ_U64(after.age, 0);
    sim_free(&s);
}

TEST(test_other_storage_version_starts_fresh_above_the_old_incarnation)
{
    sim s;
    start_published(&s, 1, OWNED_ACTIVE_PUSH, 3);
    sim_crash(&s, 0, false);
    s.next_incarnation = 1; /* a host that reuses incarnations */
    g_opts.storage_version = 2;
    ASSERT_OK(sim_start(&s, 0));
    owned_gen g = view_gen(s.nodes[0].e, s.nodes[0].id);
    ASSERT_EQ_U64(g.incarnation, 2);
    ASSERT_EQ_U64(g.age, 0);
    sim_free(&s);
}

TEST(test_compaction_is_asked_for_after_compact_every_deltas)
{
    sim s;
    start(&s, 2, OWNED_ACTIVE_PUSH);
    owned *e = s.nodes[0].e;
    drain_events(e, 0, NULL);
    for (unsigned k = 0; k < g_opts.compact_every; k++)
        ASSERT_OK(sim_add(&s, 0, "load", 1, false, OWNED_URGENCY_DEFAULT));
    ASSERT_EQ_INT(drain_events(e, OWNED_EV_COMPACT_WANTED, NULL), 1);
    ASSERT_OK(sim_add(&s, 0, "load", 0, true, OWNED_URGENCY_DEFAULT));
    sim_run(&s, 10);
    owned_view_copy v;
    ASSERT_OK(owned_read(s.nodes[1].e, "load", s.nodes[0].id, &v));
    ASSERT_EQ_INT(v.n_deltas, 0);
    ASSERT_EQ_U64(sim_fold(&v), g_opts.compact_every);
    ASSERT_EQ_U64(v.base_age, g_opts.compact_every + 1);
    owned_view_copy_free(&v);
    sim_free(&s);
}

TEST(test_suppressed_and_delayed_mutations_wait_then_arrive_in_order)
{
    sim s;
    start(&s, 2, OWNED_ACTIVE_PUSH);
    ASSERT_OK(sim_add(&s, 0, "load", 1, false, OWNED_URGENCY_SUPPRESSED));
    ASSERT_OK(sim_add(&s, 0, "load", 1, false, OWNED_URGENCY_DELAYED)); /* 50 ms */
    sim_run(&s, 30);
    uint64_t v = 0;
    owned_gen g;
    ASSERT(sim_view(&s, 1, 0, "load", &v, &g));
    ASSERT_EQ_U64(g.age, 0);
    sim_run(&s, 40);
    ASSERT(sim_view(&s, 1, 0, "load", &v, &g));
    ASSERT_EQ_U64(g.age, 2);
    ASSERT_EQ_U64(v, 2);
    ASSERT_EQ_U64(owned_get_stats(s.nodes[1].e).pulls_sent, 0);
    sim_free(&s);
}

TEST(test_feed_lazy_pull_reads_pull_only_when_stale)
{
    sim s;
    start_published(&s, 2, OWNED_FEED_LAZY_PULL, 7);
    owned *reader = s.nodes[1].e;
    uint64_t owner = s.nodes[0].id;
    sim_run(&s, 150); /* a feed goes out, no data */
    uint64_t v;
    owned_gen g;
    ASSERT(!sim_view(&s, 1, 0, "load", &v, &g));
    uint64_t req = 0;
    ASSERT_OK(owned_query(reader, "load", owner, 1000, &req));
    ASSERT(req != 0);
    drain_events(reader, 0, NULL);
    sim_run(&s, 20);
    owned_event ev = {0};
    ASSERT_EQ_INT(drain_events(reader, OWNED_EV_QUERY_DONE, &ev), 1);
    ASSERT_EQ_U64(ev.request_id, req);
    ASSERT_EQ_INT(ev.status, ST_OK);
    ASSERT(sim_view(&s, 1, 0, "load", &v, &g));
    ASSERT_EQ_U64(v, 7);
    /* Fresh now: answered at once, no pull. */
    uint64_t pulls = owned_get_stats(reader).pulls_sent;
    ASSERT_OK(owned_query(reader, "load", owner, 1000, &req));
    ASSERT_EQ_U64(req, 0);
    ASSERT_EQ_U64(owned_get_stats(reader).pulls_sent, pulls);
    /* Too old for a tight bound: the owner confirms with a feed entry. */
    sim_run(&s, 50);
    ASSERT_OK(owned_query(reader, "load", owner, 10, &req));
    ASSERT(req != 0);
    sim_run(&s, 20);
    ASSERT_EQ_INT(drain_events(reader, OWNED_EV_QUERY_DONE, &ev), 1);
    ASSERT_EQ_INT(ev.status, ST_OK);
    sim_free(&s);
}

TEST(test_query_times_out_when_the_owner_is_unreachable)
{
    sim s;
    start(&s, 2, OWNED_FEED_LAZY_PULL);
    sim_partition(&s, 1);
    uint64_t req = 0;
    ASSERT_OK(owned_query(s.nodes[1].e, "load", s.nodes[0].id, 0, &req));
    ASSERT(req != 0);
    drain_events(s.nodes[1].e, 0, NULL);
    sim_run(&s, g_opts.pull_timeout_ms + 10);
    owned_event ev = {0};
    ASSERT_EQ_INT(drain_events(s.nodes[1].e, OWNED_EV_QUERY_DONE, &ev), 1);
    ASSERT_EQ_INT(ev.status, ST_ETIMEOUT);
    ASSERT(owned_get_stats(s.nodes[1].e).pulls_sent > 1); /* retried */
    sim_free(&s);
}

TEST(test_periodic_only_sends_snapshots_on_its_interval)
{
    sim s;
    start_published(&s, 2, OWNED_PERIODIC_ONLY, 4);
    sim_run(&s, 20);
    uint64_t v = 0;
    owned_gen g;
    ASSERT(sim_view(&s, 1, 0, "load", &v, &g));
    ASSERT_EQ_U64(g.age, 0);
    sim_run(&s, g_opts.sync_interval_ms);
    ASSERT(sim_view(&s, 1, 0, "load", &v, &g));
    ASSERT_EQ_U64(v, 4);
    sim_free(&s);
}

TEST(test_register_rejects_bad_options_and_duplicates)
{
    owned_options o;
    memset(&o, 0, sizeof(o));
    o.node_id = 1;
    owned *e = NULL;
    ASSERT_STATUS(owned_open(&e, &o), ST_EINVAL); /* incarnation 0 */
    o.incarnation = 1;
    ASSERT_OK(owned_open(&e, &o));
    owned_type_options t = owned_type_defaults();
    t.strategy = 9;
    ASSERT_STATUS(owned_register(e, "load", &t), ST_EINVAL);
    t = owned_type_defaults();
    ASSERT_STATUS(owned_register(e, "", &t), ST_EINVAL);
    ASSERT_OK(owned_register(e, "load", &t));
    ASSERT_STATUS(owned_register(e, "load", &t), ST_ECONFLICT);
    ASSERT_STATUS(owned_publish(e, "nope", false, (const uint8_t *)"x", 1, 0, 0, NULL),
                  ST_ENOTFOUND);
    ASSERT_STATUS(owned_publish(e, "load", false, (const uint8_t *)"x", 1, 7, 0, NULL), ST_EINVAL);
    uint64_t nodes[2];
    size_t n = 9;
    ASSERT_OK(owned_member_up(e, 5, 1));
    ASSERT_OK(owned_member_up(e, 3, 1));
    ASSERT_OK(owned_nodes(e, nodes, 2, &n));
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_U64(nodes[0], 3);
    ASSERT_EQ_U64(nodes[1], 5);
    owned_close(e);
}

TEST(test_publish_limits_size_and_delta_count)
{
    owned_options o = node1_options();
    o.lim.max_bytes = 64;
    owned *e = NULL;
    ASSERT_OK(owned_open(&e, &o));
    owned_type_options t = owned_type_defaults();
    t.compact_every = 0;
    ASSERT_OK(owned_register(e, "load", &t));
    uint8_t big[65] = {0};
    ASSERT_STATUS(owned_publish(e, "load", true, big, sizeof(big), 0, 0, NULL), ST_ELIMIT);
    for (unsigned k = 0; k < OWNED_DELTAS_MAX; k++)
        ASSERT_OK(owned_publish(e, "load", false, big, 1, 0, 0, NULL));
    ASSERT_STATUS(owned_publish(e, "load", false, big, 1, 0, 0, NULL), ST_ELIMIT);
    owned_gen g;
    ASSERT_OK(owned_publish(e, "load", true, big, 8, 0, 0, &g)); /* compaction frees it */
    ASSERT_EQ_U64(g.age, OWNED_DELTAS_MAX + 1);
    ASSERT_OK(owned_publish(e, "load", false, big, 1, 0, 0, NULL));
    owned_close(e);
}

TEST(test_full_queues_drop_and_the_protocol_repairs)
{
    sim s;
    g_opts = owned_type_defaults();
    g_opts.sync_interval_ms = 100;
    sim_init(&s, 3, test_seed(), setup_load, NULL);
    for (size_t i = 0; i < 3; i++)
        ASSERT_OK(sim_start(&s, i));
    sim_run(&s, 20);
    /* Node 0's engine may queue only two messages: most pushes are lost. */
    s.nodes[0].e->max_outgoing = 2;
    for (int k = 0; k < 10; k++)
        ASSERT_OK(sim_add(&s, 0, "load", 1, false, OWNED_URGENCY_IMMEDIATE));
    ASSERT(owned_get_stats(s.nodes[0].e).outgoing_dropped > 0);
    s.nodes[0].e->max_outgoing = 65536;
    ASSERT(sim_run_until_converged(&s, "load", 2000));
    sim_free(&s);
}

static int load_fails_crypto(void *ctx, const uint8_t *key, size_t key_len, bytes *out)
{
    (void)ctx, (void)key, (void)key_len, (void)out;
    return ST_ECRYPTO;
}

TEST(test_a_store_that_cannot_be_read_fails_registration)
{
    owned_options o = node1_options();
    o.persist.load = load_fails_crypto;
    owned *e = NULL;
    ASSERT_OK(owned_open(&e, &o));
    owned_type_options t = owned_type_defaults();
    ASSERT_STATUS(owned_register(e, "load", &t), ST_ECRYPTO);
    owned_view_copy v;
    ASSERT_STATUS(owned_read(e, "load", 1, &v), ST_ENOTFOUND);
    owned_close(e);
}

TEST(test_failed_save_reports_the_type_and_the_code)
{
    sim s;
    start(&s, 1, OWNED_ACTIVE_PUSH);
    s.nodes[0].store.fail_save = true;
    ASSERT_STATUS(sim_add(&s, 0, "load", 1, false, OWNED_URGENCY_DEFAULT), ST_EIO);
    ASSERT_EQ_INT(error_code(), ST_EIO);
    ASSERT(strstr(error_message(), "owned publish 'load'") != NULL);
    sim_free(&s);
}
