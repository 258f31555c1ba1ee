/*
 * DD_BACKEND_POSTGRES through the public ABI, against the test server: a
 * journal and a state store opened with a connection URI, the schema SQL
 * for a role that may not create tables, and clear errors for a bad URI.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ddata.h"
#include "pg_test.h"
#include "test.h"

#define B(str) (const uint8_t *)(str), strlen(str)

/* Options for a fresh schema of this test's own. */
static dd_store_options pg_options(void)
{
    static char conninfo[1400];
    char schema[40];
    pg_test_schema_name(schema, sizeof(schema), test_tmpdir());
    pg_test_fresh_schema(schema);
    pg_test_conninfo(conninfo, sizeof(conninfo), schema);
    dd_store_options o;
    ASSERT_EQ_INT(dd_store_options_init(&o, DD_STORE_OPTIONS_VERSION), DD_OK);
    o.backend = DD_BACKEND_POSTGRES;
    o.path = conninfo;
    return o;
}

TEST(test_postgres_journal_and_state_store_through_the_abi)
{
    dd_store_options o = pg_options();
    char pid[64];
    snprintf(pid, sizeof(pid), "abi-%llu-%ld", (unsigned long long)test_seed(), (long)time(NULL));
    dd_journal *j;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_OK);
    dd_append_event ev = {B("hello"), 1, NULL, 0};
    ASSERT_EQ_INT(dd_journal_append(j, B(pid), 0, &ev, 1), DD_OK);
    ASSERT_EQ_INT(dd_journal_append(j, B(pid), 0, &ev, 1), DD_ECONFLICT);
    uint64_t h = 0;
    ASSERT_EQ_INT(dd_journal_highest_seq(&h, j, B(pid)), DD_OK);
    ASSERT_EQ_U64(h, 1);
    ASSERT_EQ_INT(dd_journal_close(j), DD_OK);

    dd_state_store *s;
    ASSERT_EQ_INT(dd_state_store_open(&s, &o), DD_OK);
    uint64_t rev = 0;
    ASSERT_EQ_INT(dd_state_store_upsert(&rev, s, B(pid), 0, B("v1")), DD_OK);
    ASSERT_EQ_U64(rev, 1);
    ASSERT_EQ_INT(dd_state_store_upsert(&rev, s, B(pid), 0, B("v2")), DD_ECONFLICT);
    ASSERT_EQ_INT(dd_state_store_close(s), DD_OK);
}

TEST(test_postgres_schema_sql_and_bad_uris)
{
    dd_buf sql;
    ASSERT_EQ_INT(dd_store_schema(&sql, DD_BACKEND_POSTGRES), DD_OK);
    ASSERT(sql.len > 0 && memmem(sql.data, sql.len, "CREATE TABLE ddata_journal", 26));
    dd_buf_free(&sql);
    ASSERT_EQ_INT(dd_store_schema(&sql, DD_BACKEND_SQLITE), DD_EUNSUPPORTED);

    dd_store_options o = pg_options();
    o.path = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2";
    dd_journal *j = NULL;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_EIO);
    ASSERT(strstr(dd_error_last()->message, "postgres: connecting"));
    o.path = "this is not=a connection string'";
    ASSERT(dd_journal_open(&j, &o) != DD_OK);
    o.path = NULL;
    ASSERT_EQ_INT(dd_journal_open(&j, &o), DD_EINVAL);
}
