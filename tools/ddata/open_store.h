/*
 * Opening a store the way the tools do: the backend from what the path is
 * (a directory: fs; else SQLite), an optional key file for a sealed store,
 * and the exit-code rule of every command (0 opened; 1 a missing path or
 * a store that cannot be read; 2 a path that holds no ddata store), with
 * the message printed.
 */
#ifndef DD_TOOLS_OPEN_STORE_H
#define DD_TOOLS_OPEN_STORE_H

#include <stdint.h>

#include "ddata.h"

/* Opens the journal and the state store at `path` (either out may be NULL
 * to skip it): read-only (dd_store_options.read_only) when read_only is
 * set, else writable but only if a store is already there (must_exist, so
 * a command never creates one). `cmd` names the command in messages. */
int tool_open_store(const char *cmd, const char *path, const char *key_file, uint32_t key_id,
                    int read_only, dd_journal **j, dd_state_store **st);

/* The backend a path names (a postgresql:// URI, a directory: fs; else
 * SQLite); 0, or 1 after printing that the path is missing. */
int tool_store_backend(const char *cmd, const char *path, uint32_t *backend);

/* A key ring holding the key in `key_file` under `key_id`; NULL after
 * printing what is wrong. */
dd_keyring *tool_keyring(const char *cmd, const char *key_file, uint32_t key_id);

#endif
