/*
 * Fuzz target for the gossip wire format: any bytes, delivered to an engine
 * that already holds keys of several types, a tombstone and peers, must
 * yield a status (never a crash, leak or out-of-bounds access), and the
 * engine must keep working afterwards (tick, drain, read). The first input
 * byte picks the sender, so both known and unknown peers are exercised;
 * inputs above the cap are split as a transport would deliver frames.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "replicator/engine.h"
#include "util/status.h"

static engine *make_engine(void)
{
    engine_config c;
    engine_config_default(&c);
    c.node_id = "fuzz";
    c.incarnation = 1;
    c.max_message_bytes = 1024;
    c.lim.max_bytes = 1 << 20;
    c.lim.max_elements = 4096;
    engine *e = NULL;
    if (engine_new(&e, &c, 1000000) != ST_OK)
        return NULL;
    static const uint8_t join[] = {0xDD, 1, 1, 1};
    (void)engine_deliver(e, 1000000, "peer", 4, join, sizeof(join));
    crdt_op op = {0};
    op.kind = CRDT_OP_INCREMENT;
    op.amount = 3;
    (void)engine_update(e, 1000000, (const uint8_t *)"count", 5, CRDT_GCOUNTER, &op, NULL);
    op.kind = CRDT_OP_ADD;
    op.value = (const uint8_t *)"x";
    op.value_len = 1;
    (void)engine_update(e, 1000000, (const uint8_t *)"set", 3, CRDT_ORSET, &op, NULL);
    (void)engine_delete(e, 1000000, (const uint8_t *)"gone", 4);
    (void)engine_subscribe(e, (const uint8_t *)"", 0, true);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const senders[] = {"peer", "stranger", "fuzz2"};
    engine *e = make_engine();
    if (!e)
        return 0;
    const char *from = senders[size ? data[0] % 3 : 0];
    if (size) {
        data++;
        size--;
    }
    (void)engine_deliver(e, 1000100, from, strlen(from), data, size);
    (void)engine_tick(e, 1002000);
    bytes to = BYTES_INIT, msg = BYTES_INIT;
    while (engine_next_outgoing(e, &to, &msg) == ST_OK)
        ;
    engine_event ev;
    while (engine_next_event(e, &ev) == ST_OK)
        engine_event_clear(&ev);
    crdt *v = NULL;
    if (engine_get(e, (const uint8_t *)"count", 5, &v) == ST_OK)
        crdt_free(v);
    bytes_free(&to);
    bytes_free(&msg);
    engine_free(e);
    return 0;
}
