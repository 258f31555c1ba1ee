/*
 * What the node's files share: the driver's state (node_net) and the
 * calls between the driver (driver.c), the address book (address_book.c),
 * the owned-state link (owned_link.c) and the counters (stats_json.c).
 *
 * Every message on the wire starts with a channel byte, so other engines
 * share the links without a new handshake: 0 the replicator, 1 the address
 * book, 2 node-owned state.
 */
#ifndef DD_NODE_NODE_INTERNAL_H
#define DD_NODE_NODE_INTERNAL_H

#include <stdatomic.h>

#include "node/node.h"
#include "owned/owned.h"

enum { CH_REPLICATOR = 0, CH_BOOK = 1, CH_OWNED = 2 };

#define BOOK_MAX 4096u
#define BOOK_PER_ANNOUNCER 32u
#define BOOK_UNANSWERED_MS 20000u
#define BOOK_COOLDOWN_MS 60000u
#define ADDR_MAX NODE_ADDR_MAX

/* A member the attached owned engine was told is up. */
typedef struct owned_peer {
    uint64_t id; /* node_owned_id(name) */
    uint64_t incarnation;
    char *name;
    bool seen; /* still up this round */
} owned_peer;

typedef struct book_entry {
    char *id;
    char *addr;
    bool connected;
    bool dialled;        /* we keep a dial alive to addr */
    bool answered;       /* a link to this id was up once: never expires */
    uint64_t announcer;  /* hash of the announcing peer's id; 0: learned from a link */
    uint64_t dial_ms;    /* monotonic, when the dial started */
    uint64_t cooling_ms; /* monotonic, until when it stays refused; 0: not cooling */
    bool departed;       /* the member left the cluster: not dialled again (departure.c) */
} book_entry;

struct node_net {
    net *n;
    pthread_t thread;
    bool thread_started;
    int wake_fd;
    atomic_bool stop;
    atomic_bool wake_pending;
    uint32_t tick_ms;
    uint64_t next_tick_mono;
    book_entry *book;
    size_t book_n, book_cap;
    bool book_dirty;
    uint64_t unroutable; /* messages for a node with no link (dropped) */
    uint64_t book_errors;
    uint64_t book_refused; /* announcements beyond an announcer's quota */
    uint64_t book_expired; /* announced addresses that never answered */
    bytes scratch;
    /* the attached owned engine, if any */
    bool owned_attached;
    node_owned_host owned;
    owned_peer *opeers;
    size_t opeers_n, opeers_cap;
    uint64_t owned_unroutable;
    uint64_t handshake_logged[3]; /* failures, timeouts, refusals already logged */
};

/* address_book.c */
book_entry *address_book_find(node_net *nn, const char *id);
book_entry *address_book_put(node_net *nn, const char *id, const char *addr);
/* Sends the connected peers' (id, address) pairs to every connected peer. */
void address_book_send(node_net *nn);
/* A peer's book: dial every address of a node we have no link to, within
 * the announcer's quota. */
void address_book_receive(node_net *nn, const char *from, size_t from_len, const uint8_t *data,
                          size_t len);
/* Announced addresses that never answered stop being dialled and cool;
 * cooled ones leave the book. */
void address_book_expire(node *n, node_net *nn, uint64_t now_mono);
void address_book_free(node_net *nn);

/* departure.c: a link to a member that announced its departure went
 * down: stop dialling its address (unless it is a seed), and ignore
 * announcements of it until it connects again. */
void departure_link_down(node *n, node_net *nn, book_entry *b);
/* A link to `id` came up: a member that left may be back (engine_member_link_up). */
void departure_link_up(node *n, const char *id, size_t len);

/* owned_link.c (node lock held) */
void owned_link_deliver(node *n, node_net *nn, const net_event *ev);
/* Syncs membership, ticks when `ticked` and sends what the engine queued;
 * detaches an engine the host closed. */
void owned_link_round(node *n, node_net *nn, bool ticked);
/* Returns the engine to pump mode and drops the node's reference. */
void owned_link_detach(node_net *nn);

#endif
