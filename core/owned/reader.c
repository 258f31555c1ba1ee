/*
 * Views of other nodes' instances: applying snapshots, deltas and feeds,
 * pulling, and reads with a maximum staleness.
 *
 * The rules (dstate's): a delta applies only when it is exactly age + 1 of
 * the view's incarnation; older deltas are dropped; a gap or a newer
 * incarnation asks the owner for the missing part with a PULL (which the
 * owner answers with deltas, a snapshot, or a feed entry confirming the
 * reader is current). A snapshot that is not newer than the view is
 * discarded. A view is fresh for a read when it has reached the newest
 * generation heard of (from a feed or a delta) and the owner confirmed it
 * within the read's max staleness, measured on this node's clock only.
 * Every change to a view is built aside and swapped in, so a failure
 * leaves the old view whole.
 */
#include <string.h>

#include "owned/owned_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

#define OWNED_QUERIES_MAX 65536

void owned_view_clear(owned_view *v)
{
    owned_chain_clear(&v->chain);
    memset(v, 0, sizeof(*v));
}

static bool view_fresh(const owned *e, const owned_view *v, uint64_t max_staleness_ms)
{
    if (!v->present || v->mismatch)
        return false;
    if (v->announced && owned_gen_cmp(owned_chain_gen(&v->chain), v->ann) < 0)
        return false;
    if (max_staleness_ms == UINT64_MAX)
        return true;
    return e->now_ms - v->confirmed_ms <= max_staleness_ms;
}

static void announce(owned_view *v, owned_gen g)
{
    if (!v->announced || owned_gen_cmp(g, v->ann) > 0) {
        v->ann = g;
        v->announced = true;
    }
}

void owned_queries_complete(owned *e, uint64_t node, size_t type, int status, bool force)
{
    owned_member *m = owned_find_member(e, node);
    size_t keep = 0;
    for (size_t i = 0; i < e->n_queries; i++) {
        owned_query_req *q = &e->queries[i];
        bool done = false;
        if (q->node == node && q->type == type)
            done = force || (m && m->up && view_fresh(e, &m->views[type], q->max_staleness_ms));
        if (!done) {
            e->queries[keep++] = *q;
            continue;
        }
        owned_event ev = owned_event_about(OWNED_EV_QUERY_DONE, &e->types[type], node);
        ev.status = status;
        ev.request_id = q->id;
        if (m && m->up && m->views[type].present) {
            owned_gen g = owned_chain_gen(&m->views[type].chain);
            ev.incarnation = g.incarnation;
            ev.age = g.age;
        }
        owned_emit(e, &ev);
    }
    e->n_queries = keep;
}

static void send_pull(owned *e, owned_member *m, size_t type)
{
    owned_view *v = &m->views[type];
    owned_type *t = &e->types[type];
    owned_msg p;
    memset(&p, 0, sizeof(p));
    p.kind = OWNED_MSG_PULL;
    p.type.data = (const uint8_t *)t->name;
    p.type.len = t->name_len;
    p.type_version = t->opt.wire_version;
    if (v->present) {
        owned_gen g = owned_chain_gen(&v->chain);
        p.incarnation = g.incarnation;
        p.age = g.age;
    }
    owned_send_msg(e, m->node, &p);
    v->pull_sent_ms = e->now_ms;
    v->pull_in_flight = true;
    e->stats.pulls_sent++;
}

/* Asks the owner for what this view misses, unless a pull is already on
 * its way (the tick re-sends it after pull_retry_ms). */
static void want_pull(owned *e, owned_member *m, size_t type)
{
    owned_view *v = &m->views[type];
    v->want_pull = true;
    if (!v->pull_in_flight || e->now_ms - v->pull_sent_ms >= e->types[type].opt.pull_retry_ms)
        send_pull(e, m, type);
}

/* The view caught up with what the owner said: a confirmation. */
static void confirmed(owned *e, owned_member *m, size_t type)
{
    owned_view *v = &m->views[type];
    v->confirmed_ms = e->now_ms;
    if (!v->announced || owned_gen_cmp(owned_chain_gen(&v->chain), v->ann) >= 0) {
        v->want_pull = false;
        v->pull_in_flight = false;
    }
    owned_queries_complete(e, m->node, type, ST_OK, false);
}

static void version_mismatch(owned *e, owned_member *m, size_t type, uint32_t peer_version)
{
    owned_view *v = &m->views[type];
    owned_type *t = &e->types[type];
    e->stats.version_dropped++;
    if (!v->mismatch) {
        owned_event ev = owned_event_about(OWNED_EV_VERSION_MISMATCH, t, m->node);
        ev.peer_version = peer_version;
        owned_emit(e, &ev);
    }
    if (t->opt.on_mismatch == OWNED_DROP_AND_WAIT && v->present) {
        owned_gen g = owned_chain_gen(&v->chain);
        owned_view_clear(v);
        owned_emit_simple(e, OWNED_EV_VIEW_REMOVED, t, m->node, g);
    }
    v->mismatch = true;
    v->want_pull = false;
    v->pull_in_flight = false;
    owned_queries_complete(e, m->node, type, ST_EUNSUPPORTED, true);
}

