/*
 * What dd_state_blocks.c lends the engine adapters: a public
 * dd_state_range as the core's state_bounds, read the same way whether it
 * comes from a caller of dd_state_store_scan or from the journal layer
 * calling the built-in engines through their public table
 * (abi/backend_builtin.c).
 */
#ifndef DD_ABI_DD_STATE_BLOCKS_INTERNAL_H
#define DD_ABI_DD_STATE_BLOCKS_INTERNAL_H

#include "ddata.h"
#include "store/state_store.h"
#include "util/bytes.h"

/* The bounds of `range` (flags as booleans), narrowed to its prefix;
 * `scratch` may hold the narrowed end, so the caller frees it after it is
 * done with `out`. */
int abi_state_bounds(const dd_state_range *range, state_bounds *out, bytes *scratch);

#endif
