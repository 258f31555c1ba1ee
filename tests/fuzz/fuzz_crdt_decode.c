/*
 * Fuzzes the binary CRDT decoder (crdt_decode): any input must either fail
 * with ST_ECORRUPT / ST_ELIMIT or decode to a value that re-encodes to the
 * very same bytes (the encoding is canonical), prints as JSON, and joins
 * with itself and with a clone without changing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    limits lim = limits_default();
    lim.max_elements = 4096;
    lim.max_depth = 8;
    crdt *v = NULL;
    int rc = crdt_decode(&v, data, size, &lim, 1000000);
    if (rc) {
        if (rc != ST_ECORRUPT && rc != ST_ELIMIT && rc != ST_ENOMEM)
            abort();
        if (v)
            abort();
        return 0;
    }
    bytes out = BYTES_INIT;
    if (crdt_encode(v, &out) || out.len != size || memcmp(out.data, data, size) != 0)
        abort();
    bytes js = BYTES_INIT;
    int jrc = crdt_to_json(v, &js);
    if (jrc && jrc != ST_ELIMIT) /* ST_ELIMIT: a counter sum beyond int64 */
        abort();
    crdt *c = NULL;
    if (crdt_clone(&c, v) || crdt_merge(c, v) || !crdt_equal(c, v))
        abort();
    crdt_free(c);
    bytes_free(&js);
    bytes_free(&out);
    crdt_free(v);
    return 0;
}
