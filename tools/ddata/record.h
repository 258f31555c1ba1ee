/*
 * The replicator's durable-key record (core/replicator/durable.c, version
 * 1) as the tools read it from a state store: u8 version, u8 flags (bit 0:
 * tombstone), u8 type, varint changed_ms, then the canonical CRDT encoding
 * (absent for a tombstone). Decoding is bounded: the CRDT goes through
 * dd_crdt_decode with the default limits.
 */
#ifndef DD_TOOLS_RECORD_H
#define DD_TOOLS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "ddata.h"

/* Where a replica keeps durable key K in its store (the default
 * dd_replica_options.store_prefix): the record "dd/replica/K". */
#define RECORD_REPLICA_PREFIX "dd/replica/"

typedef struct durable_record {
    int tombstone;
    uint32_t type;
    uint64_t changed_ms;
    dd_crdt *value; /* NULL for a tombstone; free with dd_crdt_free */
} durable_record;

/* DD_OK, or DD_ECORRUPT (message set) when the bytes are not a record. */
int record_decode(durable_record *out, const uint8_t *data, size_t len);

#endif
