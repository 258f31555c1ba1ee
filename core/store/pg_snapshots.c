/*
 * The PostgreSQL engine's snapshots: one row per (pid, seq); find pages
 * newest first, so a caller that takes the first match reads one page.
 */
#include <stdio.h>
#include <string.h>

#include "store/pg_internal.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

int pg_snapshot_save(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t seq,
                     uint64_t ts, const uint8_t *data, size_t len)
{
    if (len > INT32_MAX)
        return error_set(ST_ELIMIT, "postgres: snapshot of %zu bytes is too large", len);
    pg_params p = {0};
    pg_param_blob(&p, pid, pid_len);
    pg_param_u64(&p, seq);
    pg_param_u64(&p, ts);
    pg_param_blob(&p, data, len);
    return pg_command((pg_backend *)b, PQ_S_SAVE, &p, "saving a snapshot");
}

static void criteria_params(pg_params *p, const uint8_t *pid, size_t pid_len,
                            const snapshot_criteria *c, uint64_t max_seq)
{
    p->n = 0;
    pg_param_blob(p, pid, pid_len);
    pg_param_u64(p, c->min_seq);
    pg_param_u64(p, max_seq);
    pg_param_u64(p, c->min_ts);
    pg_param_u64(p, c->max_ts);
}

int pg_snapshot_find(store_backend *b, const uint8_t *pid, size_t pid_len,
                     const snapshot_criteria *c, store_snapshot_fn fn, void *ctx)
{
    pg_backend *pg = (pg_backend *)b;
    uint64_t max_seq = c->max_seq;
    int any = 0;
    for (;;) {
        pg_params p;
        criteria_params(&p, pid, pid_len, c, max_seq);
        pg_param_u64(&p, PG_PAGE_ROWS);
        PGresult *r;
        int rc = pg_run(pg, PQ_S_FIND, &p, "finding a snapshot", &r);
        if (rc != ST_OK)
            return rc;
        int rows = PQntuples(r);
        for (int i = 0; i < rows; i++) {
            store_snapshot snap;
            any = 1;
            snap.seq = pg_col_u64(r, i, 0);
            snap.timestamp_ms = pg_col_u64(r, i, 1);
            snap.data = pg_col_blob(r, i, 2, &snap.len);
            if ((rc = fn(ctx, &snap)) != 0) {
                PQclear(r);
                return rc;
            }
        }
        uint64_t last = rows ? pg_col_u64(r, rows - 1, 0) : 0;
        PQclear(r);
        if (rows < PG_PAGE_ROWS || last == 0)
            break;
        max_seq = last - 1;
    }
    if (!any)
        return error_set(ST_ENOTFOUND, "no snapshot of '%.*s' matches", error_key_len(pid_len),
                         (const char *)pid);
    return ST_OK;
}

int pg_snapshot_delete(store_backend *b, const uint8_t *pid, size_t pid_len,
                       const snapshot_criteria *c)
{
    pg_params p;
    criteria_params(&p, pid, pid_len, c, c->max_seq);
    return pg_command((pg_backend *)b, PQ_S_DELETE, &p, "deleting snapshots");
}

int pg_snapshot_prune(store_backend *b, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    pg_params p = {0};
    pg_param_blob(&p, pid, pid_len);
    pg_param_u64(&p, keep);
    return pg_command((pg_backend *)b, PQ_S_PRUNE, &p, "pruning snapshots");
}
