/*
 * Stores the ABI tests open in the test's temporary directory: a fresh
 * state store of each backend, the options of a SQLite file, and the one
 * key ring the state store tests seal with. Shared by
 * the tests in this directory (a header, not a test: only test_*.c become
 * executables). Public header only.
 */
#ifndef DD_TEST_ABI_STORES_H
#define DD_TEST_ABI_STORES_H

#include <stdio.h>

#include "ddata.h"
#include "test.h"

/* A key ring of one key (id 1), made at the first call and kept for the
 * whole test run: the tests only need some sealing key, and sharing it
 * keeps each variant loop free of ring bookkeeping. Never freed. */
static inline dd_keyring *shared_test_keyring(void)
{
    static dd_keyring *k;
    if (!k) {
        uint8_t key[32] = {7};
        ASSERT_OK(dd_keyring_new(&k));
        ASSERT_OK(dd_keyring_add_key(k, 1, key, 32));
    }
    return k;
}

/* A fresh state store of backend variant % 3 + 1 (memory, SQLite, fs), its
 * files (if any) under a new name beginning with `prefix`, sealed with k
 * unless it is NULL. */
static inline dd_state_store *open_variant_store(const char *prefix, int variant, dd_keyring *k,
                                                 uint32_t sync)
{
    static int n;
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s-%d-%d", test_tmpdir(), prefix, variant, n++);
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.backend = (uint32_t)(variant % 3 + 1);
    o.path = o.backend == DD_BACKEND_MEMORY ? NULL : path;
    o.sync = sync;
    o.keyring = k;
    dd_state_store *s = NULL;
    ASSERT_OK(dd_state_store_open(&s, &o));
    return s;
}

/* Options for the SQLite file `name` in the test's temporary directory,
 * whose path goes to `path` (which must outlive the options). */
static inline dd_store_options sqlite_store_options(char path[1024], const char *name)
{
    snprintf(path, 1024, "%s/%s", test_tmpdir(), name);
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.backend = DD_BACKEND_SQLITE;
    o.path = path;
    return o;
}

#endif
