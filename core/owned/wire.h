/*
 * The owned-state wire format: the four messages two engines exchange.
 *
 * Every message starts with a format byte (OWNED_WIRE_FORMAT) and a kind
 * byte, so a newer library can add kinds and fields and an older one
 * rejects what it cannot read instead of misreading it. Integers are
 * varints, byte strings are length-prefixed blobs (util/bytes.h).
 *
 *   SNAPSHOT  type, type version, incarnation, base age, flags, base view,
 *             deltas after it   -> the owner's whole instance at
 *                                  (incarnation, base age + delta count)
 *   DELTAS    type, type version, incarnation, first age, deltas
 *                                -> ages first .. first + n - 1
 *   FEED      entries of (type, type version, incarnation, age): the
 *             owner's latest generation per type, batched
 *   PULL      type, type version, the generation the reader holds
 *
 * The decoder borrows from the input (the blobs point into it) and
 * allocates only the arrays of deltas and feed entries, bounded by the
 * limits it is given; it never reads past the input and rejects trailing
 * bytes. Encoding is canonical (shortest varints); the decoder also
 * accepts longer varint forms, so compare decoded messages, not bytes.
 */
#ifndef DD_OWNED_WIRE_H
#define DD_OWNED_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/limits.h"

#define OWNED_WIRE_FORMAT 1
#define OWNED_TYPE_NAME_MAX 127
/* Hard caps that apply whatever the limits say: a message names at most
 * this many types in a feed, and carries at most this many deltas. */
#define OWNED_FEED_MAX 1024
#define OWNED_DELTAS_MAX 65536

enum owned_msg_kind {
    OWNED_MSG_SNAPSHOT = 1,
    OWNED_MSG_DELTAS = 2,
    OWNED_MSG_FEED = 3,
    OWNED_MSG_PULL = 4,
};

/* SNAPSHOT flags. */
#define OWNED_SNAP_REPLY 0x01u /* answers a PULL */

typedef struct owned_blob {
    const uint8_t *data;
    size_t len;
} owned_blob;

typedef struct owned_feed_entry {
    owned_blob type;
    uint32_t type_version;
    uint64_t incarnation;
    uint64_t age;
} owned_feed_entry;

typedef struct owned_msg {
    uint8_t kind;
    /* SNAPSHOT, DELTAS, PULL */
    owned_blob type;
    uint32_t type_version;
    uint64_t incarnation;
    uint64_t age; /* SNAPSHOT: base age; DELTAS: first age; PULL: age held */
    uint8_t flags;
    owned_blob base; /* SNAPSHOT */
    owned_blob *deltas;
    size_t n_deltas;
    /* FEED */
    owned_feed_entry *feed;
    size_t n_feed;
} owned_msg;

/* Decodes one message. Blobs point into `data`, which must outlive `out`;
 * release with owned_msg_free. ST_ECORRUPT for malformed bytes, ST_ELIMIT
 * past a limit, ST_EUNSUPPORTED for another format byte. */
int owned_msg_decode(owned_msg *out, const uint8_t *data, size_t len, const limits *lim);
void owned_msg_free(owned_msg *m);

/* Whether a waiting query needs `m`: pulls and the snapshots that answer
 * them. */
static inline bool owned_msg_reliable(const owned_msg *m)
{
    return m->kind == OWNED_MSG_PULL ||
           (m->kind == OWNED_MSG_SNAPSHOT && (m->flags & OWNED_SNAP_REPLY));
}

/* Appends the encoding of `m` to `out` (check out->failed). */
void owned_msg_encode(bytes *out, const owned_msg *m);

/* Checks a type name: 1..OWNED_TYPE_NAME_MAX bytes, no NUL. */
bool owned_type_name_ok(const uint8_t *name, size_t len);

#endif
