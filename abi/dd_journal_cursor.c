/*
 * dd_journal_cursor: the cursors over a journal (replay, by tag, pids) and
 * over a durable state store (dd_state_store_keys/_range).
 *
 * Cursors read in pages (JOURNAL_CURSOR_PAGE events per core call) into
 * their own memory, so no lock is held between dd_journal_cursor_next
 * calls and a binding can iterate at its own pace; the events a call hands
 * out stay valid until the next call on that cursor. A cursor holds a
 * reference on its journal, so closing the journal first is deferred.
 *
 * The same cursor walks a durable state store's keys and ranges (opened
 * from abi/dd_store.c through abi_state_cursor_new, dd_journal_cursor.h):
 * an item's pid is the key, seq the revision and payload the state, so
 * bindings iterate one cursor type. Those pages resume inclusively from
 * the last key seen and skip it, since the core's range starts at a key
 * rather than after it.
 */
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "dd_journal_cursor.h"
#include "store/journal.h"
#include "store/state_store.h"
#include "store/store.h"
#include "store/tags.h"
#include "util/alloc.h"

#define JOURNAL_CURSOR_PAGE 512u
/* Key listings carry no states, so their pages can be larger; that matters
 * on the fs backend, whose range reads the whole directory per call. */
#define STATE_KEYS_PAGE 4096u

/* ---- cursors ---------------------------------------------------------- */

enum {
    CURSOR_REPLAY,
    CURSOR_TAG,
    CURSOR_PIDS,
    CURSOR_STATE_KEYS,
    CURSOR_STATE_RANGE,
    CURSOR_STATE_SCAN
};

/* A state scan callback's way of saying "past the prefix, stop". */
#define STATE_PAGE_STOP 1

typedef struct cursor_item {
    uint64_t seq, ts, ordering;
    size_t pid_off, pid_len, payload_off, payload_len, tags_off, tags_len;
} cursor_item;

typedef struct journal_cursor {
    int kind;
    const void *parent; /* the dd_journal or dd_state_store, retained */
    journal *j;
    state_store *s;
    bytes query;  /* the pid (replay), the tag (by tag), the last pid (pids),
                     the key to resume at (state) */
    bytes prefix; /* state keys: only keys starting with it */
    bytes end;    /* state scan: the upper bound (empty: none) */
    int start_exclusive, end_inclusive, keys_only; /* state scan */
    uint64_t next_from, to, remaining, after;
    uint64_t seen; /* state: records the core visited for this page */
    int exhausted;
    int reverse;   /* state range walks backward */
    int skip_same; /* state: the page's first key may repeat the last one */
    cursor_item *items;
    size_t n, cap, pos;
    bytes arena; /* pids, payloads and tags of the current page */
    char **tags; /* the current event's tags, NUL-terminated */
    char *tag_block;
} journal_cursor;

static void cursor_destroy(void *obj)
{
    journal_cursor *c = obj;
    handle_release(c->parent);
    bytes_free(&c->query);
    bytes_free(&c->prefix);
    bytes_free(&c->end);
    bytes_free(&c->arena);
    free(c->items);
    free(c->tags);
    free(c->tag_block);
    free(c);
}

static int page_add(journal_cursor *c, const store_event *ev)
{
    if (!array_reserve(&c->items, &c->cap, c->n + 1, sizeof(*c->items)))
        return error_oom();
    cursor_item *it = &c->items[c->n];
    it->seq = ev->seq;
    it->ts = ev->timestamp_ms;
    it->ordering = ev->ordering;
    it->pid_off = c->arena.len;
    it->pid_len = ev->pid_len;
    bytes_put(&c->arena, ev->pid, ev->pid_len);
    it->payload_off = c->arena.len;
    it->payload_len = ev->payload_len;
    bytes_put(&c->arena, ev->payload, ev->payload_len);
    it->tags_off = c->arena.len;
    it->tags_len = ev->tags ? ev->tags_len : 0;
    bytes_put(&c->arena, ev->tags, it->tags_len);
    if (c->arena.failed)
        return error_oom();
    c->n++;
    return 0;
}

static int page_event(void *ctx, const store_event *ev)
{
    return page_add(ctx, ev);
}

static int page_pid(void *ctx, const uint8_t *pid, size_t pid_len)
{
    store_event ev = {0};
    ev.pid = pid;
    ev.pid_len = pid_len;
    return page_add(ctx, &ev);
}

