/*
 * dd_system with the built-in TCP transport (DD_TRANSPORT_TCP): the node
 * shell that joins the sans-I/O engine to core/net with one driver thread.
 *
 * The driver waits on two fds, the transport's event fd (messages and
 * peers arriving) and a wake eventfd (a public call left messages in the
 * engine's outgoing queue), with a timeout of one tick interval. Each round
 * it takes the system lock, delivers what arrived, ticks the engine when
 * the interval has passed, and moves every outgoing message to the
 * transport. Public calls take the same lock, so the engine stays
 * single-threaded; waking the driver from system_unlock is what sends an
 * immediate delta within a millisecond instead of at the next tick.
 *
 * Addressing. Seeds are addresses here, and they are handed to the engine
 * as its seed "node ids": the engine sends JOIN to them, and a message for
 * an id with no authenticated link is retried by address (net_send_to), so
 * the JOIN reaches whoever listens there. The engine then learns real node
 * ids from gossip. To reach members it never dialled, nodes swap an address
 * book: on every new link each node sends its connected peers' (id,
 * address) pairs to all its peers, and dials the addresses it did not know.
 * A member holding the secret can announce anything, so the book trusts an
 * announcement only so far: each peer may have at most BOOK_PER_ANNOUNCER
 * entries that never answered (further ones are refused, so no peer fills
 * the book); an announced address that has not answered within
 * BOOK_UNANSWERED_MS stops being dialled (the transport's own backoff,
 * doubling up to its cap, paces the dials until then) and stays in the
 * book, cooling and still counted against its announcer, for
 * BOOK_COOLDOWN_MS, so re-announcing it does not restart the dialling.
 * Thousands of throwaway ids then cost a few hundred dials, not a flood.
 *
 * Every message on the wire starts with a channel byte, so other engines
 * share the links without a new handshake: 0 the replicator, 1 the address
 * book, 2 node-owned state.
 *
 * Node-owned state. An attached dd_owned engine (one per system) is
 * pumped by the same driver: it is ticked with the engine, its messages
 * travel on channel 2, and its membership follows the replicator's: every
 * round the driver compares the members the replicator has up with the
 * ones it told the owned engine about, and reports the difference (up,
 * with the member's incarnation; down, removed or gone: left). Owned ids
 * are system_owned_id of the node ids; the driver keeps the names to send
 * to. Snapshots, deltas and feeds go droppable (the engine re-syncs);
 * pulls and their answers reliable, because a query waits on them.
 */
#include <poll.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "abi.h"
#include "net/key_file.h"
#include "net/transport.h"
#include "owned/owned.h"
#include "owned/wire.h"
#include "replicator/members_view.h"
#include "replicator/wire.h"
#include "system_internal.h"
#include "util/alloc.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/json.h"

enum { CH_REPLICATOR = 0, CH_BOOK = 1, CH_OWNED = 2 };

#define BOOK_MAX 4096u
#define BOOK_PER_ANNOUNCER 32u
#define BOOK_UNANSWERED_MS 20000u
#define BOOK_COOLDOWN_MS 60000u
#define ADDR_MAX 255u
#define ROUND_EVENTS 4096

/* A member the attached owned engine was told is up. */
typedef struct owned_peer {
    uint64_t id; /* system_owned_id(name) */
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
} book_entry;

struct sysnet {
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
    const void *owned_h; /* retained */
    abi_owned *owned;
    owned_peer *opeers;
    size_t opeers_n, opeers_cap;
    uint64_t owned_unroutable;
};

static book_entry *book_find(sysnet *sn, const char *id)
{
    for (size_t i = 0; i < sn->book_n; i++)
        if (strcmp(sn->book[i].id, id) == 0)
            return &sn->book[i];
    return NULL;
}

static book_entry *book_put(sysnet *sn, const char *id, const char *addr)
{
    book_entry *b = book_find(sn, id);
    if (!b) {
        if (sn->book_n >= BOOK_MAX)
            return NULL;
        if (sn->book_n == sn->book_cap) {
            size_t cap = sn->book_cap ? sn->book_cap * 2 : 8;
            book_entry *nb = realloc(sn->book, cap * sizeof(*nb));
            if (!nb)
                return NULL;
            sn->book = nb;
            sn->book_cap = cap;
        }
        b = &sn->book[sn->book_n];
        memset(b, 0, sizeof(*b));
        b->id = strdup(id);
        b->addr = strdup(addr ? addr : "");
        if (!b->id || !b->addr) {
            free(b->id);
            free(b->addr);
            return NULL;
        }
        sn->book_n++;
        return b;
    }
    if (addr && addr[0] && strcmp(b->addr, addr) != 0) {
        char *a = strdup(addr);
        if (a) {
            free(b->addr);
            b->addr = a;
            b->dialled = false;
        }
    }
    return b;
}

