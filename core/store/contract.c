/*
 * The backend contract kit (contract.h): each case a small story told
 * through the journal or the state store, on a fresh engine, unsealed and
 * sealed. A case that fails says what it expected and what it got; the
 * report is the product, so its lines are meant for the engine's author.
 */
#include "store/contract.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "seal/keyring.h"
#include "seal/seal.h"
#include "store/contract_internal.h"
#include "store/journal.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

int contract_fail(contract_case *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    return -1;
}

int see_event(void *ctx, const store_event *ev)
{
    seen *s = ctx;
    if (s->n < SEEN_MAX) {
        s->seq[s->n] = ev->seq;
        s->ts[s->n] = ev->timestamp_ms;
        s->ordering[s->n] = ev->ordering;
        s->len[s->n] = ev->payload_len;
        s->first_byte[s->n] = ev->payload_len ? ev->payload[0] : 0;
        s->tags_len[s->n] = ev->tags ? ev->tags_len : 0;
        snprintf(s->key[s->n], sizeof(s->key[0]), "%.*s",
                 (int)(ev->pid_len < 15 ? ev->pid_len : 15), ev->pid ? (const char *)ev->pid : "");
    }
    s->n++;
    return s->stop_after && (int)s->n >= s->stop_after ? 42 : 0;
}

int see_key(void *ctx, const uint8_t *key, size_t key_len)
{
    seen *s = ctx;
    if (s->n < SEEN_MAX)
        snprintf(s->key[s->n], sizeof(s->key[0]), "%.*s", (int)(key_len < 15 ? key_len : 15),
                 (const char *)key);
    s->n++;
    return 0;
}

int see_state(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
              const uint8_t *state, size_t len)
{
    seen *s = ctx;
    if (s->n < SEEN_MAX) {
        snprintf(s->key[s->n], sizeof(s->key[0]), "%.*s", (int)(key_len < 15 ? key_len : 15),
                 (const char *)key);
        s->seq[s->n] = revision;
        s->len[s->n] = len;
        s->first_byte[s->n] = len ? state[0] : 0;
    }
    s->n++;
    return 0;
}

static int append_n(journal *j, const char *pid, uint64_t expected, size_t n, uint8_t first)
{
    journal_event_in ev[16];
    uint8_t payload[16][4];
    for (size_t i = 0; i < n && i < 16; i++) {
        memset(payload[i], (int)(first + i), sizeof(payload[i]));
        ev[i] =
            (journal_event_in){payload[i], sizeof(payload[i]), 1000 + expected + i + 1, NULL, 0};
    }
    return journal_append(j, K(pid), expected, ev, n);
}
/* ---- journal cases ------------------------------------------------------ */

static int append_then_replay_in_order(contract_case *c, journal *j)
{
    MUST(append_n(j, "p", 0, 3, 10));
    MUST(append_n(j, "p", 3, 2, 13));
    seen s = {0};
    MUST(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 5, "replay returned %zu events, expected 5", s.n);
    for (size_t i = 0; i < 5; i++) {
        EXPECT(s.seq[i] == i + 1, "event %zu has seq %" PRIu64 ", expected %zu", i, s.seq[i],
               i + 1);
        EXPECT(s.ts[i] == 1000 + i + 1, "event %zu has timestamp %" PRIu64 ", expected %zu", i,
               s.ts[i], 1000 + i + 1);
        EXPECT(s.len[i] == 4 && s.first_byte[i] == 10 + i, "event %zu has the wrong payload", i);
        EXPECT(strcmp(s.key[i], "p") == 0, "event %zu has pid '%s', expected 'p'", i, s.key[i]);
    }
    uint64_t highest;
    MUST(journal_highest(j, K("p"), &highest));
    EXPECT(highest == 5, "highest is %" PRIu64 ", expected 5", highest);
    return 0;
}

