/*
 * Node key files. See key_file.h for the format and the permission rule.
 */
#include "net/key_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/status.h"

static void to_hex(const uint8_t key[SESSION_KEY_BYTES], char out[2 * SESSION_KEY_BYTES + 1])
{
    sodium_bin2hex(out, 2 * SESSION_KEY_BYTES + 1, key, SESSION_KEY_BYTES);
}

int key_file_generate(const char *path, uint8_t public_key[SESSION_KEY_BYTES])
{
    if (!path || !path[0])
        return error_set(ST_EINVAL, "node key file: a path is required");
    if (sodium_init() < 0)
        return error_set(ST_ECRYPTO, "node key file: libsodium failed to initialise");
    uint8_t sk[SESSION_KEY_BYTES];
    char sk_hex[2 * SESSION_KEY_BYTES + 1], pk_hex[2 * SESSION_KEY_BYTES + 1], text[256];
    randombytes_buf(sk, sizeof(sk));
    crypto_scalarmult_base(public_key, sk);
    to_hex(sk, sk_hex);
    to_hex(public_key, pk_hex);
    int len = snprintf(text, sizeof(text),
                       "# ddata node key (X25519); private: keep it mode 0600\n"
                       "private-key %s\npublic-key %s\n",
                       sk_hex, pk_hex);
    int rc = ST_OK;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = error_set(errno == EEXIST ? ST_ECONFLICT : ST_EIO,
                       "node key file '%s': cannot create it: %s", path, strerror(errno));
        goto done;
    }
    if (write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
        rc = error_set(ST_EIO, "node key file '%s': cannot write it: %s", path, strerror(errno));
        unlink(path);
    }
    close(fd);
done:
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(sk_hex, sizeof(sk_hex));
    sodium_memzero(text, sizeof(text));
    return rc;
}

/* The 32-byte value after `label ` on some line of `text`; false if absent
 * or not 64 hex digits. */
static bool find_key(const char *text, const char *label, uint8_t out[SESSION_KEY_BYTES])
{
    size_t label_len = strlen(label);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, label, label_len) != 0 || line[label_len] != ' ')
            continue;
        const char *hex = line + label_len + 1;
        size_t bin_len = 0;
        const char *end = NULL;
        if (sodium_hex2bin(out, SESSION_KEY_BYTES, hex, 2 * SESSION_KEY_BYTES, NULL, &bin_len,
                           &end) != 0 ||
            bin_len != SESSION_KEY_BYTES)
            return false;
        return true;
    }
    return false;
}

int key_file_read(const char *path, uint8_t private_key[SESSION_KEY_BYTES])
{
    if (!path || !path[0])
        return error_set(ST_EINVAL, "node key file: a path is required");
    char text[KEY_FILE_MAX_BYTES + 1];
    uint8_t pk_file[SESSION_KEY_BYTES], pk_derived[SESSION_KEY_BYTES];
    int rc = ST_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(errno == ENOENT ? ST_ENOTFOUND : ST_EIO,
                         "node key file '%s': cannot open it: %s", path, strerror(errno));
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) != 0) {
        rc = error_set(ST_EIO, "node key file '%s': cannot stat it: %s", path, strerror(errno));
        goto done;
    }
    if (st.st_mode & 077) {
        rc = error_set(ST_EINVAL,
                       "node key file '%s' is readable by group or others (mode %03o); "
                       "chmod 600 it",
                       path, (unsigned)(st.st_mode & 0777));
        goto done;
    }
    n = read(fd, text, KEY_FILE_MAX_BYTES + 1);
    if (n < 0 || n > KEY_FILE_MAX_BYTES) {
        rc = error_set(n < 0 ? ST_EIO : ST_ELIMIT, "node key file '%s': %s", path,
                       n < 0 ? strerror(errno) : "larger than a key file");
        goto done;
    }
    text[n] = '\0';
    if (!find_key(text, "private-key", private_key)) {
        rc = error_set(ST_ECORRUPT, "node key file '%s': no 'private-key <64 hex digits>' line",
                       path);
        goto done;
    }
    crypto_scalarmult_base(pk_derived, private_key);
    if (find_key(text, "public-key", pk_file) &&
        memcmp(pk_file, pk_derived, SESSION_KEY_BYTES) != 0)
        rc = error_set(ST_ECORRUPT,
                       "node key file '%s': the public key does not belong to the private key",
                       path);
done:
    close(fd);
    sodium_memzero(text, sizeof(text));
    if (rc != ST_OK)
        sodium_memzero(private_key, SESSION_KEY_BYTES);
    return rc;
}
