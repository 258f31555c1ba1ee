/*
 * Durable-key records (record.h), split by the replicator's own parser
 * (core/replicator/durable.h) and decoded through the public CRDT API.
 */
#include "record.h"

#include <string.h>

#include "replicator/durable.h"

int record_decode(durable_record *out, const uint8_t *data, size_t len)
{
    memset(out, 0, sizeof(*out));
    durable_record_head h;
    if (durable_record_parse(data, len, &h) != 0)
        return DD_ECORRUPT;
    out->tombstone = (h.flags & DURABLE_FLAG_TOMBSTONE) != 0;
    out->type = h.type;
    out->changed_ms = h.changed_ms;
    if (out->tombstone)
        return h.body_len == 0 ? DD_OK : DD_ECORRUPT;
    int rc = dd_crdt_decode(&out->value, h.body, h.body_len, NULL, UINT64_MAX / 2);
    if (rc != DD_OK)
        return rc;
    if (dd_crdt_type_of(out->value) != (int)out->type) {
        dd_crdt_free(out->value);
        out->value = NULL;
        return DD_ECORRUPT;
    }
    return DD_OK;
}
