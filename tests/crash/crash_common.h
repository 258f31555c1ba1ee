/*
 * What the crash writer and its checker agree on: the store under test and
 * the deterministic shape of the journal (batch sizes, payload bytes), so
 * the checker can tell a whole batch from a torn one and a right byte from
 * a wrong one without any record of what was written.
 */
#ifndef DD_CRASH_COMMON_H
#define DD_CRASH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ddata.h"

#define CRASH_PID "crash-pid"

/* The group-commit writer: threads, each with its own journal and pid. */
#define CRASH_GROUP_THREADS 8

static inline void crash_group_pid(char *out, size_t n, int thread)
{
    snprintf(out, n, "crash-pid-%d", thread);
}

/* Events in the batch that starts at `first`: 1..7. */
static inline uint64_t crash_batch_size(uint64_t first)
{
    return 1 + (first * 2654435761u) % 7;
}

static inline size_t crash_payload_len(uint64_t seq)
{
    return 10 + (size_t)((seq * 7919) % 300);
}

static inline uint8_t crash_payload_byte(uint64_t seq, size_t i)
{
    return (uint8_t)(seq * 31 + i * 7);
}

/* Opens the store: backend "sqlite" or "sqlite-group" (synchronous=FULL)
 * or "fs" (sealed). */
static inline int crash_open(dd_journal **out, const char *backend, const char *path,
                             dd_keyring **ring)
{
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.path = path;
    o.sync = DD_SYNC_FULL;
    *ring = NULL;
    if (strcmp(backend, "fs") == 0) {
        uint8_t key[32];
        memset(key, 0x42, sizeof(key));
        int rc = dd_keyring_new(ring);
        if (rc == DD_OK)
            rc = dd_keyring_add_key(*ring, 1, key, sizeof(key));
        if (rc != DD_OK)
            return rc;
        o.backend = DD_BACKEND_FS;
        o.keyring = *ring;
    } else {
        o.backend = DD_BACKEND_SQLITE;
    }
    return dd_journal_open(out, &o);
}

#endif
