/*
 * The identity every stored record is bound to: the bytes a sealed
 * record's AEAD authenticates and an unsealed record's checksum covers
 * (seal/seal.h, seal/plain.h). Written once here because three places
 * must agree byte for byte: the journal and state store that write and
 * read records, and the engines' migrations that wrap records written
 * before the plain envelope existed.
 *
 *   event     kind 2 | pid (blob) | seq u64 | timestamp u64 | tags (blob)
 *   snapshot  kind 3 | pid (blob) | seq u64 | timestamp u64
 *   state     kind 1 | key (blob) [| revision u64, sealed stores only]
 *
 * An unsealed state record is bound to its key but not its revision, so
 * an unconditional upsert needs no read first; a sealed one also binds
 * the revision, so an old sealed value cannot be replayed over a newer.
 */
#ifndef DD_STORE_BINDING_H
#define DD_STORE_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "seal/seal.h"
#include "util/bytes.h"

/* Every replayed event builds its binding, so these write in place after
 * one reservation rather than through bytes_put per field (the same bytes:
 * a blob is a LEB128 length, then the bytes; integers little-endian). */
static inline uint8_t *store_bind_put_len(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint8_t *store_bind_put_blob(uint8_t *p, const uint8_t *src, size_t n)
{
    p = store_bind_put_len(p, n);
    if (n)
        memcpy(p, src, n);
    return p + n;
}

/* An event's binding in two parts, so a replay of one pid writes (and
 * checksums, seal/plain.h's reader) the shared head once: head = kind |
 * pid, at most STORE_BIND_HEAD_MAX(pid_len) bytes; tail = seq | timestamp |
 * tags length, at most STORE_BIND_TAIL_MAX bytes, then the tags. */
#define STORE_BIND_HEAD_MAX(pid_len) (1u + 10u + (pid_len))
#define STORE_BIND_TAIL_MAX (16u + 10u)

static inline size_t store_bind_event_head(uint8_t *out, const uint8_t *pid, size_t pid_len)
{
    out[0] = SEAL_KIND_EVENT;
    return (size_t)(store_bind_put_blob(out + 1, pid, pid_len) - out);
}

/* store_u64le byte by byte costs a replay ~80 instructions per event at
 * -O2 (GCC does not merge the stores); on a little-endian host the bytes
 * are the value's own. */
static inline void store_bind_u64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    store_u64le(p, v);
#endif
}

/* Writes the tail up to (not including) the tags bytes themselves. */
static inline size_t store_bind_event_tail(uint8_t *out, uint64_t seq, uint64_t ts, size_t tags_len)
{
    store_bind_u64(out, seq);
    store_bind_u64(out + 8, ts);
    return (size_t)(store_bind_put_len(out + 16, tags_len) - out);
}

static inline void store_bind_event(bytes *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                                    uint64_t ts, const uint8_t *tags, size_t tags_len)
{
    size_t tl = tags ? tags_len : 0;
    size_t need = STORE_BIND_HEAD_MAX(pid_len) + STORE_BIND_TAIL_MAX + tl;
    bytes_reset(b);
    if (b->cap < need && !bytes_reserve(b, need))
        return;
    uint8_t *p = b->data;
    p += store_bind_event_head(p, pid, pid_len);
    p += store_bind_event_tail(p, seq, ts, tl);
    if (tl)
        memcpy(p, tags, tl);
    b->len = (size_t)(p + tl - b->data);
}

/* A snapshot's binding written to `out` (STORE_BIND_HEAD_MAX(pid_len) +
 * 16 bytes); its length. */
static inline size_t store_bind_snapshot_to(uint8_t *out, const uint8_t *pid, size_t pid_len,
                                            uint64_t seq, uint64_t ts)
{
    uint8_t *p = out;
    *p++ = SEAL_KIND_SNAPSHOT;
    p = store_bind_put_blob(p, pid, pid_len);
    store_bind_u64(p, seq);
    store_bind_u64(p + 8, ts);
    return (size_t)(p + 16 - out);
}

static inline void store_bind_snapshot(bytes *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                                       uint64_t ts)
{
    bytes_reset(b);
    if (!bytes_reserve(b, STORE_BIND_HEAD_MAX(pid_len) + 16))
        return;
    b->len = store_bind_snapshot_to(b->data, pid, pid_len, seq, ts);
}

static inline void store_bind_state(bytes *b, const uint8_t *key, size_t key_len,
                                    bool with_revision, uint64_t revision)
{
    bytes_reset(b);
    bytes_put_u8(b, SEAL_KIND_STATE);
    bytes_put_blob(b, key, key_len);
    if (with_revision)
        bytes_put_u64(b, revision);
}

#endif
