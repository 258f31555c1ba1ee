/*
 * ddata: replicated, durable state for many runtimes, through one C ABI.
 *
 * This is the only public header. Every binding (Python, Node, Rust) is
 * generated from it, and ABI.md is its contract; read that first. In short:
 *
 *  - Functions return an int status: DD_OK (0) or a negative DD_E* code.
 *    Results come back through out-parameters, `out` first.
 *  - On failure, dd_handle_error() describes what went wrong in the last
 *    failed call made with a handle, dd_error_last() on this thread.
 *    Successful calls leave both unchanged.
 *  - What a call hands out through `out`, the caller frees with the matching
 *    dd_*_free / dd_*_close (all NULL-safe); byte strings come back as a
 *    dd_buf freed with dd_buf_free. Never free() anything from ddata.
 *  - Handles are opaque. A NULL, closed or forged handle is detected and
 *    yields DD_EMISUSE; it is never dereferenced.
 *  - Options structs begin with `uint32_t version`; initialise them with
 *    their DD_*_INIT macro or dd_*_init() function.
 */
#ifndef DDATA_H
#define DDATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DDATA_BUILDING) && defined(__GNUC__)
#define DD_API __attribute__((visibility("default")))
#else
#define DD_API
#endif

/* ---------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------- */

#define DDATA_VERSION_MAJOR 1
#define DDATA_VERSION_MINOR 0
#define DDATA_VERSION_PATCH 0
#define DDATA_VERSION "1.0.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH, as SQLite numbers its releases. */
#define DDATA_VERSION_NUMBER 1000000
/* Bumped, with the SONAME, only when a released symbol changes meaning. */
#define DDATA_ABI_VERSION 1

/* The version of the library actually loaded, which may be newer than the
 * header a program was compiled with. */
DD_API const char *dd_version(void);
DD_API int dd_version_number(void);
DD_API int dd_abi_version(void);

/* Prepares process-wide state (libsodium). Idempotent and thread-safe; every
 * constructor calls it, so calling it yourself is optional. */
DD_API int dd_init(void);

/* ---------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------- */

typedef enum dd_status {
    DD_OK = 0,
    DD_EINVAL = -1,        /* an argument is wrong: NULL, empty, out of range */
    DD_ENOMEM = -2,        /* an allocation failed; nothing was changed */
    DD_EMISUSE = -3,       /* NULL, closed or wrong-kind handle; call out of order */
    DD_ENOTFOUND = -4,     /* no such key, persistence id, snapshot or member */
    DD_ECONFLICT = -5,     /* compare-and-set lost: sequence or revision moved */
    DD_ECORRUPT = -6,      /* stored or received bytes are malformed */
    DD_ECRYPTO = -7,       /* wrong key, tampered data, failed handshake */
    DD_ELIMIT = -8,        /* a configured limit (bytes, count, depth) was hit */
    DD_EIO = -9,           /* the operating system or a storage engine failed */
    DD_ETIMEOUT = -10,     /* a consistency level was not reached in time */
    DD_EDELETED = -11,     /* the key was deleted and may not be updated */
    DD_ETYPE = -12,        /* the key or value holds another data type */
    DD_EBUSY = -13,        /* a resource is locked by someone else; retry */
    DD_EDONE = -14,        /* no more items: iteration ended, queue empty */
    DD_EUNSUPPORTED = -15, /* not available in this build or on this CPU */
    DD_ECALLBACK = -16     /* a caller's callback stopped the call (its code
                              is in the message) */
} dd_status;

/* Callbacks return 0 to go on, or a code of their own, 1 ..
 * DD_CALLBACK_CODE_MAX, to stop: the call then returns DD_ECALLBACK and
 * its message names the code ("... stopped with code 7"). A negative
 * return is read as a DD_E* status: kept (message: "returned DD_EIO")
 * when it is one, DD_ECALLBACK otherwise. See ABI.md, "Errors". */
#define DD_CALLBACK_CODE_MAX 0x7fffffff

/* Names a status: "DD_EINVAL". Never NULL ("DD_E?" for unknown codes). */
DD_API const char *dd_status_name(int code);
/* Describes a status: "invalid argument". Never NULL. */
DD_API const char *dd_status_str(int code);

typedef struct dd_error {
    int code;            /* the DD_* status of the last failure */
    const char *message; /* lowercase, names the thing; valid until the next
                            ddata call on this thread */
} dd_error;

/* The last failure on the calling thread. Never NULL; a thread without
 * failures gets {DD_OK, "no error"}. Successful calls leave it unchanged. */
DD_API const dd_error *dd_error_last(void);
DD_API void dd_error_clear(void);

/* The last failure of a call made with `handle` (any kind: the first
 * handle argument of the call), from whichever thread made it, the way
 * sqlite3_errmsg(db) works: for runtimes whose tasks move between threads.
 * Points *out at {code, message} ({DD_OK, "no error"} before any failure);
 * valid until the next call on that handle. DD_EMISUSE (in dd_error_last)
 * for a NULL, closed, stale or forged handle. Calls without a handle
 * (constructors, dd_*_init) report through dd_error_last only. */
DD_API int dd_handle_error(const dd_error **out, const void *handle);

/* ---------------------------------------------------------------------------
 * Byte buffers
 * ------------------------------------------------------------------------- */

/* Bytes handed out by ddata. The caller owns `data`; release it with
 * dd_buf_free, which also resets the struct, so freeing twice is safe. */
typedef struct dd_buf {
    uint8_t *data;
    size_t len;
} dd_buf;

#define DD_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

DD_API void dd_buf_free(dd_buf *buf);

/* ---------------------------------------------------------------------------
 * Decoding limits
 *
 * Everything ddata decodes (CRDT values, JSON, gossip, stored records) is
 * bounded. Exceeding a limit yields DD_ELIMIT; malformed input DD_ECORRUPT.
 * ------------------------------------------------------------------------- */

typedef struct dd_limits {
    uint32_t version;           /* DD_LIMITS_VERSION */
    uint32_t max_depth;         /* nesting of maps in maps */
    uint64_t max_bytes;         /* size of one encoded value or message */
    uint64_t max_elements;      /* entries in one set, map or dot store */
    uint64_t max_value_bytes;   /* one element, key or register value */
    uint64_t max_clock_skew_ms; /* how far into the future a timestamp may be */
} dd_limits;

#define DD_LIMITS_VERSION 1
#define DD_LIMITS_INIT                                                                             \
    {                                                                                              \
        DD_LIMITS_VERSION, 32, 64u << 20, 4u << 20, 1u << 20, 300000                               \
    }

/* Fills `opts` with the defaults of DD_LIMITS_INIT. DD_EINVAL for a version
 * this library does not know. */
DD_API int dd_limits_init(dd_limits *opts, uint32_t version);

/* The hard ceiling on dd_limits.max_depth. Decoding recurses once per level
 * of nesting, and 128 levels fit a 256 KiB thread stack; a dd_limits asking
 * for more is DD_EINVAL wherever one is accepted (dd_crdt_decode,
 * dd_crdt_from_json, replica and system options). dd_limits_max_depth() is
 * its function twin. */
#define DD_LIMITS_MAX_DEPTH 128
DD_API uint32_t dd_limits_max_depth(void);

/* ---------------------------------------------------------------------------
 * Handles (opaque; see ABI.md for which may be shared between threads)
 * ------------------------------------------------------------------------- */

typedef struct dd_crdt dd_crdt;               /* one CRDT value */
typedef struct dd_system dd_system;           /* a node: identity, clock, transport */
typedef struct dd_replica dd_replica;         /* a node's replicated key-value store */
typedef struct dd_journal dd_journal;         /* event journal + snapshot store */
typedef struct dd_state_store dd_state_store; /* durable state: key -> (revision, bytes) */
typedef struct dd_keyring dd_keyring;         /* keys for sealing data at rest */

/* ===== section: crdt (issue 4) ===== */

/* ---------------------------------------------------------------------------
 * CRDT types and operations
 *
 * An operation is described by a dd_op, the same for a standalone dd_crdt
 * value and for a key of a replica. Maps nest: an ORMap update names the
 * key, the type of the value there and the op to apply to it (`nested`).
 * Elements, keys and values are byte strings (UTF-8 text is the common case).
 * ------------------------------------------------------------------------- */

/* Numbering is part of the wire and storage formats and never changes. */
typedef enum dd_crdt_type {
    DD_GCOUNTER = 1,
    DD_PNCOUNTER = 2,
    DD_GSET = 3,
    DD_ORSET = 4,
    DD_LWWREGISTER = 5,
    DD_FLAG = 6,
    DD_MVREGISTER = 7,
    DD_ORMAP = 8,
    DD_LWWMAP = 9,
    DD_PNCOUNTERMAP = 10,
    DD_GCOUNTERMAP = 11,
    DD_ORMULTIMAP = 12
} dd_crdt_type;

typedef enum dd_op_kind {
    DD_OP_INCREMENT = 1, /* counters; counter maps with key: amount */
    DD_OP_DECREMENT = 2, /* PNCounter; PNCounterMap with key: amount */
    DD_OP_ADD = 3,       /* GSet, ORSet: value; ORMultiMap: key + value */
    DD_OP_REMOVE = 4,    /* ORSet: value; maps: key; ORMultiMap: key (+ value) */
    DD_OP_CLEAR = 5,     /* ORSet, maps, MVRegister: remove all observed */
    DD_OP_ASSIGN = 6,    /* LWWRegister, MVRegister: value; LWWMap: key + value */
    DD_OP_ENABLE = 7,    /* Flag */
    DD_OP_UPDATE = 8     /* ORMap: key, value_type and nested op */
} dd_op_kind;

