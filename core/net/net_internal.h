/*
 * What transport.c (the owner's side) and io.c (the I/O thread) share: the
 * net object, connections, dials and peers. Not for use outside core/net.
 *
 * Every field below is guarded by net.mu except where noted; the I/O
 * thread alone touches a connection's fd, session input and epoll state.
 */
#ifndef DD_NET_INTERNAL_H
#define DD_NET_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/address.h"
#include "net/peer_keys.h"
#include "net/session.h"
#include "net/transport.h"
#include "util/bytes.h"

#define READ_CHUNK 65536
#define READS_PER_EVENT 8
#define MAX_EVENTS 64
#define OUT_KEEP_BYTES (1u << 20)

typedef struct dial dial;
typedef struct peer peer;

typedef struct conn {
    struct conn *next;
    int fd;
    bool initiator, connecting, want_out, reading, dead, accepted;
    bool opened; /* authenticated once (stays set if the session fails later) */
    session sess;
    bytes out;
    size_t out_off;
    uint64_t deadline_ms; /* handshake must finish by then */
    dial *dial;
    peer *peer; /* set once OPEN and kept (the current link or not) */
    char addr[NET_ADDR_TEXT_MAX];
} conn;

struct dial {
    struct dial *next;
    char addr[NET_ADDR_TEXT_MAX];
    net_sockaddr target;
    conn *conn;
    uint64_t next_ms;
    uint32_t backoff_ms;
    bool has_node, is_self;
    char node_id[SESSION_ID_MAX + 1];
};

struct peer {
    uint64_t incarnation;
    conn *conn; /* the current authenticated link, or NULL */
    char addr[SESSION_ADDR_MAX + 1];
    net_peer_stats st; /* st.static_pk: the key it proved last (pinned when pinning) */
    bool has_key;
};

/* One allocation per event: the payload, then the node id and the
 * address as NUL-terminated strings. */
typedef struct ev_node {
    struct ev_node *next;
    net_event ev;
    uint8_t data[];
} ev_node;

struct net {
    net_config cfg;
    uint8_t secret[SESSION_SECRET_BYTES];
    uint8_t next_secret[SESSION_SECRET_BYTES];
    bool has_next_secret;
    uint8_t static_sk[SESSION_KEY_BYTES], static_pk[SESSION_KEY_BYTES];
    peer_keys keys; /* the allow-list; see peer_keys.h */
    char node_id[SESSION_ID_MAX + 1];
    char advertised[SESSION_ADDR_MAX + 1];
    char bound[NET_ADDR_TEXT_MAX];
    uint16_t port;
    uint64_t incarnation;
    int listen_fd, epfd, wake_fd, event_fd;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    bool stop, wake_pending, paused;
    conn *conns, *graveyard;
    dial *dials;
    peer **peers;
    size_t npeers, peers_cap;
    ev_node *ev_head, *ev_tail;
    size_t inbound_bytes;
    uint32_t pending;
    uint64_t listen_resume_ms; /* nonzero: the listener is parked until then */
    net_stats stats;
};

/* Eventfd helpers: add one / reset to zero. */
void net_signal_fd(int fd);
void net_drain_fd(int fd);
/* Wakes the I/O thread once per batch of requests. */
void net_wake_io(net *n);
/* Queues an event for the owner (transport.c). */
void net_push_event(net *n, net_event_kind kind, const peer *p, int reason, uint8_t msg_class,
                    const uint8_t *data, size_t len);
/* io.c: */
void *net_io_main(void *arg);
peer *net_find_peer(net *n, const char *node_id);
/* Closes `c` (either thread); freed later by the I/O thread. `silent`
 * skips the DISCONNECTED event (a duplicate link being retired). */
void net_close_conn(net *n, conn *c, int reason, bool silent);
void net_free_graveyard(net *n);

#endif
