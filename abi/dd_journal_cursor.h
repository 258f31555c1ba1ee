/*
 * What abi/dd_store.c and abi/dd_journal.c use of abi/dd_journal_cursor.c:
 * state stores hand out the same cursor type as journals, and recovery
 * hands out tags the way cursors do.
 */
#ifndef DD_ABI_DD_JOURNAL_CURSOR_H
#define DD_ABI_DD_JOURNAL_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "ddata.h"

/* A cursor over a state store's keys starting with `start` (keys), or over
 * up to |count| records from `start` (negative = backward; 0 = none).
 * Arguments are checked by the caller. */
int abi_state_cursor_new(dd_journal_cursor **out, dd_state_store *store, const uint8_t *start,
                         size_t start_len, int keys, int64_t count);

/* A cursor over the records within `b` (copied; the prefix already
 * folded into start and end), for dd_state_store_scan. */
struct state_bounds;
int abi_state_scan_cursor_new(dd_journal_cursor **out, dd_state_store *store,
                              const struct state_bounds *b);

/* Decodes an encoded tag list into NUL-terminated strings in two fresh
 * allocations (*tags, *block), replacing and freeing the old ones. */
int abi_journal_tags_decode(const uint8_t *blob, size_t len, char ***tags, char **block,
                            size_t *count_out);

#endif
