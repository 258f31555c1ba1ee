/*
 * `ddata inspect`: placeholder until written.
 */
#include <stdio.h>

#include "commands.h"
#include "ddata.h"

void cmd_inspect_help(void)
{
    printf("usage: ddata inspect PATH\n");
}

int cmd_inspect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 1;
}
