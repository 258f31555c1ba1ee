/*
 * Byte buffers. See bytes.h for the failure model.
 */
#include "util/bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void bytes_free(bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void bytes_reset(bytes *b)
{
    b->len = 0;
    b->failed = false;
}

bool bytes_reserve(bytes *b, size_t extra)
{
    size_t need;
    if (b->failed)
        return false;
    if (!size_add_ok(b->len, extra, &need)) {
        b->failed = true;
        return false;
    }
    if (need <= b->cap)
        return true;
    size_t cap = grow_capacity(b->cap, need);
    uint8_t *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

uint8_t *bytes_steal(bytes *b, size_t *len)
{
    uint8_t *data = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

void bytes_put(bytes *b, const void *src, size_t n)
{
    if (n == 0 || !bytes_reserve(b, n))
        return;
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

void bytes_put_u8(bytes *b, uint8_t v)
{
    if (!bytes_reserve(b, 1))
        return;
    b->data[b->len++] = v;
}

void bytes_put_u16(bytes *b, uint16_t v)
{
    uint8_t tmp[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    bytes_put(b, tmp, 2);
}

void bytes_put_u32(bytes *b, uint32_t v)
{
    uint8_t tmp[4];
    store_u32le(tmp, v);
    bytes_put(b, tmp, 4);
}

void bytes_put_u64(bytes *b, uint64_t v)
{
    uint8_t tmp[8];
    store_u64le(tmp, v);
    bytes_put(b, tmp, 8);
}

void bytes_put_varint(bytes *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    bytes_put(b, tmp, n);
}

void bytes_put_svarint(bytes *b, int64_t v)
{
    bytes_put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void bytes_put_blob(bytes *b, const void *src, size_t n)
{
    bytes_put_varint(b, n);
    bytes_put(b, src, n);
}

void bytes_put_str(bytes *b, const char *s)
{
    bytes_put(b, s, strlen(s));
}

void bytes_printf(bytes *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !bytes_reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void bytes_set_u32(bytes *b, size_t at, uint32_t v)
{
    if (b->failed || at + 4 > b->len)
        return;
    store_u32le(b->data + at, v);
}

const uint8_t *reader_take(reader *r, size_t n)
{
    if (r->failed || reader_left(r) < n) {
        r->failed = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

uint8_t reader_u8(reader *r)
{
    const uint8_t *p = reader_take(r, 1);
    return p ? p[0] : 0;
}

uint16_t reader_u16(reader *r)
{
    const uint8_t *p = reader_take(r, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t reader_u32(reader *r)
{
    const uint8_t *p = reader_take(r, 4);
    return p ? load_u32le(p) : 0;
}

uint64_t reader_u64(reader *r)
{
    const uint8_t *p = reader_take(r, 8);
    return p ? load_u64le(p) : 0;
}

uint64_t reader_varint(reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        const uint8_t *p = reader_take(r, 1);
        if (!p)
            return 0;
        /* The tenth byte may carry only the top bit of a 64-bit value. */
        if (shift == 63 && *p > 1)
            break;
        v |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            return v;
    }
    r->failed = true;
    return 0;
}

int64_t reader_svarint(reader *r)
{
    uint64_t u = reader_varint(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

const uint8_t *reader_blob(reader *r, size_t max, size_t *len)
{
    uint64_t n = reader_varint(r);
    if (r->failed || n > max || n > reader_left(r)) {
        r->failed = true;
        *len = 0;
        return NULL;
    }
    *len = (size_t)n;
    return reader_take(r, (size_t)n);
}
