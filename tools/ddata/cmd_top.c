/*
 * `ddata top ADDRESS`: a live view of one node, read from its Prometheus
 * endpoint (`ddata node --metrics ADDRESS`) once a second: members with
 * their state, heartbeat age and convergence lag, traffic per second, and
 * the store latencies.
 *
 * The metrics endpoint rather than the control protocol: it is what an
 * operator already exposes, it needs no access to the node's stdin, and
 * what `top` shows is then exactly what Prometheus records. Rates are
 * differences between two scrapes over the time between them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli_options.h"
#include "commands.h"

#define MAX_SAMPLES 4096
#define MAX_TEXT (4u << 20)

typedef struct sample {
    char name[96];
    char labels[256]; /* the text between the braces, as served */
    double value;
} sample;

typedef struct scrape {
    sample *s;
    size_t n;
    double at; /* monotonic seconds */
} scrape;

static volatile sig_atomic_t top_stop;

static void on_top_signal(int sig)
{
    (void)sig;
    top_stop = 1;
}

enum { OPT_INTERVAL_MS, OPT_ONCE };

static const cli_option top_options[] = {
    [OPT_INTERVAL_MS] = {"interval-ms", "N", "refresh interval (default 1000)"},
    [OPT_ONCE] = {"once", NULL, "print one screen (no rates) and exit"},
};

static const cli_spec top_spec = {
    "top",
    "usage: ddata top ADDRESS [--interval-ms N] [--once]\n"
    "\n"
    "A live view of one node from its metrics endpoint (`ddata node --metrics\n"
    "ADDRESS`): members with state, heartbeat age and convergence lag, traffic\n"
    "per second, store latencies. Refreshes every second; Ctrl-C quits.\n"
    "\n"
    "options:\n",
    17,
    top_options,
    CLI_COUNT(top_options),
    NULL,
};

void cmd_top_help(void)
{
    cli_help(&top_spec);
}

typedef struct top_args {
    const char *address;
    long interval_ms;
    int once;
} top_args;

static int on_option(void *ctx, int index, const char *v)
{
    top_args *a = ctx;
    if (index == -1 && !a->address)
        a->address = v;
    else if (index == OPT_INTERVAL_MS)
        a->interval_ms = strtol(v, NULL, 10);
    else if (index == OPT_ONCE)
        a->once = 1;
    else
        return cli_usage_error(&top_spec, "unknown option", v);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GET /metrics from "ip:port" into a malloc'd NUL-terminated body. */
static char *http_get_metrics(const char *address)
{
    char host[64];
    const char *colon = strrchr(address, ':');
    if (!colon || (size_t)(colon - address) >= sizeof(host))
        return NULL;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char *buf = NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto done;
    const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
    if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
        goto done;
    size_t cap = 65536, used = 0;
    buf = malloc(cap);
    while (buf) {
        if (used + 1 >= cap) {
            if (cap >= MAX_TEXT) {
                free(buf);
                buf = NULL;
                goto done;
            }
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                goto done;
            }
            buf = more;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + used, cap - 1 - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        used += (size_t)r;
    }
    if (buf) {
        buf[used] = 0;
        char *body = strstr(buf, "\r\n\r\n");
        if (strncmp(buf, "HTTP/1.0 200", 12) != 0 || !body) {
            free(buf);
            buf = NULL;
        } else {
            memmove(buf, body + 4, strlen(body + 4) + 1);
        }
    }
done:
    close(fd);
    return buf;
}

static void parse(scrape *out, char *text)
{
    out->n = 0;
    for (char *line = strtok(text, "\n"); line && out->n < MAX_SAMPLES; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !line[0])
            continue;
        sample *s = &out->s[out->n];
        char *brace = strchr(line, '{');
        char *space = strrchr(line, ' ');
        if (!space)
            continue;
        s->labels[0] = 0;
        size_t name_len = (size_t)((brace && brace < space ? brace : space) - line);
        if (name_len >= sizeof(s->name))
            continue;
        memcpy(s->name, line, name_len);
        s->name[name_len] = 0;
        if (brace && brace < space) {
            char *close = strrchr(line, '}');
            size_t ll = close && close > brace ? (size_t)(close - brace - 1) : 0;
            if (ll >= sizeof(s->labels))
                ll = sizeof(s->labels) - 1;
            memcpy(s->labels, brace + 1, ll);
            s->labels[ll] = 0;
        }
        s->value = strtod(space + 1, NULL);
        out->n++;
    }
}

/* The value of label `key` in a sample's label text ("" when absent). */
static void label(const sample *s, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "%s=\"", key);
    out[0] = 0;
    const char *at = s->labels;
    while ((at = strstr(at, pat)) != NULL) {
        if (at == s->labels || at[-1] == ',')
            break;
        at++;
    }
    if (!at)
        return;
    at += strlen(pat);
    size_t i = 0;
    while (*at && *at != '"' && i + 1 < cap) {
        if (*at == '\\' && at[1])
            at++;
        out[i++] = *at++;
    }
    out[i] = 0;
}

static double sum_of(const scrape *sc, const char *name)
{
    double v = 0;
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->s[i].name, name) == 0)
            v += sc->s[i].value;
    return v;
}

