/*
 * Address-book announcements under an allow-list: a node dials an address
 * it heard from a peer only for the announcer itself or for an id its
 * allow-list binds to a key (so whoever answers there must prove that
 * key). The announcer is a bare core/net endpoint that knows the secret and
 * is listed; the node is a public dd_system; the announced addresses are
 * plain listening sockets of this test, which see whether they are dialled.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core_peer.h"
#include "ddata.h"
#include "test.h"
#include "util/bytes.h"

static const uint8_t secret[32] = {4, 2};

/* A listening socket on a free loopback port; its "ip:port" in addr. */
static int listener(char *addr, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 4) == 0);
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    snprintf(addr, cap, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    return fd;
}

static bool dialled_within(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1;
}

TEST(test_book_entries_are_dialled_only_for_ids_the_allow_list_binds)
{
    uint8_t sk_m[32], pk_m[32], pk_bound[32];
    randombytes_buf(sk_m, sizeof(sk_m));
    crypto_scalarmult_base(pk_m, sk_m);
    randombytes_buf(pk_bound, sizeof(pk_bound));
    uint8_t keys[64];
    memcpy(keys, pk_m, 32);
    memcpy(keys + 32, pk_bound, 32);
    const char *ids[2] = {"announcer", "bound"};

    dd_system_options so;
    ASSERT_OK(dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION));
    so.node_id = "n";
    so.transport = DD_TRANSPORT_TCP;
    so.listen_address = "127.0.0.1:0";
    so.secret = secret;
    so.peer_keys = keys;
    so.peer_key_ids = ids;
    so.peer_key_count = 2;
    dd_system *sys;
    ASSERT_OK(dd_system_open(&sys, &so));
    dd_replica_options ro;
    ASSERT_OK(dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION));
    dd_replica *rep;
    ASSERT_OK(dd_replica_open(&rep, sys, &ro));
    dd_buf a = DD_BUF_INIT;
    ASSERT_OK(dd_system_listen_address(&a, sys));
    char node_addr[64];
    snprintf(node_addr, sizeof(node_addr), "%.*s", (int)a.len, (const char *)a.data);
    dd_buf_free(&a);

    net *m = core_peer_connect("announcer", secret, sk_m, node_addr);

    char unbound_addr[64], bound_addr[64];
    int unbound_fd = listener(unbound_addr, sizeof(unbound_addr));
    int bound_fd = listener(bound_addr, sizeof(bound_addr));
    bytes book = BYTES_INIT;
    bytes_put_u8(&book, 1); /* the address-book channel */
    bytes_put_varint(&book, 2);
    bytes_put_blob(&book, "unbound", 7);
    bytes_put_blob(&book, unbound_addr, strlen(unbound_addr));
    bytes_put_blob(&book, "bound", 5);
    bytes_put_blob(&book, bound_addr, strlen(bound_addr));
    ASSERT_OK(net_send(m, "n", book.data, book.len, NET_RELIABLE, 0));
    ASSERT(dialled_within(bound_fd, 5000));
    /* Both entries came in one message, so the first has been decided by now. */
    ASSERT(!dialled_within(unbound_fd, 200));
    bytes_free(&book);
    close(unbound_fd);
    close(bound_fd);
    net_close(m);
    ASSERT_OK(dd_replica_close(rep));
    ASSERT_OK(dd_system_close(sys));
}
