/*
 * The built-in TCP transport: one I/O thread per `net`, epoll, the
 * authenticated sessions of session.h, bounded per-peer queues, reconnects.
 *
 * Threading. The owner (the node shell) calls every net_* function from its
 * own thread(s); the I/O thread never calls back into owner code. What
 * arrives (messages, peers connecting and disconnecting) is queued and the
 * owner drains it with net_poll, waiting on net_event_fd (readable while the
 * queue is not empty) or with net_wait. One mutex guards the shared state;
 * it is held for queue operations and frame sealing/opening, never across a
 * wait.
 *
 * Addressing. Peers are dialled by address (net_connect keeps a dial alive:
 * reconnect with exponential backoff until net_close). Once the handshake
 * completes, each side knows the other by the node id and address it
 * announced inside the encrypted channel, and messages are sent by node id.
 * If two connections reach the same node (both sides dialled), both sides
 * keep the same one: a restarted peer (new incarnation) wins, otherwise the
 * connection initiated by the smaller node id (bytewise), otherwise the newer.
 * Node ids are opaque strings, the replicator engine's own ids, so the node
 * shell passes engine_next_outgoing's `to` and engine_deliver's `from`
 * straight through.
 *
 * Backpressure. Each peer has one outgoing byte queue. NET_DROPPABLE
 * (gossip) is refused with ST_EBUSY and counted when the queue would pass
 * queue_soft_bytes; the engine re-sends later. NET_RELIABLE (acks,
 * consistency replies) may fill the queue up to queue_hard_bytes; past that
 * the connection is closed, a DISCONNECTED event says why (ST_ELIMIT), and
 * the call returns ST_ELIMIT: never a silent loss. Inbound, when the owner
 * leaves more than inbound_cap_bytes undrained the I/O thread stops reading
 * authenticated sockets (TCP pushes back on the senders) until it drains.
 *
 * Hostile peers. Unauthenticated connections are capped (max_pending) and
 * must finish the handshake within handshake_timeout_ms. Any protocol
 * failure (wrong secret, oversized/zero/garbled frame, a frame that fails
 * the AEAD such as a replay) closes that connection and is counted; nothing
 * is delivered from a connection before it authenticated.
 */
#ifndef DD_NET_TRANSPORT_H
#define DD_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/peer_keys.h"
#include "net/session.h"

typedef struct net net;

typedef enum net_priority {
    NET_DROPPABLE = 0, /* gossip: dropped and counted when the queue is full */
    NET_RELIABLE = 1   /* acks/replies: queued to the hard cap, else the link closes */
} net_priority;

typedef struct net_config {
    const char *listen_addr;     /* "127.0.0.1:0" picks a port; NULL: do not listen */
    const char *advertised_addr; /* told to peers; NULL: the bound listen address */
    const char *node_id;         /* 1..SESSION_ID_MAX bytes (the engine's id), copied */
    uint64_t incarnation;        /* the engine's; 0 picks a random one */
    const uint8_t *secret;       /* SESSION_SECRET_BYTES, copied; required unless plaintext */
    bool plaintext;              /* explicit opt-out of authentication and encryption */
    uint32_t max_message_bytes;
    size_t queue_soft_bytes; /* per peer: DROPPABLE beyond this is dropped */
    size_t queue_hard_bytes; /* per peer: RELIABLE beyond this closes the link */
    size_t inbound_cap_bytes;
    uint32_t reconnect_min_ms, reconnect_max_ms;
    uint32_t handshake_timeout_ms;
    uint32_t max_pending;     /* unauthenticated inbound connections at once */
    uint32_t close_linger_ms; /* net_close: how long to try flushing queues */
    /* Identities (appended). */
    const uint8_t *static_sk;   /* SESSION_KEY_BYTES, copied; NULL = a fresh pair at open */
    const uint8_t *next_secret; /* a second PSK accepted during a rotation; NULL = none */
    bool pin_node_keys;         /* bind an id to the first key it proves (needs stable keys) */
    const peer_key *peer_keys; /* the allow-list in force from the start, copied; see peer_keys.h */
    size_t peer_key_count;     /* 0 = none */
} net_config;

/* Fills every field with its default (no listen address, no secret). */
void net_config_default(net_config *cfg);

typedef enum net_event_kind {
    NET_EV_CONNECTED,    /* node_id, addr */
    NET_EV_DISCONNECTED, /* node_id, addr, reason (ST_*) */
    NET_EV_MESSAGE       /* node_id, msg_class, data/len */
} net_event_kind;

typedef struct net_event {
    net_event_kind kind;
    const char *node_id; /* NUL-terminated; node_id_len bytes */
    size_t node_id_len;
    uint64_t incarnation; /* the peer's, as it announced it */
    const char *addr;     /* the peer's announced (or dialled) address */
    int reason;
    uint8_t msg_class;
    const uint8_t *data;
    size_t len;
    void *owner_; /* what net_event_clear frees; data and addr live in it */
} net_event;

