/*
 * Opening a store for the tools (open_store.h).
 */
#include "open_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"

dd_keyring *tool_keyring(const char *cmd, const char *key_file, uint32_t key_id)
{
    uint8_t key[32];
    dd_keyring *ring = NULL;
    if (read_key_file(key_file, key) != 0)
        return NULL;
    if (dd_keyring_new(&ring) != DD_OK ||
        dd_keyring_add_key(ring, key_id, key, sizeof(key)) != DD_OK) {
        fprintf(stderr, "ddata %s: key file '%s': %s\n", cmd, key_file, dd_error_last()->message);
        dd_keyring_free(ring);
        ring = NULL;
    }
    memset(key, 0, sizeof(key));
    return ring;
}

int tool_store_backend(const char *cmd, const char *path, uint32_t *backend)
{
    struct stat sb;
    if (store_path_is_postgres(path)) {
        *backend = DD_BACKEND_POSTGRES;
        return 0;
    }
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "ddata %s: '%s': %s\n", cmd, path, strerror(errno));
        return 1;
    }
    *backend = S_ISDIR(sb.st_mode) ? DD_BACKEND_FS : DD_BACKEND_SQLITE;
    return 0;
}

int tool_open_store(const char *cmd, const char *path, const char *key_file, uint32_t key_id,
                    int read_only, dd_journal **j, dd_state_store **st)
{
    struct stat sb;
    int postgres = store_path_is_postgres(path);
    char shown[1024];
    const char *display = store_path_for_display(path, shown, sizeof(shown));
    if (!postgres && stat(path, &sb) != 0) {
        fprintf(stderr, "ddata %s: '%s': %s\n", cmd, path, strerror(errno));
        return 1;
    }
    dd_keyring *ring = NULL;
    if (key_file && !(ring = tool_keyring(cmd, key_file, key_id)))
        return 1;
    dd_store_options so;
    dd_store_options_init(&so, DD_STORE_OPTIONS_VERSION);
    so.backend = postgres              ? DD_BACKEND_POSTGRES
                 : S_ISDIR(sb.st_mode) ? DD_BACKEND_FS
                                       : DD_BACKEND_SQLITE;
    so.path = path;
    so.keyring = ring;
    so.read_only = read_only ? 1 : 0;
    so.must_exist = read_only ? 0 : 1;
    int rc = j ? dd_journal_open(j, &so) : DD_OK;
    if (rc == DD_OK && st)
        rc = dd_state_store_open(st, &so);
    dd_keyring_free(ring);
    if (rc == DD_ENOTFOUND) {
        fprintf(stderr, "ddata %s: '%s' is not a ddata store (%s)\n", cmd, display,
                dd_error_last()->message);
        return 2;
    }
    if (rc != DD_OK) {
        fprintf(stderr,
                "ddata %s: cannot open '%s' as a ddata store: %s (is it a store written "
                "by ddata? a damaged file must be restored from a backup)\n",
                cmd, display, dd_error_last()->message);
        return 1;
    }
    return 0;
}
