/*
 * A deterministic simulator for the owned-state engine, after dstate's
 * fault and chaos suites: virtual time, a seeded RNG, a lossy network
 * (drop, duplicate, reorder through random delays), partitions, crashes
 * and restarts with or without the node's store, failed loads and per-node
 * clock skew.
 *
 * The application state every node owns is a counter: a full view is its
 * value, a delta an increment, both 8 bytes little-endian, so a test can
 * fold a view (base + deltas) and compare it with the owner's value.
 *
 * Header-only (static functions) because each test file is its own
 * executable; included by tests/c/owned/test_sim_*.c and the benchmark.
 */
#ifndef DD_TEST_OWNED_SIM_H
#define DD_TEST_OWNED_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owned/owned.h"
#include "util/bytes.h"
#include "util/rng.h"
#include "util/status.h"

#define SIM_MAX_NODES 16
#define SIM_MAX_RECORDS 8
#define SIM_EPOCH_MS 1000000000ull /* so negative skews stay positive */
#define SIM_MAX_TYPES 8

typedef struct sim_record {
    char key[160];
    uint8_t *data;
    size_t len;
} sim_record;

/* A node's store: survives crashes unless wiped; can be told to fail. */
typedef struct sim_store {
    sim_record recs[SIM_MAX_RECORDS];
    size_t n;
    bool fail_save;
    bool fail_load;
    uint64_t saves;
} sim_store;

typedef struct sim_node {
    owned *e;
    uint64_t id;
    bool alive;
    int64_t skew_ms;
    sim_store store;
    uint64_t values[SIM_MAX_TYPES]; /* the owner's counters, per type */
} sim_node;

typedef struct sim_msg {
    uint64_t at;
    uint64_t from, to;
    uint8_t *data;
    size_t len;
} sim_msg;

typedef void (*sim_setup_fn)(owned *e, void *ctx);

typedef struct sim {
    rng r;
    uint64_t now;
    size_t n;
    sim_node nodes[SIM_MAX_NODES];
    sim_msg *q;
    size_t nq, capq;
    unsigned drop_pct, dup_pct;
    uint64_t min_delay_ms, max_delay_ms;
    bool cut[SIM_MAX_NODES][SIM_MAX_NODES];
    uint64_t next_incarnation;
    sim_setup_fn setup;
    void *setup_ctx;
    /* When set, node i persists through persist[i] instead of its
     * sim_store (the benchmark uses the real state store). */
    const owned_persist *persist;
    uint64_t delivered, dropped;
    const char *type_names[SIM_MAX_TYPES]; /* slots of sim_node.values */
} sim;

static inline int sim_store_load(void *ctx, const uint8_t *key, size_t key_len, bytes *out)
{
    sim_store *s = ctx;
    if (s->fail_load)
        return ST_ECORRUPT; /* a damaged record */
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->recs[i].key) == key_len && memcmp(s->recs[i].key, key, key_len) == 0) {
            bytes_put(out, s->recs[i].data, s->recs[i].len);
            return ST_OK;
        }
    return ST_ENOTFOUND;
}

static inline int sim_store_save(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *data,
                                 size_t len)
{
    sim_store *s = ctx;
    if (s->fail_save || key_len >= sizeof(s->recs[0].key))
        return ST_EIO;
    sim_record *r = NULL;
    for (size_t i = 0; i < s->n && !r; i++)
        if (strlen(s->recs[i].key) == key_len && memcmp(s->recs[i].key, key, key_len) == 0)
            r = &s->recs[i];
    if (!r) {
        if (s->n == SIM_MAX_RECORDS)
            return ST_ELIMIT;
        r = &s->recs[s->n++];
        memcpy(r->key, key, key_len);
        r->key[key_len] = 0;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return ST_ENOMEM;
    memcpy(copy, data, len);
    free(r->data);
    r->data = copy;
    r->len = len;
    s->saves++;
    return ST_OK;
}

static inline void sim_store_wipe(sim_store *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->recs[i].data);
    memset(s->recs, 0, sizeof(s->recs));
    s->n = 0;
}

