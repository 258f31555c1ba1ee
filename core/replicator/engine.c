/*
 * The engine's spine: lifecycle, the outgoing and event queues, local
 * operations (update, get, delete, keys), subscriptions, expiry and the
 * dispatch of incoming messages to membership.c, antientropy.c and
 * requests.c.
 *
 * Change handling is funnelled through engine_changed() so that every way a
 * value can change (a local op, a delta, a full state, a read reply, a
 * delete) updates the digest, the durable copy and the subscriptions the
 * same way. Digests are recomputed lazily, once per gossip round, because a
 * hot key can change thousands of times between two rounds.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

#define OUT_MAX_BYTES (256ull << 20)
#define MAX_NODE_ID 255u
#define MAX_PARTIALS 16u
#define PARTIAL_TIMEOUT_MS 30000u
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
    uint64_t a = hash_u64(hash_bytes(node_id, len, 0) ^ hash_u64(incarnation + 0x9e37u));
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
    if (strlen(c->node_id) > MAX_NODE_ID)
        return error_set(ST_EINVAL, "replicator: node id is longer than %u bytes", MAX_NODE_ID);
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
        if (!c->seeds[i] || !c->seeds[i][0] || strlen(c->seeds[i]) > MAX_NODE_ID)
            return error_set(ST_EINVAL, "replicator: seed %zu is not a valid node id", i);
    if ((c->durable_count && !c->durable) || (c->expiry_count && !c->expiry))
        return error_set(ST_EINVAL, "replicator: pattern list must not be NULL");
    if (c->expiry_count && !c->expire_after_ms)
        return error_set(ST_EINVAL, "replicator: expiry prefixes need expire_after_ms");
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
    e->incarnation = c->incarnation;
    e->actor = engine_actor_of(e->node_id, e->node_id_len, e->incarnation);
    rng_seed(&e->rng, c->seed ^ hash_bytes(e->node_id, e->node_id_len, 0));
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
        if (len == e->node_id_len && memcmp(c->seeds[i], e->node_id, len) == 0) {
            e->joined = true; /* a seed that lists itself starts the cluster */
            e->members[0].state = MEMBER_UP;
        }
    }
    if (!c->seed_count) {
        e->joined = true;
        e->members[0].state = MEMBER_UP;
    }
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
        outmsg *m = &e->out[e->out_head];
        free(m->to);
        free(m->data);
        e->out_head = (e->out_head + 1) % e->out_cap;
        e->out_len--;
    }
    free(e->out);
    while (e->ev_len) {
        engine_event_clear(&e->events[e->ev_head]);
        e->ev_head = (e->ev_head + 1) % e->ev_cap;
        e->ev_len--;
    }
    free(e->events);
    for (size_t i = 0; i < e->nsubs; i++)
        free(e->subs[i].key);
    free(e->subs);
    free_patterns(e->durable, e->cfg.durable_count);
    free_patterns(e->expiry, e->cfg.expiry_count);
    requests_free(e);
    prune_free(e);
    for (size_t i = 0; i < e->npartials; i++) {
        for (uint32_t j = 0; j < e->partials[i].count; j++)
            bytes_free(&e->partials[i].pieces[j]);
        free(e->partials[i].pieces);
    }
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
    if (*n == *cap) {
        size_t c = grow_capacity(*cap, *n + 1);
        uint32_t *p = realloc_array(*v, c, sizeof(uint32_t));
        if (!p)
            return error_oom();
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = idx;
    return ST_OK;
}

/* ---- queues ---------------------------------------------------------- */

static int out_push(engine *e, const char *to, size_t to_len, uint8_t *data, size_t len)
{
    if (e->out_bytes + len > OUT_MAX_BYTES) {
        /* The host is not pumping; gossip repairs whatever is dropped. */
        free(data);
        return error_set(ST_ELIMIT, "replicator: outgoing queue is full");
    }
    if (e->out_len == e->out_cap) {
        size_t cap = grow_capacity(e->out_cap, e->out_len + 1);
        outmsg *o = alloc_array(cap, sizeof(outmsg));
        if (!o) {
            free(data);
            return error_oom();
        }
        for (size_t i = 0; i < e->out_len; i++)
            o[i] = e->out[(e->out_head + i) % e->out_cap];
        free(e->out);
        e->out = o;
        e->out_cap = cap;
        e->out_head = 0;
    }
    char *t = malloc(to_len + 1);
    if (!t) {
        free(data);
        return error_oom();
    }
    memcpy(t, to, to_len);
    t[to_len] = 0;
    outmsg *m = &e->out[(e->out_head + e->out_len) % e->out_cap];
    m->to = t;
    m->to_len = to_len;
    m->data = data;
    m->len = len;
    e->out_len++;
    e->out_bytes += len;
    e->stats.msgs_sent++;
    e->stats.bytes_sent += len;
    return ST_OK;
}