typedef struct dd_op {
    uint32_t version; /* DD_OP_VERSION */
    uint32_t kind;    /* dd_op_kind */
    uint64_t amount;  /* counters */
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
    uint32_t value_type;        /* dd_crdt_type of the value at key (ORMap) */
    const struct dd_op *nested; /* the op on that value (ORMap) */
} dd_op;

#define DD_OP_VERSION 1
#define DD_OP_INIT                                                                                 \
    {                                                                                              \
        DD_OP_VERSION, 0, 0, NULL, 0, NULL, 0, 0, NULL                                             \
    }

DD_API int dd_op_init(dd_op *op, uint32_t version);

/* ---------------------------------------------------------------------------
 * Standalone CRDT values (dd_crdt). See ABI.md, "CRDT values".
 *
 * A dd_crdt is one value of one type. It is not locked: use a value from one
 * thread at a time (freeing it from any thread is safe). Actors are 64-bit
 * replica ids (node id plus incarnation); now_ms is the caller's clock in
 * ms since the Unix epoch, used by LWW timestamps only.
 * ------------------------------------------------------------------------- */

/* A new empty value of `type` (a dd_crdt_type). Free with dd_crdt_free. */
DD_API int dd_crdt_new(dd_crdt **out, uint32_t type);
/* NULL-safe. DD_EMISUSE when `v` was already freed. */
DD_API int dd_crdt_free(dd_crdt *v);
DD_API int dd_crdt_clone(dd_crdt **out, const dd_crdt *v);
/* The dd_crdt_type of `v` (> 0), or a negative status. */
DD_API int dd_crdt_type_of(const dd_crdt *v);
/* "ORSet", ...; never NULL: "unknown" for an unknown type (the rule of
 * every name function: dd_status_name gives "DD_E?"). */
DD_API const char *dd_crdt_type_name(uint32_t type);
/* A random actor id for standalone values (never 0; 64 bits from the
 * system's CSPRNG, so two processes collide with probability ~2^-64 per
 * pair). Actors that share an id corrupt each other's dots: use one id per
 * writer, and a fresh one after losing the writer's state. */
DD_API int dd_actor_id_random(uint64_t *out);
/* 1 when deltas of `type` must be delivered in causal order (ORSet,
 * MVRegister, the maps), 0 when any order works, DD_EINVAL if unknown. */
DD_API int dd_crdt_needs_causal_delta(uint32_t type);

/* Applies `op` as `actor` at `now_ms`. When `delta_out` is not NULL it
 * receives the mutation's delta, a value of the same type to send to other
 * replicas and merge there (caller frees). DD_ETYPE when the op does not fit
 * the type; on any failure `v` is unchanged. */
DD_API int dd_crdt_apply(dd_crdt *v, const dd_op *op, uint64_t actor, uint64_t now_ms,
                         dd_crdt **delta_out);
/* Joins `src` (a full value or a delta) into `dst`; DD_ETYPE if their
 * types differ. Commutative, associative, idempotent. */
DD_API int dd_crdt_merge(dd_crdt *dst, const dd_crdt *src);
/* 1 when equal (same state, not only the same visible value), 0 when not. */
DD_API int dd_crdt_equal(const dd_crdt *a, const dd_crdt *b);
/* A 64-bit hash of the canonical encoding: equal states, equal digests. */
DD_API int dd_crdt_digest(uint64_t *out, const dd_crdt *v);

/* The canonical, versioned binary form (equal states, equal bytes). */
DD_API int dd_crdt_encode(dd_buf *out, const dd_crdt *v);
/* Decodes bounded by `limits` (NULL = DD_LIMITS_INIT): DD_ELIMIT past a
 * limit (including an LWW timestamp beyond now_ms + max_clock_skew_ms),
 * DD_ECORRUPT for malformed or non-canonical bytes. */
DD_API int dd_crdt_decode(dd_crdt **out, const uint8_t *data, size_t len, const dd_limits *limits,
                          uint64_t now_ms);
/* The full state as canonical JSON; dd_crdt_from_json reads it back
 * exactly. Form: {"state":"<base64 of the binary form>","type":...,
 * "value":<value form>} (docs/json.md). */
DD_API int dd_crdt_to_json(dd_buf *out, const dd_crdt *v);
DD_API int dd_crdt_from_json(dd_crdt **out, const char *json, size_t len, const dd_limits *limits);
/* The value a user sees, as canonical JSON: {"type":"PNCounter","value":5},
 * {"elements":["a","b"],"type":"ORSet"}, ... (docs/json.md). */
DD_API int dd_crdt_value_json(dd_buf *out, const dd_crdt *v);

/* Typed reads. DD_ETYPE when the value has no such read. */
/* GCounter, PNCounter; DD_ELIMIT if the sum does not fit in int64. */
DD_API int dd_crdt_counter_value(int64_t *out, const dd_crdt *v);
/* Elements (GSet, ORSet), values (MVRegister), keys (maps): 1 or 0. */
DD_API int dd_crdt_contains(const dd_crdt *v, const uint8_t *elem, size_t len);
/* Set elements, map keys, register values (0/1), counter slots. */
DD_API int dd_crdt_count(uint64_t *out, const dd_crdt *v);
/* LWWRegister: a copy of the value; DD_ENOTFOUND when never assigned. */
DD_API int dd_crdt_register_get(dd_buf *out, const dd_crdt *v);
/* Flag: 1 or 0. */
DD_API int dd_crdt_flag_value(const dd_crdt *v);
/* Maps: a copy of the value at `key` (LWWRegister for LWWMap, PNCounter
 * for PNCounterMap, ...); DD_ENOTFOUND when absent. */
DD_API int dd_crdt_map_get(dd_crdt **out, const dd_crdt *map, const uint8_t *key, size_t key_len);
/* Set elements, MVRegister values or map keys, in bytewise order, each as a
 * 4-byte little-endian length followed by the bytes. */
DD_API int dd_crdt_elements(dd_buf *out, const dd_crdt *v);
/* ===== end section: crdt ===== */

/* ===== section: store (issue 5) ===== */

/* ---------------------------------------------------------------------------
 * Persistence: event journal, snapshots, durable state, sealing
 *
 * A dd_journal is an event journal plus a snapshot store; a dd_state_store
 * maps keys to (revision, bytes) with compare-and-set. Both sit on a
 * backend chosen in dd_store_options (memory, SQLite, a directory of
 * files) and, given a dd_keyring, seal what they write: zlib, then
 * XChaCha20-Poly1305 (or AES-256-GCM), bound to the record's identity so a
 * blob moved to another record fails with DD_ECRYPTO. Callers always pass
 * and receive plaintext. See ABI.md, "Persistence".
 * ------------------------------------------------------------------------- */

typedef struct dd_journal_cursor dd_journal_cursor; /* iterates events or pids */

typedef enum dd_backend {
    DD_BACKEND_MEMORY = 1,  /* in this process only; for tests and caches */
    DD_BACKEND_SQLITE = 2,  /* one file (WAL); the default for durable use */
    DD_BACKEND_FS = 3,      /* a directory, one file per record; shareable */
    DD_BACKEND_POSTGRES = 4 /* a PostgreSQL server shared by every node; `path` is a
                               libpq connection string or URI */
} dd_backend;

typedef enum dd_sync {
    DD_SYNC_OFF = 0,    /* never fsync: fastest, loses data on a crash */
    DD_SYNC_NORMAL = 1, /* survives a process crash (SQLite: may lose the last
                           commits on power loss) */
    DD_SYNC_FULL = 2    /* DD_OK means on disk */
} dd_sync;

typedef enum dd_seal_algorithm {
    DD_SEAL_XCHACHA20POLY1305 = 1, /* the default; any CPU */
    DD_SEAL_AES256GCM = 2          /* only on CPUs with AES-NI (DD_EUNSUPPORTED) */
} dd_seal_algorithm;

/* Whether a store must be sealed. A keyring handle that is NULL, closed or
 * forged must never be mistaken for "no sealing": with DD_SEAL_REQUIRED a
 * NULL keyring is DD_EINVAL, and a closed or forged one is DD_EMISUSE in
 * either mode, so nothing is ever written in clear by accident. */
typedef enum dd_seal_mode {
    DD_SEAL_IF_KEYRING = 0, /* sealed exactly when `keyring` is not NULL */
    DD_SEAL_REQUIRED = 1    /* sealed; a NULL keyring is refused (DD_EINVAL) */
} dd_seal_mode;

typedef struct dd_store_options {
    uint32_t version;               /* DD_STORE_OPTIONS_VERSION */
    uint32_t backend;               /* dd_backend */
    const char *path;               /* SQLite file, fs directory or PostgreSQL
                                       connection string / URI */
    const char *snapshot_path;      /* SQLite: snapshots in this second file;
                                       NULL = in `path` */
    uint32_t sync;                  /* dd_sync */
    uint32_t busy_timeout_ms;       /* SQLite: wait this long for a writer;
                                       PostgreSQL: statement timeout
                                       (DD_ETIMEOUT), 0 = none */
    dd_keyring *keyring;            /* NULL = not sealed; borrowed during open */
    int32_t compression_level;      /* 0 = off, 1..9 (zlib); sealed or not */
    uint32_t compression_threshold; /* compress blobs of at least this many bytes */
    uint32_t snapshot_keep;         /* keep the newest N snapshots per pid; 0 = all */
    uint32_t must_exist;            /* 1: refuse a missing path (DD_ENOTFOUND), a 0-byte
                                       file or a folder that is not a store (DD_ECORRUPT)
                                       instead of creating a store; 0 = create */
    uint32_t seal;                  /* dd_seal_mode (appended) */
    /* Appended (issue 17.4). 1: open an existing store for reading only:
     * SQLite read-only, no directory, lock file, schema or layout marker
     * created; a path that holds no ddata store is DD_ENOTFOUND ("not a
     * ddata store"); every write fails. Memory: DD_EINVAL. */
    uint32_t read_only;
} dd_store_options;

