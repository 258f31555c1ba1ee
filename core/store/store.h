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

/* The sealer of an unsealed journal or state store: the plain envelope
 * (seal/plain.h), a checksum and no compression unless asked. */
int store_plain_sealer(sealer **out);

/* The checks every call on one persistence id or state key opens with:
 * ST_EMISUSE for a NULL handle, ST_EINVAL for an empty id, ST_ELIMIT past
 * STORE_MAX_KEY_BYTES; the messages name the handle ("journal") and the
 * id ("persistence id"). */
int store_check_call(const void *handle, const char *handle_name, const uint8_t *id, size_t id_len,
                     const char *id_name);

/* Takes ownership of `be` and `seal` (NULL = unsealed), also on failure. */
int state_store_open_backend(state_store **out, store_backend *be, sealer *seal);

#endif
