/*
 * dd_replica: the handle layer over the replicator engine.
 *
 * A replica holds references on its system and on its durable store for
 * its whole life, so either may be closed first (the close is deferred).
 * Every call takes the system's lock, which is what makes the engine
 * (single-threaded by design) safe to use from any thread, and updates the
 * event fd on the way out.
 */
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "crdt/crdt.h"
#include "node/node.h"

typedef struct replica_handle {
    const void *sys_handle;
    node *sys;
    const void *store_handle; /* NULL when nothing is durable */
} replica_handle;

int abi_impl_dd_replica_options_init(dd_replica_options *opts, uint32_t version)
{
    ABI_INIT_DEFAULTS(opts, "opts", dd_replica_options, version, DD_REPLICA_OPTIONS_VERSION,
                      DD_REPLICA_OPTIONS_INIT);
}

static void replica_destroy(void *obj)
{
    replica_handle *ro = obj;
    node_lock(ro->sys);
    /* The last deltas go to the transport before the engine that queued
     * them is gone. */
    node_net_flush(ro->sys);
    engine_free(ro->sys->e); /* flushes write-behind keys */
    ro->sys->e = NULL;
    node_unlock(ro->sys);
    if (ro->store_handle)
        handle_release(ro->store_handle);
    handle_release(ro->sys_handle);
    free(ro);
}

/* "key" is exact, "prefix*" a wildcard. */
static int patterns(const char *const *in, size_t n, bool all_prefix, engine_pattern **out,
                    const char *what)
{
    *out = NULL;
    if (!n)
        return DD_OK;
    if (!in)
        return error_set(DD_EINVAL, "%s must not be NULL when its count is %zu", what, n);
    engine_pattern *p = calloc(n, sizeof(*p));
    if (!p)
        return error_oom();
    for (size_t i = 0; i < n; i++) {
        if (!in[i] || !in[i][0]) {
            free(p);
            return error_set(DD_EINVAL, "%s %zu is empty", what, i);
        }
        size_t len = strlen(in[i]);
        p[i].bytes = (const uint8_t *)in[i];
        p[i].len = len;
        p[i].is_prefix = all_prefix;
        if (!all_prefix && in[i][len - 1] == '*') {
            p[i].len = len - 1;
            p[i].is_prefix = true;
        }
    }
    *out = p;
    return DD_OK;
}

static int check_options(const dd_replica_options *o)
{
    ABI_REQUIRE_VERSION("dd_replica_options", o->version, DD_REPLICA_OPTIONS_VERSION);
    if (o->delta_strategy > DD_DELTA_NONE)
        return error_set(DD_EINVAL, "unknown delta strategy %u", o->delta_strategy);
    if (!o->gossip_interval_ms || !o->gossip_fanout || !o->notify_interval_ms)
        return error_set(DD_EINVAL, "gossip interval, fanout and notify interval must be positive");
    if (o->max_message_bytes < 1024)
        return error_set(DD_EINVAL, "max_message_bytes %u is below 1024", o->max_message_bytes);
    if (o->write_behind > 1 || (o->write_behind && !o->write_behind_interval_ms))
        return error_set(DD_EINVAL, "write_behind is 0 or 1, with a positive interval");
    if (o->expiry_prefix_count && !o->expire_after_ms)
        return error_set(DD_EINVAL, "expiry prefixes need expire_after_ms");
    return DD_OK;
}

