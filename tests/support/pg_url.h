/*
 * The URL of the PostgreSQL server the tests run against: DDATA_PG_URL
 * when the user points the tests at their own server, else the URL the
 * ctest fixture's throwaway server (tools/pg-test-server.sh) wrote to
 * DDATA_PG_URL_FILE. Needs no libpq, so the ABI tests share it.
 */
#ifndef DD_TEST_PG_URL_H
#define DD_TEST_PG_URL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* The server's URL; fails the test (never skips) when there is none. */
static inline const char *pg_test_url(void)
{
    static char url[1024];
    if (url[0])
        return url;
    const char *env = getenv("DDATA_PG_URL");
    if (env && env[0]) {
        snprintf(url, sizeof(url), "%s", env);
        return url;
    }
    const char *file = getenv("DDATA_PG_URL_FILE");
    FILE *f = file ? fopen(file, "r") : NULL;
    ASSERT_MSG(f,
               "no PostgreSQL server: set DDATA_PG_URL or run through ctest, whose"
               " postgres.server fixture starts one (DDATA_PG_URL_FILE=%s)",
               file ? file : "(unset)");
    if (!fgets(url, sizeof(url), f))
        url[0] = 0;
    fclose(f);
    url[strcspn(url, "\r\n")] = 0;
    ASSERT_MSG(url[0], "%s is empty", file);
    return url;
}

#endif
