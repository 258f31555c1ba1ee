/*
 * This node's own instances: registration (and loading), publishing
 * (prepare, persist, then publish), the sync strategies and urgencies,
 * and answering pulls.
 *
 * How a publish reaches peers depends on the type's strategy:
 *   active_push              the new deltas (or a snapshot, after a full
 *                            view) go to every member when the push is due
 *   feed_lazy_pull           the new generation is announced in a feed
 *                            batched every feed_interval_ms; readers pull
 *   feed_with_periodic_sync  the same, plus a snapshot every
 *                            sync_interval_ms
 *   periodic_only            a snapshot every sync_interval_ms
 * An active-push type also announces its generation in a feed every
 * sync_interval_ms (a few bytes), so a reader that lost a push learns of
 * the gap and pulls even when the owner stays quiet afterwards.
 * The urgency moves the due time: immediate (now), delayed (within
 * delay_ms), suppressed (no announcement; the next one carries it) or the
 * strategy's default. Whatever is sent carries every unsent delta, so a
 * suppressed mutation is never a gap.
 */
#include <string.h>

#include "owned/owned_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

owned_gen owned_chain_gen(const owned_chain *c)
{
    owned_gen g = {c->incarnation, c->base_age + c->n_deltas};
    return g;
}

void owned_chain_clear(owned_chain *c)
{
    bytes_free(&c->base);
    for (size_t i = 0; i < c->n_deltas; i++)
        bytes_free(&c->deltas[i]);
    free(c->deltas);
    memset(c, 0, sizeof(*c));
}

static int copy_bytes(bytes *out, const uint8_t *data, size_t len)
{
    bytes b = BYTES_INIT;
    /* Reserve at least one byte so an empty view still has storage. */
    if (!bytes_reserve(&b, len ? len : 1))
        return error_oom();
    bytes_put(&b, data, len);
    *out = b;
    return ST_OK;
}

int owned_chain_set_base(owned_chain *c, const uint8_t *data, size_t len)
{
    bytes b;
    int rc = copy_bytes(&b, data, len);
    if (rc)
        return rc;
    bytes_free(&c->base);
    c->base = b;
    return ST_OK;
}

static int chain_reserve(owned_chain *c, size_t extra)
{
    size_t need;
    if (!size_add_ok(c->n_deltas, extra, &need))
        return error_oom();
    if (!array_reserve(&c->deltas, &c->cap_deltas, need, sizeof(*c->deltas)))
        return error_oom();
    return ST_OK;
}

int owned_chain_push(owned_chain *c, const uint8_t *data, size_t len)
{
    bytes b;
    int rc = chain_reserve(c, 1);
    if (rc || (rc = copy_bytes(&b, data, len)))
        return rc;
    c->deltas[c->n_deltas++] = b;
    return ST_OK;
}

/* Fills the delta blobs of `m` from c's deltas [from, n_deltas). */
static int chain_blobs(const owned_chain *c, size_t from, owned_msg *m)
{
    m->n_deltas = c->n_deltas - from;
    m->deltas = NULL;
    if (!m->n_deltas)
        return ST_OK;
    m->deltas = alloc_array(m->n_deltas, sizeof(*m->deltas));
    if (!m->deltas)
        return error_oom();
    for (size_t i = 0; i < m->n_deltas; i++) {
        m->deltas[i].data = c->deltas[from + i].data;
        m->deltas[i].len = c->deltas[from + i].len;
    }
    return ST_OK;
}

int owned_chain_snapshot(const owned_chain *c, owned_msg *m)
{
    m->kind = OWNED_MSG_SNAPSHOT;
    m->incarnation = c->incarnation;
    m->age = c->base_age;
    m->base.data = c->base.data;
    m->base.len = c->base.len;
    return chain_blobs(c, 0, m);
}

static void msg_for_type(owned_msg *m, const owned_type *t)
{
    memset(m, 0, sizeof(*m));
    m->type.data = (const uint8_t *)t->name;
    m->type.len = t->name_len;
    m->type_version = t->opt.wire_version;
}

