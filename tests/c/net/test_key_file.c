/*
 * Node key files: created private and never overwritten, refused when
 * others can read them, and checked for a public line that does not match.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "net/key_file.h"
#include "test.h"
#include "util/status.h"

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", test_tmpdir(), name);
}

/* A new key file `name` in the test's directory (its path in `path`); its
 * public key in pk. */
static void generate_in_tmp(char path[512], const char *name, uint8_t pk[32])
{
    path_in_tmp(path, 512, name);
    ASSERT_OK(key_file_generate(path, pk));
}

/* The key file at `path` holds the secret key of public key pk. */
static void expect_key_pair(const char *path, const uint8_t pk[32])
{
    uint8_t sk[32], derived[32];
    ASSERT_OK(key_file_read(path, sk));
    crypto_scalarmult_base(derived, sk);
    ASSERT_MEM_EQ(derived, 32, pk, 32);
}

TEST(test_generated_key_file_is_private_and_reads_back_its_key)
{
    char path[512];
    uint8_t pk[32];
    generate_in_tmp(path, "node.key", pk);
    struct stat st;
    ASSERT(stat(path, &st) == 0);
    ASSERT_EQ_INT(st.st_mode & 0777, 0600);
    expect_key_pair(path, pk);
}

TEST(test_existing_key_file_is_never_overwritten)
{
    char path[512];
    uint8_t pk1[32], pk2[32];
    generate_in_tmp(path, "kept.key", pk1);
    ASSERT_STATUS(key_file_generate(path, pk2), ST_ECONFLICT);
    expect_key_pair(path, pk1);
}

TEST(test_key_file_readable_by_others_is_refused)
{
    char path[512];
    uint8_t pk[32], sk[32];
    generate_in_tmp(path, "loose.key", pk);
    ASSERT(chmod(path, 0644) == 0);
    ASSERT_STATUS(key_file_read(path, sk), ST_EINVAL);
    ASSERT(strstr(test_last_error(), "chmod 600") != NULL);
}

TEST(test_key_file_with_a_foreign_public_key_or_no_key_is_refused)
{
    char path[512];
    uint8_t sk[32];
    path_in_tmp(path, sizeof(path), "mixed.key");
    FILE *f = fopen(path, "w");
    fprintf(f, "private-key %064d\npublic-key %064d\n", 1, 2);
    fclose(f);
    ASSERT(chmod(path, 0600) == 0);
    ASSERT_STATUS(key_file_read(path, sk), ST_ECORRUPT);
    path_in_tmp(path, sizeof(path), "empty.key");
    f = fopen(path, "w");
    fprintf(f, "# nothing here\n");
    fclose(f);
    ASSERT(chmod(path, 0600) == 0);
    ASSERT_STATUS(key_file_read(path, sk), ST_ECORRUPT);
    path_in_tmp(path, sizeof(path), "missing.key");
    ASSERT_STATUS(key_file_read(path, sk), ST_ENOTFOUND);
}
