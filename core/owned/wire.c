/*
 * Encoding and bounded decoding of owned-state messages (see wire.h).
 *
 * The decoder reads the whole message with the latching reader, then
 * checks once; every count is checked against its cap before anything is
 * allocated, so a hostile count costs nothing.
 */
#include "owned/wire.h"

#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

bool owned_type_name_ok(const uint8_t *name, size_t len)
{
    if (!name || len == 0 || len > OWNED_TYPE_NAME_MAX)
        return false;
    return memchr(name, 0, len) == NULL;
}

static void put_blob(bytes *out, owned_blob b)
{
    bytes_put_blob(out, b.data, b.len);
}

static void put_deltas(bytes *out, const owned_msg *m)
{
    bytes_put_varint(out, m->n_deltas);
    for (size_t i = 0; i < m->n_deltas; i++)
        put_blob(out, m->deltas[i]);
}

void owned_msg_encode(bytes *out, const owned_msg *m)
{
    bytes_put_u8(out, OWNED_WIRE_FORMAT);
    bytes_put_u8(out, m->kind);
    switch (m->kind) {
    case OWNED_MSG_SNAPSHOT:
    case OWNED_MSG_DELTAS:
    case OWNED_MSG_PULL:
        put_blob(out, m->type);
        bytes_put_varint(out, m->type_version);
        bytes_put_varint(out, m->incarnation);
        bytes_put_varint(out, m->age);
        if (m->kind == OWNED_MSG_SNAPSHOT) {
            bytes_put_u8(out, m->flags);
            put_blob(out, m->base);
        }
        if (m->kind != OWNED_MSG_PULL)
            put_deltas(out, m);
        break;
    case OWNED_MSG_FEED:
        bytes_put_varint(out, m->n_feed);
        for (size_t i = 0; i < m->n_feed; i++) {
            put_blob(out, m->feed[i].type);
            bytes_put_varint(out, m->feed[i].type_version);
            bytes_put_varint(out, m->feed[i].incarnation);
            bytes_put_varint(out, m->feed[i].age);
        }
        break;
    default: break;
    }
}

void owned_msg_free(owned_msg *m)
{
    if (!m)
        return;
    free(m->deltas);
    free(m->feed);
    memset(m, 0, sizeof(*m));
}

static int read_name(reader *r, owned_blob *out)
{
    out->data = reader_blob(r, OWNED_TYPE_NAME_MAX, &out->len);
    if (!reader_ok(r))
        return error_set(ST_ECORRUPT, "owned message: truncated or oversized type name");
    if (!owned_type_name_ok(out->data, out->len))
        return error_set(ST_ECORRUPT, "owned message: invalid type name");
    return ST_OK;
}

static int read_version(reader *r, uint32_t *out)
{
    uint64_t v = reader_varint(r);
    if (v > UINT32_MAX)
        return error_set(ST_ECORRUPT, "owned message: type version %llu out of range",
                         (unsigned long long)v);
    *out = (uint32_t)v;
    return ST_OK;
}

/* Reads a count, refusing more than `cap` or more than could possibly fit
 * in what is left (each item takes at least `min_item` bytes). */
static int read_count(reader *r, uint64_t cap, size_t min_item, const char *what, size_t *out)
{
    uint64_t n = reader_varint(r);
    if (!reader_ok(r))
        return error_set(ST_ECORRUPT, "owned message: truncated %s count", what);
    if (n > cap)
        return error_set(ST_ELIMIT, "owned message: %llu %s exceed the limit of %llu",
                         (unsigned long long)n, what, (unsigned long long)cap);
    if (n > reader_left(r) / min_item)
        return error_set(ST_ECORRUPT, "owned message: %llu %s do not fit in %zu bytes",
                         (unsigned long long)n, what, reader_left(r));
    *out = (size_t)n;
    return ST_OK;
}

/* read_count, then the array for that many items of `size` bytes into
 * *items (a T **, left NULL for an empty list). The pointer moves through
 * memcpy so any T ** may be passed, as in array_reserve. */
static int read_list(reader *r, uint64_t cap, size_t min_item, const char *what, size_t *n,
                     void *items, size_t size)
{
    int rc = read_count(r, cap, min_item, what, n);
    if (rc || *n == 0)
        return rc;
    void *array = alloc_array(*n, size);
    if (!array)
        return error_oom();
    memcpy(items, &array, sizeof(array));
    return ST_OK;
}

