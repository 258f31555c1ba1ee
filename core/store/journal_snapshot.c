/*
 * Snapshots through the journal handle: each sealed bound to (pid, seq,
 * timestamp) like the events are, pruned to snapshot_keep after a save.
 * Apart from journal.c because snapshots share only the handle and its
 * lock with the event log.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/binding.h"
#include "store/journal_internal.h"
#include "util/error.h"
#include "util/status.h"

static void snapshot_aad(bytes *aad, const uint8_t *pid, size_t pid_len, uint64_t seq, uint64_t ts)
{
    store_bind_snapshot(aad, pid, pid_len, seq, ts);
}

int journal_snapshot_save(journal *j, const uint8_t *pid, size_t pid_len, uint64_t seq,
                          uint64_t timestamp_ms, const uint8_t *data, size_t len)
{
    int rc = journal_check_call(j, pid, pid_len);
    if (rc != ST_OK)
        return rc;
    if (!data && len)
        return error_set(ST_EINVAL, "snapshot data is NULL with length %zu", len);
    if (seq > STORE_SEQ_MAX || timestamp_ms > STORE_SEQ_MAX)
        return error_set(ST_EINVAL, "snapshot sequence number or timestamp out of range");
    if (len > j->opts.max_event_bytes)
        return error_set(ST_ELIMIT, "snapshot is %zu bytes, at most %llu", len,
                         (unsigned long long)j->opts.max_event_bytes);
    bytes aad = BYTES_INIT, sealed = BYTES_INIT;
    if (j->seal) {
        snapshot_aad(&aad, pid, pid_len, seq, timestamp_ms);
        rc = aad.failed ? error_oom() : seal_blob(j->seal, aad.data, aad.len, data, len, &sealed);
        if (rc != ST_OK)
            goto done;
        data = sealed.data;
        len = sealed.len;
    }
    pthread_mutex_lock(&j->mu);
    rc = j->be->ops->snapshot_save(j->be, pid, pid_len, seq, timestamp_ms, data, len);
    if (rc == ST_OK && j->opts.snapshot_keep) {
        /* Pruning is housekeeping: the snapshot is saved, so a failure here
         * is left for the next save to retry. */
        int code = error_code();
        char msg[ERROR_MESSAGE_MAX];
        /* error_message() may be a short literal: copy the string, not
         * ERROR_MESSAGE_MAX bytes (clang's ASan caught the over-read). */
        snprintf(msg, sizeof(msg), "%s", error_message());
        if (j->be->ops->snapshot_prune(j->be, pid, pid_len, j->opts.snapshot_keep) != ST_OK)
            error_set(code, "%s", msg);
    }
    pthread_mutex_unlock(&j->mu);
done:
    bytes_free(&aad);
    bytes_free(&sealed);
    return rc;
}

/* Opens the newest matching snapshot while the engine's buffer is still
 * valid, so a plain record is checked in place and copied once. */
typedef struct load_ctx {
    sealer *seal;
    const uint8_t *pid;
    size_t pid_len;
    uint64_t seq, ts;
    bytes aad, scratch, out;
    int got, rc;
} load_ctx;

static int take_first(void *c, const store_snapshot *s)
{
    load_ctx *l = c;
    l->seq = s->seq;
    l->ts = s->timestamp_ms;
    l->got = 1;
    const uint8_t *view;
    size_t view_len;
    /* The binding of a short pid on the stack: no allocation per load. */
    uint8_t local[128];
    const uint8_t *aad = local;
    size_t aad_len;
    if (STORE_BIND_HEAD_MAX(l->pid_len) + 16 <= sizeof(local)) {
        aad_len = store_bind_snapshot_to(local, l->pid, l->pid_len, s->seq, s->timestamp_ms);
    } else {
        snapshot_aad(&l->aad, l->pid, l->pid_len, s->seq, s->timestamp_ms);
        aad = l->aad.data;
        aad_len = l->aad.len;
    }
    l->rc = l->aad.failed ? error_oom()
                          : seal_open_view(l->seal, aad, aad_len, s->data, s->len, &l->scratch,
                                           &view, &view_len);
    if (l->rc != ST_OK)
        return 1;
    if (view_len && view == l->scratch.data) {
        l->out = l->scratch;
        l->scratch = (bytes)BYTES_INIT;
    } else {
        bytes_put(&l->out, view, view_len);
        if (l->out.failed)
            l->rc = error_oom();
    }
    return 1;
}

static int take_first_bare(void *c, const store_snapshot *s)
{
    load_ctx *l = c;
    l->seq = s->seq;
    l->ts = s->timestamp_ms;
    l->got = 1;
    bytes_put(&l->out, s->data, s->len);
    l->rc = l->out.failed ? error_oom() : ST_OK;
    return 1;
}

int journal_snapshot_load(journal *j, const uint8_t *pid, size_t pid_len,
                          const snapshot_criteria *c, uint64_t *seq, uint64_t *timestamp_ms,
                          bytes *data)
{
    int rc = journal_check_call(j, pid, pid_len);
    if (rc != ST_OK)
        return rc;
    if (!data)
        return error_set(ST_EINVAL, "snapshot load needs a buffer");
    snapshot_criteria any = snapshot_criteria_any();
    load_ctx l = {j->seal, pid, pid_len, 0, 0, BYTES_INIT, BYTES_INIT, BYTES_INIT, 0, ST_OK};
    pthread_mutex_lock(&j->mu);
    rc = j->be->ops->snapshot_find(j->be, pid, pid_len, c ? c : &any,
                                   j->seal ? take_first : take_first_bare, &l);
    pthread_mutex_unlock(&j->mu);
    if (rc == 1 && l.got)
        rc = l.rc;
    if (rc != ST_OK) {
        if (l.got && l.rc != ST_OK)
            error_wrap("snapshot '%.*s' at %llu", error_key_len(pid_len), (const char *)pid,
                       (unsigned long long)l.seq);
        goto done;
    }
    bytes_free(data);
    *data = l.out;
    l.out = (bytes)BYTES_INIT;
    if (seq)
        *seq = l.seq;
    if (timestamp_ms)
        *timestamp_ms = l.ts;
done:
    bytes_free(&l.aad);
    bytes_free(&l.scratch);
    bytes_free(&l.out);
    return rc;
}

int journal_snapshot_delete(journal *j, const uint8_t *pid, size_t pid_len,
                            const snapshot_criteria *c)
{
    int rc = journal_check_call(j, pid, pid_len);
    if (rc != ST_OK)
        return rc;
    if (!c)
        return error_set(ST_EINVAL, "snapshot delete needs criteria");
    pthread_mutex_lock(&j->mu);
    rc = j->be->ops->snapshot_delete(j->be, pid, pid_len, c);
    pthread_mutex_unlock(&j->mu);
    return rc;
}
