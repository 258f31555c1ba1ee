/*
 * The node's driver on the built-in TCP transport: one thread that joins
 * the sans-I/O engine to core/net.
 *
 * The driver waits on two fds, the transport's event fd (messages and
 * peers arriving) and a wake eventfd (a public call left messages in the
 * engine's outgoing queue), with a timeout of one tick interval. Each round
 * it takes the node lock, delivers what arrived, ticks the engine when
 * the interval has passed, and moves every outgoing message to the
 * transport. Public calls take the same lock, so the engine stays
 * single-threaded; waking the driver from node_unlock is what sends an
 * immediate delta within a millisecond instead of at the next tick.
 *
 * Addressing. Seeds are addresses here, and they are handed to the engine
 * as its seed "node ids": the engine sends JOIN to them, and a message for
 * an id with no authenticated link is retried by address (net_send_to), so
 * the JOIN reaches whoever listens there. The engine then learns real node
 * ids from gossip, and addresses of members it never dialled from the
 * address book (address_book.c).
 */
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/key_file.h"
#include "node/node_internal.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/status.h"

#define ROUND_EVENTS 4096

/* The link class that counts what a replicator message carries. */
static uint8_t traffic_class(engine_traffic traffic)
{
    return traffic == ENGINE_TRAFFIC_DELTA  ? NET_CLASS_DELTA
           : traffic == ENGINE_TRAFFIC_FULL ? NET_CLASS_FULL
                                            : NET_CLASS_OTHER;
}

static void flush_outgoing(node *n, node_net *nn)
{
    if (!n->e)
        return;
    bytes to = BYTES_INIT, msg = BYTES_INIT;
    engine_outgoing_info info;
    while (engine_next_outgoing_info(n->e, &to, &msg, &info) == ST_OK) {
        char id[SESSION_ID_MAX + 1];
        size_t idl = to.len < SESSION_ID_MAX ? to.len : SESSION_ID_MAX;
        memcpy(id, to.data, idl);
        id[idl] = 0;
        bytes *b = &nn->scratch;
        bytes_reset(b);
        bytes_put_u8(b, CH_REPLICATOR);
        bytes_put(b, msg.data, msg.len);
        uint8_t cls = traffic_class(info.traffic);
        net_priority prio = info.reliable ? NET_RELIABLE : NET_DROPPABLE;
        if (!b->failed) {
            int rc = net_send(nn->n, id, b->data, b->len, prio, cls);
            if (rc == ST_ENOTFOUND)
                rc = net_send_to(nn->n, id, b->data, b->len, prio, cls);
            if (rc == ST_ENOTFOUND)
                nn->unroutable++;
        }
        bytes_free(&to);
        bytes_free(&msg);
    }
}

static void handle_event(node *n, node_net *nn, const net_event *ev, uint64_t now_ms)
{
    switch (ev->kind) {
    case NET_EV_CONNECTED: {
        book_entry *known = address_book_find(nn, ev->node_id);
        log_field f[2] = {log_field_str("address", ev->addr ? ev->addr : ""),
                          {"peer", ev->node_id, ev->node_id_len}};
        log_queue_push(&n->logs, LOG_INFO,
                       known && known->answered ? "transport.reconnected" : "transport.connected",
                       clock_wall_ms(), f, 2);
        book_entry *b = address_book_put(nn, ev->node_id, ev->addr);
        if (b) {
            b->connected = true;
            b->answered = true;
            b->cooling_ms = 0;
            b->departed = false;
        }
        departure_link_up(n, ev->node_id, ev->node_id_len);
        nn->book_dirty = true;
        break;
    }
    case NET_EV_DISCONNECTED: {
        log_field f[1] = {{"peer", ev->node_id, ev->node_id_len}};
        log_queue_push(&n->logs, LOG_INFO, "transport.disconnected", clock_wall_ms(), f, 1);
        book_entry *b = address_book_find(nn, ev->node_id);
        if (b) {
            b->connected = false;
            departure_link_down(n, nn, b);
        }
        break;
    }
    case NET_EV_MESSAGE:
        if (!ev->len)
            break;
        if (ev->data[0] == CH_REPLICATOR && n->e)
            (void)engine_deliver(n->e, now_ms, ev->node_id, ev->node_id_len, ev->data + 1,
                                 ev->len - 1);
        else if (ev->data[0] == CH_BOOK)
            address_book_receive(nn, ev->node_id, ev->node_id_len, ev->data + 1, ev->len - 1);
        else if (ev->data[0] == CH_OWNED && nn->owned_attached)
            owned_link_deliver(n, nn, ev);
        break;
    }
}

