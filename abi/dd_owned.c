/*
 * dd_owned: the public face of the owned-state engine (core/owned/).
 *
 * The handle object wraps the engine with a lock (handles may be shared
 * between threads) and an eventfd that is readable while events are
 * queued: every call that can queue events re-arms it, and draining the
 * last event clears it. The engine itself stays sans-I/O.
 *
 * The durable store is borrowed through its handle: the dd_state_store
 * handle is retained for the engine's lifetime, and its object (the core
 * state_store) is used through the owned persistence adapter.
 *
 * Attached to a TCP system (options.system), the system's driver thread
 * pumps the engine (core/node/owned_link.c): it takes the system lock, then this
 * lock. The host's calls take this lock only, and a call that leaves
 * messages queued wakes the driver through its wake fd.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "abi.h"
#include "owned/owned.h"
#include "owned/persist.h"
#include "node/node.h"
#include "util/bytes.h"

_Static_assert((int)DD_OWNED_ACTIVE_PUSH == (int)OWNED_ACTIVE_PUSH &&
                   (int)DD_OWNED_FEED_LAZY_PULL == (int)OWNED_FEED_LAZY_PULL &&
                   (int)DD_OWNED_FEED_WITH_PERIODIC_SYNC == (int)OWNED_FEED_WITH_PERIODIC_SYNC &&
                   (int)DD_OWNED_PERIODIC_ONLY == (int)OWNED_PERIODIC_ONLY &&
                   (int)DD_OWNED_KEEP_STALE == (int)OWNED_KEEP_STALE &&
                   (int)DD_OWNED_DROP_AND_WAIT == (int)OWNED_DROP_AND_WAIT &&
                   (int)DD_OWNED_URGENCY_IMMEDIATE == (int)OWNED_URGENCY_IMMEDIATE &&
                   (int)DD_OWNED_URGENCY_DELAYED == (int)OWNED_URGENCY_DELAYED &&
                   (int)DD_OWNED_URGENCY_SUPPRESSED == (int)OWNED_URGENCY_SUPPRESSED &&
                   (int)DD_OWNED_EV_VIEW_CHANGED == (int)OWNED_EV_VIEW_CHANGED &&
                   (int)DD_OWNED_EV_QUERY_DONE == (int)OWNED_EV_QUERY_DONE &&
                   (int)DD_OWNED_EV_COMPACT_WANTED == (int)OWNED_EV_COMPACT_WANTED,
               "public and core owned-state enums must match");
_Static_assert(sizeof(((dd_owned_event *)0)->type) == OWNED_TYPE_NAME_MAX + 1,
               "event type name size");

typedef struct abi_owned {
    pthread_mutex_t lock;
    owned *engine;
    const void *store_handle; /* retained; NULL when not persisting */
    int event_fd;             /* -1 until asked for */
    bool fd_armed;
    bool attached; /* driven by a system's driver thread */
    int wake_fd;   /* the driver's, while attached; else -1 */
    bool ticked;   /* pump mode: the host has given a time */
    uint64_t last_tick_ms;
    const void *handle; /* its own handle, for the node's reference */
} abi_owned;