static int append_conflict_writes_nothing(contract_case *c, journal *j)
{
    MUST(append_n(j, "p", 0, 2, 1));
    MUST_FAIL(ST_ECONFLICT, append_n(j, "p", 0, 3, 1));
    MUST_FAIL(ST_ECONFLICT, append_n(j, "p", 5, 3, 1));
    uint64_t highest;
    MUST(journal_highest(j, K("p"), &highest));
    EXPECT(highest == 2, "highest is %" PRIu64 " after refused appends, expected 2", highest);
    seen s = {0};
    MUST(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 2, "replay returned %zu events after refused appends, expected 2", s.n);
    return 0;
}

static int replay_honours_range_and_max(contract_case *c, journal *j)
{
    MUST(append_n(j, "p", 0, 10, 1));
    seen s = {0};
    MUST(journal_replay(j, K("p"), 3, 7, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 5 && s.seq[0] == 3 && s.seq[4] == 7,
           "replay 3..7 returned %zu events from %" PRIu64, s.n, s.seq[0]);
    seen m = {0};
    MUST(journal_replay(j, K("p"), 3, 7, 2, see_event, &m));
    EXPECT(m.n == 2 && m.seq[0] == 3 && m.seq[1] == 4, "replay 3..7 max 2 returned %zu events",
           m.n);
    return 0;
}

static int replay_stops_when_the_callback_stops(contract_case *c, journal *j)
{
    MUST(append_n(j, "p", 0, 5, 1));
    seen s = {.stop_after = 2};
    int rc = journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, see_event, &s);
    EXPECT(rc == 42, "replay returned %d when the callback returned 42, expected 42", rc);
    EXPECT(s.n == 2, "the callback ran %zu times after asking to stop at 2", s.n);
    return 0;
}

