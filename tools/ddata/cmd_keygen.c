/*
 * `ddata keygen FILE`: a node's static key pair for the transport's Noise
 * handshake. The file is created mode 0600 and never overwritten; the
 * public key printed goes into the peers' allow-lists (--peer-keys).
 */
#include <stdio.h>

#include "cli_options.h"
#include "commands.h"
#include "ddata.h"

static const cli_spec keygen_spec = {
    "keygen",
    "usage: ddata keygen FILE\n"
    "\n"
    "Writes a new node key pair (X25519) to FILE, mode 0600, and prints its\n"
    "public key; give FILE to `ddata node --node-key`, and the public key\n"
    "line (with the node's id after it) to the peers' --peer-keys files.\n"
    "An existing FILE is never overwritten.\n",
    0,
    NULL,
    0,
    NULL,
};

void cmd_keygen_help(void)
{
    cli_help(&keygen_spec);
}

int cmd_keygen(int argc, char **argv)
{
    const char *file = NULL;
    size_t n = 0;
    int status = cli_operands(&keygen_spec, argc, argv, &file, 1, &n);
    if (status)
        return status;
    if (n != 1) {
        fprintf(stderr, "ddata keygen: give exactly one FILE; see `ddata keygen --help`\n");
        return 2;
    }
    dd_buf pk = DD_BUF_INIT;
    if (dd_node_key_generate(&pk, file) != DD_OK) {
        fprintf(stderr, "ddata keygen: %s\n", dd_error_last()->message);
        return 1;
    }
    printf("public-key ");
    for (size_t i = 0; i < pk.len; i++)
        printf("%02x", pk.data[i]);
    printf("\n");
    dd_buf_free(&pk);
    return 0;
}