static int apply_snapshot(owned *e, owned_member *m, size_t type, const owned_msg *msg)
{
    owned_view *v = &m->views[type];
    owned_gen g = {msg->incarnation, msg->age + msg->n_deltas};
    if (v->present) {
        int c = owned_gen_cmp(g, owned_chain_gen(&v->chain));
        if (c <= 0) {
            e->stats.stale_dropped++;
            if (c == 0)
                confirmed(e, m, type);
            return ST_OK;
        }
    }
    owned_chain next;
    memset(&next, 0, sizeof(next));
    next.incarnation = msg->incarnation;
    next.base_age = msg->age;
    int rc = owned_chain_set_base(&next, msg->base.data, msg->base.len);
    for (size_t i = 0; rc == ST_OK && i < msg->n_deltas; i++)
        rc = owned_chain_push(&next, msg->deltas[i].data, msg->deltas[i].len);
    if (rc) {
        owned_chain_clear(&next);
        return rc;
    }
    owned_chain_clear(&v->chain);
    v->chain = next;
    v->present = true;
    v->mismatch = false;
    v->wire_version = msg->type_version;
    announce(v, g);
    e->stats.snapshots_applied++;
    owned_emit_simple(e, OWNED_EV_VIEW_CHANGED, &e->types[type], m->node, g);
    confirmed(e, m, type);
    return ST_OK;
}

static int apply_deltas(owned *e, owned_member *m, size_t type, const owned_msg *msg)
{
    owned_view *v = &m->views[type];
    uint64_t last = msg->age + msg->n_deltas - 1;
    owned_gen top = {msg->incarnation, last};
    if (!v->present) {
        announce(v, top);
        want_pull(e, m, type);
        return ST_OK;
    }
    owned_gen cur = owned_chain_gen(&v->chain);
    if (msg->incarnation < cur.incarnation ||
        (msg->incarnation == cur.incarnation && last <= cur.age)) {
        e->stats.stale_dropped++;
        return ST_OK;
    }
    if (msg->incarnation > cur.incarnation || msg->age > cur.age + 1) {
        announce(v, top);
        want_pull(e, m, type);
        return ST_OK;
    }
    size_t from = (size_t)(cur.age + 1 - msg->age);
    size_t add = msg->n_deltas - from;
    if (v->chain.n_deltas + add > OWNED_DELTAS_MAX) {
        announce(v, top);
        want_pull(e, m, type);
        return ST_OK;
    }
    size_t before = v->chain.n_deltas;
    int rc = ST_OK;
    for (size_t i = from; rc == ST_OK && i < msg->n_deltas; i++)
        rc = owned_chain_push(&v->chain, msg->deltas[i].data, msg->deltas[i].len);
    if (rc) {
        while (v->chain.n_deltas > before)
            bytes_free(&v->chain.deltas[--v->chain.n_deltas]);
        return rc;
    }
    v->mismatch = false;
    announce(v, top);
    e->stats.deltas_applied += add;
    owned_emit_simple(e, OWNED_EV_VIEW_CHANGED, &e->types[type], m->node, top);
    confirmed(e, m, type);
    return ST_OK;
}

static void apply_feed(owned *e, owned_member *m, size_t type, const owned_feed_entry *f)
{
    owned_view *v = &m->views[type];
    owned_gen g = {f->incarnation, f->age};
    /* Lazy strategies pull only for a waiting read; an active-push reader
     * that is behind missed a push and repairs at once. */
    bool eager = e->types[type].opt.strategy == OWNED_ACTIVE_PUSH || v->want_pull;
    announce(v, g);
    if (!v->present) {
        if (eager)
            want_pull(e, m, type);
        return;
    }
    int c = owned_gen_cmp(g, owned_chain_gen(&v->chain));
    if (c == 0)
        confirmed(e, m, type);
    else if (c > 0 && eager)
        want_pull(e, m, type);
    else if (c < 0)
        e->stats.stale_dropped++;
}

int owned_reader_deliver(owned *e, owned_member *from, const owned_msg *m)
{
    size_t type;
    if (m->kind == OWNED_MSG_FEED) {
        for (size_t i = 0; i < m->n_feed; i++) {
            const owned_feed_entry *f = &m->feed[i];
            if (!owned_find_type(e, f->type.data, f->type.len, &type)) {
                e->stats.unknown_type++;
                continue;
            }
            if (f->type_version != e->types[type].opt.wire_version) {
                version_mismatch(e, from, type, f->type_version);
                continue;
            }
            apply_feed(e, from, type, f);
        }
        return ST_OK;
    }
    if (!owned_find_type(e, m->type.data, m->type.len, &type)) {
        e->stats.unknown_type++;
        return ST_OK;
    }
    if (m->type_version != e->types[type].opt.wire_version) {
        version_mismatch(e, from, type, m->type_version);
        return ST_OK;
    }
    if (m->kind == OWNED_MSG_SNAPSHOT)
        return apply_snapshot(e, from, type, m);
    return apply_deltas(e, from, type, m);
}

