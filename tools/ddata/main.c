/*
 * The `ddata` command: a dispatcher over the subcommands in cmd_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ddata.h"

static const command commands[] = {
    {"demo", "run a 3-process cluster: updates, kill -9, restart, convergence", cmd_demo,
     cmd_demo_help},
    {"inspect", "list and dump what a store holds", cmd_inspect, cmd_inspect_help},
    {"keygen", "write a node key pair for the transport's handshake", cmd_keygen, cmd_keygen_help},
    {"export", "write every record of a store (decrypted) as JSON lines", cmd_export,
     cmd_export_help},
    {"backup", "copy a live store consistently while a writer runs", cmd_backup, cmd_backup_help},
    {"seal", "rewrite a store under a new key (--rekey), keeping every number", cmd_seal,
     cmd_seal_help},
    {"migrate", "bring a store written by an older ddata to this format, in place", cmd_migrate,
     cmd_migrate_help},
    {"node", "run one cluster node", cmd_node, cmd_node_help},
    {"schema", "print the SQL that creates a PostgreSQL store's tables", cmd_schema,
     cmd_schema_help},
    {"top", "a live view of a node from its metrics endpoint", cmd_top, cmd_top_help},
    {"version", "print library and ABI versions", cmd_version, cmd_version_help},
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ddata <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`ddata <command> --help` tells more; `ddata --version` prints the version.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return cmd_version(argc - 2, argv + 2);
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (wants_help(argc - 2, argv + 2)) {
            commands[i].help();
            return 0;
        }
        if (dd_init() != DD_OK) {
            fprintf(stderr, "ddata: %s\n", dd_error_last()->message);
            return 1;
        }
        return commands[i].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "ddata: unknown command '%s'; `ddata --help` lists the commands\n", argv[1]);
    return 2;
}
