/*
 * The simulator. See sim.h for what it models and why.
 *
 * Messages in flight sit in a binary heap ordered by (delivery time,
 * send order), so equal times deliver in a deterministic order. Drops,
 * duplicates and delays are drawn from the one RNG at send time; a
 * partition is checked both at send and at delivery, so a message already
 * in flight when the partition starts is lost too. Time advances in steps
 * of step_ms: deliver what is due, tick every running node at its own
 * (skewed) clock, then move what the nodes want sent into the network.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"

typedef struct flight {
    uint64_t at, order;
    uint32_t from, to;
    uint8_t *data;
    size_t len;
} flight;

struct sim {
    sim_config cfg;
    sim_node nodes[SIM_MAX_NODES];
    char *seed_ids[SIM_MAX_NODES];
    rng rng;
    uint64_t now, order;
    flight *heap;
    size_t nheap, cap_heap;
    uint64_t bytes_sent;
    size_t max_message;
    sim_event_fn on_event;
    void *on_event_ctx;
    bytes to, msg;
};

void sim_config_default(sim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->nodes = 3;
    c->seed = 1;
    c->min_delay_ms = 1;
    c->max_delay_ms = 50;
    c->step_ms = 100;
    c->gossip_interval_ms = 1000;
    c->fanout = 1;
    c->strategy = ENGINE_DELTA_IMMEDIATE;
    c->max_message_bytes = 64 * 1024;
    c->tombstone_grace_ms = 20000;
}

sim_config sim_config_seeded(uint64_t seed)
{
    sim_config c;
    sim_config_default(&c);
    c.seed = seed;
    return c;
}

static bool heap_less(const flight *a, const flight *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void heap_push(sim *s, flight f)
{
    if (s->nheap == s->cap_heap) {
        size_t cap = grow_capacity(s->cap_heap, s->nheap + 1);
        flight *h = realloc_array(s->heap, cap, sizeof(flight));
        if (!h) {
            free(f.data);
            return;
        }
        s->heap = h;
        s->cap_heap = cap;
    }
    size_t i = s->nheap++;
    s->heap[i] = f;
    while (i && heap_less(&s->heap[i], &s->heap[(i - 1) / 2])) {
        flight t = s->heap[i];
        s->heap[i] = s->heap[(i - 1) / 2];
        s->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static flight heap_pop(sim *s)
{
    flight top = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && heap_less(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->nheap && heap_less(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        flight t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
    return top;
}

uint64_t sim_now(const sim *s)
{
    return s->now;
}

uint32_t sim_nodes(const sim *s)
{
    return s->cfg.nodes;
}

sim_node *sim_node_at(sim *s, uint32_t i)
{
    return &s->nodes[i];
}

rng *sim_rng(sim *s)
{
    return &s->rng;
}

uint64_t sim_node_now(const sim *s, uint32_t i)
{
    /* Virtual time starts high enough that a negative skew stays positive. */
    return (uint64_t)((int64_t)s->now + s->nodes[i].skew_ms);
}