static inline uint64_t sim_node_now(const sim *s, size_t i)
{
    return (uint64_t)((int64_t)(SIM_EPOCH_MS + s->now) + s->nodes[i].skew_ms);
}

static inline void sim_init(sim *s, size_t n, uint64_t seed, sim_setup_fn setup, void *ctx)
{
    memset(s, 0, sizeof(*s));
    rng_seed(&s->r, seed);
    s->n = n;
    s->setup = setup;
    s->setup_ctx = ctx;
    s->min_delay_ms = 1;
    s->max_delay_ms = 5;
    s->next_incarnation = 1;
    for (size_t i = 0; i < n; i++)
        s->nodes[i].id = 100 + i;
}

/* Starts node i: opens its engine with its store (which it loads), lets
 * the setup function register types, and joins it with the live nodes. */
static inline int sim_start(sim *s, size_t i)
{
    sim_node *nd = &s->nodes[i];
    owned_options o;
    memset(&o, 0, sizeof(o));
    o.node_id = nd->id;
    o.incarnation = s->next_incarnation++;
    o.persist.ctx = &nd->store;
    o.persist.load = sim_store_load;
    o.persist.save = sim_store_save;
    if (s->persist)
        o.persist = s->persist[i];
    o.lim = limits_default();
    int rc = owned_open(&nd->e, &o);
    if (rc)
        return rc;
    owned_tick(nd->e, sim_node_now(s, i));
    s->setup(nd->e, s->setup_ctx);
    nd->alive = true;
    for (size_t j = 0; j < s->n; j++) {
        if (j == i || !s->nodes[j].alive)
            continue;
        owned_member_up(nd->e, s->nodes[j].id, 1);
        owned_member_up(s->nodes[j].e, nd->id, o.incarnation);
    }
    return ST_OK;
}

/* Crashes node i: its engine is gone, its store stays. Peers are told it
 * left only when `announce` (a failure detector would, later). */
static inline void sim_crash(sim *s, size_t i, bool announce)
{
    sim_node *nd = &s->nodes[i];
    owned_close(nd->e);
    nd->e = NULL;
    nd->alive = false;
    if (!announce)
        return;
    for (size_t j = 0; j < s->n; j++)
        if (s->nodes[j].alive)
            owned_member_left(s->nodes[j].e, nd->id);
}

static inline void sim_enqueue(sim *s, uint64_t from, uint64_t to, const uint8_t *data, size_t len)
{
    if (s->nq == s->capq) {
        s->capq = s->capq ? s->capq * 2 : 64;
        s->q = realloc(s->q, s->capq * sizeof(*s->q));
    }
    sim_msg *m = &s->q[s->nq++];
    uint64_t span = s->max_delay_ms - s->min_delay_ms + 1;
    m->at = s->now + s->min_delay_ms + rng_below(&s->r, span);
    m->from = from;
    m->to = to;
    m->data = malloc(len ? len : 1);
    memcpy(m->data, data, len);
    m->len = len;
}

static inline size_t sim_index(uint64_t id)
{
    return (size_t)(id - 100);
}

/* Moves every queued outgoing message of live nodes onto the network. */
static inline void sim_collect(sim *s)
{
    bytes msg = BYTES_INIT;
    uint64_t to;
    for (size_t i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        if (!nd->alive)
            continue;
        while (owned_next_outgoing(nd->e, &to, &msg) == ST_OK) {
            if (rng_chance(&s->r, s->drop_pct, 100)) {
                s->dropped++;
                continue;
            }
            sim_enqueue(s, nd->id, to, msg.data, msg.len);
            if (rng_chance(&s->r, s->dup_pct, 100))
                sim_enqueue(s, nd->id, to, msg.data, msg.len);
        }
    }
    bytes_free(&msg);
}

/* Advances one millisecond: deliver what is due, tick, collect. */
static inline void sim_step(sim *s)
{
    s->now++;
    size_t keep = 0;
    for (size_t k = 0; k < s->nq; k++) {
        sim_msg m = s->q[k];
        if (m.at > s->now) {
            s->q[keep++] = m;
            continue;
        }
        size_t fi = sim_index(m.from), ti = sim_index(m.to);
        if (ti < s->n && s->nodes[ti].alive && !s->cut[fi][ti]) {
            owned_deliver(s->nodes[ti].e, m.from, m.data, m.len);
            s->delivered++;
        } else {
            s->dropped++;
        }
        free(m.data);
    }
    s->nq = keep;
    for (size_t i = 0; i < s->n; i++)
        if (s->nodes[i].alive)
            owned_tick(s->nodes[i].e, sim_node_now(s, i));
    sim_collect(s);
}

