/*
 * The --metrics listener (metrics_http.h). A request is read up to its
 * blank line (at most 8 KiB, 2 s); only the request line is looked at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "metrics_http.h"

struct metrics_http {
    int listen_fd;
    int stop_pipe[2];
    pthread_t thread;
    dd_system *sys;
    char address[64];
};

static int parse_address(const char *text, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof(host) || !colon[1])
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535)
        return -1;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void respond(int fd, const char *status, const char *type, const void *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: "
                     "close\r\n\r\n",
                     status, type, len);
    write_all(fd, head, (size_t)n);
    write_all(fd, body, len);
}

static void serve(metrics_http *m, int fd)
{
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char req[8192];
    size_t used = 0;
    while (used < sizeof(req) - 1) {
        ssize_t n = read(fd, req + used, sizeof(req) - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        req[used] = 0;
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[used] = 0;
    const char *text_type = "text/plain; charset=utf-8";
    if (strncmp(req, "GET ", 4) != 0) {
        respond(fd, "405 Method Not Allowed", text_type, "only GET\n", 9);
        return;
    }
    const char *path = req + 4;
    size_t plen = strcspn(path, " ?\r\n");
    if (!((plen == 8 && memcmp(path, "/metrics", 8) == 0) || (plen == 1 && path[0] == '/'))) {
        respond(fd, "404 Not Found", text_type, "try /metrics\n", 13);
        return;
    }
    dd_buf b = DD_BUF_INIT;
    if (dd_system_metrics_text(&b, m->sys) != DD_OK) {
        const char *msg = dd_error_last()->message;
        respond(fd, "500 Internal Server Error", text_type, msg, strlen(msg));
        return;
    }
    respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    dd_buf_free(&b);
}

static void *run(void *arg)
{
    metrics_http *m = arg;
    for (;;) {
        struct pollfd fds[2] = {{m->listen_fd, POLLIN, 0}, {m->stop_pipe[0], POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents)
            break;
        if (!(fds[0].revents & POLLIN))
            continue;
        int fd = accept(m->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(m, fd);
        close(fd);
    }
    return NULL;
}

int metrics_http_start(metrics_http **out, const char *address, dd_system *sys)
{
    *out = NULL;
    struct sockaddr_in sa;
    if (parse_address(address, &sa) != 0) {
        fprintf(stderr, "ddata node: --metrics '%s' is not IPv4 ip:port\n", address);
        return -1;
    }
    metrics_http *m = calloc(1, sizeof(*m));
    if (!m)
        return -1;
    m->sys = sys;
    m->stop_pipe[0] = m->stop_pipe[1] = -1;
    m->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t sl = sizeof(sa);
    if (m->listen_fd < 0 ||
        setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(m->listen_fd, 16) != 0 ||
        getsockname(m->listen_fd, (struct sockaddr *)&sa, &sl) != 0 || pipe(m->stop_pipe) != 0) {
        fprintf(stderr, "ddata node: cannot serve metrics on %s: %s\n", address, strerror(errno));
        goto fail;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
    snprintf(m->address, sizeof(m->address), "%s:%u", ip, (unsigned)ntohs(sa.sin_port));
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        fprintf(stderr, "ddata node: cannot start the metrics thread\n");
        goto fail;
    }
    *out = m;
    return 0;
fail:
    if (m->listen_fd >= 0)
        close(m->listen_fd);
    if (m->stop_pipe[0] >= 0) {
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
    }
    free(m);
    return -1;
}

const char *metrics_http_address(const metrics_http *m)
{
    return m->address;
}

void metrics_http_stop(metrics_http *m)
{
    if (!m)
        return;
    write_all(m->stop_pipe[1], "x", 1);
    pthread_join(m->thread, NULL);
    close(m->listen_fd);
    close(m->stop_pipe[0]);
    close(m->stop_pipe[1]);
    free(m);
}