int engine_send(engine *e, const char *to, size_t to_len, bytes *msg)
{
    int rc = ST_OK;
    if (msg->failed) {
        bytes_free(msg);
        return error_oom();
    }
    size_t cap = e->cfg.max_message_bytes;
    if (msg->len <= cap) {
        size_t len;
        uint8_t *data = bytes_steal(msg, &len);
        return out_push(e, to, to_len, data, len);
    }
    /* Too large for one frame: send numbered pieces, each under the cap. */
    size_t chunk = cap - WIRE_HEADER_MAX - 40;
    uint64_t count = (msg->len + chunk - 1) / chunk;
    uint64_t id = e->next_msg_id++;
    for (uint64_t i = 0; i < count && rc == ST_OK; i++) {
        bytes f = BYTES_INIT;
        size_t off = (size_t)i * chunk;
        size_t n = msg->len - off < chunk ? msg->len - off : chunk;
        wire_header(&f, WIRE_FRAG, e->incarnation);
        bytes_put_varint(&f, id);
        bytes_put_varint(&f, i);
        bytes_put_varint(&f, count);
        bytes_put_blob(&f, msg->data + off, n);
        if (f.failed) {
            bytes_free(&f);
            rc = error_oom();
            break;
        }
        size_t len;
        uint8_t *data = bytes_steal(&f, &len);
        rc = out_push(e, to, to_len, data, len);
    }
    bytes_free(msg);
    return rc;
}

int engine_next_outgoing(engine *e, bytes *to, bytes *msg)
{
    if (!e->out_len)
        return ST_EDONE;
    outmsg *m = &e->out[e->out_head];
    bytes_free(to);
    bytes_free(msg);
    to->data = (uint8_t *)m->to;
    to->len = m->to_len;
    to->cap = m->to_len + 1;
    msg->data = m->data;
    msg->len = msg->cap = m->len;
    e->out_bytes -= m->len;
    e->out_head = (e->out_head + 1) % e->out_cap;
    e->out_len--;
    return ST_OK;
}

size_t engine_outgoing_count(const engine *e)
{
    return e->out_len;
}

void engine_emit(engine *e, engine_event *ev)
{
    if (e->ev_len >= e->cfg.max_events) {
        e->ev_dropped++;
        engine_event_clear(ev);
        return;
    }
    if (e->ev_len == e->ev_cap) {
        size_t cap = grow_capacity(e->ev_cap, e->ev_len + 1);
        engine_event *q = alloc_array(cap, sizeof(engine_event));
        if (!q) {
            e->ev_dropped++;
            engine_event_clear(ev);
            return;
        }
        for (size_t i = 0; i < e->ev_len; i++)
            q[i] = e->events[(e->ev_head + i) % e->ev_cap];
        free(e->events);
        e->events = q;
        e->ev_cap = cap;
        e->ev_head = 0;
    }
    e->events[(e->ev_head + e->ev_len) % e->ev_cap] = *ev;
    e->ev_len++;
    memset(ev, 0, sizeof(*ev));
}

int engine_next_event(engine *e, engine_event *out)
{
    memset(out, 0, sizeof(*out));
    if (!e->ev_len) {
        if (!e->ev_dropped)
            return ST_EDONE;
        out->kind = ENGINE_EV_OVERFLOW;
        out->dropped = e->ev_dropped;
        e->ev_dropped = 0;
        return ST_OK;
    }
    *out = e->events[e->ev_head];
    e->ev_head = (e->ev_head + 1) % e->ev_cap;
    e->ev_len--;
    return ST_OK;
}

size_t engine_event_count(const engine *e)
{
    return e->ev_len + (e->ev_dropped ? 1 : 0);
}

/* ---- change handling ------------------------------------------------- */