/* The transport counts failed handshakes without an event per failure; a
 * record per tick that saw new ones says how many and of which kind. */
static void log_handshake_failures(node *n, node_net *nn, uint64_t wall)
{
    net_stats ns;
    if (net_stats_get(nn->n, &ns) != ST_OK)
        return;
    uint64_t seen[3] = {ns.handshake_failures, ns.handshake_timeouts, ns.refused_peers};
    static const char *const kinds[3] = {"failed", "timed_out", "refused"};
    for (int i = 0; i < 3; i++) {
        if (seen[i] <= nn->handshake_logged[i])
            continue;
        char count[24], total[24];
        log_field f[3] = {log_field_u64("count", seen[i] - nn->handshake_logged[i], count),
                          log_field_str("reason", kinds[i]),
                          log_field_u64("total", seen[i], total)};
        log_queue_push(&n->logs, LOG_WARN, "transport.handshake_failed", wall, f, 3);
        nn->handshake_logged[i] = seen[i];
    }
}

static void driver_round(node *n, node_net *nn)
{
    /* The monotonic clock schedules; the engine reads the wall clock
     * itself where nodes compare times (issue 17.1). */
    uint64_t mono = clock_monotonic_ms();
    net_event ev;
    memset(&ev, 0, sizeof(ev));
    for (int i = 0; i < ROUND_EVENTS && net_poll(nn->n, &ev) == ST_OK; i++) {
        handle_event(n, nn, &ev, mono);
        net_event_clear(&ev);
    }
    mono = clock_monotonic_ms();
    bool ticked = mono >= nn->next_tick_mono;
    if (ticked) {
        if (n->e)
            (void)engine_tick(n->e, mono);
        nn->next_tick_mono = mono + nn->tick_ms;
    }
    owned_link_round(n, nn, ticked);
    if (ticked)
        log_handshake_failures(n, nn, clock_wall_ms());
    if (ticked)
        address_book_expire(n, nn, mono);
    if (nn->book_dirty) {
        address_book_send(nn);
        nn->book_dirty = false;
    }
    flush_outgoing(n, nn);
}

static void *driver_main(void *arg)
{
    node *n = arg;
    node_net *nn = n->net;
    struct pollfd fds[2] = {{net_event_fd(nn->n), POLLIN, 0}, {nn->wake_fd, POLLIN, 0}};
    while (!atomic_load(&nn->stop)) {
        uint64_t mono = clock_monotonic_ms();
        int timeout = nn->next_tick_mono > mono ? (int)(nn->next_tick_mono - mono) : 0;
        (void)poll(fds, 2, timeout);
        if (fds[1].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(nn->wake_fd, &v, sizeof(v));
            (void)r;
            atomic_store(&nn->wake_pending, false);
        }
        node_lock(n);
        driver_round(n, nn);
        node_unlock(n);
    }
    return NULL;
}

void node_net_wake(node *n)
{
    node_net *nn = n->net;
    if (!nn || atomic_exchange(&nn->wake_pending, true))
        return;
    uint64_t one = 1;
    ssize_t w = write(nn->wake_fd, &one, sizeof(one));
    (void)w;
}

void node_net_flush(node *n)
{
    if (n->net)
        flush_outgoing(n, n->net);
}

void node_net_stop(node *n)
{
    node_net *nn = n->net;
    if (!nn)
        return;
    if (nn->thread_started) {
        atomic_store(&nn->stop, true);
        uint64_t one = 1;
        ssize_t w = write(nn->wake_fd, &one, sizeof(one));
        (void)w;
        pthread_join(nn->thread, NULL);
    }
    /* Whatever the engine still wants sent (a final delta) gets the
     * transport's linger to leave. */
    node_lock(n);
    if (nn->n)
        flush_outgoing(n, nn);
    if (nn->n)
        owned_link_detach(nn);
    n->net = NULL;
    node_unlock(n);
    net_close(nn->n);
    if (nn->wake_fd >= 0)
        close(nn->wake_fd);
    address_book_free(nn);
    free(nn->opeers);
    bytes_free(&nn->scratch);
    free(nn);
}

