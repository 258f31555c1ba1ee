/*
 * The durable-key record: how a replica keeps one durable key in its
 * state store (durable.c writes and loads it). Version 1:
 *
 *   u8 version (1) | u8 flags (bit 0: tombstone) | u8 type |
 *   varint changed_ms | the canonical CRDT encoding (absent for a tombstone)
 *
 * The header parse is here, header-only and needing nothing but this
 * file, so the `ddata` tools, which link only the public library, read
 * records with the parser the replicator itself uses rather than a copy.
 */
#ifndef DD_REPLICATOR_DURABLE_H
#define DD_REPLICATOR_DURABLE_H

#include <stddef.h>
#include <stdint.h>

#define DURABLE_RECORD_VERSION 1u
#define DURABLE_FLAG_TOMBSTONE 1u
/* Where a replica keeps durable key K by default: the record
 * DURABLE_DEFAULT_PREFIX K (the same text as ENGINE_DURABLE_PREFIX, which
 * durable.c checks). */
#define DURABLE_DEFAULT_PREFIX "dd/replica/"

typedef struct durable_record_head {
    uint8_t flags; /* DURABLE_FLAG_* */
    uint8_t type;  /* the CRDT type; not range-checked here */
    uint64_t changed_ms;
    const uint8_t *body; /* the CRDT encoding (empty for a tombstone) */
    size_t body_len;
} durable_record_head;

/* Splits a record into its head and body without decoding the CRDT: 0, or
 * -1 when `data` is not a version 1 record with known flags. */
static inline int durable_record_parse(const uint8_t *data, size_t len, durable_record_head *out)
{
    if (len < 4 || data[0] != DURABLE_RECORD_VERSION || (data[1] & ~DURABLE_FLAG_TOMBSTONE))
        return -1;
    out->flags = data[1];
    out->type = data[2];
    uint64_t v = 0;
    size_t at = 3;
    for (unsigned shift = 0;; shift += 7) {
        if (at >= len || shift > 63)
            return -1;
        uint8_t b = data[at++];
        if (shift == 63 && b > 1) /* the tenth byte holds only the top bit */
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    out->changed_ms = v;
    out->body = data + at;
    out->body_len = len - at;
    return 0;
}

#endif
