/*
 * The backend contract kit's state-store cases (contract.c runs them):
 * compare-and-set, missing keys, scans, ranges, purge and transactions,
 * and the version 2 building blocks (bounded ranges, prefixes, batches,
 * flush).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/contract_internal.h"

/* ---- state cases -------------------------------------------------------- */

int state_compare_and_set(contract_case *c, state_store *s)
{
    uint64_t rev = 0;
    uint8_t a = 1, b = 2;
    MUST(state_store_upsert(s, K("k"), 0, &a, 1, &rev));
    EXPECT(rev == 1, "the first revision is %" PRIu64 ", expected 1", rev);
    MUST_FAIL(ST_ECONFLICT, state_store_upsert(s, K("k"), 0, &b, 1, &rev));
    MUST(state_store_upsert(s, K("k"), 1, &b, 1, &rev));
    EXPECT(rev == 2, "the second revision is %" PRIu64 ", expected 2", rev);
    MUST_FAIL(ST_ECONFLICT, state_store_upsert(s, K("k"), 1, &a, 1, &rev));
    MUST(state_store_upsert(s, K("k"), STATE_ANY_REVISION, &a, 1, &rev));
    EXPECT(rev == 3, "an unconditional upsert gave revision %" PRIu64 ", expected 3", rev);
    bytes out = BYTES_INIT;
    uint64_t got = 0;
    int rc = state_store_get(s, K("k"), &got, &out);
    int ok = rc == ST_OK && got == 3 && out.len == 1 && out.data[0] == 1;
    bytes_free(&out);
    EXPECT(ok, "get returned %d, revision %" PRIu64 ", not the last write", rc, got);
    return 0;
}

int state_missing_and_delete(contract_case *c, state_store *s)
{
    uint64_t rev = 0;
    uint8_t a = 1;
    MUST_FAIL(ST_ENOTFOUND, state_store_get(s, K("none"), &rev, NULL));
    MUST_FAIL(ST_ENOTFOUND, state_store_delete(s, K("none"), 1));
    MUST(state_store_upsert(s, K("k"), 0, &a, 1, &rev));
    MUST_FAIL(ST_ECONFLICT, state_store_delete(s, K("k"), 7));
    MUST(state_store_delete(s, K("k"), 1));
    MUST_FAIL(ST_ENOTFOUND, state_store_get(s, K("k"), &rev, NULL));
    return 0;
}

/* Writes a one-byte state under each of `keys`, each upsert expecting
 * `expected` (0: the key is new). */
static int put_keys(contract_case *c, state_store *s, const char *const *keys, size_t n,
                    uint64_t expected)
{
    uint8_t a = 1;
    uint64_t rev;
    for (size_t i = 0; i < n; i++)
        MUST(state_store_upsert(s, K(keys[i]), expected, &a, 1, &rev));
    return 0;
}

int state_scan_by_prefix_in_key_order(contract_case *c, state_store *s)
{
    const char *keys[] = {"a/2", "b/1", "a/1", "a", "a/10"};
    if (put_keys(c, s, keys, 5, 0))
        return -1;
    seen v = {0};
    MUST(state_store_scan(s, K("a/"), see_state, &v));
    EXPECT(v.n == 3 && !strcmp(v.key[0], "a/1") && !strcmp(v.key[1], "a/10") &&
               !strcmp(v.key[2], "a/2"),
           "scan 'a/' returned %zu keys starting '%s', expected a/1 a/10 a/2", v.n, v.key[0]);
    seen all = {0};
    MUST(state_store_scan(s, NULL, 0, see_state, &all));
    EXPECT(all.n == 5 && !strcmp(all.key[0], "a") && !strcmp(all.key[4], "b/1"),
           "scan of everything returned %zu keys, not in key order", all.n);
    return 0;
}

int state_range_both_ways(contract_case *c, state_store *s)
{
    const char *keys[] = {"k3", "k1", "k5", "k2", "k4"};
    if (put_keys(c, s, keys, 5, 0))
        return -1;
    seen f = {0}, last = {0}, back = {0};
    MUST(state_store_range(s, K("k2"), 2, see_state, &f));
    EXPECT(f.n == 2 && !strcmp(f.key[0], "k2") && !strcmp(f.key[1], "k3"),
           "range from k2 count 2 returned %zu keys starting '%s'", f.n, f.key[0]);
    MUST(state_store_range(s, NULL, 0, -2, see_state, &last));
    EXPECT(last.n == 2 && !strcmp(last.key[0], "k5") && !strcmp(last.key[1], "k4"),
           "range from the end count -2 returned %zu keys starting '%s'", last.n, last.key[0]);
    MUST(state_store_range(s, K("k3"), -5, see_state, &back));
    EXPECT(back.n == 3 && !strcmp(back.key[0], "k3") && !strcmp(back.key[2], "k1"),
           "range from k3 count -5 returned %zu keys starting '%s'", back.n, back.key[0]);
    return 0;
}

int state_purge_and_transactions(contract_case *c, state_store *s)
{
    uint8_t a = 1;
    uint64_t rev;
    MUST(state_store_begin(s));
    MUST(state_store_upsert(s, K("t1"), 0, &a, 1, &rev));
    MUST(state_store_upsert(s, K("t2"), 0, &a, 1, &rev));
    MUST(state_store_commit(s));
    seen v = {0};
    MUST(state_store_scan(s, NULL, 0, see_state, &v));
    EXPECT(v.n == 2, "after a committed transaction of 2 upserts, scan found %zu", v.n);
    MUST(state_store_purge(s));
    seen after = {0};
    MUST(state_store_scan(s, NULL, 0, see_state, &after));
    EXPECT(after.n == 0, "after purge, scan found %zu records", after.n);
    MUST(state_store_upsert(s, K("t1"), 0, &a, 1, &rev));
    return 0;
}

