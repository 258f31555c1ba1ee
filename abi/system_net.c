/*
 * The public calls of a dd_system's built-in TCP transport: addresses,
 * keys and counters. The transport itself, its driver thread and the
 * address book are the node's (core/node/).
 */
#include <stdlib.h>
#include <string.h>

#include "net/key_file.h"
#include "system.h"
#include "util/bytes.h"

DD_API uint32_t dd_secret_bytes(void)
{
    return DD_SECRET_BYTES;
}

static int no_transport(const node *s)
{
    return error_set(DD_EUNSUPPORTED, "system '%s' has no built-in transport (pump mode)",
                     s->node_id);
}

int abi_impl_dd_system_listen_address(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE_BUF(out, "out");
    SYSTEM_ENTER(s, sys);
    bytes b = BYTES_INIT;
    int rc = DD_OK;
    if (!s->net)
        rc = no_transport(s);
    else
        bytes_put_str(&b, net_address(node_transport(s)));
    SYSTEM_LEAVE(s, sys);
    if (rc == DD_OK)
        rc = b.failed ? error_oom() : abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_system_connect(dd_system *sys, const char *address)
{
    ABI_REQUIRE(address, "address");
    if (!address[0] || strlen(address) > NODE_ADDR_MAX)
        return error_set(DD_EINVAL, "address must be 1..%u bytes (\"ip:port\")", NODE_ADDR_MAX);
    SYSTEM_ENTER(s, sys);
    int rc;
    if (!s->net)
        rc = no_transport(s);
    else
        rc = net_connect(node_transport(s), address);
    SYSTEM_LEAVE(s, sys);
    return rc;
}

int abi_impl_dd_system_stats_json(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE_BUF(out, "out");
    SYSTEM_ENTER(s, sys);
    bytes b = BYTES_INIT;
    int rc = node_stats_json(s, &b);
    SYSTEM_LEAVE(s, sys);
    if (rc == DD_OK)
        rc = abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

DD_API uint32_t dd_key_bytes(void)
{
    return DD_KEY_BYTES;
}

int abi_impl_dd_node_key_generate(dd_buf *public_key, const char *path)
{
    ABI_REQUIRE_BUF(public_key, "public_key");
    ABI_REQUIRE(path, "path");
    uint8_t pk[DD_KEY_BYTES];
    int rc = key_file_generate(path, pk);
    if (rc != ST_OK)
        return rc;
    bytes b = BYTES_INIT;
    bytes_put(&b, pk, sizeof(pk));
    rc = b.failed ? error_oom() : abi_buf_from_bytes(public_key, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_system_public_key(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE_BUF(out, "out");
    SYSTEM_ENTER(s, sys);
    bytes b = BYTES_INIT;
    int rc = DD_OK;
    if (!s->net) {
        rc = no_transport(s);
    } else {
        uint8_t pk[DD_KEY_BYTES];
        net_public_key(node_transport(s), pk);
        bytes_put(&b, pk, sizeof(pk));
    }
    SYSTEM_LEAVE(s, sys);
    if (rc == DD_OK)
        rc = b.failed ? error_oom() : abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_system_set_peer_keys(dd_system *sys, const uint8_t *public_keys,
                                     const char *const *node_ids, size_t count)
{
    peer_key *keys = NULL;
    int rc = node_peer_keys_from(public_keys, node_ids, count, &keys);
    if (rc != DD_OK)
        return rc;
    node *s = handle_acquire(sys, HK_SYSTEM, "system");
    if (!s) {
        free(keys);
        return DD_EMISUSE;
    }
    node_lock(s);
    if (!s->net)
        rc = no_transport(s);
    else
        rc = net_set_peer_keys(node_transport(s), keys, keys ? count : 0);
    SYSTEM_LEAVE(s, sys);
    free(keys);
    return rc;
}
