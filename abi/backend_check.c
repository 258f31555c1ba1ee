/*
 * dd_backend_check: the contract kit (core/store/contract.h) run on a
 * user's engine through the public table, each case on a fresh store from
 * the user's factory, adapted exactly as dd_journal_open_custom adapts it.
 */
#include "abi.h"
#include "backend_custom.h"
#include "store/contract.h"

typedef struct check_factory {
    const dd_backend_ops *ops;
    dd_backend_new_fn new_store;
    void *ctx;
} check_factory;

static int open_fresh(void *ctx, store_backend **out)
{
    check_factory *f = ctx;
    *out = NULL;
    void *user = NULL;
    int rc = f->new_store(&user, f->ctx);
    if (rc != DD_OK)
        return rc < DD_OK && rc >= DD_ECALLBACK
                   ? error_set(rc, "the factory failed (%s)", dd_status_name(rc))
                   : error_set(DD_ECALLBACK, "the factory returned %d", rc);
    struct custom_backend *c;
    if ((rc = abi_backend_custom_new(&c, f->ops, user)) != DD_OK) {
        if (f->ops->close)
            f->ops->close(user);
        return rc;
    }
    *out = (store_backend *)c;
    abi_backend_custom_own(*out);
    return DD_OK;
}

int abi_impl_dd_backend_check(dd_buf *report, const dd_backend_ops *ops,
                              dd_backend_new_fn new_store, void *factory_ctx)
{
    if (report) {
        report->data = NULL;
        report->len = 0;
    }
    ABI_REQUIRE(ops, "ops");
    ABI_REQUIRE(new_store, "new_store");
    /* The table is checked once here, so a bad one is DD_EINVAL, not 32
     * failed cases. */
    struct custom_backend *probe;
    int rc = abi_backend_custom_new(&probe, ops, NULL);
    if (rc != DD_OK)
        return rc;
    ((store_backend *)probe)->ops->close((store_backend *)probe);
    if ((rc = abi_impl_dd_init()) != DD_OK)
        return rc;
    check_factory f = {ops, new_store, factory_ctx};
    bytes b = BYTES_INIT;
    rc = contract_run(report ? &b : NULL, open_fresh, &f, NULL, NULL);
    if (report && b.len) {
        int brc = abi_buf_from_bytes(report, &b);
        if (brc != DD_OK)
            rc = brc;
    }
    bytes_free(&b);
    return rc;
}
