/*
 * The state store's reads past a single key and its building blocks at
 * the handle layer (issue 17.13): the key and range cursors, the last
 * record (of the store or of a prefix), and dd_state_range and dd_state_op
 * turned into the core's state_bounds and state_op, one core call each
 * (core/store/state_blocks.c). The cursors themselves live with the
 * journal's (dd_journal_cursor.c); the record calls in dd_store.c.
 */
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "dd_journal_cursor.h"
#include "dd_state_blocks_internal.h"
#include "dd_store.h"
#include "store/state_store.h"
#include "store/store.h"
#include "store_call_internal.h"
#include "util/alloc.h"

int abi_impl_dd_state_range_init(dd_state_range *range, uint32_t version)
{
    ABI_INIT_DEFAULTS(range, "range", dd_state_range, version, DD_STATE_RANGE_VERSION,
                      DD_STATE_RANGE_INIT);
}

int abi_state_bounds(const dd_state_range *range, state_bounds *out, bytes *scratch)
{
    state_bounds b = {0};
    b.start = range->start;
    b.start_len = range->start_len;
    b.start_exclusive = range->start_exclusive != 0;
    b.end = range->end;
    b.end_len = range->end_len;
    b.end_inclusive = range->end_inclusive != 0;
    b.reverse = range->reverse != 0;
    b.keys_only = range->keys_only != 0;
    b.limit = range->limit;
    *out = b;
    return state_bounds_clip_prefix(out, range->prefix, range->prefix_len, scratch);
}

static int check_bytes(const uint8_t *p, size_t len, const char *what)
{
    if (!p && len)
        return error_set(DD_EINVAL, "%s must not be NULL when its length is %zu", what, len);
    if (len > STORE_MAX_KEY_BYTES)
        return error_set(DD_ELIMIT, "%s is %zu bytes, at most %u", what, len, STORE_MAX_KEY_BYTES);
    return DD_OK;
}

static int check_flag(uint32_t v, const char *what)
{
    return v <= 1 ? DD_OK
                  : error_set(DD_EINVAL, "dd_state_range.%s is %u, expected 0 or 1", what, v);
}

int abi_impl_dd_state_store_keys(dd_journal_cursor **out, dd_state_store *store,
                                 const uint8_t *prefix, size_t prefix_len)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    int rc = check_bytes(prefix, prefix_len, "prefix");
    if (rc != DD_OK)
        return rc;
    return abi_state_cursor_new(out, store, prefix, prefix_len, 1, 0);
}

int abi_impl_dd_state_store_range(dd_journal_cursor **out, dd_state_store *store,
                                  const uint8_t *from, size_t from_len, int64_t count)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    int rc = check_bytes(from, from_len, "from");
    if (rc != DD_OK)
        return rc;
    return abi_state_cursor_new(out, store, from, from_len, 0, count);
}

int abi_impl_dd_state_store_scan(dd_journal_cursor **out, dd_state_store *store,
                                 const dd_state_range *range)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    dd_state_range all = DD_STATE_RANGE_INIT;
    const dd_state_range *r = range ? range : &all;
    ABI_REQUIRE_VERSION("dd_state_range", r->version, DD_STATE_RANGE_VERSION);
    int rc = check_bytes(r->start, r->start_len, "range start");
    if (rc == DD_OK)
        rc = check_bytes(r->end, r->end_len, "range end");
    if (rc == DD_OK)
        rc = check_bytes(r->prefix, r->prefix_len, "range prefix");
    if (rc == DD_OK)
        rc = check_flag(r->start_exclusive, "start_exclusive");
    if (rc == DD_OK)
        rc = check_flag(r->end_inclusive, "end_inclusive");
    if (rc == DD_OK)
        rc = check_flag(r->reverse, "reverse");
    if (rc == DD_OK)
        rc = check_flag(r->keys_only, "keys_only");
    if (rc != DD_OK)
        return rc;
    state_bounds b;
    bytes scratch = BYTES_INIT;
    rc = abi_state_bounds(r, &b, &scratch);
    if (rc == DD_OK)
        rc = abi_state_scan_cursor_new(out, store, &b);
    bytes_free(&scratch);
    return rc;
}