static void book_send(sysnet *sn)
{
    bytes *b = &sn->scratch;
    bytes_reset(b);
    bytes_put_u8(b, CH_BOOK);
    size_t n = 0;
    for (size_t i = 0; i < sn->book_n; i++)
        n += sn->book[i].connected && sn->book[i].addr[0];
    bytes_put_varint(b, n);
    for (size_t i = 0; i < sn->book_n; i++) {
        if (!sn->book[i].connected || !sn->book[i].addr[0])
            continue;
        bytes_put_blob(b, sn->book[i].id, strlen(sn->book[i].id));
        bytes_put_blob(b, sn->book[i].addr, strlen(sn->book[i].addr));
    }
    if (b->failed)
        return;
    for (size_t i = 0; i < sn->book_n; i++)
        if (sn->book[i].connected)
            (void)net_send(sn->n, sn->book[i].id, b->data, b->len, NET_DROPPABLE, NET_CLASS_OTHER);
}

/* Entries announced by `announcer` that never answered (dialling or
 * cooling): what its quota counts. */
static size_t book_unanswered_by(const sysnet *sn, uint64_t announcer)
{
    size_t n = 0;
    for (size_t i = 0; i < sn->book_n; i++)
        n += sn->book[i].announcer == announcer && !sn->book[i].answered;
    return n;
}

/* A peer's book: dial every address of a node we have no link to, within
 * the announcer's quota. Bounded like every decoder; a bad book is counted
 * and ignored. */
static void book_receive(sysnet *sn, const char *from, size_t from_len, const uint8_t *data,
                         size_t len)
{
    uint64_t announcer = hash_bytes(from, from_len, 0) | 1; /* never 0: that means "a link" */
    uint64_t now = clock_monotonic_ms();
    reader r = reader_make(data, len);
    uint64_t n = reader_varint(&r);
    if (!reader_ok(&r) || n > BOOK_MAX) {
        sn->book_errors++;
        return;
    }
    const char *self = net_node_id(sn->n);
    for (uint64_t i = 0; i < n; i++) {
        size_t id_len, addr_len;
        const uint8_t *id = reader_blob(&r, SESSION_ID_MAX, &id_len);
        const uint8_t *addr = reader_blob(&r, ADDR_MAX, &addr_len);
        if (!reader_ok(&r) || !id_len || !addr_len || memchr(id, 0, id_len) ||
            memchr(addr, 0, addr_len)) {
            sn->book_errors++;
            return;
        }
        char ids[SESSION_ID_MAX + 1], addrs[ADDR_MAX + 1];
        memcpy(ids, id, id_len);
        ids[id_len] = 0;
        memcpy(addrs, addr, addr_len);
        addrs[addr_len] = 0;
        if (strcmp(ids, self) == 0 || !net_book_entry_trusted(sn->n, from, ids))
            continue;
        book_entry *b = book_find(sn, ids);
        if (b && (b->connected || b->dialled || b->cooling_ms))
            continue;
        if (!b) {
            if (book_unanswered_by(sn, announcer) >= BOOK_PER_ANNOUNCER) {
                sn->book_refused++;
                continue;
            }
            if (!(b = book_put(sn, ids, addrs)))
                continue;
            b->announcer = announcer;
        }
        if (net_connect(sn->n, b->addr) == ST_OK) {
            b->dialled = true;
            b->dial_ms = now;
        } else if (!b->answered) {
            b->cooling_ms = now + BOOK_COOLDOWN_MS; /* unusable: cool, do not hold a quota slot */
        }
    }
}

/* Whether stopping the dial to `addr` would cut something we want: a seed,
 * or a node that answered there (a ghost may be announced at a real
 * member's address). */
static bool book_addr_in_use(const sysobj *s, const sysnet *sn, const book_entry *ghost)
{
    for (size_t i = 0; i < s->seed_count; i++)
        if (strcmp(s->seeds[i], ghost->addr) == 0)
            return true;
    for (size_t i = 0; i < sn->book_n; i++) {
        const book_entry *b = &sn->book[i];
        if (b != ghost && (b->connected || b->answered) && strcmp(b->addr, ghost->addr) == 0)
            return true;
    }
    return false;
}

/* Announced addresses that never answered stop being dialled and cool;
 * cooled ones leave the book. Runs every tick; linear in the book, which
 * the quotas keep small. */
static void book_expire(sysobj *s, sysnet *sn, uint64_t now)
{
    for (size_t i = 0; i < sn->book_n;) {
        book_entry *b = &sn->book[i];
        if (b->cooling_ms && now >= b->cooling_ms) {
            free(b->id);
            free(b->addr);
            sn->book[i] = sn->book[--sn->book_n];
            continue;
        }
        if (b->dialled && !b->connected && !b->answered && b->announcer &&
            now - b->dial_ms >= BOOK_UNANSWERED_MS) {
            if (!book_addr_in_use(s, sn, b))
                (void)net_disconnect(sn->n, b->addr);
            b->dialled = false;
            b->cooling_ms = now + BOOK_COOLDOWN_MS;
            sn->book_expired++;
        }
        i++;
    }
}

