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
static inline uint8_t *store_bind_put_blob(uint8_t *p, const uint8_t *src, size_t n)
{
    uint64_t v = n;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    if (n)
        memcpy(p, src, n);
    return p + n;
}

static inline void store_bind_event(bytes *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                                    uint64_t ts, const uint8_t *tags, size_t tags_len)
{
    size_t tl = tags ? tags_len : 0;
    size_t need = 1 + 10 + pid_len + 16 + 10 + tl;
    bytes_reset(b);
    if (b->cap < need && !bytes_reserve(b, need))
        return;
    uint8_t *p = b->data;
    *p++ = SEAL_KIND_EVENT;
    p = store_bind_put_blob(p, pid, pid_len);
    store_u64le(p, seq);
    store_u64le(p + 8, ts);
    p = store_bind_put_blob(p + 16, tags, tl);
    b->len = (size_t)(p - b->data);
}

static inline void store_bind_snapshot(bytes *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                                       uint64_t ts)
{
    bytes_reset(b);
    if (!bytes_reserve(b, 1 + 10 + pid_len + 16))
        return;
    uint8_t *p = b->data;
    *p++ = SEAL_KIND_SNAPSHOT;
    p = store_bind_put_blob(p, pid, pid_len);
    store_u64le(p, seq);
    store_u64le(p + 8, ts);
    b->len = (size_t)(p + 16 - b->data);
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