#define DD_STORE_OPTIONS_VERSION 1
#define DD_STORE_OPTIONS_INIT                                                                      \
    {                                                                                              \
        DD_STORE_OPTIONS_VERSION, DD_BACKEND_MEMORY, NULL, NULL, DD_SYNC_NORMAL, 5000, NULL, 6,    \
            256, 0, 0, DD_SEAL_IF_KEYRING, 0                                                       \
    }

DD_API int dd_store_options_init(dd_store_options *opts, uint32_t version);
/* The SQL that creates `backend`'s tables (DD_BACKEND_POSTGRES), for the
 * tables' owner to run when the store's own role may not create them;
 * DD_EUNSUPPORTED for a backend that has no SQL schema to hand out.
 * Free `out` with dd_buf_free. */
DD_API int dd_store_schema(dd_buf *out, uint32_t backend);

/* Key rings. Keys are 32 bytes, named by a caller-chosen id that is written
 * into every sealed blob; the first key added is active. Rotation: add a
 * new key, make it active; blobs sealed under older keys still open while
 * those keys stay in the ring. Key bytes are kept in locked memory and
 * wiped when the last store using the ring is closed. */
DD_API int dd_keyring_new(dd_keyring **out);
DD_API int dd_keyring_add_key(dd_keyring *ring, uint32_t key_id, const uint8_t *key,
                              size_t key_len);
DD_API int dd_keyring_set_active(dd_keyring *ring, uint32_t key_id);
/* DD_EUNSUPPORTED for AES-256-GCM on a CPU without it. */
DD_API int dd_keyring_set_algorithm(dd_keyring *ring, uint32_t algorithm);
/* 1 when this CPU can seal with `algorithm` (dd_seal_algorithm), else 0. */
DD_API int dd_seal_algorithm_available(uint32_t algorithm);
/* Stores opened with the ring keep their own reference. NULL-safe. */
DD_API int dd_keyring_free(dd_keyring *ring);

/* Rekeying (issue 17.5): rewrites every record of the store `opts` names
 * (journal events, snapshots, state records) under the active key of
 * `new_keyring`, in place, keeping every sequence number, ordering,
 * timestamp, tag, revision and snapshot. `opts->keyring` opens what is
 * stored (NULL: the store is unsealed and becomes sealed). All or
 * nothing: SQLite and PostgreSQL rewrite in one transaction, fs swaps in a
 * rekeyed copy with one atomic rename; after a crash the store opens with
 * the old ring or the new one. A record that does not open with the old
 * ring is DD_ECRYPTO naming it, and nothing is changed; a memory store is
 * DD_EUNSUPPORTED. The store must exist (opts->must_exist is
 * implied) and may not be read_only. Writers still sealing with the old
 * active key during the rekey keep writing under it: make the new key
 * active everywhere first. `*records` (may be NULL) counts the records
 * rewritten. */
DD_API int dd_store_rekey(const dd_store_options *opts, dd_keyring *new_keyring, uint64_t *records);

/* One event to append. Tags are NUL-terminated, non-empty, at most 256
 * bytes, at most 64 per event. */
typedef struct dd_append_event {
    const uint8_t *payload;
    size_t len;
    uint64_t timestamp_ms;
    const char *const *tags;
    size_t tag_count;
} dd_append_event;

/* One event read back, valid until the next call on its cursor. */
typedef struct dd_journal_event {
    uint64_t seq;
    uint64_t timestamp_ms;
    uint64_t ordering; /* global order; resume dd_journal_by_tag after it */
    const uint8_t *pid;
    size_t pid_len;
    const uint8_t *payload;
    size_t len;
    const char *const *tags;
    size_t tag_count;
} dd_journal_event;

DD_API int dd_journal_open(dd_journal **out, const dd_store_options *opts);
DD_API int dd_journal_close(dd_journal *journal);

/* Appends events expected_seq + 1 .. expected_seq + count atomically.
 * expected_seq is the highest sequence number the writer has seen (0 for a
 * new pid); when it differs, DD_ECONFLICT and nothing is written. */
DD_API int dd_journal_append(dd_journal *journal, const uint8_t *pid, size_t pid_len,
                             uint64_t expected_seq, const dd_append_event *events, size_t count);
/* The highest sequence number ever written for pid (0 if none); it never
 * decreases, not even after dd_journal_delete_to. */
DD_API int dd_journal_highest_seq(uint64_t *out, dd_journal *journal, const uint8_t *pid,
                                  size_t pid_len);
/* Deletes events with seq <= to_seq. */
DD_API int dd_journal_delete_to(dd_journal *journal, const uint8_t *pid, size_t pid_len,
                                uint64_t to_seq);

/* Cursors. Each reads lazily in pages and is used from one thread at a
 * time; it keeps its journal alive until closed. dd_journal_cursor_next
 * fills `ev` and returns DD_OK, or DD_EDONE at the end. */
/* Events with from_seq <= seq <= to_seq (inclusive), at most max. */
DD_API int dd_journal_replay(dd_journal_cursor **out, dd_journal *journal, const uint8_t *pid,
                             size_t pid_len, uint64_t from_seq, uint64_t to_seq, uint64_t max);
/* Events carrying `tag` with ordering > after_ordering, in global order,
 * at most max: what a projection reads, resuming from its last ordering. */
DD_API int dd_journal_by_tag(dd_journal_cursor **out, dd_journal *journal, const char *tag,
                             uint64_t after_ordering, uint64_t max);
/* Persistence ids greater than `after` (all when after_len is 0), in byte
 * order, at most max; next() fills only ev->pid and ev->pid_len. */
DD_API int dd_journal_pids(dd_journal_cursor **out, dd_journal *journal, const uint8_t *after,
                           size_t after_len, uint64_t max);
DD_API int dd_journal_cursor_next(dd_journal_event *ev, dd_journal_cursor *cursor);
DD_API int dd_journal_cursor_close(dd_journal_cursor *cursor);

/* Snapshot selection; bounds are inclusive. The default matches all. */
typedef struct dd_snapshot_criteria {
    uint32_t version; /* DD_SNAPSHOT_CRITERIA_VERSION */
    uint64_t min_seq;
    uint64_t max_seq;
    uint64_t min_timestamp_ms;
    uint64_t max_timestamp_ms;
} dd_snapshot_criteria;

#define DD_SNAPSHOT_CRITERIA_VERSION 1
#define DD_SNAPSHOT_CRITERIA_INIT                                                                  \
    {                                                                                              \
        DD_SNAPSHOT_CRITERIA_VERSION, 0, UINT64_MAX, 0, UINT64_MAX                                 \
    }

DD_API int dd_snapshot_criteria_init(dd_snapshot_criteria *criteria, uint32_t version);

/* Saves a snapshot, replacing one at the same seq; then prunes to
 * snapshot_keep (a failed prune does not fail the save). */
DD_API int dd_snapshot_save(dd_journal *journal, const uint8_t *pid, size_t pid_len, uint64_t seq,
                            uint64_t timestamp_ms, const uint8_t *state, size_t len);
/* The newest snapshot matching criteria (NULL = any): DD_ENOTFOUND when
 * none. seq and timestamp_ms may be NULL. */
DD_API int dd_snapshot_load(dd_buf *out, uint64_t *seq, uint64_t *timestamp_ms, dd_journal *journal,
                            const uint8_t *pid, size_t pid_len,
                            const dd_snapshot_criteria *criteria);
/* Deletes the snapshot at seq (DD_OK if there is none). */
DD_API int dd_snapshot_delete(dd_journal *journal, const uint8_t *pid, size_t pid_len,
                              uint64_t seq);
DD_API int dd_snapshot_delete_matching(dd_journal *journal, const uint8_t *pid, size_t pid_len,
                                       const dd_snapshot_criteria *criteria);

/* Durable state. Revisions start at 1 and grow by one per upsert.
 * expected_revision 0 inserts (DD_ECONFLICT if the key exists); N replaces
 * revision N (DD_ECONFLICT otherwise); DD_ANY_REVISION writes regardless. */
#define DD_ANY_REVISION UINT64_MAX
DD_API uint64_t dd_any_revision(void);

DD_API int dd_state_store_open(dd_state_store **out, const dd_store_options *opts);
DD_API int dd_state_store_close(dd_state_store *store);
/* `out` (may be NULL) receives the new revision. */
DD_API int dd_state_store_upsert(uint64_t *out, dd_state_store *store, const uint8_t *key,
                                 size_t key_len, uint64_t expected_revision, const uint8_t *state,
                                 size_t len);
/* DD_ENOTFOUND when the key has no record; revision may be NULL. */
DD_API int dd_state_store_get(dd_buf *out, uint64_t *revision, dd_state_store *store,
                              const uint8_t *key, size_t key_len);
/* expected_revision: N or DD_ANY_REVISION (0 is DD_EINVAL). Deleting a
 * missing key succeeds with DD_ANY_REVISION and is DD_ECONFLICT with N
 * (ABI.md, "Missing items"). */
DD_API int dd_state_store_delete(dd_state_store *store, const uint8_t *key, size_t key_len,
                                 uint64_t expected_revision);
/* Cursors over a state store; they read in pages (no lock held between
 * next() calls, so writes in between may or may not be seen), keep the
 * store alive until closed, and are read with dd_journal_cursor_next:
 * ev->pid is the key, ev->seq its revision, ev->payload the state (keys
 * only: len 0); timestamps, ordering and tags are 0. */
/* Keys starting with `prefix` (all when prefix_len is 0), in byte order. */
DD_API int dd_state_store_keys(dd_journal_cursor **out, dd_state_store *store,
                               const uint8_t *prefix, size_t prefix_len);
