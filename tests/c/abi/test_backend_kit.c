/*
 * A store of the user's own, through the public table only: a small
 * in-memory engine written here against dd_backend_ops (no internal
 * header), opened with dd_journal_open_custom / dd_state_store_open_custom,
 * and the contract kit (dd_backend_check) run against it, against a
 * deliberately broken copy of it (the kit must notice), and against the
 * built-in engines behind the same public table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddata.h"
#include "test.h"

#define K(s) (const uint8_t *)(s), strlen(s)

/* ---- the engine: flat arrays, linear scans, sorted on the way out ------- */

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

typedef struct ev_row {
    blob pid, payload, tags;
    uint64_t seq, ts, ordering;
    int deleted;
} ev_row;

typedef struct pid_row {
    blob pid;
    uint64_t highest, deleted_to;
} pid_row;

typedef struct snap_row {
    blob pid, data;
    uint64_t seq, ts;
} snap_row;

typedef struct state_row {
    blob key, data;
    uint64_t revision;
} state_row;

typedef struct map_store {
    ev_row *ev;
    size_t nev;
    pid_row *pids;
    size_t npids;
    snap_row *snaps;
    size_t nsnaps;
    state_row *state;
    size_t nstate;
    uint64_t next_ordering;
    int broken; /* 1: delete_to lowers the highest sequence number */
    int *closed;
} map_store;

static blob blob_of(const uint8_t *p, size_t n)
{
    blob b = {malloc(n ? n : 1), n};
    if (n)
        memcpy(b.data, p, n);
    return b;
}

static int blob_is(const blob *b, const uint8_t *p, size_t n)
{
    return b->len == n && (!n || memcmp(b->data, p, n) == 0);
}

static int blob_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : an < bn ? -1 : an > bn;
}

#define GROW(arr, n) ((arr) = realloc((arr), ((n) + 1) * sizeof(*(arr))))

static pid_row *pid_find(map_store *m, const uint8_t *pid, size_t len)
{
    for (size_t i = 0; i < m->npids; i++)
        if (blob_is(&m->pids[i].pid, pid, len))
            return &m->pids[i];
    return NULL;
}

static int m_append(void *user, const uint8_t *pid, size_t pid_len, uint64_t expected,
                    const dd_backend_event *events, size_t count)
{
    map_store *m = user;
    pid_row *p = pid_find(m, pid, pid_len);
    if ((p ? p->highest : 0) != expected)
        return DD_ECONFLICT;
    if (!p) {
        GROW(m->pids, m->npids);
        p = &m->pids[m->npids++];
        *p = (pid_row){blob_of(pid, pid_len), 0, 0};
    }
    for (size_t i = 0; i < count; i++) {
        GROW(m->ev, m->nev);
        m->ev[m->nev++] = (ev_row){blob_of(pid, pid_len),
                                   blob_of(events[i].payload, events[i].len),
                                   blob_of(events[i].tags, events[i].tags_len),
                                   expected + i + 1,
                                   events[i].timestamp_ms,
                                   ++m->next_ordering,
                                   0};
    }
    p->highest = expected + count;
    return DD_OK;
}

static int emit(const ev_row *r, dd_backend_event_fn fn, void *ctx)
{
    dd_backend_event e = {r->seq,          r->ts,          r->ordering,  r->pid.data, r->pid.len,
                          r->payload.data, r->payload.len, r->tags.data, r->tags.len};
    return fn(ctx, &e);
}

/* Events are appended in seq order per pid and in ordering overall, so
 * the arrays are already sorted for both reads. */
static int m_replay(void *user, const uint8_t *pid, size_t pid_len, uint64_t from, uint64_t to,
                    uint64_t max, dd_backend_event_fn fn, void *ctx)
{
    map_store *m = user;
    uint64_t sent = 0;
    for (size_t i = 0; i < m->nev && sent < max; i++) {
        ev_row *r = &m->ev[i];
        if (r->deleted || !blob_is(&r->pid, pid, pid_len) || r->seq < from || r->seq > to)
            continue;
        sent++;
        int rc = emit(r, fn, ctx);
        if (rc)
            return rc;
    }
    return DD_OK;
}