/* Which link class and priority a replicator message travels with: deltas
 * and full states are counted apart (the statistics the issue asks for);
 * replies that a waiting request needs are never silently dropped. */
static void classify(const uint8_t *msg, size_t len, uint8_t *cls, net_priority *prio)
{
    uint8_t type = len > 2 ? msg[2] : 0;
    *cls = type == WIRE_DELTA ? NET_CLASS_DELTA
                              : (type == WIRE_STATE ? NET_CLASS_FULL : NET_CLASS_OTHER);
    *prio = (type == WIRE_WRITE_ACK || type == WIRE_READ || type == WIRE_READ_REPLY ||
             type == WIRE_NACK)
                ? NET_RELIABLE
                : NET_DROPPABLE;
}

/* ---- node-owned state (channel 2) ---- */

static owned_peer *opeer_find(sysnet *sn, uint64_t id)
{
    for (size_t i = 0; i < sn->opeers_n; i++)
        if (sn->opeers[i].id == id)
            return &sn->opeers[i];
    return NULL;
}

static owned_peer *opeer_add(sysnet *sn, uint64_t id, const char *name, size_t len)
{
    if (sn->opeers_n == sn->opeers_cap) {
        size_t cap = grow_capacity(sn->opeers_cap, sn->opeers_n + 1);
        owned_peer *np = realloc_array(sn->opeers, cap, sizeof(*np));
        if (!np)
            return NULL;
        sn->opeers = np;
        sn->opeers_cap = cap;
    }
    owned_peer *p = &sn->opeers[sn->opeers_n];
    memset(p, 0, sizeof(*p));
    if (!(p->name = strndup(name, len)))
        return NULL;
    p->id = id;
    sn->opeers_n++;
    return p;
}

/* Reports to the owned engine how the replicator's membership moved since
 * the last call: members now up (or up with a new incarnation) and members
 * no longer up. Linear in members times peers told: clusters of the size a
 * full-mesh transport serves. Both locks held. */
static void owned_sync_members(sysobj *s, sysnet *sn, owned *oe)
{
    if (!s->e)
        return; /* no membership until a replica opens the engine */
    for (size_t i = 0; i < sn->opeers_n; i++)
        sn->opeers[i].seen = false;
    uint64_t self = owned_node_id(oe);
    size_t count = engine_member_count(s->e);
    for (size_t i = 0; i < count; i++) {
        engine_member_info mi;
        if (engine_member_at(s->e, i, &mi) != ST_OK || mi.is_self || mi.state != MEMBER_UP ||
            !mi.id_len || mi.id_len > SESSION_ID_MAX)
            continue;
        uint64_t id = system_owned_id(mi.id, mi.id_len);
        if (id == self)
            continue;
        owned_peer *p = opeer_find(sn, id);
        bool fresh = !p;
        if (!p && !(p = opeer_add(sn, id, mi.id, mi.id_len)))
            continue;
        p->seen = true;
        if ((fresh || p->incarnation != mi.incarnation) &&
            owned_member_up(oe, id, mi.incarnation) == ST_OK)
            p->incarnation = mi.incarnation;
    }
    for (size_t i = 0; i < sn->opeers_n;) {
        if (sn->opeers[i].seen) {
            i++;
            continue;
        }
        (void)owned_member_left(oe, sn->opeers[i].id);
        free(sn->opeers[i].name);
        sn->opeers[i] = sn->opeers[--sn->opeers_n];
    }
}

/* Pulls and pull answers are what a waiting query needs: reliable. The
 * rest is repeated by the engine's feeds and syncs: droppable. Reads the
 * message header only (owned/wire.h); anything unreadable goes droppable. */
static net_priority owned_priority(const uint8_t *msg, size_t len)
{
    reader r = reader_make(msg, len);
    (void)reader_u8(&r);
    uint8_t kind = reader_u8(&r);
    if (!reader_ok(&r))
        return NET_DROPPABLE;
    if (kind == OWNED_MSG_PULL)
        return NET_RELIABLE;
    if (kind != OWNED_MSG_SNAPSHOT)
        return NET_DROPPABLE;
    size_t type_len;
    (void)reader_blob(&r, OWNED_TYPE_NAME_MAX, &type_len);
    (void)reader_varint(&r); /* type version */
    (void)reader_varint(&r); /* incarnation */
    (void)reader_varint(&r); /* base age */
    uint8_t flags = reader_u8(&r);
    return reader_ok(&r) && (flags & OWNED_SNAP_REPLY) ? NET_RELIABLE : NET_DROPPABLE;
}

static void owned_flush(sysnet *sn, owned *oe)
{
    uint64_t to;
    bytes msg = BYTES_INIT;
    while (owned_next_outgoing(oe, &to, &msg) == ST_OK) {
        owned_peer *p = opeer_find(sn, to);
        bytes *b = &sn->scratch;
        bytes_reset(b);
        bytes_put_u8(b, CH_OWNED);
        bytes_put(b, msg.data, msg.len);
        if (!p || b->failed ||
            net_send(sn->n, p->name, b->data, b->len, owned_priority(msg.data, msg.len),
                     NET_CLASS_OTHER) == ST_ENOTFOUND)
            sn->owned_unroutable++;
    }
    bytes_free(&msg);
}

