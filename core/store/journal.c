/*
 * The journal: argument checks, locking and sealing above an engine. See
 * journal.h for the contract; the engines (backend.h) do the storing.
 * Snapshots, which share only the handle and its lock, are in
 * journal_snapshot.c.
 */
#include "store/journal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "obs/store_latency.h"
#include "seal/plain.h"
#include "store/binding.h"
#include "store/journal_internal.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

int journal_open_backend(journal **out, store_backend *be, sealer *seal,
                         const journal_options *opts)
{
    if (!out || !be) {
        sealer_free(seal);
        return error_set(ST_EINVAL, "journal: backend must not be NULL");
    }
    *out = NULL;
    journal *j = calloc(1, sizeof(*j));
    if (!j) {
        be->ops->close(be);
        sealer_free(seal);
        return error_oom();
    }
    j->opts = opts ? *opts : journal_options_default();
    if (!seal && !j->opts.bare_records) {
        /* Unsealed records still get the plain envelope (checksum, and
         * compression when asked): seal/plain.h. */
        int rc = store_plain_sealer(&seal);
        if (rc != ST_OK) {
            be->ops->close(be);
            free(j);
            return rc;
        }
    }
    j->be = be;
    j->seal = seal;
    if (!j->opts.max_event_bytes)
        j->opts.max_event_bytes = journal_options_default().max_event_bytes;
    pthread_mutex_init(&j->mu, NULL);
    *out = j;
    return ST_OK;
}

int journal_open_memory(journal **out)
{
    store_backend *be;
    int rc = store_backend_open_memory(&be);
    if (rc != ST_OK)
        return rc;
    return journal_open_backend(out, be, NULL, NULL);
}

