/*
 * The memory engine's insides, shared by memory_backend.c (journal,
 * snapshots, the table) and memory_state.c (the state records).
 */
#ifndef DD_STORE_MEMORY_INTERNAL_H
#define DD_STORE_MEMORY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/backend.h"

typedef struct mem_event {
    uint64_t seq, ts, ordering;
    uint8_t *payload;
    size_t payload_len;
    uint8_t *tags;
    size_t tags_len;
} mem_event;

typedef struct mem_snap {
    uint64_t seq, ts;
    uint8_t *data;
    size_t len;
} mem_snap;

typedef struct mem_pid {
    uint8_t *pid;
    size_t pid_len;
    uint64_t highest;
    uint64_t deleted_to;
    mem_event *ev;
    size_t nev, cap_ev;
    mem_snap *snap;
    size_t nsnap, cap_snap;
} mem_pid;

typedef struct mem_rec {
    uint8_t *key;
    size_t key_len;
    uint64_t revision;
    uint8_t *data;
    size_t len;
} mem_rec;

typedef struct mem_backend {
    store_backend base;
    mem_pid **pids;
    size_t npids, cap_pids;
    mem_rec *recs;
    size_t nrecs, cap_recs;
    uint64_t next_ordering;
} mem_backend;

uint8_t *mem_dup_bytes(const uint8_t *p, size_t n);

/* The state members of the table (backend.h), in memory_state.c. */
backend_state_upsert_fn mem_state_upsert;
backend_state_get_fn mem_state_get;
backend_state_delete_fn mem_state_delete;
backend_state_scan_fn mem_state_scan;
backend_state_range_fn mem_state_range;
backend_state_purge_fn mem_state_purge;
backend_state_scan_range_fn mem_state_scan_range;
backend_state_batch_fn mem_state_batch;
backend_state_purge_prefix_fn mem_state_purge_prefix;

#endif