/* ---- state building blocks (dd_backend_ops version 2) ------------------
 * Through the state store, so an engine that leaves the version 2 members
 * NULL is checked on the library's generic forms of them. */

int state_bounded_range_and_prefix(contract_case *c, state_store *s)
{
    const char *keys[] = {"k1", "k2", "k3", "k4", "k5", "p\xff", "p\xff\x01", "p\xff\xff", "q"};
    if (put_keys(c, s, keys, 9, STATE_ANY_REVISION))
        return -1;
    state_bounds b = {0};
    b.start = (const uint8_t *)"k2";
    b.start_len = 2;
    b.start_exclusive = 1;
    b.end = (const uint8_t *)"k5";
    b.end_len = 2;
    seen f = {0};
    MUST(state_store_scan_range(s, &b, see_state, &f));
    EXPECT(f.n == 2 && !strcmp(f.key[0], "k3") && !strcmp(f.key[1], "k4"),
           "range (k2, k5) returned %zu keys starting '%s', expected k3 k4", f.n, f.key[0]);
    b.reverse = 1;
    b.end_inclusive = 1;
    b.limit = 2;
    seen r = {0};
    MUST(state_store_scan_range(s, &b, see_state, &r));
    EXPECT(r.n == 2 && !strcmp(r.key[0], "k5") && !strcmp(r.key[1], "k4"),
           "range (k2, k5] reversed, limit 2, returned %zu keys starting '%s', expected k5 k4", r.n,
           r.key[0]);
    state_bounds pb = {0};
    bytes scratch = BYTES_INIT;
    seen p = {0};
    int rc = state_bounds_clip_prefix(&pb, K("p\xff"), &scratch);
    if (rc == ST_OK)
        rc = state_store_scan_range(s, &pb, see_state, &p);
    bytes_free(&scratch);
    MUST(rc);
    EXPECT(p.n == 3 && !strcmp(p.key[2], "p\xff\xff"),
           "prefix 'p\\xff' returned %zu keys, expected 3 (the 0xFF bytes are part of it)", p.n);
    return 0;
}

int state_last_and_purge_by_prefix(contract_case *c, state_store *s)
{
    const char *keys[] = {"a/1", "a/2", "ab", "b/1"};
    if (put_keys(c, s, keys, 4, STATE_ANY_REVISION))
        return -1;
    bytes key = BYTES_INIT;
    int rc = state_store_last_prefix(s, K("a/"), &key, NULL, NULL);
    int ok = rc == ST_OK && key.len == 3 && !memcmp(key.data, "a/2", 3);
    bytes_free(&key);
    EXPECT(ok, "last by prefix 'a/' returned %d, not a/2", rc);
    MUST_FAIL(ST_ENOTFOUND, state_store_last_prefix(s, K("z"), NULL, NULL, NULL));
    MUST(state_store_purge_prefix(s, K("a/")));
    seen v = {0};
    MUST(state_store_scan(s, NULL, 0, see_state, &v));
    EXPECT(v.n == 2 && !strcmp(v.key[0], "ab") && !strcmp(v.key[1], "b/1"),
           "after purging 'a/', %zu records are left starting '%s', expected ab b/1", v.n,
           v.key[0]);
    return 0;
}

int state_batch_all_or_nothing(contract_case *c, state_store *s)
{
    const char *keys[] = {"a", "b"};
    if (put_keys(c, s, keys, 2, STATE_ANY_REVISION))
        return -1;
    uint8_t v = 2;
    state_op ops[] = {
        {STATE_OP_UPSERT, K("a"), 1, &v, 1},
        {STATE_OP_DELETE, K("b"), 1, NULL, 0},
        {STATE_OP_UPSERT, K("c"), 0, &v, 1},
        {STATE_OP_UPSERT, K("d"), 9, &v, 1},
    };
    int rc = state_store_batch(s, ops, 4, NULL);
    if (rc == ST_EUNSUPPORTED)
        return 0; /* no state_batch and no begin/commit: refusing is the honest answer */
    EXPECT(rc == ST_ECONFLICT, "a batch whose op 3 conflicts returned %d, expected %d", rc,
           ST_ECONFLICT);
    seen after = {0};
    MUST(state_store_scan(s, NULL, 0, see_state, &after));
    EXPECT(after.n == 2 && after.seq[0] == 1 && after.seq[1] == 1,
           "a conflicting batch changed the store: %zu records, a at revision %" PRIu64, after.n,
           after.seq[0]);
    uint64_t revs[3] = {0};
    MUST(state_store_batch(s, ops, 3, revs));
    EXPECT(revs[0] == 2 && revs[1] == 0 && revs[2] == 1,
           "batch revisions are %" PRIu64 " %" PRIu64 " %" PRIu64 ", expected 2 0 1", revs[0],
           revs[1], revs[2]);
    seen done = {0};
    MUST(state_store_scan(s, NULL, 0, see_state, &done));
    EXPECT(done.n == 2 && !strcmp(done.key[1], "c"), "after the batch %zu records, expected a c",
           done.n);
    return 0;
}

int state_flush_keeps_writes(contract_case *c, state_store *s)
{
    const char *keys[] = {"f"};
    if (put_keys(c, s, keys, 1, STATE_ANY_REVISION))
        return -1;
    MUST(state_store_flush(s));
    MUST(state_store_get(s, K("f"), NULL, NULL));
    return 0;
}
