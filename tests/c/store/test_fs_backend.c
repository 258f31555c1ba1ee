/*
 * What is particular to the file-system engine: several handles (nodes)
 * sharing one directory, leftovers of a crashed writer, damaged files.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "store/journal.h"
#include "variants.h"

#define K(str) (const uint8_t *)(str), strlen(str)

static state_store *open_fs_state(const char *root)
{
    store_backend *be;
    fs_options o = {STORE_SYNC_OFF};
    ASSERT_OK(store_backend_open_fs(&be, root, &o));
    state_store *s;
    ASSERT_OK(state_store_open_backend(&s, be, NULL));
    return s;
}

TEST(test_two_nodes_sharing_a_directory_see_each_others_cas)
{
    char root[1024];
    snprintf(root, sizeof(root), "%s/shared", test_tmpdir());
    state_store *a = open_fs_state(root), *b = open_fs_state(root);
    ASSERT_OK(state_store_upsert(a, K("k"), 0, K("from a"), NULL));
    ASSERT_STATUS(state_store_upsert(b, K("k"), 0, K("from b"), NULL), ST_ECONFLICT);
    ASSERT_OK(state_store_upsert(b, K("k"), 1, K("from b"), NULL));
    ASSERT_STATUS(state_store_upsert(a, K("k"), 1, K("stale a"), NULL), ST_ECONFLICT);
    expect_state(a, "k", 2, "from b");
    state_store_close(a);
    state_store_close(b);
}

typedef struct racer {
    const char *root;
    int wins;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    store_backend *be;
    fs_options o = {STORE_SYNC_OFF};
    if (store_backend_open_fs(&be, r->root, &o) != ST_OK)
        return NULL;
    state_store *s;
    if (state_store_open_backend(&s, be, NULL) != ST_OK)
        return NULL;
    for (int i = 0; i < 200; i++) {
        uint64_t rev = 0;
        if (state_store_get(s, K("counter"), &rev, NULL) != ST_OK)
            rev = 0;
        if (state_store_upsert(s, K("counter"), rev, K("x"), NULL) == ST_OK)
            r->wins++;
    }
    state_store_close(s);
    return NULL;
}

TEST(test_concurrent_writers_never_lose_a_cas_win)
{
    char root[1024];
    snprintf(root, sizeof(root), "%s/race", test_tmpdir());
    racer r[3] = {{root, 0}, {root, 0}, {root, 0}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        ASSERT(pthread_create(&t[i], NULL, race, &r[i]) == 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    state_store *s = open_fs_state(root);
    uint64_t rev;
    ASSERT_OK(state_store_get(s, K("counter"), &rev, NULL));
    /* Every successful compare-and-set moved the revision by exactly one. */
    ASSERT_EQ_U64(rev, (uint64_t)(r[0].wins + r[1].wins + r[2].wins));
    state_store_close(s);
}

static int count_records(void *ctx, const uint8_t *key, size_t key_len, uint64_t rev,
                         const uint8_t *state, size_t len)
{
    (void)key, (void)key_len, (void)rev, (void)state, (void)len;
    (*(int *)ctx)++;
    return 0;
}

TEST(test_leftover_temporary_files_are_ignored)
{
    char root[1024], tmp[1200];
    snprintf(root, sizeof(root), "%s/leftover", test_tmpdir());
    state_store *s = open_fs_state(root);
    ASSERT_OK(state_store_upsert(s, K("a"), 0, K("1"), NULL));
    snprintf(tmp, sizeof(tmp), "%s/state/.tmp.999.1", root);
    int fd = open(tmp, O_WRONLY | O_CREAT, 0666);
    ASSERT(fd >= 0);
    ASSERT(write(fd, "half", 4) == 4);
    close(fd);
    int n = 0;
    ASSERT_OK(state_store_scan(s, NULL, 0, count_records, &n));
    ASSERT_EQ_INT(n, 1);
    expect_state(s, "a", 0, "1");
    state_store_close(s);
}

TEST(test_damaged_record_file_is_ecorrupt_and_others_readable)
{
    char root[1024], path[1200];
    snprintf(root, sizeof(root), "%s/damaged", test_tmpdir());
    state_store *s = open_fs_state(root);
    ASSERT_OK(state_store_upsert(s, K("a"), 0, K("alpha"), NULL));
    ASSERT_OK(state_store_upsert(s, K("b"), 0, K("bravo"), NULL));
    snprintf(path, sizeof(path), "%s/state/x61", root); /* "a" */
    int fd = open(path, O_RDWR);
    ASSERT(fd >= 0);
    uint8_t byte;
    ASSERT(pread(fd, &byte, 1, 8) == 1);
    byte ^= 0x40;
    ASSERT(pwrite(fd, &byte, 1, 8) == 1);
    close(fd);
    bytes v = BYTES_INIT;
    ASSERT_STATUS(state_store_get(s, K("a"), NULL, &v), ST_ECORRUPT);
    ASSERT(strstr(test_last_error(), "checksum") != NULL);
    ASSERT_OK(state_store_get(s, K("b"), NULL, &v));
    ASSERT_MEM_EQ(v.data, v.len, "bravo", 5);
    bytes_free(&v);
    state_store_close(s);
}

TEST(test_long_keys_and_pids_use_hashed_names)
{
    char root[1024];
    snprintf(root, sizeof(root), "%s/long", test_tmpdir());
    uint8_t key[3000];
    memset(key, 'k', sizeof(key));
    state_store *s = open_fs_state(root);
    ASSERT_OK(state_store_upsert(s, key, sizeof(key), 0, K("v"), NULL));
    uint64_t rev;
    ASSERT_OK(state_store_get(s, key, sizeof(key), &rev, NULL));
    ASSERT_EQ_U64(rev, 1);
    state_store_close(s);
}
