/*
 * The SQLite engine, the embedded default. See sqlite_backend.c for the
 * schema and why it is shaped that way.
 */
#ifndef DD_STORE_SQLITE_BACKEND_H
#define DD_STORE_SQLITE_BACKEND_H

#include "store/backend.h"
#include "store/state_store.h"

typedef struct sqlite_options {
    store_sync sync;           /* STORE_SYNC_NORMAL by default; FULL: acked = on disk */
    int busy_timeout_ms;       /* how long to wait for another writer; 5000 by default */
    const char *snapshot_path; /* NULL: snapshots in the journal's file */
    bool must_exist;           /* refuse a missing or 0-byte file instead of creating one */
    bool read_only;            /* an existing ddata database, SQLITE_OPEN_READONLY */
} sqlite_options;

static inline sqlite_options sqlite_options_default(void)
{
    sqlite_options o = {STORE_SYNC_NORMAL, 5000, NULL, false};
    return o;
}

/* Opens (creating and migrating as needed) the database at `path`. A file
 * it creates is mode 0600 (its -wal and -shm files follow it); anything
 * at `path` that is not a regular file is ST_ECORRUPT.
 * opts may be NULL (defaults). */
int store_backend_open_sqlite(store_backend **out, const char *path, const sqlite_options *opts);

/* An unsealed state store on SQLite (what the replicator's durable keys
 * use); opts may be NULL. */
int state_store_open_sqlite(state_store **out, const char *path, const sqlite_options *opts);

#endif
