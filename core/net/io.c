/*
 * The I/O thread: epoll over the listener, the connections and a wake-up
 * eventfd; accepting, dialling with backoff, handshake deadlines, reading
 * into sessions, writing queued frames, and the peer table that decides
 * which link to a node is the current one.
 *
 * Lifetimes. Connections are only ever freed by this thread, between two
 * epoll_wait calls: closing one (from either thread) takes it out of epoll,
 * closes the fd and moves it to a graveyard, so an event for it already
 * returned by epoll_wait finds a `dead` connection instead of freed memory.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/status.h"

/* ---- epoll bookkeeping ---- */

static void update_epoll(net *n, conn *c)
{
    bool open = c->sess.state == SESSION_OPEN;
    bool read = !c->connecting && !(open && n->paused);
    struct epoll_event ev = {0};
    ev.events = (read ? EPOLLIN : 0) | (c->want_out || c->connecting ? EPOLLOUT : 0);
    ev.data.ptr = c;
    c->reading = read;
    epoll_ctl(n->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

peer *net_find_peer(net *n, const char *node_id)
{
    for (size_t i = 0; i < n->npeers; i++)
        if (strcmp(n->peers[i]->st.node_id, node_id) == 0)
            return n->peers[i];
    return NULL;
}

/* Peers are never forgotten (their statistics outlive a link), and each is
 * its own allocation so connections can point at one across growth. */
static peer *add_peer(net *n, const char *node_id)
{
    if (!array_reserve(&n->peers, &n->peers_cap, n->npeers + 1, sizeof(*n->peers)))
        return NULL;
    peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    snprintf(p->st.node_id, sizeof(p->st.node_id), "%s", node_id);
    n->peers[n->npeers++] = p;
    return p;
}

static void schedule_redial(net *n, dial *d, uint64_t now)
{
    uint32_t jitter = d->backoff_ms ? randombytes_uniform(d->backoff_ms / 2 + 1) : 0;
    d->next_ms = now + d->backoff_ms + jitter;
    uint64_t next = (uint64_t)d->backoff_ms * 2;
    d->backoff_ms = (uint32_t)(next > n->cfg.reconnect_max_ms ? n->cfg.reconnect_max_ms : next);
}

/* Closes `c`. `reason` is an ST_* code; `silent` skips the DISCONNECTED
 * event (a duplicate link being retired while another stays). */
void net_close_conn(net *n, conn *c, int reason, bool silent)
{
    if (c->dead)
        return;
    c->dead = true;
    epoll_ctl(n->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    for (conn **pp = &n->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    c->next = n->graveyard;
    n->graveyard = c;
    if (!c->opened) {
        if (c->accepted)
            n->pending--;
        if (!c->connecting)
            n->stats.rejected_connections++;
    }
    peer *p = c->peer;
    if (p && p->conn == c) {
        p->conn = NULL;
        p->st.connected = false;
        n->stats.peers_connected--;
        if (!silent)
            net_push_event(n, NET_EV_DISCONNECTED, p, reason, 0, NULL, 0);
    }
    if (c->dial) {
        c->dial->conn = NULL;
        schedule_redial(n, c->dial, clock_monotonic_ms());
    }
}

/* `reason` is the session's status: ST_ECRYPTO, ST_ECORRUPT or ST_ELIMIT. */
static void close_for_failure(net *n, conn *c, int reason)
{
    switch (c->sess.failure) {
    case SESSION_FAIL_HANDSHAKE: n->stats.handshake_failures++; break;
    case SESSION_FAIL_MALFORMED: n->stats.malformed_frames++; break;
    case SESSION_FAIL_AUTH: n->stats.auth_failures++; break;
    case SESSION_FAIL_REFUSED: n->stats.refused_peers++; break;
    case SESSION_FAIL_NONE: break;
    }
    /* Refusals an operator must act on (an old peer, a key not admitted)
     * get one line each; random bytes from strangers do not. */
    if (reason == ST_EUNSUPPORTED || c->sess.failure == SESSION_FAIL_REFUSED)
        fprintf(stderr, "ddata net: %s %s: %s\n", c->initiator ? "link to" : "connection from",
                c->addr, error_message());
    net_close_conn(n, c, reason, false);
}

/* The session's admission hook: runs on the I/O thread, under net.mu. */
static const char *admit_peer(void *ctx, const session_peer *sp)
{
    net *n = ctx;
    peer *p = net_find_peer(n, sp->node_id);
    const uint8_t *pinned = n->cfg.pin_node_keys && p && p->has_key ? p->st.static_pk : NULL;
    return peer_keys_check(&n->keys, sp->node_id, sp->static_pk, pinned);
}

static conn *new_conn(net *n, int fd, bool initiator, const char *addr, uint64_t now)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fd;
    c->initiator = initiator;
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    c->deadline_ms = now + n->cfg.handshake_timeout_ms;
    session_config sc = {
        .secret = n->cfg.plaintext ? NULL : n->secret,
        .plaintext = n->cfg.plaintext,
        .node_id = n->node_id,
        .incarnation = n->incarnation,
        .advertised_addr = n->advertised,
        .max_message_bytes = n->cfg.max_message_bytes,
        .static_sk = n->static_sk,
        .static_pk = n->static_pk,
        .next_secret = n->has_next_secret ? n->next_secret : NULL,
        .admit = n->cfg.plaintext ? NULL : admit_peer,
        .admit_ctx = n,
    };
    if (session_init(&c->sess, &sc, initiator, &c->out) != ST_OK) {
        bytes_free(&c->out);
        free(c);
        return NULL;
    }
    c->want_out = true;
    int one = 1, idle_s = 10, interval_s = 5, probes = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A peer that vanished without a FIN (power loss, partition) is found
     * by TCP keepalive within idle + interval * probes = 25 s. */
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
    struct epoll_event ev = {0};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c;
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        session_free(&c->sess);
        bytes_free(&c->out);
        free(c);
        return NULL;
    }
    c->reading = true;
    c->next = n->conns;
    n->conns = c;
    return c;
}

/* ---- the handshake's outcome ---- */

static bool new_link_wins(net *n, const conn *old, const conn *c, uint64_t incarnation,
                          const peer *p)
{
    if (incarnation != p->incarnation)
        return true;
    const char *peer_id = p->st.node_id;
    const char *init_old = old->initiator ? n->node_id : peer_id;
    const char *init_new = c->initiator ? n->node_id : peer_id;
    int cmp = strcmp(init_new, init_old);
    if (cmp != 0)
        return cmp < 0;
    return true;
}

static void on_opened(net *n, conn *c)
{
    const session_peer *sp = &c->sess.peer;
    c->opened = true;
    if (c->accepted)
        n->pending--;
    if (strcmp(sp->node_id, n->node_id) == 0) {
        if (c->dial)
            c->dial->is_self = true;
        net_close_conn(n, c, ST_EINVAL, true);
        return;
    }
    n->stats.handshakes++;
    peer *p = net_find_peer(n, sp->node_id);
    if (!p && !(p = add_peer(n, sp->node_id))) {
        net_close_conn(n, c, ST_ENOMEM, true);
        return;
    }
    if (c->dial) {
        c->dial->has_node = true;
        memcpy(c->dial->node_id, sp->node_id, sizeof(c->dial->node_id));
        c->dial->backoff_ms = n->cfg.reconnect_min_ms;
    }
    c->peer = p;
    if (!n->cfg.plaintext) {
        memcpy(p->st.static_pk, sp->static_pk, SESSION_KEY_BYTES);
        p->has_key = true;
    }
    conn *old = p->conn;
    bool restarted = old && sp->incarnation != p->incarnation;
    if (old && !new_link_wins(n, old, c, sp->incarnation, p)) {
        c->peer = NULL;
        net_close_conn(n, c, ST_ECONFLICT, true);
        return;
    }
    if (old) {
        if (restarted) {
            net_close_conn(n, old, ST_ECLOSED, false);
        } else {
            old->peer = NULL;
            p->conn = NULL;
            n->stats.peers_connected--;
            net_close_conn(n, old, ST_ECONFLICT, true);
        }
    }
    bool announce = !p->conn && (!old || restarted);
    p->conn = c;
    p->incarnation = sp->incarnation;
    p->st.connected = true;
    p->st.connects++;
    n->stats.peers_connected++;
    snprintf(p->addr, sizeof(p->addr), "%s", sp->addr[0] ? sp->addr : c->addr);
    if (announce)
        net_push_event(n, NET_EV_CONNECTED, p, ST_OK, 0, NULL, 0);
    if (n->paused)
        update_epoll(n, c);
}

/* ---- reading and writing ---- */

static void flush_conn(net *n, conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) {
                c->want_out = true;
                update_epoll(n, c);
            }
            return;
        }
        net_close_conn(n, c, ST_EIO, false);
        return;
    }
    c->out.len = 0;
    c->out_off = 0;
    if (c->out.cap > OUT_KEEP_BYTES)
        bytes_free(&c->out); /* a burst's buffer is not kept per idle peer */
    if (c->want_out) {
        c->want_out = false;
        update_epoll(n, c);
    }
}