/* The last record of the store (by_prefix 0) or of the keys starting
 * with prefix, into out (its state) and key (its key, when not NULL). */
static int state_last(dd_buf *out, dd_buf *key, uint64_t *revision, dd_state_store *store,
                      const uint8_t *prefix, size_t prefix_len, int by_prefix)
{
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    if (key) {
        key->data = NULL;
        key->len = 0;
    }
    int rc = by_prefix ? check_bytes(prefix, prefix_len, "prefix") : DD_OK;
    if (rc != DD_OK)
        return rc;
    STORE_ACQUIRE(state_store, s, store, HK_STATE_STORE, "state store");
    bytes k = BYTES_INIT, b = BYTES_INIT;
    rc = by_prefix ? state_store_last_prefix(s, prefix, prefix_len, key ? &k : NULL, revision, &b)
                   : state_store_last(s, key ? &k : NULL, revision, &b);
    handle_release(store);
    if (rc == ST_OK && key)
        rc = abi_buf_from_bytes(key, &k);
    if (rc == ST_OK)
        rc = abi_buf_from_bytes(out, &b);
    if (rc != ST_OK && key) {
        dd_buf_free(key);
        key->data = NULL;
        key->len = 0;
    }
    bytes_free(&k);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_state_store_last(dd_buf *out, dd_buf *key, uint64_t *revision,
                                 dd_state_store *store)
{
    return state_last(out, key, revision, store, NULL, 0, 0);
}

int abi_impl_dd_state_store_last_prefix(dd_buf *out, dd_buf *key, uint64_t *revision,
                                        dd_state_store *store, const uint8_t *prefix,
                                        size_t prefix_len)
{
    return state_last(out, key, revision, store, prefix, prefix_len, 1);
}

int abi_impl_dd_state_store_purge_prefix(dd_state_store *store, const uint8_t *prefix,
                                         size_t prefix_len)
{
    int rc = check_bytes(prefix, prefix_len, "prefix");
    if (rc != DD_OK)
        return rc;
    STORE_CALL(state_store, s, store, HK_STATE_STORE, "state store",
               state_store_purge_prefix(s, prefix, prefix_len));
}

int abi_impl_dd_state_store_batch(uint64_t *revisions, dd_state_store *store,
                                  const dd_state_op *ops, size_t count)
{
    if (!ops && count)
        return error_set(DD_EINVAL, "ops must not be NULL when count is %zu", count);
    if (count > STATE_BATCH_MAX_OPS)
        return error_set(DD_ELIMIT, "batch of %zu ops, at most %u", count, STATE_BATCH_MAX_OPS);
    state_op *core_ops = alloc_array(count ? count : 1, sizeof(*core_ops));
    if (!core_ops)
        return error_oom();
    for (size_t i = 0; i < count; i++) {
        int kind = ops[i].kind > INT32_MAX ? -1 : (int)ops[i].kind;
        int upsert = kind == STATE_OP_UPSERT;
        core_ops[i] = (state_op){kind,
                                 ops[i].key,
                                 ops[i].key_len,
                                 ops[i].expected_revision,
                                 upsert ? ops[i].state : NULL,
                                 upsert ? ops[i].len : 0};
    }
    int rc = DD_EMISUSE;
    state_store *s = handle_acquire(store, HK_STATE_STORE, "state store");
    if (s) {
        rc = state_store_batch(s, core_ops, count, revisions);
        handle_release(store);
    }
    free(core_ops);
    return rc;
}

int abi_impl_dd_state_store_flush(dd_state_store *store)
{
    return abi_state_store_call(store, state_store_flush);
}
