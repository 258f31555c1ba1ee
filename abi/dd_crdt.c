/*
 * dd_crdt: standalone CRDT values through the handle table.
 *
 * Each function looks the handle up (NULL, closed or forged handles give
 * DD_EMISUSE), checks its arguments (DD_EINVAL with a message), converts
 * public structs to core ones and calls core/crdt. No CRDT logic lives here.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "abi.h"
#include "crdt/crdt.h"
#include "util/bytes.h"

static void destroy_crdt(void *obj)
{
    crdt_free(obj);
}

int abi_crdt_wrap(dd_crdt **out, crdt *v)
{
    HANDLE_PUBLISH(out, v, HK_CRDT, destroy_crdt);
}

#define ACQUIRE(var, handle)                                                                       \
    crdt *var = handle_acquire((handle), HK_CRDT, "crdt");                                         \
    if (!var)                                                                                      \
    return DD_EMISUSE

int abi_impl_dd_crdt_new(dd_crdt **out, uint32_t type)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    crdt *v;
    int rc = crdt_new(&v, (crdt_type)type);
    return rc ? rc : abi_crdt_wrap(out, v);
}

int abi_impl_dd_crdt_free(dd_crdt *v)
{
    return handle_close(v, HK_CRDT, "crdt");
}

int abi_impl_dd_crdt_clone(dd_crdt **out, const dd_crdt *vh)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    ACQUIRE(v, vh);
    crdt *c;
    int rc = crdt_clone(&c, v);
    handle_release(vh);
    return rc ? rc : abi_crdt_wrap(out, c);
}

int abi_impl_dd_crdt_type_of(const dd_crdt *vh)
{
    ACQUIRE(v, vh);
    int t = (int)crdt_type_of(v);
    handle_release(vh);
    return t;
}

DD_API const char *dd_crdt_type_name(uint32_t type)
{
    const char *name = crdt_type_name((crdt_type)type);
    return name ? name : "unknown";
}

int abi_impl_dd_actor_id_random(uint64_t *out)
{
    ABI_REQUIRE(out, "out");
    int rc = abi_impl_dd_init();
    if (rc != DD_OK)
        return rc;
    do
        randombytes_buf(out, sizeof(*out));
    while (*out == 0);
    return DD_OK;
}

int abi_impl_dd_crdt_needs_causal_delta(uint32_t type)
{
    if (!crdt_type_name((crdt_type)type))
        return error_set(DD_EINVAL, "unknown crdt type %u", type);
    return crdt_needs_causal_delta((crdt_type)type) ? 1 : 0;
}

int abi_impl_dd_crdt_apply(dd_crdt *vh, const dd_op *op, uint64_t actor, uint64_t now_ms,
                           dd_crdt **delta_out)
{
    if (delta_out)
        *delta_out = NULL;
    ABI_REQUIRE(op, "op");
    crdt_op ops[LIMITS_DEFAULT_DEPTH];
    int rc = abi_op_convert(op, ops, LIMITS_DEFAULT_DEPTH);
    if (rc)
        return rc;
    ACQUIRE(v, vh);
    crdt_ctx ctx = {actor, now_ms};
    crdt *delta = NULL;
    rc = crdt_apply(v, &ops[0], &ctx, delta_out ? &delta : NULL);
    handle_release(vh);
    if (rc || !delta_out)
        return rc;
    return abi_crdt_wrap(delta_out, delta);
}

int abi_impl_dd_crdt_merge(dd_crdt *dsth, const dd_crdt *srch)
{
    ACQUIRE(dst, dsth);
    crdt *src = handle_acquire(srch, HK_CRDT, "crdt");
    if (!src) {
        handle_release(dsth);
        return DD_EMISUSE;
    }
    int rc = crdt_merge(dst, src);
    handle_release(srch);
    handle_release(dsth);
    return rc;
}

int abi_impl_dd_crdt_equal(const dd_crdt *ah, const dd_crdt *bh)
{
    ACQUIRE(a, ah);
    crdt *b = handle_acquire(bh, HK_CRDT, "crdt");
    if (!b) {
        handle_release(ah);
        return DD_EMISUSE;
    }
    int eq = crdt_equal(a, b) ? 1 : 0;
    handle_release(bh);
    handle_release(ah);
    return eq;
}

int abi_impl_dd_crdt_digest(uint64_t *out, const dd_crdt *vh)
{
    ABI_REQUIRE(out, "out");
    ACQUIRE(v, vh);
    *out = crdt_digest(v);
    handle_release(vh);
    return DD_OK;
}

/* Runs a writer into a bytes buffer and hands the result out as a dd_buf. */
static int to_buf(dd_buf *out, const dd_crdt *vh, int (*fn)(const crdt *, bytes *))
{
    ABI_REQUIRE_BUF(out, "out");
    ACQUIRE(v, vh);
    bytes b = BYTES_INIT;
    int rc = fn(v, &b);
    handle_release(vh);
    if (rc) {
        bytes_free(&b);
        return rc;
    }
    return abi_buf_from_bytes(out, &b);
}

