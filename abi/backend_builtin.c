/*
 * A built-in engine (memory, SQLite, fs, PostgreSQL) behind the public
 * table, dd_backend_ops: the reverse of abi/backend_custom.c. A user wraps
 * it (counts calls, injects faults, mirrors writes) and opens a store on
 * the wrapper with dd_*_open_custom; dd_backend_check runs on it through
 * the same public path a user's engine takes, so the kit is proven on the
 * engines that already keep the contract.
 *
 * `user` is the engine's store_backend. The internal status codes are
 * the public ones (util/status.h), so results pass through unchanged.
 */
#include <stdlib.h>

#include "abi.h"
#include "dd_state_blocks_internal.h"
#include "dd_store.h"
#include "store/backend.h"
#include "store/state_generic.h"

static store_backend *engine(void *user)
{
    return user;
}

typedef struct builtin_read {
    dd_backend_event_fn event_fn;
    dd_backend_key_fn key_fn;
    dd_backend_snapshot_fn snapshot_fn;
    dd_backend_state_fn state_fn;
    void *ctx;
} builtin_read;

static int on_event(void *ctx, const store_event *e)
{
    builtin_read *r = ctx;
    dd_backend_event ev = {e->seq,     e->timestamp_ms, e->ordering, e->pid,     e->pid_len,
                           e->payload, e->payload_len,  e->tags,     e->tags_len};
    return r->event_fn(r->ctx, &ev);
}

static int on_key(void *ctx, const uint8_t *key, size_t key_len)
{
    builtin_read *r = ctx;
    return r->key_fn(r->ctx, key, key_len);
}

static int on_snapshot(void *ctx, const store_snapshot *s)
{
    builtin_read *r = ctx;
    return r->snapshot_fn(r->ctx, s->seq, s->timestamp_ms, s->data, s->len);
}

static int on_state(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                    const uint8_t *state, size_t len)
{
    builtin_read *r = ctx;
    return r->state_fn(r->ctx, key, key_len, revision, state, len);
}

static int criteria_in(const dd_snapshot_criteria *c, snapshot_criteria *out)
{
    if (!c)
        return error_set(DD_EINVAL, "criteria must not be NULL");
    *out = (snapshot_criteria){c->min_seq, c->max_seq, c->min_timestamp_ms, c->max_timestamp_ms};
    if (out->max_seq > STORE_SEQ_MAX)
        out->max_seq = STORE_SEQ_MAX;
    if (out->max_ts > STORE_SEQ_MAX)
        out->max_ts = STORE_SEQ_MAX;
    return DD_OK;
}

static int b_append(void *user, const uint8_t *pid, size_t pid_len, uint64_t expected,
                    const dd_backend_event *events, size_t count)
{
    if (!events || !count)
        return error_set(DD_EINVAL, "append needs events");
    if (count > SIZE_MAX / sizeof(store_event))
        return error_oom();
    store_event *ev = malloc(count * sizeof(*ev));
    if (!ev)
        return error_oom();
    for (size_t i = 0; i < count; i++) {
        const dd_backend_event *e = &events[i];
        ev[i] = (store_event){e->seq,     e->timestamp_ms, 0,       pid,        pid_len,
                              e->payload, e->len,          e->tags, e->tags_len};
    }
    store_backend *b = engine(user);
    int rc = b->ops->journal_append(b, pid, pid_len, expected, ev, count);
    free(ev);
    return rc;
}

static int b_replay(void *user, const uint8_t *pid, size_t pid_len, uint64_t from, uint64_t to,
                    uint64_t max, dd_backend_event_fn fn, void *ctx)
{
    builtin_read r = {.event_fn = fn, .ctx = ctx};
    store_backend *b = engine(user);
    return b->ops->journal_replay(b, pid, pid_len, from, to, max, on_event, &r);
}

static int b_highest(void *user, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    store_backend *b = engine(user);
    return b->ops->journal_highest(b, pid, pid_len, out);
}

