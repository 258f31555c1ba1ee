/*
 * Durable state and key rings through the public header and libddata.so
 * only.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "abi_stores.h"

#define KEY(s) (const uint8_t *)(s), strlen(s)

static dd_state_store *open_store(int variant, dd_keyring *k)
{
    return open_variant_store("state", variant, k, DD_SYNC_FULL);
}

TEST(test_compare_and_set_through_the_abi)
{
    dd_keyring *k;
    uint8_t key[32] = {9};
    ASSERT_OK(dd_keyring_new(&k));
    ASSERT_OK(dd_keyring_add_key(k, 1, key, 32));
    for (int v = 0; v < 6; v++) {
        dd_state_store *s = open_store(v, v >= 3 ? k : NULL);
        uint64_t rev = 0;
        ASSERT_OK(dd_state_store_upsert(&rev, s, KEY("cart"), 0, KEY("[]")));
        ASSERT_EQ_U64(rev, 1);
        ASSERT_STATUS(dd_state_store_upsert(&rev, s, KEY("cart"), 0, KEY("[1]")), DD_ECONFLICT);
        ASSERT(strstr(dd_error_last()->message, "expected revision 0, found 1") != NULL);
        ASSERT_OK(dd_state_store_upsert(&rev, s, KEY("cart"), 1, KEY("[1]")));
        ASSERT_OK(dd_state_store_upsert(NULL, s, KEY("cart"), dd_any_revision(), KEY("[2]")));
        dd_buf b = DD_BUF_INIT;
        ASSERT_OK(dd_state_store_get(&b, &rev, s, KEY("cart")));
        ASSERT_EQ_U64(rev, 3);
        ASSERT_MEM_EQ(b.data, b.len, "[2]", 3);
        dd_buf_free(&b);
        dd_buf_free(&b);
        ASSERT_STATUS(dd_state_store_delete(s, KEY("cart"), 0), DD_EINVAL);
        ASSERT_STATUS(dd_state_store_delete(s, KEY("cart"), 2), DD_ECONFLICT);
        ASSERT_OK(dd_state_store_delete(s, KEY("cart"), 3));
        ASSERT_STATUS(dd_state_store_get(&b, &rev, s, KEY("cart")), DD_ENOTFOUND);
        ASSERT_OK(dd_state_store_close(s));
    }
    ASSERT_OK(dd_keyring_free(k));
}

TEST(test_state_store_misuse_is_reported)
{
    dd_state_store *s = open_store(0, NULL);
    ASSERT_OK(dd_state_store_close(s));
    ASSERT_STATUS(dd_state_store_upsert(NULL, s, KEY("k"), 0, KEY("v")), DD_EMISUSE);
    ASSERT_STATUS(dd_state_store_close(s), DD_EMISUSE);
    dd_buf b = DD_BUF_INIT;
    ASSERT_STATUS(dd_state_store_get(&b, NULL, NULL, KEY("k")), DD_EMISUSE);
    ASSERT_STATUS(dd_state_store_get(NULL, NULL, NULL, KEY("k")), DD_EINVAL);
    s = open_store(0, NULL);
    ASSERT_STATUS(dd_state_store_upsert(NULL, s, NULL, 0, 0, KEY("v")), DD_EINVAL);
    ASSERT_STATUS(dd_state_store_upsert(NULL, s, KEY("k"), 0, NULL, 4), DD_EINVAL);
    /* A journal handle is not a state store. */
    dd_journal *j;
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    ASSERT_OK(dd_journal_open(&j, &o));
    ASSERT_STATUS(dd_state_store_upsert(NULL, (dd_state_store *)j, KEY("k"), 0, KEY("v")),
                  DD_EMISUSE);
    ASSERT_OK(dd_journal_close(j));
    ASSERT_OK(dd_state_store_close(s));
    ASSERT_OK(dd_state_store_close(NULL));
}

