/*
 * The transport's owner side: configuration, opening and closing, the
 * event queue the owner drains, sending, statistics. See transport.h for
 * the contract and io.c for the I/O thread.
 *
 * Output. Each connection owns one byte buffer of sealed frames; senders
 * append under the mutex and wake the I/O thread through an eventfd (once
 * per batch: `wake_pending`), which writes until EAGAIN and then waits for
 * EPOLLOUT. Frames are sealed at send time, so the queue is exactly the
 * bytes that will go on the wire and the caps are exact.
 */
#include "net/transport.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

void net_config_default(net_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_message_bytes = 4u << 20;
    cfg->queue_soft_bytes = 8u << 20;
    cfg->queue_hard_bytes = 32u << 20;
    cfg->inbound_cap_bytes = 64u << 20;
    cfg->reconnect_min_ms = 100;
    cfg->reconnect_max_ms = 5000;
    cfg->handshake_timeout_ms = 2000;
    cfg->max_pending = 64;
    cfg->close_linger_ms = 200;
}

/* ---- the owner's event queue ---- */

void net_signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof(one));
    (void)w;
}

void net_drain_fd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

void net_push_event(net *n, net_event_kind kind, const peer *p, int reason, uint8_t msg_class,
                    const uint8_t *data, size_t len)
{
    size_t idlen = strlen(p->st.node_id), alen = strlen(p->addr), total;
    if (!size_add_ok(sizeof(ev_node) + idlen + alen + 2, len, &total))
        return;
    ev_node *e = malloc(total);
    if (!e)
        return; /* out of memory: the engine's timeouts cover the lost message */
    e->next = NULL;
    if (len)
        memcpy(e->data, data, len);
    char *id = (char *)e->data + len;
    memcpy(id, p->st.node_id, idlen + 1);
    char *addr = id + idlen + 1;
    memcpy(addr, p->addr, alen + 1);
    e->ev = (net_event){kind, id, idlen, p->incarnation, addr, reason, msg_class, e->data, len, e};
    if (n->ev_tail)
        n->ev_tail->next = e;
    else
        n->ev_head = e;
    n->ev_tail = e;
    bool was_empty = n->ev_head == e;
    n->inbound_bytes += len;
    if (was_empty)
        net_signal_fd(n->event_fd);
}

void net_event_clear(net_event *ev)
{
    if (!ev)
        return;
    free(ev->owner_);
    memset(ev, 0, sizeof(*ev));
}

/* ---- the owner's side ---- */

