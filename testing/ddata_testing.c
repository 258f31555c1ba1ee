/*
 * The C test doubles (ddata_testing.h): a simulated cluster driven through
 * the public ABI only, so it tests what an application links. The network
 * model is the one of the other bindings' doubles (Python's
 * ddata.testing.SimNetwork): per-message loss and a uniform delay drawn
 * from one seeded generator, delivery in (due time, send order), and
 * partitions checked both when a message is sent and when it arrives. The
 * generator is splitmix64, chosen because it is tiny and every seed is good.
 */
#include "ddata_testing.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 64

typedef struct node {
    char id[16]; /* "n" and up to 10 digits */
    dd_system *sys;
    dd_replica *rep;
    dd_state_store *store; /* created here for durable keys; kept across restarts */
    uint64_t incarnation;
    uint32_t group;
} node;

typedef struct message {
    uint64_t due_ms, order;
    uint32_t from, to;
    dd_buf bytes; /* the library's buffer: released with dd_buf_free */
} message;

struct dd_testing_cluster {
    node nodes[MAX_NODES];
    uint32_t count;
    uint64_t seed, rng, now_ms, order;
    uint32_t drop_pct;
    uint64_t min_delay_ms, max_delay_ms;
    bool partitioned;
    bool has_replica_options;
    dd_replica_options replica;
    message *in_flight;
    size_t in_flight_len, in_flight_cap;
    uint64_t sent, dropped;
};

static uint64_t next_random(dd_testing_cluster *c)
{
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool connected(const dd_testing_cluster *c, uint32_t a, uint32_t b)
{
    return !c->partitioned || c->nodes[a].group == c->nodes[b].group;
}

static int memory_store_options(dd_store_options *so)
{
    int rc = dd_store_options_init(so, DD_STORE_OPTIONS_VERSION);
    so->backend = DD_BACKEND_MEMORY;
    return rc;
}

int dd_testing_memory_store(dd_state_store **out)
{
    dd_store_options so;
    int rc = memory_store_options(&so);
    return rc ? rc : dd_state_store_open(out, &so);
}

int dd_testing_memory_journal(dd_journal **out)
{
    dd_store_options so;
    int rc = memory_store_options(&so);
    return rc ? rc : dd_journal_open(out, &so);
}

static int node_open(dd_testing_cluster *c, uint32_t i)
{
    node *n = &c->nodes[i];
    const char *seeds[1] = {c->nodes[0].id};
    dd_system_options so;
    dd_replica_options ro;
    int rc = dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION);
    if (rc)
        goto done;
    so.node_id = n->id;
    so.incarnation = ++n->incarnation;
    so.seed = c->seed + i + 1;
    so.seeds = seeds;
    so.seed_count = 1;
    if ((rc = dd_system_open(&n->sys, &so)) != DD_OK)
        goto done;
    if ((rc = dd_system_tick(n->sys, c->now_ms)) != DD_OK)
        goto done;
    if (c->has_replica_options)
        ro = c->replica;
    else if ((rc = dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION)) != DD_OK)
        goto done;
    if (ro.durable_key_count > 0 && !ro.store) {
        if (!n->store && (rc = dd_testing_memory_store(&n->store)) != DD_OK)
            goto done;
        ro.store = n->store;
    }
    rc = dd_replica_open(&n->rep, n->sys, &ro);
done:
    if (rc && n->sys) {
        dd_system_close(n->sys);
        n->sys = NULL;
    }
    return rc;
}

int dd_testing_cluster_stop(dd_testing_cluster *c, uint32_t i)
{
    if (!c || i >= c->count)
        return DD_EINVAL;
    node *n = &c->nodes[i];
    int rc = DD_OK;
    if (n->rep)
        rc = dd_replica_close(n->rep);
    if (n->sys) {
        int rc2 = dd_system_close(n->sys);
        rc = rc ? rc : rc2;
    }
    n->rep = NULL;
    n->sys = NULL;
    return rc;
}

int dd_testing_cluster_restart(dd_testing_cluster *c, uint32_t i)
{
    int rc = dd_testing_cluster_stop(c, i);
    return rc ? rc : node_open(c, i);
}