/* Detaches the owned engine: it returns to pump mode, its views of other
 * nodes are removed (this node no longer hears from them), and the
 * system's reference goes. System lock held. */
static void owned_detach(sysnet *sn)
{
    if (!sn->owned)
        return;
    abi_owned_lock(sn->owned);
    owned *oe = abi_owned_engine(sn->owned);
    owned_flush(sn, oe);
    for (size_t i = 0; i < sn->opeers_n; i++) {
        (void)owned_member_left(oe, sn->opeers[i].id);
        free(sn->opeers[i].name);
    }
    sn->opeers_n = 0;
    /* What the departures queued has no one left to go to. */
    uint64_t to;
    bytes msg = BYTES_INIT;
    while (owned_next_outgoing(oe, &to, &msg) == ST_OK)
        ;
    bytes_free(&msg);
    abi_owned_set_attached(sn->owned, -1);
    abi_owned_unlock(sn->owned);
    const void *h = sn->owned_h;
    sn->owned = NULL;
    sn->owned_h = NULL;
    handle_release(h); /* may free the engine: its handle was closed */
}

/* A closed owned handle is the host's detach: its last reference is ours. */
static void owned_check_closed(sysnet *sn)
{
    if (!sn->owned)
        return;
    if (handle_acquire(sn->owned_h, HK_OWNED, "owned")) {
        handle_release(sn->owned_h);
        return;
    }
    error_clear();
    owned_detach(sn);
}

static void owned_deliver_from(sysobj *s, sysnet *sn, const net_event *ev)
{
    uint64_t from = system_owned_id(ev->node_id, ev->node_id_len);
    abi_owned_lock(sn->owned);
    owned *oe = abi_owned_engine(sn->owned);
    /* A member the replicator saw come up since the last round is told
     * first, so its greeting is not dropped as a ghost's. */
    if (!opeer_find(sn, from))
        owned_sync_members(s, sn, oe);
    (void)owned_deliver(oe, from, ev->data + 1, ev->len - 1);
    abi_owned_unlock(sn->owned);
}

static void owned_round(sysobj *s, sysnet *sn, bool ticked)
{
    if (ticked)
        owned_check_closed(sn);
    if (!sn->owned)
        return;
    abi_owned_lock(sn->owned);
    owned *oe = abi_owned_engine(sn->owned);
    owned_sync_members(s, sn, oe);
    if (ticked)
        (void)owned_tick(oe, clock_monotonic_ms());
    owned_flush(sn, oe);
    abi_owned_unlock(sn->owned);
}

int system_net_attach_owned(sysobj *s, const void *h, abi_owned *o)
{
    sysnet *sn = s->net;
    if (!sn)
        return error_set(DD_EUNSUPPORTED, "system '%s' has no built-in transport (pump mode)",
                         s->node_id);
    owned_check_closed(sn);
    if (sn->owned)
        return error_set(DD_ECONFLICT, "system '%s' already carries an owned engine", s->node_id);
    handle_retain(h);
    sn->owned_h = h;
    sn->owned = o;
    abi_owned_lock(o);
    abi_owned_set_attached(o, sn->wake_fd);
    abi_owned_unlock(o);
    system_net_wake(s);
    return DD_OK;
}

static void flush_outgoing(sysobj *s, sysnet *sn)
{
    if (!s->e)
        return;
    bytes to = BYTES_INIT, msg = BYTES_INIT;
    while (engine_next_outgoing(s->e, &to, &msg) == ST_OK) {
        char id[SESSION_ID_MAX + 1];
        size_t idl = to.len < SESSION_ID_MAX ? to.len : SESSION_ID_MAX;
        memcpy(id, to.data, idl);
        id[idl] = 0;
        bytes *b = &sn->scratch;
        bytes_reset(b);
        bytes_put_u8(b, CH_REPLICATOR);
        bytes_put(b, msg.data, msg.len);
        uint8_t cls;
        net_priority prio;
        classify(msg.data, msg.len, &cls, &prio);
        if (!b->failed) {
            int rc = net_send(sn->n, id, b->data, b->len, prio, cls);
            if (rc == ST_ENOTFOUND)
                rc = net_send_to(sn->n, id, b->data, b->len, prio, cls);
            if (rc == ST_ENOTFOUND)
                sn->unroutable++;
        }
        bytes_free(&to);
        bytes_free(&msg);
    }
}

