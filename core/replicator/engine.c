/*
 * The engine's lifecycle: configuration defaults and checks, creation,
 * destruction and the accessors. The rest of the engine is spread by
 * concept: engine_queues.c (outgoing messages, events), engine_changes.c
 * (how a value changes, STATE entries, expiry), engine_local.c (local
 * operations), engine_dispatch.c (time and incoming messages), then
 * membership.c, antientropy.c, requests.c, pruning.c and durable.c.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

#define MIN_MESSAGE_BYTES 1024u

void engine_config_default(engine_config *c)
{
    memset(c, 0, sizeof(*c));
    c->gossip_interval_ms = 1000;
    c->gossip_fanout = 1;
    c->delta_strategy = ENGINE_DELTA_IMMEDIATE;
    c->max_message_bytes = 128u * 1024u;
    c->notify_interval_ms = 500;
    c->failure_timeout_ms = 5000;
    c->phi_threshold = 3.0; /* exponential model: about 7 mean intervals of silence */
    c->down_after_ms = 30000;
    c->remove_after_ms = 300000;
    c->tombstone_grace_ms = 60000;
    c->write_behind_interval_ms = 1000;
    c->expire_after_ms = 0;
    c->max_events = 65536;
    c->lim = limits_default();
    c->prune_interval_ms = 30000;
    c->prune_delay_ms = 30000;
    c->prune_marker_ttl_ms = 6ull * 3600 * 1000; /* Pekko's default */
}

uint64_t engine_actor_of(const char *node_id, size_t len, uint64_t incarnation)
{
    uint64_t a = hash_u64(hash_digest(node_id, len) ^ hash_u64(incarnation + 0x9e37u));
    return a ? a : 1;
}

static engine_pattern *copy_patterns(const engine_pattern *p, size_t n)
{
    engine_pattern *c = alloc_array(n ? n : 1, sizeof(*c));
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = malloc(p[i].len ? p[i].len : 1);
        if (!b) {
            for (size_t j = 0; j < i; j++)
                free((void *)c[j].bytes);
            free(c);
            return NULL;
        }
        if (p[i].len)
            memcpy(b, p[i].bytes, p[i].len);
        c[i].bytes = b;
        c[i].len = p[i].len;
        c[i].is_prefix = p[i].is_prefix;
    }
    return c;
}

static void free_patterns(engine_pattern *p, size_t n)
{
    if (!p)
        return;
    for (size_t i = 0; i < n; i++)
        free((void *)p[i].bytes);
    free(p);
}

bool engine_pattern_match(const engine_pattern *p, size_t n, const uint8_t *key, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i].is_prefix) {
            if (len >= p[i].len && memcmp(key, p[i].bytes, p[i].len) == 0)
                return true;
        } else if (len == p[i].len && memcmp(key, p[i].bytes, len) == 0) {
            return true;
        }
    }
    return false;
}

static int check_config(const engine_config *c)
{
    if (!c->node_id || !c->node_id[0])
        return error_set(ST_EINVAL, "replicator: node id must not be empty");
    if (strlen(c->node_id) > ENGINE_MAX_NODE_ID)
        return error_set(ST_EINVAL, "replicator: node id is longer than %u bytes",
                         ENGINE_MAX_NODE_ID);
    if (!c->gossip_interval_ms || !c->gossip_fanout)
        return error_set(ST_EINVAL, "replicator: gossip interval and fanout must be positive");
    if (c->max_message_bytes < MIN_MESSAGE_BYTES)
        return error_set(ST_EINVAL, "replicator: max message bytes %zu is below %u",
                         c->max_message_bytes, MIN_MESSAGE_BYTES);
    if (c->delta_strategy > ENGINE_DELTA_NONE)
        return error_set(ST_EINVAL, "replicator: unknown delta strategy %d",
                         (int)c->delta_strategy);
    if (!c->max_events)
        return error_set(ST_EINVAL, "replicator: max events must be positive");
    if (c->seed_count && !c->seeds)
        return error_set(ST_EINVAL, "replicator: seeds must not be NULL");
    for (size_t i = 0; i < c->seed_count; i++)
        if (!c->seeds[i] || !c->seeds[i][0] || strlen(c->seeds[i]) > ENGINE_MAX_NODE_ID)
            return error_set(ST_EINVAL, "replicator: seed %zu is not a valid node id", i);
    if ((c->durable_count && !c->durable) || (c->expiry_count && !c->expiry))
        return error_set(ST_EINVAL, "replicator: pattern list must not be NULL");
    if (c->expiry_count && !c->expire_after_ms)
        return error_set(ST_EINVAL, "replicator: expiry prefixes need expire_after_ms");
    if (c->durable_prefix_len > ENGINE_DURABLE_PREFIX_MAX ||
        (c->durable_prefix_len && !c->durable_prefix))
        return error_set(ST_EINVAL, "replicator: the store prefix must be at most %d bytes",
                         ENGINE_DURABLE_PREFIX_MAX);
    return ST_OK;
}

