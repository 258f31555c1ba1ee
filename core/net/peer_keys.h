/*
 * Who may join, by static key: the allow-list of X25519 public keys (each
 * optionally bound to one node id) and the rule that binds a node id to the
 * first key it proved when no list entry names it (first-seen pinning).
 *
 * The session asks through its admission hook once the peer proved the PSK
 * and its static key; the transport asks again for every open link when the
 * list is replaced, and closes the links it no longer admits. Everything
 * here runs under the net's lock; nothing here does I/O.
 */
#ifndef DD_NET_PEER_KEYS_H
#define DD_NET_PEER_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/session.h"

#define PEER_KEYS_MAX 4096
/* The first 8 bytes of a public key in hex: how logs and statistics name it. */
#define PEER_KEY_FINGERPRINT_CHARS 17

typedef struct peer_key {
    uint8_t public_key[SESSION_KEY_BYTES];
    char node_id[SESSION_ID_MAX + 1]; /* "" = any id (then pinning binds it) */
} peer_key;

typedef struct peer_keys {
    peer_key *keys;
    size_t count;                   /* 0 = no allow-list: any key with the PSK, ids pinned */
    char why[SESSION_ID_MAX + 128]; /* the last refusal; valid until the next check */
} peer_keys;

/* Replaces the list with a copy of `keys` (count 0 clears it). */
int peer_keys_set(peer_keys *pk, const peer_key *keys, size_t count);
void peer_keys_free(peer_keys *pk);

/* NULL when `node_id` proving `key` is admitted, else the reason. `pinned`
 * is the key this id proved before in this process (NULL if none); a list
 * entry naming the id overrides the pin, which is how a node's key is
 * rotated. */
const char *peer_keys_check(peer_keys *pk, const char *node_id,
                            const uint8_t key[SESSION_KEY_BYTES], const uint8_t *pinned);

void peer_key_fingerprint(const uint8_t key[SESSION_KEY_BYTES],
                          char out[PEER_KEY_FINGERPRINT_CHARS]);

#endif
