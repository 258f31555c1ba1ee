/*
 * The transport: sockets, the I/O thread and the peer table around the
 * sans-I/O sessions. See transport.h for the contract.
 *
 * Lifetimes. Connections are only ever freed by the I/O thread, between two
 * epoll_wait calls: closing one (from either thread) takes it out of epoll,
 * closes the fd and moves it to a graveyard, so an event for it already
 * returned by epoll_wait finds a `dead` connection instead of freed memory.
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
#include <netinet/tcp.h>
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

#include "net/address.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/status.h"

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
    net_peer_stats st;
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

static void signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof(one));
    (void)w;
}

static void drain_fd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

static void push_event(net *n, net_event_kind kind, const peer *p, int reason, uint8_t msg_class,
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
        signal_fd(n->event_fd);
}

void net_event_clear(net_event *ev)
{
    if (!ev)
        return;
    free(ev->owner_);
    memset(ev, 0, sizeof(*ev));
}

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

static peer *find_peer(net *n, const char *node_id)
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
    if (n->npeers == n->peers_cap) {
        size_t cap = grow_capacity(n->peers_cap, n->npeers + 1);
        peer **np = realloc_array(n->peers, cap, sizeof(peer *));
        if (!np)
            return NULL;
        n->peers = np;
        n->peers_cap = cap;
    }
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
static void close_conn(net *n, conn *c, int reason, bool silent)
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
            push_event(n, NET_EV_DISCONNECTED, p, reason, 0, NULL, 0);
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
    case SESSION_FAIL_NONE: break;
    }
    close_conn(n, c, reason, false);
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
    session_config sc = {n->cfg.plaintext ? NULL : n->secret,
                         n->cfg.plaintext,
                         n->node_id,
                         n->incarnation,
                         n->advertised,
                         n->cfg.max_message_bytes};
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
        close_conn(n, c, ST_EINVAL, true);
        return;
    }
    n->stats.handshakes++;
    peer *p = find_peer(n, sp->node_id);
    if (!p && !(p = add_peer(n, sp->node_id))) {
        close_conn(n, c, ST_ENOMEM, true);
        return;
    }
    if (c->dial) {
        c->dial->has_node = true;
        memcpy(c->dial->node_id, sp->node_id, sizeof(c->dial->node_id));
        c->dial->backoff_ms = n->cfg.reconnect_min_ms;
    }
    c->peer = p;
    conn *old = p->conn;
    bool restarted = old && sp->incarnation != p->incarnation;
    if (old && !new_link_wins(n, old, c, sp->incarnation, p)) {
        c->peer = NULL;
        close_conn(n, c, ST_ECONFLICT, true);
        return;
    }
    if (old) {
        if (restarted) {
            close_conn(n, old, ST_ECLOSED, false);
        } else {
            old->peer = NULL;
            p->conn = NULL;
            n->stats.peers_connected--;
            close_conn(n, old, ST_ECONFLICT, true);
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
        push_event(n, NET_EV_CONNECTED, p, ST_OK, 0, NULL, 0);
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
        close_conn(n, c, ST_EIO, false);
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
            push_event(n, NET_EV_MESSAGE, p, ST_OK, item.msg_class, item.data, item.len);
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
            close_conn(n, c, r == 0 ? ST_ECLOSED : ST_EIO, false);
            return;
        }
        if (session_input(&c->sess, buf, (size_t)r) != ST_OK) {
            close_conn(n, c, ST_ENOMEM, false);
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
            close_conn(n, c, ST_EIO, false);
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
            close_conn(n, c, ST_ETIMEOUT, false);
        } else if (c->deadline_ms < next) {
            next = c->deadline_ms;
        }
    }
    for (dial *d = n->dials; d; d = d->next) {
        if (d->conn || d->is_self)
            continue;
        if (d->has_node) {
            peer *p = find_peer(n, d->node_id);
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

static void free_graveyard(net *n)
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

static void *io_main(void *arg)
{
    net *n = arg;
    uint8_t *buf = malloc(READ_CHUNK);
    struct epoll_event evs[MAX_EVENTS];
    pthread_mutex_lock(&n->mu);
    while (!n->stop && buf) {
        int timeout = run_timers(n, clock_monotonic_ms());
        free_graveyard(n);
        pthread_mutex_unlock(&n->mu);
        int k = epoll_wait(n->epfd, evs, MAX_EVENTS, timeout);
        pthread_mutex_lock(&n->mu);
        for (int i = 0; i < k && !n->stop; i++) {
            void *ptr = evs[i].data.ptr;
            if (ptr == &n->listen_fd) {
                handle_accept(n);
            } else if (ptr == &n->wake_fd) {
                drain_fd(n->wake_fd);
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
    if (!cfg->plaintext)
        memcpy(n->secret, cfg->secret, SESSION_SECRET_BYTES);
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
    if (pthread_create(&n->thread, NULL, io_main, n) != 0) {
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
        signal_fd(n->wake_fd);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
    }
    while (n->conns) {
        conn *c = n->conns;
        if (c->peer && c->peer->conn == c)
            c->peer->conn = NULL;
        c->dial = NULL;
        close_conn(n, c, ST_ECLOSED, true);
    }
    free_graveyard(n);
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

static void wake_io(net *n)
{
    if (!n->wake_pending) {
        n->wake_pending = true;
        signal_fd(n->wake_fd);
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
    wake_io(n);
    pthread_mutex_unlock(&n->mu);
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
        close_conn(n, c, ST_ELIMIT, false);
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
        wake_io(n);
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

int net_send(net *n, const char *node_id, const void *data, size_t len, net_priority prio,
             uint8_t msg_class)
{
    int rc = check_send_args(n, data, len, prio);
    if (rc != ST_OK)
        return rc;
    if (!node_id)
        return error_set(ST_EINVAL, "net: NULL node id");
    pthread_mutex_lock(&n->mu);
    peer *p = find_peer(n, node_id);
    if (!p || !p->conn)
        rc = error_set(ST_ENOTFOUND, "net: node '%.64s' is not connected", node_id);
    else
        rc = send_locked(n, p, data, len, prio, msg_class);
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int net_send_to(net *n, const char *address, const void *data, size_t len, net_priority prio,
                uint8_t msg_class)
{
    int rc = check_send_args(n, data, len, prio);
    if (rc != ST_OK)
        return rc;
    if (!address)
        return error_set(ST_EINVAL, "net: NULL address");
    pthread_mutex_lock(&n->mu);
    peer *found = NULL;
    for (size_t i = 0; i < n->npeers && !found; i++) {
        peer *p = n->peers[i];
        if (p->conn && (strcmp(p->addr, address) == 0 || strcmp(p->conn->addr, address) == 0))
            found = p;
    }
    if (!found)
        rc = error_set(ST_ENOTFOUND, "net: no authenticated peer at '%s'", address);
    else
        rc = send_locked(n, found, data, len, prio, msg_class);
    pthread_mutex_unlock(&n->mu);
    return rc;
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
        drain_fd(n->event_fd);
    }
    n->inbound_bytes -= e->ev.len;
    if (n->paused && n->inbound_bytes < n->cfg.inbound_cap_bytes / 2)
        wake_io(n);
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
    peer *p = find_peer(n, node_id);
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