static int m_highest(void *user, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    pid_row *p = pid_find(user, pid, pid_len);
    *out = p ? p->highest : 0;
    return DD_OK;
}

static int m_delete_to(void *user, const uint8_t *pid, size_t pid_len, uint64_t to)
{
    map_store *m = user;
    pid_row *p = pid_find(m, pid, pid_len);
    if (!p)
        return DD_OK;
    for (size_t i = 0; i < m->nev; i++)
        if (blob_is(&m->ev[i].pid, pid, pid_len) && m->ev[i].seq <= to)
            m->ev[i].deleted = 1;
    if (to > p->deleted_to)
        p->deleted_to = to;
    if (m->broken && to >= p->highest)
        p->highest = 0;
    return DD_OK;
}

static int m_deleted_to(void *user, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    pid_row *p = pid_find(user, pid, pid_len);
    *out = p ? p->deleted_to : 0;
    return DD_OK;
}

static int m_pids(void *user, const uint8_t *after, size_t after_len, uint64_t limit,
                  dd_backend_key_fn fn, void *ctx)
{
    map_store *m = user;
    const blob *last = NULL;
    for (uint64_t sent = 0; sent < limit; sent++) {
        /* The smallest pid above the previous one: quadratic, and small. */
        const blob *next = NULL;
        for (size_t i = 0; i < m->npids; i++) {
            const blob *b = &m->pids[i].pid;
            if (after_len && blob_cmp(b->data, b->len, after, after_len) <= 0)
                continue;
            if (last && blob_cmp(b->data, b->len, last->data, last->len) <= 0)
                continue;
            if (!next || blob_cmp(b->data, b->len, next->data, next->len) < 0)
                next = b;
        }
        if (!next)
            break;
        int rc = fn(ctx, next->data, next->len);
        if (rc)
            return rc;
        last = next;
    }
    return DD_OK;
}

static int m_by_tag(void *user, const uint8_t *tag, size_t tag_len, uint64_t after, uint64_t max,
                    dd_backend_event_fn fn, void *ctx)
{
    map_store *m = user;
    uint64_t sent = 0;
    for (size_t i = 0; i < m->nev && sent < max; i++) {
        ev_row *r = &m->ev[i];
        int has = 0;
        if (r->deleted || r->ordering <= after)
            continue;
        int rc = dd_backend_tags_contain(&has, r->tags.data, r->tags.len, tag, tag_len);
        if (rc != DD_OK)
            return rc;
        if (!has)
            continue;
        sent++;
        if ((rc = emit(r, fn, ctx)) != 0)
            return rc;
    }
    return DD_OK;
}

static int snap_matches(const snap_row *s, const dd_snapshot_criteria *c)
{
    return s->seq >= c->min_seq && s->seq <= c->max_seq && s->ts >= c->min_timestamp_ms &&
           s->ts <= c->max_timestamp_ms;
}

static int m_snap_save(void *user, const uint8_t *pid, size_t pid_len, uint64_t seq, uint64_t ts,
                       const uint8_t *data, size_t len)
{
    map_store *m = user;
    for (size_t i = 0; i < m->nsnaps; i++) {
        snap_row *s = &m->snaps[i];
        if (blob_is(&s->pid, pid, pid_len) && s->seq == seq) {
            free(s->data.data);
            s->data = blob_of(data, len);
            s->ts = ts;
            return DD_OK;
        }
    }
    GROW(m->snaps, m->nsnaps);
    m->snaps[m->nsnaps++] = (snap_row){blob_of(pid, pid_len), blob_of(data, len), seq, ts};
    return DD_OK;
}

static int m_snap_find(void *user, const uint8_t *pid, size_t pid_len,
                       const dd_snapshot_criteria *c, dd_backend_snapshot_fn fn, void *ctx)
{
    map_store *m = user;
    int found = 0;
    uint64_t below = UINT64_MAX; /* newest first: repeatedly the highest seq under the last */
    for (;;) {
        snap_row *best = NULL;
        for (size_t i = 0; i < m->nsnaps; i++) {
            snap_row *s = &m->snaps[i];
            if (blob_is(&s->pid, pid, pid_len) && snap_matches(s, c) &&
                (below == UINT64_MAX || s->seq < below) && (!best || s->seq > best->seq))
                best = s;
        }
        if (!best)
            return found ? DD_OK : DD_ENOTFOUND;
        found = 1;
        int rc = fn(ctx, best->seq, best->ts, best->data.data, best->data.len);
        if (rc)
            return rc;
        below = best->seq;
    }
}