int abi_impl_dd_replica_open(dd_replica **out, dd_system *sysh, const dd_replica_options *opts)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    ABI_REQUIRE(opts, "opts");
    int rc = check_options(opts);
    if (rc)
        return rc;
    engine_pattern *durable = NULL, *expiry = NULL;
    replica_handle *ro = NULL;
    state_store *store = NULL;
    node *s = handle_acquire(sysh, HK_SYSTEM, "system");
    if (!s)
        return DD_EMISUSE;
    if (opts->store) {
        store = handle_acquire(opts->store, HK_STATE_STORE, "state store");
        if (!store) {
            handle_release(sysh);
            return DD_EMISUSE;
        }
    }
    if ((rc = patterns(opts->durable_keys, opts->durable_key_count, false, &durable,
                       "durable key")) != DD_OK ||
        (rc = patterns(opts->expiry_prefixes, opts->expiry_prefix_count, true, &expiry,
                       "expiry prefix")) != DD_OK)
        goto fail;
    ro = calloc(1, sizeof(*ro));
    if (!ro) {
        rc = error_oom();
        goto fail;
    }
    ro->sys_handle = sysh;
    ro->sys = s;
    ro->store_handle = opts->store;

    engine_config c;
    engine_config_default(&c);
    c.node_id = s->node_id;
    c.incarnation = s->incarnation;
    c.seed = s->seed;
    c.store = store;
    c.seeds = (const char *const *)s->seeds;
    c.seed_count = s->seed_count;
    c.gossip_interval_ms = opts->gossip_interval_ms;
    c.gossip_fanout = opts->gossip_fanout;
    c.delta_strategy = (engine_delta_strategy)opts->delta_strategy;
    c.max_message_bytes = opts->max_message_bytes;
    c.notify_interval_ms = opts->notify_interval_ms;
    if (s->failure_timeout_ms)
        c.failure_timeout_ms = s->failure_timeout_ms;
    if (s->down_after_ms)
        c.down_after_ms = s->down_after_ms;
    if (s->remove_after_ms)
        c.remove_after_ms = s->remove_after_ms;
    if (opts->tombstone_grace_ms)
        c.tombstone_grace_ms = opts->tombstone_grace_ms;
    c.durable = durable;
    c.durable_count = store ? opts->durable_key_count : 0;
    c.write_behind = opts->write_behind != 0;
    c.write_behind_interval_ms = opts->write_behind_interval_ms;
    c.expiry = expiry;
    c.expiry_count = opts->expiry_prefix_count;
    c.expire_after_ms = opts->expire_after_ms;
    c.max_events = s->max_events;
    c.lim = s->lim;
    if (opts->store_prefix) {
        c.durable_prefix = (const uint8_t *)opts->store_prefix;
        c.durable_prefix_len = strlen(opts->store_prefix);
    }
    c.wall_clock_ms = node_wall_ms;
    c.wall_clock_ctx = s;

    node_lock(s);
    if (s->left) {
        rc = node_refuse_left(s);
        node_unlock(s);
        goto fail;
    }
    if (s->e) {
        node_unlock(s);
        rc = error_set(DD_EBUSY, "system '%s' already has an open replica", s->node_id);
        goto fail;
    }
    rc = engine_new(&s->e, &c, node_now(s));
    node_unlock(s);
    if (rc)
        goto fail;
    free(durable);
    free(expiry);
    durable = expiry = NULL;
    uintptr_t h = handle_register(ro, HK_REPLICA, replica_destroy);
    if (!h)
        return DD_ENOMEM; /* replica_destroy ran and released everything */
    *out = (dd_replica *)h;
    return DD_OK;
fail:
    free(durable);
    free(expiry);
    free(ro);
    if (store)
        handle_release(opts->store);
    handle_release(sysh);
    return rc;
}

int abi_impl_dd_replica_close(dd_replica *r)
{
    return handle_close(r, HK_REPLICA, "replica");
}

/* A replica whose engine is gone (closed under a running call). */
static int replica_closed(void)
{
    return error_set(DD_EMISUSE, "replica is closed");
}

#define REPLICA_ENTER(var, h)                                                                      \
    replica_handle *var##_ro = handle_acquire((h), HK_REPLICA, "replica");                         \
    if (!var##_ro)                                                                                 \
        return DD_EMISUSE;                                                                         \
    node *var = var##_ro->sys;                                                                     \
    node_lock(var)

#define REPLICA_LEAVE(var, h)                                                                      \
    node_unlock(var);                                                                              \
    handle_release(h)

static int check_key(const uint8_t *key, size_t key_len)
{
    if (!key || !key_len)
        return error_set(DD_EINVAL, "key must not be NULL or empty");
    return DD_OK;
}

int abi_impl_dd_replica_update(dd_replica *r, const uint8_t *key, size_t key_len, uint32_t type,
                               const dd_op *op)
{
    crdt_op ops[LIMITS_DEFAULT_DEPTH];
    int rc = check_key(key, key_len);
    if (rc || (rc = abi_op_convert(op, ops, LIMITS_DEFAULT_DEPTH)) != DD_OK)
        return rc;
    REPLICA_ENTER(s, r);
    rc = s->e ? engine_update(s->e, node_now(s), key, key_len, (crdt_type)type, &ops[0], NULL)
              : replica_closed();
    REPLICA_LEAVE(s, r);
    return rc;
}

/* A copy of the key's current value (caller frees), for the readers below. */
static int replica_value(dd_replica *r, const uint8_t *key, size_t key_len, crdt **v)
{
    int rc = check_key(key, key_len);
    if (rc)
        return rc;
    REPLICA_ENTER(s, r);
    rc = s->e ? engine_get(s->e, key, key_len, v) : replica_closed();
    REPLICA_LEAVE(s, r);
    return rc;
}

int abi_impl_dd_replica_get(dd_crdt **out, dd_replica *r, const uint8_t *key, size_t key_len)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    crdt *v = NULL;
    int rc = replica_value(r, key, key_len, &v);
    return rc ? rc : abi_crdt_wrap(out, v);
}

