/*
 * Actor slots in counters: pruning a removed node's actor (driven by
 * core/replicator/pruning.c) folds its slot into a survivor's and leaves a
 * marker so later merges ignore it, until the marker's time has passed.
 * Counters sit in the value itself or nested in a map's values, so every
 * operation here walks them with one visitor.
 */
#include "crdt/crdt_impl.h"
#include "util/error.h"
#include "util/status.h"

/* Calls fn on every counter in v: the value itself, or every nested value
 * of a map, per dot and joined (see map.c: each dot carries a value). */
typedef int (*gcounter_visit)(gcounter *g, void *arg);

static int visit_counters(crdt *v, gcounter_visit fn, void *arg)
{
    switch (v->type) {
    case CRDT_GCOUNTER: return fn(&v->u.gc, arg);
    case CRDT_PNCOUNTER: {
        int rc = fn(&v->u.pn.p, arg);
        return rc ? rc : fn(&v->u.pn.n, arg);
    }
    default: break;
    }
    if (!crdt_is_map(v->type) || !v->u.ds.n)
        return ST_OK;
    dotset *s = &v->u.ds;
    for (uint32_t i = 0; i < s->n; i++) {
        ds_entry *e = &s->entries[i];
        if (e->ax == DS_MULTI) {
            ds_multi *m = &s->multi[e->ctr];
            for (uint32_t k = 0; m->vals && k < m->n; k++) {
                int rc = visit_counters(m->vals[k], fn, arg);
                if (rc)
                    return rc;
            }
        }
        int rc = visit_counters(s->vals[i], fn, arg);
        if (rc)
            return rc;
    }
    return ST_OK;
}

typedef struct prune_arg {
    uint64_t removed, survivor, keep_until_ms;
} prune_arg;

static int prune_value(crdt *v, const prune_arg *a, bool top);

/* A map key's value is the join of its dots' values (map.c), and a
 * survivor's slot overlaps across those values (max, not sum), so folding
 * the removed slot into the survivor's one dot value at a time would lose
 * counts. A key with one dot is pruned in place (its dot value is the
 * key's value). A key with several dots (concurrent updates) is first
 * collapsed, at the top level only: the survivor updates it with a no-op,
 * one fresh dot carrying the pruned join, as any update would. Nested maps
 * are not collapsed (a fresh dot inside a value could reuse one of the
 * survivor's dots with another meaning), so their multi-dot keys wait
 * until the next update makes them single. */
static int prune_map(crdt *v, const prune_arg *a, bool top)
{
    dotset *s = &v->u.ds;
    for (uint32_t i = 0; i < s->n; i++) {
        ds_entry *e = &s->entries[i];
        crdt *joined = s->vals[i];
        if (!crdt_holds_actor(joined, a->removed))
            continue;
        if (e->ax != DS_MULTI) {
            int rc = prune_value(joined, a, false);
            if (rc)
                return rc;
            continue;
        }
        if (!top || crdt_is_map(joined->type))
            continue;
        crdt *c;
        int rc = crdt_clone(&c, joined);
        if (!rc)
            rc = prune_value(c, a, false);
        if (rc) {
            crdt_free(c);
            return rc;
        }
        rc = ds_map_put(s, ds_elem(s, e), e->len, a->survivor, c, NULL);
        if (rc)
            return rc;
    }
    return ST_OK;
}

static int prune_value(crdt *v, const prune_arg *a, bool top)
{
    switch (v->type) {
    case CRDT_GCOUNTER: return gcounter_prune(&v->u.gc, a->removed, a->survivor, a->keep_until_ms);
    case CRDT_PNCOUNTER: {
        int rc = gcounter_prune(&v->u.pn.p, a->removed, a->survivor, a->keep_until_ms);
        return rc ? rc : gcounter_prune(&v->u.pn.n, a->removed, a->survivor, a->keep_until_ms);
    }
    default: return crdt_is_map(v->type) ? prune_map(v, a, top) : ST_OK;
    }
}

int crdt_prune(crdt *v, uint64_t removed, uint64_t survivor, uint64_t keep_until_ms)
{
    /* Dots of a removed node stay (they are history, and a dot set does not
     * grow per update); only counters fold the removed slot and keep a
     * marker. */
    if (removed == survivor)
        return error_set(ST_EINVAL, "cannot prune an actor into itself");
    prune_arg a = {removed, survivor, keep_until_ms};
    return prune_value(v, &a, true);
}

static int holds_one(gcounter *g, void *argp)
{
    return gcounter_holds(g, *(const uint64_t *)argp) ? 1 : 0;
}

bool crdt_holds_actor(const crdt *v, uint64_t actor)
{
    return visit_counters((crdt *)v, holds_one, &actor) == 1;
}

static int markers_one(gcounter *g, void *arg)
{
    (void)arg;
    return g->nmarkers ? 1 : 0;
}

bool crdt_has_prune_markers(const crdt *v)
{
    return visit_counters((crdt *)v, markers_one, NULL) == 1;
}

typedef struct drop_arg {
    uint64_t now_ms;
    bool dropped;
} drop_arg;

static int drop_one(gcounter *g, void *argp)
{
    drop_arg *a = argp;
    if (g->nmarkers && gcounter_drop_markers(g, a->now_ms))
        a->dropped = true;
    return 0;
}

bool crdt_drop_prune_markers(crdt *v, uint64_t now_ms)
{
    drop_arg a = {now_ms, false};
    (void)visit_counters(v, drop_one, &a);
    return a.dropped;
}

typedef struct each_arg {
    int (*fn)(uint64_t actor, void *arg);
    void *arg;
} each_arg;

static int each_one(gcounter *g, void *argp)
{
    each_arg *a = argp;
    for (uint32_t i = 0; i < g->n; i++) {
        int rc = a->fn(g->actors[i], a->arg);
        if (rc)
            return rc;
    }
    return 0;
}

int crdt_each_counter_actor(const crdt *v, int (*fn)(uint64_t actor, void *arg), void *arg)
{
    each_arg a = {fn, arg};
    return visit_counters((crdt *)v, each_one, &a);
}

static int slots_one(gcounter *g, void *arg)
{
    *(uint64_t *)arg += g->n;
    return 0;
}

uint64_t crdt_counter_slots(const crdt *v)
{
    uint64_t n = 0;
    (void)visit_counters((crdt *)v, slots_one, &n);
    return n;
}