void owned_reader_tick(owned *e)
{
    uint64_t now = e->now_ms;
    size_t keep = 0;
    for (size_t i = 0; i < e->n_queries; i++) {
        owned_query_req q = e->queries[i];
        if (q.deadline_ms > now) {
            e->queries[keep++] = q;
            continue;
        }
        owned_event ev = owned_event_about(OWNED_EV_QUERY_DONE, &e->types[q.type], q.node);
        ev.status = ST_ETIMEOUT;
        ev.request_id = q.id;
        owned_emit(e, &ev);
    }
    e->n_queries = keep;
    for (size_t i = 0; i < e->n_members; i++) {
        owned_member *m = &e->members[i];
        if (!m->up)
            continue;
        for (size_t t = 0; t < e->n_types; t++) {
            owned_view *v = &m->views[t];
            if (v->want_pull && now - v->pull_sent_ms >= e->types[t].opt.pull_retry_ms)
                send_pull(e, m, t);
        }
    }
}

int owned_query(owned *e, const char *type, uint64_t node, uint64_t max_staleness_ms,
                uint64_t *request_id)
{
    if (!e || !type || !request_id)
        return error_set(ST_EINVAL, "owned query: engine, type and request_id must not be NULL");
    *request_id = 0;
    size_t ti;
    owned_type *t = owned_find_type(e, (const uint8_t *)type, strlen(type), &ti);
    if (!t)
        return error_set(ST_ENOTFOUND, "owned type '%s' is not registered", type);
    if (node == e->node_id)
        return ST_OK;
    owned_member *m = owned_find_member(e, node);
    if (!m || !m->up)
        return error_set(ST_ENOTFOUND, "owned query '%s': node %llu is not a member", type,
                         (unsigned long long)node);
    owned_view *v = &m->views[ti];
    if (view_fresh(e, v, max_staleness_ms))
        return ST_OK;
    if (e->n_queries >= OWNED_QUERIES_MAX)
        return error_set(ST_ELIMIT, "owned query '%s': %d queries pending", type,
                         OWNED_QUERIES_MAX);
    if (!array_reserve(&e->queries, &e->cap_queries, e->n_queries + 1, sizeof(*e->queries)))
        return error_oom();
    owned_query_req *q = &e->queries[e->n_queries++];
    q->id = e->next_request_id++;
    q->node = node;
    q->type = ti;
    q->max_staleness_ms = max_staleness_ms;
    q->deadline_ms = e->now_ms + t->opt.pull_timeout_ms;
    want_pull(e, m, ti);
    *request_id = q->id;
    return ST_OK;
}

static int copy_chain(owned_view_copy *out, const owned_chain *c)
{
    if (!bytes_reserve(&out->base, c->base.len ? c->base.len : 1))
        return error_oom();
    bytes_put(&out->base, c->base.data, c->base.len);
    if (c->n_deltas) {
        out->deltas = calloc(c->n_deltas, sizeof(*out->deltas));
        if (!out->deltas)
            return error_oom();
    }
    for (size_t i = 0; i < c->n_deltas; i++) {
        out->n_deltas++;
        if (!bytes_reserve(&out->deltas[i], c->deltas[i].len ? c->deltas[i].len : 1))
            return error_oom();
        bytes_put(&out->deltas[i], c->deltas[i].data, c->deltas[i].len);
    }
    out->gen = owned_chain_gen(c);
    out->base_age = c->base_age;
    return ST_OK;
}

int owned_read(owned *e, const char *type, uint64_t node, owned_view_copy *out)
{
    if (!e || !type || !out)
        return error_set(ST_EINVAL, "owned read: engine, type and out must not be NULL");
    memset(out, 0, sizeof(*out));
    size_t ti;
    owned_type *t = owned_find_type(e, (const uint8_t *)type, strlen(type), &ti);
    if (!t)
        return error_set(ST_ENOTFOUND, "owned type '%s' is not registered", type);
    const owned_chain *c;
    out->node = node;
    if (node == e->node_id) {
        c = &t->own;
        out->wire_version = t->opt.wire_version;
        out->confirmed_ms = e->now_ms;
    } else {
        owned_member *m = owned_find_member(e, node);
        if (!m || !m->up || !m->views[ti].present)
            return error_set(ST_ENOTFOUND, "owned read '%s': no view of node %llu", type,
                             (unsigned long long)node);
        const owned_view *v = &m->views[ti];
        c = &v->chain;
        out->wire_version = v->wire_version;
        out->version_mismatch = v->mismatch;
        out->confirmed_ms = v->confirmed_ms;
    }
    int rc = copy_chain(out, c);
    if (rc)
        owned_view_copy_free(out);
    return rc;
}
