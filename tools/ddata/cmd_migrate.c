/*
 * `ddata migrate PATH`: brings a store written by an older ddata up to
 * this library's format, in place, and changes nothing else.
 *
 * Opening a store writable migrates it (the SQLite schema's migrations,
 * the plain envelope for unsealed records); `inspect` and `export` open
 * read-only and so refuse an older SQLite schema with "open it writable
 * with a matching library to migrate". This command is that open: the
 * journal and the state store through tool_open_store, writable and
 * must_exist (a missing path, an empty file or a folder that is not a
 * store is refused, never created), then close.
 * Sealed records need no key: migration leaves them as they are.
 */
#include <stdio.h>
#include <string.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"
#include "open_store.h"

static const cli_spec migrate_spec = {
    "migrate",
    "usage: ddata migrate PATH\n"
    "\n"
    "Upgrades a store (a SQLite file or an fs directory) written by an older ddata\n"
    "to this version's format, in place. A missing path, an empty file or a folder\n"
    "that is not a store is refused (exit 1), never created. Take a backup first\n"
    "(ddata backup).\n",
    0,
    NULL,
    0,
    NULL,
};

void cmd_migrate_help(void)
{
    cli_help(&migrate_spec);
}

int cmd_migrate(int argc, char **argv)
{
    const char *path = NULL;
    size_t n = 0;
    if (cli_operands(&migrate_spec, argc, argv, &path, 1, &n) != 0 || n != 1) {
        cmd_migrate_help();
        return 1;
    }
    dd_journal *j = NULL;
    dd_state_store *st = NULL;
    int status = tool_open_store("migrate", path, NULL, 0, 0, &j, &st);
    dd_state_store_close(st);
    dd_journal_close(j);
    if (status == 0)
        printf("ddata migrate: '%s' is at this version's format\n", path);
    return status;
}