uint64_t engine_entry_digest(const kentry *ke)
{
    uint64_t d;
    if (ke->flags & KE_TOMB)
        d = hash_u64(ke->wire_hash ^ 0x746f6d6273746f6eull);
    else
        d = hash_u64(ke->wire_hash ^ hash_u64(crdt_digest(ke->value) + ke->type));
    return d ? d : 1;
}

void engine_refresh_digests(engine *e)
{
    for (size_t i = 0; i < e->nstale; i++) {
        uint32_t idx = e->stale[i];
        kentry *ke = kt_at(&e->kt, idx);
        if (!ke->used || !(ke->flags & KE_DIGEST_STALE))
            continue;
        ke->flags &= (uint8_t)~KE_DIGEST_STALE;
        kt_set_digest(&e->kt, idx, engine_entry_digest(ke));
    }
    e->nstale = 0;
}

static bool subscribed(const engine *e, const uint8_t *key, size_t len)
{
    for (size_t i = 0; i < e->nsubs; i++) {
        const subscription *s = &e->subs[i];
        if (s->is_prefix ? (len >= s->len && memcmp(key, s->key, s->len) == 0)
                         : (len == s->len && memcmp(key, s->key, len) == 0))
            return true;
    }
    return false;
}

int engine_changed(engine *e, uint32_t idx, engine_event_kind kind)
{
    kentry *ke = kt_at(&e->kt, idx);
    if (!(ke->flags & KE_DIGEST_STALE)) {
        if (idx_push(&e->stale, &e->nstale, &e->cap_stale, idx) == ST_OK)
            ke->flags |= KE_DIGEST_STALE;
        else
            kt_set_digest(&e->kt, idx, engine_entry_digest(ke));
    }
    if (e->nsubs && subscribed(e, ke->key, ke->key_len)) {
        if (!(ke->flags & KE_NOTIFY)) {
            if (idx_push(&e->notify, &e->nnotify, &e->cap_notify, idx) == ST_OK)
                ke->flags |= KE_NOTIFY;
            ke->notify_kind = (uint8_t)kind;
        } else if (kind == ENGINE_EV_DELETED) {
            ke->notify_kind = (uint8_t)kind;
        }
    }
    if (ke->flags & KE_DURABLE) {
        if (e->cfg.write_behind) {
            if (!(ke->flags & KE_DURABLE_DIRTY) &&
                idx_push(&e->dirty, &e->ndirty, &e->cap_dirty, idx) == ST_OK)
                ke->flags |= KE_DURABLE_DIRTY;
        } else {
            return durable_write(e, idx);
        }
    }
    return ST_OK;
}

static void notify_flush(engine *e)
{
    for (size_t i = 0; i < e->nnotify; i++) {
        kentry *ke = kt_at(&e->kt, e->notify[i]);
        if (!ke->used || !(ke->flags & KE_NOTIFY))
            continue;
        ke->flags &= (uint8_t)~KE_NOTIFY;
        engine_event ev = {0};
        ev.kind = (engine_event_kind)ke->notify_kind;
        ev.key = malloc(ke->key_len ? ke->key_len : 1);
        if (!ev.key) {
            e->ev_dropped++;
            continue;
        }
        memcpy(ev.key, ke->key, ke->key_len);
        ev.key_len = ke->key_len;
        engine_emit(e, &ev);
    }
    e->nnotify = 0;
}

static void mark_tomb(engine *e, uint32_t idx)
{
    kentry *ke = kt_at(&e->kt, idx);
    crdt_free(ke->value);
    crdt_free(ke->pending_delta);
    ke->value = ke->pending_delta = NULL;
    ke->flags |= KE_TOMB;
    free(ke->tomb_seen);
    ke->tomb_seen = malloc(sizeof(uint64_t));
    ke->tomb_seen_n = 0;
    if (ke->tomb_seen) {
        ke->tomb_seen[0] = e->members[0].id_hash;
        ke->tomb_seen_n = 1;
    }
    ke->tomb_ms = 0;
    (void)idx_push(&e->tombs, &e->ntombs, &e->cap_tombs, idx);
    engine_changed(e, idx, ENGINE_EV_DELETED);
}

static int new_entry(engine *e, const uint8_t *key, size_t len, crdt_type type, uint32_t *idx)
{
    bool created;
    int rc = kt_insert(&e->kt, key, len, idx, &created);
    if (rc)
        return rc;
    kentry *ke = kt_at(&e->kt, *idx);
    ke->type = (uint8_t)type;
    if (e->cfg.store && engine_pattern_match(e->durable, e->cfg.durable_count, key, len))
        ke->flags |= KE_DURABLE;
    return ST_OK;
}

