/*
 * A user's engine (dd_backend_ops, the public table) adapted onto the
 * internal one (core/store/backend.h), so the journal and state store run
 * on it unchanged, sealing and read checks included.
 *
 * Two things the adapter adds besides translating structs: a user's
 * return value is mapped onto the DD_E* codes (anything else is
 * DD_ECALLBACK naming the operation), and a stop requested by the library's own
 * callback is returned as the library gave it, whatever the engine
 * returned after it, so a careless engine cannot turn ST_ECORRUPT into
 * success.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "backend_custom.h"
#include "dd_store.h"
#include "seal/seal.h"
#include "store/backend.h"
#include "store/journal.h"
#include "store/state_generic.h"
#include "store/store.h"
#include "store/tags.h"

typedef struct custom_backend {
    store_backend base;
    dd_backend_ops ops;
    void *user;
    int owns_user; /* set once the open succeeded: only then is close(user) ours */
} custom_backend;

static custom_backend *custom(store_backend *b)
{
    return (custom_backend *)b;
}

static const char *custom_name(const custom_backend *c)
{
    return c->ops.name ? c->ops.name : "custom";
}

/* Maps what the user's function returned. */
static int custom_status(const custom_backend *c, const char *op, int rc)
{
    if (rc == DD_OK)
        return ST_OK;
    if (rc < DD_OK && rc >= DD_ECALLBACK)
        return error_set(rc, "backend '%s': %s failed (%s)", custom_name(c), op,
                         dd_status_name(rc));
    /* As for every callback (ABI.md, "Errors"): a code that is not a
     * DD_E* status is the caller's own. */
    return error_set(DD_ECALLBACK, "backend '%s': %s returned %d, which is not a DD_E* code",
                     custom_name(c), op, rc);
}

/* A read's callback context: the library's callback and the value it
 * stopped with, if it did. */
typedef struct custom_read {
    store_event_fn event_fn;
    store_pid_fn pid_fn;
    store_snapshot_fn snapshot_fn;
    state_scan_fn state_fn;
    uint64_t *revision;
    bytes *state;
    void *ctx;
    int stopped;
} custom_read;

static int custom_read_status(const custom_backend *c, const char *op, const custom_read *r, int rc)
{
    if (r->stopped)
        return r->stopped;
    return custom_status(c, op, rc);
}

static int on_event(void *ctx, const dd_backend_event *ev)
{
    custom_read *r = ctx;
    if (!ev)
        return r->stopped = error_set(DD_EINVAL, "backend passed a NULL event");
    store_event e = {ev->seq,     ev->timestamp_ms, ev->ordering, ev->pid,     ev->pid_len,
                     ev->payload, ev->len,          ev->tags,     ev->tags_len};
    if ((!e.payload && e.payload_len) || (!e.pid && e.pid_len) || (!e.tags && e.tags_len))
        return r->stopped = error_set(DD_ECORRUPT, "backend passed a NULL pointer with a length");
    int rc = r->event_fn(r->ctx, &e);
    if (rc)
        r->stopped = rc;
    return rc;
}

static int on_key(void *ctx, const uint8_t *key, size_t key_len)
{
    custom_read *r = ctx;
    if (!key && key_len)
        return r->stopped = error_set(DD_ECORRUPT, "backend passed a NULL key with a length");
    int rc = r->pid_fn(r->ctx, key, key_len);
    if (rc)
        r->stopped = rc;
    return rc;
}

static int on_snapshot(void *ctx, uint64_t seq, uint64_t ts, const uint8_t *data, size_t len)
{
    custom_read *r = ctx;
    if (!data && len)
        return r->stopped = error_set(DD_ECORRUPT, "backend passed a NULL snapshot with a length");
    store_snapshot s = {seq, ts, data, len};
    int rc = r->snapshot_fn(r->ctx, &s);
    if (rc)
        r->stopped = rc;
    return rc;
}

static int on_state(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                    const uint8_t *state, size_t len)
{
    custom_read *r = ctx;
    if ((!key && key_len) || (!state && len))
        return r->stopped = error_set(DD_ECORRUPT, "backend passed a NULL pointer with a length");
    int rc = r->state_fn(r->ctx, key, key_len, revision, state, len);
    if (rc)
        r->stopped = rc;
    return rc;
}