/* Encodes once, sends to every member that is up. */
static void broadcast(owned *e, const owned_msg *m)
{
    bytes b = BYTES_INIT;
    owned_msg_encode(&b, m);
    for (size_t i = 0; i < e->n_members; i++) {
        if (!e->members[i].up)
            continue;
        bytes copy = BYTES_INIT;
        bytes_put(&copy, b.data, b.len);
        copy.failed |= b.failed;
        owned_send(e, e->members[i].node, &copy, owned_msg_reliable(m));
    }
    bytes_free(&b);
}

static void send_snapshot(owned *e, owned_type *t, uint64_t to, uint8_t flags, bool all)
{
    owned_msg m;
    msg_for_type(&m, t);
    if (owned_chain_snapshot(&t->own, &m)) {
        e->stats.outgoing_dropped++;
        return;
    }
    m.flags = flags;
    if (all)
        broadcast(e, &m);
    else
        owned_send_msg(e, to, &m);
    free(m.deltas);
}

static void feed_entry(owned_feed_entry *f, const owned_type *t)
{
    owned_gen g = owned_chain_gen(&t->own);
    f->type.data = (const uint8_t *)t->name;
    f->type.len = t->name_len;
    f->type_version = t->opt.wire_version;
    f->incarnation = g.incarnation;
    f->age = g.age;
}

static void send_feed_one(owned *e, owned_type *t, uint64_t to, bool all)
{
    owned_feed_entry f;
    owned_msg m;
    memset(&m, 0, sizeof(m));
    feed_entry(&f, t);
    m.kind = OWNED_MSG_FEED;
    m.feed = &f;
    m.n_feed = 1;
    if (all)
        broadcast(e, &m);
    else
        owned_send_msg(e, to, &m);
}

static bool is_feed(const owned_type *t)
{
    return t->opt.strategy == OWNED_FEED_LAZY_PULL ||
           t->opt.strategy == OWNED_FEED_WITH_PERIODIC_SYNC;
}

static bool is_periodic(const owned_type *t)
{
    return t->opt.strategy == OWNED_PERIODIC_ONLY ||
           t->opt.strategy == OWNED_FEED_WITH_PERIODIC_SYNC;
}

/* Sends what is due for t now, as its strategy says. */
static void flush(owned *e, owned_type *t)
{
    owned_gen g = owned_chain_gen(&t->own);
    t->push_due_ms = UINT64_MAX;
    if (is_feed(t)) {
        send_feed_one(e, t, 0, true);
        t->feed_dirty = false;
    } else if (t->opt.strategy == OWNED_PERIODIC_ONLY) {
        send_snapshot(e, t, 0, 0, true);
    } else if (t->push_snapshot || t->pushed_age < t->own.base_age) {
        send_snapshot(e, t, 0, 0, true);
    } else if (g.age > t->pushed_age) {
        owned_msg m;
        msg_for_type(&m, t);
        m.kind = OWNED_MSG_DELTAS;
        m.incarnation = g.incarnation;
        m.age = t->pushed_age + 1;
        if (chain_blobs(&t->own, (size_t)(t->pushed_age - t->own.base_age), &m) == ST_OK)
            broadcast(e, &m);
        else
            e->stats.outgoing_dropped++;
        free(m.deltas);
    }
    t->pushed_age = g.age;
    t->push_snapshot = false;
}

static int check_type_options(const char *type, const owned_type_options *o)
{
    if (o->strategy < OWNED_ACTIVE_PUSH || o->strategy > OWNED_PERIODIC_ONLY)
        return error_set(ST_EINVAL, "owned type '%s': unknown strategy %u", type, o->strategy);
    if (o->on_mismatch != OWNED_KEEP_STALE && o->on_mismatch != OWNED_DROP_AND_WAIT)
        return error_set(ST_EINVAL, "owned type '%s': unknown mismatch policy %u", type,
                         o->on_mismatch);
    if (o->feed_interval_ms == 0 || o->sync_interval_ms == 0 || o->pull_retry_ms == 0 ||
        o->pull_timeout_ms == 0)
        return error_set(ST_EINVAL, "owned type '%s': intervals and timeouts must be > 0", type);
    if (o->compact_every > OWNED_DELTAS_MAX)
        return error_set(ST_EINVAL, "owned type '%s': compact_every %u exceeds %d", type,
                         o->compact_every, OWNED_DELTAS_MAX);
    return ST_OK;
}