static int start_node(sim *s, uint32_t i, bool first_start)
{
    sim_node *n = &s->nodes[i];
    engine_config c;
    engine_config_default(&c);
    c.node_id = n->id;
    c.incarnation = n->incarnation;
    c.seed = s->cfg.seed * 1000003u + i * 7919u + n->incarnation;
    c.gossip_interval_ms = s->cfg.gossip_interval_ms;
    c.gossip_fanout = s->cfg.fanout;
    c.delta_strategy = s->cfg.strategy;
    c.max_message_bytes = s->cfg.max_message_bytes;
    c.notify_interval_ms = s->cfg.gossip_interval_ms / 2;
    c.tombstone_grace_ms = s->cfg.tombstone_grace_ms;
    c.store = n->store;
    c.durable = s->cfg.durable;
    c.durable_count = s->cfg.durable_count;
    c.expiry = s->cfg.expiry;
    c.expiry_count = s->cfg.expiry_count;
    c.expire_after_ms = s->cfg.expire_after_ms;
    if (s->cfg.down_after_ms)
        c.down_after_ms = s->cfg.down_after_ms;
    if (s->cfg.remove_after_ms)
        c.remove_after_ms = s->cfg.remove_after_ms;
    if (s->cfg.prune_interval_ms)
        c.prune_interval_ms = s->cfg.prune_interval_ms;
    if (s->cfg.prune_delay_ms)
        c.prune_delay_ms = s->cfg.prune_delay_ms;
    if (s->cfg.prune_marker_ttl_ms)
        c.prune_marker_ttl_ms = s->cfg.prune_marker_ttl_ms;
    c.prune_disabled = s->cfg.prune_disabled;
    c.write_behind = s->cfg.write_behind;
    if (s->cfg.write_behind_interval_ms)
        c.write_behind_interval_ms = s->cfg.write_behind_interval_ms;
    /* The first start joins through node 0 (which starts the cluster);
     * a restart asks every other node, since node 0 may be down. */
    const char *self_seed[1] = {s->nodes[0].id};
    if (first_start) {
        c.seeds = self_seed;
        c.seed_count = 1;
    } else {
        size_t k = 0;
        for (uint32_t j = 0; j < s->cfg.nodes; j++)
            if (j != i)
                s->seed_ids[k++] = s->nodes[j].id;
        c.seeds = (const char *const *)s->seed_ids;
        c.seed_count = k;
    }
    return engine_new(&n->e, &c, sim_node_now(s, i));
}

int sim_new(sim **out, const sim_config *c)
{
    *out = NULL;
    if (c->nodes < 1 || c->nodes > SIM_MAX_NODES)
        return ST_EINVAL;
    sim *s = calloc(1, sizeof(*s));
    if (!s)
        return ST_ENOMEM;
    s->cfg = *c;
    rng_seed(&s->rng, c->seed);
    s->now = 1000000;
    for (uint32_t i = 0; i < c->nodes; i++) {
        sim_node *n = &s->nodes[i];
        snprintf(n->id, sizeof(n->id), "n%u", i);
        n->incarnation = 1;
        if (c->max_skew_ms)
            n->skew_ms =
                (int64_t)rng_below(&s->rng, 2 * c->max_skew_ms + 1) - (int64_t)c->max_skew_ms;
        if (c->stores && state_store_open_memory(&n->store) != ST_OK) {
            sim_free(s);
            return ST_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < c->nodes; i++) {
        int rc = start_node(s, i, true);
        if (rc) {
            sim_free(s);
            return rc;
        }
    }
    *out = s;
    return ST_OK;
}

void sim_free(sim *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->cfg.nodes; i++) {
        engine_free(s->nodes[i].e);
        if (s->nodes[i].store)
            state_store_close(s->nodes[i].store);
    }
    for (size_t i = 0; i < s->nheap; i++)
        free(s->heap[i].data);
    free(s->heap);
    bytes_free(&s->to);
    bytes_free(&s->msg);
    free(s);
}

static int node_index(const sim *s, const uint8_t *id, size_t len)
{
    /* Ids are "n<i>". */
    if (len < 2 || id[0] != 'n')
        return -1;
    uint32_t v = 0;
    for (size_t k = 1; k < len; k++) {
        if (id[k] < '0' || id[k] > '9')
            return -1;
        v = v * 10 + (uint32_t)(id[k] - '0');
    }
    return v < s->cfg.nodes ? (int)v : -1;
}

