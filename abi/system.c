/*
 * dd_system: the handle over a node (core/node/): its options, the
 * message pump (tick, deliver, next_outgoing) and the event queue with its
 * pollable fd (DESIGN.md section 2: no callbacks from hidden threads).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "system.h"
#include "util/clock.h"

/* Pump mode: takes the host's time, refusing one before the last (issue
 * 17.1: a clock that steps back is reported, never absorbed). With the
 * built-in transport the driver's monotonic clock is the time and now_ms
 * is not used. Called under the lock. */
static int system_take_time(node *s, uint64_t now_ms, uint64_t *out)
{
    if (s->net) {
        *out = clock_monotonic_ms();
        return DD_OK;
    }
    if (s->has_time && now_ms < s->now_ms)
        return error_set(DD_EINVAL,
                         "system '%s': now_ms %llu is before the last time %llu (the pump "
                         "clock went backwards; pass one monotonic clock)",
                         s->node_id, (unsigned long long)now_ms, (unsigned long long)s->now_ms);
    s->now_ms = now_ms;
    s->has_time = true;
    *out = now_ms;
    return DD_OK;
}

int abi_impl_dd_system_options_init(dd_system_options *opts, uint32_t version)
{
    ABI_INIT_DEFAULTS(opts, "opts", dd_system_options, version, DD_SYSTEM_OPTIONS_VERSION,
                      DD_SYSTEM_OPTIONS_INIT);
}

static void system_destroy(void *obj)
{
    node_free(obj);
}

static int valid_node_id(const char *id, const char *what)
{
    if (!id || !id[0])
        return error_set(DD_EINVAL, "%s must not be empty", what);
    if (strlen(id) > 255)
        return error_set(DD_EINVAL, "%s is longer than 255 bytes", what);
    return DD_OK;
}

int abi_impl_dd_system_open(dd_system **out, const dd_system_options *opts)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    ABI_REQUIRE(opts, "opts");
    ABI_REQUIRE_VERSION("dd_system_options", opts->version, DD_SYSTEM_OPTIONS_VERSION);
    int rc = valid_node_id(opts->node_id, "node id");
    if (rc)
        return rc;
    if (opts->transport != DD_TRANSPORT_NONE && opts->transport != DD_TRANSPORT_TCP)
        return error_set(DD_EUNSUPPORTED, "transport %u is not available in this build",
                         opts->transport);
    if (opts->seed_count && !opts->seeds)
        return error_set(DD_EINVAL, "seeds must not be NULL when seed_count is %zu",
                         opts->seed_count);
    if (opts->seed_count > 4096)
        return error_set(DD_EINVAL, "at most 4096 seeds");
    for (size_t i = 0; i < opts->seed_count; i++)
        if ((rc = valid_node_id(opts->seeds[i], "seed node id")) != DD_OK)
            return rc;
    if (!opts->max_events)
        return error_set(DD_EINVAL, "max_events must be positive");
    limits lim;
    if ((rc = abi_limits(opts->limits, &lim)) != DD_OK)
        return rc;
    if ((rc = abi_impl_dd_init()) != DD_OK)
        return rc;
    uint64_t random_seed; /* the gossip peer choice's, unless opts fixes it */
    randombytes_buf(&random_seed, sizeof random_seed);
    node_config cfg = {
        .node_id = opts->node_id,
        /* A restart must never reuse its former self's incarnation (and so
         * its CRDT actor); the wall clock in ms grows across restarts. */
        .incarnation = opts->incarnation ? opts->incarnation : clock_wall_ms(),
        .seed = opts->seed ? opts->seed : random_seed,
        .seeds = opts->seeds,
        .seed_count = opts->seed_count,
        .failure_timeout_ms = opts->failure_timeout_ms,
        .down_after_ms = opts->down_after_ms,
        .remove_after_ms = opts->remove_after_ms,
        .max_events = opts->max_events,
        .lim = lim,
    };
    node *s;
    if ((rc = node_open(&s, &cfg)) != DD_OK)
        return rc;
    if (opts->transport == DD_TRANSPORT_TCP) {
        node_net_config nc = {
            .listen_address = opts->listen_address,
            .advertised_address = opts->advertised_address,
            .secret = opts->secret,
            .next_secret = opts->next_secret,
            .plaintext = opts->plaintext != 0,
            .node_key_file = opts->node_key_file,
            .node_key = opts->node_key,
            .peer_keys = opts->peer_keys,
            .peer_key_ids = opts->peer_key_ids,
            .peer_key_count = opts->peer_key_count,
            .tick_interval_ms = opts->tick_interval_ms,
        };
        if ((rc = node_net_start(s, &nc)) != DD_OK) {
            node_free(s);
            return rc;
        }
    }
    HANDLE_PUBLISH(out, s, HK_SYSTEM, system_destroy);
}

int abi_impl_dd_system_close(dd_system *sys)
{
    return handle_close(sys, HK_SYSTEM, "system");
}