/* state_get's one record, copied out. */
static int on_state_get(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                        const uint8_t *state, size_t len)
{
    (void)key;
    (void)key_len;
    custom_read *r = ctx;
    if (!state && len)
        return r->stopped = error_set(DD_ECORRUPT, "backend passed a NULL state with a length");
    if (r->revision)
        *r->revision = revision;
    if (r->state) {
        bytes_reset(r->state);
        bytes_put(r->state, len ? state : (const uint8_t *)"", len);
        if (r->state->failed)
            return r->stopped = error_oom();
    }
    return 0;
}

static dd_snapshot_criteria criteria_out(const snapshot_criteria *c)
{
    dd_snapshot_criteria o = {DD_SNAPSHOT_CRITERIA_VERSION, c->min_seq, c->max_seq, c->min_ts,
                              c->max_ts};
    return o;
}

static int c_append(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t expected,
                    const store_event *events, size_t count)
{
    custom_backend *c = custom(b);
    dd_backend_event local[64], *ev = local;
    local[0] = (dd_backend_event){0}; /* count is never 0 here; say so to the compiler */
    if (count > 64) {
        if (count > SIZE_MAX / sizeof(*ev) || !(ev = malloc(count * sizeof(*ev))))
            return error_oom();
    }
    for (size_t i = 0; i < count; i++) {
        const store_event *e = &events[i];
        ev[i] = (dd_backend_event){e->seq,     e->timestamp_ms, 0,       pid,        pid_len,
                                   e->payload, e->payload_len,  e->tags, e->tags_len};
    }
    int rc = c->ops.journal_append(c->user, pid, pid_len, expected, ev, count);
    if (ev != local)
        free(ev);
    return custom_status(c, "journal_append", rc);
}

static int c_replay(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t from,
                    uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    custom_backend *c = custom(b);
    custom_read r = {.event_fn = fn, .ctx = ctx};
    int rc = c->ops.journal_replay(c->user, pid, pid_len, from, to, max, on_event, &r);
    return custom_read_status(c, "journal_replay", &r, rc);
}

static int c_highest(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    custom_backend *c = custom(b);
    *out = 0;
    return custom_status(c, "journal_highest", c->ops.journal_highest(c->user, pid, pid_len, out));
}

static int c_delete_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    custom_backend *c = custom(b);
    return custom_status(c, "journal_delete_to",
                         c->ops.journal_delete_to(c->user, pid, pid_len, to));
}

static int c_deleted_to(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    custom_backend *c = custom(b);
    *out = 0;
    return custom_status(c, "journal_deleted_to",
                         c->ops.journal_deleted_to(c->user, pid, pid_len, out));
}

static int c_pids(store_backend *b, const uint8_t *after, size_t after_len, uint64_t limit,
                  store_pid_fn fn, void *ctx)
{
    custom_backend *c = custom(b);
    custom_read r = {.pid_fn = fn, .ctx = ctx};
    int rc = c->ops.journal_pids(c->user, after, after_len, limit, on_key, &r);
    return custom_read_status(c, "journal_pids", &r, rc);
}

static int c_by_tag(store_backend *b, const uint8_t *tag, size_t tag_len, uint64_t after,
                    uint64_t max, store_event_fn fn, void *ctx)
{
    custom_backend *c = custom(b);
    custom_read r = {.event_fn = fn, .ctx = ctx};
    int rc = c->ops.journal_by_tag(c->user, tag, tag_len, after, max, on_event, &r);
    return custom_read_status(c, "journal_by_tag", &r, rc);
}

static int c_snap_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                       uint64_t ts, const uint8_t *data, size_t len)
{
    custom_backend *c = custom(b);
    return custom_status(c, "snapshot_save",
                         c->ops.snapshot_save(c->user, pid, pid_len, seq, ts, data, len));
}

static int c_snap_find(store_backend *b, const uint8_t *pid, size_t pid_len,
                       const snapshot_criteria *crit, store_snapshot_fn fn, void *ctx)
{
    custom_backend *c = custom(b);
    custom_read r = {.snapshot_fn = fn, .ctx = ctx};
    dd_snapshot_criteria o = criteria_out(crit);
    int rc = c->ops.snapshot_find(c->user, pid, pid_len, &o, on_snapshot, &r);
    if (!r.stopped && rc == DD_ENOTFOUND)
        return ST_ENOTFOUND; /* an answer, not a failure: no message */
    return custom_read_status(c, "snapshot_find", &r, rc);
}