int dd_testing_cluster_set_faults(dd_testing_cluster *c, uint32_t drop_pct, uint64_t min_delay_ms,
                                  uint64_t max_delay_ms)
{
    if (!c || drop_pct > 100 || min_delay_ms > max_delay_ms)
        return DD_EINVAL;
    c->drop_pct = drop_pct;
    c->min_delay_ms = min_delay_ms;
    c->max_delay_ms = max_delay_ms;
    return DD_OK;
}

void dd_testing_cluster_free(dd_testing_cluster *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->count; i++) {
        dd_testing_cluster_stop(c, i);
        dd_state_store_close(c->nodes[i].store);
    }
    for (size_t k = 0; k < c->in_flight_len; k++)
        dd_buf_free(&c->in_flight[k].bytes);
    free(c->in_flight);
    free(c);
}

int dd_testing_cluster_new(dd_testing_cluster **out, const dd_testing_cluster_options *opts)
{
    dd_testing_cluster *c = NULL;
    int rc = DD_EINVAL;
    if (!out || !opts || opts->version != DD_TESTING_CLUSTER_OPTIONS_VERSION || opts->nodes == 0 ||
        opts->nodes > MAX_NODES)
        goto done;
    *out = NULL;
    rc = DD_ENOMEM;
    if (!(c = calloc(1, sizeof *c)))
        goto done;
    c->count = opts->nodes;
    c->seed = c->rng = opts->seed ? opts->seed : 1;
    c->now_ms = opts->start_ms;
    if (opts->replica) {
        c->replica = *opts->replica;
        c->has_replica_options = true;
    }
    if ((rc = dd_testing_cluster_set_faults(c, opts->drop_pct, opts->min_delay_ms,
                                            opts->max_delay_ms)) != DD_OK)
        goto done;
    for (uint32_t i = 0; i < c->count; i++)
        snprintf(c->nodes[i].id, sizeof c->nodes[i].id, "n%u", (unsigned)i);
    for (uint32_t i = 0; i < c->count; i++)
        if ((rc = node_open(c, i)) != DD_OK)
            goto done;
    *out = c;
    c = NULL;
done:
    dd_testing_cluster_free(c);
    return rc;
}

uint32_t dd_testing_cluster_size(const dd_testing_cluster *c)
{
    return c ? c->count : 0;
}

uint64_t dd_testing_cluster_seed(const dd_testing_cluster *c)
{
    return c ? c->seed : 0;
}

uint64_t dd_testing_cluster_now(const dd_testing_cluster *c)
{
    return c ? c->now_ms : 0;
}

const char *dd_testing_cluster_node_id(const dd_testing_cluster *c, uint32_t i)
{
    return c && i < c->count ? c->nodes[i].id : NULL;
}

dd_system *dd_testing_cluster_system(dd_testing_cluster *c, uint32_t i)
{
    return c && i < c->count ? c->nodes[i].sys : NULL;
}

dd_replica *dd_testing_cluster_replica(dd_testing_cluster *c, uint32_t i)
{
    return c && i < c->count ? c->nodes[i].rep : NULL;
}

int dd_testing_cluster_partition(dd_testing_cluster *c, const uint32_t *group, uint32_t count)
{
    if (!c || !group || count != c->count)
        return DD_EINVAL;
    for (uint32_t i = 0; i < count; i++)
        c->nodes[i].group = group[i];
    c->partitioned = true;
    return DD_OK;
}

void dd_testing_cluster_heal(dd_testing_cluster *c)
{
    if (c)
        c->partitioned = false;
}

uint64_t dd_testing_cluster_sent(const dd_testing_cluster *c)
{
    return c ? c->sent : 0;
}

uint64_t dd_testing_cluster_dropped(const dd_testing_cluster *c)
{
    return c ? c->dropped : 0;
}

static int node_index(const dd_testing_cluster *c, const dd_buf *id, uint32_t *out)
{
    for (uint32_t i = 0; i < c->count; i++)
        if (strlen(c->nodes[i].id) == id->len && memcmp(c->nodes[i].id, id->data, id->len) == 0) {
            *out = i;
            return DD_OK;
        }
    return DD_ENOTFOUND;
}