static double value_with(const scrape *sc, const char *name, const char *key, const char *want,
                         int *found)
{
    char v[256];
    for (size_t i = 0; i < sc->n; i++) {
        if (strcmp(sc->s[i].name, name) != 0)
            continue;
        label(&sc->s[i], key, v, sizeof(v));
        if (strcmp(v, want) == 0) {
            if (found)
                *found = 1;
            return sc->s[i].value;
        }
    }
    if (found)
        *found = 0;
    return 0;
}

static double rate(const scrape *cur, const scrape *prev, const char *name)
{
    if (!prev || prev->n == 0 || cur->at <= prev->at)
        return -1;
    return (sum_of(cur, name) - sum_of(prev, name)) / (cur->at - prev->at);
}

static void put_rate(const char *what, double r, const char *unit)
{
    if (r < 0)
        printf("  %-22s %12s\n", what, "-");
    else
        printf("  %-22s %12.1f %s/s\n", what, r, unit);
}

static void render(const char *address, const scrape *cur, const scrape *prev, int clear)
{
    if (clear)
        printf("\033[H\033[2J");
    time_t t = time(NULL);
    char when[32];
    strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
    printf("ddata top %s   %s\n\n", address, when);
    printf("MEMBER                           STATE        HEARTBEAT AGE  CONVERGENCE LAG\n");
    int members = 0;
    for (size_t i = 0; i < cur->n; i++) {
        const sample *s = &cur->s[i];
        if (strcmp(s->name, "ddata_member_state") != 0 || s->value != 1)
            continue;
        char id[256], state[32];
        label(s, "member", id, sizeof(id));
        label(s, "state", state, sizeof(state));
        int has_hb, has_lag;
        double hb = value_with(cur, "ddata_member_heartbeat_age_seconds", "member", id, &has_hb);
        double lag =
            value_with(cur, "ddata_member_convergence_lag_seconds", "member", id, &has_lag);
        char hb_text[32], lag_text[32];
        snprintf(hb_text, sizeof(hb_text), has_hb ? "%.1f s" : "-", hb);
        snprintf(lag_text, sizeof(lag_text), has_lag ? "%.1f s" : "-", lag);
        printf("%-32.32s %-12s %13s  %15s\n", id, state,
               members == 0 && !has_hb ? "(self)" : hb_text,
               members == 0 && !has_lag ? "-" : lag_text);
        members++;
    }
    printf("(%d members)\n\ntraffic\n", members);
    put_rate("messages sent", rate(cur, prev, "ddata_messages_sent_total"), "msg");
    put_rate("messages received", rate(cur, prev, "ddata_messages_received_total"), "msg");
    put_rate("bytes sent", rate(cur, prev, "ddata_transport_sent_bytes_total"), "B");
    put_rate("bytes received", rate(cur, prev, "ddata_transport_received_bytes_total"), "B");
    put_rate("deltas sent", rate(cur, prev, "ddata_deltas_sent_total"), "msg");
    put_rate("full states sent", rate(cur, prev, "ddata_full_states_sent_total"), "msg");
    printf("  %-22s %12.0f\n  %-22s %12.0f\n  %-22s %12.0f\n", "keys", sum_of(cur, "ddata_keys"),
           "tombstones", sum_of(cur, "ddata_tombstones"), "pending requests",
           sum_of(cur, "ddata_consistency_requests_pending"));
    printf("\nstore        operations    mean latency\n");
    static const char *const ops[] = {"append", "replay", "upsert", "fsync"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        double count =
            value_with(cur, "ddata_store_operation_duration_seconds_count", "op", ops[i], NULL);
        double sum =
            value_with(cur, "ddata_store_operation_duration_seconds_sum", "op", ops[i], NULL);
        if (count > 0)
            printf("  %-10s %12.0f %12.3f ms\n", ops[i], count, sum / count * 1000.0);
        else
            printf("  %-10s %12.0f %15s\n", ops[i], count, "-");
    }
    fflush(stdout);
}

int cmd_top(int argc, char **argv)
{
    top_args args = {NULL, 1000, 0};
    int parsed = cli_parse(&top_spec, argc, argv, on_option, &args);
    if (parsed)
        return parsed;
    const char *address = args.address;
    long interval_ms = args.interval_ms;
    int once = args.once;
    if (!address || interval_ms <= 0) {
        fprintf(stderr, "ddata top: give the node's metrics ADDRESS (ip:port); see `ddata top "
                        "--help`\n");
        return 2;
    }
    scrape a = {calloc(MAX_SAMPLES, sizeof(sample)), 0, 0};
    scrape b = {calloc(MAX_SAMPLES, sizeof(sample)), 0, 0};
    int status = 1;
    if (!a.s || !b.s)
        goto done;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_top_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    scrape *cur = &a, *prev = NULL;
    while (!top_stop) {
        char *text = http_get_metrics(address);
        if (!text) {
            fprintf(stderr, "ddata top: cannot read http://%s/metrics\n", address);
            if (once)
                goto done;
        } else {
            cur->at = now_s();
            parse(cur, text);
            free(text);
            render(address, cur, prev, !once);
            prev = cur;
            cur = cur == &a ? &b : &a;
        }
        if (once)
            break;
        struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    status = 0;
done:
    free(a.s);
    free(b.s);
    return status;
}