static int m_snap_delete(void *user, const uint8_t *pid, size_t pid_len,
                         const dd_snapshot_criteria *c)
{
    map_store *m = user;
    for (size_t i = 0; i < m->nsnaps;) {
        snap_row *s = &m->snaps[i];
        if (blob_is(&s->pid, pid, pid_len) && snap_matches(s, c)) {
            free(s->pid.data);
            free(s->data.data);
            m->snaps[i] = m->snaps[--m->nsnaps];
        } else {
            i++;
        }
    }
    return DD_OK;
}

static int m_snap_prune(void *user, const uint8_t *pid, size_t pid_len, uint64_t keep)
{
    map_store *m = user;
    /* Delete below the keep-th newest seq. */
    uint64_t newest[64];
    size_t n = 0;
    for (size_t i = 0; i < m->nsnaps && n < 64; i++)
        if (blob_is(&m->snaps[i].pid, pid, pid_len))
            newest[n++] = m->snaps[i].seq;
    if (n <= keep)
        return DD_OK;
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            if (newest[b] > newest[a]) {
                uint64_t t = newest[a];
                newest[a] = newest[b];
                newest[b] = t;
            }
    dd_snapshot_criteria c = DD_SNAPSHOT_CRITERIA_INIT;
    c.max_seq = newest[keep];
    return m_snap_delete(user, pid, pid_len, &c);
}

static state_row *state_find(map_store *m, const uint8_t *key, size_t key_len)
{
    for (size_t i = 0; i < m->nstate; i++)
        if (blob_is(&m->state[i].key, key, key_len))
            return &m->state[i];
    return NULL;
}

static int m_upsert(void *user, const uint8_t *key, size_t key_len, uint64_t expected,
                    const uint8_t *data, size_t len, uint64_t *new_revision)
{
    map_store *m = user;
    state_row *r = state_find(m, key, key_len);
    uint64_t have = r ? r->revision : 0;
    if (expected != dd_any_revision() && expected != have)
        return DD_ECONFLICT;
    if (!r) {
        GROW(m->state, m->nstate);
        r = &m->state[m->nstate++];
        *r = (state_row){blob_of(key, key_len), blob_of(data, len), 0};
    } else {
        free(r->data.data);
        r->data = blob_of(data, len);
    }
    *new_revision = ++r->revision;
    return DD_OK;
}

static int m_get(void *user, const uint8_t *key, size_t key_len, dd_backend_state_fn fn, void *ctx)
{
    state_row *r = state_find(user, key, key_len);
    if (!r)
        return DD_ENOTFOUND;
    return fn(ctx, r->key.data, r->key.len, r->revision, r->data.data, r->data.len);
}

static int m_delete(void *user, const uint8_t *key, size_t key_len, uint64_t expected)
{
    map_store *m = user;
    state_row *r = state_find(m, key, key_len);
    if (!r)
        return DD_ENOTFOUND;
    if (expected != dd_any_revision() && expected != r->revision)
        return DD_ECONFLICT;
    free(r->key.data);
    free(r->data.data);
    *r = m->state[--m->nstate];
    return DD_OK;
}

static int row_cmp(const void *a, const void *b)
{
    const state_row *x = *(state_row *const *)a, *y = *(state_row *const *)b;
    return blob_cmp(x->key.data, x->key.len, y->key.data, y->key.len);
}

/* The rows in key order (caller frees the array). */
static state_row **sorted_rows(map_store *m)
{
    state_row **rows = malloc((m->nstate + 1) * sizeof(*rows));
    for (size_t i = 0; i < m->nstate; i++)
        rows[i] = &m->state[i];
    qsort(rows, m->nstate, sizeof(*rows), row_cmp);
    return rows;
}

