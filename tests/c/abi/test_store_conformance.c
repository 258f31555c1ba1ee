/*
 * The C runner of the store conformance vectors (the .json files in
 * tests/conformance/store/, format in the README there): state store
 * compare-and-set, keys, range, last, purge, and journal pids, played
 * through the public ABI only, as the Python, Node and Rust runners play
 * them through their bindings. A failure names the file, the case and the
 * step.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance_test.h"
#include "ddata.h"
#include "test.h"

#define MAX_BYTES 8192

typedef struct run {
    dd_state_store *s;
    dd_journal *j;
    char failure[512];
} run;

typedef struct blob {
    uint8_t data[MAX_BYTES];
    size_t len;
} blob;

/* Records why the case failed in r; -1. */
#define fail(r, ...) conf_fail((r)->failure, sizeof((r)->failure), __VA_ARGS__)

/* A JSON string (its UTF-8 bytes) or {"$bytes": base64}; absent = empty. */
static int to_blob(run *r, const cJSON *v, blob *out)
{
    out->len = 0;
    if (!v)
        return 0;
    const char *err = conf_bytes(v, out->data, MAX_BYTES, &out->len);
    return err ? fail(r, "%s", err) : 0;
}

static bool blob_is(const blob *b, const uint8_t *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static uint64_t revision_of(const cJSON *v)
{
    return cJSON_IsString(v) && strcmp(v->valuestring, "any") == 0 ? dd_any_revision()
           : cJSON_IsNumber(v)                                     ? (uint64_t)v->valuedouble
                                                                   : 0;
}

/* Reads a state or pid cursor to its end and compares it with `expect`:
 * rows of [key, revision(, value)] (fields > 1), or bare pids (fields 1). */
static int check_cursor(run *r, dd_journal_cursor *c, const cJSON *expect, int fields)
{
    dd_journal_event ev;
    int rc, i = 0;
    const cJSON *row = expect ? expect->child : NULL;
    blob want;
    while ((rc = dd_journal_cursor_next(&ev, c)) == DD_OK) {
        if (!row)
            return fail(r, "more items than expected (item %d: '%.*s')", i, (int)ev.pid_len,
                        (const char *)ev.pid);
        const cJSON *key = fields == 1 ? row : cJSON_GetArrayItem(row, 0);
        if (to_blob(r, key, &want))
            return -1;
        if (!blob_is(&want, ev.pid, ev.pid_len))
            return fail(r, "item %d: key '%.*s'", i, (int)ev.pid_len, (const char *)ev.pid);
        if (fields > 1 && ev.seq != (uint64_t)cJSON_GetArrayItem(row, 1)->valuedouble)
            return fail(r, "item %d: revision %llu", i, (unsigned long long)ev.seq);
        if (fields > 2) {
            if (to_blob(r, cJSON_GetArrayItem(row, 2), &want))
                return -1;
            if (!blob_is(&want, ev.payload, ev.len))
                return fail(r, "item %d: value '%.*s'", i, (int)ev.len, (const char *)ev.payload);
        }
        row = row->next;
        i++;
    }
    if (rc != DD_EDONE)
        return fail(r, "cursor: %s", dd_status_name(rc));
    if (row)
        return fail(r, "fewer items than expected (%d)", i);
    return 0;
}

/* Runs the step's call; returns its status, or 1 when the runner failed
 * (r->failure set), and checks `expect` only when the call succeeded. */
/* A step whose `expect` is null expects no record: with *rc DD_ENOTFOUND
 * it passes (*rc = DD_OK), with a record it fails (`found` says why).
 * True when that settled the step; false when a record is to be checked. */
static bool settled_by_absence(run *r, int *rc, const cJSON *expect, const char *found)
{
    if (!cJSON_IsNull(expect))
        return false;
    if (*rc == DD_ENOTFOUND) {
        *rc = DD_OK;
        return true;
    }
    if (*rc == DD_OK) {
        fail(r, "%s", found);
        *rc = 1;
        return true;
    }
    return false;
}

static int call(void *ctx, const cJSON *step, const char *op)
{
    run *r = ctx;
    blob key, value;
    const cJSON *expect = conf_get(step, "expect");
    int rc;
    if (strcmp(op, "upsert") == 0) {
        if (to_blob(r, conf_get(step, "key"), &key) || to_blob(r, conf_get(step, "value"), &value))
            return 1;
        uint64_t rev = 0;
        rc = dd_state_store_upsert(&rev, r->s, key.data, key.len,
                                   revision_of(conf_get(step, "expected")), value.data, value.len);
        if (rc == DD_OK && expect && rev != (uint64_t)expect->valuedouble) {
            fail(r, "new revision %llu", (unsigned long long)rev);
            return 1;
        }
        return rc;
    }
    if (strcmp(op, "get") == 0) {
        if (to_blob(r, conf_get(step, "key"), &key))
            return 1;
        dd_buf b = DD_BUF_INIT;
        uint64_t rev = 0;
        rc = dd_state_store_get(&b, &rev, r->s, key.data, key.len);
        if (!settled_by_absence(r, &rc, expect, "found a record, expected none") && rc == DD_OK &&
            expect) {
            if (to_blob(r, conf_get(expect, "value"), &value)) {
                rc = 1;
            } else if (!blob_is(&value, b.data, b.len) ||
                       rev != (uint64_t)conf_get(expect, "revision")->valuedouble) {
                fail(r, "revision %llu, value '%.*s'", (unsigned long long)rev, (int)b.len,
                     (const char *)b.data);
                rc = 1;
            }
        }
        dd_buf_free(&b);
        return rc;
    }
    if (strcmp(op, "delete") == 0) {
        if (to_blob(r, conf_get(step, "key"), &key))
            return 1;
        return dd_state_store_delete(r->s, key.data, key.len,
                                     revision_of(conf_get(step, "expected")));
    }
    if (strcmp(op, "keys") == 0 || strcmp(op, "range") == 0 || strcmp(op, "pids") == 0) {
        bool keys = op[0] == 'k', range = op[0] == 'r';
        if (to_blob(r, conf_get(step, keys ? "prefix" : range ? "from" : "after"), &key))
            return 1;
        dd_journal_cursor *c = NULL;
        const cJSON *n = conf_get(step, range ? "count" : "max");
        if (keys)
            rc = dd_state_store_keys(&c, r->s, key.data, key.len);
        else if (range)
            rc = dd_state_store_range(&c, r->s, key.data, key.len,
                                      (int64_t)(n ? n->valuedouble : 0));
        else
            rc = dd_journal_pids(&c, r->j, key.data, key.len,
                                 cJSON_IsNumber(n) ? (uint64_t)n->valuedouble : UINT64_MAX);
        if (rc == DD_OK && check_cursor(r, c, expect, keys ? 2 : range ? 3 : 1))
            rc = 1;
        dd_journal_cursor_close(c);
        return rc;
    }
    if (strcmp(op, "last") == 0) {
        dd_buf st = DD_BUF_INIT, k = DD_BUF_INIT;
        uint64_t rev = 0;
        rc = dd_state_store_last(&st, &k, &rev, r->s);
        if (!settled_by_absence(r, &rc, expect, "found a last record, expected none") &&
            rc == DD_OK && expect) {
            blob wk, wv;
            if (to_blob(r, cJSON_GetArrayItem(expect, 0), &wk) ||
                to_blob(r, cJSON_GetArrayItem(expect, 2), &wv)) {
                rc = 1;
            } else if (!blob_is(&wk, k.data, k.len) || !blob_is(&wv, st.data, st.len) ||
                       rev != (uint64_t)cJSON_GetArrayItem(expect, 1)->valuedouble) {
                fail(r, "last is '%.*s' at %llu", (int)k.len, (const char *)k.data,
                     (unsigned long long)rev);
                rc = 1;
            }
        }
        dd_buf_free(&st);
        dd_buf_free(&k);
        return rc;
    }
    if (strcmp(op, "purge") == 0)
        return dd_state_store_purge(r->s);
    if (strcmp(op, "append") == 0) {
        if (to_blob(r, conf_get(step, "pid"), &key))
            return 1;
        const cJSON *evs = conf_get(step, "events");
        int n = cJSON_GetArraySize(evs);
        blob *payloads = calloc((size_t)n + 1, sizeof(*payloads));
        dd_append_event *in = calloc((size_t)n + 1, sizeof(*in));
        rc = payloads && in ? DD_OK : 1;
        for (int i = 0; rc == DD_OK && i < n; i++) {
            if (to_blob(r, cJSON_GetArrayItem(evs, i), &payloads[i]))
                rc = 1;
            in[i].payload = payloads[i].data;
            in[i].len = payloads[i].len;
            in[i].timestamp_ms = 1000;
        }
        if (rc == DD_OK)
            rc = dd_journal_append(r->j, key.data, key.len,
                                   (uint64_t)conf_get(step, "expected_seq")->valuedouble, in,
                                   (size_t)n);
        free(payloads);
        free(in);
        return rc;
    }
    fail(r, "unknown op");
    return 1;
}

/* One case: a fresh in-memory store and journal play the steps until one
 * fails. */
static int play_case(const char *file, const char *name, const cJSON *c)
{
    run r;
    memset(&r, 0, sizeof(r));
    dd_store_options o = DD_STORE_OPTIONS_INIT;
    bool failed =
        dd_state_store_open(&r.s, &o) != DD_OK || dd_journal_open(&r.j, &o) != DD_OK ||
        conf_play_status_steps("store", file, name, c, call, &r, r.failure, sizeof(r.failure));
    dd_state_store_close(r.s);
    dd_journal_close(r.j);
    return failed;
}

TEST(test_store_conformance_vectors_pass)
{
    expect_conformance_area_passes("store", play_case);
}