static int c_snap_delete(store_backend *b, const uint8_t *pid, size_t pid_len,
                         const snapshot_criteria *crit)
{
    custom_backend *c = custom(b);
    dd_snapshot_criteria o = criteria_out(crit);
    return custom_status(c, "snapshot_delete", c->ops.snapshot_delete(c->user, pid, pid_len, &o));
}

static int c_snap_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    custom_backend *c = custom(b);
    return custom_status(c, "snapshot_prune", c->ops.snapshot_prune(c->user, pid, pid_len, keep));
}

static int c_upsert(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected,
                    const uint8_t *state, size_t len, uint64_t *new_revision)
{
    custom_backend *c = custom(b);
    uint64_t rev = 0;
    int rc = c->ops.state_upsert(c->user, key, key_len, expected, state, len, &rev);
    if (rc == DD_OK && new_revision)
        *new_revision = rev;
    return custom_status(c, "state_upsert", rc);
}

static int c_get(store_backend *b, const uint8_t *key, size_t key_len, uint64_t *revision,
                 bytes *state)
{
    custom_backend *c = custom(b);
    custom_read r = {.revision = revision, .state = state};
    int rc = c->ops.state_get(c->user, key, key_len, on_state_get, &r);
    if (!r.stopped && rc == DD_ENOTFOUND)
        return state_error_not_found(key, key_len);
    return custom_read_status(c, "state_get", &r, rc);
}

static int c_delete(store_backend *b, const uint8_t *key, size_t key_len, uint64_t expected)
{
    custom_backend *c = custom(b);
    return custom_status(c, "state_delete", c->ops.state_delete(c->user, key, key_len, expected));
}

static int c_scan(store_backend *b, const uint8_t *prefix, size_t prefix_len, state_scan_fn fn,
                  void *ctx)
{
    custom_backend *c = custom(b);
    custom_read r = {.state_fn = fn, .ctx = ctx};
    int rc = c->ops.state_scan(c->user, prefix, prefix_len, on_state, &r);
    return custom_read_status(c, "state_scan", &r, rc);
}

static int c_range(store_backend *b, const uint8_t *from, size_t from_len, int64_t count,
                   state_scan_fn fn, void *ctx)
{
    custom_backend *c = custom(b);
    custom_read r = {.state_fn = fn, .ctx = ctx};
    int rc = c->ops.state_range(c->user, from, from_len, count, on_state, &r);
    return custom_read_status(c, "state_range", &r, rc);
}

static int c_purge(store_backend *b)
{
    custom_backend *c = custom(b);
    return custom_status(c, "state_purge", c->ops.state_purge(c->user));
}

/* An optional member taking only the user pointer: absent, it succeeds. */
static int optional_call(custom_backend *c, const char *what, dd_backend_user_fn fn)
{
    return fn ? custom_status(c, what, fn(c->user)) : ST_OK;
}

static int c_begin(store_backend *b)
{
    return optional_call(custom(b), "state_begin", custom(b)->ops.state_begin);
}

static int c_commit(store_backend *b)
{
    return optional_call(custom(b), "state_commit", custom(b)->ops.state_commit);
}

/* ---- version 2: the state building blocks ------------------------------
 * The user's member when there is one, else the generic form on the
 * members above (core/store/state_generic.c). */

static int c_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx)
{
    custom_backend *c = custom(b);
    if (!c->ops.state_scan_range)
        return state_generic_scan_range(b, r, fn, ctx);
    dd_state_range range = DD_STATE_RANGE_INIT;
    range.start = r->start;
    range.start_len = r->start_len;
    range.start_exclusive = (uint32_t)r->start_exclusive;
    range.end = r->end;
    range.end_len = r->end_len;
    range.end_inclusive = (uint32_t)r->end_inclusive;
    range.reverse = (uint32_t)r->reverse;
    range.keys_only = (uint32_t)r->keys_only;
    range.limit = r->limit;
    custom_read rd = {.state_fn = fn, .ctx = ctx};
    int rc = c->ops.state_scan_range(c->user, &range, on_state, &rd);
    return custom_read_status(c, "state_scan_range", &rd, rc);
}

