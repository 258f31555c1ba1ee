/*
 * dd_store_options and dd_state_store: the handle layer over
 * core/store/state_store. The options are turned into an engine and a
 * sealer here once, for the journal (abi/dd_journal.c) too.
 */
#include <string.h>

#include "abi.h"
#include "dd_store.h"
#include "seal/seal.h"
#include "store/fs_backend.h"
#include "store/journal.h"
#include "store/pg_backend.h"
#include "store/sqlite_backend.h"
#include "store/store.h"
#include "store/store_path.h"

int abi_impl_dd_store_options_init(dd_store_options *opts, uint32_t version)
{
    ABI_REQUIRE(opts, "opts");
    ABI_REQUIRE_VERSION("dd_store_options", version, DD_STORE_OPTIONS_VERSION);
    dd_store_options defaults = DD_STORE_OPTIONS_INIT;
    *opts = defaults;
    return DD_OK;
}

int abi_impl_dd_store_schema(dd_buf *out, uint32_t backend)
{
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    if (backend != DD_BACKEND_POSTGRES)
        return error_set(DD_EUNSUPPORTED, "backend %u has no SQL schema to print", backend);
    bytes b = BYTES_INIT;
    bytes_put(&b, pg_schema_sql(), strlen(pg_schema_sql()));
    return abi_buf_from_bytes(out, &b);
}

/* Options a store refuses whatever its engine. */
static int check_common(const dd_store_options *o)
{
    ABI_REQUIRE_VERSION("dd_store_options", o->version, DD_STORE_OPTIONS_VERSION);
    if (o->seal > DD_SEAL_REQUIRED)
        return error_set(DD_EINVAL, "unknown seal mode %u", o->seal);
    if (o->seal == DD_SEAL_REQUIRED && !o->keyring)
        return error_set(DD_EINVAL, "store options: seal is required but keyring is NULL");
    return DD_OK;
}

/* The sealer and journal options of `o` (NULL: defaults), shared by the
 * built-in engines and a user's own (abi/backend_custom.c). */
int abi_store_sealer(const dd_store_options *o, sealer **seal, journal_options *jo)
{
    *seal = NULL;
    dd_store_options defaults = DD_STORE_OPTIONS_INIT;
    if (!o)
        o = &defaults;
    int rc = check_common(o);
    if (rc != DD_OK)
        return rc;
    if ((rc = abi_impl_dd_init()) != DD_OK)
        return rc;
    if (jo) {
        *jo = journal_options_default();
        jo->snapshot_keep = o->snapshot_keep;
    }
    seal_options so = seal_options_default();
    so.compression_level = o->compression_level;
    so.compress_threshold = o->compression_threshold;
    if (o->keyring) {
        keyring *k = handle_acquire(o->keyring, HK_KEYRING, "keyring");
        if (!k)
            return DD_EMISUSE;
        rc = sealer_new(seal, k, &so);
        handle_release(o->keyring);
    } else {
        /* Unsealed: the plain envelope, checksummed and compressed as
         * asked (core/seal/plain.h). */
        rc = sealer_new(seal, NULL, &so);
    }
    return rc;
}

/* The built-in engine `o` names (also behind the public table:
 * abi/backend_builtin.c). */
int abi_store_engine(const dd_store_options *o, store_backend **be)
{
    *be = NULL;
    ABI_REQUIRE(o, "opts");
    int rc = check_common(o);
    if (rc != DD_OK)
        return rc;
    if (o->sync > DD_SYNC_FULL)
        return error_set(DD_EINVAL, "unknown sync mode %u", o->sync);
    if (o->busy_timeout_ms > INT32_MAX)
        return error_set(DD_EINVAL, "busy timeout %u ms is out of range", o->busy_timeout_ms);
    if (o->backend != DD_BACKEND_MEMORY && (!o->path || !o->path[0]))
        return error_set(DD_EINVAL, "this backend needs a path");
    if (o->must_exist > 1)
        return error_set(DD_EINVAL, "must_exist is %u, expected 0 or 1", o->must_exist);
    if (o->must_exist && o->backend == DD_BACKEND_MEMORY)
        return error_set(DD_EINVAL, "must_exist: a memory store never exists before it is opened");
    if (o->read_only > 1)
        return error_set(DD_EINVAL, "read_only must be 0 or 1, not %u", o->read_only);
    if (o->backend == DD_BACKEND_MEMORY && o->path)
        return error_set(DD_EINVAL,
                         "a memory store takes no path ('%s'); use DD_BACKEND_SQLITE or "
                         "DD_BACKEND_FS to keep data in a file",
                         o->path);
    if (o->read_only && o->backend == DD_BACKEND_MEMORY)
        return error_set(DD_EINVAL, "a memory store cannot be opened read-only (it starts empty)");
    if ((rc = abi_impl_dd_init()) != DD_OK)
        return rc;
    switch (o->backend) {
    case DD_BACKEND_MEMORY: rc = store_backend_open_memory(be); break;
    case DD_BACKEND_SQLITE: {
        sqlite_options so = sqlite_options_default();
        so.sync = (store_sync)o->sync;
        so.busy_timeout_ms = (int)o->busy_timeout_ms;
        so.snapshot_path = o->snapshot_path;
        so.must_exist = o->must_exist != 0;
        so.read_only = o->read_only != 0;
        if (!o->read_only && !o->must_exist) { /* one rule: missing parents are made, 0700 */
            rc = store_path_prepare(o->path, false);
            if (rc == ST_OK && o->snapshot_path && o->snapshot_path[0])
                rc = store_path_prepare(o->snapshot_path, false);
            if (rc != ST_OK)
                break;
        }
        rc = store_backend_open_sqlite(be, o->path, &so);
        break;
    }
    case DD_BACKEND_FS: {
        fs_options fo = {(store_sync)o->sync, o->must_exist != 0, o->read_only != 0};
        rc = o->read_only || o->must_exist ? ST_OK : store_path_prepare(o->path, true);
        if (rc == ST_OK)
            rc = store_backend_open_fs(be, o->path, &fo);
        break;
    }
    case DD_BACKEND_POSTGRES: {
        pg_options po = pg_options_default();
        po.statement_timeout_ms = (int)o->busy_timeout_ms;
        rc = store_backend_open_postgres(be, o->path, &po);
        break;
    }
    default: rc = error_set(DD_EINVAL, "unknown backend %u", o->backend); break;
    }
    return rc;
}

