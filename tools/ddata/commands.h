/*
 * The `ddata` command's subcommands. Each lives in its own cmd_<name>.c and
 * takes argc/argv after the subcommand name; it returns the process exit
 * code (0 success, 1 failure, 2 usage error).
 */
#ifndef DD_TOOLS_COMMANDS_H
#define DD_TOOLS_COMMANDS_H

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(void);
} command;

int cmd_version(int argc, char **argv);
void cmd_version_help(void);
int cmd_demo(int argc, char **argv);
void cmd_demo_help(void);
int cmd_node(int argc, char **argv);
void cmd_node_help(void);
int cmd_keygen(int argc, char **argv);
void cmd_keygen_help(void);
int cmd_inspect(int argc, char **argv);
void cmd_inspect_help(void);
int cmd_top(int argc, char **argv);
void cmd_top_help(void);
int cmd_schema(int argc, char **argv);
void cmd_schema_help(void);

/* True when a --store / inspect path is a PostgreSQL URI
 * (postgresql://... or postgres://...). */
int store_path_is_postgres(const char *path);
/* `path` fit for a message: a PostgreSQL URI's password replaced by ***.
 * Returns buf (or path itself when there is nothing to hide). */
const char *store_path_for_display(const char *path, char *buf, size_t n);
int cmd_export(int argc, char **argv);
void cmd_export_help(void);
int cmd_migrate(int argc, char **argv);
void cmd_migrate_help(void);
int cmd_backup(int argc, char **argv);
void cmd_backup_help(void);
int cmd_seal(int argc, char **argv);
void cmd_seal_help(void);

/* Reads a 32-byte key (raw, or 64 hex digits) from `path`; 0 or -1 after
 * printing what is wrong. */
#include <stddef.h>
#include <stdint.h>
int read_key_file(const char *path, uint8_t key[32]);

/* True when argv holds -h or --help. */
int wants_help(int argc, char **argv);

#endif
