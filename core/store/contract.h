/*
 * The backend contract as a kit: the rules of backend.h and state_store.h
 * checked through the journal and state store an application would use,
 * against any engine, so a user who writes an engine of their own
 * (dd_backend_ops, ABI.md "Custom backends") learns that it keeps the
 * contract before it holds data. dd_backend_check (abi/backend_check.c)
 * runs it; the built-in engines pass it through the same public path
 * (tests/c/store/test_backend_kit.c).
 *
 * Each case gets a fresh engine, once unsealed and once sealed (a
 * throwaway key): sealed blobs are larger and carry no structure an
 * engine could lean on.
 */
#ifndef DD_STORE_CONTRACT_H
#define DD_STORE_CONTRACT_H

#include <stddef.h>

#include "store/backend.h"
#include "util/bytes.h"

/* Opens a fresh, empty engine for one case; the case closes it. */
typedef int (*contract_open_fn)(void *ctx, store_backend **out);

/* Runs every case. `report` (may be NULL) gets one line per case, "ok
 * <case> [variant]" or "FAIL <case> [variant]: <message>", then "<n>
 * passed, <m> failed". ST_OK when all passed; ST_ECORRUPT naming the
 * first failure otherwise; an engine that cannot be opened fails its
 * case (the message says so). */
int contract_run(bytes *report, contract_open_fn open, void *ctx, size_t *passed, size_t *failed);

#endif
