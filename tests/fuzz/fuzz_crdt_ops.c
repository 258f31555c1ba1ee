/*
 * Fuzzes the mutators and the join: the input is a program of ops and
 * merges over three replicas of one type. Checks what the property tests
 * check, on inputs nobody thought of: the join commutes, deltas equal
 * mutations, and every state round-trips through the binary codec.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"
#include "util/status.h"

static const char *const words[] = {"a", "b", "", "\xff", "long-element-name", "k"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    crdt_type t = (crdt_type)(data[0] % CRDT_TYPE_MAX + 1);
    crdt *rep[3], *shadow[3];
    for (int i = 0; i < 3; i++) {
        if (crdt_new(&rep[i], t) || crdt_new(&shadow[i], t))
            abort();
    }
    for (size_t p = 1; p + 3 <= size && p < 3 * 200; p += 3) {
        int r = data[p] % 3, other = data[p + 1] % 3;
        uint8_t b = data[p + 2];
        if ((data[p] >> 2) % 4 == 0) {
            if (crdt_merge(rep[r], rep[other]) || crdt_merge(shadow[r], shadow[other]))
                abort();
            continue;
        }
        crdt_op nested = {0}, op = {0};
        op.kind = (crdt_op_kind)(b % 8 + 1);
        op.amount = b >> 5;
        const char *w = words[(b >> 3) % 6];
        op.value = (const uint8_t *)w;
        op.value_len = strlen(w);
        const char *k = words[(data[p + 1] >> 2) % 6];
        op.key = (const uint8_t *)k;
        op.key_len = strlen(k);
        if (op.kind == CRDT_OP_UPDATE) {
            op.value_type = (crdt_type)((data[p + 1] >> 4) % CRDT_TYPE_MAX + 1);
            nested.kind = (crdt_op_kind)((b >> 4) % 8 + 1);
            nested.amount = 1;
            nested.value = op.value;
            nested.value_len = op.value_len;
            op.nested = nested.kind == CRDT_OP_UPDATE ? NULL : &nested;
        }
        crdt_ctx ctx = {(uint64_t)r + 1, 1000 + p};
        crdt *delta = NULL;
        int rc = crdt_apply(rep[r], &op, &ctx, &delta);
        if (rc) {
            if (rc != ST_ETYPE && rc != ST_EINVAL && rc != ST_ELIMIT)
                abort();
            continue;
        }
        if (crdt_merge(shadow[r], delta) || !crdt_equal(shadow[r], rep[r]))
            abort();
        crdt_free(delta);
    }
    crdt *ab, *ba;
    if (crdt_clone(&ab, rep[0]) || crdt_clone(&ba, rep[1]) || crdt_merge(ab, rep[1]) ||
        crdt_merge(ba, rep[0]) || !crdt_equal(ab, ba))
        abort();
    bytes enc = BYTES_INIT;
    crdt *back = NULL;
    if (crdt_encode(ab, &enc) || crdt_decode(&back, enc.data, enc.len, NULL, UINT64_MAX) ||
        !crdt_equal(back, ab))
        abort();
    crdt_free(back);
    bytes_free(&enc);
    crdt_free(ab);
    crdt_free(ba);
    for (int i = 0; i < 3; i++) {
        crdt_free(rep[i]);
        crdt_free(shadow[i]);
    }
    return 0;
}
