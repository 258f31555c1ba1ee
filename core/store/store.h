/*
 * What the store layers share beyond one contract: limits on identifiers,
 * and how a state store or journal is put together from an engine
 * (backend.h) and an optional sealer (seal/seal.h).
 */
#ifndef DD_STORE_STORE_H
#define DD_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "seal/seal.h"
#include "store/backend.h"
#include "store/state_store.h"

/* Longest persistence id or state key, in bytes. */
#define STORE_MAX_KEY_BYTES 4096u

/* Takes ownership of `be` and `seal` (NULL = unsealed), also on failure. */
int state_store_open_backend(state_store **out, store_backend *be, sealer *seal);

#endif