/* Up to |count| records from `from` (inclusive): in byte order when
 * count > 0 (from the first key when from_len is 0), in reverse when
 * count < 0 (from the last key when from_len is 0); none when 0. */
DD_API int dd_state_store_range(dd_journal_cursor **out, dd_state_store *store, const uint8_t *from,
                                size_t from_len, int64_t count);
/* The record with the greatest key: its state in `out`, its key in `key`
 * and revision in `revision` (both may be NULL). DD_ENOTFOUND when empty. */
DD_API int dd_state_store_last(dd_buf *out, dd_buf *key, uint64_t *revision, dd_state_store *store);
/* Deletes every record. */
DD_API int dd_state_store_purge(dd_state_store *store);

/* The state store as a building block (issue 17.13): a collection of
 * another framework is a key prefix, and these calls keep to one.
 * Key bounds, whatever the direction: start <= key (start < key with
 * start_exclusive), key < end (key <= end with end_inclusive), and key
 * starts with prefix; a bound of length 0 is absent. reverse walks from
 * the greatest key down; limit 0 means no limit. keys_only: items carry
 * no state (len 0) and sealed states are not opened. */
typedef struct dd_state_range {
    uint32_t version; /* DD_STATE_RANGE_VERSION */
    uint32_t start_exclusive;
    uint32_t end_inclusive;
    uint32_t reverse;
    uint32_t keys_only;
    const uint8_t *start;
    size_t start_len;
    const uint8_t *end;
    size_t end_len;
    const uint8_t *prefix;
    size_t prefix_len;
    uint64_t limit;
} dd_state_range;

#define DD_STATE_RANGE_VERSION 1
#define DD_STATE_RANGE_INIT                                                                        \
    {                                                                                              \
        DD_STATE_RANGE_VERSION, 0, 0, 0, 0, NULL, 0, NULL, 0, NULL, 0, 0                           \
    }

DD_API int dd_state_range_init(dd_state_range *range, uint32_t version);
/* A cursor over the records within `range` (NULL: every record), read
 * with dd_journal_cursor_next as dd_state_store_range's. Each page starts
 * after the last key of the one before, so no record outside the range is
 * read beyond one per page. */
DD_API int dd_state_store_scan(dd_journal_cursor **out, dd_state_store *store,
                               const dd_state_range *range);
/* As dd_state_store_last, among the keys starting with `prefix` (every key
 * when prefix_len is 0). DD_ENOTFOUND when there is none. */
DD_API int dd_state_store_last_prefix(dd_buf *out, dd_buf *key, uint64_t *revision,
                                      dd_state_store *store, const uint8_t *prefix,
                                      size_t prefix_len);
/* Deletes every record whose key starts with `prefix` (every record when
 * prefix_len is 0), as one transaction on every built-in engine. */
DD_API int dd_state_store_purge_prefix(dd_state_store *store, const uint8_t *prefix,
                                       size_t prefix_len);

typedef enum dd_state_op_kind { DD_STATE_OP_UPSERT = 1, DD_STATE_OP_DELETE = 2 } dd_state_op_kind;

/* One write of a batch: an upsert (expected_revision 0, N or
 * DD_ANY_REVISION, as dd_state_store_upsert) or a delete (N or
 * DD_ANY_REVISION; a missing key is nothing to do with ANY and a
 * conflict with N). state/len are ignored for deletes. */
typedef struct dd_state_op {
    uint32_t kind; /* dd_state_op_kind */
    const uint8_t *key;
    size_t key_len;
    uint64_t expected_revision;
    const uint8_t *state;
    size_t len;
} dd_state_op;

/* Applies `count` ops all or nothing, in one transaction: when any op's
 * expected revision does not hold, DD_ECONFLICT with the op's index in
 * the message ("batch op 3: ...") and nothing is written. A key may
 * appear once per batch (DD_EINVAL otherwise); at most 65536 ops
 * (DD_ELIMIT). `revisions` (may be NULL; `count` entries) receives each
 * upsert's new revision and 0 for each delete. */
DD_API int dd_state_store_batch(uint64_t *revisions, dd_state_store *store, const dd_state_op *ops,
                                size_t count);
/* Makes every write so far durable, whatever the sync option: SQLite
 * checkpoints the WAL into the database file and syncs it (or syncs the
 * WAL when readers hold the checkpoint back); fs syncs its file system;
 * memory and PostgreSQL (where a commit is durable as the server is
 * configured) have nothing to do. */
DD_API int dd_state_store_flush(dd_state_store *store);
/* Persistence strategies for event-sourced actors. Light: every event is
 * written with a snapshot of the state after it. Full: events, and a
 * snapshot every snapshot_every events (100 by default); with compact,
 * the events a snapshot covers are deleted. */
typedef enum dd_persist_strategy { DD_PERSIST_LIGHT = 1, DD_PERSIST_FULL = 2 } dd_persist_strategy;

typedef struct dd_persist_options {
    uint32_t version;        /* DD_PERSIST_OPTIONS_VERSION */
    uint32_t strategy;       /* dd_persist_strategy */
    uint64_t snapshot_every; /* Full: 0 = 100 */
    uint32_t compact;        /* Full: 1 = delete events covered by a snapshot */
} dd_persist_options;

#define DD_PERSIST_OPTIONS_VERSION 1
#define DD_PERSIST_OPTIONS_INIT                                                                    \
    {                                                                                              \
        DD_PERSIST_OPTIONS_VERSION, DD_PERSIST_FULL, 100, 0                                        \
    }

DD_API int dd_persist_options_init(dd_persist_options *opts, uint32_t version);

/* Appends `event` at expected_seq + 1 and, as the strategy says, a snapshot
 * of `state` (the state after the event). DD_OK once the event is stored,
 * even if the snapshot that follows fails (recovery then replays more).
 * `out` (may be NULL) receives the event's sequence number. */
DD_API int dd_journal_persist(uint64_t *out, dd_journal *journal, const uint8_t *pid,
                              size_t pid_len, uint64_t expected_seq, const dd_append_event *event,
                              const uint8_t *state, size_t state_len,
                              const dd_persist_options *opts);

/* Recovery callbacks run on the caller's thread, during the call, with no
 * lock held (so they may call ddata, on this journal too); pointers are
 * valid during the callback only. A non-zero return stops recovery: a
 * positive code comes back as DD_ECALLBACK with the code in the message,
 * a negative DD_E* status as itself (see DD_CALLBACK_CODE_MAX). */
typedef int (*dd_recover_snapshot_fn)(void *ctx, uint64_t seq, const uint8_t *state, size_t len);
typedef int (*dd_recover_event_fn)(void *ctx, const dd_journal_event *ev);

/* Loads the latest snapshot (on_snapshot, may be NULL) and replays the
 * events after it (on_event). DD_ECORRUPT when an event is missing: a gap
 * is never recovered into a wrong state. `out` (may be NULL) receives the
 * last sequence number applied (0 for a pid with no history). */
DD_API int dd_journal_recover(uint64_t *out, dd_journal *journal, const uint8_t *pid,
                              size_t pid_len, dd_recover_snapshot_fn on_snapshot,
                              dd_recover_event_fn on_event, void *ctx);
/* ===== end section: store ===== */

/* ===== section: custom backends (issue 19.8) ===== */

/* ---------------------------------------------------------------------------
 * A store of your own: the engine table, public and versioned
 *
 * dd_backend_ops is the table the built-in engines (memory, SQLite, fs,
 * PostgreSQL) implement inside the library. Fill one in and open a journal
 * or state store on it with dd_journal_open_custom /
 * dd_state_store_open_custom: sealing, the plain checksum envelope,
 * compression, argument checks and the read-continuity checks all stay
 * above the table, so your engine only stores and finds opaque blobs.
 * Run dd_backend_check against it before trusting it with data.
 *
 * Every function gets the `user` pointer given at open. Return DD_OK or a
 * DD_E* code (DD_ECONFLICT, DD_ENOTFOUND, DD_EIO, ...); any other value
 * becomes DD_ECALLBACK with a message naming the operation and the
 * value. The rules:
 *  - journal_append is all-or-nothing: events expected_seq + 1 .. +count,
 *    only when the pid's highest sequence number is expected_seq,
 *    DD_ECONFLICT otherwise. The highest never decreases, not even after
 *    journal_delete_to. Each event gets a global `ordering`, increasing in
 *    commit order, never reused (by-tag reads return events in it).
 *  - `tags` is an opaque blob: store it and hand it back byte for byte;
 *    journal_by_tag(tag) finds events whose blob contains that tag as
 *    dd_backend_tags_contain says.
 *  - reads call `fn` once per item, in the order stated, with pointers
 *    valid only during the call. When `fn` returns non-zero, stop and
 *    return that value unchanged. Never call back into the store from a
 *    callback.
 *  - state: revisions start at 1 and grow by one per upsert of a key;
 *    upsert with expected_revision 0 inserts (DD_ECONFLICT if present), N
 *    replaces revision N (DD_ECONFLICT otherwise), DD_ANY_REVISION writes
 *    unconditionally. delete: DD_ENOTFOUND when absent, expected as for
 *    upsert. A failed write changes nothing.
 *  - the library calls one table from one thread at a time per handle;
 *    two handles on one `user` may call concurrently.
 * NULL is allowed only where a member says so. Ownership: the ops struct
 * is copied at open; `user` is borrowed until the handle is closed, when
 * close(user) is called once (not when the open fails).
 * ------------------------------------------------------------------------- */

/* An event as an engine stores it. On append, `ordering` and `pid` are
 * unset (the pid is the call's); on read, fill every field. */
