/*
 * What abi/dd_journal.c and abi/backend_*.c use of abi/dd_store.c: the
 * store options turned into a backend, a sealer and the journal's options.
 */
#ifndef DD_ABI_DD_STORE_H
#define DD_ABI_DD_STORE_H

#include "ddata.h"
#include "seal/seal.h"
#include "store/journal.h"
#include "store/store.h"

/* Checks `o` and opens its backend and sealer (both freed by the caller on
 * success; none left open on failure). `jo` may be NULL. */
int abi_store_open_parts(const dd_store_options *o, store_backend **be, sealer **seal,
                         journal_options *jo);

/* The sealer and journal options of `o` (NULL: defaults), shared by the
 * built-in engines and a user's own (abi/backend_custom.c). */
int abi_store_sealer(const dd_store_options *o, sealer **seal, journal_options *jo);
/* The built-in engine `o` names (abi/backend_builtin.c). */
int abi_store_engine(const dd_store_options *o, store_backend **be);

#endif
