/*
 * `ddata version`: which library is loaded.
 */
#include <stdio.h>

#include "commands.h"
#include "ddata.h"

void cmd_version_help(void)
{
    printf("usage: ddata version\n\nPrints the version of the loaded library and its ABI.\n");
}

int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        fprintf(stderr, "ddata version: takes no arguments\n");
        return 2;
    }
    printf("ddata %s (version number %d, ABI %d)\n", dd_version(), dd_version_number(),
           dd_abi_version());
    return 0;
}