typedef struct dd_backend_event {
    uint64_t seq;
    uint64_t timestamp_ms;
    uint64_t ordering;
    const uint8_t *pid;
    size_t pid_len;
    const uint8_t *payload;
    size_t len;
    const uint8_t *tags; /* opaque; may be NULL when tags_len is 0 */
    size_t tags_len;
} dd_backend_event;

typedef int (*dd_backend_event_fn)(void *ctx, const dd_backend_event *ev);
typedef int (*dd_backend_key_fn)(void *ctx, const uint8_t *key, size_t key_len);
typedef int (*dd_backend_snapshot_fn)(void *ctx, uint64_t seq, uint64_t timestamp_ms,
                                      const uint8_t *data, size_t len);
typedef int (*dd_backend_state_fn)(void *ctx, const uint8_t *key, size_t key_len, uint64_t revision,
                                   const uint8_t *state, size_t len);

/* The members' types (one typedef each, shared where the shapes agree). */
typedef int (*dd_backend_append_fn)(void *user, const uint8_t *pid, size_t pid_len,
                                    uint64_t expected_seq, const dd_backend_event *events,
                                    size_t count);
typedef int (*dd_backend_replay_fn)(void *user, const uint8_t *pid, size_t pid_len, uint64_t from,
                                    uint64_t to, uint64_t max, dd_backend_event_fn fn, void *ctx);
typedef int (*dd_backend_key_out_fn)(void *user, const uint8_t *key, size_t key_len, uint64_t *out);
typedef int (*dd_backend_key_u64_fn)(void *user, const uint8_t *key, size_t key_len, uint64_t n);
typedef int (*dd_backend_pids_fn)(void *user, const uint8_t *after, size_t after_len,
                                  uint64_t limit, dd_backend_key_fn fn, void *ctx);
typedef int (*dd_backend_by_tag_fn)(void *user, const uint8_t *tag, size_t tag_len, uint64_t after,
                                    uint64_t max, dd_backend_event_fn fn, void *ctx);
typedef int (*dd_backend_snapshot_save_fn)(void *user, const uint8_t *pid, size_t pid_len,
                                           uint64_t seq, uint64_t timestamp_ms, const uint8_t *data,
                                           size_t len);
typedef int (*dd_backend_snapshot_find_fn)(void *user, const uint8_t *pid, size_t pid_len,
                                           const dd_snapshot_criteria *criteria,
                                           dd_backend_snapshot_fn fn, void *ctx);
typedef int (*dd_backend_snapshot_delete_fn)(void *user, const uint8_t *pid, size_t pid_len,
                                             const dd_snapshot_criteria *criteria);
typedef int (*dd_backend_state_upsert_fn)(void *user, const uint8_t *key, size_t key_len,
                                          uint64_t expected_revision, const uint8_t *state,
                                          size_t len, uint64_t *new_revision);
typedef int (*dd_backend_state_read_fn)(void *user, const uint8_t *key, size_t key_len,
                                        dd_backend_state_fn fn, void *ctx);
typedef int (*dd_backend_state_range_fn)(void *user, const uint8_t *from, size_t from_len,
                                         int64_t count, dd_backend_state_fn fn, void *ctx);
typedef int (*dd_backend_user_fn)(void *user);
typedef int (*dd_backend_state_scan_range_fn)(void *user, const dd_state_range *range,
                                              dd_backend_state_fn fn, void *ctx);
typedef int (*dd_backend_state_batch_fn)(void *user, const dd_state_op *ops, size_t count,
                                         uint64_t *revisions);
typedef void (*dd_backend_close_fn)(void *user);

typedef struct dd_backend_ops {
    uint32_t version; /* DD_BACKEND_OPS_VERSION */
    const char *name; /* for messages; may be NULL */

    /* Journal. */
    dd_backend_append_fn journal_append;
    /* Events with from <= seq <= to, ascending, at most max. */
    dd_backend_replay_fn journal_replay;
    /* *out = the pid's highest sequence number, 0 for an unknown pid. */
    dd_backend_key_out_fn journal_highest;
    /* Removes events with seq <= n. */
    dd_backend_key_u64_fn journal_delete_to;
    /* May be NULL: *out = the highest n journal_delete_to was given (0
     * when none), kept apart from the events. With it, replay tells a
     * deleted head from a lost one. */
    dd_backend_key_out_fn journal_deleted_to;
    /* Pids (with at least one event ever) greater than `after` (all when
     * after_len is 0), ascending bytewise, at most limit. */
    dd_backend_pids_fn journal_pids;
    /* Events carrying `tag` with ordering > after, by ordering, at most max. */
    dd_backend_by_tag_fn journal_by_tag;

    /* Snapshots: one per (pid, seq); save replaces. */
    dd_backend_snapshot_save_fn snapshot_save;
    /* Matching snapshots (bounds inclusive), highest seq first, until fn
     * returns non-zero; DD_ENOTFOUND when none matched. */
    dd_backend_snapshot_find_fn snapshot_find;
    dd_backend_snapshot_delete_fn snapshot_delete;
    /* Keeps the newest n snapshots of pid. */
    dd_backend_key_u64_fn snapshot_prune;

    /* Durable state. *new_revision receives the new revision. */
    dd_backend_state_upsert_fn state_upsert;
    /* Calls fn once with the record; DD_ENOTFOUND when absent. */
    dd_backend_state_read_fn state_get;
    /* n = the expected revision, as for upsert. */
    dd_backend_key_u64_fn state_delete;
    /* Records whose key starts with the prefix (all when its length is
     * 0), in key order. */
    dd_backend_state_read_fn state_scan;
    /* Up to |count| records from `from` (inclusive): ascending when
     * count > 0 (from the first key when from_len is 0), descending when
     * count < 0 (from the last key when from_len is 0). */
    dd_backend_state_range_fn state_range;
    dd_backend_user_fn state_purge;
    /* May be NULL, both or neither (then each upsert stands alone): group
     * the upserts between them into one durable transaction. */
    dd_backend_user_fn state_begin;
    dd_backend_user_fn state_commit;

    /* May be NULL: the handle is closed; release `user`. */
    dd_backend_close_fn close;

    /* Version 2 (issue 17.13). Each may be NULL on its own: the library
     * then runs a generic form on the members above (a bounded range on
     * state_range, a batch between state_begin and state_commit after
     * checking every expected revision, a prefix purge as deletes in one
     * such batch, flush as nothing). A version 1 table ends before these. */
    /* Records within `range`, in key order (reverse: descending), at most
     * range->limit (0: all). The library gives start and end only (a
     * prefix is already turned into them: prefix_len is 0). keys_only:
     * the state may be passed as NULL, 0. */
    dd_backend_state_scan_range_fn state_scan_range;
    /* All or nothing (one transaction): ops as dd_state_op says, keys
     * unique, states sealed; revisions (may be NULL) as for
     * dd_state_store_batch. On a failed expected revision: DD_ECONFLICT,
     * nothing written, and a message naming the op's index. */
    dd_backend_state_batch_fn state_batch;
    /* Deletes the records whose key starts with the prefix (all when its
     * length is 0), all or nothing. */
    dd_backend_key_fn state_purge_prefix;
    /* Makes every write so far durable. */
    dd_backend_user_fn state_flush;
} dd_backend_ops;

#define DD_BACKEND_OPS_VERSION 2

/* Opens a journal or state store on your engine. `opts` may be NULL; of
 * it only keyring, compression_level, compression_threshold and
 * snapshot_keep apply (backend, path and sync are the engine's business).
 * DD_EINVAL for an unknown version or a required member left NULL. */
DD_API int dd_journal_open_custom(dd_journal **out, const dd_backend_ops *ops, void *user,
                                  const dd_store_options *opts);
DD_API int dd_state_store_open_custom(dd_state_store **out, const dd_backend_ops *ops, void *user,
                                      const dd_store_options *opts);

/* *out = 1 when the opaque tags blob of an event carries `tag`, else 0:
 * what journal_by_tag must match. For engines that index tags in a table
 * of their own, dd_backend_tags_next walks the blob: *pos starts at 0;
 * DD_EDONE at the end; DD_ECORRUPT on a malformed blob. */
DD_API int dd_backend_tags_contain(int *out, const uint8_t *tags, size_t tags_len,
                                   const uint8_t *tag, size_t tag_len);
DD_API int dd_backend_tags_next(const uint8_t **tag, size_t *tag_len, const uint8_t *tags,
                                size_t tags_len, size_t *pos);

/* A built-in engine behind the public table (backend, path, sync and
 * must_exist from `opts`; sealing options ignored): to wrap it (count,
 * inject faults, mirror) or to run dd_backend_check on it. *ops is static;
 * close *user with (*ops)->close, or hand both to an open_custom. */
DD_API int dd_backend_open_builtin(const dd_backend_ops **ops, void **user,
                                   const dd_store_options *opts);

/* Makes a fresh, empty store for one case of dd_backend_check: *user
 * receives the pointer the ops are called with; the check closes it with
 * ops->close when the case ends. */
typedef int (*dd_backend_new_fn)(void **user, void *factory_ctx);

/* The contract suite the built-in engines pass, run against your engine:
 * each case on a fresh store from new_store, once unsealed and once
 * sealed (a throwaway key). `report` (may be NULL; free with dd_buf_free)
 * receives one line per case, "ok <case> [variant]" or
 * "FAIL <case> [variant]: <message>", then "<n> passed, <m> failed".
 * DD_OK when every case passed; DD_ECORRUPT when one failed (the first
 * failure is in dd_error_last); DD_EINVAL for bad arguments. */
DD_API int dd_backend_check(dd_buf *report, const dd_backend_ops *ops, dd_backend_new_fn new_store,
                            void *factory_ctx);
/* ===== end section: custom backends ===== */

/* ===== section: replica (issue 6) ===== */

