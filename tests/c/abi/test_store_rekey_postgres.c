/*
 * dd_store_rekey on a PostgreSQL store (issue 17.5), against the test
 * server: every record moves to key 2 in one transaction with every
 * number kept, key 1 then opens nothing, and a wrong old key changes
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddata.h"
#include "pg_test.h"
#include "store_fixture.h"
#include "test.h"

/* A fresh schema of this test's own; the connection string in `conninfo`. */
static void fresh_store(char *conninfo, size_t n)
{
    char schema[40];
    pg_test_schema_name(schema, sizeof(schema), test_tmpdir());
    pg_test_fresh_schema(schema);
    pg_test_conninfo(conninfo, n, schema);
}

TEST(test_rekey_on_postgres_moves_every_record_and_keeps_every_number)
{
    char conninfo[1400];
    fresh_store(conninfo, sizeof(conninfo));
    dd_keyring *old_ring = fixture_ring(1, 0x11), *new_ring = fixture_ring(2, 0x22),
               *wrong = fixture_ring(1, 0x33);
    dd_store_options with_old = fixture_options(DD_BACKEND_POSTGRES, conninfo, old_ring);
    dd_store_options with_new = fixture_options(DD_BACKEND_POSTGRES, conninfo, new_ring);
    dd_store_options with_wrong = fixture_options(DD_BACKEND_POSTGRES, conninfo, wrong);
    fixture_fill(&with_old, 12);
    int rc;
    char *before = fixture_dump(&with_old, &rc);
    ASSERT_MSG(before, "reading before: %s", dd_error_last()->message);

    ASSERT_EQ_INT(dd_store_rekey(&with_wrong, new_ring, NULL), DD_ECRYPTO);
    ASSERT(strstr(dd_error_last()->message, "rekey: journal 'order-a' event 3"));
    char *unchanged = fixture_dump(&with_old, &rc);
    ASSERT(unchanged);
    ASSERT_STR_EQ(unchanged, before);

    uint64_t records = 0;
    ASSERT_MSG(dd_store_rekey(&with_old, new_ring, &records) == DD_OK, "%s",
               dd_error_last()->message);
    ASSERT_EQ_U64(records, 22 + 6 + 20);
    char *after = fixture_dump(&with_new, &rc);
    ASSERT_MSG(after, "reading with key 2 only: %s", dd_error_last()->message);
    ASSERT_STR_EQ(after, before);
    ASSERT(fixture_dump(&with_old, &rc) == NULL);
    ASSERT_EQ_INT(rc, DD_ECRYPTO);
    free(before);
    free(unchanged);
    free(after);
    dd_keyring_free(old_ring);
    dd_keyring_free(new_ring);
    dd_keyring_free(wrong);
}
