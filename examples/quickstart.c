/*
 * The README's C quickstart, built and run by `make test` so it stays true:
 * one node in pump mode, a replica, a counter and a set, and a standalone
 * value merged from a delta.
 */
#include <ddata.h>
#include <stdio.h>
#include <string.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != DD_OK) {                                                                        \
            fprintf(stderr, "%s: %s: %s\n", #call, dd_status_name(rc_), dd_error_last()->message); \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int run(dd_system *node, dd_replica *replica)
{
    dd_op inc = DD_OP_INIT;
    inc.kind = DD_OP_INCREMENT;
    inc.amount = 3;
    CHECK(dd_replica_update(replica, (const uint8_t *)"hits", 4, DD_PNCOUNTER, &inc));

    dd_op add = DD_OP_INIT;
    add.kind = DD_OP_ADD;
    add.value = (const uint8_t *)"apple";
    add.value_len = 5;
    CHECK(dd_replica_update(replica, (const uint8_t *)"cart", 4, DD_ORSET, &add));

    dd_crdt *hits = NULL;
    dd_buf json = DD_BUF_INIT;
    CHECK(dd_replica_get(&hits, replica, (const uint8_t *)"hits", 4));
    CHECK(dd_crdt_value_json(&json, hits));
    printf("hits: %.*s\n", (int)json.len, (const char *)json.data);
    dd_buf_free(&json);
    int64_t count = 0;
    CHECK(dd_crdt_counter_value(&count, hits));
    dd_crdt_free(hits);
    if (count != 3)
        return 1;

    /* A standalone value: apply on one, ship the delta, merge on another. */
    dd_crdt *a = NULL, *b = NULL, *delta = NULL;
    CHECK(dd_crdt_new(&a, DD_ORSET));
    CHECK(dd_crdt_new(&b, DD_ORSET));
    CHECK(dd_crdt_apply(a, &add, 1 /* actor */, 0 /* now_ms */, &delta));
    CHECK(dd_crdt_merge(b, delta));
    CHECK(dd_crdt_value_json(&json, b));
    printf("b: %.*s\n", (int)json.len, (const char *)json.data);
    dd_buf_free(&json);
    int has_apple = dd_crdt_contains(b, (const uint8_t *)"apple", 5); /* 1, 0 or a DD_E* */
    dd_crdt_free(delta);
    dd_crdt_free(b);
    dd_crdt_free(a);
    (void)node;
    return has_apple == 1 ? 0 : 1;
}

int main(void)
{
    dd_system_options so;
    CHECK(dd_system_options_init(&so, DD_SYSTEM_OPTIONS_VERSION));
    so.node_id = "node-a"; /* pump mode: this program would move the messages */
    dd_system *node = NULL;
    CHECK(dd_system_open(&node, &so));

    dd_replica_options ro;
    CHECK(dd_replica_options_init(&ro, DD_REPLICA_OPTIONS_VERSION));
    dd_replica *replica = NULL;
    CHECK(dd_replica_open(&replica, node, &ro));

    int rc = run(node, replica);
    dd_replica_close(replica);
    dd_system_close(node);
    return rc;
}