/* Loads the persisted instance; on any failure, t->own starts fresh with an
 * incarnation above the engine's and above any readable old record. */
static int load_own(owned *e, owned_type *t)
{
    owned_chain *c = &t->own;
    memset(c, 0, sizeof(*c));
    c->incarnation = e->incarnation;
    if (!e->persist.load)
        return ST_OK;
    char key[sizeof(OWNED_KEY_PREFIX) + OWNED_TYPE_NAME_MAX];
    size_t key_len = owned_record_key(key, (const uint8_t *)t->name, t->name_len);
    bytes raw = BYTES_INIT;
    owned_record rec;
    int rc = e->persist.load(e->persist.ctx, (const uint8_t *)key, key_len, &raw);
    if (rc) {
        /* Missing or corrupt: start fresh. A wrong key or an I/O error is
         * the host's to fix; starting fresh would overwrite a record that
         * may still be readable, so registration fails instead. */
        bytes_free(&raw);
        if (rc == ST_ENOTFOUND || rc == ST_ECORRUPT)
            return ST_OK;
        if (error_code() != rc) /* a persistence that set no message */
            error_set(rc, "the store failed");
        return rc;
    }
    if (owned_record_decode(&rec, raw.data, raw.len, &e->lim) != ST_OK) {
        bytes_free(&raw);
        return ST_OK;
    }
    if (rec.storage_version != t->opt.storage_version) {
        if (rec.incarnation >= c->incarnation && rec.incarnation < UINT64_MAX)
            c->incarnation = rec.incarnation + 1;
        goto done;
    }
    c->incarnation = rec.incarnation;
    c->base_age = rec.base_age;
    if ((rc = owned_chain_set_base(c, rec.base.data, rec.base.len)) ||
        (rc = chain_reserve(c, rec.n_deltas)))
        goto done;
    for (size_t i = 0; i < rec.n_deltas; i++)
        if ((rc = owned_chain_push(c, rec.deltas[i].data, rec.deltas[i].len)))
            goto done;
    t->loaded = true;
done:
    if (rc)
        owned_chain_clear(c);
    owned_record_free(&rec);
    bytes_free(&raw);
    return rc;
}

int owned_register(owned *e, const char *type, const owned_type_options *opts)
{
    if (!e || !type || !opts)
        return error_set(ST_EINVAL, "owned: engine, type and options must not be NULL");
    size_t len = strlen(type);
    if (!owned_type_name_ok((const uint8_t *)type, len))
        return error_set(ST_EINVAL, "owned type name must be 1 to %d bytes", OWNED_TYPE_NAME_MAX);
    int rc = check_type_options(type, opts);
    if (rc)
        return rc;
    if (owned_find_type(e, (const uint8_t *)type, len, NULL))
        return error_set(ST_ECONFLICT, "owned type '%s' is already registered", type);
    if (e->n_types >= OWNED_FEED_MAX)
        return error_set(ST_ELIMIT, "owned: more than %d types", OWNED_FEED_MAX);
    /* Make room everywhere first, so a failure leaves nothing half-added. */
    if (!array_reserve(&e->types, &e->cap_types, e->n_types + 1, sizeof(*e->types)))
        return error_oom();
    for (size_t i = 0; i < e->n_members; i++) {
        owned_view *v = realloc_array(e->members[i].views, e->n_types + 1, sizeof(*v));
        if (!v)
            return error_oom();
        memset(&v[e->n_types], 0, sizeof(*v));
        e->members[i].views = v;
    }
    owned_type *t = &e->types[e->n_types];
    memset(t, 0, sizeof(*t));
    memcpy(t->name, type, len + 1);
    t->name_len = len;
    t->opt = *opts;
    if ((rc = load_own(e, t))) {
        error_wrap("owned type '%s': loading", type);
        return rc;
    }
    t->pushed_age = owned_chain_gen(&t->own).age;
    t->push_due_ms = UINT64_MAX;
    t->next_feed_ms = e->now_ms + opts->feed_interval_ms;
    t->next_sync_ms = e->now_ms + opts->sync_interval_ms;
    e->n_types++;
    return ST_OK;
}

