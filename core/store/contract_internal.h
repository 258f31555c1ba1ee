/*
 * What the backend contract kit's case files share (contract.c holds the
 * journal cases and the runner, contract_state.c the state-store cases):
 * the case record with its failure text, the MUST/EXPECT macros that fill
 * it, and the collector a read hands its items to.
 */
#ifndef DD_STORE_CONTRACT_INTERNAL_H
#define DD_STORE_CONTRACT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/journal.h"
#include "store/store.h"
#include "util/error.h"
#include "util/status.h"

#define K(s) (const uint8_t *)(s), strlen(s)

typedef struct contract_case {
    char why[320]; /* the failure, when there is one */
} contract_case;

/* Records the failure in c->why; returns -1. */
int contract_fail(contract_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An operation that must succeed. */
#define MUST(call)                                                                                 \
    do {                                                                                           \
        int must_rc_ = (call);                                                                     \
        if (must_rc_ != ST_OK)                                                                     \
            return contract_fail(c, "%s returned %d (%s)", #call, must_rc_, error_message());      \
    } while (0)

/* An operation that must fail with `want`. */
#define MUST_FAIL(want, call)                                                                      \
    do {                                                                                           \
        int must_rc_ = (call);                                                                     \
        if (must_rc_ != (want))                                                                    \
            return contract_fail(c, "%s returned %d, expected %d", #call, must_rc_, (int)(want));  \
    } while (0)

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return contract_fail(c, __VA_ARGS__);                                                  \
    } while (0)

/* ---- collecting what a read hands out ----------------------------------- */

#define SEEN_MAX 64

typedef struct seen {
    size_t n;
    uint64_t seq[SEEN_MAX], ts[SEEN_MAX], ordering[SEEN_MAX];
    uint8_t first_byte[SEEN_MAX];
    size_t len[SEEN_MAX];
    size_t tags_len[SEEN_MAX];
    char key[SEEN_MAX][16];
    int stop_after; /* return 42 after this many; 0 = never */
} seen;

/* Collectors for reads: each records the item in the `seen` it is given. */
int see_event(void *ctx, const store_event *ev);
int see_key(void *ctx, const uint8_t *key, size_t key_len);
int see_state(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
              const uint8_t *state, size_t len);

/* The state-store cases (contract_state.c). */
int state_compare_and_set(contract_case *c, state_store *s);
int state_missing_and_delete(contract_case *c, state_store *s);
int state_scan_by_prefix_in_key_order(contract_case *c, state_store *s);
int state_range_both_ways(contract_case *c, state_store *s);
int state_purge_and_transactions(contract_case *c, state_store *s);
int state_bounded_range_and_prefix(contract_case *c, state_store *s);
int state_last_and_purge_by_prefix(contract_case *c, state_store *s);
int state_batch_all_or_nothing(contract_case *c, state_store *s);
int state_flush_keeps_writes(contract_case *c, state_store *s);

#endif