static int m_scan(void *user, const uint8_t *prefix, size_t prefix_len, dd_backend_state_fn fn,
                  void *ctx)
{
    map_store *m = user;
    state_row **rows = sorted_rows(m);
    int rc = DD_OK;
    for (size_t i = 0; i < m->nstate && !rc; i++) {
        state_row *r = rows[i];
        if (r->key.len >= prefix_len && (!prefix_len || !memcmp(r->key.data, prefix, prefix_len)))
            rc = fn(ctx, r->key.data, r->key.len, r->revision, r->data.data, r->data.len);
    }
    free(rows);
    return rc;
}

static int m_range(void *user, const uint8_t *from, size_t from_len, int64_t count,
                   dd_backend_state_fn fn, void *ctx)
{
    map_store *m = user;
    state_row **rows = sorted_rows(m);
    int rc = DD_OK;
    int64_t sent = 0, want = count < 0 ? -count : count;
    for (size_t k = 0; k < m->nstate && sent < want && !rc; k++) {
        state_row *r = rows[count > 0 ? k : m->nstate - 1 - k];
        int c = from_len ? blob_cmp(r->key.data, r->key.len, from, from_len) : 0;
        if ((count > 0 && c < 0) || (count < 0 && c > 0))
            continue;
        sent++;
        rc = fn(ctx, r->key.data, r->key.len, r->revision, r->data.data, r->data.len);
    }
    free(rows);
    return rc;
}

static int m_purge(void *user)
{
    map_store *m = user;
    for (size_t i = 0; i < m->nstate; i++) {
        free(m->state[i].key.data);
        free(m->state[i].data.data);
    }
    m->nstate = 0;
    return DD_OK;
}

static void m_close(void *user)
{
    map_store *m = user;
    for (size_t i = 0; i < m->nev; i++) {
        free(m->ev[i].pid.data);
        free(m->ev[i].payload.data);
        free(m->ev[i].tags.data);
    }
    for (size_t i = 0; i < m->npids; i++)
        free(m->pids[i].pid.data);
    for (size_t i = 0; i < m->nsnaps; i++) {
        free(m->snaps[i].pid.data);
        free(m->snaps[i].data.data);
    }
    m_purge(m);
    if (m->closed)
        (*m->closed)++;
    free(m->ev);
    free(m->pids);
    free(m->snaps);
    free(m->state);
    free(m);
}

static const dd_backend_ops map_ops = {
    .version = DD_BACKEND_OPS_VERSION,
    .name = "map",
    .journal_append = m_append,
    .journal_replay = m_replay,
    .journal_highest = m_highest,
    .journal_delete_to = m_delete_to,
    .journal_deleted_to = m_deleted_to,
    .journal_pids = m_pids,
    .journal_by_tag = m_by_tag,
    .snapshot_save = m_snap_save,
    .snapshot_find = m_snap_find,
    .snapshot_delete = m_snap_delete,
    .snapshot_prune = m_snap_prune,
    .state_upsert = m_upsert,
    .state_get = m_get,
    .state_delete = m_delete,
    .state_scan = m_scan,
    .state_range = m_range,
    .state_purge = m_purge,
    .close = m_close,
};

typedef struct factory {
    int broken;
    int made, closed;
} factory;

static int new_map(void **user, void *ctx)
{
    factory *f = ctx;
    map_store *m = calloc(1, sizeof(*m));
    if (!m)
        return DD_ENOMEM;
    m->broken = f->broken;
    m->closed = &f->closed;
    f->made++;
    *user = m;
    return DD_OK;
}

/* ---- tests -------------------------------------------------------------- */

TEST(test_user_engine_written_against_the_public_table_passes_the_kit)
{
    factory f = {0};
    dd_buf report = {0};
    int rc = dd_backend_check(&report, &map_ops, new_map, &f);
    ASSERT_MSG(rc == DD_OK, "kit failed (%d): %s\n%.*s", rc, dd_error_last()->message,
               (int)report.len, (const char *)report.data);
    ASSERT(strstr((const char *)report.data, "40 passed, 0 failed") != NULL);
    ASSERT_EQ_INT(f.made, 40);
    ASSERT_EQ_INT(f.closed, 40); /* the kit closes every store it made */
    dd_buf_free(&report);
}