static int unknown_pid_is_empty(contract_case *c, journal *j)
{
    uint64_t highest = 99;
    MUST(journal_highest(j, K("nobody"), &highest));
    EXPECT(highest == 0, "highest of an unknown pid is %" PRIu64 ", expected 0", highest);
    seen s = {0};
    MUST(journal_replay(j, K("nobody"), 1, UINT64_MAX, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 0, "replay of an unknown pid returned %zu events", s.n);
    return 0;
}

static int delete_to_removes_the_head_only(contract_case *c, journal *j)
{
    MUST(append_n(j, "p", 0, 5, 1));
    MUST(journal_delete_to(j, K("p"), 2));
    seen s = {0};
    MUST(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 3 && s.seq[0] == 3,
           "after deleting to 2, replay returned %zu events from %" PRIu64, s.n,
           s.n ? s.seq[0] : 0);
    return 0;
}

static int highest_survives_deleting_everything(contract_case *c, journal *j)
{
    MUST(append_n(j, "p", 0, 5, 1));
    MUST(journal_delete_to(j, K("p"), 5));
    uint64_t highest;
    MUST(journal_highest(j, K("p"), &highest));
    EXPECT(highest == 5,
           "highest fell to %" PRIu64 " after deleting every event; it never decreases", highest);
    MUST_FAIL(ST_ECONFLICT, append_n(j, "p", 0, 1, 1));
    MUST(append_n(j, "p", 5, 1, 6));
    seen s = {0};
    MUST(journal_replay(j, K("p"), 1, UINT64_MAX, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 1 && s.seq[0] == 6, "replay after delete and append returned %zu events", s.n);
    return 0;
}

static int pids_are_listed_in_order_and_paged(contract_case *c, journal *j)
{
    MUST(append_n(j, "b", 0, 1, 1));
    MUST(append_n(j, "a", 0, 1, 1));
    MUST(append_n(j, "ab", 0, 1, 1));
    seen s = {0};
    MUST(journal_pids(j, NULL, 0, UINT64_MAX, see_key, &s));
    EXPECT(s.n == 3 && !strcmp(s.key[0], "a") && !strcmp(s.key[1], "ab") && !strcmp(s.key[2], "b"),
           "pids came back as %zu: '%s' '%s' '%s', expected 'a' 'ab' 'b'", s.n, s.key[0], s.key[1],
           s.key[2]);
    seen p = {0};
    MUST(journal_pids(j, K("a"), 1, see_key, &p));
    EXPECT(p.n == 1 && !strcmp(p.key[0], "ab"), "pids after 'a' (limit 1) gave %zu, first '%s'",
           p.n, p.key[0]);
    return 0;
}

static int by_tag_follows_the_global_order(contract_case *c, journal *j)
{
    const char *hot[] = {"hot"}, *both[] = {"cold", "hot"};
    uint8_t b = 7;
    journal_event_in one[] = {{&b, 1, 1, hot, 1}};
    journal_event_in none[] = {{&b, 1, 1, NULL, 0}};
    journal_event_in two[] = {{&b, 1, 1, both, 2}};
    MUST(journal_append(j, K("x"), 0, one, 1));
    MUST(journal_append(j, K("y"), 0, none, 1));
    MUST(journal_append(j, K("y"), 1, two, 1));
    MUST(journal_append(j, K("x"), 1, one, 1));
    seen s = {0};
    MUST(journal_by_tag(j, "hot", 0, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 3, "by_tag('hot') returned %zu events, expected 3", s.n);
    EXPECT(!strcmp(s.key[0], "x") && !strcmp(s.key[1], "y") && !strcmp(s.key[2], "x") &&
               s.seq[0] == 1 && s.seq[1] == 2 && s.seq[2] == 2,
           "by_tag('hot') is not in append order");
    EXPECT(s.ordering[0] < s.ordering[1] && s.ordering[1] < s.ordering[2],
           "orderings %" PRIu64 ", %" PRIu64 ", %" PRIu64 " do not increase", s.ordering[0],
           s.ordering[1], s.ordering[2]);
    seen after = {0};
    MUST(journal_by_tag(j, "hot", s.ordering[0], UINT64_MAX, see_event, &after));
    EXPECT(after.n == 2, "by_tag after the first ordering returned %zu, expected 2", after.n);
    seen cold = {0};
    MUST(journal_by_tag(j, "cold", 0, UINT64_MAX, see_event, &cold));
    EXPECT(cold.n == 1 && cold.tags_len[0] > 0, "by_tag('cold') returned %zu events", cold.n);
    seen r = {0};
    MUST(journal_replay(j, K("y"), 1, UINT64_MAX, UINT64_MAX, see_event, &r));
    EXPECT(r.n == 2 && r.tags_len[0] == 0 && r.tags_len[1] > 0,
           "replay did not hand the tags back as stored");
    return 0;
}

static int large_and_binary_payloads_round_trip(contract_case *c, journal *j)
{
    enum { BIG = 100000 };
    bytes big = BYTES_INIT;
    for (size_t i = 0; i < BIG; i++)
        bytes_put_u8(&big, (uint8_t)(i % 251 == 0 ? 0 : i * 7));
    if (big.failed)
        return contract_fail(c, "out of memory");
    uint8_t nul = 0;
    journal_event_in ev[] = {{big.data, BIG, 5, NULL, 0}, {&nul, 1, 6, NULL, 0}};
    int rc = journal_append(j, K("bin"), 0, ev, 2);
    bytes_free(&big);
    if (rc != ST_OK)
        return contract_fail(c, "appending a 100,000-byte payload returned %d (%s)", rc,
                             error_message());
    seen s = {0};
    MUST(journal_replay(j, K("bin"), 1, UINT64_MAX, UINT64_MAX, see_event, &s));
    EXPECT(s.n == 2 && s.len[0] == BIG && s.len[1] == 1 && s.first_byte[1] == 0,
           "binary payloads did not round-trip (%zu events, first %zu bytes)", s.n, s.len[0]);
    return 0;
}

static int snapshots_latest_criteria_and_replace(contract_case *c, journal *j)
{
    uint8_t d3 = 3, d5 = 5, d9 = 9, d5b = 55;
    bytes out = BYTES_INIT;
    uint64_t seq = 0, ts = 0;
    snapshot_criteria any = snapshot_criteria_any();
    int rc = journal_snapshot_load(j, K("p"), &any, &seq, &ts, &out);
    if (rc != ST_ENOTFOUND) {
        bytes_free(&out);
        return contract_fail(
            c, "loading a snapshot of an empty store returned %d, expected not found", rc);
    }
    if ((rc = journal_snapshot_save(j, K("p"), 3, 30, &d3, 1)) != ST_OK ||
        (rc = journal_snapshot_save(j, K("p"), 9, 90, &d9, 1)) != ST_OK ||
        (rc = journal_snapshot_save(j, K("p"), 5, 50, &d5, 1)) != ST_OK) {
        bytes_free(&out);
        return contract_fail(c, "snapshot_save returned %d (%s)", rc, error_message());
    }
    rc = journal_snapshot_load(j, K("p"), &any, &seq, &ts, &out);
    int ok = rc == ST_OK && seq == 9 && ts == 90 && out.len == 1 && out.data[0] == 9;
    snapshot_criteria upto6 = {0, 6, 0, STORE_SEQ_MAX};
    if (ok) {
        rc = journal_snapshot_load(j, K("p"), &upto6, &seq, &ts, &out);
        ok = rc == ST_OK && seq == 5 && out.data[0] == 5;
    }
    if (ok && (rc = journal_snapshot_save(j, K("p"), 5, 51, &d5b, 1)) == ST_OK) {
        rc = journal_snapshot_load(j, K("p"), &upto6, &seq, &ts, &out);
        ok = rc == ST_OK && seq == 5 && ts == 51 && out.data[0] == 55;
    }
    snapshot_criteria ts_upto40 = {0, STORE_SEQ_MAX, 0, 40};
    if (ok) {
        rc = journal_snapshot_load(j, K("p"), &ts_upto40, &seq, &ts, &out);
        ok = rc == ST_OK && seq == 3;
    }
    if (ok && (rc = journal_snapshot_delete(j, K("p"), &upto6)) == ST_OK) {
        rc = journal_snapshot_load(j, K("p"), &upto6, &seq, &ts, &out);
        ok = rc == ST_ENOTFOUND;
        if (ok) {
            rc = journal_snapshot_load(j, K("p"), &any, &seq, &ts, &out);
            ok = rc == ST_OK && seq == 9;
        }
    }
    bytes_free(&out);
    EXPECT(ok,
           "snapshots: newest-first, criteria, replace at the same seq or delete by criteria "
           "went wrong (last result %d, seq %" PRIu64 ")",
           rc, seq);
    return 0;
}

/* ---- the runner --------------------------------------------------------- */

typedef int (*journal_case_fn)(contract_case *c, journal *j);
typedef int (*state_case_fn)(contract_case *c, state_store *s);

static const struct {
    const char *name;
    journal_case_fn on_journal;
    state_case_fn on_state;
} cases[] = {
    {"append_then_replay_in_order", append_then_replay_in_order, NULL},
    {"append_conflict_writes_nothing", append_conflict_writes_nothing, NULL},
    {"replay_honours_range_and_max", replay_honours_range_and_max, NULL},
    {"replay_stops_when_the_callback_stops", replay_stops_when_the_callback_stops, NULL},
    {"unknown_pid_is_empty", unknown_pid_is_empty, NULL},
    {"delete_to_removes_the_head_only", delete_to_removes_the_head_only, NULL},
    {"highest_survives_deleting_everything", highest_survives_deleting_everything, NULL},
    {"pids_are_listed_in_order_and_paged", pids_are_listed_in_order_and_paged, NULL},
    {"by_tag_follows_the_global_order", by_tag_follows_the_global_order, NULL},
    {"large_and_binary_payloads_round_trip", large_and_binary_payloads_round_trip, NULL},
    {"snapshots_latest_criteria_and_replace", snapshots_latest_criteria_and_replace, NULL},
    {"state_compare_and_set", NULL, state_compare_and_set},
    {"state_missing_and_delete", NULL, state_missing_and_delete},
    {"state_scan_by_prefix_in_key_order", NULL, state_scan_by_prefix_in_key_order},
    {"state_range_both_ways", NULL, state_range_both_ways},
    {"state_purge_and_transactions", NULL, state_purge_and_transactions},
    {"state_bounded_range_and_prefix", NULL, state_bounded_range_and_prefix},
    {"state_last_and_purge_by_prefix", NULL, state_last_and_purge_by_prefix},
    {"state_batch_all_or_nothing", NULL, state_batch_all_or_nothing},
    {"state_flush_keeps_writes", NULL, state_flush_keeps_writes},
};

static int sealer_for(int sealed, sealer **out)
{
    *out = NULL;
    if (!sealed)
        return ST_OK;
    keyring *ring;
    int rc = keyring_new(&ring);
    if (rc != ST_OK)
        return rc;
    uint8_t key[32];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(0xA5 ^ i);
    rc = keyring_add(ring, 1, key, sizeof(key));
    if (rc == ST_OK)
        rc = sealer_new(out, ring, NULL);
    keyring_release(ring);
    return rc;
}

static int run_case(size_t i, int sealed, contract_open_fn open, void *ctx, contract_case *c)
{
    store_backend *be;
    sealer *seal;
    int rc = open(ctx, &be);
    if (rc != ST_OK)
        return contract_fail(c, "opening a fresh store returned %d (%s)", rc, error_message());
    if ((rc = sealer_for(sealed, &seal)) != ST_OK) {
        be->ops->close(be);
        return contract_fail(c, "making the sealer returned %d (%s)", rc, error_message());
    }
    if (cases[i].on_journal) {
        journal *j;
        if ((rc = journal_open_backend(&j, be, seal, NULL)) != ST_OK)
            return contract_fail(c, "opening the journal returned %d (%s)", rc, error_message());
        rc = cases[i].on_journal(c, j);
        journal_close(j);
    } else {
        state_store *s;
        if ((rc = state_store_open_backend(&s, be, seal)) != ST_OK)
            return contract_fail(c, "opening the state store returned %d (%s)", rc,
                                 error_message());
        rc = cases[i].on_state(c, s);
        state_store_close(s);
    }
    return rc;
}

int contract_run(bytes *report, contract_open_fn open, void *ctx, size_t *passed, size_t *failed)
{
    size_t ok = 0, bad = 0;
    char first[480] = "";
    for (int sealed = 0; sealed <= 1; sealed++) {
        const char *variant = sealed ? "sealed" : "unsealed";
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            contract_case c = {{0}};
            char line[520];
            int n;
            if (run_case(i, sealed, open, ctx, &c) == 0) {
                ok++;
                n = snprintf(line, sizeof(line), "ok %s [%s]\n", cases[i].name, variant);
            } else {
                if (!bad++)
                    snprintf(first, sizeof(first), "%s [%s]: %s", cases[i].name, variant, c.why);
                n = snprintf(line, sizeof(line), "FAIL %s [%s]: %s\n", cases[i].name, variant,
                             c.why);
            }
            if (report && n > 0)
                bytes_put(report, (const uint8_t *)line,
                          (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        }
    }
    if (report) {
        char tail[64];
        int n = snprintf(tail, sizeof(tail), "%zu passed, %zu failed\n", ok, bad);
        bytes_put(report, (const uint8_t *)tail, (size_t)n);
        if (report->failed)
            return error_oom();
    }
    if (passed)
        *passed = ok;
    if (failed)
        *failed = bad;
    if (bad)
        return error_set(ST_ECORRUPT, "backend check: %zu of %zu cases failed; first: %s", bad,
                         ok + bad, first);
    return ST_OK;
}