static void set_paused(net *n, bool paused)
{
    if (n->paused == paused)
        return;
    n->paused = paused;
    for (conn *c = n->conns; c; c = c->next)
        if (c->sess.state == SESSION_OPEN)
            update_epoll(n, c);
}

/* Runs the session over what it has buffered; false when `c` closed. */
static bool drain_session(net *n, conn *c)
{
    for (;;) {
        session_item item;
        size_t before = c->out.len;
        int rc = session_next(&c->sess, &c->out, &item);
        if (c->out.len != before)
            flush_conn(n, c);
        if (c->dead)
            return false;
        if (rc == ST_EDONE)
            return true;
        if (rc != ST_OK) {
            close_for_failure(n, c, rc);
            return false;
        }
        if (item.kind == SESSION_ITEM_OPENED) {
            on_opened(n, c);
            if (c->dead)
                return false;
            continue;
        }
        peer *p = c->peer;
        p->st.frames_in++;
        p->st.bytes_in += item.frame_bytes;
        p->st.class_frames_in[item.msg_class]++;
        p->st.class_bytes_in[item.msg_class] += item.frame_bytes;
        n->stats.frames_in++;
        n->stats.bytes_in += item.frame_bytes;
        if (p->conn == c)
            net_push_event(n, NET_EV_MESSAGE, p, ST_OK, item.msg_class, item.data, item.len);
    }
}

