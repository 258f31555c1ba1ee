/*
 * ABI tests that run several TCP nodes in one process (test_system_net.c,
 * test_owned_net.c) open each dd_system the same way: loopback, an
 * ephemeral port, a shared secret, at most one seed. They also wait the
 * same way: poll a condition until it holds or a deadline passes, so a
 * regression fails instead of hanging.
 *
 * Public header only; results are status codes, so callers ASSERT_OK.
 */
#ifndef DD_TEST_TCP_NODE_H
#define DD_TEST_TCP_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ddata.h"

#define TCP_NODE_ADDR_BYTES 64

typedef struct tcp_node_options {
    const char *node_id;
    const uint8_t *secret;       /* DD_SECRET_BYTES */
    const char *seed;            /* an address, or NULL for the first node */
    uint32_t failure_timeout_ms; /* 0: the library's default */
    uint32_t down_after_ms;      /* 0: the library's default */
} tcp_node_options;

/* Opens a system listening on 127.0.0.1:0 and writes the address it bound
 * to `addr`. On failure *sys is closed again and the status returned. */
int tcp_system_open(dd_system **sys, char addr[TCP_NODE_ADDR_BYTES], const tcp_node_options *o);

void tcp_sleep_ms(int ms);

/* Polls holds(arg) every 10 ms for up to timeout_ms; whether it held. */
bool tcp_wait_until(bool (*holds)(void *arg), void *arg, int timeout_ms);

/* dd_system_stats_json as a NUL-terminated string the caller frees; NULL
 * on error. */
char *tcp_stats_text(dd_system *sys);

/* Opens a system in pump mode (no transport) named `node_id`: the
 * contrast the TCP tests check their refusals against. */
int tcp_pump_system_open(dd_system **sys, const char *node_id);

/* Opens a replica on sys paced for tests over loopback: gossip every
 * 100 ms, change notifications every 50 ms, and tombstones kept for
 * tombstone_grace_ms (0: the library's default). */
int tcp_replica_open(dd_replica **rep, dd_system *sys, uint64_t tombstone_grace_ms);

/* Adds `amount` to the GCounter at `key` (a C string) on `rep`. */
int tcp_counter_add(dd_replica *rep, const char *key, uint64_t amount);
/* The GCounter at `key` on `rep` into *out, -1 while the replica holds no
 * value there; the status of reading the value. */
int tcp_counter_read(int64_t *out, dd_replica *rep, const char *key);

#endif