static void handle_event(sysobj *s, sysnet *sn, const net_event *ev, uint64_t now_ms)
{
    switch (ev->kind) {
    case NET_EV_CONNECTED: {
        book_entry *b = book_put(sn, ev->node_id, ev->addr);
        if (b) {
            b->connected = true;
            b->answered = true;
            b->cooling_ms = 0;
        }
        sn->book_dirty = true;
        break;
    }
    case NET_EV_DISCONNECTED: {
        book_entry *b = book_find(sn, ev->node_id);
        if (b)
            b->connected = false;
        break;
    }
    case NET_EV_MESSAGE:
        if (!ev->len)
            break;
        if (ev->data[0] == CH_REPLICATOR && s->e)
            (void)engine_deliver(s->e, now_ms, ev->node_id, ev->node_id_len, ev->data + 1,
                                 ev->len - 1);
        else if (ev->data[0] == CH_BOOK)
            book_receive(sn, ev->node_id, ev->node_id_len, ev->data + 1, ev->len - 1);
        else if (ev->data[0] == CH_OWNED && sn->owned)
            owned_deliver_from(s, sn, ev);
        break;
    }
}

static void driver_round(sysobj *s, sysnet *sn)
{
    /* The monotonic clock schedules; the engine reads the wall clock
     * itself where nodes compare times (issue 17.1). */
    uint64_t mono = clock_monotonic_ms();
    net_event ev;
    memset(&ev, 0, sizeof(ev));
    for (int i = 0; i < ROUND_EVENTS && net_poll(sn->n, &ev) == ST_OK; i++) {
        handle_event(s, sn, &ev, mono);
        net_event_clear(&ev);
    }
    mono = clock_monotonic_ms();
    bool ticked = mono >= sn->next_tick_mono;
    if (ticked) {
        if (s->e)
            (void)engine_tick(s->e, mono);
        sn->next_tick_mono = mono + sn->tick_ms;
    }
    owned_round(s, sn, ticked);
    if (ticked)
        book_expire(s, sn, mono);
    if (sn->book_dirty) {
        book_send(sn);
        sn->book_dirty = false;
    }
    flush_outgoing(s, sn);
}

static void *driver_main(void *arg)
{
    sysobj *s = arg;
    sysnet *sn = s->net;
    struct pollfd fds[2] = {{net_event_fd(sn->n), POLLIN, 0}, {sn->wake_fd, POLLIN, 0}};
    while (!atomic_load(&sn->stop)) {
        uint64_t mono = clock_monotonic_ms();
        int timeout = sn->next_tick_mono > mono ? (int)(sn->next_tick_mono - mono) : 0;
        (void)poll(fds, 2, timeout);
        if (fds[1].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(sn->wake_fd, &v, sizeof(v));
            (void)r;
            atomic_store(&sn->wake_pending, false);
        }
        system_lock(s);
        driver_round(s, sn);
        system_unlock(s);
    }
    return NULL;
}

void system_net_wake(sysobj *s)
{
    sysnet *sn = s->net;
    if (!sn || atomic_exchange(&sn->wake_pending, true))
        return;
    uint64_t one = 1;
    ssize_t w = write(sn->wake_fd, &one, sizeof(one));
    (void)w;
}

void system_net_flush(sysobj *s)
{
    if (s->net)
        flush_outgoing(s, s->net);
}

void system_net_stop(sysobj *s)
{
    sysnet *sn = s->net;
    if (!sn)
        return;
    if (sn->thread_started) {
        atomic_store(&sn->stop, true);
        uint64_t one = 1;
        ssize_t w = write(sn->wake_fd, &one, sizeof(one));
        (void)w;
        pthread_join(sn->thread, NULL);
    }
    /* Whatever the engine still wants sent (a final delta) gets the
     * transport's linger to leave. */
    system_lock(s);
    if (sn->n)
        flush_outgoing(s, sn);
    if (sn->n)
        owned_detach(sn);
    s->net = NULL;
    system_unlock(s);
    net_close(sn->n);
    if (sn->wake_fd >= 0)
        close(sn->wake_fd);
    for (size_t i = 0; i < sn->book_n; i++) {
        free(sn->book[i].id);
        free(sn->book[i].addr);
    }
    free(sn->book);
    free(sn->opeers);
    bytes_free(&sn->scratch);
    free(sn);
}

/* The allow-list as the ABI passes it (keys back to back, optional ids)
 * turned into the transport's entries; *out is freed by the caller. */
static int peer_keys_from(const uint8_t *keys, const char *const *ids, size_t count, peer_key **out)
{
    *out = NULL;
    if (!count)
        return DD_OK;
    if (!keys)
        return error_set(DD_EINVAL, "peer keys must not be NULL when their count is %zu", count);
    if (count > PEER_KEYS_MAX)
        return error_set(DD_ELIMIT, "%zu peer keys exceed the limit of %d", count, PEER_KEYS_MAX);
    peer_key *list = calloc(count, sizeof(*list));
    if (!list)
        return error_oom();
    for (size_t i = 0; i < count; i++) {
        memcpy(list[i].public_key, keys + i * DD_KEY_BYTES, DD_KEY_BYTES);
        const char *id = ids ? ids[i] : NULL;
        if (id && strlen(id) > SESSION_ID_MAX) {
            free(list);
            return error_set(DD_EINVAL, "peer key %zu: node id longer than %d bytes", i,
                             SESSION_ID_MAX);
        }
        if (id)
            memcpy(list[i].node_id, id, strlen(id) + 1);
    }
    *out = list;
    return DD_OK;
}