/* The record of t's instance after the publish, without changing t. */
static void encode_next_record(bytes *out, const owned_type *t, bool full, const uint8_t *data,
                               size_t len)
{
    const owned_chain *c = &t->own;
    uint64_t age = owned_chain_gen(c).age;
    bytes_put_u8(out, OWNED_RECORD_FORMAT);
    bytes_put_varint(out, t->opt.storage_version);
    bytes_put_varint(out, c->incarnation);
    if (full) {
        bytes_put_varint(out, age + 1);
        bytes_put_blob(out, data, len);
        bytes_put_varint(out, 0);
        return;
    }
    bytes_put_varint(out, c->base_age);
    bytes_put_blob(out, c->base.data, c->base.len);
    bytes_put_varint(out, c->n_deltas + 1);
    for (size_t i = 0; i < c->n_deltas; i++)
        bytes_put_blob(out, c->deltas[i].data, c->deltas[i].len);
    bytes_put_blob(out, data, len);
}

static int persist(owned *e, owned_type *t, bool full, const uint8_t *data, size_t len)
{
    if (!e->persist.save)
        return ST_OK;
    char key[sizeof(OWNED_KEY_PREFIX) + OWNED_TYPE_NAME_MAX];
    size_t key_len = owned_record_key(key, (const uint8_t *)t->name, t->name_len);
    /* One scratch buffer for every save: records are rewritten often. */
    bytes *rec = &e->scratch;
    bytes_reset(rec);
    rec->failed = false;
    encode_next_record(rec, t, full, data, len);
    if (rec->failed)
        return error_oom();
    int rc = e->persist.save(e->persist.ctx, (const uint8_t *)key, key_len, rec->data, rec->len);
    if (rc && error_code() != rc) /* a persistence that set no message */
        error_set(rc, "the store failed");
    return rc;
}

int owned_publish(owned *e, const char *type, bool full, const uint8_t *data, size_t len,
                  uint32_t urgency, uint64_t delay_ms, owned_gen *out)
{
    if (!e || !type || (!data && len))
        return error_set(ST_EINVAL, "owned publish: engine, type and data must not be NULL");
    owned_type *t = owned_find_type(e, (const uint8_t *)type, strlen(type), NULL);
    if (!t)
        return error_set(ST_ENOTFOUND, "owned type '%s' is not registered", type);
    if (urgency > OWNED_URGENCY_SUPPRESSED)
        return error_set(ST_EINVAL, "owned publish '%s': unknown urgency %u", type, urgency);
    if (len > e->lim.max_bytes)
        return error_set(ST_ELIMIT, "owned publish '%s': %zu bytes exceed the limit of %llu", type,
                         len, (unsigned long long)e->lim.max_bytes);
    owned_chain *c = &t->own;
    owned_gen g = owned_chain_gen(c);
    if (g.age == UINT64_MAX)
        return error_set(ST_ELIMIT, "owned publish '%s': age is exhausted", type);
    if (!full && c->n_deltas >= OWNED_DELTAS_MAX)
        return error_set(ST_ELIMIT,
                         "owned publish '%s': %zu deltas since the last full view; publish a "
                         "full view",
                         type, c->n_deltas);

    /* Prepare: everything that can fail in memory, before persisting. */
    bytes copy;
    int rc = copy_bytes(&copy, data, len);
    if (rc || (!full && (rc = chain_reserve(c, 1))))
        goto fail;
    /* Persist, then publish. */
    if ((rc = persist(e, t, full, data, len))) {
        error_wrap("owned publish '%s': not persisted, not published", type);
        goto fail;
    }
    if (full) {
        for (size_t i = 0; i < c->n_deltas; i++)
            bytes_free(&c->deltas[i]);
        c->n_deltas = 0;
        bytes_free(&c->base);
        c->base = copy;
        c->base_age = g.age + 1;
        t->push_snapshot = true;
        t->compact_asked = false;
    } else {
        c->deltas[c->n_deltas++] = copy;
    }
    g.age++;
    if (out)
        *out = g;
    owned_emit_simple(e, OWNED_EV_VIEW_CHANGED, t, e->node_id, g);
    if (!full && t->opt.compact_every && c->n_deltas >= t->opt.compact_every && !t->compact_asked) {
        t->compact_asked = true;
        owned_emit_simple(e, OWNED_EV_COMPACT_WANTED, t, e->node_id, g);
    }

    uint64_t due = UINT64_MAX;
    switch (urgency) {
    case OWNED_URGENCY_IMMEDIATE: due = e->now_ms; break;
    case OWNED_URGENCY_DELAYED:
        due = delay_ms > UINT64_MAX - e->now_ms ? UINT64_MAX : e->now_ms + delay_ms;
        break;
    case OWNED_URGENCY_SUPPRESSED: break;
    default:
        if (t->opt.strategy == OWNED_ACTIVE_PUSH)
            due = e->now_ms;
        else if (is_feed(t))
            t->feed_dirty = true;
        break;
    }
    if (due < t->push_due_ms)
        t->push_due_ms = due;
    if (t->push_due_ms <= e->now_ms)
        flush(e, t);
    return ST_OK;
fail:
    bytes_free(&copy);
    return rc;
}