static bool expired_at(const engine *e, const uint8_t *key, size_t len, uint64_t changed_ms)
{
    return e->cfg.expiry_count && engine_pattern_match(e->expiry, e->cfg.expiry_count, key, len) &&
           changed_ms + e->cfg.expire_after_ms <= e->now_ms;
}

int engine_merge_state(engine *e, const uint8_t *key, size_t key_len, crdt_type type, bool tomb,
                       crdt *value, uint64_t changed_ms, uint32_t *idx_out)
{
    int rc = ST_OK;
    *idx_out = KT_NONE;
    if (!tomb && expired_at(e, key, key_len, changed_ms)) {
        crdt_free(value); /* expired everywhere by now; do not bring it back */
        return ST_OK;
    }
    uint32_t idx = kt_find(&e->kt, key, key_len);
    if (idx == KT_NONE) {
        rc = new_entry(e, key, key_len, type, &idx);
        if (rc) {
            crdt_free(value);
            return rc;
        }
        kentry *ke = kt_at(&e->kt, idx);
        ke->changed_ms = changed_ms;
        *idx_out = idx;
        if (tomb) {
            mark_tomb(e, idx);
        } else {
            ke->value = value;
            engine_changed(e, idx, ENGINE_EV_CHANGED);
        }
        return ST_OK;
    }
    kentry *ke = kt_at(&e->kt, idx);
    *idx_out = idx;
    if (ke->flags & KE_TOMB) {
        crdt_free(value); /* deleted wins, forever */
        return ST_OK;
    }
    if (changed_ms > ke->changed_ms)
        ke->changed_ms = changed_ms;
    if (tomb) {
        mark_tomb(e, idx);
        return ST_OK;
    }
    if (ke->type != type) {
        /* Two nodes created the key with different types at once. Keep the
         * lower type number everywhere so all replicas still agree. */
        if ((uint8_t)type < ke->type) {
            crdt_free(ke->value);
            ke->value = value;
            ke->type = (uint8_t)type;
            ke->nseqs = 0;
            engine_changed(e, idx, ENGINE_EV_CHANGED);
        } else {
            crdt_free(value);
        }
        return ST_OK;
    }
    uint64_t before = crdt_digest(ke->value);
    rc = crdt_merge(ke->value, value);
    crdt_free(value);
    if (rc)
        return rc;
    if (crdt_digest(ke->value) != before)
        engine_changed(e, idx, ENGINE_EV_CHANGED);
    return ST_OK;
}

/* ---- STATE entries ---------------------------------------------------- */

int engine_put_state_entry(engine *e, bytes *b, uint32_t idx)
{
    kentry *ke = kt_at(&e->kt, idx);
    bytes_put_blob(b, ke->key, ke->key_len);
    bytes_put_u8(b, ke->type);
    bytes_put_u8(b, (ke->flags & KE_TOMB) ? 1 : 0);
    bytes_put_varint(b, ke->changed_ms);
    if (!(ke->flags & KE_TOMB)) {
        bytes v = BYTES_INIT;
        int rc = crdt_encode(ke->value, &v);
        if (rc) {
            bytes_free(&v);
            return rc;
        }
        bytes_put_blob(b, v.data, v.len);
        bytes_free(&v);
    }
    bytes_put_varint(b, ke->nseqs);
    for (uint16_t i = 0; i < ke->nseqs; i++) {
        bytes_put_u64(b, ke->seqs[i].origin);
        bytes_put_varint(b, ke->seqs[i].seq);
    }
    return b->failed ? error_oom() : ST_OK;
}