static void handle_read(net *n, conn *c, uint8_t *buf)
{
    for (int i = 0; i < READS_PER_EVENT && !c->dead && c->reading; i++) {
        ssize_t r = recv(c->fd, buf, READ_CHUNK, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            if (c->initiator && c->sess.state == SESSION_AUTH) {
                /* We proved the PSK in message 3 and the responder hung up
                 * instead of sending its AUTH: it refused us. */
                n->stats.handshake_failures++;
                fprintf(stderr,
                        "ddata net: link to %s: peer closed after our handshake (wrong cluster "
                        "secret, or our key is not admitted there)\n",
                        c->addr);
            }
            net_close_conn(n, c, r == 0 ? ST_ECLOSED : ST_EIO, false);
            return;
        }
        if (session_input(&c->sess, buf, (size_t)r) != ST_OK) {
            net_close_conn(n, c, ST_ENOMEM, false);
            return;
        }
        if (!drain_session(n, c))
            return;
        if (n->inbound_bytes >= n->cfg.inbound_cap_bytes)
            set_paused(n, true);
        if ((size_t)r < READ_CHUNK)
            return;
    }
}

static void handle_writable(net *n, conn *c)
{
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            net_close_conn(n, c, ST_EIO, false);
            return;
        }
        c->connecting = false;
        update_epoll(n, c);
    }
    flush_conn(n, c);
}

static void handle_accept(net *n)
{
    uint64_t now = clock_monotonic_ms();
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(n->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* Out of descriptors: the listener would stay readable and spin
             * the thread; stop watching it for a moment instead. */
            epoll_ctl(n->epfd, EPOLL_CTL_DEL, n->listen_fd, NULL);
            n->listen_resume_ms = now + 100;
            return;
        }
        if (fd < 0)
            return;
        n->stats.accepted++;
        if (n->pending >= n->cfg.max_pending) {
            n->stats.pending_rejected++;
            n->stats.rejected_connections++;
            close(fd);
            continue;
        }
        char addr[NET_ADDR_TEXT_MAX];
        net_address_format((struct sockaddr *)&ss, addr, sizeof(addr));
        conn *c = new_conn(n, fd, false, addr, now);
        if (!c) {
            close(fd);
            continue;
        }
        c->accepted = true;
        n->pending++;
        flush_conn(n, c);
    }
}

