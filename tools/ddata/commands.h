/*
 * The `ddata` command's subcommands. Each lives in its own cmd_<name>.c and
 * takes argc/argv after the subcommand name; it returns the process exit
 * code (0 success, 1 failure, 2 usage error).
 */
#ifndef DD_TOOLS_COMMANDS_H
#define DD_TOOLS_COMMANDS_H

/* A subcommand's two entry points, declared below one line each. */
typedef int command_run_fn(int argc, char **argv);
typedef void command_help_fn(void);

typedef struct command {
    const char *name;
    const char *summary;
    command_run_fn *run;
    command_help_fn *help;
} command;

command_run_fn cmd_version;
command_help_fn cmd_version_help;
command_run_fn cmd_demo;
command_help_fn cmd_demo_help;
command_run_fn cmd_node;
command_help_fn cmd_node_help;
command_run_fn cmd_keygen;
command_help_fn cmd_keygen_help;
command_run_fn cmd_inspect;
command_help_fn cmd_inspect_help;
command_run_fn cmd_top;
command_help_fn cmd_top_help;
command_run_fn cmd_schema;
command_help_fn cmd_schema_help;

/* True when a --store / inspect path is a PostgreSQL URI
 * (postgresql://... or postgres://...). */
int store_path_is_postgres(const char *path);
/* `path` fit for a message: a PostgreSQL URI's password replaced by ***.
 * Returns buf (or path itself when there is nothing to hide). */
const char *store_path_for_display(const char *path, char *buf, size_t n);
command_run_fn cmd_export;
command_help_fn cmd_export_help;
command_run_fn cmd_migrate;
command_help_fn cmd_migrate_help;
command_run_fn cmd_backup;
command_help_fn cmd_backup_help;
command_run_fn cmd_seal;
command_help_fn cmd_seal_help;

/* Reads a 32-byte key (raw, or 64 hex digits) from `path`; 0 or -1 after
 * printing what is wrong. */
#include <stddef.h>
#include <stdint.h>
int read_key_file(const char *path, uint8_t key[32]);

/* True when argv holds -h or --help. */
int wants_help(int argc, char **argv);

#endif