int engine_read_state_entry(engine *e, reader *r, uint32_t *idx_out, bool *was_tomb)
{
    size_t key_len, vlen = 0;
    const uint8_t *key = reader_blob(r, e->cfg.lim.max_value_bytes, &key_len);
    uint8_t type = reader_u8(r);
    uint8_t flags = reader_u8(r);
    uint64_t changed_ms = reader_varint(r);
    const uint8_t *v = NULL;
    if (!(flags & 1))
        v = reader_blob(r, e->cfg.lim.max_bytes, &vlen);
    uint64_t nseqs = reader_varint(r);
    *idx_out = KT_NONE;
    *was_tomb = (flags & 1) != 0;
    if (!reader_ok(r) || !key_len || type < 1 || type > CRDT_TYPE_MAX || (flags & ~1u) ||
        nseqs > UINT16_MAX || nseqs > reader_left(r) / 9)
        return error_set(ST_ECORRUPT, "replicator: malformed state entry");
    kt_seq *seqs = alloc_array(nseqs ? nseqs : 1, sizeof(kt_seq));
    if (!seqs)
        return error_oom();
    for (uint64_t i = 0; i < nseqs; i++) {
        seqs[i].origin = reader_u64(r);
        seqs[i].seq = reader_varint(r);
    }
    crdt *value = NULL;
    int rc = ST_OK;
    if (!reader_ok(r)) {
        rc = error_set(ST_ECORRUPT, "replicator: truncated state entry");
        goto done;
    }
    if (!(flags & 1)) {
        rc = crdt_decode(&value, v, vlen, &e->cfg.lim, e->now_ms);
        if (rc)
            goto done;
        if (crdt_type_of(value) != (crdt_type)type) {
            crdt_free(value);
            rc = error_set(ST_ECORRUPT, "replicator: state entry type does not match its value");
            goto done;
        }
    }
    uint32_t idx;
    rc = engine_merge_state(e, key, key_len, (crdt_type)type, flags & 1, value, changed_ms, &idx);
    if (rc || idx == KT_NONE)
        goto done;
    kentry *ke = kt_at(&e->kt, idx);
    if (!(ke->flags & KE_TOMB) && ke->type == type) {
        /* The full state includes every delta the sender merged in order,
         * so later deltas from those origins continue from there. */
        for (uint64_t i = 0; i < nseqs; i++)
            if (seqs[i].seq > kt_seq_get(ke, seqs[i].origin))
                (void)kt_seq_set(ke, seqs[i].origin, seqs[i].seq);
    }
    *idx_out = idx;
done:
    free(seqs);
    return rc;
}

/* ---- local operations ------------------------------------------------- */

int engine_check_key(const engine *e, const uint8_t *key, size_t len)
{
    if (!key || !len)
        return error_set(ST_EINVAL, "replica key must not be empty");
    if (len > e->cfg.lim.max_value_bytes)
        return error_set(ST_ELIMIT, "replica key is %zu bytes, at most %llu", len,
                         (unsigned long long)e->cfg.lim.max_value_bytes);
    return ST_OK;
}

static int local_apply(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len,
                       crdt_type type, const crdt_op *op, uint32_t *idx_out)
{
    crdt *fresh = NULL, *delta = NULL;
    int rc = engine_check_key(e, key, key_len);
    if (rc)
        return rc;
    if (!op)
        return error_set(ST_EINVAL, "replica op must not be NULL");
    if (type < 1 || type > CRDT_TYPE_MAX)
        return error_set(ST_EINVAL, "unknown crdt type %d", (int)type);
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    uint32_t idx = kt_find(&e->kt, key, key_len);
    kentry *ke = idx == KT_NONE ? NULL : kt_at(&e->kt, idx);
    if (ke && (ke->flags & KE_TOMB))
        return error_set(ST_EDELETED, "key '%.*s' was deleted", (int)(key_len > 64 ? 64 : key_len),
                         (const char *)key);
    if (ke && ke->type != type)
        return error_set(ST_ETYPE, "key '%.*s' holds a %s, not a %s",
                         (int)(key_len > 64 ? 64 : key_len), (const char *)key,
                         crdt_type_name((crdt_type)ke->type), crdt_type_name(type));
    crdt_ctx ctx = {e->actor, e->now_ms};
    bool want_delta = e->cfg.delta_strategy != ENGINE_DELTA_NONE;
    if (!ke) {
        rc = crdt_new(&fresh, type);
        if (rc)
            return rc;
        rc = crdt_apply(fresh, op, &ctx, want_delta ? &delta : NULL);
        if (rc)
            goto done;
        rc = new_entry(e, key, key_len, type, &idx);
        if (rc)
            goto done;
        ke = kt_at(&e->kt, idx);
        ke->value = fresh;
        fresh = NULL;
    } else {
        rc = crdt_apply(ke->value, op, &ctx, want_delta ? &delta : NULL);
        if (rc)
            goto done;
    }
    ke->changed_ms = e->now_ms;
    /* A failed write-through is reported, but the update stays applied in
     * memory and replicates: the store catches up on the next change. */
    int durable_rc = engine_changed(e, idx, ENGINE_EV_CHANGED);
    if (e->cfg.delta_strategy == ENGINE_DELTA_IMMEDIATE && delta) {
        ke->my_seq++;
        (void)kt_seq_set(ke, e->actor, ke->my_seq);
        ae_push_delta(e, idx, delta, ke->my_seq);
    } else if (e->cfg.delta_strategy == ENGINE_DELTA_BATCHED && delta) {
        if (!ke->pending_delta) {
            ke->pending_delta = delta;
            delta = NULL;
            ke->flags |= KE_DELTA_PENDING;
            (void)idx_push(&e->batched, &e->nbatched, &e->cap_batched, idx);
        } else if (crdt_merge(ke->pending_delta, delta) != ST_OK) {
            crdt_free(ke->pending_delta);
            ke->pending_delta = NULL; /* digest gossip repairs it */
        }
    }
    *idx_out = idx;
    rc = durable_rc;
done:
    crdt_free(fresh);
    crdt_free(delta);
    return rc;
}

