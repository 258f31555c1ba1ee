/*
 * dd_journal and dd_snapshot_*: the handle layer over core/store/journal.
 * The journal's cursors live in abi/dd_journal_cursor.c; the store
 * options it opens with are read by abi/dd_store.c (abi/dd_store.h).
 */
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "dd_journal_cursor.h"
#include "dd_store.h"
#include "store_call_internal.h"
#include "store/journal.h"
#include "store/recovery.h"
#include "store/state_store.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/alloc.h"
static void journal_destroy(void *obj)
{
    journal_close(obj);
}

int abi_impl_dd_journal_open(dd_journal **out, const dd_store_options *opts)
{
    ABI_REQUIRE(out, "out");
    *out = NULL;
    store_backend *be;
    sealer *seal;
    journal_options jo;
    int rc = abi_store_open_parts(opts, &be, &seal, &jo);
    if (rc != DD_OK)
        return rc;
    journal *j;
    if ((rc = journal_open_backend(&j, be, seal, &jo)) != ST_OK)
        return rc;
    uintptr_t h = abi_store_register(j, HK_JOURNAL, journal_destroy);
    *out = (dd_journal *)h;
    return h ? DD_OK : DD_ENOMEM;
}

int abi_impl_dd_journal_close(dd_journal *journal)
{
    return handle_close(journal, HK_JOURNAL, "journal");
}

int abi_impl_dd_journal_append(dd_journal *jh, const uint8_t *pid, size_t pid_len,
                               uint64_t expected_seq, const dd_append_event *events, size_t count)
{
    STORE_ACQUIRE(journal, j, jh, HK_JOURNAL, "journal");
    /* dd_append_event and journal_event_in have the same fields; copying keeps
     * the public struct free to grow. */
    journal_event_in stack[16];
    journal_event_in *in = count <= 16 ? stack : alloc_array(count, sizeof(*in));
    int rc;
    if (!in) {
        rc = error_oom();
        goto done;
    }
    for (size_t i = 0; events && i < count; i++) {
        in[i].payload = events[i].payload;
        in[i].len = events[i].len;
        in[i].timestamp_ms = events[i].timestamp_ms;
        in[i].tags = events[i].tags;
        in[i].tag_count = events[i].tag_count;
    }
    rc = journal_append(j, pid, pid_len, expected_seq, events ? in : NULL, count);
    if (in != stack)
        free(in);
done:
    handle_release(jh);
    return rc;
}

int abi_impl_dd_journal_highest_seq(uint64_t *out, dd_journal *jh, const uint8_t *pid,
                                    size_t pid_len)
{
    ABI_REQUIRE(out, "out");
    STORE_CALL(journal, j, jh, HK_JOURNAL, "journal", journal_highest(j, pid, pid_len, out));
}

int abi_impl_dd_journal_delete_to(dd_journal *jh, const uint8_t *pid, size_t pid_len,
                                  uint64_t to_seq)
{
    STORE_CALL(journal, j, jh, HK_JOURNAL, "journal", journal_delete_to(j, pid, pid_len, to_seq));
}

/* ---- snapshots -------------------------------------------------------- */

int abi_impl_dd_snapshot_criteria_init(dd_snapshot_criteria *criteria, uint32_t version)
{
    ABI_INIT_DEFAULTS(criteria, "criteria", dd_snapshot_criteria, version,
                      DD_SNAPSHOT_CRITERIA_VERSION, DD_SNAPSHOT_CRITERIA_INIT);
}

static uint64_t clamp(uint64_t v)
{
    return v > STORE_SEQ_MAX ? STORE_SEQ_MAX : v;
}

static int criteria_in(const dd_snapshot_criteria *in, snapshot_criteria *out)
{
    *out = snapshot_criteria_any();
    if (!in)
        return DD_OK;
    ABI_REQUIRE_VERSION("dd_snapshot_criteria", in->version, DD_SNAPSHOT_CRITERIA_VERSION);
    out->min_seq = clamp(in->min_seq);
    out->max_seq = clamp(in->max_seq);
    out->min_ts = clamp(in->min_timestamp_ms);
    out->max_ts = clamp(in->max_timestamp_ms);
    return DD_OK;
}

int abi_impl_dd_snapshot_save(dd_journal *jh, const uint8_t *pid, size_t pid_len, uint64_t seq,
                              uint64_t timestamp_ms, const uint8_t *state, size_t len)
{
    STORE_CALL(journal, j, jh, HK_JOURNAL, "journal",
               journal_snapshot_save(j, pid, pid_len, seq, timestamp_ms, state, len));
}

int abi_impl_dd_snapshot_load(dd_buf *out, uint64_t *seq, uint64_t *timestamp_ms, dd_journal *jh,
                              const uint8_t *pid, size_t pid_len,
                              const dd_snapshot_criteria *criteria)
{
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    snapshot_criteria c;
    int rc = criteria_in(criteria, &c);
    if (rc != DD_OK)
        return rc;
    STORE_ACQUIRE(journal, j, jh, HK_JOURNAL, "journal");
    bytes b = BYTES_INIT;
    rc = journal_snapshot_load(j, pid, pid_len, &c, seq, timestamp_ms, &b);
    handle_release(jh);
    if (rc == ST_OK)
        return abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}

