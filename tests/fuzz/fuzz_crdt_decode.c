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
#include "decoded_value.h"
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
    check_decoded_value(v, data, size);
    crdt_free(v);
    return 0;
}