int system_net_start(sysobj *s, const dd_system_options *o)
{
    if (!o->listen_address || !o->listen_address[0])
        return error_set(DD_EINVAL, "the tcp transport needs a listen address (\"ip:port\", "
                                    "port 0 picks one)");
    if (!o->secret && !o->plaintext)
        return error_set(DD_EINVAL,
                         "the tcp transport needs a %d-byte secret, or plaintext = 1 "
                         "to run unauthenticated on purpose",
                         SESSION_SECRET_BYTES);
    sysnet *sn = calloc(1, sizeof(*sn));
    if (!sn)
        return error_oom();
    sn->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    sn->tick_ms = o->tick_interval_ms ? o->tick_interval_ms : 10;
    atomic_init(&sn->stop, false);
    atomic_init(&sn->wake_pending, false);
    s->net = sn;
    if (sn->wake_fd < 0) {
        system_net_stop(s);
        return error_set(DD_EIO, "cannot create the driver's wake fd");
    }
    net_config cfg;
    net_config_default(&cfg);
    cfg.listen_addr = o->listen_address;
    cfg.advertised_addr = o->advertised_address;
    cfg.node_id = s->node_id;
    cfg.incarnation = s->incarnation;
    cfg.secret = o->secret;
    cfg.plaintext = o->plaintext != 0;
    uint8_t node_key[DD_KEY_BYTES];
    peer_key *keys = NULL;
    int rc = DD_OK;
    if (!cfg.plaintext) {
        if (o->node_key_file && o->node_key)
            rc = error_set(DD_EINVAL, "give node_key_file or node_key, not both");
        else if (o->node_key_file)
            rc = key_file_read(o->node_key_file, node_key);
        else if (o->node_key)
            memcpy(node_key, o->node_key, DD_KEY_BYTES);
        /* A node with a lasting key lets its peers pin its id to it. */
        cfg.static_sk = o->node_key_file || o->node_key ? node_key : NULL;
        cfg.pin_node_keys = cfg.static_sk != NULL;
        cfg.next_secret = o->next_secret;
        if (rc == DD_OK)
            rc = peer_keys_from(o->peer_keys, o->peer_key_ids, o->peer_key_count, &keys);
        cfg.peer_keys = keys;
        cfg.peer_key_count = keys ? o->peer_key_count : 0;
    }
    if (rc == DD_OK)
        rc = net_open(&sn->n, &cfg);
    sodium_memzero(node_key, sizeof(node_key));
    free(keys);
    if (rc != ST_OK) {
        system_net_stop(s);
        return rc;
    }
    for (size_t i = 0; i < s->seed_count; i++) {
        if (strcmp(s->seeds[i], net_address(sn->n)) == 0)
            continue;
        if ((rc = net_connect(sn->n, s->seeds[i])) != ST_OK) {
            system_net_stop(s);
            return rc;
        }
    }
    if (pthread_create(&sn->thread, NULL, driver_main, s) != 0) {
        system_net_stop(s);
        return error_set(DD_EIO, "cannot start the node's driver thread");
    }
    sn->thread_started = true;
    return DD_OK;
}

static void put_key(bytes *b, const char *k, bool first)
{
    if (!first)
        bytes_put_u8(b, ',');
    json_put_string(b, (const uint8_t *)k, strlen(k));
    bytes_put_u8(b, ':');
}

static void put_u64(bytes *b, const char *k, uint64_t v, bool first)
{
    put_key(b, k, first);
    json_put_u64(b, v);
}

static void put_peer(bytes *b, const net_peer_stats *p)
{
    bytes_put_u8(b, '{');
    put_u64(b, "bytes_in", p->bytes_in, true);
    put_u64(b, "bytes_out", p->bytes_out, false);
    put_key(b, "connected", false);
    bytes_put_str(b, p->connected ? "true" : "false");
    put_u64(b, "connects", p->connects, false);
    put_u64(b, "delta_bytes_in", p->class_bytes_in[NET_CLASS_DELTA], false);
    put_u64(b, "delta_bytes_out", p->class_bytes_out[NET_CLASS_DELTA], false);
    put_u64(b, "delta_frames_in", p->class_frames_in[NET_CLASS_DELTA], false);
    put_u64(b, "delta_frames_out", p->class_frames_out[NET_CLASS_DELTA], false);
    put_u64(b, "frames_in", p->frames_in, false);
    put_u64(b, "frames_out", p->frames_out, false);
    put_u64(b, "full_bytes_in", p->class_bytes_in[NET_CLASS_FULL], false);
    put_u64(b, "full_bytes_out", p->class_bytes_out[NET_CLASS_FULL], false);
    put_u64(b, "full_frames_in", p->class_frames_in[NET_CLASS_FULL], false);
    put_u64(b, "full_frames_out", p->class_frames_out[NET_CLASS_FULL], false);
    static const uint8_t no_key[SESSION_KEY_BYTES];
    char hex[2 * SESSION_KEY_BYTES + 1] = "";
    if (memcmp(p->static_pk, no_key, SESSION_KEY_BYTES) != 0)
        sodium_bin2hex(hex, sizeof(hex), p->static_pk, SESSION_KEY_BYTES);
    put_key(b, "key", false); /* the static key it proved, for allow-lists and logs */
    json_put_string(b, (const uint8_t *)hex, strlen(hex));
    put_key(b, "node", false);
    json_put_string(b, (const uint8_t *)p->node_id, strlen(p->node_id));
    put_u64(b, "queue_drops", p->queue_drops, false);
    put_u64(b, "queued_bytes", p->queued_bytes, false);
    bytes_put_u8(b, '}');
}