/* The first op whose expected revision does not hold, for a conflict the
 * user's engine reported without saying which op. */
static int name_conflict(store_backend *b, const state_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t found = 0;
        int rc = c_get(b, ops[i].key, ops[i].key_len, &found, NULL);
        if (rc != ST_OK && rc != ST_ENOTFOUND)
            break;
        if (rc == ST_ENOTFOUND)
            found = 0;
        uint64_t want = ops[i].expected_revision;
        if (want != STATE_ANY_REVISION &&
            (want != found || (ops[i].kind == STATE_OP_DELETE && found == 0)))
            return error_set(ST_ECONFLICT,
                             "backend '%s': batch op %zu: state '%.*s': expected revision %llu, "
                             "found %llu",
                             custom_name(custom(b)), i, error_key_len(ops[i].key_len),
                             (const char *)ops[i].key, (unsigned long long)want,
                             (unsigned long long)found);
    }
    return error_set(ST_ECONFLICT, "backend '%s': state_batch reported a conflict",
                     custom_name(custom(b)));
}

static int c_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions)
{
    custom_backend *c = custom(b);
    if (!c->ops.state_batch && !c->ops.state_begin)
        return error_set(DD_EUNSUPPORTED,
                         "backend '%s' has neither state_batch nor state_begin/state_commit, so "
                         "it cannot apply a batch all or nothing",
                         custom_name(c));
    if (!c->ops.state_batch)
        return state_generic_batch(b, ops, n, revisions);
    dd_state_op *pub = calloc(n ? n : 1, sizeof(*pub));
    if (!pub)
        return error_oom();
    for (size_t i = 0; i < n; i++)
        pub[i] = (dd_state_op){(uint32_t)ops[i].kind,    ops[i].key,   ops[i].key_len,
                               ops[i].expected_revision, ops[i].state, ops[i].state_len};
    int rc = c->ops.state_batch(c->user, pub, n, revisions);
    free(pub);
    if (rc == DD_ECONFLICT)
        return name_conflict(b, ops, n);
    return custom_status(c, "state_batch", rc);
}

static int c_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len)
{
    custom_backend *c = custom(b);
    if (!c->ops.state_purge_prefix)
        return state_generic_purge_prefix(b, prefix, prefix_len, c->ops.state_begin != NULL);
    return custom_status(c, "state_purge_prefix",
                         c->ops.state_purge_prefix(c->user, prefix, prefix_len));
}

static int c_flush(store_backend *b)
{
    return optional_call(custom(b), "state_flush", custom(b)->ops.state_flush);
}

static void c_close(store_backend *b)
{
    custom_backend *c = custom(b);
    if (c->owns_user && c->ops.close)
        c->ops.close(c->user);
    free(c);
}

#define CUSTOM_OPS_COMMON                                                                          \
    .name = "custom", .journal_append = c_append, .journal_replay = c_replay,                      \
    .journal_highest = c_highest, .journal_delete_to = c_delete_to, .journal_pids = c_pids,        \
    .journal_by_tag = c_by_tag, .snapshot_save = c_snap_save, .snapshot_find = c_snap_find,        \
    .snapshot_delete = c_snap_delete, .snapshot_prune = c_snap_prune, .state_upsert = c_upsert,    \
    .state_get = c_get, .state_delete = c_delete, .state_scan = c_scan, .state_range = c_range,    \
    .state_purge = c_purge, .state_begin = c_begin, .state_commit = c_commit, .close = c_close,    \
    .state_scan_range = c_scan_range, .state_batch = c_batch,                                      \
    .state_purge_prefix = c_purge_prefix, .state_flush = c_flush

static const store_backend_ops custom_ops = {CUSTOM_OPS_COMMON};
/* With journal_deleted_to, for engines that keep the mark (a NULL member
 * in the internal table is how the journal learns that one does not). */
static const store_backend_ops custom_ops_marked = {CUSTOM_OPS_COMMON,
                                                    .journal_deleted_to = c_deleted_to};

