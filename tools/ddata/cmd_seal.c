/*
 * `ddata seal --rekey PATH`: rewrites a store under a new key, the last
 * step of a key rotation (dd_store_rekey, docs/persistence.md "Rotating
 * the key of a store"). Every record is opened with the current key
 * (--key-file; none for an unsealed store, which becomes sealed) and
 * sealed under the new one (--new-key-file), keeping every sequence
 * number, revision, ordering, timestamp, tag and snapshot. All or nothing:
 * a wrong key or a crash leaves the store as it was, readable with the old
 * key; success leaves every record under the new key alone.
 *
 * Exit codes follow open_store.h: 0 rekeyed; 1 a missing path, a wrong key
 * or a failed write; 2 a usage error or a path that holds no store.
 */
#include <stdio.h>
#include <string.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"
#include "open_store.h"

enum { OPT_REKEY, OPT_KEY_FILE, OPT_KEY_ID, OPT_NEW_KEY_FILE, OPT_NEW_KEY_ID };

static const cli_option seal_options[] = {
    [OPT_REKEY] = {"rekey", NULL, "rewrite every record under the new key (required)"},
    [OPT_KEY_FILE] = {"key-file", "FILE",
                      "the key the store is sealed with now: 32 bytes, raw or 64\n"
                      "hex digits; omit it for an unsealed store, which becomes sealed"},
    [OPT_KEY_ID] = {"key-id", "N", "the id that key was added with (default 1)"},
    [OPT_NEW_KEY_FILE] = {"new-key-file", "FILE", "the new key (required)"},
    [OPT_NEW_KEY_ID] = {"new-key-id", "N",
                        "the id records are sealed under from now on (default: the old\n"
                        "id + 1, or 1 for an unsealed store); must differ from --key-id"},
};

static const cli_spec seal_spec = {
    "seal",
    "usage: ddata seal --rekey PATH --new-key-file FILE [options]\n"
    "\n"
    "Rewrites every record of a store (a SQLite file, an fs directory or a\n"
    "postgresql:// URI) under a new key, keeping every sequence number, revision,\n"
    "ordering, timestamp, tag and snapshot. All or nothing: SQLite and PostgreSQL\n"
    "in one transaction, fs by swapping in a rekeyed copy; a wrong key or a crash leaves the store "
    "as it was. Afterwards\n"
    "the old key opens nothing and can be dropped. Running nodes must already\n"
    "seal with the new key (give them both keys, the new one active) or be stopped.\n"
    "\n"
    "options:\n",
    20,
    seal_options,
    CLI_COUNT(seal_options),
    NULL,
};

void cmd_seal_help(void)
{
    cli_help(&seal_spec);
}

typedef struct seal_args {
    int rekey;
    const char *path, *key_file, *new_key_file;
    uint64_t key_id, new_key_id;
} seal_args;

static int on_option(void *ctx, int index, const char *value)
{
    seal_args *a = ctx;
    switch (index) {
    case -1: return cli_path_operand(&seal_spec, &a->path, value);
    case OPT_REKEY: a->rekey = 1; return 0;
    case OPT_KEY_FILE: a->key_file = value; return 0;
    case OPT_NEW_KEY_FILE: a->new_key_file = value; return 0;
    case OPT_KEY_ID: return cli_number(&seal_spec, "key-id", value, UINT32_MAX, &a->key_id);
    case OPT_NEW_KEY_ID:
        return cli_number(&seal_spec, "new-key-id", value, UINT32_MAX, &a->new_key_id);
    default: return 2;
    }
}

int cmd_seal(int argc, char **argv)
{
    seal_args a;
    memset(&a, 0, sizeof(a));
    a.key_id = 1;
    int status = cli_parse(&seal_spec, argc, argv, on_option, &a);
    if (status)
        return status;
    if (!a.rekey || !a.path || !a.new_key_file) {
        fprintf(stderr, "ddata seal: usage: ddata seal --rekey PATH --new-key-file FILE (see "
                        "--help)\n");
        return 2;
    }
    if (!a.new_key_id)
        a.new_key_id = a.key_file ? a.key_id + 1 : 1;
    if (a.key_file && a.new_key_id == a.key_id) {
        fprintf(stderr,
                "ddata seal: --new-key-id %llu is the old key's id; give the new key "
                "an id of its own\n",
                (unsigned long long)a.new_key_id);
        return 2;
    }
    if (!a.key_id || !a.new_key_id || a.new_key_id > UINT32_MAX) {
        fprintf(stderr, "ddata seal: key ids are 1..4294967295\n");
        return 2;
    }
    uint32_t backend;
    if ((status = tool_store_backend("seal", a.path, &backend)) != 0)
        return status;
    dd_keyring *old_ring = NULL, *new_ring = NULL;
    if (a.key_file && !(old_ring = tool_keyring("seal", a.key_file, (uint32_t)a.key_id)))
        return 1;
    if (!(new_ring = tool_keyring("seal", a.new_key_file, (uint32_t)a.new_key_id))) {
        dd_keyring_free(old_ring);
        return 1;
    }
    dd_store_options so;
    dd_store_options_init(&so, DD_STORE_OPTIONS_VERSION);
    so.backend = backend;
    so.path = a.path;
    so.keyring = old_ring;
    so.sync = DD_SYNC_FULL;
    uint64_t records = 0;
    int rc = dd_store_rekey(&so, new_ring, &records);
    dd_keyring_free(old_ring);
    dd_keyring_free(new_ring);
    if (rc == DD_OK) {
        printf("ddata seal: rekeyed '%s': %llu records now sealed under key id %llu\n", a.path,
               (unsigned long long)records, (unsigned long long)a.new_key_id);
        return 0;
    }
    const char *hint = "";
    if (rc == DD_ECRYPTO)
        hint = a.key_file ? " (wrong --key-file or --key-id? nothing was changed)"
                          : " (the store is sealed: give --key-file; nothing was changed)";
    fprintf(stderr, "ddata seal: %s%s\n", dd_error_last()->message, hint);
    return rc == DD_ENOTFOUND ? 2 : 1;
}