/* The attached owned engine's counters (system lock held; takes its lock). */
static void put_owned(bytes *b, sysnet *sn)
{
    abi_owned_lock(sn->owned);
    owned *oe = abi_owned_engine(sn->owned);
    owned_stats st = owned_get_stats(oe);
    uint64_t id = owned_node_id(oe);
    abi_owned_unlock(sn->owned);
    put_key(b, "owned", false);
    bytes_put_u8(b, '{');
    put_u64(b, "corrupt", st.corrupt, true);
    put_u64(b, "deltas_applied", st.deltas_applied, false);
    put_u64(b, "events_dropped", st.events_dropped, false);
    put_u64(b, "ghost_dropped", st.ghost_dropped, false);
    put_u64(b, "members", sn->opeers_n, false);
    put_u64(b, "messages_in", st.messages_in, false);
    put_u64(b, "node_id", id, false);
    put_u64(b, "outgoing_dropped", st.outgoing_dropped, false);
    put_u64(b, "pulls_sent", st.pulls_sent, false);
    put_u64(b, "snapshots_applied", st.snapshots_applied, false);
    put_u64(b, "stale_dropped", st.stale_dropped, false);
    put_u64(b, "unknown_type", st.unknown_type, false);
    put_u64(b, "unroutable", sn->owned_unroutable, false);
    put_u64(b, "version_dropped", st.version_dropped, false);
    bytes_put_u8(b, '}');
}

/* Canonical JSON (keys sorted): the engine's counters, and with a
 * transport its totals, one object per peer ever authenticated and, when
 * an owned engine is attached, its counters. */
static int system_stats_json(sysobj *s, bytes *b)
{
    engine_stats es;
    memset(&es, 0, sizeof(es));
    if (s->e)
        engine_get_stats(s->e, &es);
    bytes_put_u8(b, '{');
    put_key(b, "engine", true);
    bytes_put_u8(b, '{');
    put_u64(b, "bytes_received", es.bytes_received, true);
    put_u64(b, "bytes_sent", es.bytes_sent, false);
    put_u64(b, "decode_errors", es.decode_errors, false);
    put_u64(b, "expired", es.expired, false);
    put_u64(b, "full_states_sent", es.full_states_sent, false);
    put_u64(b, "msgs_received", es.msgs_received, false);
    put_u64(b, "msgs_sent", es.msgs_sent, false);
    put_u64(b, "nacks_sent", es.nacks_sent, false);
    put_u64(b, "tombstones_collected", es.tombstones_collected, false);
    bytes_put_u8(b, '}');
    put_key(b, "node", false);
    json_put_string(b, (const uint8_t *)s->node_id, strlen(s->node_id));
    if (!s->net) {
        put_key(b, "transport", false);
        bytes_put_str(b, "null}");
        return b->failed ? error_oom() : DD_OK;
    }
    sysnet *sn = s->net;
    if (sn->owned)
        put_owned(b, sn);
    size_t count = 0;
    net_peer_stats *peers = NULL;
    int rc = net_peer_stats_all(sn->n, NULL, 0, &count);
    if (rc == ST_OK && count) {
        peers = alloc_array(count, sizeof(*peers));
        if (!peers)
            return error_oom();
        size_t cap = count;
        rc = net_peer_stats_all(sn->n, peers, cap, &count);
        if (count > cap)
            count = cap;
    }
    net_stats ns;
    if (rc == ST_OK)
        rc = net_stats_get(sn->n, &ns);
    if (rc != ST_OK) {
        free(peers);
        return rc;
    }
    put_key(b, "peers", false);
    bytes_put_u8(b, '[');
    for (size_t i = 0; i < count; i++) {
        if (i)
            bytes_put_u8(b, ',');
        put_peer(b, &peers[i]);
    }
    bytes_put_u8(b, ']');
    free(peers);
    put_key(b, "transport", false);
    bytes_put_u8(b, '{');
    put_u64(b, "accepted", ns.accepted, true);
    put_key(b, "address", false);
    json_put_string(b, (const uint8_t *)net_address(sn->n), strlen(net_address(sn->n)));
    put_u64(b, "auth_failures", ns.auth_failures, false);
    put_u64(b, "book_entries", sn->book_n, false);
    put_u64(b, "book_errors", sn->book_errors, false);
    put_u64(b, "book_expired", sn->book_expired, false);
    put_u64(b, "book_refused", sn->book_refused, false);
    put_u64(b, "bytes_in", ns.bytes_in, false);
    put_u64(b, "bytes_out", ns.bytes_out, false);
    put_u64(b, "dialled", ns.dialled, false);
    put_u64(b, "frames_in", ns.frames_in, false);
    put_u64(b, "frames_out", ns.frames_out, false);
    put_u64(b, "handshake_failures", ns.handshake_failures, false);
    put_u64(b, "handshake_timeouts", ns.handshake_timeouts, false);
    put_u64(b, "handshakes", ns.handshakes, false);
    put_u64(b, "malformed_frames", ns.malformed_frames, false);
    put_u64(b, "peers_connected", ns.peers_connected, false);
    put_u64(b, "pending_rejected", ns.pending_rejected, false);
    put_u64(b, "queue_drops", ns.queue_drops, false);
    put_u64(b, "refused_peers", ns.refused_peers, false);
    put_u64(b, "rejected_connections", ns.rejected_connections, false);
    put_u64(b, "reliable_overflows", ns.reliable_overflows, false);
    put_u64(b, "unroutable", sn->unroutable, false);
    bytes_put_str(b, "}}");
    return b->failed ? error_oom() : DD_OK;
}