static void drain_outgoing(sim *s, uint32_t i)
{
    sim_node *n = &s->nodes[i];
    while (n->e && engine_next_outgoing(n->e, &s->to, &s->msg) == ST_OK) {
        int to = node_index(s, s->to.data, s->to.len);
        s->bytes_sent += s->msg.len;
        if (s->msg.len > s->max_message)
            s->max_message = s->msg.len;
        if (to < 0 || s->nodes[to].group != n->group)
            continue;
        if (s->cfg.drop_pct && rng_below(&s->rng, 100) < s->cfg.drop_pct)
            continue;
        int copies = (s->cfg.dup_pct && rng_below(&s->rng, 100) < s->cfg.dup_pct) ? 2 : 1;
        for (int k = 0; k < copies; k++) {
            flight f;
            uint64_t span = s->cfg.max_delay_ms - s->cfg.min_delay_ms;
            f.at = s->now + s->cfg.min_delay_ms + (span ? rng_below(&s->rng, span + 1) : 0);
            f.order = s->order++;
            f.from = i;
            f.to = (uint32_t)to;
            f.len = s->msg.len;
            f.data = malloc(f.len ? f.len : 1);
            if (!f.data)
                continue;
            memcpy(f.data, s->msg.data, f.len);
            heap_push(s, f);
        }
    }
}

static void drain_events(sim *s, uint32_t i)
{
    engine_event ev;
    while (s->nodes[i].e && engine_next_event(s->nodes[i].e, &ev) == ST_OK) {
        if (s->on_event)
            s->on_event(s->on_event_ctx, i, &ev);
        engine_event_clear(&ev);
    }
}

static void step(sim *s)
{
    while (s->nheap && s->heap[0].at <= s->now) {
        flight f = heap_pop(s);
        sim_node *to = &s->nodes[f.to];
        if (to->e && to->group == s->nodes[f.from].group)
            (void)engine_deliver(to->e, sim_node_now(s, f.to), s->nodes[f.from].id,
                                 strlen(s->nodes[f.from].id), f.data, f.len);
        free(f.data);
    }
    for (uint32_t i = 0; i < s->cfg.nodes; i++) {
        if (!s->nodes[i].e)
            continue;
        (void)engine_tick(s->nodes[i].e, sim_node_now(s, i));
        drain_events(s, i);
    }
    for (uint32_t i = 0; i < s->cfg.nodes; i++)
        drain_outgoing(s, i);
}

void sim_run(sim *s, uint64_t ms)
{
    uint64_t end = s->now + ms;
    /* Flush what direct calls (updates) queued before time moves. */
    for (uint32_t i = 0; i < s->cfg.nodes; i++)
        drain_outgoing(s, i);
    while (s->now < end) {
        s->now += s->cfg.step_ms;
        if (s->now > end)
            s->now = end;
        step(s);
    }
}

void sim_partition(sim *s, const int *groups)
{
    for (uint32_t i = 0; i < s->cfg.nodes; i++)
        s->nodes[i].group = groups[i];
}

void sim_heal(sim *s)
{
    for (uint32_t i = 0; i < s->cfg.nodes; i++)
        s->nodes[i].group = 0;
}

void sim_set_faults(sim *s, uint32_t drop_pct, uint32_t dup_pct)
{
    s->cfg.drop_pct = drop_pct;
    s->cfg.dup_pct = dup_pct;
}

void sim_crash(sim *s, uint32_t i)
{
    engine_free(s->nodes[i].e);
    s->nodes[i].e = NULL;
}

int sim_restart(sim *s, uint32_t i, bool keep_store)
{
    sim_node *n = &s->nodes[i];
    if (n->e)
        sim_crash(s, i);
    if (n->store && !keep_store) {
        state_store_close(n->store);
        n->store = NULL;
        int rc = state_store_open_memory(&n->store);
        if (rc)
            return rc;
    }
    n->incarnation++;
    return start_node(s, i, false);
}

static bool values_equal(engine *a, engine *b, const uint8_t *key, size_t len)
{
    crdt *va = NULL, *vb = NULL;
    int ra = engine_get(a, key, len, &va), rb = engine_get(b, key, len, &vb);
    bool eq = ra == rb && (ra != ST_OK || crdt_equal(va, vb));
    crdt_free(va);
    crdt_free(vb);
    return eq;
}