int abi_impl_dd_crdt_encode(dd_buf *out, const dd_crdt *v)
{
    return to_buf(out, v, crdt_encode);
}

int abi_impl_dd_crdt_to_json(dd_buf *out, const dd_crdt *v)
{
    return to_buf(out, v, crdt_to_json);
}

int abi_impl_dd_crdt_value_json(dd_buf *out, const dd_crdt *v)
{
    return to_buf(out, v, crdt_value_json);
}

int abi_impl_dd_crdt_elements(dd_buf *out, const dd_crdt *v)
{
    return to_buf(out, v, crdt_elements);
}

/* The checks both readers of outside input (encoded bytes, JSON) start with:
 * `out` cleared, `in` (named `what`) present unless empty, `lim` converted. */
static int input_begin(dd_crdt **out, const void *in, size_t len, const char *what,
                       const dd_limits *lim, limits *l)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    if (!in && len)
        return error_set(DD_EINVAL, "%s is NULL with length %zu", what, len);
    return abi_limits(lim, l);
}

int abi_impl_dd_crdt_decode(dd_crdt **out, const uint8_t *data, size_t len, const dd_limits *lim,
                            uint64_t now_ms)
{
    limits l;
    crdt *v = NULL;
    int rc = input_begin(out, data, len, "data", lim, &l);
    if (rc == DD_OK)
        rc = crdt_decode(&v, data, len, &l, now_ms);
    return rc ? rc : abi_crdt_wrap(out, v);
}

int abi_impl_dd_crdt_from_json(dd_crdt **out, const char *json, size_t len, const dd_limits *lim)
{
    limits l;
    crdt *v = NULL;
    int rc = input_begin(out, json, len, "json", lim, &l);
    if (rc == DD_OK)
        rc = crdt_from_json(&v, json, len, &l);
    return rc ? rc : abi_crdt_wrap(out, v);
}

int abi_impl_dd_crdt_counter_value(int64_t *out, const dd_crdt *vh)
{
    ABI_REQUIRE(out, "out");
    ACQUIRE(v, vh);
    int rc = crdt_counter_value(v, out);
    handle_release(vh);
    return rc;
}

int abi_impl_dd_crdt_contains(const dd_crdt *vh, const uint8_t *elem, size_t len)
{
    if (!elem && len)
        return error_set(DD_EINVAL, "elem is NULL with length %zu", len);
    ACQUIRE(v, vh);
    bool has = false;
    int rc = crdt_contains(v, elem, len, &has);
    handle_release(vh);
    return rc ? rc : has ? 1 : 0;
}

int abi_impl_dd_crdt_count(uint64_t *out, const dd_crdt *vh)
{
    ABI_REQUIRE(out, "out");
    ACQUIRE(v, vh);
    *out = crdt_count(v);
    handle_release(vh);
    return DD_OK;
}

int abi_impl_dd_crdt_register_get(dd_buf *out, const dd_crdt *vh)
{
    ABI_REQUIRE_BUF(out, "out");
    ACQUIRE(v, vh);
    const uint8_t *p;
    size_t len;
    int rc = crdt_register_get(v, &p, &len);
    if (!rc) {
        bytes b = BYTES_INIT;
        bytes_put(&b, p, len);
        rc = abi_buf_from_bytes(out, &b);
    }
    handle_release(vh);
    return rc;
}

int abi_impl_dd_crdt_flag_value(const dd_crdt *vh)
{
    ACQUIRE(v, vh);
    bool on = false;
    int rc = crdt_flag_value(v, &on);
    handle_release(vh);
    return rc ? rc : on ? 1 : 0;
}

int abi_impl_dd_crdt_map_get(dd_crdt **out, const dd_crdt *mh, const uint8_t *key, size_t key_len)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    if (!key && key_len)
        return error_set(DD_EINVAL, "key is NULL with length %zu", key_len);
    ACQUIRE(m, mh);
    int rc;
    crdt *copy = NULL;
    if (crdt_type_of(m) < CRDT_ORMAP) {
        rc = error_set(DD_ETYPE, "%s is not a map", crdt_type_name(crdt_type_of(m)));
    } else {
        const crdt *val = crdt_map_get(m, key, key_len);
        rc = val ? crdt_clone(&copy, val) : error_set(DD_ENOTFOUND, "map has no such key");
    }
    handle_release(mh);
    return rc ? rc : abi_crdt_wrap(out, copy);
}
