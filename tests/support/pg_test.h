/*
 * Reaching the PostgreSQL server the tests run against: DDATA_PG_URL when
 * the user points the tests at their own server, else the URL the ctest
 * fixture's throwaway server (tools/pg-test-server.sh) wrote to
 * DDATA_PG_URL_FILE. Each test case gets its own schema (a fresh
 * search_path), so cases never see each other's rows. Header-only: the
 * store tests link libpq through dd_store already.
 */
#ifndef DD_TEST_PG_TEST_H
#define DD_TEST_PG_TEST_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_url.h"
#include "test.h"

/* A schema name for `key` (a test directory): t_<64-bit FNV-1a in hex>. */
static inline void pg_test_schema_name(char *out, size_t n, const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = key; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    snprintf(out, n, "t_%016llx", (unsigned long long)h);
}

/* The connection string for `schema` (its search_path). */
static inline void pg_test_conninfo(char *out, size_t n, const char *schema)
{
    const char *url = pg_test_url();
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
        snprintf(out, n, "%s%soptions=-csearch_path%%3D%s", url, strchr(url, '?') ? "&" : "?",
                 schema);
    else
        snprintf(out, n, "%s options='-csearch_path=%s'", url, schema);
}

static inline void pg_test_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs SQL on the server (outside any test schema). */
static inline void pg_test_exec(const char *sql)
{
    PGconn *c = PQconnectdb(pg_test_url());
    ASSERT_MSG(PQstatus(c) == CONNECTION_OK, "connecting to %s: %s", pg_test_url(),
               PQerrorMessage(c));
    PQsetNoticeProcessor(c, pg_test_quiet, NULL);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    ASSERT_MSG(ok, "%s: %s", sql, msg);
}

/* Drops and creates `schema`. */
static inline void pg_test_fresh_schema(const char *schema)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
             schema);
    pg_test_exec(sql);
}

#endif