static void start_dial(net *n, dial *d, uint64_t now)
{
    int fd = socket(d->target.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        schedule_redial(n, d, now);
        return;
    }
    int rc = connect(fd, (struct sockaddr *)&d->target.sa, d->target.len);
    if (rc != 0 && errno != EINPROGRESS) {
        close(fd);
        schedule_redial(n, d, now);
        return;
    }
    conn *c = new_conn(n, fd, true, d->addr, now);
    if (!c) {
        close(fd);
        schedule_redial(n, d, now);
        return;
    }
    n->stats.dialled++;
    c->connecting = rc != 0;
    c->dial = d;
    d->conn = c;
    if (!c->connecting)
        flush_conn(n, c);
}

/* Handshake deadlines and due dials; returns ms until the next timer. */
static int run_timers(net *n, uint64_t now)
{
    uint64_t next = now + 1000;
    if (n->listen_resume_ms && now >= n->listen_resume_ms) {
        struct epoll_event ev = {0};
        ev.events = EPOLLIN;
        ev.data.ptr = &n->listen_fd;
        epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->listen_fd, &ev);
        n->listen_resume_ms = 0;
    } else if (n->listen_resume_ms) {
        next = n->listen_resume_ms;
    }
    for (conn *c = n->conns, *nx; c; c = nx) {
        nx = c->next;
        if (c->opened)
            continue;
        if (now >= c->deadline_ms) {
            n->stats.handshake_timeouts++;
            net_close_conn(n, c, ST_ETIMEOUT, false);
        } else if (c->deadline_ms < next) {
            next = c->deadline_ms;
        }
    }
    for (dial *d = n->dials; d; d = d->next) {
        if (d->conn || d->is_self)
            continue;
        if (d->has_node) {
            peer *p = net_find_peer(n, d->node_id);
            if (p && p->conn)
                continue;
        }
        if (now >= d->next_ms)
            start_dial(n, d, now);
        if (!d->conn && d->next_ms < next)
            next = d->next_ms;
    }
    return next > now ? (int)(next - now) : 0;
}

void net_free_graveyard(net *n)
{
    while (n->graveyard) {
        conn *c = n->graveyard;
        n->graveyard = c->next;
        session_free(&c->sess);
        bytes_free(&c->out);
        free(c);
    }
}

/* On shutdown: give queued frames up to close_linger_ms to leave. */
static void linger_flush(net *n)
{
    uint64_t deadline = clock_monotonic_ms() + n->cfg.close_linger_ms;
    for (;;) {
        struct pollfd fds[MAX_EVENTS];
        nfds_t nfds = 0;
        for (conn *c = n->conns; c && nfds < MAX_EVENTS; c = c->next) {
            if (c->dead || c->connecting || c->out_off >= c->out.len)
                continue;
            flush_conn(n, c);
            if (!c->dead && c->out_off < c->out.len)
                fds[nfds++] = (struct pollfd){c->fd, POLLOUT, 0};
        }
        uint64_t now = clock_monotonic_ms();
        if (!nfds || now >= deadline)
            return;
        pthread_mutex_unlock(&n->mu);
        poll(fds, nfds, (int)(deadline - now));
        pthread_mutex_lock(&n->mu);
    }
}

void *net_io_main(void *arg)
{
    net *n = arg;
    uint8_t *buf = malloc(READ_CHUNK);
    struct epoll_event evs[MAX_EVENTS];
    pthread_mutex_lock(&n->mu);
    while (!n->stop && buf) {
        int timeout = run_timers(n, clock_monotonic_ms());
        net_free_graveyard(n);
        pthread_mutex_unlock(&n->mu);
        int k = epoll_wait(n->epfd, evs, MAX_EVENTS, timeout);
        pthread_mutex_lock(&n->mu);
        for (int i = 0; i < k && !n->stop; i++) {
            void *ptr = evs[i].data.ptr;
            if (ptr == &n->listen_fd) {
                handle_accept(n);
            } else if (ptr == &n->wake_fd) {
                net_drain_fd(n->wake_fd);
                n->wake_pending = false;
                if (n->paused && n->inbound_bytes < n->cfg.inbound_cap_bytes / 2)
                    set_paused(n, false);
                for (conn *c = n->conns, *nx; c; c = nx) {
                    nx = c->next;
                    if (!c->connecting && !c->want_out && c->out_off < c->out.len)
                        flush_conn(n, c);
                }
            } else {
                conn *c = ptr;
                if (c->dead)
                    continue;
                if (evs[i].events & EPOLLOUT)
                    handle_writable(n, c);
                if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                    handle_read(n, c, buf);
            }
        }
    }
    linger_flush(n);
    pthread_mutex_unlock(&n->mu);
    free(buf);
    return NULL;
}