int engine_update(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len, crdt_type type,
                  const crdt_op *op)
{
    uint32_t idx;
    return local_apply(e, now_ms, key, key_len, type, op, &idx);
}

int engine_get(engine *e, const uint8_t *key, size_t key_len, crdt **out)
{
    *out = NULL;
    int rc = engine_check_key(e, key, key_len);
    if (rc)
        return rc;
    uint32_t idx = kt_find(&e->kt, key, key_len);
    if (idx == KT_NONE)
        return error_set(ST_ENOTFOUND, "no key '%.*s' in the replica",
                         (int)(key_len > 64 ? 64 : key_len), (const char *)key);
    kentry *ke = kt_at(&e->kt, idx);
    if (ke->flags & KE_TOMB)
        return error_set(ST_EDELETED, "key '%.*s' was deleted", (int)(key_len > 64 ? 64 : key_len),
                         (const char *)key);
    return crdt_clone(out, ke->value);
}

int engine_delete(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len)
{
    int rc = engine_check_key(e, key, key_len);
    if (rc)
        return rc;
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    uint32_t idx = kt_find(&e->kt, key, key_len);
    if (idx != KT_NONE && (kt_at(&e->kt, idx)->flags & KE_TOMB))
        return ST_OK;
    if (idx == KT_NONE) {
        /* Deleting an unseen key still leaves a tombstone, so a peer's copy
         * cannot bring it back. */
        rc = new_entry(e, key, key_len, CRDT_GCOUNTER, &idx);
        if (rc)
            return rc;
    }
    kt_at(&e->kt, idx)->changed_ms = e->now_ms;
    mark_tomb(e, idx);
    ae_push_state_all(e, idx, 0);
    return ST_OK;
}

int engine_keys_next(engine *e, uint64_t *cursor, const uint8_t **key, size_t *key_len)
{
    while (*cursor < e->kt.nents) {
        kentry *ke = kt_at(&e->kt, (uint32_t)*cursor);
        (*cursor)++;
        if (ke->used && !(ke->flags & KE_TOMB)) {
            *key = ke->key;
            *key_len = ke->key_len;
            return ST_OK;
        }
    }
    return ST_EDONE;
}

uint32_t engine_key_origins(const engine *e, const uint8_t *key, size_t key_len)
{
    uint32_t idx = kt_find(&e->kt, key, key_len);
    return idx == KT_NONE ? 0 : kt_at(&e->kt, idx)->nseqs;
}

uint64_t engine_key_count(const engine *e)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < e->kt.nents; i++)
        if (e->kt.ents[i].used && !(e->kt.ents[i].flags & KE_TOMB))
            n++;
    return n;
}

int engine_subscribe(engine *e, const uint8_t *key, size_t key_len, bool is_prefix)
{
    if (!key && key_len)
        return error_set(ST_EINVAL, "subscription key must not be NULL");
    if (!is_prefix && !key_len)
        return error_set(ST_EINVAL, "subscription key must not be empty");
    for (size_t i = 0; i < e->nsubs; i++)
        if (e->subs[i].is_prefix == is_prefix && e->subs[i].len == key_len &&
            (!key_len || memcmp(e->subs[i].key, key, key_len) == 0))
            return ST_OK;
    subscription *s = realloc_array(e->subs, e->nsubs + 1, sizeof(*s));
    if (!s)
        return error_oom();
    e->subs = s;
    uint8_t *k = malloc(key_len ? key_len : 1);
    if (!k)
        return error_oom();
    if (key_len)
        memcpy(k, key, key_len);
    e->subs[e->nsubs].key = k;
    e->subs[e->nsubs].len = key_len;
    e->subs[e->nsubs].is_prefix = is_prefix;
    e->nsubs++;
    return ST_OK;
}

