/*
 * The store variants every contract test runs against: each engine,
 * unsealed and sealed. Shared by the store tests in this directory (a
 * header, not a test: only test_*.c become executables).
 */
#ifndef DD_TEST_STORE_VARIANTS_H
#define DD_TEST_STORE_VARIANTS_H

#include <stdio.h>

#include "seal/seal.h"
#include "store/sqlite_backend.h"
#include "store/store.h"
#include "test.h"
#include "util/status.h"

enum { V_MEMORY, V_SQLITE, V_COUNT_ENGINES };
#define V_COUNT (V_COUNT_ENGINES * 2)

static inline const char *variant_name(int v)
{
    static const char *names[] = {"memory", "sqlite", "memory+sealed", "sqlite+sealed"};
    return names[v];
}

static inline keyring *test_keyring(void)
{
    keyring *k;
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    ASSERT_OK(keyring_new(&k));
    ASSERT_OK(keyring_add(k, 1, key, sizeof(key)));
    return k;
}

static inline sealer *test_sealer(keyring *k)
{
    sealer *s;
    seal_options o = seal_options_default();
    o.compress_threshold = 16;
    ASSERT_OK(sealer_new(&s, k, &o));
    return s;
}

/* Opens engine v % V_COUNT_ENGINES in `dir` (a fresh one per call site). */
static inline store_backend *open_engine(int v, const char *dir)
{
    store_backend *be = NULL;
    char path[1024];
    switch (v % V_COUNT_ENGINES) {
    case V_MEMORY: ASSERT_OK(store_backend_open_memory(&be)); break;
    case V_SQLITE:
        snprintf(path, sizeof(path), "%s/store.db", dir);
        ASSERT_OK(store_backend_open_sqlite(&be, path, NULL));
        break;
    }
    return be;
}

static inline int variant_sealed(int v)
{
    return v >= V_COUNT_ENGINES;
}

#endif
