/*
 * The allow-list and id binding. See peer_keys.h for the rules; they are
 * short enough to check linearly (a cluster's worth of keys, at handshake
 * time and on reload only).
 */
#include "net/peer_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

int peer_keys_set(peer_keys *pk, const peer_key *keys, size_t count)
{
    if (count > PEER_KEYS_MAX)
        return error_set(ST_ELIMIT, "net: %zu peer keys exceed the limit of %d", count,
                         PEER_KEYS_MAX);
    peer_key *copy = NULL;
    if (count) {
        copy = alloc_array(count, sizeof(*copy));
        if (!copy)
            return error_oom();
        memcpy(copy, keys, count * sizeof(*copy));
    }
    free(pk->keys);
    pk->keys = copy;
    pk->count = count;
    return ST_OK;
}

void peer_keys_free(peer_keys *pk)
{
    free(pk->keys);
    pk->keys = NULL;
    pk->count = 0;
}

void peer_key_fingerprint(const uint8_t key[SESSION_KEY_BYTES],
                          char out[PEER_KEY_FINGERPRINT_CHARS])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", key[i]);
}

const char *peer_keys_check(peer_keys *pk, const char *node_id,
                            const uint8_t key[SESSION_KEY_BYTES], const uint8_t *pinned)
{
    char fp[PEER_KEY_FINGERPRINT_CHARS];
    peer_key_fingerprint(key, fp);
    bool listed = false, listed_for_id = false, id_named = false;
    const char *other_id = NULL;
    for (size_t i = 0; i < pk->count; i++) {
        const peer_key *e = &pk->keys[i];
        bool same_key = memcmp(e->public_key, key, SESSION_KEY_BYTES) == 0;
        bool same_id = strcmp(e->node_id, node_id) == 0;
        if (same_id)
            id_named = true;
        if (!same_key)
            continue;
        if (!e->node_id[0] || same_id) {
            listed = true;
            listed_for_id = listed_for_id || same_id;
        } else {
            other_id = e->node_id;
        }
    }
    if (pk->count && !listed) {
        if (other_id)
            snprintf(pk->why, sizeof(pk->why), "key %s is listed for node '%.64s', not '%.64s'", fp,
                     other_id, node_id);
        else
            snprintf(pk->why, sizeof(pk->why), "key %s of node '%.64s' is not in the allow-list",
                     fp, node_id);
        return pk->why;
    }
    if (id_named && !listed_for_id) {
        snprintf(pk->why, sizeof(pk->why),
                 "node '%.64s' is bound to another key in the allow-list, not %s", node_id, fp);
        return pk->why;
    }
    if (!listed_for_id && pinned && memcmp(pinned, key, SESSION_KEY_BYTES) != 0) {
        snprintf(pk->why, sizeof(pk->why), "node '%.64s' proved another key before; refused %s",
                 node_id, fp);
        return pk->why;
    }
    return NULL;
}