TEST(test_keyring_rotation_through_the_abi)
{
    dd_keyring *k;
    uint8_t k1[32], k2[32];
    memset(k1, 1, 32);
    memset(k2, 2, 32);
    ASSERT_OK(dd_keyring_new(&k));
    ASSERT_OK(dd_keyring_add_key(k, 1, k1, 32));
    dd_state_store *s = open_store(1, k);
    ASSERT_OK(dd_state_store_upsert(NULL, s, KEY("old"), 0, KEY("sealed with 1")));
    ASSERT_OK(dd_keyring_add_key(k, 2, k2, 32));
    ASSERT_STATUS(dd_keyring_add_key(k, 2, k2, 32), DD_ECONFLICT);
    ASSERT_STATUS(dd_keyring_add_key(k, 3, k2, 31), DD_EINVAL);
    ASSERT_STATUS(dd_keyring_set_active(k, 9), DD_ENOTFOUND);
    ASSERT_OK(dd_keyring_set_active(k, 2));
    ASSERT_OK(dd_state_store_upsert(NULL, s, KEY("new"), 0, KEY("sealed with 2")));
    dd_buf b = DD_BUF_INIT;
    ASSERT_OK(dd_state_store_get(&b, NULL, s, KEY("old")));
    ASSERT_MEM_EQ(b.data, b.len, "sealed with 1", 13);
    dd_buf_free(&b);
    ASSERT_OK(dd_state_store_get(&b, NULL, s, KEY("new")));
    ASSERT_MEM_EQ(b.data, b.len, "sealed with 2", 13);
    dd_buf_free(&b);
    ASSERT_OK(dd_state_store_close(s));
    int aes = dd_seal_algorithm_available(DD_SEAL_AES256GCM);
    ASSERT_EQ_INT(dd_keyring_set_algorithm(k, DD_SEAL_AES256GCM), aes ? DD_OK : DD_EUNSUPPORTED);
    ASSERT_EQ_INT(dd_seal_algorithm_available(DD_SEAL_XCHACHA20POLY1305), 1);
    ASSERT_EQ_INT(dd_seal_algorithm_available(99), 0);
    ASSERT_STATUS(dd_keyring_set_algorithm(k, 99), DD_EINVAL);
    ASSERT_OK(dd_keyring_free(k));
    ASSERT_STATUS(dd_keyring_free(k), DD_EMISUSE);
    ASSERT_STATUS(dd_keyring_add_key(k, 4, k1, 32), DD_EMISUSE);
    ASSERT_OK(dd_keyring_free(NULL));
}

/* Issue 17.4: read_only opens an existing store and creates nothing; a path
 * that holds no store is DD_ENOTFOUND and stays as it was; writes fail. */
TEST(test_read_only_open_creates_nothing_and_refuses_writes)
{
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.read_only = 1;
    dd_state_store *s = NULL;
    ASSERT_STATUS(dd_state_store_open(&s, &o), DD_EINVAL); /* memory */
    for (uint32_t backend = DD_BACKEND_SQLITE; backend <= DD_BACKEND_FS; backend++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/ro-%u", test_tmpdir(), backend);
        o = (dd_store_options)DD_STORE_OPTIONS_INIT;
        o.backend = backend;
        o.path = path;
        o.read_only = 1;
        ASSERT_STATUS(dd_state_store_open(&s, &o), DD_ENOTFOUND);
        ASSERT(strstr(dd_error_last()->message, "not a ddata store") != NULL);
        FILE *probe = fopen(path, "r");
        ASSERT(probe == NULL); /* nothing was created */
        o.read_only = 0;
        ASSERT_OK(dd_state_store_open(&s, &o));
        uint64_t rev = 0;
        ASSERT_OK(dd_state_store_upsert(&rev, s, KEY("k"), DD_ANY_REVISION, KEY("v")));
        ASSERT_OK(dd_state_store_close(s));
        o.read_only = 1;
        ASSERT_OK(dd_state_store_open(&s, &o));
        dd_buf b = DD_BUF_INIT;
        ASSERT_OK(dd_state_store_get(&b, &rev, s, KEY("k")));
        ASSERT_MEM_EQ(b.data, b.len, "v", 1);
        dd_buf_free(&b);
        ASSERT(dd_state_store_upsert(&rev, s, KEY("k"), DD_ANY_REVISION, KEY("w")) != DD_OK);
        ASSERT_OK(dd_state_store_close(s));
    }
}

/* Issue 17.10: one rule for paths. The memory backend refuses one (it
 * ignored it); SQLite and fs create missing parents, mode 0700 (SQLite
 * needed them to exist, fs made only the last level). */
TEST(test_store_paths_follow_one_rule)
{
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.path = "ignored.db";
    dd_state_store *s = NULL;
    ASSERT_STATUS(dd_state_store_open(&s, &o), DD_EINVAL);
    ASSERT(strstr(dd_error_last()->message, "ignored.db") != NULL);
    for (uint32_t backend = DD_BACKEND_SQLITE; backend <= DD_BACKEND_FS; backend++) {
        char path[1100], parent[1024];
        snprintf(parent, sizeof(parent), "%s/paths-%u/a", test_tmpdir(), backend);
        snprintf(path, sizeof(path), "%s/b/store", parent);
        o = (dd_store_options)DD_STORE_OPTIONS_INIT;
        o.backend = backend;
        o.path = path;
        ASSERT_OK(dd_state_store_open(&s, &o));
        ASSERT_OK(dd_state_store_close(s));
        struct stat sb;
        ASSERT(stat(parent, &sb) == 0 && S_ISDIR(sb.st_mode));
        ASSERT_EQ_INT(sb.st_mode & 0777, 0700);
    }
    /* A parent that cannot be made is named. */
    char file[1024], below[1100];
    snprintf(file, sizeof(file), "%s/paths-file", test_tmpdir());
    FILE *f = fopen(file, "w");
    ASSERT(f != NULL);
    fclose(f);
    snprintf(below, sizeof(below), "%s/sub/store.db", file);
    o = (dd_store_options)DD_STORE_OPTIONS_INIT;
    o.backend = DD_BACKEND_SQLITE;
    o.path = below;
    ASSERT_STATUS(dd_state_store_open(&s, &o), DD_EIO);
    ASSERT(strstr(dd_error_last()->message, "paths-file") != NULL);
}
