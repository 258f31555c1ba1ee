/*
 * The owner's record codec and the state-store adapter (see persist.h).
 */
#include "owned/persist.h"

#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

size_t owned_record_key(char *key, const uint8_t *name, size_t name_len)
{
    size_t p = sizeof(OWNED_KEY_PREFIX) - 1;
    memcpy(key, OWNED_KEY_PREFIX, p);
    memcpy(key + p, name, name_len);
    key[p + name_len] = 0;
    return p + name_len;
}

void owned_record_encode(bytes *out, const owned_record *r)
{
    bytes_put_u8(out, OWNED_RECORD_FORMAT);
    bytes_put_varint(out, r->storage_version);
    bytes_put_varint(out, r->incarnation);
    bytes_put_varint(out, r->base_age);
    bytes_put_blob(out, r->base.data, r->base.len);
    bytes_put_varint(out, r->n_deltas);
    for (size_t i = 0; i < r->n_deltas; i++)
        bytes_put_blob(out, r->deltas[i].data, r->deltas[i].len);
}

void owned_record_free(owned_record *r)
{
    if (!r)
        return;
    free(r->deltas);
    memset(r, 0, sizeof(*r));
}

int owned_record_decode(owned_record *out, const uint8_t *data, size_t len, const limits *lim)
{
    memset(out, 0, sizeof(*out));
    reader r = reader_make(data, len);
    int rc = ST_OK;
    uint8_t format = reader_u8(&r);
    if (!reader_ok(&r))
        return error_set(ST_ECORRUPT, "owned record: empty");
    if (format != OWNED_RECORD_FORMAT)
        return error_set(ST_EUNSUPPORTED, "owned record: format %u is not supported", format);
    uint64_t sv = reader_varint(&r);
    out->incarnation = reader_varint(&r);
    out->base_age = reader_varint(&r);
    out->base.data = reader_blob(&r, lim->max_bytes, &out->base.len);
    uint64_t n = reader_varint(&r);
    if (!reader_ok(&r) || sv > UINT32_MAX) {
        rc = error_set(ST_ECORRUPT, "owned record: malformed header");
        goto done;
    }
    out->storage_version = (uint32_t)sv;
    if (n > OWNED_DELTAS_MAX || n > reader_left(&r)) {
        rc = error_set(ST_ECORRUPT, "owned record: %llu deltas do not fit", (unsigned long long)n);
        goto done;
    }
    if (out->base_age > UINT64_MAX - n) {
        rc = error_set(ST_ECORRUPT, "owned record: age overflows");
        goto done;
    }
    out->n_deltas = (size_t)n;
    if (n) {
        out->deltas = alloc_array(out->n_deltas, sizeof(*out->deltas));
        if (!out->deltas) {
            rc = error_oom();
            goto done;
        }
    }
    for (size_t i = 0; i < out->n_deltas; i++)
        out->deltas[i].data = reader_blob(&r, lim->max_bytes, &out->deltas[i].len);
    if (!reader_done(&r))
        rc = error_set(ST_ECORRUPT, "owned record: truncated or trailing bytes");
done:
    if (rc)
        owned_record_free(out);
    return rc;
}
