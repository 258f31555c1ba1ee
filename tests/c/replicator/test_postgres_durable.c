/*
 * Shared durable keys: several replicas pointing at one store, with no
 * network between them, each incrementing the same durable counter. A
 * durable write is read-merge-write under compare-and-set, so no replica's
 * increments are lost and a replica started cold from the store alone
 * reads the sum. Run on a real PostgreSQL server (the multi-node case) and
 * on one SQLite file shared by three connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_test.h"
#include "replicator/engine.h"
#include "store/pg_backend.h"
#include "store/sqlite_backend.h"
#include "store/store.h"
#include "test.h"
#include "util/status.h"

enum { REPLICAS = 3, INCREMENTS = 1000 };

typedef int (*open_store_fn)(state_store **out, const char *where);

static int open_pg(state_store **out, const char *conninfo)
{
    return state_store_open_postgres(out, conninfo, NULL);
}

static int open_sqlite(state_store **out, const char *path)
{
    return state_store_open_sqlite(out, path, NULL);
}

static engine *replica(const char *id, state_store *st)
{
    static const engine_pattern all[] = {{(const uint8_t *)"", 0, true}};
    engine_config c;
    engine_config_default(&c);
    c.node_id = id;
    c.store = st;
    c.durable = all;
    c.durable_count = 1;
    engine *e;
    ASSERT_OK(engine_new(&e, &c, 1000000));
    return e;
}

/* The counter's value, read from its JSON form (the first "value" that is
 * a number: {"state":..,"value":{"type":"GCounter","value":N}}). */
static long long counter_value(engine *e, const char *key)
{
    crdt *v = NULL;
    ASSERT_OK(engine_get(e, (const uint8_t *)key, strlen(key), &v));
    bytes j = BYTES_INIT;
    ASSERT_OK(crdt_to_json(v, &j));
    bytes_put_u8(&j, 0);
    const char *at = (const char *)j.data;
    while ((at = strstr(at, "\"value\":")) != NULL && !(at[8] >= '0' && at[8] <= '9'))
        at += 8;
    ASSERT_MSG(at, "no value in %s", (const char *)j.data);
    long long n = strtoll(at + 8, NULL, 10);
    bytes_free(&j);
    crdt_free(v);
    return n;
}

static void replicas_never_lose_each_others_updates(open_store_fn open_store, const char *where)
{
    state_store *stores[REPLICAS + 1];
    engine *e[REPLICAS];
    const char *ids[REPLICAS] = {"a", "b", "c"};
    for (int r = 0; r < REPLICAS; r++) {
        ASSERT_OK(open_store(&stores[r], where));
        e[r] = replica(ids[r], stores[r]);
    }
    /* Interleaved, never exchanging a message: each write meets the
     * others' writes only in the store. */
    crdt_op op = {0};
    op.kind = CRDT_OP_INCREMENT;
    op.amount = 1;
    for (int i = 0; i < INCREMENTS; i++)
        for (int r = 0; r < REPLICAS; r++)
            ASSERT_OK(engine_update(e[r], 1000000 + (uint64_t)i, (const uint8_t *)"hits", 4,
                                    CRDT_GCOUNTER, &op, NULL));
    for (int r = 0; r < REPLICAS; r++) {
        engine_free(e[r]);
        state_store_close(stores[r]);
    }
    ASSERT_OK(open_store(&stores[REPLICAS], where));
    engine *cold = replica("d", stores[REPLICAS]);
    ASSERT_EQ_INT(counter_value(cold, "hits"), REPLICAS * INCREMENTS);
    engine_free(cold);
    state_store_close(stores[REPLICAS]);
}

TEST(test_replicas_sharing_a_postgres_store_never_lose_each_others_updates)
{
    char schema[40], conninfo[1400];
    pg_test_schema_name(schema, sizeof(schema), test_tmpdir());
    pg_test_fresh_schema(schema);
    pg_test_conninfo(conninfo, sizeof(conninfo), schema);
    replicas_never_lose_each_others_updates(open_pg, conninfo);
}

TEST(test_replicas_sharing_a_sqlite_file_never_lose_each_others_updates)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/shared.db", test_tmpdir());
    replicas_never_lose_each_others_updates(open_sqlite, path);
}