int node_peer_keys_from(const uint8_t *keys, const char *const *ids, size_t count, peer_key **out)
{
    *out = NULL;
    if (!count)
        return ST_OK;
    if (!keys)
        return error_set(ST_EINVAL, "peer keys must not be NULL when their count is %zu", count);
    if (count > PEER_KEYS_MAX)
        return error_set(ST_ELIMIT, "%zu peer keys exceed the limit of %d", count, PEER_KEYS_MAX);
    peer_key *list = calloc(count, sizeof(*list));
    if (!list)
        return error_oom();
    for (size_t i = 0; i < count; i++) {
        memcpy(list[i].public_key, keys + i * SESSION_KEY_BYTES, SESSION_KEY_BYTES);
        const char *id = ids ? ids[i] : NULL;
        if (id && strlen(id) > SESSION_ID_MAX) {
            free(list);
            return error_set(ST_EINVAL, "peer key %zu: node id longer than %d bytes", i,
                             SESSION_ID_MAX);
        }
        if (id)
            memcpy(list[i].node_id, id, strlen(id) + 1);
    }
    *out = list;
    return ST_OK;
}

int node_net_start(node *n, const node_net_config *o)
{
    if (!o->listen_address || !o->listen_address[0])
        return error_set(ST_EINVAL, "the tcp transport needs a listen address (\"ip:port\", "
                                    "port 0 picks one)");
    if (!o->secret && !o->plaintext)
        return error_set(ST_EINVAL,
                         "the tcp transport needs a %d-byte secret, or plaintext = 1 "
                         "to run unauthenticated on purpose",
                         SESSION_SECRET_BYTES);
    node_net *nn = calloc(1, sizeof(*nn));
    if (!nn)
        return error_oom();
    nn->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    nn->tick_ms = o->tick_interval_ms ? o->tick_interval_ms : 10;
    atomic_init(&nn->stop, false);
    atomic_init(&nn->wake_pending, false);
    n->net = nn;
    if (nn->wake_fd < 0) {
        node_net_stop(n);
        return error_set(ST_EIO, "cannot create the driver's wake fd");
    }
    net_config cfg;
    net_config_default(&cfg);
    cfg.listen_addr = o->listen_address;
    cfg.advertised_addr = o->advertised_address;
    cfg.node_id = n->node_id;
    cfg.incarnation = n->incarnation;
    cfg.secret = o->secret;
    cfg.plaintext = o->plaintext;
    uint8_t node_key[SESSION_KEY_BYTES];
    peer_key *keys = NULL;
    int rc = ST_OK;
    if (!cfg.plaintext) {
        if (o->node_key_file && o->node_key)
            rc = error_set(ST_EINVAL, "give node_key_file or node_key, not both");
        else if (o->node_key_file)
            rc = key_file_read(o->node_key_file, node_key);
        else if (o->node_key)
            memcpy(node_key, o->node_key, SESSION_KEY_BYTES);
        /* A node with a lasting key lets its peers pin its id to it. */
        cfg.static_sk = o->node_key_file || o->node_key ? node_key : NULL;
        cfg.pin_node_keys = cfg.static_sk != NULL;
        cfg.next_secret = o->next_secret;
        if (rc == ST_OK)
            rc = node_peer_keys_from(o->peer_keys, o->peer_key_ids, o->peer_key_count, &keys);
        cfg.peer_keys = keys;
        cfg.peer_key_count = keys ? o->peer_key_count : 0;
    }
    if (rc == ST_OK)
        rc = net_open(&nn->n, &cfg);
    sodium_memzero(node_key, sizeof(node_key));
    free(keys);
    if (rc != ST_OK) {
        node_net_stop(n);
        return rc;
    }
    for (size_t i = 0; i < n->seed_count; i++) {
        if (strcmp(n->seeds[i], net_address(nn->n)) == 0)
            continue;
        if ((rc = net_connect(nn->n, n->seeds[i])) != ST_OK) {
            node_net_stop(n);
            return rc;
        }
    }
    if (pthread_create(&nn->thread, NULL, driver_main, n) != 0) {
        node_net_stop(n);
        return error_set(ST_EIO, "cannot start the node's driver thread");
    }
    nn->thread_started = true;
    return ST_OK;
}

int node_net_stats(node *n, net_stats *out)
{
    if (!n->net)
        return ST_ENOTFOUND;
    return net_stats_get(n->net->n, out);
}

net *node_transport(node *n)
{
    return n->net ? n->net->n : NULL;
}
