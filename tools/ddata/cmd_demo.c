/*
 * `ddata demo`: the end-to-end example `make demo` runs.
 *
 * Until the node and the transport exist (issue 7) it shows what the
 * library has: versions, and the error contract at work.
 */
#include <stdio.h>

#include "commands.h"
#include "ddata.h"

void cmd_demo_help(void)
{
    printf("usage: ddata demo\n\nRuns the end-to-end demo and exits 0 when it succeeds.\n");
}

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("ddata %s, ABI %d\n", dd_version(), dd_abi_version());
    int rc = dd_limits_init(NULL, DD_LIMITS_VERSION);
    printf("a misused call returns %s: %s\n", dd_status_name(rc), dd_error_last()->message);
    return rc == DD_EINVAL ? 0 : 1;
}
