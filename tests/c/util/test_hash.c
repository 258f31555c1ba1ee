/*
 * The two hashes: the keyed index hash differs between processes (its key
 * comes from randombytes), the digest hash is the same everywhere.
 *
 * Children are forked before this process ever hashes with its own key,
 * so each draws a key of its own.
 */
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/hash.h"
#include "util/rng.h"

#define NKEYS 8

static const char *const keys[NKEYS] = {"",
                                        "a",
                                        "orders",
                                        "user:1",
                                        "user:2",
                                        "a key longer than sixteen bytes",
                                        "0123456789abcdef",
                                        "0123456789abcdef0"};

typedef struct hashes {
    uint64_t index[NKEYS];
    uint64_t digest[NKEYS];
} hashes;

/* Runs `fn` in a child and returns what it wrote (its exit status must be 0). */
static hashes in_child(void (*fn)(hashes *out))
{
    int fds[2];
    ASSERT(pipe(fds) == 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        hashes h;
        fn(&h);
        _exit(write(fds[1], &h, sizeof h) == (ssize_t)sizeof h ? 0 : 1);
    }
    close(fds[1]);
    hashes h;
    memset(&h, 0, sizeof h);
    ssize_t n = read(fds[0], &h, sizeof h);
    close(fds[0]);
    int status = 0;
    ASSERT(waitpid(pid, &status, 0) == pid);
    ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %d)", status);
    ASSERT_EQ_INT(n, (ssize_t)sizeof h);
    return h;
}

static void hash_all(hashes *out)
{
    for (int i = 0; i < NKEYS; i++) {
        out->index[i] = hash_keyed(keys[i], strlen(keys[i]));
        out->digest[i] = hash_digest(keys[i], strlen(keys[i]));
    }
}

TEST(test_index_hash_differs_between_processes_while_digests_agree)
{
    hashes a = in_child(hash_all), b = in_child(hash_all);
    for (int i = 0; i < NKEYS; i++) {
        ASSERT_MSG(a.index[i] != b.index[i], "key '%s': the same index hash in two processes",
                   keys[i]);
        ASSERT_EQ_U64(a.digest[i], b.digest[i]);
        ASSERT_EQ_U64(a.digest[i], hash_digest(keys[i], strlen(keys[i])));
    }
}

TEST(test_index_hash_differs_between_two_keys)
{
    rng g;
    rng_seed(&g, test_seed());
    uint8_t k1[HASH_KEY_BYTES], k2[HASH_KEY_BYTES];
    for (size_t i = 0; i < HASH_KEY_BYTES; i++) {
        k1[i] = (uint8_t)rng_next(&g);
        k2[i] = (uint8_t)rng_next(&g);
    }
    for (int i = 0; i < NKEYS; i++) {
        size_t len = strlen(keys[i]);
        ASSERT(hash_keyed_with(k1, keys[i], len) != hash_keyed_with(k2, keys[i], len));
        ASSERT_EQ_U64(hash_keyed_with(k1, keys[i], len), hash_keyed_with(k1, keys[i], len));
    }
}

/* A randombytes source whose output the test knows. */
static void known_bytes(void *const buf, const size_t size)
{
    for (size_t i = 0; i < size; i++)
        ((uint8_t *)buf)[i] = (uint8_t)(7 * i + 1);
}
static uint32_t known_random(void)
{
    uint32_t v;
    known_bytes(&v, sizeof v);
    return v;
}
static const char *known_name(void)
{
    return "known";
}
static randombytes_implementation known_source = {
    .implementation_name = known_name, .random = known_random, .buf = known_bytes};

static void hash_under_known_source(hashes *out)
{
    if (randombytes_set_implementation(&known_source) != 0)
        _exit(2);
    uint8_t key[HASH_KEY_BYTES];
    known_bytes(key, sizeof key);
    for (int i = 0; i < NKEYS; i++) {
        out->index[i] = hash_keyed(keys[i], strlen(keys[i]));
        out->digest[i] = hash_keyed_with(key, keys[i], strlen(keys[i]));
    }
}

TEST(test_index_key_comes_from_randombytes)
{
    hashes h = in_child(hash_under_known_source);
    for (int i = 0; i < NKEYS; i++)
        ASSERT_MSG(h.index[i] == h.digest[i],
                   "key '%s': the process's index key is not randombytes' output", keys[i]);
}

TEST(test_keyed_hash_sees_every_byte_and_the_length)
{
    rng g;
    rng_seed(&g, test_seed());
    uint8_t key[HASH_KEY_BYTES], buf[48];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)rng_next(&g);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rng_next(&g);
    for (size_t len = 0; len <= sizeof buf; len++) {
        uint64_t base = hash_keyed_with(key, buf, len);
        if (len < sizeof buf)
            ASSERT_MSG(base != hash_keyed_with(key, buf, len + 1), "lengths %zu and %zu collide",
                       len, len + 1);
        for (size_t at = 0; at < len; at++) {
            buf[at] ^= 0x01;
            ASSERT_MSG(hash_keyed_with(key, buf, len) != base, "length %zu: byte %zu ignored", len,
                       at);
            buf[at] ^= 0x01;
        }
    }
    /* Zero bytes of different lengths: the padding must not hide the length. */
    static const uint8_t zeros[17];
    for (size_t len = 0; len < sizeof zeros; len++)
        ASSERT(hash_keyed_with(key, zeros, len) != hash_keyed_with(key, zeros, len + 1));
}
