/*
 * How an owner's instance is saved and loaded.
 *
 * The engine saves an instance before it publishes it (prepare, persist,
 * then publish), so a peer never holds a generation the owner could lose
 * in a crash, and a restart that loads the record keeps its incarnation.
 *
 * The engine talks to a small table of two functions rather than to the
 * state store directly: the node shell passes owned_persist_state_store()
 * (key "owned/<type>" in the durable state store), and the simulator
 * passes its own table to inject crashes and failed loads.
 *
 * Record (all varints but the format byte):
 *   format (OWNED_RECORD_FORMAT), storage version, incarnation, base age,
 *   base view (blob), delta count, deltas (blobs)
 * The whole view is base + deltas because ddata never folds deltas itself;
 * the application compacts by publishing a full view.
 */
#ifndef DD_OWNED_PERSIST_H
#define DD_OWNED_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "owned/wire.h"
#include "store/state_store.h"
#include "util/bytes.h"
#include "util/limits.h"

#define OWNED_RECORD_FORMAT 1
#define OWNED_KEY_PREFIX "owned/"

typedef struct owned_persist {
    void *ctx;
    /* Fills `out` with the record saved under key; ST_ENOTFOUND when none. */
    int (*load)(void *ctx, const uint8_t *key, size_t key_len, bytes *out);
    /* Replaces the record under key; durable when it returns ST_OK. */
    int (*save)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len);
} owned_persist;

/* The adapter over the durable state store (unconditional upserts). */
owned_persist owned_persist_state_store(state_store *s);

typedef struct owned_record {
    uint32_t storage_version;
    uint64_t incarnation;
    uint64_t base_age;
    owned_blob base;
    owned_blob *deltas; /* allocated by the decoder; blobs borrow the input */
    size_t n_deltas;
} owned_record;

void owned_record_encode(bytes *out, const owned_record *r);
/* ST_ECORRUPT / ST_ELIMIT / ST_EUNSUPPORTED as the wire decoder. Release
 * with owned_record_free. */
int owned_record_decode(owned_record *out, const uint8_t *data, size_t len, const limits *lim);
void owned_record_free(owned_record *r);

/* Writes "owned/<name>" into key (at least sizeof OWNED_KEY_PREFIX +
 * OWNED_TYPE_NAME_MAX bytes); returns its length. */
size_t owned_record_key(char *key, const uint8_t *name, size_t name_len);

#endif
