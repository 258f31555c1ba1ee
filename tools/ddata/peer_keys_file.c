/*
 * Reads the allow-list file; see peer_keys_file.h for the format.
 */
#include "peer_keys_file.h"

#include "hex_key.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PEER_KEYS 4096

void peer_keys_file_free(peer_keys_file *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->node_ids[i]);
    free(f->node_ids);
    free(f->keys);
    memset(f, 0, sizeof(*f));
}

int peer_keys_file_read(const char *path, peer_keys_file *out)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ddata: cannot open peer keys file '%s': %s\n", path, strerror(errno));
        return -1;
    }
    out->keys = malloc((size_t)MAX_PEER_KEYS * 32);
    out->node_ids = calloc(MAX_PEER_KEYS, sizeof(char *));
    int rc = out->keys && out->node_ids ? 0 : -1;
    char line[512];
    unsigned lineno = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        if (out->count == MAX_PEER_KEYS) {
            fprintf(stderr, "ddata: peer keys file '%s': more than %d keys\n", path, MAX_PEER_KEYS);
            rc = -1;
            break;
        }
        uint8_t *key = out->keys + out->count * 32;
        if (hex_key_decode(p, key) != 0) {
            fprintf(stderr,
                    "ddata: peer keys file '%s' line %u: expected a public key of 64 hex "
                    "digits\n",
                    path, lineno);
            rc = -1;
            break;
        }
        p += HEX_KEY_DIGITS;
        if (*p && !isspace((unsigned char)*p)) {
            fprintf(stderr, "ddata: peer keys file '%s' line %u: key longer than 64 hex digits\n",
                    path, lineno);
            rc = -1;
            break;
        }
        while (isspace((unsigned char)*p))
            p++;
        size_t idlen = strcspn(p, " \t\r\n");
        if (idlen && !(out->node_ids[out->count] = strndup(p, idlen)))
            rc = -1;
        out->count++;
    }
    fclose(f);
    if (rc != 0)
        peer_keys_file_free(out);
    return rc;
}