static void abi_owned_destroy(void *obj)
{
    abi_owned *o = obj;
    owned_close(o->engine);
    if (o->event_fd >= 0)
        close(o->event_fd);
    if (o->store_handle)
        handle_release(o->store_handle);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

/* Makes the fd's readability follow "events are queued". Called locked. */
static void sync_fd(abi_owned *o)
{
    if (o->event_fd < 0)
        return;
    bool want = owned_event_count(o->engine) > 0;
    if (want && !o->fd_armed) {
        uint64_t one = 1;
        if (write(o->event_fd, &one, sizeof(one)) == sizeof(one))
            o->fd_armed = true;
    } else if (!want && o->fd_armed) {
        uint64_t v;
        if (read(o->event_fd, &v, sizeof(v)) == sizeof(v))
            o->fd_armed = false;
    }
}

static abi_owned *acquire(dd_owned *h)
{
    abi_owned *o = handle_acquire(h, HK_OWNED, "owned");
    if (o)
        pthread_mutex_lock(&o->lock);
    return o;
}

/* Wakes an attached engine's driver when messages wait to leave. */
static void wake_driver(abi_owned *o)
{
    if (o->wake_fd >= 0 && owned_outgoing_count(o->engine) > 0) {
        uint64_t one = 1;
        ssize_t w = write(o->wake_fd, &one, sizeof(one));
        (void)w;
    }
}

static int release(dd_owned *h, abi_owned *o, int rc)
{
    sync_fd(o);
    wake_driver(o);
    pthread_mutex_unlock(&o->lock);
    handle_release(h);
    return rc;
}

/* What the node's driver uses on an attached engine (node_owned_host). */
static void host_lock(void *ctx)
{
    abi_owned *o = ctx;
    pthread_mutex_lock(&o->lock);
}

static void host_unlock(void *ctx)
{
    abi_owned *o = ctx;
    sync_fd(o);
    pthread_mutex_unlock(&o->lock);
}

static owned *host_engine(void *ctx)
{
    return ((abi_owned *)ctx)->engine;
}

static void host_set_attached(void *ctx, int wake_fd)
{
    abi_owned *o = ctx;
    o->attached = wake_fd >= 0;
    o->wake_fd = wake_fd;
}

/* A closed owned handle is the host's detach: its last reference is the
 * node's. */
static bool host_closed(void *ctx)
{
    abi_owned *o = ctx;
    if (handle_acquire(o->handle, HK_OWNED, "owned")) {
        handle_release(o->handle);
        return false;
    }
    error_clear();
    return true;
}

static void host_release(void *ctx)
{
    handle_release(((abi_owned *)ctx)->handle);
}

/* The pump calls belong to whoever drives the engine. */
static int refuse_if_attached(const abi_owned *o)
{
    if (o->attached)
        return error_set(DD_EMISUSE, "owned engine is attached to a system whose driver thread "
                                     "pumps it (tick, deliver, outgoing, membership)");
    return DD_OK;
}

static int check_type(const char *type)
{
    ABI_REQUIRE(type, "type");
    size_t len = strnlen(type, OWNED_TYPE_NAME_MAX + 1);
    if (len == 0 || len > OWNED_TYPE_NAME_MAX)
        return error_set(DD_EINVAL, "owned type name must be 1 to %d bytes", OWNED_TYPE_NAME_MAX);
    return DD_OK;
}

/* acquire for the calls naming a type: the name is checked first. */
static int acquire_for_type(dd_owned *h, const char *type, abi_owned **out)
{
    int rc = check_type(type);
    if (rc)
        return rc;
    *out = acquire(h);
    return *out ? DD_OK : DD_EMISUSE;
}

int abi_impl_dd_owned_options_init(dd_owned_options *opts, uint32_t version)
{
    ABI_INIT_DEFAULTS(opts, "opts", dd_owned_options, version, DD_OWNED_OPTIONS_VERSION,
                      DD_OWNED_OPTIONS_INIT);
}

int abi_impl_dd_owned_type_options_init(dd_owned_type_options *opts, uint32_t version)
{
    ABI_INIT_DEFAULTS(opts, "opts", dd_owned_type_options, version, DD_OWNED_TYPE_OPTIONS_VERSION,
                      DD_OWNED_TYPE_OPTIONS_INIT);
}

int abi_impl_dd_owned_open(dd_owned **out, const dd_owned_options *opts)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    ABI_REQUIRE(opts, "opts");
    ABI_REQUIRE_VERSION("dd_owned_options", opts->version, DD_OWNED_OPTIONS_VERSION);
    owned_options co;
    memset(&co, 0, sizeof(co));
    co.node_id = opts->node_id;
    co.incarnation = opts->incarnation;
    co.max_outgoing = co.max_events = (size_t)opts->max_queued;
    int rc = abi_limits(opts->limits, &co.lim);
    if (rc)
        return rc;
    node *sys = NULL;
    if (opts->system) {
        if (!(sys = handle_acquire(opts->system, HK_SYSTEM, "system")))
            return DD_EMISUSE;
        node_lock(sys);
        co.node_id = node_owned_id(sys->node_id, strlen(sys->node_id));
        co.incarnation = sys->e ? engine_incarnation(sys->e) : sys->incarnation;
        if (!sys->net)
            rc = error_set(DD_EUNSUPPORTED,
                           "system '%s' has no built-in transport: pump the owned engine "
                           "yourself (options.system = NULL)",
                           sys->node_id);
        node_unlock(sys);
        if (rc) {
            handle_release(opts->system);
            return rc;
        }
    }
    abi_owned *o = calloc(1, sizeof(*o));
    if (!o) {
        if (sys)
            handle_release(opts->system);
        return error_oom();
    }
    o->event_fd = -1;
    o->wake_fd = -1;
    pthread_mutex_init(&o->lock, NULL);
    if (opts->store) {
        state_store *s = handle_acquire(opts->store, HK_STATE_STORE, "state store");
        if (!s) {
            rc = DD_EMISUSE;
            goto fail;
        }
        handle_retain(opts->store);
        handle_release(opts->store);
        o->store_handle = opts->store;
        co.persist = owned_persist_state_store(s);
    }
    if ((rc = owned_open(&o->engine, &co)))
        goto fail;
    uintptr_t h = handle_register(o, HK_OWNED, abi_owned_destroy);
    if (!h) {
        rc = DD_ENOMEM;
        goto fail;
    }
    if (sys) {
        o->handle = (const void *)h;
        node_owned_host host = {
            o, host_lock, host_unlock, host_engine, host_set_attached, host_closed, host_release};
        handle_retain(o->handle); /* the node's, on success */
        node_lock(sys);
        rc = node_attach_owned(sys, &host);
        node_unlock(sys);
        if (rc)
            handle_release(o->handle);
        handle_release(opts->system);
        if (rc) {
            (void)handle_close((const void *)h, HK_OWNED, "owned");
            return rc;
        }
    }
    *out = (dd_owned *)h;
    return DD_OK;
fail:
    if (sys)
        handle_release(opts->system);
    abi_owned_destroy(o);
    return rc;
}

