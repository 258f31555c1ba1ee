/*
 * The allow-list file of `ddata node --peer-keys FILE`, read at start and
 * again on SIGHUP. One peer per line: its public key as 64 hex digits (what
 * `ddata keygen` prints), optionally followed by the node id it must claim;
 * blank lines and lines starting with '#' are skipped.
 */
#ifndef DDATA_TOOLS_PEER_KEYS_FILE_H
#define DDATA_TOOLS_PEER_KEYS_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct peer_keys_file {
    uint8_t *keys;   /* count * 32 bytes */
    char **node_ids; /* count entries; NULL = any id */
    size_t count;
} peer_keys_file;

/* 0 on success; on failure prints why to stderr and returns -1. */
int peer_keys_file_read(const char *path, peer_keys_file *out);
void peer_keys_file_free(peer_keys_file *f);

#endif