int abi_store_open_parts(const dd_store_options *o, store_backend **be, sealer **seal,
                         journal_options *jo)
{
    *be = NULL;
    *seal = NULL;
    ABI_REQUIRE(o, "opts");
    int rc = abi_store_engine(o, be);
    if (rc != ST_OK)
        return rc;
    if ((rc = abi_store_sealer(o, seal, jo)) != ST_OK) {
        (*be)->ops->close(*be);
        *be = NULL;
    }
    return rc;
}

uintptr_t abi_store_register(void *obj, handle_kind kind, handle_destroy_fn destroy)
{
    uintptr_t h = handle_register(obj, kind, destroy);
    if (!h)
        destroy(obj);
    return h;
}

static void state_destroy(void *obj)
{
    state_store_close(obj);
}

DD_API uint64_t dd_any_revision(void)
{
    return DD_ANY_REVISION;
}

int abi_impl_dd_state_store_open(dd_state_store **out, const dd_store_options *opts)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    store_backend *be;
    sealer *seal;
    int rc = abi_store_open_parts(opts, &be, &seal, NULL);
    if (rc != DD_OK)
        return rc;
    state_store *s;
    if ((rc = state_store_open_backend(&s, be, seal)) != ST_OK)
        return rc;
    uintptr_t h = abi_store_register(s, HK_STATE_STORE, state_destroy);
    *out = (dd_state_store *)h;
    return h ? DD_OK : DD_ENOMEM;
}

int abi_impl_dd_state_store_close(dd_state_store *store)
{
    return handle_close(store, HK_STATE_STORE, "state store");
}

int abi_impl_dd_state_store_upsert(uint64_t *out, dd_state_store *store, const uint8_t *key,
                                   size_t key_len, uint64_t expected_revision, const uint8_t *state,
                                   size_t len)
{
    STORE_ACQUIRE(state_store, s, store, HK_STATE_STORE, "state store");
    int rc = state_store_upsert(s, key, key_len, expected_revision, state, len, out);
    handle_release(store);
    return rc;
}

int abi_impl_dd_state_store_get(dd_buf *out, uint64_t *revision, dd_state_store *store,
                                const uint8_t *key, size_t key_len)
{
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    STORE_ACQUIRE(state_store, s, store, HK_STATE_STORE, "state store");
    bytes b = BYTES_INIT;
    int rc = state_store_get(s, key, key_len, revision, &b);
    handle_release(store);
    if (rc == ST_OK)
        return abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_state_store_delete(dd_state_store *store, const uint8_t *key, size_t key_len,
                                   uint64_t expected_revision)
{
    STORE_ACQUIRE(state_store, s, store, HK_STATE_STORE, "state store");
    int rc = state_store_delete(s, key, key_len, expected_revision);
    /* Missing items are one rule (ABI.md): deleting what is not there
     * succeeds, as for snapshots and replica keys; a delete that expected
     * revision N found none, which is a conflict as for upsert. */
    if (rc == DD_ENOTFOUND && expected_revision == DD_ANY_REVISION) {
        error_clear();
        rc = DD_OK;
    } else if (rc == DD_ENOTFOUND) {
        rc = error_set(DD_ECONFLICT, "state '%.*s': expected revision %llu, found none",
                       error_key_len(key_len), (const char *)key,
                       (unsigned long long)expected_revision);
    }
    handle_release(store);
    return rc;
}

int abi_state_store_call(dd_state_store *store, int (*op)(state_store *s))
{
    STORE_ACQUIRE(state_store, s, store, HK_STATE_STORE, "state store");
    int rc = op(s);
    handle_release(store);
    return rc;
}

int abi_impl_dd_state_store_purge(dd_state_store *store)
{
    return abi_state_store_call(store, state_store_purge);
}