/* ---------------------------------------------------------------------------
 * The replicated key-value store (dd_replica)
 *
 * Every node holds a replica: a map from keys (byte strings) to CRDT values.
 * Updates are local and immediate; gossip makes every replica converge.
 * A replica belongs to a dd_system (one per system) and shares its lock,
 * so every call is safe from any thread. See ABI.md, "Replica".
 * ------------------------------------------------------------------------- */

/* How deltas leave a node after a local update. */
typedef enum dd_delta_strategy {
    DD_DELTA_IMMEDIATE = 0, /* pushed to every up member at once (default) */
    DD_DELTA_BATCHED = 1,   /* joined per key, pushed each gossip interval */
    DD_DELTA_NONE = 2       /* periodic digest anti-entropy only */
} dd_delta_strategy;

/* How many replicas a read or write must reach. N is the number of members
 * in state up (this node included); majority is floor(N/2)+1. */
typedef enum dd_consistency {
    DD_CONSISTENCY_LOCAL = 0,
    DD_CONSISTENCY_FROM = 1,          /* n replicas, this one included */
    DD_CONSISTENCY_MAJORITY = 2,      /* floor(N/2)+1 */
    DD_CONSISTENCY_MAJORITY_PLUS = 3, /* majority + n, at most N */
    DD_CONSISTENCY_ALL = 4
} dd_consistency;

typedef struct dd_replica_options {
    uint32_t version;                /* DD_REPLICA_OPTIONS_VERSION */
    uint32_t delta_strategy;         /* dd_delta_strategy */
    uint64_t gossip_interval_ms;     /* digest gossip period (> 0) */
    uint32_t gossip_fanout;          /* peers per interval (> 0) */
    uint32_t max_message_bytes;      /* no gossip message is larger (>= 1024) */
    uint64_t notify_interval_ms;     /* subscription events are coalesced per interval */
    uint64_t tombstone_grace_ms;     /* kept this long after every member saw a delete */
    dd_state_store *store;           /* durable keys live here; NULL = none durable.
                                        Kept open (referenced) while the replica is */
    const char *const *durable_keys; /* exact keys, or "prefix*" wildcards */
    size_t durable_key_count;
    uint32_t write_behind; /* 0 = write-through; 1 = flush per interval */
    uint64_t write_behind_interval_ms;
    const char *const *expiry_prefixes; /* keys starting so expire when idle */
    size_t expiry_prefix_count;
    uint64_t expire_after_ms; /* idle time before such a key expires */
    /* Appended (issue 17.2). Durable records live under this key prefix in
     * the store and the replica ignores every other record, so one store
     * can serve a replica, owned state and the application. NULL:
     * "dd/replica/"; at most 255 bytes. Records a store holds from before
     * the prefix (bare durable keys) are moved under it at open. */
    const char *store_prefix;
} dd_replica_options;

#define DD_REPLICA_OPTIONS_VERSION 1
#define DD_REPLICA_OPTIONS_INIT                                                                    \
    {                                                                                              \
        DD_REPLICA_OPTIONS_VERSION, DD_DELTA_IMMEDIATE, 1000, 1, 131072, 500, 60000, NULL, NULL,   \
            0, 0, 1000, NULL, 0, 0, NULL                                                           \
    }

DD_API int dd_replica_options_init(dd_replica_options *opts, uint32_t version);

/* Opens the system's replica (one per system; DD_EBUSY if one is open). With
 * a store, every durable key is loaded before this returns. The replica
 * keeps the system and the store alive until dd_replica_close. */
DD_API int dd_replica_open(dd_replica **out, dd_system *sys, const dd_replica_options *opts);
/* Flushes write-behind keys and stops replicating. NULL is a no-op. */
DD_API int dd_replica_close(dd_replica *r);

/* Applies `op` to `key`, creating it as `type` (a dd_crdt_type) when
 * missing. DD_ETYPE if the key holds another type, DD_EDELETED if it was
 * deleted. Nothing changes on failure. */
DD_API int dd_replica_update(dd_replica *r, const uint8_t *key, size_t key_len, uint32_t type,
                             const dd_op *op);
/* A copy of the value, as a standalone dd_crdt (free with dd_crdt_free).
 * DD_ENOTFOUND, DD_EDELETED. */
DD_API int dd_replica_get(dd_crdt **out, dd_replica *r, const uint8_t *key, size_t key_len);
/* The value as canonical JSON (the same text as dd_crdt_to_json). */
DD_API int dd_replica_to_json(dd_buf *out, dd_replica *r, const uint8_t *key, size_t key_len);
/* Deletes the key everywhere. A tombstone keeps gossip from bringing it
 * back and is collected once every member has seen it. Deleting a missing
 * or deleted key succeeds. */
DD_API int dd_replica_delete(dd_replica *r, const uint8_t *key, size_t key_len);
/* One page of live keys, at most `max` (0 = 1000). Start with *cursor = 0;
 * DD_EDONE when no key is left. `out` holds each key as a 4-byte
 * little-endian length followed by the bytes. */
DD_API int dd_replica_keys(dd_buf *out, dd_replica *r, uint64_t *cursor, uint32_t max);
DD_API int dd_replica_key_count(uint64_t *out, dd_replica *r);
/* Queues DD_EVENT_CHANGED / _DELETED / _EXPIRED events for `key`, or for
 * every key starting with it (keys created later included) when
 * is_prefix is non-zero. Events are coalesced per notify interval and
 * drained with dd_system_next_event. */
DD_API int dd_replica_subscribe(dd_replica *r, const uint8_t *key, size_t key_len, int is_prefix);
/* Applies `op` locally at once (kept even if the request times out), then
 * replicates it to `consistency` (n for FROM and MAJORITY_PLUS). Completion
 * is a DD_EVENT_REQUEST_DONE event with *request_id and DD_OK or
 * DD_ETIMEOUT. */
DD_API int dd_replica_write(uint64_t *request_id, dd_replica *r, const uint8_t *key, size_t key_len,
                            uint32_t type, const dd_op *op, uint32_t consistency, uint32_t n,
                            uint64_t timeout_ms);
/* Asks `consistency` replicas for the key and merges every reply into the
 * local value; on the DD_EVENT_REQUEST_DONE event (DD_OK, or DD_ETIMEOUT
 * with what arrived merged) read it with dd_replica_get. */
DD_API int dd_replica_read(uint64_t *request_id, dd_replica *r, const uint8_t *key, size_t key_len,
                           uint32_t consistency, uint32_t n, uint64_t timeout_ms);
/* Writes write-behind keys now. */
DD_API int dd_replica_flush(dd_replica *r);
/* ===== end section: replica ===== */

/* ===== section: owned (issue 10) ===== */

/* ---------------------------------------------------------------------------
 * Node-owned state (the dstate model)
 *
 * A named state type is registered on every node; each node owns one
 * instance and is its only writer, every other node holds a read-only view.
 * The owner publishes full views or view deltas (opaque bytes); a reader
 * gets, per node, the last full view plus the deltas after it, in order,
 * and folds them itself. Versions are generations (incarnation, age),
 * ordered lexicographically. The engine is pumped by the host (tick,
 * deliver, next_outgoing), or by a TCP system it is attached to
 * (options.system), and persists an owner's instance in the durable
 * state store (key "dd/owned/<type>") before publishing it. See ABI.md.
 * ------------------------------------------------------------------------- */

typedef struct dd_owned dd_owned; /* one node's owned-state engine */

typedef enum dd_owned_strategy {
    DD_OWNED_ACTIVE_PUSH = 1,             /* every mutation is pushed */
    DD_OWNED_FEED_LAZY_PULL = 2,          /* batched feed; reads pull when stale */
    DD_OWNED_FEED_WITH_PERIODIC_SYNC = 3, /* the feed plus periodic snapshots */
    DD_OWNED_PERIODIC_ONLY = 4            /* periodic snapshots only */
} dd_owned_strategy;

typedef enum dd_owned_mismatch {
    DD_OWNED_KEEP_STALE = 1,   /* keep the last matching view, flagged */
    DD_OWNED_DROP_AND_WAIT = 2 /* remove the view until versions match */
} dd_owned_mismatch;

typedef enum dd_owned_urgency {
    DD_OWNED_URGENCY_DEFAULT = 0, /* the strategy's */
    DD_OWNED_URGENCY_IMMEDIATE = 1,
    DD_OWNED_URGENCY_DELAYED = 2, /* within delay_ms */
    DD_OWNED_URGENCY_SUPPRESSED = 3
} dd_owned_urgency;

typedef enum dd_owned_event_kind {
    DD_OWNED_EV_VIEW_CHANGED = 1,     /* node's view moved to (incarnation, age) */
    DD_OWNED_EV_VIEW_REMOVED = 2,     /* node left, or its version no longer matches */
    DD_OWNED_EV_QUERY_DONE = 3,       /* request_id finished with status */
    DD_OWNED_EV_VERSION_MISMATCH = 4, /* node speaks peer_version of type */
    DD_OWNED_EV_COMPACT_WANTED = 5    /* own type: publish a full view */
} dd_owned_event_kind;

typedef struct dd_owned_options {
    uint32_t version;        /* DD_OWNED_OPTIONS_VERSION */
    uint64_t node_id;        /* this node */
    uint64_t incarnation;    /* > 0, larger at every fresh start */
    dd_state_store *store;   /* NULL: nothing persisted; kept open while used */
    const dd_limits *limits; /* NULL: defaults */
    uint64_t max_queued;     /* outgoing messages and events; 0: 65536 each */
    /* Appended. NULL: pump mode. A system with the built-in transport
     * (DD_TRANSPORT_TCP): the engine is attached to it and driven by its
     * driver thread: node_id and incarnation are ignored and taken from the
     * system (dd_owned_node_of of its node id, its incarnation), membership
     * follows the replicator's (so a replica must be open on the system),
     * and messages travel on the system's links. The pump calls then
     * return DD_EMISUSE. The system keeps the engine alive while attached;
     * closing either first is safe. */
    dd_system *system;
} dd_owned_options;