static int b_delete_to(void *user, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    store_backend *b = engine(user);
    return b->ops->journal_delete_to(b, pid, pid_len, to);
}

static int b_deleted_to(void *user, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    store_backend *b = engine(user);
    return b->ops->journal_deleted_to(b, pid, pid_len, out);
}

static int b_pids(void *user, const uint8_t *after, size_t after_len, uint64_t limit,
                  dd_backend_key_fn fn, void *ctx)
{
    builtin_read r = {.key_fn = fn, .ctx = ctx};
    store_backend *b = engine(user);
    return b->ops->journal_pids(b, after, after_len, limit, on_key, &r);
}

static int b_by_tag(void *user, const uint8_t *tag, size_t tag_len, uint64_t after, uint64_t max,
                    dd_backend_event_fn fn, void *ctx)
{
    builtin_read r = {.event_fn = fn, .ctx = ctx};
    store_backend *b = engine(user);
    return b->ops->journal_by_tag(b, tag, tag_len, after, max, on_event, &r);
}

static int b_snap_save(void *user, const uint8_t *pid, size_t pid_len, uint64_t seq, uint64_t ts,
                       const uint8_t *data, size_t len)
{
    store_backend *b = engine(user);
    return b->ops->snapshot_save(b, pid, pid_len, seq, ts, data, len);
}

static int b_snap_find(void *user, const uint8_t *pid, size_t pid_len,
                       const dd_snapshot_criteria *c, dd_backend_snapshot_fn fn, void *ctx)
{
    snapshot_criteria sc;
    int rc = criteria_in(c, &sc);
    if (rc != DD_OK)
        return rc;
    builtin_read r = {.snapshot_fn = fn, .ctx = ctx};
    store_backend *b = engine(user);
    return b->ops->snapshot_find(b, pid, pid_len, &sc, on_snapshot, &r);
}

static int b_snap_delete(void *user, const uint8_t *pid, size_t pid_len,
                         const dd_snapshot_criteria *c)
{
    snapshot_criteria sc;
    int rc = criteria_in(c, &sc);
    if (rc != DD_OK)
        return rc;
    store_backend *b = engine(user);
    return b->ops->snapshot_delete(b, pid, pid_len, &sc);
}

static int b_snap_prune(void *user, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    store_backend *b = engine(user);
    return b->ops->snapshot_prune(b, pid, pid_len, keep);
}

static int b_upsert(void *user, const uint8_t *key, size_t key_len, uint64_t expected,
                    const uint8_t *state, size_t len, uint64_t *new_revision)
{
    store_backend *b = engine(user);
    return b->ops->state_upsert(b, key, key_len, expected, state, len, new_revision);
}

static int b_get(void *user, const uint8_t *key, size_t key_len, dd_backend_state_fn fn, void *ctx)
{
    store_backend *b = engine(user);
    bytes state = BYTES_INIT;
    uint64_t revision = 0;
    int rc = b->ops->state_get(b, key, key_len, &revision, &state);
    if (rc == ST_OK)
        rc = fn(ctx, key, key_len, revision, state.data, state.len);
    bytes_free(&state);
    return rc;
}

static int b_delete(void *user, const uint8_t *key, size_t key_len, uint64_t expected)
{
    store_backend *b = engine(user);
    return b->ops->state_delete(b, key, key_len, expected);
}

static int b_scan(void *user, const uint8_t *prefix, size_t prefix_len, dd_backend_state_fn fn,
                  void *ctx)
{
    builtin_read r = {.state_fn = fn, .ctx = ctx};
    store_backend *b = engine(user);
    return b->ops->state_scan(b, prefix, prefix_len, on_state, &r);
}

static int b_range(void *user, const uint8_t *from, size_t from_len, int64_t count,
                   dd_backend_state_fn fn, void *ctx)
{
    builtin_read r = {.state_fn = fn, .ctx = ctx};
    store_backend *b = engine(user);
    return b->ops->state_range(b, from, from_len, count, on_state, &r);
}

