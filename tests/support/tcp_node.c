/*
 * Loopback TCP systems and bounded waits for multi-node ABI tests (see
 * tcp_node.h).
 */
#include "tcp_node.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int tcp_system_open(dd_system **sys, char addr[TCP_NODE_ADDR_BYTES], const tcp_node_options *o)
{
    *sys = NULL;
    dd_system_options so;
    int rc = dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION);
    if (rc)
        return rc;
    so.node_id = o->node_id;
    so.transport = DD_TRANSPORT_TCP;
    so.listen_address = "127.0.0.1:0";
    so.secret = o->secret;
    if (o->failure_timeout_ms)
        so.failure_timeout_ms = o->failure_timeout_ms;
    if (o->down_after_ms)
        so.down_after_ms = o->down_after_ms;
    const char *seeds[1] = {o->seed};
    so.seeds = seeds;
    so.seed_count = o->seed ? 1 : 0;
    if ((rc = dd_system_open(sys, &so)))
        return rc;
    dd_buf a = DD_BUF_INIT;
    rc = dd_system_listen_address(&a, *sys);
    if (!rc && (a.len == 0 || a.len >= TCP_NODE_ADDR_BYTES))
        rc = DD_EINVAL;
    if (!rc) {
        memcpy(addr, a.data, a.len);
        addr[a.len] = 0;
    }
    dd_buf_free(&a);
    if (rc) {
        (void)dd_system_close(*sys);
        *sys = NULL;
    }
    return rc;
}

void tcp_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool tcp_wait_until(bool (*holds)(void *arg), void *arg, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (holds(arg))
            return true;
        tcp_sleep_ms(10);
    }
    return false;
}

char *tcp_stats_text(dd_system *sys)
{
    dd_buf js = DD_BUF_INIT;
    if (dd_system_stats_json(&js, sys) != DD_OK)
        return NULL;
    char *text = malloc(js.len + 1);
    if (text) {
        memcpy(text, js.data, js.len);
        text[js.len] = 0;
    }
    dd_buf_free(&js);
    return text;
}

int tcp_replica_open(dd_replica **rep, dd_system *sys, uint64_t tombstone_grace_ms)
{
    dd_replica_options ro;
    int rc = dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION);
    if (rc)
        return rc;
    ro.gossip_interval_ms = 100;
    ro.notify_interval_ms = 50;
    if (tombstone_grace_ms)
        ro.tombstone_grace_ms = tombstone_grace_ms;
    return dd_replica_open(rep, sys, &ro);
}

int tcp_counter_add(dd_replica *rep, const char *key, uint64_t amount)
{
    dd_op op = DD_OP_INIT;
    op.kind = DD_OP_INCREMENT;
    op.amount = amount;
    return dd_replica_update(rep, (const uint8_t *)key, strlen(key), DD_GCOUNTER, &op);
}

int tcp_counter_read(int64_t *out, dd_replica *rep, const char *key)
{
    dd_crdt *v = NULL;
    *out = -1;
    if (dd_replica_get(&v, rep, (const uint8_t *)key, strlen(key)) != DD_OK)
        return DD_OK;
    int rc = dd_crdt_counter_value(out, v);
    dd_crdt_free(v);
    return rc;
}

int tcp_pump_system_open(dd_system **sys, const char *node_id)
{
    dd_system_options so;
    int rc = dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION);
    if (rc != DD_OK)
        return rc;
    so.node_id = node_id;
    return dd_system_open(sys, &so);
}