#define DD_OWNED_OPTIONS_VERSION 1
#define DD_OWNED_OPTIONS_INIT                                                                      \
    {                                                                                              \
        DD_OWNED_OPTIONS_VERSION, 0, 1, NULL, NULL, 0, NULL                                        \
    }
DD_API int dd_owned_options_init(dd_owned_options *opts, uint32_t version);

typedef struct dd_owned_type_options {
    uint32_t version;         /* DD_OWNED_TYPE_OPTIONS_VERSION */
    uint32_t strategy;        /* dd_owned_strategy */
    uint32_t wire_version;    /* of the view bytes on the wire */
    uint32_t storage_version; /* of the persisted view bytes */
    uint32_t on_mismatch;     /* dd_owned_mismatch */
    uint32_t compact_every;   /* deltas before DD_OWNED_EV_COMPACT_WANTED; 0: never */
    uint64_t feed_interval_ms;
    uint64_t sync_interval_ms; /* periodic snapshots; active push: heartbeat */
    uint64_t pull_retry_ms;
    uint64_t pull_timeout_ms; /* a pending query fails with DD_ETIMEOUT */
} dd_owned_type_options;

#define DD_OWNED_TYPE_OPTIONS_VERSION 1
#define DD_OWNED_TYPE_OPTIONS_INIT                                                                 \
    {                                                                                              \
        DD_OWNED_TYPE_OPTIONS_VERSION, DD_OWNED_ACTIVE_PUSH, 1, 1, DD_OWNED_KEEP_STALE, 64, 100,   \
            1000, 200, 5000                                                                        \
    }
DD_API int dd_owned_type_options_init(dd_owned_type_options *opts, uint32_t version);

/* A copy of a view (or of this node's own instance): the base view at
 * base_age, then the deltas for ages base_age + 1 .. age, in order.
 * Release with dd_owned_view_free (NULL-safe; resets the struct). */
typedef struct dd_owned_view {
    uint64_t node_id;
    uint64_t incarnation;
    uint64_t age;
    uint64_t base_age;
    uint32_t wire_version;
    uint32_t version_mismatch; /* 1: kept stale under DD_OWNED_KEEP_STALE */
    uint64_t confirmed_ms;     /* engine time the owner last confirmed it */
    dd_buf base;
    dd_buf *deltas;
    size_t delta_count;
} dd_owned_view;

DD_API void dd_owned_view_free(dd_owned_view *view);

typedef struct dd_owned_event {
    uint32_t kind;  /* dd_owned_event_kind */
    int32_t status; /* DD_OWNED_EV_QUERY_DONE: DD_OK, DD_ETIMEOUT, DD_ENOTFOUND,
                       DD_EUNSUPPORTED (version mismatch) */
    uint64_t node_id;
    uint64_t incarnation;
    uint64_t age;
    uint64_t request_id;
    uint32_t peer_version;
    char type[128]; /* NUL-terminated */
} dd_owned_event;

/* Opens an engine in pump mode and keeps `store` open while it lives. */
DD_API int dd_owned_open(dd_owned **out, const dd_owned_options *opts);
DD_API int dd_owned_close(dd_owned *owned);

/* Registers a type (1..127 bytes, no NUL) and loads this node's persisted
 * instance (missing or unreadable: a fresh one). DD_ECONFLICT when
 * registered already; DD_EIO or DD_ECRYPTO when the store cannot be read,
 * so that a record a right key could read is never overwritten. */
DD_API int dd_owned_register(dd_owned *owned, const char *type, const dd_owned_type_options *opts);

/* Persists, then publishes a full view (is_full = 1; replaces base and
 * deltas) or a delta. On failure nothing is published. The new generation
 * goes to *out_incarnation and *out_age (either may be NULL). */
DD_API int dd_owned_publish(uint64_t *out_incarnation, uint64_t *out_age, dd_owned *owned,
                            const char *type, int is_full, const uint8_t *data, size_t len,
                            uint32_t urgency, uint64_t delay_ms);

/* The pump. Times are the host's monotonic milliseconds, any origin (0 is
 * a time); a tick before the last is DD_EINVAL and changes nothing. */
DD_API int dd_owned_tick(dd_owned *owned, uint64_t now_ms);
DD_API int dd_owned_deliver(dd_owned *owned, uint64_t from_node, const uint8_t *data, size_t len);
/* DD_EDONE when nothing is queued. */
DD_API int dd_owned_next_outgoing(dd_buf *out, uint64_t *to_node, dd_owned *owned);
DD_API int dd_owned_member_up(dd_owned *owned, uint64_t node_id, uint64_t incarnation);
DD_API int dd_owned_member_left(dd_owned *owned, uint64_t node_id);

/* A read with a maximum staleness (UINT64_MAX: any). *out_request is 0
 * when the view is fresh; otherwise the engine pulls and the answer is the
 * DD_OWNED_EV_QUERY_DONE event with that request id. */
DD_API int dd_owned_query(uint64_t *out_request, dd_owned *owned, const char *type,
                          uint64_t node_id, uint64_t max_staleness_ms);
/* Copies node's current view (this node's id: its own instance).
 * DD_ENOTFOUND when there is none. */
DD_API int dd_owned_read(dd_owned_view *out, dd_owned *owned, const char *type, uint64_t node_id);
/* The members that are up, ascending; *out_count is the full count even
 * when cap is smaller. */
DD_API int dd_owned_nodes(uint64_t *out, size_t cap, size_t *out_count, dd_owned *owned);

/* DD_EDONE when drained. */
DD_API int dd_owned_next_event(dd_owned_event *out, dd_owned *owned);
/* A descriptor readable while events are queued (poll it, then drain). */
DD_API int dd_owned_event_fd(int *out, dd_owned *owned);

/* The owned-state node id of a system node id (1..255 bytes): the 64-bit
 * hash every attached engine uses for it (views, events, dd_owned_read). */
DD_API int dd_owned_node_of(uint64_t *out, const char *node_id, size_t len);

/* ===== end section: owned ===== */

/* ===== section: system (issue 7) ===== */

/* ---------------------------------------------------------------------------
 * A node (dd_system): identity, membership, the message pump, events
 *
 * With DD_TRANSPORT_NONE the host carries the messages (pump mode): it
 * calls dd_system_tick regularly, hands every message it receives to
 * dd_system_deliver and sends whatever dd_system_next_outgoing yields to
 * the node it names. Nodes are named by id strings; mapping ids to
 * addresses is the transport's business. The host's times (now_ms of tick
 * and deliver) come from any monotonic millisecond clock with any origin
 * (0 is a time) and alone schedule gossip, failure detection and timeouts;
 * a time before the last is DD_EINVAL. LWW timestamps and expiry read the
 * wall clock (CLOCK_REALTIME, or dd_system_set_wall_clock's).
 * Events are queued, never called back: drain them with
 * dd_system_next_event, and wait on dd_system_event_fd to learn when there
 * are some. Every call is safe from any thread (one lock per system).
 *
 * With DD_TRANSPORT_TCP the node carries its own messages: it listens on
 * listen_address, dials the seeds (then "ip:port" addresses), authenticates
 * every link with the cluster's 32-byte secret and runs one driver thread
 * that delivers, ticks and sends under the same lock; the pump calls are
 * then not needed (tick and deliver still work, for tests; next_outgoing
 * is DD_EMISUSE, the driver owns that queue). See ABI.md,
 * "System", and docs/cluster.md.
 * ------------------------------------------------------------------------- */

typedef enum dd_transport {
    DD_TRANSPORT_NONE = 0, /* pump mode: the host moves the bytes */
    DD_TRANSPORT_TCP = 1   /* built-in authenticated TCP with a driver thread */
} dd_transport;

/* Length of the cluster secret of the TCP transport. */
#define DD_SECRET_BYTES 32
DD_API uint32_t dd_secret_bytes(void);
/* Length of a node's static X25519 key (private or public). */
#define DD_KEY_BYTES 32
DD_API uint32_t dd_key_bytes(void);

typedef struct dd_system_options {
    uint32_t version;            /* DD_SYSTEM_OPTIONS_VERSION */
    const char *node_id;         /* required: 1..255 bytes, unique in the cluster */
    uint64_t incarnation;        /* 0 = a new one, larger than any before */
    uint64_t seed;               /* peer choice; 0 = random */
    uint32_t transport;          /* dd_transport */
    const char *const *seeds;    /* node ids to join through (TCP: "ip:port"); may list self */
    size_t seed_count;           /* 0 = this node starts a cluster */
    uint64_t failure_timeout_ms; /* silence before a member is unreachable (floor) */
    uint64_t down_after_ms;      /* unreachable this long -> down */
    uint64_t remove_after_ms;    /* down this long -> removed */
    uint32_t max_events;         /* queue cap; beyond it one DD_EVENT_OVERFLOW */
    const dd_limits *limits;     /* for everything received; NULL = defaults */
    /* DD_TRANSPORT_TCP only (appended; pump mode ignores them): */
    const char *listen_address;     /* "ip:port"; port 0 picks a free one */
    const char *advertised_address; /* told to peers; NULL = the bound address */
    const uint8_t *secret;          /* DD_SECRET_BYTES shared by the cluster; copied */
    uint32_t plaintext;             /* 1 = no secret: unauthenticated, unencrypted */
    uint32_t tick_interval_ms;      /* driver's timer granularity; 0 = 10 */
    /* DD_TRANSPORT_TCP node identity (appended; ignored with plaintext): */
    const char *node_key_file;       /* from dd_node_key_generate / `ddata keygen`; or: */
    const uint8_t *node_key;         /* DD_KEY_BYTES private key, copied; both NULL = fresh */
    const uint8_t *next_secret;      /* DD_SECRET_BYTES also accepted during a PSK rotation */
    const uint8_t *peer_keys;        /* allow-list: peer_key_count * DD_KEY_BYTES public keys */
    const char *const *peer_key_ids; /* NULL, or the node id each key must claim ("" = any) */
    size_t peer_key_count;           /* 0 = no allow-list: any key that has the secret */
} dd_system_options;

