/*
 * A node's static X25519 key pair on disk: what `ddata keygen` writes and a
 * node reads at start. Text, so an operator can see which key a file holds
 * and copy its public half into peers' allow-lists:
 *
 *   # ddata node key (X25519); private: keep it mode 0600
 *   private-key <64 hex digits>
 *   public-key <64 hex digits>
 *
 * The file is created 0600 and never overwritten; a file readable by group
 * or others is refused at read, as ssh refuses a loose private key.
 */
#ifndef DD_NET_KEY_FILE_H
#define DD_NET_KEY_FILE_H

#include <stdint.h>

#include "net/session.h"

#define KEY_FILE_MAX_BYTES 4096

/* Creates `path` with a fresh key pair; `public_key` gets its public half. */
int key_file_generate(const char *path, uint8_t public_key[SESSION_KEY_BYTES]);
/* Reads the private key; checks the public line, if present, matches it. */
int key_file_read(const char *path, uint8_t private_key[SESSION_KEY_BYTES]);

#endif