int abi_impl_dd_snapshot_delete(dd_journal *jh, const uint8_t *pid, size_t pid_len, uint64_t seq)
{
    snapshot_criteria c = snapshot_criteria_any();
    c.min_seq = c.max_seq = clamp(seq);
    STORE_CALL(journal, j, jh, HK_JOURNAL, "journal", journal_snapshot_delete(j, pid, pid_len, &c));
}

int abi_impl_dd_snapshot_delete_matching(dd_journal *jh, const uint8_t *pid, size_t pid_len,
                                         const dd_snapshot_criteria *criteria)
{
    snapshot_criteria c;
    int rc = criteria_in(criteria, &c);
    if (rc != DD_OK)
        return rc;
    STORE_CALL(journal, j, jh, HK_JOURNAL, "journal", journal_snapshot_delete(j, pid, pid_len, &c));
}

/* ---- persistence strategies and recovery ------------------------------ */

int abi_impl_dd_persist_options_init(dd_persist_options *opts, uint32_t version)
{
    ABI_INIT_DEFAULTS(opts, "opts", dd_persist_options, version, DD_PERSIST_OPTIONS_VERSION,
                      DD_PERSIST_OPTIONS_INIT);
}

int abi_impl_dd_journal_persist(uint64_t *out, dd_journal *jh, const uint8_t *pid, size_t pid_len,
                                uint64_t expected_seq, const dd_append_event *event,
                                const uint8_t *state, size_t state_len,
                                const dd_persist_options *opts)
{
    ABI_REQUIRE(event, "event");
    ABI_REQUIRE(opts, "opts");
    ABI_REQUIRE_VERSION("dd_persist_options", opts->version, DD_PERSIST_OPTIONS_VERSION);
    journal_event_in in = {event->payload, event->len, event->timestamp_ms, event->tags,
                           event->tag_count};
    persist_options po = {(persist_strategy)opts->strategy, opts->snapshot_every,
                          opts->compact != 0};
    STORE_CALL(journal, j, jh, HK_JOURNAL, "journal",
               persist_event(j, pid, pid_len, expected_seq, &in, state, state_len, &po, out));
}

typedef struct recover_ctx {
    dd_recover_snapshot_fn on_snapshot;
    dd_recover_event_fn on_event;
    void *ctx;
    char **tags;
    char *tag_block;
} recover_ctx;

/* What a callback's return becomes (DD_CALLBACK_CODE_MAX): a code of its
 * own, DD_ECALLBACK naming it; a DD_E* status, itself, keeping the message
 * of a ddata failure the callback forwards (one it set while running). */
static int callback_status(int rc, const char *which, unsigned long serial_before)
{
    if (rc == 0)
        return 0;
    if (rc > 0)
        return error_set(DD_ECALLBACK, "recovery callback %s stopped with code %d", which, rc);
    if (rc < DD_ECALLBACK)
        return error_set(DD_ECALLBACK, "recovery callback %s returned %d, not a DD_E* status",
                         which, rc);
    if (error_serial() != serial_before && error_code() == rc)
        return error_wrap("recovery callback %s", which);
    return error_set(rc, "recovery callback %s returned %s", which, dd_status_name(rc));
}

static int recover_snapshot(void *c, uint64_t seq, const uint8_t *state, size_t len)
{
    recover_ctx *r = c;
    if (!r->on_snapshot)
        return 0;
    unsigned long serial = error_serial();
    int rc = r->on_snapshot(r->ctx, seq, state ? state : (const uint8_t *)"", len);
    return callback_status(rc, "on_snapshot", serial);
}

static int recover_event(void *c, const store_event *ev)
{
    recover_ctx *r = c;
    dd_journal_event e;
    size_t n;
    int rc = abi_journal_tags_decode(ev->tags, ev->tags_len, &r->tags, &r->tag_block, &n);
    if (rc != DD_OK)
        return rc;
    e.seq = ev->seq;
    e.timestamp_ms = ev->timestamp_ms;
    e.ordering = ev->ordering;
    e.pid = ev->pid;
    e.pid_len = ev->pid_len;
    e.payload = ev->payload;
    e.len = ev->payload_len;
    e.tags = n ? (const char *const *)r->tags : NULL;
    e.tag_count = n;
    unsigned long serial = error_serial();
    return callback_status(r->on_event(r->ctx, &e), "on_event", serial);
}

int abi_impl_dd_journal_recover(uint64_t *out, dd_journal *jh, const uint8_t *pid, size_t pid_len,
                                dd_recover_snapshot_fn on_snapshot, dd_recover_event_fn on_event,
                                void *ctx)
{
    ABI_REQUIRE(on_event, "on_event");
    STORE_ACQUIRE(journal, j, jh, HK_JOURNAL, "journal");
    recover_ctx r = {on_snapshot, on_event, ctx, NULL, NULL};
    int rc = recover(j, pid, pid_len, recover_snapshot, recover_event, &r, out);
    free(r.tags);
    free(r.tag_block);
    handle_release(jh);
    return rc;
}