/* ---- expiry -------------------------------------------------------- */

static void expiry_scan(engine *e)
{
    if (!e->cfg.expiry_count)
        return;
    for (uint32_t i = 0; i < e->kt.nents; i++) {
        kentry *ke = kt_at(&e->kt, i);
        if (!ke->used || (ke->flags & KE_TOMB) ||
            !expired_at(e, ke->key, ke->key_len, ke->changed_ms))
            continue;
        if (e->nsubs && subscribed(e, ke->key, ke->key_len)) {
            engine_event ev = {0};
            ev.kind = ENGINE_EV_EXPIRED;
            ev.key = malloc(ke->key_len);
            if (ev.key) {
                memcpy(ev.key, ke->key, ke->key_len);
                ev.key_len = ke->key_len;
                engine_emit(e, &ev);
            }
        }
        if (ke->flags & KE_DURABLE)
            (void)durable_remove(e, ke->key, ke->key_len);
        kt_remove(&e->kt, i);
        e->stats.expired++;
    }
}

/* ---- time and messages ------------------------------------------------ */

int engine_tick(engine *e, uint64_t now_ms)
{
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    now_ms = e->now_ms;
    if (now_ms >= e->next_gossip_ms) {
        e->next_gossip_ms = now_ms + e->cfg.gossip_interval_ms;
        membership_tick(e);
        expiry_scan(e);
        ae_flush_batched(e);
        ae_gossip_round(e);
        ae_tomb_round(e);
        prune_tick(e);
        for (size_t i = 0; i < e->npartials;) {
            if (e->partials[i].started_ms + PARTIAL_TIMEOUT_MS < now_ms) {
                e->partial_bytes -= e->partials[i].bytes;
                for (uint32_t j = 0; j < e->partials[i].count; j++)
                    bytes_free(&e->partials[i].pieces[j]);
                free(e->partials[i].pieces);
                e->partials[i] = e->partials[--e->npartials];
            } else {
                i++;
            }
        }
    }
    requests_tick(e);
    if (now_ms >= e->next_notify_ms) {
        e->next_notify_ms = now_ms + e->cfg.notify_interval_ms;
        notify_flush(e);
    }
    if (e->cfg.write_behind && now_ms >= e->next_flush_ms) {
        e->next_flush_ms = now_ms + e->cfg.write_behind_interval_ms;
        (void)durable_flush(e);
    }
    return ST_OK;
}

int engine_flush(engine *e)
{
    return durable_flush(e);
}

static int deliver_one(engine *e, const char *from, size_t from_len, const uint8_t *msg, size_t len,
                       int depth);