static int page_state(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                      const uint8_t *state, size_t state_len)
{
    journal_cursor *c = ctx;
    c->seen++;
    if (c->skip_same) {
        c->skip_same = 0;
        if (key_len == c->query.len && (!key_len || memcmp(key, c->query.data, key_len) == 0))
            return 0;
    }
    if (c->kind == CURSOR_STATE_KEYS &&
        (key_len < c->prefix.len ||
         (c->prefix.len && memcmp(key, c->prefix.data, c->prefix.len) != 0))) {
        c->exhausted = 1;
        return STATE_PAGE_STOP;
    }
    store_event ev = {0};
    ev.pid = key;
    ev.pid_len = key_len;
    ev.seq = revision;
    if (c->kind == CURSOR_STATE_RANGE) {
        ev.payload = state;
        ev.payload_len = state_len;
    }
    return page_add(c, &ev);
}

/* One page of a state cursor: asks the core for one record more than wanted
 * when resuming, because the first may be the key the last page ended on.
 * Fewer records visited than asked for means the store has no more. */
static int state_fetch(journal_cursor *c, uint64_t want)
{
    int64_t count = (int64_t)want + (c->skip_same ? 1 : 0);
    c->seen = 0;
    int rc = state_store_range(c->s, c->query.len ? c->query.data : NULL, c->query.len,
                               c->reverse ? -count : count, page_state, c);
    if (rc == STATE_PAGE_STOP)
        rc = ST_OK;
    if (c->seen < (uint64_t)count)
        c->exhausted = 1;
    c->skip_same = 0;
    return rc;
}

static int page_scan(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                     const uint8_t *state, size_t state_len)
{
    store_event ev = {0};
    ev.pid = key;
    ev.pid_len = key_len;
    ev.seq = revision;
    ev.payload = state;
    ev.payload_len = state ? state_len : 0;
    return page_add(ctx, &ev);
}

/* One page of a bounded scan. The next page starts after the last key
 * (forward: an exclusive start; reverse: an exclusive end), so a page
 * never reads a record it does not hand out. */
static int scan_fetch(journal_cursor *c, uint64_t want)
{
    state_bounds b = {0};
    b.start = c->query.data;
    b.start_len = c->query.len;
    b.start_exclusive = c->start_exclusive;
    b.end = c->end.data;
    b.end_len = c->end.len;
    b.end_inclusive = c->end_inclusive;
    b.reverse = c->reverse;
    b.keys_only = c->keys_only;
    b.limit = want;
    int rc = state_store_scan_range(c->s, &b, page_scan, c);
    if (rc != ST_OK || c->n < want) {
        c->exhausted = 1;
        return rc;
    }
    const cursor_item *last = &c->items[c->n - 1];
    bytes *resume = c->reverse ? &c->end : &c->query;
    bytes_reset(resume);
    bytes_put(resume, c->arena.data + last->pid_off, last->pid_len);
    if (c->reverse)
        c->end_inclusive = 0;
    else
        c->start_exclusive = 1;
    return resume->failed ? error_oom() : ST_OK;
}

static int cursor_fetch(journal_cursor *c)
{
    c->n = c->pos = 0;
    bytes_reset(&c->arena);
    uint64_t page = c->kind == CURSOR_STATE_KEYS ? STATE_KEYS_PAGE : JOURNAL_CURSOR_PAGE;
    uint64_t want = c->remaining < page ? c->remaining : page;
    int rc;
    switch (c->kind) {
    case CURSOR_REPLAY:
        rc = journal_replay(c->j, c->query.data, c->query.len, c->next_from, c->to, want,
                            page_event, c);
        break;
    case CURSOR_TAG:
        rc = journal_by_tag(c->j, (const char *)c->query.data, c->after, want, page_event, c);
        break;
    case CURSOR_PIDS:
        rc = journal_pids(c->j, c->query.len ? c->query.data : NULL, c->query.len, want, page_pid,
                          c);
        break;
    case CURSOR_STATE_SCAN: rc = scan_fetch(c, want); break;
    default: rc = state_fetch(c, want); break;
    }
    if (rc != ST_OK) {
        c->n = 0;
        return rc;
    }
    if (c->n < want && c->kind != CURSOR_STATE_KEYS && c->kind != CURSOR_STATE_RANGE)
        c->exhausted = 1;
    c->remaining -= c->n;
    if (c->n && c->kind != CURSOR_STATE_SCAN) {
        const cursor_item *last = &c->items[c->n - 1];
        if (last->seq == STORE_SEQ_MAX && c->kind != CURSOR_STATE_KEYS &&
            c->kind != CURSOR_STATE_RANGE)
            c->exhausted = 1;
        c->next_from = last->seq + 1;
        c->after = last->ordering;
        if (c->kind != CURSOR_REPLAY && c->kind != CURSOR_TAG) {
            bytes_reset(&c->query);
            bytes_put(&c->query, c->arena.data + last->pid_off, last->pid_len);
            if (c->query.failed)
                return error_oom();
            c->skip_same = 1;
        }
    }
    return ST_OK;
}