int abi_impl_dd_owned_node_of(uint64_t *out, const char *node_id, size_t len)
{
    ABI_REQUIRE(out, "out");
    *out = 0;
    ABI_REQUIRE(node_id, "node_id");
    if (len == 0 || len > 255)
        return error_set(DD_EINVAL, "node id must be 1 to 255 bytes, not %zu", len);
    *out = node_owned_id(node_id, len);
    return DD_OK;
}

int abi_impl_dd_owned_close(dd_owned *owned)
{
    return handle_close(owned, HK_OWNED, "owned");
}

int abi_impl_dd_owned_register(dd_owned *h, const char *type, const dd_owned_type_options *opts)
{
    int rc = check_type(type);
    if (rc)
        return rc;
    ABI_REQUIRE(opts, "opts");
    ABI_REQUIRE_VERSION("dd_owned_type_options", opts->version, DD_OWNED_TYPE_OPTIONS_VERSION);
    owned_type_options co = {opts->strategy,         opts->wire_version,  opts->storage_version,
                             opts->on_mismatch,      opts->compact_every, opts->feed_interval_ms,
                             opts->sync_interval_ms, opts->pull_retry_ms, opts->pull_timeout_ms};
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    return release(h, o, owned_register(o->engine, type, &co));
}

int abi_impl_dd_owned_publish(uint64_t *out_incarnation, uint64_t *out_age, dd_owned *h,
                              const char *type, int is_full, const uint8_t *data, size_t len,
                              uint32_t urgency, uint64_t delay_ms)
{
    int rc = check_type(type);
    if (rc)
        return rc;
    if (!data && len)
        return error_set(DD_EINVAL, "data must not be NULL when len is %zu", len);
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    owned_gen g;
    rc = owned_publish(o->engine, type, is_full != 0, data, len, urgency, delay_ms, &g);
    if (rc == DD_OK) {
        if (out_incarnation)
            *out_incarnation = g.incarnation;
        if (out_age)
            *out_age = g.age;
    }
    return release(h, o, rc);
}

int abi_impl_dd_owned_tick(dd_owned *h, uint64_t now_ms)
{
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    int rc = refuse_if_attached(o);
    /* The host's clock alone schedules (issue 17.1); a step back is the
     * host's bug, reported rather than absorbed. */
    if (!rc && o->ticked && now_ms < o->last_tick_ms)
        rc = error_set(DD_EINVAL,
                       "owned: now_ms %llu is before the last tick's %llu (the host clock "
                       "went backwards; pass one monotonic clock)",
                       (unsigned long long)now_ms, (unsigned long long)o->last_tick_ms);
    if (!rc) {
        o->ticked = true;
        o->last_tick_ms = now_ms;
        rc = owned_tick(o->engine, now_ms);
    }
    return release(h, o, rc);
}

int abi_impl_dd_owned_deliver(dd_owned *h, uint64_t from_node, const uint8_t *data, size_t len)
{
    if (!data && len)
        return error_set(DD_EINVAL, "data must not be NULL when len is %zu", len);
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    int rc = refuse_if_attached(o);
    return release(h, o, rc ? rc : owned_deliver(o->engine, from_node, data, len));
}

int abi_impl_dd_owned_next_outgoing(dd_buf *out, uint64_t *to_node, dd_owned *h)
{
    ABI_REQUIRE(out, "out");
    ABI_REQUIRE(to_node, "to_node");
    out->data = NULL;
    out->len = 0;
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    bytes msg = BYTES_INIT;
    int rc = refuse_if_attached(o);
    if (rc == DD_OK)
        rc = owned_next_outgoing(o->engine, to_node, &msg);
    if (rc == DD_OK)
        rc = abi_buf_from_bytes(out, &msg);
    return release(h, o, rc);
}