int engine_new(engine **out, const engine_config *c, uint64_t now_ms)
{
    int rc;
    engine *e = NULL;
    if (!out || !c)
        return error_set(ST_EINVAL, "replicator: arguments must not be NULL");
    *out = NULL;
    rc = check_config(c);
    if (rc)
        return rc;
    e = calloc(1, sizeof(*e));
    if (!e)
        return error_oom();
    e->cfg = *c;
    e->node_id_len = strlen(c->node_id);
    e->node_id = strdup(c->node_id);
    e->durable = copy_patterns(c->durable, c->durable_count);
    e->expiry = copy_patterns(c->expiry, c->expiry_count);
    if (!e->node_id || !e->durable || !e->expiry) {
        rc = error_oom();
        goto done;
    }
    e->cfg.node_id = e->node_id;
    e->cfg.durable = e->durable;
    e->cfg.expiry = e->expiry;
    e->cfg.seeds = NULL; /* copied into the member table below */
    if (c->durable_prefix) {
        memcpy(e->durable_prefix, c->durable_prefix, c->durable_prefix_len);
        e->durable_prefix_len = c->durable_prefix_len;
    } else {
        e->durable_prefix_len = sizeof(ENGINE_DURABLE_PREFIX) - 1;
        memcpy(e->durable_prefix, ENGINE_DURABLE_PREFIX, e->durable_prefix_len);
    }
    e->cfg.durable_prefix = e->durable_prefix;
    e->cfg.durable_prefix_len = e->durable_prefix_len;
    e->incarnation = c->incarnation;
    e->actor = engine_actor_of(e->node_id, e->node_id_len, e->incarnation);
    rng_seed(&e->rng, c->seed ^ hash_digest(e->node_id, e->node_id_len));
    e->now_ms = now_ms;
    e->next_gossip_ms = now_ms;
    e->next_notify_ms = now_ms + c->notify_interval_ms;
    e->next_flush_ms = now_ms + c->write_behind_interval_ms;
    e->next_request_id = 1;
    e->next_msg_id = 1;
    rc = kt_init(&e->kt);
    if (rc)
        goto done;
    rc = membership_init(e);
    if (rc)
        goto done;
    for (size_t i = 0; i < c->seed_count; i++) {
        size_t len = strlen(c->seeds[i]);
        if (len == e->node_id_len && memcmp(c->seeds[i], e->node_id, len) == 0)
            membership_start_cluster(e); /* a seed that lists itself starts the cluster */
    }
    if (!c->seed_count)
        membership_start_cluster(e);
    if (c->seed_count) {
        /* Keep our own copy: the caller's array is borrowed. */
        char **seeds = calloc(c->seed_count, sizeof(char *));
        if (!seeds) {
            rc = error_oom();
            goto done;
        }
        e->cfg.seeds = (const char *const *)seeds;
        for (size_t i = 0; i < c->seed_count; i++) {
            seeds[i] = strdup(c->seeds[i]);
            if (!seeds[i]) {
                rc = error_oom();
                goto done;
            }
        }
    }
    if (c->store) {
        rc = durable_load(e);
        if (rc)
            goto done;
    }
    *out = e;
    e = NULL;
done:
    engine_free(e);
    return rc;
}

void engine_event_clear(engine_event *ev)
{
    if (!ev)
        return;
    free(ev->key);
    free(ev->member_id);
    memset(ev, 0, sizeof(*ev));
}

void engine_free(engine *e)
{
    if (!e)
        return;
    if (e->cfg.store && e->kt.index)
        (void)durable_flush(e);
    kt_free(&e->kt);
    membership_free(e);
    while (e->out_len) {
        outmsg *m = &e->out[ring_take_oldest(&e->out_head, &e->out_len, e->out_cap)];
        free(m->to);
        free(m->data);
    }
    free(e->out);
    while (e->ev_len)
        engine_event_clear(&e->events[ring_take_oldest(&e->ev_head, &e->ev_len, e->ev_cap)]);
    free(e->events);
    log_queue_free(&e->logs); /* calloc'd zero is an empty queue */
    for (size_t i = 0; i < e->nsubs; i++)
        free(e->subs[i].key);
    free(e->subs);
    free_patterns(e->durable, e->cfg.durable_count);
    free_patterns(e->expiry, e->cfg.expiry_count);
    requests_free(e);
    prune_free(e);
    while (e->npartials)
        engine_partial_drop(e, 0);
    free(e->partials);
    if (e->cfg.seeds) {
        for (size_t i = 0; i < e->cfg.seed_count; i++)
            free((void *)e->cfg.seeds[i]);
        free((void *)e->cfg.seeds);
    }
    free(e->stale);
    free(e->notify);
    free(e->batched);
    free(e->dirty);
    free(e->tombs);
    free(e->node_id);
    free(e);
}

int idx_push(uint32_t **v, size_t *n, size_t *cap, uint32_t idx)
{
    if (!array_reserve(v, cap, *n + 1, sizeof(uint32_t)))
        return error_oom();
    (*v)[(*n)++] = idx;
    return ST_OK;
}

const char *engine_node_id(const engine *e)
{
    return e->node_id;
}

uint64_t engine_incarnation(const engine *e)
{
    return e->incarnation;
}

uint64_t engine_actor(const engine *e)
{
    return e->actor;
}

int engine_next_log(engine *e, bytes *out)
{
    return log_queue_pop(&e->logs, out, e->now_ms);
}

size_t engine_log_count(const engine *e)
{
    return log_queue_count(&e->logs);
}

void engine_get_stats(const engine *e, engine_stats *out)
{
    *out = e->stats;
}
