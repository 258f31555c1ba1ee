/*
 * Byte buffers: a growable writer and a bounds-checked reader.
 *
 * Every binary codec in ddata (CRDT values, gossip messages, sealed
 * envelopes, journal records) is written with `bytes_*` and read with
 * `reader_*`. Integers are little-endian fixed width or LEB128 varints.
 * The reader never reads past its end: a short input makes the reader
 * "failed" and every later read returns zero, so a decoder can read a whole
 * record and check `reader_ok` once, and still never touch memory it was not
 * given.
 */
#ifndef DD_UTIL_BYTES_H
#define DD_UTIL_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bytes {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed; the contents are incomplete */
} bytes;

#define BYTES_INIT                                                                                 \
    {                                                                                              \
        NULL, 0, 0, false                                                                          \
    }

void bytes_free(bytes *b);
void bytes_reset(bytes *b); /* len = 0, keeps the allocation */
/* Makes room for `extra` more bytes; false (and b->failed) on failure. */
bool bytes_reserve(bytes *b, size_t extra);
/* Hands the contents to the caller (who frees with free()) and empties b. */
uint8_t *bytes_steal(bytes *b, size_t *len);

void bytes_put(bytes *b, const void *src, size_t n);
void bytes_put_u8(bytes *b, uint8_t v);
void bytes_put_u16(bytes *b, uint16_t v);
void bytes_put_u32(bytes *b, uint32_t v);
void bytes_put_u64(bytes *b, uint64_t v);
void bytes_put_varint(bytes *b, uint64_t v);
void bytes_put_svarint(bytes *b, int64_t v); /* zig-zag */
/* A varint length followed by the bytes. */
void bytes_put_blob(bytes *b, const void *src, size_t n);
void bytes_put_str(bytes *b, const char *s);
/* printf into the buffer (no terminating NUL counted in len). */
void bytes_printf(bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Overwrites 4 bytes at `at` (used to back-patch lengths). */
void bytes_set_u32(bytes *b, size_t at, uint32_t v);

typedef struct reader {
    const uint8_t *p;
    const uint8_t *end;
    bool failed;
} reader;

static inline reader reader_make(const void *data, size_t len)
{
    /* NULL + 0 is undefined behaviour in C, so an empty NULL input gets
     * NULL bounds without the addition. */
    const uint8_t *p = (const uint8_t *)data;
    reader r = {p, p ? p + len : NULL, false};
    return r;
}

static inline size_t reader_left(const reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline bool reader_ok(const reader *r)
{
    return !r->failed;
}

static inline bool reader_done(const reader *r)
{
    return !r->failed && r->p == r->end;
}

uint8_t reader_u8(reader *r);
uint16_t reader_u16(reader *r);
uint32_t reader_u32(reader *r);
uint64_t reader_u64(reader *r);
uint64_t reader_varint(reader *r);
int64_t reader_svarint(reader *r);
/* Returns a pointer into the input, or NULL (and failed) when short. */
const uint8_t *reader_take(reader *r, size_t n);
/* A varint length then that many bytes; fails if the length exceeds max. */
const uint8_t *reader_blob(reader *r, size_t max, size_t *len);

/* Fixed-width little-endian helpers for code that works on raw arrays. */
static inline void store_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_u64le(uint8_t *p, uint64_t v)
{
    store_u32le(p, (uint32_t)v);
    store_u32le(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t load_u64le(const uint8_t *p)
{
    return (uint64_t)load_u32le(p) | (uint64_t)load_u32le(p + 4) << 32;
}

#endif
