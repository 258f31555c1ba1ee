/*
 * Rekeying a store: every record rewritten under the active key of a new
 * key ring, in place, with every sequence number, ordering, timestamp,
 * tag, revision and snapshot kept as it was.
 *
 * Key ids make rotation possible without a rewrite (keyring.h): old
 * records keep opening while their key stays in the ring. Rekeying is the
 * step that lets an old key go: once every record is sealed under the new
 * active key, a ring without the old key opens the whole store.
 *
 * The record transform (rekey.c) is the same for every engine: open the
 * blob with the old sealer under its binding (binding.h), seal the
 * plaintext with the new one under the same binding. A record that does
 * not open with the old ring stops the rekey with the record named, and
 * nothing is changed. The old sealer may be plain (an unsealed store
 * becomes sealed); a state record's binding then gains its revision, as
 * sealed stores bind it.
 *
 * Each engine rewrites its own way, all or nothing, so a crash leaves the
 * store readable with the old ring or with the new one, never a mix:
 *   SQLite  one transaction over the journal, snapshots and state tables
 *           (sqlite_rekey.c)
 *   fs      a rekeyed copy of the directory beside it, swapped in with one
 *           atomic rename exchange (fs_rekey.c)
 *   PostgreSQL  one transaction, the tables locked against writers
 *           (pg_rekey.c)
 * Other engines (memory, a user's own) are ST_EUNSUPPORTED.
 */
#ifndef DD_STORE_REKEY_H
#define DD_STORE_REKEY_H

#include <stddef.h>
#include <stdint.h>

#include "seal/seal.h"
#include "store/backend.h"
#include "util/bytes.h"

typedef struct rekey {
    sealer *from; /* opens what is stored; plain when the store was unsealed */
    sealer *to;   /* seals what is written back; always sealed */
    bytes binding;
    bytes plain;
    uint64_t records; /* rewritten so far */
} rekey;

/* Each writes the rekeyed blob of one record to `out` (reset first). */
int rekey_event(rekey *r, const store_event *ev, bytes *out);
int rekey_snapshot(rekey *r, const uint8_t *pid, size_t pid_len, uint64_t seq, uint64_t ts,
                   const uint8_t *data, size_t len, bytes *out);
int rekey_state(rekey *r, const uint8_t *key, size_t key_len, uint64_t revision,
                const uint8_t *data, size_t len, bytes *out);

/* The engines' rewrites (sqlite_rekey.c, fs_rekey.c, pg_rekey.c). */
int sqlite_rekey(store_backend *be, rekey *r);
int fs_rekey(store_backend *be, rekey *r);
int pg_rekey(store_backend *be, rekey *r);

/* Rekeys the store behind `be` from `from` to `to` (neither is taken);
 * *records (may be NULL) counts the records rewritten. ST_EINVAL when `to`
 * does not seal; ST_ECRYPTO or ST_ECORRUPT (naming the record) when one
 * does not open with `from`; ST_EUNSUPPORTED for an engine that cannot. */
int store_rekey(store_backend *be, sealer *from, sealer *to, uint64_t *records);

#endif