int abi_impl_dd_replica_to_json(dd_buf *out, dd_replica *r, const uint8_t *key, size_t key_len)
{
    ABI_REQUIRE_BUF(out, "out");
    crdt *v = NULL;
    int rc = replica_value(r, key, key_len, &v);
    if (rc)
        return rc;
    bytes b = BYTES_INIT;
    rc = crdt_to_json(v, &b);
    crdt_free(v);
    if (rc == DD_OK)
        rc = abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_replica_delete(dd_replica *r, const uint8_t *key, size_t key_len)
{
    int rc = check_key(key, key_len);
    if (rc)
        return rc;
    REPLICA_ENTER(s, r);
    rc = s->e ? engine_delete(s->e, node_now(s), key, key_len) : replica_closed();
    REPLICA_LEAVE(s, r);
    return rc;
}

int abi_impl_dd_replica_keys(dd_buf *out, dd_replica *r, uint64_t *cursor, uint32_t max)
{
    ABI_REQUIRE_BUF(out, "out");
    ABI_REQUIRE(cursor, "cursor");
    if (!max)
        max = 1000;
    bytes b = BYTES_INIT;
    uint32_t n = 0;
    REPLICA_ENTER(s, r);
    int rc = DD_OK;
    if (!s->e) {
        rc = replica_closed();
    } else {
        const uint8_t *key;
        size_t len;
        while (n < max && engine_keys_next(s->e, cursor, &key, &len) == DD_OK) {
            uint8_t l[4];
            store_u32le(l, (uint32_t)len);
            bytes_put(&b, l, 4);
            bytes_put(&b, key, len);
            n++;
        }
    }
    REPLICA_LEAVE(s, r);
    if (rc == DD_OK && !n)
        rc = DD_EDONE;
    if (rc == DD_OK)
        rc = abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_replica_key_count(uint64_t *out, dd_replica *r)
{
    ABI_REQUIRE(out, "out");
    REPLICA_ENTER(s, r);
    int rc = s->e ? DD_OK : replica_closed();
    *out = s->e ? engine_key_count(s->e) : 0;
    REPLICA_LEAVE(s, r);
    return rc;
}

int abi_impl_dd_replica_subscribe(dd_replica *r, const uint8_t *key, size_t key_len, int is_prefix)
{
    if (!key && key_len)
        return error_set(DD_EINVAL, "key must not be NULL");
    if (!is_prefix && !key_len)
        return error_set(DD_EINVAL, "an exact subscription needs a key");
    REPLICA_ENTER(s, r);
    int rc = s->e ? engine_subscribe(s->e, key, key_len, is_prefix != 0) : replica_closed();
    REPLICA_LEAVE(s, r);
    return rc;
}

int abi_impl_dd_replica_write(uint64_t *request_id, dd_replica *r, const uint8_t *key,
                              size_t key_len, uint32_t type, const dd_op *op, uint32_t consistency,
                              uint32_t n, uint64_t timeout_ms)
{
    ABI_REQUIRE(request_id, "request_id");
    *request_id = 0;
    crdt_op ops[LIMITS_DEFAULT_DEPTH];
    int rc = check_key(key, key_len);
    if (rc || (rc = abi_op_convert(op, ops, LIMITS_DEFAULT_DEPTH)) != DD_OK)
        return rc;
    if (consistency > DD_CONSISTENCY_ALL)
        return error_set(DD_EINVAL, "unknown consistency level %u", consistency);
    REPLICA_ENTER(s, r);
    rc = s->e ? engine_write(s->e, node_now(s), key, key_len, (crdt_type)type, &ops[0],
                             (engine_consistency)consistency, n, timeout_ms, request_id)
              : replica_closed();
    REPLICA_LEAVE(s, r);
    return rc;
}

int abi_impl_dd_replica_read(uint64_t *request_id, dd_replica *r, const uint8_t *key,
                             size_t key_len, uint32_t consistency, uint32_t n, uint64_t timeout_ms)
{
    ABI_REQUIRE(request_id, "request_id");
    *request_id = 0;
    int rc = check_key(key, key_len);
    if (rc)
        return rc;
    if (consistency > DD_CONSISTENCY_ALL)
        return error_set(DD_EINVAL, "unknown consistency level %u", consistency);
    REPLICA_ENTER(s, r);
    rc = s->e ? engine_read(s->e, node_now(s), key, key_len, (engine_consistency)consistency, n,
                            timeout_ms, request_id)
              : replica_closed();
    REPLICA_LEAVE(s, r);
    return rc;
}

int abi_impl_dd_replica_flush(dd_replica *r)
{
    REPLICA_ENTER(s, r);
    int rc = s->e ? durable_flush(s->e) : replica_closed();
    REPLICA_LEAVE(s, r);
    return rc;
}