static int cursor_new(dd_journal_cursor **out, const void *parent, int kind, const uint8_t *query,
                      size_t query_len, uint64_t max, journal_cursor **made)
{
    /* Set on every path, so a caller never reads an unset cursor (and gcc
     * -O3 can see that it does not). */
    *made = NULL;
    ABI_REQUIRE(out, "out");
    *out = NULL;
    int state =
        kind == CURSOR_STATE_KEYS || kind == CURSOR_STATE_RANGE || kind == CURSOR_STATE_SCAN;
    void *obj = state ? handle_acquire(parent, HK_STATE_STORE, "state store")
                      : handle_acquire(parent, HK_JOURNAL, "journal");
    if (!obj)
        return DD_EMISUSE;
    journal_cursor *c = calloc(1, sizeof(*c));
    if (!c) {
        handle_release(parent);
        return error_oom();
    }
    c->kind = kind;
    if (state)
        c->s = obj;
    else
        c->j = obj;
    c->parent = parent; /* the acquire's reference now belongs to the cursor */
    c->remaining = max;
    bytes_put(&c->query, query, query_len);
    if (kind == CURSOR_TAG)
        bytes_put_u8(&c->query, 0);
    if (c->query.failed) {
        cursor_destroy(c);
        return error_oom();
    }
    uintptr_t h = handle_register(c, HK_JOURNAL_CURSOR, cursor_destroy);
    if (!h) {
        cursor_destroy(c);
        return DD_ENOMEM;
    }
    *made = c;
    *out = (dd_journal_cursor *)h;
    return DD_OK;
}

int abi_impl_dd_journal_replay(dd_journal_cursor **out, dd_journal *jh, const uint8_t *pid,
                               size_t pid_len, uint64_t from_seq, uint64_t to_seq, uint64_t max)
{
    if (!pid || !pid_len)
        return error_set(DD_EINVAL, "persistence id must not be empty");
    if (pid_len > STORE_MAX_KEY_BYTES)
        return error_set(DD_ELIMIT, "persistence id is %zu bytes, at most %u", pid_len,
                         STORE_MAX_KEY_BYTES);
    journal_cursor *c;
    int rc = cursor_new(out, jh, CURSOR_REPLAY, pid, pid_len, max, &c);
    if (rc == DD_OK) {
        c->next_from = from_seq;
        c->to = to_seq;
        if (from_seq > to_seq)
            c->exhausted = 1;
    }
    return rc;
}

int abi_impl_dd_journal_by_tag(dd_journal_cursor **out, dd_journal *jh, const char *tag,
                               uint64_t after_ordering, uint64_t max)
{
    if (!tag || !tag[0])
        return error_set(DD_EINVAL, "tag must not be empty");
    size_t len = strlen(tag);
    if (len > STORE_MAX_TAG_BYTES)
        return error_set(DD_ELIMIT, "tag is %zu bytes, at most %u", len, STORE_MAX_TAG_BYTES);
    journal_cursor *c;
    int rc = cursor_new(out, jh, CURSOR_TAG, (const uint8_t *)tag, len, max, &c);
    if (rc == DD_OK)
        c->after = after_ordering;
    return rc;
}

int abi_impl_dd_journal_pids(dd_journal_cursor **out, dd_journal *jh, const uint8_t *after,
                             size_t after_len, uint64_t max)
{
    if (!after && after_len)
        return error_set(DD_EINVAL, "after must not be NULL when after_len is %zu", after_len);
    if (after_len > STORE_MAX_KEY_BYTES)
        return error_set(DD_ELIMIT, "after is %zu bytes, at most %u", after_len,
                         STORE_MAX_KEY_BYTES);
    journal_cursor *c;
    return cursor_new(out, jh, CURSOR_PIDS, after, after_len, max, &c);
}

