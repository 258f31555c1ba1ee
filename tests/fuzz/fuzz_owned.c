/*
 * Fuzzes the owned-state decoders and the engine behind them.
 *
 * The input is decoded once as one message and once as a stored record;
 * then it is split into length-prefixed chunks (u16 little-endian) that are
 * delivered, in order, from a member to an engine with two registered
 * types, with ticks in between, so sequences of snapshots, deltas, feeds
 * and pulls reach the apply logic. Nothing may crash, leak or read out of
 * bounds, and a view read afterwards must be consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owned/owned.h"
#include "owned/persist.h"
#include "owned/wire.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    limits lim = limits_default();
    lim.max_bytes = 1 << 16;
    owned_msg m;
    if (owned_msg_decode(&m, data, size, &lim) == ST_OK)
        owned_msg_free(&m);
    owned_record r;
    if (owned_record_decode(&r, data, size, &lim) == ST_OK)
        owned_record_free(&r);

    owned_options o;
    memset(&o, 0, sizeof(o));
    o.node_id = 1;
    o.incarnation = 1;
    o.lim = lim;
    o.max_outgoing = 256;
    o.max_events = 256;
    owned *e = NULL;
    if (owned_open(&e, &o) != ST_OK)
        return 0;
    owned_type_options push = owned_type_defaults();
    owned_type_options lazy = owned_type_defaults();
    lazy.strategy = OWNED_FEED_LAZY_PULL;
    lazy.on_mismatch = OWNED_DROP_AND_WAIT;
    owned_register(e, "load", &push);
    owned_register(e, "lazy", &lazy);
    owned_member_up(e, 2, 1);
    uint64_t req;
    owned_query(e, "lazy", 2, 0, &req);
    size_t at = 0;
    uint64_t now = 0;
    while (at + 2 <= size) {
        size_t len = (size_t)data[at] | (size_t)data[at + 1] << 8;
        at += 2;
        if (len > size - at)
            len = size - at;
        owned_deliver(e, 2, data + at, len);
        at += len;
        now += 50;
        owned_tick(e, now);
    }
    for (int k = 0; k < 2; k++) {
        owned_view_copy v;
        if (owned_read(e, k ? "lazy" : "load", 2, &v) == ST_OK) {
            if (v.gen.age != v.base_age + v.n_deltas)
                abort();
            owned_view_copy_free(&v);
        }
    }
    bytes msg = BYTES_INIT;
    uint64_t to;
    while (owned_next_outgoing(e, &to, &msg) == ST_OK)
        ;
    bytes_free(&msg);
    owned_close(e);
    return 0;
}