int abi_impl_dd_system_tick(dd_system *sys, uint64_t now_ms)
{
    SYSTEM_ENTER(s, sys);
    int rc = system_take_time(s, now_ms, &now_ms);
    if (rc == DD_OK && s->e)
        rc = engine_tick(s->e, now_ms);
    SYSTEM_LEAVE(s, sys);
    return rc;
}

int abi_impl_dd_system_set_wall_clock(dd_system *sys, dd_clock_fn clock, void *ctx)
{
    SYSTEM_ENTER(s, sys);
    s->wall_clock = clock;
    s->wall_clock_ctx = clock ? ctx : NULL;
    SYSTEM_LEAVE(s, sys);
    return DD_OK;
}

int abi_impl_dd_system_deliver(dd_system *sys, uint64_t now_ms, const char *from, size_t from_len,
                               const uint8_t *bytes, size_t len)
{
    ABI_REQUIRE(from, "from");
    if (!bytes && len)
        return error_set(DD_EINVAL, "bytes must not be NULL");
    SYSTEM_ENTER(s, sys);
    int rc = system_take_time(s, now_ms, &now_ms);
    if (rc == DD_OK && s->e)
        rc = engine_deliver(s->e, now_ms, from, from_len, bytes, len);
    SYSTEM_LEAVE(s, sys);
    return rc;
}

int abi_impl_dd_system_next_outgoing(dd_buf *msg, dd_buf *to_node, dd_system *sys)
{
    ABI_REQUIRE(msg, "msg");
    ABI_REQUIRE(to_node, "to_node");
    to_node->data = msg->data = NULL;
    to_node->len = msg->len = 0;
    SYSTEM_ENTER(s, sys);
    bytes to = BYTES_INIT, m = BYTES_INIT;
    /* With the built-in transport the driver thread owns the queue. */
    int rc = s->net ? error_set(DD_EMISUSE, "system '%s' sends its own messages (tcp transport)",
                                s->node_id)
             : s->e ? engine_next_outgoing(s->e, &to, &m)
                    : DD_EDONE;
    SYSTEM_LEAVE(s, sys);
    if (rc == DD_OK) {
        rc = abi_buf_from_bytes(to_node, &to);
        if (rc == DD_OK)
            rc = abi_buf_from_bytes(msg, &m);
        if (rc != DD_OK)
            dd_buf_free(to_node);
    }
    bytes_free(&to);
    bytes_free(&m);
    return rc;
}

int abi_impl_dd_event_init(dd_event *ev, uint32_t version)
{
    ABI_INIT_DEFAULTS(ev, "event", dd_event, version, DD_EVENT_VERSION, DD_EVENT_INIT);
}

DD_API void dd_event_clear(dd_event *ev)
{
    if (!ev)
        return;
    dd_buf_free(&ev->key);
    dd_buf_free(&ev->member_id);
    uint32_t version = ev->version;
    dd_event defaults = DD_EVENT_INIT;
    *ev = defaults;
    ev->version = version;
}

int abi_impl_dd_system_next_event(dd_event *out, dd_system *sys)
{
    ABI_REQUIRE(out, "out");
    ABI_REQUIRE_VERSION("dd_event", out->version, DD_EVENT_VERSION);
    dd_event_clear(out);
    SYSTEM_ENTER(s, sys);
    engine_event ev;
    int rc = s->e ? engine_next_event(s->e, &ev) : DD_EDONE;
    SYSTEM_LEAVE(s, sys);
    if (rc != DD_OK)
        return rc;
    out->kind = (uint32_t)ev.kind;
    out->key.data = ev.key;
    out->key.len = ev.key_len;
    out->request_id = ev.request_id;
    out->status = ev.status;
    if (ev.member_id) {
        out->member_id.data = (uint8_t *)ev.member_id;
        out->member_id.len = strlen(ev.member_id);
    }
    out->member_incarnation = ev.member_incarnation;
    out->member_state = (uint32_t)ev.member_state;
    out->dropped = ev.dropped;
    return DD_OK;
}

int abi_impl_dd_system_event_fd(int *fd, dd_system *sys)
{
    ABI_REQUIRE(fd, "fd");
    SYSTEM_ENTER(s, sys);
    *fd = s->event_fd;
    SYSTEM_LEAVE(s, sys);
    return DD_OK;
}

int abi_impl_dd_system_incarnation(uint64_t *out, dd_system *sys)
{
    ABI_REQUIRE(out, "out");
    SYSTEM_ENTER(s, sys);
    *out = s->e ? engine_incarnation(s->e) : s->incarnation;
    SYSTEM_LEAVE(s, sys);
    return DD_OK;
}

int abi_impl_dd_system_leave(dd_system *sys, uint64_t timeout_ms)
{
    node *s = handle_acquire(sys, HK_SYSTEM, "system");
    if (!s)
        return DD_EMISUSE;
    int rc = node_leave(s, timeout_ms); /* takes the lock itself: it waits unlocked */
    handle_release(sys);
    return rc;
}
