/*
 * A 32-byte key written as 64 hex digits: how `ddata keygen` prints public
 * keys, how the --peer-keys file lists them and one of the two forms of a
 * --key-file. One decoder for all of them.
 */
#ifndef DDATA_TOOLS_HEX_KEY_H
#define DDATA_TOOLS_HEX_KEY_H

#include <stdint.h>

#define HEX_KEY_BYTES 32
#define HEX_KEY_DIGITS (2 * HEX_KEY_BYTES)

/* Decodes the 64 hex digits (either case) at `hex` into `key`: 0, or -1
 * at the first character that is not a hex digit (nothing past it is
 * read, so a shorter NUL-terminated string is safe; `key` is then partly
 * written). */
int hex_key_decode(const char *hex, uint8_t key[HEX_KEY_BYTES]);

#endif
