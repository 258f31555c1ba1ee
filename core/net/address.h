/*
 * "host:port" text <-> socket addresses, for the transport's configuration.
 *
 * Hosts are IPv4 or IPv6 literals ("[::1]:7000") or names; names are
 * resolved here, on the caller's thread, never on the I/O thread, so a slow
 * resolver cannot stall the sockets already open.
 */
#ifndef DD_NET_ADDRESS_H
#define DD_NET_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDR_TEXT_MAX 64

typedef struct net_address {
    struct sockaddr_storage sa;
    socklen_t len;
} net_sockaddr;

/* Parses and resolves `text`; `passive` asks for a listening address. */
int net_address_parse(const char *text, int passive, net_sockaddr *out);

/* Writes "ip:port" (IPv6 in brackets) into buf. */
void net_address_format(const struct sockaddr *sa, char *buf, size_t cap);

#endif
