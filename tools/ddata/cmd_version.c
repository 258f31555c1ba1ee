/*
 * `ddata version`: which library is loaded.
 */
#include <stdio.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"

static const cli_spec version_spec = {
    "version", "usage: ddata version\n\nPrints the version of the loaded library and its ABI.\n",
    0,         NULL,
    0,         NULL,
};

void cmd_version_help(void)
{
    cli_help(&version_spec);
}

int cmd_version(int argc, char **argv)
{
    const char *extra = NULL;
    size_t n = 0;
    if (argc > 0) {
        if (cli_operands(&version_spec, argc, argv, &extra, 0, &n) == 0)
            fprintf(stderr, "ddata version: takes no arguments\n");
        return 2;
    }
    printf("ddata %s (version number %d, ABI %d)\n", dd_version(), dd_version_number(),
           dd_abi_version());
    return 0;
}