/* ---- the public calls of the built-in transport ---- */

DD_API uint32_t dd_secret_bytes(void)
{
    return DD_SECRET_BYTES;
}

#define NET_ENTER(var, h)                                                                          \
    sysobj *var = handle_acquire((h), HK_SYSTEM, "system");                                        \
    if (!var)                                                                                      \
        return DD_EMISUSE;                                                                         \
    system_lock(var)

#define NET_LEAVE(var, h)                                                                          \
    system_unlock(var);                                                                            \
    handle_release(h)

int abi_impl_dd_system_listen_address(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    NET_ENTER(s, sys);
    bytes b = BYTES_INIT;
    int rc = DD_OK;
    if (!s->net)
        rc = error_set(DD_EUNSUPPORTED, "system '%s' has no built-in transport (pump mode)",
                       s->node_id);
    else
        bytes_put_str(&b, net_address(s->net->n));
    NET_LEAVE(s, sys);
    if (rc == DD_OK)
        rc = b.failed ? error_oom() : abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_system_connect(dd_system *sys, const char *address)
{
    ABI_REQUIRE(address, "address");
    if (!address[0] || strlen(address) > ADDR_MAX)
        return error_set(DD_EINVAL, "address must be 1..%u bytes (\"ip:port\")", ADDR_MAX);
    NET_ENTER(s, sys);
    int rc;
    if (!s->net)
        rc = error_set(DD_EUNSUPPORTED, "system '%s' has no built-in transport (pump mode)",
                       s->node_id);
    else
        rc = net_connect(s->net->n, address);
    NET_LEAVE(s, sys);
    return rc;
}

int abi_impl_dd_system_stats_json(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    NET_ENTER(s, sys);
    bytes b = BYTES_INIT;
    int rc = system_stats_json(s, &b);
    NET_LEAVE(s, sys);
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
    ABI_REQUIRE(public_key, "public_key");
    public_key->data = NULL;
    public_key->len = 0;
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
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    NET_ENTER(s, sys);
    bytes b = BYTES_INIT;
    int rc = DD_OK;
    if (!s->net) {
        rc = error_set(DD_EUNSUPPORTED, "system '%s' has no built-in transport (pump mode)",
                       s->node_id);
    } else {
        uint8_t pk[DD_KEY_BYTES];
        net_public_key(s->net->n, pk);
        bytes_put(&b, pk, sizeof(pk));
    }
    NET_LEAVE(s, sys);
    if (rc == DD_OK)
        rc = b.failed ? error_oom() : abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_system_set_peer_keys(dd_system *sys, const uint8_t *public_keys,
                                     const char *const *node_ids, size_t count)
{
    peer_key *keys = NULL;
    int rc = peer_keys_from(public_keys, node_ids, count, &keys);
    if (rc != DD_OK)
        return rc;
    sysobj *s = handle_acquire(sys, HK_SYSTEM, "system");
    if (!s) {
        free(keys);
        return DD_EMISUSE;
    }
    system_lock(s);
    if (!s->net)
        rc = error_set(DD_EUNSUPPORTED, "system '%s' has no built-in transport (pump mode)",
                       s->node_id);
    else
        rc = net_set_peer_keys(s->net->n, keys, keys ? count : 0);
    NET_LEAVE(s, sys);
    free(keys);
    return rc;
}
