/*
 * dd_limits through the public header: the depth ceiling is a promise
 * (macro and function twin agree) and every place that accepts a dd_limits
 * refuses a max_depth above it with DD_EINVAL, before any peer can send a
 * value deep enough to overflow a thread's stack.
 */
#include <string.h>

#include "ddata.h"
#include "test.h"

static dd_limits too_deep(void)
{
    dd_limits lim;
    dd_limits_init(&lim, DD_LIMITS_VERSION);
    lim.max_depth = DD_LIMITS_MAX_DEPTH + 1;
    return lim;
}

/* A new GCounter, encoded (binary, or JSON when `json`). */
static dd_buf encoded_gcounter(bool json)
{
    dd_crdt *v = NULL;
    ASSERT_OK(dd_crdt_new(&v, DD_GCOUNTER));
    dd_buf b = DD_BUF_INIT;
    ASSERT_OK(json ? dd_crdt_to_json(&b, v) : dd_crdt_encode(&b, v));
    dd_crdt_free(v);
    return b;
}

TEST(test_depth_ceiling_macro_and_function_agree)
{
    ASSERT_EQ_U64(dd_limits_max_depth(), DD_LIMITS_MAX_DEPTH);
    dd_limits def = DD_LIMITS_INIT;
    ASSERT(def.max_depth <= dd_limits_max_depth());
}

TEST(test_crdt_decode_refuses_a_depth_limit_above_the_ceiling)
{
    dd_crdt *out = NULL;
    dd_buf b = encoded_gcounter(false);
    dd_limits lim = too_deep();
    ASSERT_STATUS(dd_crdt_decode(&out, b.data, b.len, &lim, 0), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "max_depth"));
    ASSERT(out == NULL);
    lim.max_depth = DD_LIMITS_MAX_DEPTH;
    ASSERT_OK(dd_crdt_decode(&out, b.data, b.len, &lim, 0));
    dd_crdt_free(out);
    dd_buf_free(&b);
}

TEST(test_crdt_from_json_refuses_a_depth_limit_above_the_ceiling)
{
    dd_crdt *out = NULL;
    dd_buf js = encoded_gcounter(true);
    dd_limits lim = too_deep();
    ASSERT_STATUS(dd_crdt_from_json(&out, (const char *)js.data, js.len, &lim), DD_EINVAL);
    ASSERT(out == NULL);
    dd_buf_free(&js);
}

TEST(test_system_open_refuses_a_depth_limit_above_the_ceiling)
{
    dd_system_options so;
    ASSERT_OK(dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION));
    so.node_id = "a";
    dd_limits lim = too_deep();
    so.limits = &lim;
    dd_system *sys = NULL;
    ASSERT_STATUS(dd_system_open(&sys, &so), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "max_depth"));
    lim.max_depth = DD_LIMITS_MAX_DEPTH;
    ASSERT_OK(dd_system_open(&sys, &so));
    ASSERT_OK(dd_system_close(sys));
}

TEST(test_owned_open_refuses_a_depth_limit_above_the_ceiling)
{
    dd_owned_options oo;
    ASSERT_OK(dd_owned_options_init(&oo, DD_OWNED_OPTIONS_VERSION));
    oo.node_id = 1;
    dd_limits lim = too_deep();
    oo.limits = &lim;
    dd_owned *h = NULL;
    ASSERT_STATUS(dd_owned_open(&h, &oo), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "max_depth"));
}
