/*
 * The owned-state engine's frame: lifetime, membership, the outgoing and
 * event queues, timers and message dispatch. Both queues are bounded FIFO
 * rings; when one is full the newest item is dropped and counted, which
 * the protocol tolerates (a lost message is repaired by a pull, a feed or
 * a periodic sync).
 */
#include <stddef.h>
#include <string.h>

#include "owned/owned_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/sorted.h"
#include "util/status.h"

#define OWNED_QUEUE_DEFAULT 65536
#define OWNED_MEMBERS_MAX 65536

owned_type_options owned_type_defaults(void)
{
    owned_type_options o = {OWNED_ACTIVE_PUSH, 1, 1, OWNED_KEEP_STALE, 64, 100, 1000, 200, 5000};
    return o;
}

int owned_open(owned **out, const owned_options *opts)
{
    if (!out || !opts)
        return error_set(ST_EINVAL, "owned: out and options must not be NULL");
    *out = NULL;
    if (opts->incarnation == 0)
        return error_set(ST_EINVAL, "owned: incarnation must be greater than 0");
    owned *e = calloc(1, sizeof(*e));
    if (!e)
        return error_oom();
    e->node_id = opts->node_id;
    e->incarnation = opts->incarnation;
    e->persist = opts->persist;
    e->lim = opts->lim;
    if (e->lim.max_bytes == 0)
        e->lim = limits_default();
    e->max_outgoing = opts->max_outgoing ? opts->max_outgoing : OWNED_QUEUE_DEFAULT;
    e->max_events = opts->max_events ? opts->max_events : OWNED_QUEUE_DEFAULT;
    e->next_request_id = 1;
    *out = e;
    return ST_OK;
}

void owned_view_copy_free(owned_view_copy *v)
{
    if (!v)
        return;
    bytes_free(&v->base);
    for (size_t i = 0; i < v->n_deltas; i++)
        bytes_free(&v->deltas[i]);
    free(v->deltas);
    memset(v, 0, sizeof(*v));
}

void owned_close(owned *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_members; i++) {
        for (size_t t = 0; t < e->n_types; t++)
            owned_view_clear(&e->members[i].views[t]);
        free(e->members[i].views);
    }
    free(e->members);
    for (size_t t = 0; t < e->n_types; t++)
        owned_chain_clear(&e->types[t].own);
    free(e->types);
    free(e->queries);
    for (size_t i = 0; i < e->out_len; i++)
        free(e->out[(e->out_head + i) % e->out_cap].data);
    free(e->out);
    free(e->events);
    bytes_free(&e->scratch);
    free(e);
}

owned_type *owned_find_type(owned *e, const uint8_t *name, size_t len, size_t *index)
{
    for (size_t i = 0; i < e->n_types; i++) {
        owned_type *t = &e->types[i];
        if (t->name_len == len && memcmp(t->name, name, len) == 0) {
            if (index)
                *index = i;
            return t;
        }
    }
    return NULL;
}

/* Members are kept sorted by node id: lookups bisect and owned_nodes
 * lists them in order without sorting. */
static size_t member_lower_bound(const owned *e, uint64_t node)
{
    return sorted_lower_bound_u64(e->members, e->n_members, sizeof *e->members,
                                  offsetof(owned_member, node), node);
}

owned_member *owned_find_member(owned *e, uint64_t node)
{
    size_t at = member_lower_bound(e, node);
    return at < e->n_members && e->members[at].node == node ? &e->members[at] : NULL;
}

/* Grows a ring buffer to hold one more item, keeping FIFO order. */
static bool ring_grow(void **items, size_t item_size, size_t *head, size_t len, size_t *cap)
{
    if (len < *cap)
        return true;
    size_t ncap = grow_capacity(*cap, len + 1);
    uint8_t *n = alloc_array(ncap, item_size);
    if (!n)
        return false;
    for (size_t i = 0; i < len; i++)
        memcpy(n + i * item_size, (uint8_t *)*items + ((*head + i) % *cap) * item_size, item_size);
    free(*items);
    *items = n;
    *head = 0;
    *cap = ncap;
    return true;
}