/* Takes `msg`: queued, or freed when lost. */
static int send_message(dd_testing_cluster *c, uint32_t from, uint32_t to, dd_buf *msg)
{
    c->sent++;
    if (!connected(c, from, to) || (c->drop_pct && next_random(c) % 100 < c->drop_pct)) {
        c->dropped++;
        dd_buf_free(msg);
        return DD_OK;
    }
    if (c->in_flight_len == c->in_flight_cap) {
        size_t cap = c->in_flight_cap ? c->in_flight_cap * 2 : 64;
        message *grown =
            cap <= SIZE_MAX / sizeof *grown ? realloc(c->in_flight, cap * sizeof *grown) : NULL;
        if (!grown) {
            dd_buf_free(msg);
            return DD_ENOMEM;
        }
        c->in_flight = grown;
        c->in_flight_cap = cap;
    }
    uint64_t span = c->max_delay_ms - c->min_delay_ms;
    uint64_t delay = c->min_delay_ms + (span ? next_random(c) % (span + 1) : 0);
    message *m = &c->in_flight[c->in_flight_len++];
    m->due_ms = c->now_ms + delay;
    m->order = ++c->order;
    m->from = from;
    m->to = to;
    m->bytes = *msg; /* moved: the caller's buffer no longer owns it */
    msg->data = NULL;
    msg->len = 0;
    return DD_OK;
}

static int by_arrival(const void *a, const void *b)
{
    const message *x = a, *y = b;
    if (x->due_ms != y->due_ms)
        return x->due_ms < y->due_ms ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int collect_outgoing(dd_testing_cluster *c, uint32_t i)
{
    dd_buf msg = DD_BUF_INIT, to = DD_BUF_INIT;
    int rc;
    while ((rc = dd_system_next_outgoing(&msg, &to, c->nodes[i].sys)) == DD_OK) {
        uint32_t target;
        if (node_index(c, &to, &target) == DD_OK) {
            if ((rc = send_message(c, i, target, &msg)) != DD_OK)
                break;
        } else {
            c->sent++, c->dropped++;
            dd_buf_free(&msg);
        }
        dd_buf_free(&to);
    }
    dd_buf_free(&msg);
    dd_buf_free(&to);
    return rc == DD_EDONE ? DD_OK : rc;
}

int dd_testing_cluster_step(dd_testing_cluster *c, uint64_t ms)
{
    int rc;
    size_t due = 0;
    if (!c)
        return DD_EINVAL;
    c->now_ms += ms;
    for (uint32_t i = 0; i < c->count; i++) {
        if (!c->nodes[i].sys)
            continue;
        if ((rc = dd_system_tick(c->nodes[i].sys, c->now_ms)) != DD_OK ||
            (rc = collect_outgoing(c, i)) != DD_OK)
            return rc;
    }
    if (c->in_flight_len == 0)
        return DD_OK; /* (qsort and memmove want a buffer) */
    qsort(c->in_flight, c->in_flight_len, sizeof *c->in_flight, by_arrival);
    while (due < c->in_flight_len && c->in_flight[due].due_ms <= c->now_ms)
        due++;
    for (size_t k = 0; k < due; k++) {
        message *m = &c->in_flight[k];
        node *to = &c->nodes[m->to];
        const char *from = c->nodes[m->from].id;
        if (!connected(c, m->from, m->to) || !to->sys ||
            dd_system_deliver(to->sys, c->now_ms, from, strlen(from), m->bytes.data,
                              m->bytes.len) != DD_OK)
            c->dropped++;
        dd_buf_free(&m->bytes);
    }
    memmove(c->in_flight, c->in_flight + due, (c->in_flight_len - due) * sizeof *c->in_flight);
    c->in_flight_len -= due;
    return DD_OK;
}

int dd_testing_cluster_run(dd_testing_cluster *c, uint64_t ms, uint64_t step_ms)
{
    int rc = DD_OK;
    if (!c)
        return DD_EINVAL;
    if (step_ms == 0)
        step_ms = 50;
    for (uint64_t done = 0; done < ms && rc == DD_OK; done += step_ms)
        rc = dd_testing_cluster_step(c, step_ms);
    return rc;
}