static int open_listener(net *n)
{
    net_sockaddr a;
    int rc = net_address_parse(n->cfg.listen_addr, 1, &a);
    if (rc != ST_OK)
        return rc;
    int fd = socket(a.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return error_set(ST_EIO, "net: socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a.sa, a.len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return error_set(ST_EIO, "net: cannot listen on '%s': %s", n->cfg.listen_addr, strerror(e));
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    net_address_format((struct sockaddr *)&ss, n->bound, sizeof(n->bound));
    n->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    n->listen_fd = fd;
    return ST_OK;
}

static int check_config(const net_config *cfg)
{
    size_t idlen = cfg->node_id ? strlen(cfg->node_id) : 0;
    if (idlen == 0 || idlen > SESSION_ID_MAX)
        return error_set(ST_EINVAL, "net: node id must be 1..%d bytes", SESSION_ID_MAX);
    if (!cfg->plaintext && !cfg->secret)
        return error_set(ST_EINVAL, "net: a 32-byte cluster secret is required "
                                    "(or set plaintext explicitly)");
    if (cfg->max_message_bytes == 0 || cfg->max_message_bytes > (1u << 30))
        return error_set(ST_EINVAL, "net: max_message_bytes must be in 1..2^30");
    if (cfg->queue_soft_bytes == 0 || cfg->queue_hard_bytes < cfg->queue_soft_bytes)
        return error_set(ST_EINVAL, "net: queue caps need 0 < soft <= hard");
    if (cfg->reconnect_min_ms == 0 || cfg->reconnect_max_ms < cfg->reconnect_min_ms)
        return error_set(ST_EINVAL, "net: reconnect backoff needs 0 < min <= max");
    if (cfg->handshake_timeout_ms == 0 || cfg->max_pending == 0 || cfg->inbound_cap_bytes == 0)
        return error_set(ST_EINVAL, "net: handshake timeout, max pending and inbound cap "
                                    "must be positive");
    if (cfg->advertised_addr && strlen(cfg->advertised_addr) > SESSION_ADDR_MAX)
        return error_set(ST_EINVAL, "net: advertised address is too long");
    return ST_OK;
}

int net_open(net **out, const net_config *cfg)
{
    if (!out || !cfg)
        return error_set(ST_EINVAL, "net: NULL argument to net_open");
    *out = NULL;
    int rc = check_config(cfg);
    if (rc != ST_OK)
        return rc;
    if (sodium_init() < 0)
        return error_set(ST_ECRYPTO, "net: libsodium failed to initialise");
    net *n = calloc(1, sizeof(*n));
    if (!n)
        return error_oom();
    n->cfg = *cfg;
    memcpy(n->node_id, cfg->node_id, strlen(cfg->node_id) + 1);
    n->cfg.node_id = NULL;
    n->cfg.secret = NULL;
    n->cfg.listen_addr = NULL;
    n->cfg.advertised_addr = NULL;
    n->cfg.static_sk = NULL;
    n->cfg.next_secret = NULL;
    n->cfg.peer_keys = NULL;
    if (cfg->peer_key_count &&
        (rc = peer_keys_set(&n->keys, cfg->peer_keys, cfg->peer_key_count)) != ST_OK) {
        free(n);
        return rc;
    }
    if (!cfg->plaintext) {
        memcpy(n->secret, cfg->secret, SESSION_SECRET_BYTES);
        if (cfg->next_secret) {
            memcpy(n->next_secret, cfg->next_secret, SESSION_SECRET_BYTES);
            n->has_next_secret = true;
        }
        if (cfg->static_sk)
            memcpy(n->static_sk, cfg->static_sk, SESSION_KEY_BYTES);
        else
            randombytes_buf(n->static_sk, SESSION_KEY_BYTES);
        crypto_scalarmult_base(n->static_pk, n->static_sk);
    }
    n->incarnation = cfg->incarnation;
    while (n->incarnation == 0)
        randombytes_buf(&n->incarnation, sizeof(n->incarnation));
    n->listen_fd = n->epfd = n->wake_fd = n->event_fd = -1;
    pthread_mutex_init(&n->mu, NULL);
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    n->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    n->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->epfd < 0 || n->wake_fd < 0 || n->event_fd < 0) {
        rc = error_set(ST_EIO, "net: cannot create epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.ptr = &n->wake_fd;
    epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->wake_fd, &ev);
    if (cfg->listen_addr) {
        n->cfg.listen_addr = cfg->listen_addr;
        rc = open_listener(n);
        n->cfg.listen_addr = NULL;
        if (rc != ST_OK)
            goto fail;
        ev.data.ptr = &n->listen_fd;
        epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->listen_fd, &ev);
    }
    snprintf(n->advertised, sizeof(n->advertised), "%s",
             cfg->advertised_addr ? cfg->advertised_addr : n->bound);
    if (pthread_create(&n->thread, NULL, net_io_main, n) != 0) {
        rc = error_set(ST_EIO, "net: cannot start the I/O thread");
        goto fail;
    }
    n->thread_started = true;
    *out = n;
    return ST_OK;
fail:
    net_close(n);
    return rc;
}

void net_close(net *n)
{
    if (!n)
        return;
    if (n->thread_started) {
        pthread_mutex_lock(&n->mu);
        n->stop = true;
        net_signal_fd(n->wake_fd);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
    }
    while (n->conns) {
        conn *c = n->conns;
        if (c->peer && c->peer->conn == c)
            c->peer->conn = NULL;
        c->dial = NULL;
        net_close_conn(n, c, ST_ECLOSED, true);
    }
    net_free_graveyard(n);
    while (n->dials) {
        dial *d = n->dials;
        n->dials = d->next;
        free(d);
    }
    while (n->ev_head) {
        ev_node *e = n->ev_head;
        n->ev_head = e->next;
        free(e);
    }
    for (size_t i = 0; i < n->npeers; i++)
        free(n->peers[i]);
    free(n->peers);
    if (n->listen_fd >= 0)
        close(n->listen_fd);
    if (n->epfd >= 0)
        close(n->epfd);
    if (n->wake_fd >= 0)
        close(n->wake_fd);
    if (n->event_fd >= 0)
        close(n->event_fd);
    pthread_mutex_destroy(&n->mu);
    sodium_memzero(n->secret, sizeof(n->secret));
    sodium_memzero(n->next_secret, sizeof(n->next_secret));
    sodium_memzero(n->static_sk, sizeof(n->static_sk));
    peer_keys_free(&n->keys);
    free(n);
}

uint16_t net_port(const net *n)
{
    return n ? n->port : 0;
}

const char *net_address(const net *n)
{
    return n ? n->bound : "";
}

const char *net_node_id(const net *n)
{
    return n ? n->node_id : "";
}

void net_wake_io(net *n)
{
    if (!n->wake_pending) {
        n->wake_pending = true;
        net_signal_fd(n->wake_fd);
    }
}

int net_connect(net *n, const char *address)
{
    if (!n || !address)
        return error_set(ST_EINVAL, "net: NULL argument to net_connect");
    if (strlen(address) >= NET_ADDR_TEXT_MAX)
        return error_set(ST_EINVAL, "net: address is longer than %d bytes", NET_ADDR_TEXT_MAX - 1);
    net_sockaddr target;
    int rc = net_address_parse(address, 0, &target);
    if (rc != ST_OK)
        return rc;
    pthread_mutex_lock(&n->mu);
    for (dial *d = n->dials; d; d = d->next) {
        if (strcmp(d->addr, address) == 0) {
            pthread_mutex_unlock(&n->mu);
            return ST_OK;
        }
    }
    dial *d = calloc(1, sizeof(*d));
    if (!d) {
        pthread_mutex_unlock(&n->mu);
        return error_oom();
    }
    snprintf(d->addr, sizeof(d->addr), "%s", address);
    d->target = target;
    d->backoff_ms = n->cfg.reconnect_min_ms;
    d->next_ms = 0;
    d->next = n->dials;
    n->dials = d;
    net_wake_io(n);
    pthread_mutex_unlock(&n->mu);
    return ST_OK;
}

int net_disconnect(net *n, const char *address)
{
    if (!n || !address)
        return error_set(ST_EINVAL, "net: NULL argument to net_disconnect");
    bool found = false;
    pthread_mutex_lock(&n->mu);
    for (dial **pp = &n->dials; *pp; pp = &(*pp)->next) {
        dial *d = *pp;
        if (strcmp(d->addr, address) != 0)
            continue;
        *pp = d->next;
        if (d->conn) {
            d->conn->dial = NULL;
            net_close_conn(n, d->conn, ST_ECLOSED, false);
        }
        free(d);
        found = true;
        break;
    }
    for (size_t i = 0; i < n->npeers; i++) {
        peer *p = n->peers[i];
        if (p->conn && (strcmp(p->addr, address) == 0 || strcmp(p->conn->addr, address) == 0)) {
            net_close_conn(n, p->conn, ST_ECLOSED, false);
            found = true;
        }
    }
    pthread_mutex_unlock(&n->mu);
    if (!found)
        return error_set(ST_ENOTFOUND, "net: nothing dialled or connected at '%.64s'", address);
    return ST_OK;
}

static int send_locked(net *n, peer *p, const void *data, size_t len, net_priority prio,
                       uint8_t msg_class)
{
    conn *c = p->conn;
    if (len > n->cfg.max_message_bytes)
        return error_set(ST_ELIMIT, "net: message of %zu bytes exceeds max_message_bytes %u", len,
                         n->cfg.max_message_bytes);
    if (msg_class >= NET_CLASS_COUNT)
        return error_set(ST_EINVAL, "net: unknown message class %u", msg_class);
    size_t frame = session_frame_size(&c->sess, len);
    size_t queued = c->out.len - c->out_off;
    if (prio == NET_DROPPABLE && queued + frame > n->cfg.queue_soft_bytes) {
        p->st.queue_drops++;
        n->stats.queue_drops++;
        return error_set(ST_EBUSY, "net: queue to node '%.64s' is full; message dropped",
                         p->st.node_id);
    }
    if (prio == NET_RELIABLE && queued + frame > n->cfg.queue_hard_bytes) {
        n->stats.reliable_overflows++;
        net_close_conn(n, c, ST_ELIMIT, false);
        return error_set(ST_ELIMIT,
                         "net: queue to node '%.64s' passed its hard cap; connection closed",
                         p->st.node_id);
    }
    int rc = session_seal(&c->sess, msg_class, data, len, &c->out);
    if (rc != ST_OK)
        return rc;
    p->st.frames_out++;
    p->st.bytes_out += frame;
    p->st.class_frames_out[msg_class]++;
    p->st.class_bytes_out[msg_class] += frame;
    n->stats.frames_out++;
    n->stats.bytes_out += frame;
    if (!c->want_out)
        net_wake_io(n);
    return ST_OK;
}

static int check_send_args(net *n, const void *data, size_t len, net_priority prio)
{
    if (!n || (!data && len))
        return error_set(ST_EINVAL, "net: NULL argument to net_send");
    if (prio != NET_DROPPABLE && prio != NET_RELIABLE)
        return error_set(ST_EINVAL, "net: unknown priority %d", (int)prio);
    return ST_OK;
}

static peer *find_peer_at(net *n, const char *address)
{
    for (size_t i = 0; i < n->npeers; i++) {
        peer *p = n->peers[i];
        if (p->conn && (strcmp(p->addr, address) == 0 || strcmp(p->conn->addr, address) == 0))
            return p;
    }
    return NULL;
}

/* net_send and net_send_to: `to` names the peer by node id, or by the
 * address it was dialled at or connected from when `by_address`. */
static int send_to_peer(net *n, const char *to, bool by_address, const void *data, size_t len,
                        net_priority prio, uint8_t msg_class)
{
    int rc = check_send_args(n, data, len, prio);
    if (rc != ST_OK)
        return rc;
    if (!to)
        return error_set(ST_EINVAL, by_address ? "net: NULL address" : "net: NULL node id");
    pthread_mutex_lock(&n->mu);
    peer *p = by_address ? find_peer_at(n, to) : net_find_peer(n, to);
    if (!p || !p->conn)
        rc = by_address ? error_set(ST_ENOTFOUND, "net: no authenticated peer at '%s'", to)
                        : error_set(ST_ENOTFOUND, "net: node '%.64s' is not connected", to);
    else
        rc = send_locked(n, p, data, len, prio, msg_class);
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int net_send(net *n, const char *node_id, const void *data, size_t len, net_priority prio,
             uint8_t msg_class)
{
    return send_to_peer(n, node_id, false, data, len, prio, msg_class);
}

int net_send_to(net *n, const char *address, const void *data, size_t len, net_priority prio,
                uint8_t msg_class)
{
    return send_to_peer(n, address, true, data, len, prio, msg_class);
}

int net_poll(net *n, net_event *ev)
{
    if (!n || !ev)
        return error_set(ST_EINVAL, "net: NULL argument to net_poll");
    memset(ev, 0, sizeof(*ev));
    pthread_mutex_lock(&n->mu);
    ev_node *e = n->ev_head;
    if (!e) {
        pthread_mutex_unlock(&n->mu);
        return ST_EDONE;
    }
    n->ev_head = e->next;
    if (!n->ev_head) {
        n->ev_tail = NULL;
        net_drain_fd(n->event_fd);
    }
    n->inbound_bytes -= e->ev.len;
    if (n->paused && n->inbound_bytes < n->cfg.inbound_cap_bytes / 2)
        net_wake_io(n);
    *ev = e->ev;
    pthread_mutex_unlock(&n->mu);
    return ST_OK;
}

int net_event_fd(const net *n)
{
    return n ? n->event_fd : -1;
}

int net_wait(net *n, int timeout_ms)
{
    if (!n)
        return error_set(ST_EINVAL, "net: NULL argument to net_wait");
    struct pollfd pfd = {n->event_fd, POLLIN, 0};
    int r;
    do {
        r = poll(&pfd, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r > 0)
        return ST_OK;
    return error_set(ST_ETIMEOUT, "net: no event within %d ms", timeout_ms);
}

int net_stats_get(net *n, net_stats *out)
{
    if (!n || !out)
        return error_set(ST_EINVAL, "net: NULL argument to net_stats_get");
    pthread_mutex_lock(&n->mu);
    *out = n->stats;
    pthread_mutex_unlock(&n->mu);
    return ST_OK;
}

int net_peer_stats_get(net *n, const char *node_id, net_peer_stats *out)
{
    if (!n || !out || !node_id)
        return error_set(ST_EINVAL, "net: NULL argument to net_peer_stats_get");
    pthread_mutex_lock(&n->mu);
    peer *p = net_find_peer(n, node_id);
    int rc = ST_OK;
    if (!p) {
        rc = error_set(ST_ENOTFOUND, "net: node '%.64s' never connected", node_id);
    } else {
        *out = p->st;
        out->queued_bytes = p->conn ? p->conn->out.len - p->conn->out_off : 0;
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int net_peer_stats_all(net *n, net_peer_stats *out, size_t cap, size_t *count)
{
    if (!n || !count || (cap && !out))
        return error_set(ST_EINVAL, "net: NULL argument to net_peer_stats_all");
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->npeers && i < cap; i++) {
        const peer *p = n->peers[i];
        out[i] = p->st;
        out[i].queued_bytes = p->conn ? p->conn->out.len - p->conn->out_off : 0;
    }
    *count = n->npeers;
    pthread_mutex_unlock(&n->mu);
    return ST_OK;
}

void net_public_key(const net *n, uint8_t out[SESSION_KEY_BYTES])
{
    memcpy(out, n->static_pk, SESSION_KEY_BYTES);
}

int net_set_peer_keys(net *n, const peer_key *keys, size_t count)
{
    if (!n || (count && !keys))
        return error_set(ST_EINVAL, "net: NULL argument to net_set_peer_keys");
    pthread_mutex_lock(&n->mu);
    int rc = peer_keys_set(&n->keys, keys, count);
    for (size_t i = 0; rc == ST_OK && i < n->npeers; i++) {
        peer *p = n->peers[i];
        if (!p->conn || !p->has_key)
            continue;
        const char *why = peer_keys_check(&n->keys, p->st.node_id, p->st.static_pk, NULL);
        if (why) {
            fprintf(stderr, "ddata net: closing the link to '%.64s': %s\n", p->st.node_id, why);
            n->stats.refused_peers++;
            net_close_conn(n, p->conn, ST_ECRYPTO, false);
        }
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

bool net_book_entry_trusted(net *n, const char *announcer, const char *node_id)
{
    pthread_mutex_lock(&n->mu);
    bool trusted = n->keys.count == 0 || strcmp(announcer, node_id) == 0;
    for (size_t i = 0; !trusted && i < n->keys.count; i++)
        trusted = strcmp(n->keys.keys[i].node_id, node_id) == 0;
    pthread_mutex_unlock(&n->mu);
    return trusted;
}