void owned_owner_tick(owned *e)
{
    uint64_t now = e->now_ms;
    /* Feeds of every type due now go out as one message per member. */
    owned_feed_entry *feed = NULL;
    size_t n_feed = 0;
    for (size_t i = 0; i < e->n_types; i++) {
        owned_type *t = &e->types[i];
        if (t->push_due_ms <= now)
            flush(e, t);
        /* An active-push type announces its generation every sync
         * interval, so a reader that lost the last push notices and pulls. */
        bool heartbeat = t->opt.strategy == OWNED_ACTIVE_PUSH && now >= t->next_sync_ms;
        if (heartbeat)
            t->next_sync_ms = now + t->opt.sync_interval_ms;
        if (heartbeat || (is_feed(t) && now >= t->next_feed_ms)) {
            if (!heartbeat)
                t->next_feed_ms = now + t->opt.feed_interval_ms;
            if (t->feed_dirty || heartbeat) {
                if (!feed && !(feed = alloc_array(e->n_types, sizeof(*feed)))) {
                    e->stats.outgoing_dropped++;
                    continue; /* stays dirty: the next tick retries */
                }
                feed_entry(&feed[n_feed++], t);
                t->feed_dirty = false;
            }
        }
        if (is_periodic(t) && now >= t->next_sync_ms) {
            t->next_sync_ms = now + t->opt.sync_interval_ms;
            send_snapshot(e, t, 0, 0, true);
        }
    }
    if (n_feed) {
        owned_msg m;
        memset(&m, 0, sizeof(m));
        m.kind = OWNED_MSG_FEED;
        m.feed = feed;
        m.n_feed = n_feed;
        broadcast(e, &m);
    }
    free(feed);
}

void owned_owner_answer_pull(owned *e, uint64_t from, owned_type *t, const owned_msg *m)
{
    owned_chain *c = &t->own;
    owned_gen have = {m->incarnation, m->age};
    owned_gen g = owned_chain_gen(c);
    if (owned_gen_cmp(have, g) == 0) {
        /* Nothing new: confirm the reader's generation. */
        send_feed_one(e, t, from, false);
        return;
    }
    if (have.incarnation == g.incarnation && have.age >= c->base_age && have.age < g.age) {
        owned_msg d;
        msg_for_type(&d, t);
        d.kind = OWNED_MSG_DELTAS;
        d.incarnation = g.incarnation;
        d.age = have.age + 1;
        if (chain_blobs(c, (size_t)(have.age - c->base_age), &d) == ST_OK)
            owned_send_msg(e, from, &d);
        free(d.deltas);
        return;
    }
    send_snapshot(e, t, from, OWNED_SNAP_REPLY, false);
}

void owned_owner_greet(owned *e, uint64_t node)
{
    for (size_t i = 0; i < e->n_types; i++) {
        owned_type *t = &e->types[i];
        if (is_feed(t))
            send_feed_one(e, t, node, false);
        else
            send_snapshot(e, t, node, 0, false);
    }
}
