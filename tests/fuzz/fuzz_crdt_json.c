/*
 * Fuzzes the JSON CRDT reader (crdt_from_json): any input must fail with
 * ST_ECORRUPT / ST_ELIMIT or yield a value whose JSON reads back equal.
 */
#include <stdint.h>
#include <stdlib.h>

#include "crdt/crdt.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    limits lim = limits_default();
    lim.max_elements = 4096;
    lim.max_depth = 8;
    crdt *v = NULL;
    int rc = crdt_from_json(&v, (const char *)data, size, &lim);
    if (rc) {
        if ((rc != ST_ECORRUPT && rc != ST_ELIMIT && rc != ST_ENOMEM) || v)
            abort();
        return 0;
    }
    bytes js = BYTES_INIT;
    crdt *back = NULL;
    if (crdt_to_json(v, &js) || crdt_from_json(&back, (const char *)js.data, js.len, &lim) ||
        !crdt_equal(back, v))
        abort();
    crdt_free(back);
    bytes_free(&js);
    crdt_free(v);
    return 0;
}