int abi_state_cursor_new(dd_journal_cursor **out, dd_state_store *store, const uint8_t *start,
                         size_t start_len, int keys, int64_t count)
{
    /* |INT64_MIN| does not fit an int64_t, but does a uint64_t. */
    uint64_t max = keys ? UINT64_MAX : count >= 0 ? (uint64_t)count : (uint64_t)(-(count + 1)) + 1u;
    journal_cursor *c;
    int rc = cursor_new(out, store, keys ? CURSOR_STATE_KEYS : CURSOR_STATE_RANGE, start, start_len,
                        max, &c);
    if (rc != DD_OK)
        return rc;
    c->reverse = count < 0;
    if (keys) {
        bytes_put(&c->prefix, start, start_len);
        if (c->prefix.failed) {
            abi_impl_dd_journal_cursor_close(*out);
            *out = NULL;
            return error_oom();
        }
    }
    return DD_OK;
}

int abi_state_scan_cursor_new(dd_journal_cursor **out, dd_state_store *store, const state_bounds *b)
{
    journal_cursor *c;
    int rc = cursor_new(out, store, CURSOR_STATE_SCAN, b->start, b->start_len,
                        b->limit ? b->limit : UINT64_MAX, &c);
    if (rc != DD_OK)
        return rc;
    c->start_exclusive = b->start_exclusive;
    c->end_inclusive = b->end_inclusive;
    c->reverse = b->reverse;
    c->keys_only = b->keys_only;
    bytes_put(&c->end, b->end, b->end_len);
    if (c->end.failed) {
        abi_impl_dd_journal_cursor_close(*out);
        *out = NULL;
        return error_oom();
    }
    return DD_OK;
}

int abi_journal_tags_decode(const uint8_t *blob, size_t len, char ***tags, char **block,
                            size_t *count_out)
{
    free(*tags);
    free(*block);
    *tags = NULL;
    *block = NULL;
    *count_out = 0;
    if (!blob || !len)
        return DD_OK;
    reader r;
    size_t count;
    const uint8_t *t;
    size_t tl;
    int rc = store_tags_begin(&r, blob, len, &count);
    if (rc != ST_OK)
        return rc;
    *tags = alloc_array(count ? count : 1, sizeof(char *));
    *block = malloc(len + count + 1);
    if (!*tags || !*block)
        return error_oom();
    size_t off = 0, n = 0, left = count;
    while ((rc = store_tags_next(&r, &left, &t, &tl)) == 1) {
        memcpy(*block + off, t, tl);
        (*block)[off + tl] = 0;
        (*tags)[n++] = *block + off;
        off += tl + 1;
    }
    if (rc != 0)
        return rc;
    *count_out = n;
    return DD_OK;
}

static int cursor_tags(journal_cursor *c, const cursor_item *it, dd_journal_event *ev)
{
    size_t n;
    int rc = abi_journal_tags_decode(it->tags_len ? c->arena.data + it->tags_off : NULL,
                                     it->tags_len, &c->tags, &c->tag_block, &n);
    ev->tags = n ? (const char *const *)c->tags : NULL;
    ev->tag_count = n;
    return rc;
}

int abi_impl_dd_journal_cursor_next(dd_journal_event *ev, dd_journal_cursor *cursor)
{
    ABI_REQUIRE(ev, "ev");
    memset(ev, 0, sizeof(*ev));
    journal_cursor *c = handle_acquire(cursor, HK_JOURNAL_CURSOR, "journal cursor");
    if (!c)
        return DD_EMISUSE;
    int rc = DD_OK;
    if (c->pos == c->n) {
        if (c->exhausted || c->remaining == 0) {
            rc = DD_EDONE;
            goto done;
        }
        if ((rc = cursor_fetch(c)) != ST_OK)
            goto done;
        if (c->n == 0) {
            rc = DD_EDONE;
            goto done;
        }
    }
    const cursor_item *it = &c->items[c->pos++];
    ev->seq = it->seq;
    ev->timestamp_ms = it->ts;
    ev->ordering = it->ordering;
    ev->pid = c->arena.data + it->pid_off;
    ev->pid_len = it->pid_len;
    ev->payload = c->arena.data + it->payload_off;
    ev->len = it->payload_len;
    rc = cursor_tags(c, it, ev);
done:
    handle_release(cursor);
    return rc;
}

int abi_impl_dd_journal_cursor_close(dd_journal_cursor *cursor)
{
    return handle_close(cursor, HK_JOURNAL_CURSOR, "journal cursor");
}