void journal_close(journal *j)
{
    if (!j)
        return;
    j->be->ops->close(j->be);
    sealer_free(j->seal);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

int journal_check_call(const journal *j, const uint8_t *pid, size_t pid_len)
{
    return store_check_call(j, "journal", pid, pid_len, "persistence id");
}

static void event_aad(bytes *aad, const uint8_t *pid, size_t pid_len, uint64_t seq, uint64_t ts,
                      const uint8_t *tags, size_t tags_len)
{
    store_bind_event(aad, pid, pid_len, seq, ts, tags, tags_len);
}

int journal_append(journal *j, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                   const journal_event_in *events, size_t count)
{
    int rc = journal_check_call(j, pid, pid_len);
    if (rc != ST_OK)
        return rc;
    if (!events || !count)
        return error_set(ST_EINVAL, "journal append needs at least one event");
    if (count > JOURNAL_MAX_BATCH)
        return error_set(ST_ELIMIT, "%zu events in one append, at most %u", count,
                         JOURNAL_MAX_BATCH);
    if (expected_seq >= STORE_SEQ_MAX || STORE_SEQ_MAX - expected_seq < count)
        return error_set(ST_ELIMIT, "journal sequence numbers would pass %llu",
                         (unsigned long long)STORE_SEQ_MAX);
    store_event *out = alloc_array(count, sizeof(*out));
    bytes *tags = alloc_array(count, sizeof(*tags));
    /* Sealed (or plain-enveloped) payloads go into one arena, placed by
     * offset until it stops growing: one allocation per append, not per
     * event. */
    size_t *offs = j->seal ? alloc_array(count, sizeof(*offs)) : NULL;
    bytes blobs = BYTES_INIT, aad = BYTES_INIT;
    if (!out || !tags || (j->seal && !offs)) {
        free(out);
        free(tags);
        free(offs);
        return error_oom();
    }
    for (size_t i = 0; i < count; i++)
        tags[i] = (bytes)BYTES_INIT;
    for (size_t i = 0; i < count; i++) {
        const journal_event_in *e = &events[i];
        if (!e->payload && e->len) {
            rc = error_set(ST_EINVAL, "event %zu: payload is NULL with length %zu", i, e->len);
            goto done;
        }
        if (e->len > j->opts.max_event_bytes) {
            rc = error_set(ST_ELIMIT, "event %zu is %zu bytes, at most %llu", i, e->len,
                           (unsigned long long)j->opts.max_event_bytes);
            goto done;
        }
        if (e->timestamp_ms > STORE_SEQ_MAX) {
            rc = error_set(ST_EINVAL, "event %zu: timestamp out of range", i);
            goto done;
        }
        if (e->tag_count && (rc = store_tags_encode(&tags[i], e->tags, e->tag_count)) != ST_OK) {
            error_wrap("event %zu", i);
            goto done;
        }
        out[i].seq = expected_seq + i + 1;
        out[i].timestamp_ms = e->timestamp_ms;
        out[i].payload = e->payload;
        out[i].payload_len = e->len;
        out[i].tags = tags[i].len ? tags[i].data : NULL;
        out[i].tags_len = tags[i].len;
        if (offs) {
            event_aad(&aad, pid, pid_len, out[i].seq, e->timestamp_ms, out[i].tags,
                      out[i].tags_len);
            if (aad.failed) {
                rc = error_oom();
                goto done;
            }
            offs[i] = blobs.len;
            rc = seal_blob(j->seal, aad.data, aad.len, e->payload, e->len, &blobs);
            if (rc != ST_OK)
                goto done;
            out[i].payload_len = blobs.len - offs[i];
        }
    }
    for (size_t i = 0; offs && i < count; i++)
        out[i].payload = blobs.data + offs[i];
    uint64_t started_ns = store_latency_start();
    pthread_mutex_lock(&j->mu);
    rc = j->be->ops->journal_append(j->be, pid, pid_len, expected_seq, out, count);
    pthread_mutex_unlock(&j->mu);
    store_latency_record(STORE_LATENCY_APPEND, started_ns);
done:
    for (size_t i = 0; i < count; i++)
        bytes_free(&tags[i]);
    bytes_free(&aad);
    bytes_free(&blobs);
    free(out);
    free(tags);
    free(offs);
    return rc;
}

typedef struct unseal_ctx {
    sealer *seal;
    store_event_fn fn;
    void *ctx;
    bytes aad, plain;
    const uint8_t *view;
    size_t view_len;
} unseal_ctx;

static int unseal_event(void *c, const store_event *ev)
{
    unseal_ctx *u = c;
    event_aad(&u->aad, ev->pid, ev->pid_len, ev->seq, ev->timestamp_ms, ev->tags, ev->tags_len);
    int rc = u->aad.failed ? error_oom()
                           : seal_open_view(u->seal, u->aad.data, u->aad.len, ev->payload,
                                            ev->payload_len, &u->plain, &u->view, &u->view_len);
    if (rc != ST_OK) {
        if (rc == ST_ECORRUPT)
            store_latency_seal_failure();
        error_wrap("journal '%.*s' event %llu", error_key_len(ev->pid_len), (const char *)ev->pid,
                   (unsigned long long)ev->seq);
        return rc;
    }
    store_event plain = *ev;
    plain.payload = u->view;
    plain.payload_len = u->view_len;
    return u->fn(u->ctx, &plain);
}

/* An unsealed replay of one pid: every record's binding starts with the
 * same kind and pid, so their checksum is computed once (seal/plain.h's
 * reader) and each record continues it over its own seq, timestamp and
 * tags, built on the stack; the body is opened in place. */
typedef struct plain_replay_ctx {
    plain_reader reader;
    store_event_fn fn;
    void *ctx;
    bytes scratch;
} plain_replay_ctx;

static int open_plain_event(void *c, const store_event *ev)
{
    plain_replay_ctx *u = c;
    uint8_t tail[STORE_BIND_TAIL_MAX];
    size_t tags_len = ev->tags ? ev->tags_len : 0;
    size_t tail_len = store_bind_event_tail(tail, ev->seq, ev->timestamp_ms, tags_len);
    store_event plain = *ev;
    int rc = plain_reader_open(&u->reader, tail, tail_len, ev->tags, tags_len, ev->payload,
                               ev->payload_len, &u->scratch, &plain.payload, &plain.payload_len);
    if (rc != ST_OK) {
        error_wrap("journal '%.*s' event %llu", (int)(ev->pid_len > 64 ? 64 : ev->pid_len),
                   (const char *)ev->pid, (unsigned long long)ev->seq);
        return rc;
    }
    return u->fn(u->ctx, &plain);
}

/* What a replay must hand out, checked as it goes: sequence numbers
 * contiguous from the first expected one (the range's start above the
 * delete-to mark), orderings strictly increasing. An engine that lost a
 * row, misread an index or returned files in the wrong order is caught
 * here, above every engine, and the read ends with ST_ECORRUPT. */
typedef struct replay_check {
    const uint8_t *pid;
    size_t pid_len;
    uint64_t next_seq; /* the seq the next event must carry; 0: any (head unknown) */
    uint64_t last_ordering;
    uint64_t sent;
    uint64_t bad_seq; /* the event that broke continuity, when gap is set */
    int gap;          /* stopped on a missing or misplaced event */
    int callee_stopped;
    store_event_fn fn;
    void *ctx;
} replay_check;

static int check_replayed(void *c, const store_event *ev)
{
    replay_check *k = c;
    if ((k->next_seq && ev->seq != k->next_seq) ||
        (ev->ordering && k->last_ordering && ev->ordering <= k->last_ordering)) {
        k->gap = 1;
        k->bad_seq = ev->seq;
        return ST_ECORRUPT;
    }
    k->next_seq = ev->seq + 1;
    if (ev->ordering)
        k->last_ordering = ev->ordering;
    k->sent++;
    int rc = k->fn(k->ctx, ev);
    if (rc)
        k->callee_stopped = 1;
    return rc;
}

static int deleted_to(journal *j, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    *out = 0;
    if (!j->be->ops->journal_deleted_to)
        return ST_OK;
    return j->be->ops->journal_deleted_to(j->be, pid, pid_len, out);
}

#define PID_SHOWN(len) error_key_len(len)

static int replay_checked(journal *j, const uint8_t *pid, size_t pid_len, uint64_t from,
                          uint64_t to, uint64_t max, store_event_fn fn, void *ctx)
{
    uint64_t highest, deleted;
    int rc = j->be->ops->journal_highest(j->be, pid, pid_len, &highest);
    if (rc == ST_OK)
        rc = deleted_to(j, pid, pid_len, &deleted);
    if (rc != ST_OK)
        return rc;
    uint64_t first = from > deleted ? from : deleted + 1;
    uint64_t last = to < highest ? to : highest;
    replay_check k = {pid, pid_len, j->be->ops->journal_deleted_to ? first : 0, 0, 0, 0, 0, 0,
                      fn,  ctx};
    if (k.next_seq > to)
        return ST_OK; /* the whole range is deleted */
    for (;;) {
        uint64_t start = k.next_seq ? k.next_seq : from;
        k.gap = 0;
        rc = j->be->ops->journal_replay(j->be, pid, pid_len, start, to, max - k.sent,
                                        check_replayed, &k);
        if (k.callee_stopped)
            return rc;
        if (rc != ST_OK && !k.gap)
            return rc;
        uint64_t missing = k.gap ? k.next_seq : 0;
        if (!k.gap && k.sent < max && k.next_seq && k.next_seq <= last)
            missing = k.next_seq; /* the range ended early */
        if (!missing)
            return ST_OK;
        /* Another process may have deleted the events meanwhile: then the
         * mark moved past them, and the replay goes on above it. */
        uint64_t now_deleted;
        if ((rc = deleted_to(j, pid, pid_len, &now_deleted)) != ST_OK)
            return rc;
        if (missing && now_deleted >= missing && now_deleted > deleted) {
            deleted = now_deleted;
            k.next_seq = now_deleted + 1;
            if (k.next_seq > last)
                return ST_OK;
            continue;
        }
        if (k.gap && k.bad_seq < k.next_seq)
            return error_set(ST_ECORRUPT,
                             "journal '%.*s': event %llu is out of order (expected %llu)",
                             PID_SHOWN(pid_len), (const char *)pid, (unsigned long long)k.bad_seq,
                             (unsigned long long)k.next_seq);
        if (k.gap && k.bad_seq == k.next_seq)
            return error_set(ST_ECORRUPT,
                             "journal '%.*s': event %llu is out of global order (ordering not "
                             "after %llu)",
                             PID_SHOWN(pid_len), (const char *)pid, (unsigned long long)k.bad_seq,
                             (unsigned long long)k.last_ordering);
        if (k.gap)
            return error_set(ST_ECORRUPT, "journal '%.*s': event %llu is missing (found %llu next)",
                             PID_SHOWN(pid_len), (const char *)pid, (unsigned long long)missing,
                             (unsigned long long)k.bad_seq);
        return error_set(ST_ECORRUPT,
                         "journal '%.*s': event %llu is missing (highest is %llu, deleted to "
                         "%llu)",
                         PID_SHOWN(pid_len), (const char *)pid, (unsigned long long)missing,
                         (unsigned long long)highest, (unsigned long long)deleted);
    }
}

int journal_replay(journal *j, const uint8_t *pid, size_t pid_len, uint64_t from, uint64_t to,
                   uint64_t max, store_event_fn fn, void *ctx)
{
    int rc = journal_check_call(j, pid, pid_len);
    if (rc != ST_OK)
        return rc;
    if (!fn)
        return error_set(ST_EINVAL, "journal replay needs a callback");
    if (from > to || max == 0)
        return ST_OK;
    uint64_t started_ns = store_latency_start();
    pthread_mutex_lock(&j->mu);
    if (j->seal && !sealer_is_sealed(j->seal)) {
        plain_replay_ctx u = {.fn = fn, .ctx = ctx, .scratch = BYTES_INIT};
        bytes head = BYTES_INIT;
        if (!bytes_reserve(&head, STORE_BIND_HEAD_MAX(pid_len))) {
            rc = error_oom();
        } else {
            size_t head_len = store_bind_event_head(head.data, pid, pid_len);
            plain_reader_init(&u.reader, sealer_max_plain(j->seal), head.data, head_len);
            rc = replay_checked(j, pid, pid_len, from, to, max, open_plain_event, &u);
        }
        bytes_free(&head);
        bytes_free(&u.scratch);
    } else if (j->seal) {
        unseal_ctx u = {j->seal, fn, ctx, BYTES_INIT, BYTES_INIT, NULL, 0};
        rc = replay_checked(j, pid, pid_len, from, to, max, unseal_event, &u);
        bytes_free(&u.aad);
        bytes_free(&u.plain);
    } else {
        rc = replay_checked(j, pid, pid_len, from, to, max, fn, ctx);
    }
    pthread_mutex_unlock(&j->mu);
    store_latency_record(STORE_LATENCY_REPLAY, started_ns);
    return rc;
}

int journal_highest(journal *j, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    int rc = journal_check_call(j, pid, pid_len);
    if (rc != ST_OK)
        return rc;
    if (!out)
        return error_set(ST_EINVAL, "out must not be NULL");
    pthread_mutex_lock(&j->mu);
    rc = j->be->ops->journal_highest(j->be, pid, pid_len, out);
    pthread_mutex_unlock(&j->mu);
    return rc;
}

int journal_delete_to(journal *j, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    int rc = journal_check_call(j, pid, pid_len);
    if (rc != ST_OK)
        return rc;
    pthread_mutex_lock(&j->mu);
    uint64_t highest;
    rc = j->be->ops->journal_highest(j->be, pid, pid_len, &highest);
    if (rc == ST_OK && highest > 0)
        rc = j->be->ops->journal_delete_to(j->be, pid, pid_len, to < highest ? to : highest);
    pthread_mutex_unlock(&j->mu);
    return rc;
}

int journal_pids(journal *j, const uint8_t *after, size_t after_len, uint64_t limit,
                 store_pid_fn fn, void *ctx)
{
    if (!j)
        return error_set(ST_EMISUSE, "journal is NULL");
    if (!fn || (!after && after_len))
        return error_set(ST_EINVAL, "journal pids: callback and cursor must not be NULL");
    if (!limit)
        return ST_OK;
    pthread_mutex_lock(&j->mu);
    int rc = j->be->ops->journal_pids(j->be, after, after_len, limit, fn, ctx);
    pthread_mutex_unlock(&j->mu);
    return rc;
}

/* By tag: orderings strictly increasing and after the caller's cursor (a
 * projection that resumes "after N" must never see N again). */
typedef struct tag_check {
    uint64_t last_ordering;
    int bad;
    store_event ev;
    store_event_fn fn;
    void *ctx;
} tag_check;

static int check_tagged(void *c, const store_event *ev)
{
    tag_check *t = c;
    if (ev->ordering <= t->last_ordering) {
        t->bad = 1;
        t->ev = *ev;
        return ST_ECORRUPT;
    }
    t->last_ordering = ev->ordering;
    return t->fn(t->ctx, ev);
}

static int by_tag_checked(journal *j, const char *tag, size_t tag_len, uint64_t after, uint64_t max,
                          store_event_fn fn, void *ctx)
{
    tag_check t = {after, 0, {0}, fn, ctx};
    int rc = j->be->ops->journal_by_tag(j->be, (const uint8_t *)tag, tag_len, after, max,
                                        check_tagged, &t);
    if (t.bad)
        rc =
            error_set(ST_ECORRUPT,
                      "journal '%.*s': event %llu tagged '%s' is out of global order (ordering "
                      "%llu, not after %llu)",
                      PID_SHOWN(t.ev.pid_len), (const char *)t.ev.pid, (unsigned long long)t.ev.seq,
                      tag, (unsigned long long)t.ev.ordering, (unsigned long long)t.last_ordering);
    return rc;
}

int journal_by_tag(journal *j, const char *tag, uint64_t after_ordering, uint64_t max,
                   store_event_fn fn, void *ctx)
{
    if (!j)
        return error_set(ST_EMISUSE, "journal is NULL");
    if (!tag || !tag[0] || !fn)
        return error_set(ST_EINVAL, "journal by tag: tag and callback must not be empty");
    size_t tag_len = strlen(tag);
    if (tag_len > STORE_MAX_TAG_BYTES)
        return error_set(ST_ELIMIT, "tag is %zu bytes, at most %u", tag_len, STORE_MAX_TAG_BYTES);
    if (!max)
        return ST_OK;
    int rc;
    pthread_mutex_lock(&j->mu);
    if (j->seal) {
        unseal_ctx u = {j->seal, fn, ctx, BYTES_INIT, BYTES_INIT, NULL, 0};
        rc = by_tag_checked(j, tag, tag_len, after_ordering, max, unseal_event, &u);
        bytes_free(&u.aad);
        bytes_free(&u.plain);
    } else {
        rc = by_tag_checked(j, tag, tag_len, after_ordering, max, fn, ctx);
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}