/* Frees what a polled event holds; NULL-safe, idempotent. */
void net_event_clear(net_event *ev);

typedef struct net_peer_stats {
    char node_id[SESSION_ID_MAX + 1];
    bool connected;
    uint64_t bytes_in, bytes_out, frames_in, frames_out;
    /* By NET_CLASS_*: deltas vs full-state transfers vs the rest. */
    uint64_t class_frames_in[NET_CLASS_COUNT], class_frames_out[NET_CLASS_COUNT];
    uint64_t class_bytes_in[NET_CLASS_COUNT], class_bytes_out[NET_CLASS_COUNT];
    uint64_t queue_drops;                 /* DROPPABLE messages refused */
    uint64_t queued_bytes;                /* waiting in the outgoing queue now */
    uint64_t connects;                    /* times a connection to it authenticated */
    uint8_t static_pk[SESSION_KEY_BYTES]; /* the key it proved last; zero if none */
} net_peer_stats;

typedef struct net_stats {
    uint64_t accepted, dialled, handshakes;
    uint64_t rejected_connections; /* closed before authenticating, for any reason */
    uint64_t handshake_failures;   /* bad hello, mode mismatch, wrong secret */
    uint64_t handshake_timeouts;
    uint64_t pending_rejected; /* refused at accept: too many unauthenticated */
    uint64_t malformed_frames; /* length 0, oversized, bad type */
    uint64_t auth_failures;    /* a frame on an open link failed the AEAD (replay, forgery) */
    uint64_t refused_peers;    /* proved the secret, but key or id not admitted */
    uint64_t queue_drops, reliable_overflows;
    /* All peers, authenticated data frames on the wire (handshakes excluded). */
    uint64_t bytes_in, bytes_out, frames_in, frames_out;
    uint32_t peers_connected;
} net_stats;

/* This node's static public key (zero in plain-text mode). */
void net_public_key(const net *n, uint8_t out[SESSION_KEY_BYTES]);
/* Replaces the allow-list (count 0: none, any key with the PSK) and closes
 * every link whose peer it no longer admits (a DISCONNECTED event follows,
 * reason ST_ECRYPTO). Takes effect for every later handshake. */
int net_set_peer_keys(net *n, const peer_key *keys, size_t count);

/* Whether an address-book entry for `node_id`, heard from the authenticated
 * peer `announcer`, may be dialled: always without an allow-list; with
 * one, only for the announcer itself or an id the list binds to a key (so
 * whoever answers there must prove that key). */
bool net_book_entry_trusted(net *n, const char *announcer, const char *node_id);

/* Starts the I/O thread. The listening socket is bound before returning. */
int net_open(net **out, const net_config *cfg);
/* Flushes queues for at most close_linger_ms, stops the thread, frees
 * everything; events not polled are discarded. NULL-safe. */
void net_close(net *n);

/* The bound port (0 when not listening) and "ip:port" text. */
uint16_t net_port(const net *n);
const char *net_address(const net *n);
const char *net_node_id(const net *n);

/* Dials `address` now and after every disconnect, with backoff. Dialling an
 * address twice is a no-op. */
int net_connect(net *n, const char *address);
/* Stops dialling `address` and closes the link to the peer there (a
 * DISCONNECTED event follows). The peer may still dial us. ST_ENOTFOUND
 * when nothing was dialled or connected at that address. */
int net_disconnect(net *n, const char *address);

/* Queues `len` bytes for `node_id`. ST_ENOTFOUND when that node has no
 * authenticated connection, ST_EBUSY when a DROPPABLE message was dropped,
 * ST_ELIMIT when a RELIABLE one overflowed the hard cap (link closed). */
int net_send(net *n, const char *node_id, const void *data, size_t len, net_priority prio,
             uint8_t msg_class);
/* The same, addressed by the peer's announced or dialled address. */
int net_send_to(net *n, const char *address, const void *data, size_t len, net_priority prio,
                uint8_t msg_class);

/* Takes the next event: ST_OK, or ST_EDONE when there is none. The caller
 * owns *ev afterwards and frees it with net_event_clear. */
int net_poll(net *n, net_event *ev);
/* Readable while events are queued; owned by the net (do not close). */
int net_event_fd(const net *n);
/* Waits up to timeout_ms for an event: ST_OK or ST_ETIMEOUT. */
int net_wait(net *n, int timeout_ms);

int net_stats_get(net *n, net_stats *out);
/* ST_ENOTFOUND for a node never authenticated. */
int net_peer_stats_get(net *n, const char *node_id, net_peer_stats *out);
/* Every peer ever authenticated: writes up to `cap` entries and sets
 * *count to how many there are (call with cap 0 to size the array). */
int net_peer_stats_all(net *n, net_peer_stats *out, size_t cap, size_t *count);

#endif