int abi_impl_dd_owned_member_up(dd_owned *h, uint64_t node_id, uint64_t incarnation)
{
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    int rc = refuse_if_attached(o);
    return release(h, o, rc ? rc : owned_member_up(o->engine, node_id, incarnation));
}

int abi_impl_dd_owned_member_left(dd_owned *h, uint64_t node_id)
{
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    int rc = refuse_if_attached(o);
    return release(h, o, rc ? rc : owned_member_left(o->engine, node_id));
}

int abi_impl_dd_owned_query(uint64_t *out_request, dd_owned *h, const char *type, uint64_t node_id,
                            uint64_t max_staleness_ms)
{
    ABI_REQUIRE(out_request, "out_request");
    *out_request = 0;
    abi_owned *o;
    int rc = acquire_for_type(h, type, &o);
    if (rc)
        return rc;
    return release(h, o, owned_query(o->engine, type, node_id, max_staleness_ms, out_request));
}

DD_API void dd_owned_view_free(dd_owned_view *view)
{
    if (!view)
        return;
    dd_buf_free(&view->base);
    for (size_t i = 0; view->deltas && i < view->delta_count; i++)
        dd_buf_free(&view->deltas[i]);
    free(view->deltas);
    memset(view, 0, sizeof(*view));
}

/* Moves a core view copy into the public struct. */
static int view_out(dd_owned_view *out, owned_view_copy *v)
{
    out->node_id = v->node;
    out->incarnation = v->gen.incarnation;
    out->age = v->gen.age;
    out->base_age = v->base_age;
    out->wire_version = v->wire_version;
    out->version_mismatch = v->version_mismatch ? 1 : 0;
    out->confirmed_ms = v->confirmed_ms;
    int rc = abi_buf_from_bytes(&out->base, &v->base);
    if (rc)
        return rc;
    if (v->n_deltas) {
        out->deltas = calloc(v->n_deltas, sizeof(*out->deltas));
        if (!out->deltas)
            return error_oom();
    }
    for (size_t i = 0; i < v->n_deltas; i++) {
        out->delta_count++;
        if ((rc = abi_buf_from_bytes(&out->deltas[i], &v->deltas[i])))
            return rc;
    }
    return DD_OK;
}

int abi_impl_dd_owned_read(dd_owned_view *out, dd_owned *h, const char *type, uint64_t node_id)
{
    ABI_REQUIRE(out, "out");
    memset(out, 0, sizeof(*out));
    abi_owned *o;
    int rc = acquire_for_type(h, type, &o);
    if (rc)
        return rc;
    owned_view_copy v;
    rc = owned_read(o->engine, type, node_id, &v);
    if (rc == DD_OK) {
        rc = view_out(out, &v);
        owned_view_copy_free(&v);
        if (rc)
            dd_owned_view_free(out);
    }
    return release(h, o, rc);
}

int abi_impl_dd_owned_nodes(uint64_t *out, size_t cap, size_t *out_count, dd_owned *h)
{
    ABI_REQUIRE(out_count, "out_count");
    *out_count = 0;
    if (cap && !out)
        return error_set(DD_EINVAL, "out must not be NULL when cap is %zu", cap);
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    return release(h, o, owned_nodes(o->engine, out, cap, out_count));
}

int abi_impl_dd_owned_next_event(dd_owned_event *out, dd_owned *h)
{
    ABI_REQUIRE(out, "out");
    memset(out, 0, sizeof(*out));
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    owned_event ev;
    int rc = owned_next_event(o->engine, &ev);
    if (rc == DD_OK) {
        out->kind = ev.kind;
        out->status = ev.status;
        out->node_id = ev.node;
        out->incarnation = ev.incarnation;
        out->age = ev.age;
        out->request_id = ev.request_id;
        out->peer_version = ev.peer_version;
        memcpy(out->type, ev.type, sizeof(out->type));
    }
    return release(h, o, rc);
}

int abi_impl_dd_owned_event_fd(int *out, dd_owned *h)
{
    ABI_REQUIRE(out, "out");
    *out = -1;
    abi_owned *o = acquire(h);
    if (!o)
        return DD_EMISUSE;
    int rc = DD_OK;
    if (o->event_fd < 0) {
        o->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (o->event_fd < 0)
            rc = error_set(DD_EIO, "owned: eventfd failed");
    }
    if (rc == DD_OK)
        *out = o->event_fd;
    return release(h, o, rc);
}
