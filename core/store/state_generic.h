/*
 * The state building blocks (state_store.h, "building blocks") on any
 * engine: each call uses the engine's own member when it has one, and
 * otherwise a generic form written on the members every engine has
 * (state_range, state_get, state_delete, state_begin/commit). Shared by
 * the state store layer and by abi/backend_builtin.c, so a built-in
 * engine behind the public table always offers them.
 *
 * The generic batch checks every expected revision first and then writes
 * between state_begin and state_commit: all or nothing against conflicts
 * seen through this handle, and atomic on a crash only when the engine's
 * begin/commit is a transaction. A user's engine without begin/commit gets
 * DD_EUNSUPPORTED for a batch rather than a batch that is not one
 * (abi/backend_custom.c); every built-in engine has its own batch.
 */
#ifndef DD_STORE_STATE_GENERIC_H
#define DD_STORE_STATE_GENERIC_H

#include "store/backend.h"

int state_backend_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx);
int state_backend_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions);
int state_backend_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len);
int state_backend_flush(store_backend *b);

/* The generic forms alone, for an adapter whose own member decides
 * (abi/backend_custom.c). The generic batch needs state_begin/commit: an
 * adapter whose engine has none refuses the batch itself. The generic
 * purge deletes key by key, inside begin/commit when has_transactions. */
int state_generic_scan_range(store_backend *b, const state_bounds *r, state_scan_fn fn, void *ctx);
int state_generic_batch(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions);
int state_generic_purge_prefix(store_backend *b, const uint8_t *prefix, size_t prefix_len,
                               int has_transactions);

/* state_begin and state_commit of an engine whose every write is atomic
 * on its own and that has no transaction to open (memory, fs): succeeds. */
int state_no_transaction(store_backend *b);
/* The begin/commit members of such an engine's ops table. */
#define STORE_BACKEND_NO_TRANSACTIONS                                                              \
    .state_begin = state_no_transaction, .state_commit = state_no_transaction

/* The errors every engine gives for a state record, in the same words
 * whichever engine found them. */
int state_error_not_found(const uint8_t *key, size_t key_len);
int state_error_conflict(const uint8_t *key, size_t key_len, uint64_t expected, uint64_t found);
int state_error_batch_conflict(size_t i, const state_op *op, uint64_t found);
/* Applies the ops of a batch one by one through the engine's own upsert
 * and delete, for an engine whose batch is a transaction around single
 * writes (the caller opens and ends it); revisions (may be NULL) gets each
 * op's new revision (0 for a delete). A delete of an absent key is fine
 * unconditionally and a conflict otherwise; the error names the op. */
int state_batch_apply_all(store_backend *b, const state_op *ops, size_t n, uint64_t *revisions);

/* 1 when key k lies within the bounds (both ends; direction ignored). */
int state_bounds_contain(const state_bounds *r, const uint8_t *k, size_t k_len);
/* For engines: 1 when k is past the far end of a walk in r's direction
 * (above end going forward, below start going backward). */
int state_bounds_past(const state_bounds *r, const uint8_t *k, size_t k_len);

#endif