#define DD_SYSTEM_OPTIONS_VERSION 1
#define DD_SYSTEM_OPTIONS_INIT                                                                     \
    {                                                                                              \
        DD_SYSTEM_OPTIONS_VERSION, NULL, 0, 0, DD_TRANSPORT_NONE, NULL, 0, 5000, 30000, 300000,    \
            65536, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, 0                   \
    }

DD_API int dd_system_options_init(dd_system_options *opts, uint32_t version);

DD_API int dd_system_open(dd_system **out, const dd_system_options *opts);
/* Closing with an open replica is deferred until the replica closes. */
DD_API int dd_system_close(dd_system *sys);

/* The pump. tick: let time pass (gossip, failure detection, timeouts).
 * deliver: one message from node `from`; malformed bytes yield
 * DD_ECORRUPT / DD_ELIMIT and change nothing already stored.
 * next_outgoing: the next message to send and its destination node id
 * (both freed by the caller with dd_buf_free); DD_EDONE when none. Before a
 * replica is open the node takes no part: tick and deliver do nothing.
 * now_ms: the host's monotonic clock, never before the last call's
 * (DD_EINVAL, nothing done); with DD_TRANSPORT_TCP the driver's
 * CLOCK_MONOTONIC is the time and now_ms is not used. */
DD_API int dd_system_tick(dd_system *sys, uint64_t now_ms);
DD_API int dd_system_deliver(dd_system *sys, uint64_t now_ms, const char *from, size_t from_len,
                             const uint8_t *bytes, size_t len);
DD_API int dd_system_next_outgoing(dd_buf *msg, dd_buf *to_node, dd_system *sys);

/* A clock returning milliseconds since the Unix epoch. */
typedef uint64_t (*dd_clock_fn)(void *ctx);
/* Installs the wall clock the replica reads for what every node compares
 * (LWW timestamps, expiry, the skew check of received values), for tests
 * and simulations; called with `ctx` under the system's lock, so it must
 * not call into ddata. NULL restores CLOCK_REALTIME. Scheduling never
 * reads it (see dd_system_tick). */
DD_API int dd_system_set_wall_clock(dd_system *sys, dd_clock_fn clock, void *ctx);

typedef enum dd_event_kind {
    DD_EVENT_MEMBER = 1,       /* member_id is now member_state */
    DD_EVENT_CHANGED = 2,      /* a subscribed key changed (key) */
    DD_EVENT_DELETED = 3,      /* a subscribed key was deleted */
    DD_EVENT_EXPIRED = 4,      /* a subscribed key expired */
    DD_EVENT_REQUEST_DONE = 5, /* request_id finished with status */
    DD_EVENT_OVERFLOW = 6      /* the queue was full: `dropped` events were lost */
} dd_event_kind;

typedef enum dd_member_state {
    DD_MEMBER_JOINING = 1,
    DD_MEMBER_UP = 2,
    DD_MEMBER_UNREACHABLE = 3, /* this node's failure detector suspects it */
    DD_MEMBER_DOWN = 4,
    DD_MEMBER_REMOVED = 5
} dd_member_state;

/* One event. dd_system_next_event fills it; the caller owns the buffers
 * and releases them with dd_event_clear (also safe on a cleared event). */
typedef struct dd_event {
    uint32_t version; /* DD_EVENT_VERSION, set by the caller */
    uint32_t kind;    /* dd_event_kind */
    dd_buf key;
    uint64_t request_id;
    int32_t status;   /* DD_EVENT_REQUEST_DONE: DD_OK or DD_ETIMEOUT */
    dd_buf member_id; /* DD_EVENT_MEMBER */
    uint64_t member_incarnation;
    uint32_t member_state; /* dd_member_state */
    uint64_t dropped;      /* DD_EVENT_OVERFLOW */
} dd_event;

#define DD_EVENT_VERSION 1
#define DD_EVENT_INIT                                                                              \
    {                                                                                              \
        DD_EVENT_VERSION, 0, DD_BUF_INIT, 0, 0, DD_BUF_INIT, 0, 0, 0                               \
    }

DD_API int dd_event_init(dd_event *ev, uint32_t version);
DD_API void dd_event_clear(dd_event *ev);
/* The next queued event; DD_EDONE when the queue is empty. */
DD_API int dd_system_next_event(dd_event *out, dd_system *sys);
/* A file descriptor that is readable while events are queued (an
 * eventfd); poll it, never read or close it. Valid until dd_system_close. */
DD_API int dd_system_event_fd(int *fd, dd_system *sys);
/* This node's incarnation (chosen at open when the options said 0). */
DD_API int dd_system_incarnation(uint64_t *out, dd_system *sys);

/* Leaves the cluster cleanly (issue 17.11), instead of being noticed by
 * the failure detector. With a replica open: pushes batched deltas,
 * writes write-behind durable keys, offers this node's keys to up to three
 * live peers (they fetch what they lack) and announces the departure to
 * every member; each answers with an ack and at once sees this node as
 * DD_MEMBER_REMOVED (a DD_EVENT_MEMBER, without unreachable or down
 * first, whatever down_after_ms says), stops gossiping to it and stops
 * dialling it (a seed address excepted). This node queues its own
 * DD_MEMBER_REMOVED event.
 * DD_TRANSPORT_TCP: waits until every live member has acknowledged, at
 * most timeout_ms (DD_ETIMEOUT then: the node has left all the same and
 * the others learn it by gossip). Pump mode returns at once: the host
 * carries the announcement (dd_system_next_outgoing), the acks
 * (dd_system_deliver) and, each gossip interval of dd_system_tick, the
 * announcement again to members that have not acknowledged.
 * Afterwards the replica refuses writes, deletes, consistency requests
 * and dd_replica_open with DD_EMISUSE ("system 'id' has left the
 * cluster"); reads, events, logs, statistics and close still work, and a
 * second leave is DD_EMISUSE. A later dd_system_open of the same node id
 * (a new incarnation) joins again as a restart does. */
DD_API int dd_system_leave(dd_system *sys, uint64_t timeout_ms);

/* The built-in transport. listen_address: the bound "ip:port" (useful with
 * port 0). connect: dial one more address, and again after every
 * disconnect until the system closes. Both DD_EUNSUPPORTED in pump mode. */
DD_API int dd_system_listen_address(dd_buf *out, dd_system *sys);
DD_API int dd_system_connect(dd_system *sys, const char *address);
/* Statistics as canonical JSON: {"engine":{...},"node":id,"peers":[...],
 * "transport":{...}} where each peer has bytes/frames in and out, delta
 * and full-state frames and bytes apart, queue drops and queued bytes; the
 * transport totals count rejected connections, handshake and AEAD
 * failures and drops ("peers" absent and "transport" null in pump mode). */
DD_API int dd_system_stats_json(dd_buf *out, dd_system *sys);
/* Metrics in the Prometheus text exposition format (version 0.0.4), every
 * family with HELP and TYPE lines: members by state, convergence lag and
 * heartbeat age per member, replicator messages and bytes by kind, deltas,
 * full states, NACKs, digest rounds, keys, tombstones, pending consistency
 * requests and timeouts, queue drops, the transport's handshake and frame
 * counters (zeros in pump mode), and the store operation latency
 * histograms, which are process-wide (every journal and state store of
 * the process). docs/observability.md lists each metric. Caller owns
 * *out; free it with dd_buf_free. */
DD_API int dd_system_metrics_text(dd_buf *out, dd_system *sys);
/* The next log record as one JSON object (caller owns *out; free with
 * dd_buf_free); DD_EDONE when none is queued. The library prints nothing:
 * what an operator should know is queued here, and, once the host has
 * called this function, the event fd (dd_system_event_fd) is readable
 * while records are queued, as for events (before that they do not wake
 * it: a host that never reads logs never polls on them). A record is
 * {"event":NAME,"fields":{KEY:VALUE,...}, "level":"debug"|"info"|"warn"|"error","time_ms":N}, every
 * value a string; NAME is stable (docs/observability.md lists them: member.*,
 * transport.connected/reconnected/disconnected/handshake_failed,
 * delta.nack_sent, delta.full_state_sent, store.write_failed,
 * store.slow_fsync, log.dropped). At most 1024 records wait per queue;
 * beyond that they are counted and reported as one log.dropped record. */
DD_API int dd_system_next_log(dd_buf *out, dd_system *sys);
/* Node identities of the built-in transport. generate: creates `path`
 * (mode 0600, never overwriting) holding a fresh X25519 key pair and
 * returns its public key. public_key: this node's static public key.
 * set_peer_keys: replaces the allow-list (`count` public keys of
 * DD_KEY_BYTES each, back to back; `node_ids` NULL or one id per key, NULL
 * or "" = any id; count 0 = no list) and closes the links of peers it no
 * longer admits. The last two are DD_EUNSUPPORTED in pump mode. */
DD_API int dd_node_key_generate(dd_buf *public_key, const char *path);
DD_API int dd_system_public_key(dd_buf *out, dd_system *sys);
DD_API int dd_system_set_peer_keys(dd_system *sys, const uint8_t *public_keys,
                                   const char *const *node_ids, size_t count);
/* ===== end section: system ===== */

#ifdef __cplusplus
}
#endif

#endif /* DDATA_H */