static int read_deltas(reader *r, owned_msg *m, const limits *lim)
{
    uint64_t cap = lim->max_elements < OWNED_DELTAS_MAX ? lim->max_elements : OWNED_DELTAS_MAX;
    int rc = read_list(r, cap, 1, "deltas", &m->n_deltas, &m->deltas, sizeof(*m->deltas));
    if (rc)
        return rc;
    for (size_t i = 0; i < m->n_deltas; i++) {
        m->deltas[i].data = reader_blob(r, lim->max_bytes, &m->deltas[i].len);
        if (!reader_ok(r))
            return error_set(ST_ECORRUPT, "owned message: delta %zu truncated or over %llu bytes",
                             i, (unsigned long long)lim->max_bytes);
    }
    return ST_OK;
}

static int decode_body(reader *r, owned_msg *m, const limits *lim)
{
    int rc;
    switch (m->kind) {
    case OWNED_MSG_SNAPSHOT:
    case OWNED_MSG_DELTAS:
    case OWNED_MSG_PULL:
        if ((rc = read_name(r, &m->type)) || (rc = read_version(r, &m->type_version)))
            return rc;
        m->incarnation = reader_varint(r);
        m->age = reader_varint(r);
        if (m->kind == OWNED_MSG_SNAPSHOT) {
            m->flags = reader_u8(r);
            m->base.data = reader_blob(r, lim->max_bytes, &m->base.len);
            if (!reader_ok(r))
                return error_set(ST_ECORRUPT,
                                 "owned snapshot: base view truncated or over %llu bytes",
                                 (unsigned long long)lim->max_bytes);
            if (m->flags & ~OWNED_SNAP_REPLY)
                return error_set(ST_ECORRUPT, "owned snapshot: unknown flags 0x%02x", m->flags);
        }
        if (m->kind != OWNED_MSG_PULL && (rc = read_deltas(r, m, lim)))
            return rc;
        if (m->kind == OWNED_MSG_DELTAS && m->n_deltas == 0)
            return error_set(ST_ECORRUPT, "owned deltas: empty run");
        /* The last age must be representable. */
        if (m->n_deltas && m->age > UINT64_MAX - m->n_deltas)
            return error_set(ST_ECORRUPT, "owned message: age overflows");
        return ST_OK;
    case OWNED_MSG_FEED:
        if ((rc = read_list(r, OWNED_FEED_MAX, 5, "feed entries", &m->n_feed, &m->feed,
                            sizeof(*m->feed))))
            return rc;
        for (size_t i = 0; i < m->n_feed; i++) {
            owned_feed_entry *e = &m->feed[i];
            if ((rc = read_name(r, &e->type)) || (rc = read_version(r, &e->type_version)))
                return rc;
            e->incarnation = reader_varint(r);
            e->age = reader_varint(r);
        }
        return ST_OK;
    default: return error_set(ST_ECORRUPT, "owned message: unknown kind %u", m->kind);
    }
}

int owned_msg_decode(owned_msg *out, const uint8_t *data, size_t len, const limits *lim)
{
    memset(out, 0, sizeof(*out));
    if (!data && len)
        return error_set(ST_EINVAL, "owned message: data must not be NULL");
    if (len > lim->max_bytes)
        return error_set(ST_ELIMIT, "owned message: %zu bytes exceed the limit of %llu", len,
                         (unsigned long long)lim->max_bytes);
    reader r = reader_make(data, len);
    uint8_t format = reader_u8(&r);
    out->kind = reader_u8(&r);
    int rc;
    if (!reader_ok(&r)) {
        rc = error_set(ST_ECORRUPT, "owned message: %zu bytes is too short", len);
        goto done;
    }
    if (format != OWNED_WIRE_FORMAT) {
        rc = error_set(ST_EUNSUPPORTED,
                       "owned message: wire format %u is not supported (this "
                       "library speaks %u)",
                       format, OWNED_WIRE_FORMAT);
        goto done;
    }
    if ((rc = decode_body(&r, out, lim)))
        goto done;
    if (!reader_ok(&r)) {
        rc = error_set(ST_ECORRUPT, "owned message: truncated");
        goto done;
    }
    if (!reader_done(&r)) {
        rc = error_set(ST_ECORRUPT, "owned message: %zu trailing bytes", reader_left(&r));
        goto done;
    }
done:
    if (rc)
        owned_msg_free(out);
    return rc;
}