static int b_purge(void *user)
{
    store_backend *b = engine(user);
    return b->ops->state_purge(b);
}

static int b_begin(void *user)
{
    store_backend *b = engine(user);
    return b->ops->state_begin(b);
}

static int b_commit(void *user)
{
    store_backend *b = engine(user);
    return b->ops->state_commit(b);
}

static int b_scan_range(void *user, const dd_state_range *range, dd_backend_state_fn fn, void *ctx)
{
    if (!range || !fn)
        return error_set(DD_EINVAL, "state_scan_range: range and callback must not be NULL");
    state_bounds r;
    bytes scratch = BYTES_INIT;
    int rc = abi_state_bounds(range, &r, &scratch);
    builtin_read rd = {.state_fn = fn, .ctx = ctx};
    if (rc == DD_OK)
        rc = state_backend_scan_range(engine(user), &r, on_state, &rd);
    bytes_free(&scratch);
    return rc;
}

static int b_batch(void *user, const dd_state_op *ops, size_t count, uint64_t *revisions)
{
    if (!ops && count)
        return error_set(DD_EINVAL, "state_batch: ops must not be NULL when count is %zu", count);
    state_op *core_ops = calloc(count ? count : 1, sizeof(*core_ops));
    if (!core_ops)
        return error_oom();
    for (size_t i = 0; i < count; i++)
        core_ops[i] = (state_op){(int)ops[i].kind,         ops[i].key,   ops[i].key_len,
                                 ops[i].expected_revision, ops[i].state, ops[i].len};
    int rc = state_backend_batch(engine(user), core_ops, count, revisions);
    free(core_ops);
    return rc;
}

static int b_purge_prefix(void *user, const uint8_t *prefix, size_t prefix_len)
{
    return state_backend_purge_prefix(engine(user), prefix, prefix_len);
}

static int b_flush(void *user)
{
    return state_backend_flush(engine(user));
}

static void b_close(void *user)
{
    store_backend *b = engine(user);
    b->ops->close(b);
}

#define BUILTIN_OPS_COMMON                                                                         \
    .version = DD_BACKEND_OPS_VERSION, .name = "builtin", .journal_append = b_append,              \
    .journal_replay = b_replay, .journal_highest = b_highest, .journal_delete_to = b_delete_to,    \
    .journal_pids = b_pids, .journal_by_tag = b_by_tag, .snapshot_save = b_snap_save,              \
    .snapshot_find = b_snap_find, .snapshot_delete = b_snap_delete,                                \
    .snapshot_prune = b_snap_prune, .state_upsert = b_upsert, .state_get = b_get,                  \
    .state_delete = b_delete, .state_scan = b_scan, .state_range = b_range,                        \
    .state_purge = b_purge, .state_begin = b_begin, .state_commit = b_commit, .close = b_close,    \
    .state_scan_range = b_scan_range, .state_batch = b_batch,                                      \
    .state_purge_prefix = b_purge_prefix, .state_flush = b_flush

/* Engines that keep the delete-to mark (memory, SQLite, fs) and those
 * that do not (PostgreSQL), so the member is NULL exactly when it is. */
static const dd_backend_ops builtin_ops_marked = {BUILTIN_OPS_COMMON,
                                                  .journal_deleted_to = b_deleted_to};
static const dd_backend_ops builtin_ops = {BUILTIN_OPS_COMMON};

int abi_impl_dd_backend_open_builtin(const dd_backend_ops **ops, void **user,
                                     const dd_store_options *opts)
{
    ABI_REQUIRE(ops, "ops");
    ABI_REQUIRE(user, "user");
    *ops = NULL;
    *user = NULL;
    store_backend *b;
    int rc = abi_store_engine(opts, &b);
    if (rc != ST_OK)
        return rc;
    *ops = b->ops->journal_deleted_to ? &builtin_ops_marked : &builtin_ops;
    *user = b;
    return DD_OK;
}