bool sim_converged(sim *s, const char **why)
{
    static char reason[256];
    engine *ref = NULL;
    uint32_t ref_i = 0;
    for (uint32_t i = 0; i < s->cfg.nodes; i++) {
        engine *e = s->nodes[i].e;
        if (!e)
            continue;
        if (!ref) {
            ref = e;
            ref_i = i;
            continue;
        }
        if (engine_key_count(e) != engine_key_count(ref)) {
            snprintf(reason, sizeof(reason), "n%u has %llu keys, n%u has %llu", i,
                     (unsigned long long)engine_key_count(e), ref_i,
                     (unsigned long long)engine_key_count(ref));
            *why = reason;
            return false;
        }
        uint64_t cursor = 0;
        const uint8_t *key;
        size_t len;
        while (engine_keys_next(ref, &cursor, &key, &len) == ST_OK) {
            if (!values_equal(ref, e, key, len)) {
                snprintf(reason, sizeof(reason), "key '%.*s' differs between n%u and n%u", (int)len,
                         (const char *)key, ref_i, i);
                *why = reason;
                return false;
            }
        }
    }
    *why = "converged";
    return true;
}

uint64_t sim_run_until_converged(sim *s, uint64_t max_ms, uint64_t check_ms)
{
    const char *why;
    uint64_t start = s->now;
    while (s->now - start <= max_ms) {
        if (sim_converged(s, &why))
            return s->now - start;
        sim_run(s, check_ms);
    }
    return UINT64_MAX;
}

uint64_t sim_bytes_sent(const sim *s)
{
    return s->bytes_sent;
}

size_t sim_max_message(const sim *s)
{
    return s->max_message;
}

void sim_reset_bytes(sim *s)
{
    s->bytes_sent = 0;
}

int64_t sim_counter(engine *e, const char *key)
{
    crdt *v = NULL;
    bytes json = BYTES_INIT;
    int64_t out = -1;
    if (engine_get(e, (const uint8_t *)key, strlen(key), &v) == ST_OK &&
        crdt_to_json(v, &json) == ST_OK) {
        bytes_put_u8(&json, 0);
        /* The first "value" followed by a number (the JSON form may nest). */
        const char *p = json.failed ? NULL : (const char *)json.data;
        while (p && (p = strstr(p, "\"value\":")) != NULL) {
            p += 8;
            if ((*p >= '0' && *p <= '9') || *p == '-') {
                out = strtoll(p, NULL, 10);
                break;
            }
        }
    }
    crdt_free(v);
    bytes_free(&json);
    return out;
}

int sim_increment(sim *s, uint32_t node, const char *key, uint64_t amount)
{
    crdt_op op = {0};
    op.kind = CRDT_OP_INCREMENT;
    op.amount = amount;
    return engine_update(s->nodes[node].e, sim_node_now(s, node), (const uint8_t *)key, strlen(key),
                         CRDT_GCOUNTER, &op, NULL);
}

int sim_delete(sim *s, uint32_t node, const char *key)
{
    return engine_delete(s->nodes[node].e, sim_node_now(s, node), (const uint8_t *)key,
                         strlen(key));
}

int sim_set_add(sim *s, uint32_t node, const char *key, const char *element, bool remove)
{
    crdt_op op = {0};
    op.kind = remove ? CRDT_OP_REMOVE : CRDT_OP_ADD;
    op.value = (const uint8_t *)element;
    op.value_len = strlen(element);
    return engine_update(s->nodes[node].e, sim_node_now(s, node), (const uint8_t *)key, strlen(key),
                         CRDT_ORSET, &op, NULL);
}

#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif

unsigned sim_seed_count(unsigned normal)
{
    const char *env = getenv("DD_SIM_SEEDS");
    if (env && *env)
        return (unsigned)strtoul(env, NULL, 10);
#ifdef SIM_ASAN
    normal /= 5;
#endif
    const char *lng = getenv("DD_LONG");
    if (lng && *lng && strcmp(lng, "0") != 0)
        normal *= 20;
    return normal ? normal : 1;
}

void sim_on_event(sim *s, sim_event_fn fn, void *ctx)
{
    s->on_event = fn;
    s->on_event_ctx = ctx;
}
