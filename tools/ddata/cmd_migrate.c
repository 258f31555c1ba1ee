/*
 * `ddata migrate PATH`: brings a store written by an older ddata up to
 * this library's format, in place, and changes nothing else.
 *
 * Opening a store writable migrates it (the SQLite schema's migrations,
 * the plain envelope for unsealed records); `inspect` and `export` open
 * read-only and so refuse an older SQLite schema with "open it writable
 * with a matching library to migrate". This command is that open: the
 * journal and the state store, must_exist (a missing path, an empty file
 * or a folder that is not a store is refused, never created), then close.
 * Sealed records need no key: migration leaves them as they are.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "ddata.h"

void cmd_migrate_help(void)
{
    printf("usage: ddata migrate PATH\n"
           "\n"
           "Upgrades a store (a SQLite file or an fs directory) written by an older ddata\n"
           "to this version's format, in place. A missing path, an empty file or a folder\n"
           "that is not a store is refused (exit 2). Take a backup first (ddata backup).\n");
}

int cmd_migrate(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        cmd_migrate_help();
        return argc == 1 && strcmp(argv[0], "--help") == 0 ? 0 : 1;
    }
    const char *path = argv[0];
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "ddata migrate: '%s': no such store\n", path);
        return 2;
    }
    dd_store_options so;
    dd_store_options_init(&so, DD_STORE_OPTIONS_VERSION);
    so.backend = S_ISDIR(sb.st_mode) ? DD_BACKEND_FS : DD_BACKEND_SQLITE;
    so.path = path;
    so.must_exist = 1;
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    int rc = dd_journal_open(&j, &so);
    if (rc == DD_OK)
        rc = dd_state_store_open(&st, &so);
    dd_state_store_close(st);
    dd_journal_close(j);
    if (rc != DD_OK) {
        fprintf(stderr, "ddata migrate: '%s': %s\n", path, dd_error_last()->message);
        return rc == DD_ENOTFOUND || rc == DD_ECORRUPT ? 2 : 1;
    }
    printf("ddata migrate: '%s' is at this version's format\n", path);
    return 0;
}
