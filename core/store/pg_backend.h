/*
 * The PostgreSQL engine: one journal, snapshot store and state store shared
 * by every node that reaches the server. See pg_backend.c for the schema,
 * why the global ordering is taken under a lock, and how a lost connection
 * is handled.
 */
#ifndef DD_STORE_PG_BACKEND_H
#define DD_STORE_PG_BACKEND_H

#include "store/backend.h"
#include "store/state_store.h"

typedef struct pg_options {
    /* Server-side statement_timeout; a statement that runs longer fails
     * with ST_ETIMEOUT. 0: no timeout. */
    int statement_timeout_ms;
} pg_options;

static inline pg_options pg_options_default(void)
{
    pg_options o = {0};
    return o;
}

/* Connects with a libpq connection string or URI (TLS and authentication
 * are libpq's), creates or migrates the schema as needed and prepares the
 * statements. A role that may not create tables gets ST_EUNSUPPORTED with
 * the server's message when the tables are missing. opts may be NULL. */
int store_backend_open_postgres(store_backend **out, const char *conninfo, const pg_options *opts);

/* An unsealed state store on PostgreSQL; opts may be NULL. */
int state_store_open_postgres(state_store **out, const char *conninfo, const pg_options *opts);

/* The SQL that creates the current schema, for a privileged role to run
 * by hand (`ddata schema postgres`). Static; never NULL. */
const char *pg_schema_sql(void);

#endif