TEST(test_kit_fails_an_engine_whose_highest_falls_after_delete)
{
    factory f = {1, 0, 0};
    dd_buf report = {0};
    int rc = dd_backend_check(&report, &map_ops, new_map, &f);
    ASSERT_EQ_INT(rc, DD_ECORRUPT);
    ASSERT(strstr(dd_error_last()->message, "highest_survives_deleting_everything") != NULL);
    ASSERT(strstr((const char *)report.data,
                  "FAIL highest_survives_deleting_everything [unsealed]") != NULL);
    ASSERT_EQ_INT(f.closed, f.made);
    dd_buf_free(&report);
}

TEST(test_journal_and_state_store_open_on_a_user_engine)
{
    factory f = {0};
    void *user;
    ASSERT_EQ_INT(new_map(&user, &f), DD_OK);
    dd_journal *j;
    ASSERT_EQ_INT(dd_journal_open_custom(&j, &map_ops, user, NULL), DD_OK);
    dd_append_event ev = {(const uint8_t *)"hello", 5, 7, NULL, 0};
    ASSERT_EQ_INT(dd_journal_append(j, K("p"), 0, &ev, 1), DD_OK);
    uint64_t highest = 0;
    ASSERT_EQ_INT(dd_journal_highest_seq(&highest, j, K("p")), DD_OK);
    ASSERT_EQ_INT(highest, 1);
    /* What the engine holds is the checksummed envelope, not the bare
     * payload: the checks stay above the table. */
    map_store *m = user;
    ASSERT(m->nev == 1 && m->ev[0].payload.len == 5 + 8);
    ASSERT_EQ_INT(dd_journal_close(j), DD_OK);
    ASSERT_EQ_INT(f.closed, 1);

    ASSERT_EQ_INT(new_map(&user, &f), DD_OK);
    dd_state_store *s;
    ASSERT_EQ_INT(dd_state_store_open_custom(&s, &map_ops, user, NULL), DD_OK);
    uint64_t rev = 0;
    ASSERT_EQ_INT(dd_state_store_upsert(&rev, s, K("k"), 0, K("v")), DD_OK);
    ASSERT_EQ_INT(rev, 1);
    ASSERT_EQ_INT(dd_state_store_upsert(&rev, s, K("k"), 0, K("w")), DD_ECONFLICT);
    ASSERT_EQ_INT(dd_state_store_close(s), DD_OK);
    ASSERT_EQ_INT(f.closed, 2);
}

static int bad_status_highest(void *user, const uint8_t *pid, size_t pid_len, uint64_t *out)
{
    (void)user;
    (void)pid;
    (void)pid_len;
    *out = 0;
    return 12345; /* not a DD_E* code */
}

TEST(test_a_user_status_that_is_not_a_dd_code_becomes_ecallback)
{
    factory f = {0};
    void *user;
    ASSERT_EQ_INT(new_map(&user, &f), DD_OK);
    dd_backend_ops ops = map_ops;
    ops.journal_highest = bad_status_highest;
    dd_journal *j;
    ASSERT_EQ_INT(dd_journal_open_custom(&j, &ops, user, NULL), DD_OK);
    uint64_t highest;
    ASSERT_EQ_INT(dd_journal_highest_seq(&highest, j, K("p")), DD_ECALLBACK);
    ASSERT(strstr(dd_error_last()->message, "journal_highest returned 12345") != NULL);
    ASSERT_EQ_INT(dd_journal_close(j), DD_OK);
}

TEST(test_a_table_with_a_missing_member_or_version_is_refused)
{
    factory f = {0};
    void *user;
    ASSERT_EQ_INT(new_map(&user, &f), DD_OK);
    dd_backend_ops ops = map_ops;
    ops.state_range = NULL;
    dd_journal *j = (dd_journal *)1;
    ASSERT_EQ_INT(dd_journal_open_custom(&j, &ops, user, NULL), DD_EINVAL);
    ASSERT(j == NULL);
    ASSERT(strstr(dd_error_last()->message, "state_range") != NULL);
    ops = map_ops;
    ops.version = 99;
    ASSERT_EQ_INT(dd_journal_open_custom(&j, &ops, user, NULL), DD_EINVAL);
    ASSERT_EQ_INT(dd_backend_check(NULL, &ops, new_map, &f), DD_EINVAL);
    ASSERT_EQ_INT(f.closed, 0); /* a refused open leaves `user` to the caller */
    m_close(user);
}