static int check_ops(const dd_backend_ops *o)
{
    if (!o)
        return error_set(DD_EINVAL, "ops must not be NULL");
    if (o->version < 1 || o->version > DD_BACKEND_OPS_VERSION)
        return error_set(DD_EINVAL,
                         "dd_backend_ops version %u is not supported (this library knows 1..%u)",
                         o->version, DD_BACKEND_OPS_VERSION);
#define REQUIRED(m)                                                                                \
    if (!o->m)                                                                                     \
        return error_set(DD_EINVAL, "dd_backend_ops." #m " must not be NULL");
    REQUIRED(journal_append)
    REQUIRED(journal_replay)
    REQUIRED(journal_highest)
    REQUIRED(journal_delete_to)
    REQUIRED(journal_pids)
    REQUIRED(journal_by_tag)
    REQUIRED(snapshot_save)
    REQUIRED(snapshot_find)
    REQUIRED(snapshot_delete)
    REQUIRED(snapshot_prune)
    REQUIRED(state_upsert)
    REQUIRED(state_get)
    REQUIRED(state_delete)
    REQUIRED(state_scan)
    REQUIRED(state_range)
    REQUIRED(state_purge)
#undef REQUIRED
    if (!o->state_begin != !o->state_commit)
        return error_set(DD_EINVAL, "dd_backend_ops: state_begin and state_commit come together");
    return DD_OK;
}

void abi_backend_custom_own(store_backend *b)
{
    custom(b)->owns_user = 1;
}

int abi_backend_custom_new(custom_backend **out, const dd_backend_ops *ops, void *user)
{
    *out = NULL;
    int rc = check_ops(ops);
    if (rc != DD_OK)
        return rc;
    custom_backend *c = calloc(1, sizeof(*c));
    if (!c)
        return error_oom();
    /* A version 1 table ends at `close`: copy only what it has. */
    memcpy(&c->ops, ops,
           ops->version == 1 ? offsetof(dd_backend_ops, state_scan_range) : sizeof(c->ops));
    c->user = user;
    c->base.ops = ops->journal_deleted_to ? &custom_ops_marked : &custom_ops;
    *out = c;
    return DD_OK;
}

static void journal_destroy(void *obj)
{
    journal_close(obj);
}

static void state_destroy(void *obj)
{
    state_store_close(obj);
}

/* Opens a journal (kind HK_JOURNAL) or a state store over the adapter of
 * the user's table with the sealer of `opts`, and registers its handle.
 * Nothing is left open on failure, the user's store excepted: it becomes
 * the handle's only once the handle exists. */
static int open_custom(uintptr_t *out, handle_kind kind, const dd_backend_ops *ops, void *user,
                       const dd_store_options *opts)
{
    custom_backend *c;
    sealer *seal = NULL;
    journal_options jo;
    int is_journal = kind == HK_JOURNAL;
    int rc = abi_backend_custom_new(&c, ops, user);
    if (rc == DD_OK && (rc = abi_store_sealer(opts, &seal, is_journal ? &jo : NULL)) != DD_OK)
        c_close(&c->base);
    if (rc != DD_OK)
        return rc;
    journal *j = NULL;
    state_store *s = NULL;
    rc = is_journal ? journal_open_backend(&j, &c->base, seal, &jo)
                    : state_store_open_backend(&s, &c->base, seal);
    if (rc != ST_OK)
        return rc; /* closed the adapter (not the user's store) and the sealer */
    uintptr_t h = is_journal ? abi_store_register(j, kind, journal_destroy)
                             : abi_store_register(s, kind, state_destroy);
    if (!h)
        return DD_ENOMEM;
    c->owns_user = 1;
    *out = h;
    return DD_OK;
}

int abi_impl_dd_journal_open_custom(dd_journal **out, const dd_backend_ops *ops, void *user,
                                    const dd_store_options *opts)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    uintptr_t h;
    int rc = open_custom(&h, HK_JOURNAL, ops, user, opts);
    if (rc == DD_OK)
        *out = (dd_journal *)h;
    return rc;
}

int abi_impl_dd_state_store_open_custom(dd_state_store **out, const dd_backend_ops *ops, void *user,
                                        const dd_store_options *opts)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    uintptr_t h;
    int rc = open_custom(&h, HK_STATE_STORE, ops, user, opts);
    if (rc == DD_OK)
        *out = (dd_state_store *)h;
    return rc;
}