void owned_send(owned *e, uint64_t to, bytes *b, bool reliable)
{
    if (b->failed || e->out_len >= e->max_outgoing ||
        !ring_grow((void **)&e->out, sizeof(*e->out), &e->out_head, e->out_len, &e->out_cap)) {
        e->stats.outgoing_dropped++;
        bytes_free(b);
        return;
    }
    owned_out *o = &e->out[(e->out_head + e->out_len) % e->out_cap];
    o->to = to;
    o->reliable = reliable;
    o->data = bytes_steal(b, &o->len);
    if (!o->data) {
        e->stats.outgoing_dropped++;
        return;
    }
    e->out_len++;
}

void owned_send_msg(owned *e, uint64_t to, const owned_msg *m)
{
    bytes b = BYTES_INIT;
    owned_msg_encode(&b, m);
    owned_send(e, to, &b, owned_msg_reliable(m));
}

int owned_next_outgoing(owned *e, uint64_t *to, bytes *msg)
{
    return owned_next_outgoing_reliable(e, to, msg, NULL);
}

int owned_next_outgoing_reliable(owned *e, uint64_t *to, bytes *msg, bool *reliable)
{
    if (!e || !to || !msg)
        return error_set(ST_EINVAL, "owned: engine, to and msg must not be NULL");
    if (e->out_len == 0)
        return ST_EDONE;
    owned_out *o = &e->out[ring_take_oldest(&e->out_head, &e->out_len, e->out_cap)];
    bytes_free(msg);
    msg->data = o->data;
    msg->len = msg->cap = o->len;
    *to = o->to;
    if (reliable)
        *reliable = o->reliable;
    return ST_OK;
}

void owned_emit(owned *e, const owned_event *ev)
{
    if (e->ev_len >= e->max_events ||
        !ring_grow((void **)&e->events, sizeof(*e->events), &e->ev_head, e->ev_len, &e->ev_cap)) {
        e->stats.events_dropped++;
        return;
    }
    e->events[(e->ev_head + e->ev_len) % e->ev_cap] = *ev;
    e->ev_len++;
}

owned_event owned_event_about(uint32_t kind, const owned_type *t, uint64_t node)
{
    owned_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.node = node;
    memcpy(ev.type, t->name, t->name_len + 1);
    return ev;
}

void owned_emit_simple(owned *e, uint32_t kind, const owned_type *t, uint64_t node, owned_gen gen)
{
    owned_event ev = owned_event_about(kind, t, node);
    ev.incarnation = gen.incarnation;
    ev.age = gen.age;
    owned_emit(e, &ev);
}

int owned_next_event(owned *e, owned_event *out)
{
    if (!e || !out)
        return error_set(ST_EINVAL, "owned: engine and out must not be NULL");
    if (e->ev_len == 0)
        return ST_EDONE;
    *out = e->events[ring_take_oldest(&e->ev_head, &e->ev_len, e->ev_cap)];
    return ST_OK;
}

size_t owned_event_count(const owned *e)
{
    return e ? e->ev_len : 0;
}

size_t owned_outgoing_count(const owned *e)
{
    return e ? e->out_len : 0;
}

owned_stats owned_get_stats(const owned *e)
{
    owned_stats s;
    memset(&s, 0, sizeof(s));
    return e ? e->stats : s;
}

uint64_t owned_node_id(const owned *e)
{
    return e ? e->node_id : 0;
}

