/*
 * The gossip wire format, version 1.
 *
 * Every message starts with a fixed header: the magic byte 0xDD, the format
 * version, the message type and the sender's incarnation (varint). The body
 * depends on the type; all integers are varints or little-endian fixed
 * width, all byte strings a varint length then the bytes (util/bytes.h).
 * docs/replicator.md lists every body.
 *
 * A receiver that sees another version drops the message with ST_ECORRUPT
 * (and the gossip that follows repairs whatever it carried), so the version
 * byte is what lets a later format coexist during a rolling upgrade.
 *
 * No message above the configured cap is ever sent: lists (statuses, key
 * digests, states, deltas) are split by their builder, and a single entry
 * that is itself too large (a 20,000-element set) is sent as FRAG pieces
 * that the receiver reassembles within its limits.
 */
#ifndef DD_REPLICATOR_WIRE_H
#define DD_REPLICATOR_WIRE_H

#include <stdint.h>

#include "util/bytes.h"

#define WIRE_MAGIC 0xDDu
#define WIRE_VERSION 1u
/* Header upper bound: magic, version, type and a 10-byte varint. */
#define WIRE_HEADER_MAX 13u

typedef enum wire_type {
    WIRE_JOIN = 1,        /* (empty) */
    WIRE_GOSSIP = 2,      /* members, then an optional bucket status */
    WIRE_KEYS = 3,        /* per-bucket (key, digest) lists */
    WIRE_WANT = 4,        /* keys whose full state the sender wants */
    WIRE_STATE = 5,       /* full states (request id 0 = plain repair) */
    WIRE_DELTA = 6,       /* deltas with (origin, sequence) */
    WIRE_NACK = 7,        /* (key, origin): a causal gap, send full state */
    WIRE_TOMB_SEEN = 8,   /* tombstones and who is known to hold them */
    WIRE_WRITE_ACK = 9,   /* request id */
    WIRE_READ = 10,       /* request id, key */
    WIRE_READ_REPLY = 11, /* request id, found, state entry */
    WIRE_FRAG = 12,       /* a piece of a message above the cap */
    WIRE_PRUNE = 13,      /* removed-node pruning: init (coordinator) or ack */
    WIRE_LEAVE = 14,      /* a clean departure: announce (leaver) or ack (leave.c) */
    WIRE_TYPE_MAX = 14
} wire_type;

static inline void wire_header(bytes *b, wire_type type, uint64_t incarnation)
{
    bytes_put_u8(b, WIRE_MAGIC);
    bytes_put_u8(b, WIRE_VERSION);
    bytes_put_u8(b, (uint8_t)type);
    bytes_put_varint(b, incarnation);
}

#endif
