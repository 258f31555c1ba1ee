/*
 * Durable-key records (see record.h).
 */
#include "record.h"

#include <string.h>

int record_decode(durable_record *out, const uint8_t *data, size_t len)
{
    memset(out, 0, sizeof(*out));
    if (len < 4 || data[0] != 1 || data[1] > 1)
        return DD_ECORRUPT;
    out->tombstone = data[1] & 1;
    out->type = data[2];
    size_t at = 3;
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        if (at >= len || shift > 63)
            return DD_ECORRUPT;
        uint8_t b = data[at++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    out->changed_ms = v;
    if (out->tombstone)
        return at == len ? DD_OK : DD_ECORRUPT;
    int rc = dd_crdt_decode(&out->value, data + at, len - at, NULL, UINT64_MAX / 2);
    if (rc != DD_OK)
        return rc;
    if (dd_crdt_type_of(out->value) != (int)out->type) {
        dd_crdt_free(out->value);
        out->value = NULL;
        return DD_ECORRUPT;
    }
    return DD_OK;
}
