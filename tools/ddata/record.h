/*
 * The replicator's durable-key record (core/replicator/durable.h) as the
 * tools read it from a state store: the head split by the replicator's
 * own parser, the CRDT decoded through dd_crdt_decode with the default
 * limits, so decoding is bounded.
 */
#ifndef DD_TOOLS_RECORD_H
#define DD_TOOLS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "ddata.h"

#include "replicator/durable.h"

/* Where a replica keeps durable key K in its store (the default
 * dd_replica_options.store_prefix): the record "dd/replica/K". */
#define RECORD_REPLICA_PREFIX DURABLE_DEFAULT_PREFIX

typedef struct durable_record {
    int tombstone;
    uint32_t type;
    uint64_t changed_ms;
    dd_crdt *value; /* NULL for a tombstone; free with dd_crdt_free */
} durable_record;

/* DD_OK, or DD_ECORRUPT (message set) when the bytes are not a record. */
int record_decode(durable_record *out, const uint8_t *data, size_t len);

#endif
