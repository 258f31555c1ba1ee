/*
 * Persistence strategies and recovery. See recovery.h.
 *
 * Recovery reads events in pages into its own memory and applies them
 * with no lock held, so an apply function may itself use the journal.
 */
#include "store/recovery.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/status.h"

#define RECOVERY_PAGE 256u
#define DEFAULT_SNAPSHOT_EVERY 100u

int persist_event(journal *j, const uint8_t *pid, size_t pid_len, uint64_t expected_seq,
                  const journal_event_in *event, const uint8_t *state, size_t state_len,
                  const persist_options *opts, uint64_t *new_seq)
{
    if (!opts || (opts->strategy != PERSIST_LIGHT && opts->strategy != PERSIST_FULL))
        return error_set(ST_EINVAL, "persistence strategy must be light or full");
    if (!state && state_len)
        return error_set(ST_EINVAL, "state is NULL with length %zu", state_len);
    int rc = journal_append(j, pid, pid_len, expected_seq, event, 1);
    if (rc != ST_OK)
        return rc;
    uint64_t seq = expected_seq + 1;
    if (new_seq)
        *new_seq = seq;
    uint64_t every = opts->snapshot_every ? opts->snapshot_every : DEFAULT_SNAPSHOT_EVERY;
    if (opts->strategy == PERSIST_FULL && seq % every != 0)
        return ST_OK;
    /* The event is durable; what follows only shortens the next recovery,
     * so its failure is not the caller's (the error stays readable). */
    if (journal_snapshot_save(j, pid, pid_len, seq, event->timestamp_ms, state, state_len) != ST_OK)
        return ST_OK;
    if (opts->strategy == PERSIST_FULL && opts->compact)
        (void)journal_delete_to(j, pid, pid_len, seq);
    return ST_OK;
}

typedef struct page_item {
    store_event ev;
    size_t payload_off, tags_off;
} page_item;

typedef struct page {
    page_item items[RECOVERY_PAGE];
    size_t n;
    bytes arena;
} page;

static int collect(void *ctx, const store_event *ev)
{
    page *p = ctx;
    page_item *it = &p->items[p->n];
    it->ev = *ev;
    it->payload_off = p->arena.len;
    bytes_put(&p->arena, ev->payload, ev->payload_len);
    it->tags_off = p->arena.len;
    bytes_put(&p->arena, ev->tags, ev->tags ? ev->tags_len : 0);
    if (p->arena.failed)
        return error_oom();
    p->n++;
    return 0;
}

typedef struct snap_take {
    bytes data;
    uint64_t seq;
} snap_take;

int recover(journal *j, const uint8_t *pid, size_t pid_len, recover_snapshot_fn on_snapshot,
            recover_event_fn on_event, void *ctx, uint64_t *recovered_seq)
{
    if (!on_event)
        return error_set(ST_EINVAL, "recovery needs an event function");
    uint64_t highest;
    int rc = journal_highest(j, pid, pid_len, &highest);
    if (rc != ST_OK)
        return rc;
    bytes snap = BYTES_INIT;
    uint64_t next = 1;
    page *p = calloc(1, sizeof(*p));
    if (!p)
        return error_oom();
    uint64_t snap_seq = 0;
    rc = journal_snapshot_load(j, pid, pid_len, NULL, &snap_seq, NULL, &snap);
    if (rc == ST_OK) {
        if (on_snapshot && (rc = on_snapshot(ctx, snap_seq, snap.data, snap.len)) != 0)
            goto done;
        next = snap_seq + 1;
    } else if (rc != ST_ENOTFOUND) {
        goto done;
    }
    rc = ST_OK;
    while (next <= highest) {
        p->n = 0;
        bytes_reset(&p->arena);
        if ((rc = journal_replay(j, pid, pid_len, next, highest, RECOVERY_PAGE, collect, p)) !=
            ST_OK)
            goto done;
        if (p->n == 0 || p->items[0].ev.seq != next) {
            rc = error_set(ST_ECORRUPT,
                           "journal '%.*s': event %llu is missing (highest is %llu); refusing "
                           "to recover a state with a gap",
                           error_key_len(pid_len), (const char *)pid, (unsigned long long)next,
                           (unsigned long long)highest);
            goto done;
        }
        for (size_t i = 0; i < p->n; i++) {
            store_event ev = p->items[i].ev;
            if (ev.seq != next) {
                rc = error_set(ST_ECORRUPT,
                               "journal '%.*s': event %llu is missing (found %llu next)",
                               error_key_len(pid_len), (const char *)pid, (unsigned long long)next,
                               (unsigned long long)ev.seq);
                goto done;
            }
            ev.payload = p->arena.data + p->items[i].payload_off;
            ev.tags = ev.tags ? p->arena.data + p->items[i].tags_off : NULL;
            ev.pid = pid;
            ev.pid_len = pid_len;
            if ((rc = on_event(ctx, &ev)) != 0)
                goto done;
            next++;
        }
    }
    if (recovered_seq)
        *recovered_seq = next - 1;
done:
    bytes_free(&snap);
    bytes_free(&p->arena);
    free(p);
    return rc;
}
