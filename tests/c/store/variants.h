/*
 * The store variants every contract test runs against: each engine,
 * unsealed and sealed. Shared by the store tests in this directory (a
 * header, not a test: only test_*.c become executables).
 */
#ifndef DD_TEST_STORE_VARIANTS_H
#define DD_TEST_STORE_VARIANTS_H

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "seal/seal.h"
#include "store/fs_backend.h"
#include "store/journal.h"
#include "store/sqlite_backend.h"
#include "store/state_store.h"
#include "store/store.h"
#include "test.h"
#include "util/status.h"

enum { V_MEMORY, V_SQLITE, V_FS, V_COUNT_ENGINES };
#define V_COUNT (V_COUNT_ENGINES * 2)

static inline const char *variant_name(int v)
{
    static const char *names[] = {"memory",        "sqlite",        "fs",
                                  "memory+sealed", "sqlite+sealed", "fs+sealed"};
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
    char path[1100]; /* room for dir (< 1024) and a file name */
    switch (v % V_COUNT_ENGINES) {
    case V_MEMORY: ASSERT_OK(store_backend_open_memory(&be)); break;
    case V_SQLITE:
        snprintf(path, sizeof(path), "%s/store.db", dir);
        ASSERT_OK(store_backend_open_sqlite(&be, path, NULL));
        break;
    case V_FS:
        snprintf(path, sizeof(path), "%s/fs", dir);
        ASSERT_OK(store_backend_open_fs(&be, path, NULL));
        break;
    }
    return be;
}

static inline int variant_sealed(int v)
{
    return v >= V_COUNT_ENGINES;
}

/* A fresh directory under the test's temporary one. */
static inline void fresh_dir(char *buf, size_t n, int v, const char *name)
{
    snprintf(buf, n, "%s/%s-%d", test_tmpdir(), name, v);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", buf);
    ASSERT(system(cmd) == 0);
}

/* The sealer of variant v (with its own test keyring), or NULL. */
static inline sealer *variant_sealer(int v)
{
    if (!variant_sealed(v))
        return NULL;
    keyring *k = test_keyring();
    sealer *seal = test_sealer(k);
    keyring_release(k);
    return seal;
}

/* Asserts that `key` reads back as `value`, at revision `rev` unless rev
 * is 0. */
static inline void expect_state(state_store *s, const char *key, uint64_t rev, const char *value)
{
    bytes out = BYTES_INIT;
    uint64_t got = 0;
    ASSERT_OK(state_store_get(s, (const uint8_t *)key, strlen(key), &got, &out));
    if (rev)
        ASSERT_EQ_U64(got, rev);
    ASSERT_MEM_EQ(out.data, out.len, value, strlen(value));
    bytes_free(&out);
}

static inline journal *open_journal_variant(int v, const char *dir, uint64_t snapshot_keep)
{
    store_backend *be = open_engine(v, dir);
    journal_options o = journal_options_default();
    o.snapshot_keep = snapshot_keep;
    journal *j;
    ASSERT_OK(journal_open_backend(&j, be, variant_sealer(v), &o));
    return j;
}

#endif
