/*
 * The node's identity, its lock and its event fd (node.h).
 *
 * The event fd is an eventfd kept "readable" exactly while events are
 * queued: written when the queue becomes non-empty or grows (after any call
 * that may queue events) and drained when the queue empties, so a
 * level-triggered poll loop wakes once per batch and an edge-triggered one
 * (tokio's AsyncFd) sees every new arrival even while older items wait.
 * Log records count only once the host reads them (dd_system_next_log): a
 * host that never does must not find the fd readable forever.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "node/node.h"
#include "obs/store_latency.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/status.h"

void node_lock(node *n)
{
    pthread_mutex_lock(&n->mu);
}

void node_unlock(node *n)
{
    if (n->net && n->e && engine_outgoing_count(n->e) > 0)
        node_net_wake(n);
    node_log_slow_fsyncs(n);
    size_t queued =
        (n->e ? engine_event_count(n->e) : 0) + (n->logs_wanted ? node_log_count(n) : 0);
    if (queued && n->event_fd >= 0 && (!n->event_fd_signaled || queued > n->event_fd_queued)) {
        uint64_t one = 1;
        if (write(n->event_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
            n->event_fd_signaled = true;
    } else if (!queued && n->event_fd_signaled && n->event_fd >= 0) {
        uint64_t v;
        if (read(n->event_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
            n->event_fd_signaled = false;
    }
    n->event_fd_queued = queued;
    pthread_mutex_unlock(&n->mu);
}

uint64_t node_now(const node *n)
{
    return n->net ? clock_monotonic_ms() : n->now_ms;
}

size_t node_log_count(const node *n)
{
    return log_queue_count(&n->logs) + (n->e ? engine_log_count(n->e) : 0);
}

void node_log_slow_fsyncs(node *n)
{
    uint64_t slow = store_latency_slow_fsyncs();
    if (slow <= n->slow_fsyncs_seen)
        return;
    char count[24], ms[24];
    log_field f[2] = {log_field_u64("count", slow - n->slow_fsyncs_seen, count),
                      log_field_u64("threshold_ms", STORE_SLOW_FSYNC_NS / 1000000u, ms)};
    log_queue_push(&n->logs, LOG_WARN, "store.slow_fsync", node_now(n), f, 2);
    n->slow_fsyncs_seen = slow;
}

uint64_t node_wall_ms(void *ctx)
{
    const node *n = ctx;
    return n->wall_clock ? n->wall_clock(n->wall_clock_ctx) : clock_wall_ms();
}

void node_free(node *n)
{
    if (!n)
        return;
    node_net_stop(n);
    engine_free(n->e); /* normally already gone with the replica */
    if (n->event_fd >= 0)
        close(n->event_fd);
    for (size_t i = 0; i < n->seed_count; i++)
        free(n->seeds[i]);
    free(n->seeds);
    free(n->node_id);
    log_queue_free(&n->logs);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

int node_open(node **out, const node_config *cfg)
{
    *out = NULL;
    node *n = calloc(1, sizeof(*n));
    if (!n)
        return error_oom();
    pthread_mutex_init(&n->mu, NULL);
    n->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    n->node_id = strdup(cfg->node_id);
    n->slow_fsyncs_seen = store_latency_slow_fsyncs(); /* only this node's lifetime's */
    n->seeds = calloc(cfg->seed_count ? cfg->seed_count : 1, sizeof(char *));
    if (n->event_fd < 0 || !n->node_id || !n->seeds) {
        int rc = n->event_fd < 0 ? error_set(ST_EIO, "cannot create the event fd") : error_oom();
        node_free(n);
        return rc;
    }
    for (size_t i = 0; i < cfg->seed_count; i++) {
        n->seeds[i] = strdup(cfg->seeds[i]);
        if (!n->seeds[i]) {
            node_free(n);
            return error_oom();
        }
        n->seed_count++;
    }
    n->incarnation = cfg->incarnation;
    n->seed = cfg->seed;
    n->failure_timeout_ms = cfg->failure_timeout_ms;
    n->down_after_ms = cfg->down_after_ms;
    n->remove_after_ms = cfg->remove_after_ms;
    n->max_events = cfg->max_events;
    n->lim = cfg->lim;
    *out = n;
    return ST_OK;
}