/* The built-in engines behind the same public table: the kit is the
 * contract they already keep. */
typedef struct builtin_factory {
    uint32_t backend;
    int n;
} builtin_factory;

static int new_builtin(void **user, void *ctx)
{
    builtin_factory *f = ctx;
    char path[512];
    snprintf(path, sizeof(path), "%s/store-%d", test_tmpdir(), f->n++);
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.backend = f->backend;
    o.path = f->backend == DD_BACKEND_MEMORY ? NULL : path; /* a memory store takes no path */
    const dd_backend_ops *ops;
    return dd_backend_open_builtin(&ops, user, &o);
}

static void check_builtin(uint32_t backend)
{
    builtin_factory f = {backend, 0};
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    o.backend = backend;
    char path[512];
    snprintf(path, sizeof(path), "%s/probe", test_tmpdir());
    o.path = backend == DD_BACKEND_MEMORY ? NULL : path;
    const dd_backend_ops *ops;
    void *probe;
    ASSERT_EQ_INT(dd_backend_open_builtin(&ops, &probe, &o), DD_OK);
    ops->close(probe);
    dd_buf report = {0};
    int rc = dd_backend_check(&report, ops, new_builtin, &f);
    ASSERT_MSG(rc == DD_OK, "kit failed on backend %u (%d): %s\n%.*s", backend, rc,
               dd_error_last()->message, (int)report.len, (const char *)report.data);
    ASSERT(strstr((const char *)report.data, "40 passed, 0 failed") != NULL);
    dd_buf_free(&report);
}

TEST(test_kit_passes_on_the_memory_engine_through_the_public_table)
{
    check_builtin(DD_BACKEND_MEMORY);
}

TEST(test_kit_passes_on_the_sqlite_engine_through_the_public_table)
{
    check_builtin(DD_BACKEND_SQLITE);
}

TEST(test_kit_passes_on_the_fs_engine_through_the_public_table)
{
    check_builtin(DD_BACKEND_FS);
}

TEST(test_tags_are_enumerated_for_engines_that_index_them)
{
    /* Build a blob the way the library hands it to an engine. */
    factory f = {0};
    void *user;
    ASSERT_EQ_INT(new_map(&user, &f), DD_OK);
    dd_journal *j;
    ASSERT_EQ_INT(dd_journal_open_custom(&j, &map_ops, user, NULL), DD_OK);
    const char *tags[] = {"red", "green"};
    dd_append_event ev = {(const uint8_t *)"x", 1, 1, tags, 2};
    ASSERT_EQ_INT(dd_journal_append(j, K("p"), 0, &ev, 1), DD_OK);
    map_store *m = user;
    const blob *b = &m->ev[0].tags;
    size_t pos = 0, tag_len;
    const uint8_t *tag;
    ASSERT_EQ_INT(dd_backend_tags_next(&tag, &tag_len, b->data, b->len, &pos), DD_OK);
    ASSERT(tag_len == 3 && !memcmp(tag, "red", 3));
    ASSERT_EQ_INT(dd_backend_tags_next(&tag, &tag_len, b->data, b->len, &pos), DD_OK);
    ASSERT(tag_len == 5 && !memcmp(tag, "green", 5));
    ASSERT_EQ_INT(dd_backend_tags_next(&tag, &tag_len, b->data, b->len, &pos), DD_EDONE);
    int has = 0;
    ASSERT_EQ_INT(dd_backend_tags_contain(&has, b->data, b->len, K("green")), DD_OK);
    ASSERT_EQ_INT(has, 1);
    ASSERT_EQ_INT(dd_backend_tags_contain(&has, b->data, b->len, K("blue")), DD_OK);
    ASSERT_EQ_INT(has, 0);
    ASSERT_EQ_INT(dd_journal_close(j), DD_OK);
}
