/*
 * What the CRDT decoder fuzzers (fuzz_crdt_decode.c,
 * fuzz_crdt_decode_deep.c) require of every value that decodes: it encodes
 * back to exactly the bytes it came from, renders as JSON (ST_ELIMIT only
 * for a counter sum beyond int64), and a clone merged with it is equal to
 * it. A header, not a target: only fuzz_*.c become fuzzers.
 */
#ifndef DD_FUZZ_DECODED_VALUE_H
#define DD_FUZZ_DECODED_VALUE_H

#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"
#include "util/bytes.h"
#include "util/status.h"

/* abort()s unless v, decoded from data (size bytes), keeps the rules. */
static inline void check_decoded_value(const crdt *v, const uint8_t *data, size_t size)
{
    bytes out = BYTES_INIT, js = BYTES_INIT;
    if (crdt_encode(v, &out) || out.len != size || memcmp(out.data, data, size) != 0)
        abort();
    int jrc = crdt_to_json(v, &js);
    if (jrc && jrc != ST_ELIMIT)
        abort();
    crdt *c = NULL;
    if (crdt_clone(&c, v) || crdt_merge(c, v) || !crdt_equal(c, v))
        abort();
    crdt_free(c);
    bytes_free(&js);
    bytes_free(&out);
}

#endif