static inline void sim_run(sim *s, uint64_t ms)
{
    for (uint64_t k = 0; k < ms; k++)
        sim_step(s);
}

static inline void sim_partition(sim *s, size_t split)
{
    for (size_t a = 0; a < s->n; a++)
        for (size_t b = 0; b < s->n; b++)
            s->cut[a][b] = (a < split) != (b < split);
}

static inline void sim_heal(sim *s)
{
    memset(s->cut, 0, sizeof(s->cut));
}

static inline void sim_free(sim *s)
{
    for (size_t i = 0; i < s->n; i++) {
        owned_close(s->nodes[i].e);
        sim_store_wipe(&s->nodes[i].store);
    }
    for (size_t k = 0; k < s->nq; k++)
        free(s->q[k].data);
    free(s->q);
    memset(s, 0, sizeof(*s));
}

static inline void u64_bytes(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t bytes_u64(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Node i's counter of `type` (the application's state). */
static inline uint64_t *sim_value(sim *s, size_t i, const char *type)
{
    size_t k = 0;
    while (k < SIM_MAX_TYPES - 1 && s->type_names[k] && strcmp(s->type_names[k], type) != 0)
        k++;
    if (!s->type_names[k])
        s->type_names[k] = type;
    return &s->nodes[i].values[k];
}

/* The counter application: node i adds `inc` (a delta) or, with full,
 * publishes its whole value. */
static inline int sim_add(sim *s, size_t i, const char *type, uint64_t inc, bool full,
                          uint32_t urgency)
{
    uint64_t *value = sim_value(s, i, type);
    uint8_t buf[8];
    u64_bytes(buf, full ? *value + inc : inc);
    int rc = owned_publish(s->nodes[i].e, type, full, buf, 8, urgency, 50, NULL);
    if (rc == ST_OK)
        *value += inc;
    return rc;
}

/* Folds a view: base value plus every delta. */
static inline uint64_t sim_fold(const owned_view_copy *v)
{
    uint64_t x = bytes_u64(v->base.data, v->base.len);
    for (size_t i = 0; i < v->n_deltas; i++)
        x += bytes_u64(v->deltas[i].data, v->deltas[i].len);
    return x;
}

/* Reads node `of`'s instance as node `at` sees it; false when absent. */
static inline bool sim_view(sim *s, size_t at, size_t of, const char *type, uint64_t *value,
                            owned_gen *gen)
{
    owned_view_copy v;
    if (owned_read(s->nodes[at].e, type, s->nodes[of].id, &v) != ST_OK)
        return false;
    *value = sim_fold(&v);
    *gen = v.gen;
    owned_view_copy_free(&v);
    return true;
}

/* True when every live node's view of every other live node equals that
 * node's own instance (value and generation). */
static inline bool sim_converged(sim *s, const char *type)
{
    for (size_t of = 0; of < s->n; of++) {
        if (!s->nodes[of].alive)
            continue;
        uint64_t own_value;
        owned_gen own_gen;
        if (!sim_view(s, of, of, type, &own_value, &own_gen))
            return false;
        for (size_t at = 0; at < s->n; at++) {
            uint64_t v;
            owned_gen g;
            if (at == of || !s->nodes[at].alive)
                continue;
            if (!sim_view(s, at, of, type, &v, &g) || v != own_value ||
                owned_gen_cmp(g, own_gen) != 0)
                return false;
        }
    }
    return true;
}

/* Runs until converged, at most max_ms; returns whether it converged. */
static inline bool sim_run_until_converged(sim *s, const char *type, uint64_t max_ms)
{
    for (uint64_t k = 0; k < max_ms; k += 10) {
        if (sim_converged(s, type))
            return true;
        sim_run(s, 10);
    }
    return sim_converged(s, type);
}

#endif