static int handle_frag(engine *e, const char *from, size_t from_len, reader *r, int depth)
{
    uint64_t id = reader_varint(r);
    uint64_t index = reader_varint(r);
    uint64_t count = reader_varint(r);
    size_t n;
    const uint8_t *piece = reader_blob(r, e->cfg.lim.max_bytes, &n);
    uint64_t max_count = e->cfg.lim.max_bytes / 512 + 1;
    if (!reader_done(r) || depth > 0 || !n || count < 2 || count > max_count || index >= count)
        return error_set(ST_ECORRUPT, "replicator: malformed message piece");
    uint64_t fh = hash_bytes(from, from_len, 0);
    partial *p = NULL;
    for (size_t i = 0; i < e->npartials; i++)
        if (e->partials[i].from_hash == fh && e->partials[i].msg_id == id)
            p = &e->partials[i];
    if (p && p->count != count)
        return error_set(ST_ECORRUPT, "replicator: message piece count changed");
    if (!p) {
        if (e->npartials == MAX_PARTIALS)
            return error_set(ST_ELIMIT, "replicator: too many messages in reassembly");
        partial *ps = realloc_array(e->partials, e->npartials + 1, sizeof(partial));
        if (!ps)
            return error_oom();
        e->partials = ps;
        p = &e->partials[e->npartials];
        memset(p, 0, sizeof(*p));
        p->pieces = calloc(count, sizeof(bytes));
        if (!p->pieces)
            return error_oom();
        p->from_hash = fh;
        p->msg_id = id;
        p->count = (uint32_t)count;
        p->started_ms = e->now_ms;
        e->npartials++;
    }
    if (!p->pieces[index].data) {
        /* Bound what a peer can make us hold for messages it never ends. */
        if (p->bytes + n > e->cfg.lim.max_bytes || e->partial_bytes + n > 2 * e->cfg.lim.max_bytes)
            return error_set(ST_ELIMIT, "replicator: message in pieces exceeds the limit");
        p->bytes += n;
        e->partial_bytes += n;
        bytes_put(&p->pieces[index], piece, n);
        if (p->pieces[index].failed)
            return error_oom();
        p->have++;
    }
    if (p->have < p->count)
        return ST_OK;
    bytes whole = BYTES_INIT;
    for (uint32_t i = 0; i < p->count; i++)
        bytes_put(&whole, p->pieces[i].data, p->pieces[i].len);
    size_t at = (size_t)(p - e->partials);
    e->partial_bytes -= p->bytes;
    for (uint32_t j = 0; j < p->count; j++)
        bytes_free(&p->pieces[j]);
    free(p->pieces);
    e->partials[at] = e->partials[--e->npartials];
    if (whole.failed) {
        bytes_free(&whole);
        return error_oom();
    }
    int rc = whole.len > e->cfg.lim.max_bytes
                 ? error_set(ST_ELIMIT, "replicator: reassembled message is too large")
                 : deliver_one(e, from, from_len, whole.data, whole.len, depth + 1);
    bytes_free(&whole);
    return rc;
}

static int deliver_one(engine *e, const char *from, size_t from_len, const uint8_t *msg, size_t len,
                       int depth)
{
    reader r = reader_make(msg, len);
    uint8_t magic = reader_u8(&r), version = reader_u8(&r), type = reader_u8(&r);
    uint64_t inc = reader_varint(&r);
    if (!reader_ok(&r) || magic != WIRE_MAGIC)
        return error_set(ST_ECORRUPT, "replicator: not a gossip message");
    if (version != WIRE_VERSION)
        return error_set(ST_ECORRUPT, "replicator: gossip format version %u is not supported",
                         version);
    if (type < 1 || type > WIRE_TYPE_MAX)
        return error_set(ST_ECORRUPT, "replicator: unknown message type %u", type);
    if (type == WIRE_FRAG)
        return handle_frag(e, from, from_len, &r, depth);
    member *m = membership_heard(e, from, from_len, inc, type == WIRE_JOIN || type == WIRE_GOSSIP);
    return ae_handle(e, m, from, from_len, (wire_type)type, &r);
}

int engine_deliver(engine *e, uint64_t now_ms, const char *from, size_t from_len,
                   const uint8_t *msg, size_t len)
{
    if (!from || !from_len || from_len > MAX_NODE_ID || memchr(from, 0, from_len))
        return error_set(ST_EINVAL, "replicator: sender node id is empty or invalid");
    if (!msg && len)
        return error_set(ST_EINVAL, "replicator: message must not be NULL");
    if (from_len == e->node_id_len && memcmp(from, e->node_id, from_len) == 0)
        return error_set(ST_EINVAL, "replicator: message from this node's own id");
    if (now_ms > e->now_ms)
        e->now_ms = now_ms;
    e->stats.msgs_received++;
    e->stats.bytes_received += len;
    if (len > e->cfg.lim.max_bytes) {
        e->stats.decode_errors++;
        return error_set(ST_ELIMIT, "replicator: message of %zu bytes is above the limit", len);
    }
    int rc = deliver_one(e, from, from_len, msg, len, 0);
    if (rc == ST_ECORRUPT || rc == ST_ELIMIT)
        e->stats.decode_errors++;
    return rc;
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

void engine_get_stats(const engine *e, engine_stats *out)
{
    *out = e->stats;
}

int engine_local_apply(engine *e, uint64_t now_ms, const uint8_t *key, size_t key_len,
                       crdt_type type, const crdt_op *op, uint32_t *idx_out)
{
    return local_apply(e, now_ms, key, key_len, type, op, idx_out);
}
