/*
 * Address parsing and formatting. See address.h.
 */
#include "net/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/status.h"

int net_address_parse(const char *text, int passive, net_sockaddr *out)
{
    char host[NET_ADDR_TEXT_MAX];
    if (!text || !out)
        return error_set(ST_EINVAL, "net: address is NULL");
    size_t len = strlen(text);
    const char *colon = strrchr(text, ':');
    if (!colon || len >= sizeof(host) || colon == text)
        return error_set(ST_EINVAL, "net: address '%.64s' is not host:port", text);
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (h[0] == '[') {
        if (hlen < 2 || h[hlen - 1] != ']')
            return error_set(ST_EINVAL, "net: address '%s' has an unclosed '['", text);
        h++;
        hlen -= 2;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    const char *port = colon + 1;
    char *end = NULL;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535)
        return error_set(ST_EINVAL, "net: address '%s' has a bad port", text);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res)
        return error_set(ST_EINVAL, "net: cannot resolve '%s': %s", text, gai_strerror(rc));
    memset(out, 0, sizeof(*out));
    memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return ST_OK;
}

void net_address_format(const struct sockaddr *sa, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, cap, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(buf, cap, "unknown");
    }
}