int owned_member_up(owned *e, uint64_t node, uint64_t incarnation)
{
    if (!e)
        return error_set(ST_EINVAL, "owned: engine must not be NULL");
    if (node == e->node_id)
        return ST_OK;
    owned_member *m = owned_find_member(e, node);
    if (!m) {
        if (e->n_members >= OWNED_MEMBERS_MAX)
            return error_set(ST_ELIMIT, "owned: more than %d members", OWNED_MEMBERS_MAX);
        if (!array_reserve(&e->members, &e->cap_members, e->n_members + 1, sizeof(*e->members)))
            return error_oom();
        owned_view *views = NULL;
        if (e->n_types && !(views = calloc(e->n_types, sizeof(*views))))
            return error_oom();
        size_t at = member_lower_bound(e, node);
        memmove(&e->members[at + 1], &e->members[at], (e->n_members - at) * sizeof(*m));
        e->n_members++;
        m = &e->members[at];
        memset(m, 0, sizeof(*m));
        m->node = node;
        m->views = views;
    } else if (m->up && m->incarnation == incarnation) {
        return ST_OK;
    }
    /* A member that restarted without our seeing it leave keeps its old
     * views until its new instances' generations replace them. */
    m->incarnation = incarnation;
    m->up = true;
    owned_owner_greet(e, node);
    return ST_OK;
}

int owned_member_left(owned *e, uint64_t node)
{
    if (!e)
        return error_set(ST_EINVAL, "owned: engine must not be NULL");
    owned_member *m = owned_find_member(e, node);
    if (!m || !m->up)
        return ST_OK;
    m->up = false;
    for (size_t t = 0; t < e->n_types; t++) {
        owned_view *v = &m->views[t];
        bool had = v->present;
        owned_gen g = owned_chain_gen(&v->chain);
        owned_view_clear(v);
        if (had)
            owned_emit_simple(e, OWNED_EV_VIEW_REMOVED, &e->types[t], node, g);
        owned_queries_complete(e, node, t, ST_ENOTFOUND, true);
    }
    return ST_OK;
}

int owned_nodes(owned *e, uint64_t *nodes, size_t cap, size_t *count)
{
    if (!e || !count || (cap && !nodes))
        return error_set(ST_EINVAL, "owned: engine, nodes and count must not be NULL");
    size_t n = 0;
    for (size_t i = 0; i < e->n_members; i++) {
        if (!e->members[i].up)
            continue;
        if (n < cap)
            nodes[n] = e->members[i].node;
        n++;
    }
    *count = n;
    return ST_OK;
}

int owned_tick(owned *e, uint64_t now_ms)
{
    if (!e)
        return error_set(ST_EINVAL, "owned: engine must not be NULL");
    /* Engine time advances by the host's forward steps only: a host clock
     * that steps back (an adjustment) neither rewinds the timers nor
     * freezes them until it catches up. */
    if (!e->ticked) {
        e->now_ms = now_ms;
        e->ticked = true;
    } else if (now_ms > e->host_ms) {
        e->now_ms += now_ms - e->host_ms;
    }
    e->host_ms = now_ms;
    owned_owner_tick(e);
    owned_reader_tick(e);
    return ST_OK;
}

int owned_deliver(owned *e, uint64_t from, const uint8_t *data, size_t len)
{
    if (!e)
        return error_set(ST_EINVAL, "owned: engine must not be NULL");
    owned_msg m;
    int rc = owned_msg_decode(&m, data, len, &e->lim);
    if (rc) {
        e->stats.corrupt++;
        return error_wrap("from node %llu", (unsigned long long)from);
    }
    e->stats.messages_in++;
    owned_member *mem = owned_find_member(e, from);
    if (!mem || !mem->up || from == e->node_id) {
        e->stats.ghost_dropped++;
        goto done;
    }
    if (m.kind == OWNED_MSG_PULL) {
        owned_type *t = owned_find_type(e, m.type.data, m.type.len, NULL);
        if (!t)
            e->stats.unknown_type++;
        else
            owned_owner_answer_pull(e, from, t, &m);
        goto done;
    }
    rc = owned_reader_deliver(e, mem, &m);
done:
    owned_msg_free(&m);
    return rc;
}
