/*
 * ddata: replicated, durable state for many runtimes, through one C ABI.
 *
 * This is the only public header. Every binding (Python, Node, Rust) is
 * generated from it, and ABI.md is its contract; read that first. In short:
 *
 *  - Functions return an int status: DD_OK (0) or a negative DD_E* code.
 *    Results come back through out-parameters, `out` first.
 *  - On failure, dd_error_last() describes what went wrong on this thread.
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
    DD_EINVAL = -1,       /* an argument is wrong: NULL, empty, out of range */
    DD_ENOMEM = -2,       /* an allocation failed; nothing was changed */
    DD_EMISUSE = -3,      /* NULL, closed or wrong-kind handle; call out of order */
    DD_ENOTFOUND = -4,    /* no such key, persistence id, snapshot or member */
    DD_ECONFLICT = -5,    /* compare-and-set lost: sequence or revision moved */
    DD_ECORRUPT = -6,     /* stored or received bytes are malformed */
    DD_ECRYPTO = -7,      /* wrong key, tampered data, failed handshake */
    DD_ELIMIT = -8,       /* a configured limit (bytes, count, depth) was hit */
    DD_EIO = -9,          /* the operating system or a storage engine failed */
    DD_ETIMEOUT = -10,    /* a consistency level was not reached in time */
    DD_EDELETED = -11,    /* the key was deleted and may not be updated */
    DD_ETYPE = -12,       /* the key or value holds another data type */
    DD_EBUSY = -13,       /* a resource is locked by someone else; retry */
    DD_EDONE = -14,       /* no more items: iteration ended, queue empty */
    DD_EUNSUPPORTED = -15 /* not available in this build or on this CPU */
} dd_status;

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
/* "ORSet", ...; NULL for an unknown type. */
DD_API const char *dd_crdt_type_name(uint32_t type);
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
DD_API int dd_crdt_from_json(dd_crdt **out, const char *json, size_t len,
                             const dd_limits *limits);
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
DD_API int dd_crdt_map_get(dd_crdt **out, const dd_crdt *map, const uint8_t *key,
                           size_t key_len);
/* Set elements, MVRegister values or map keys, in bytewise order, each as a
 * 4-byte little-endian length followed by the bytes. */
DD_API int dd_crdt_elements(dd_buf *out, const dd_crdt *v);
/* ===== end section: crdt ===== */

/* ===== section: store (issue 5) ===== */
/* ===== end section: store ===== */

/* ===== section: replica (issue 6) ===== */
/* ===== end section: replica ===== */

/* ===== section: system (issue 7) ===== */
/* ===== end section: system ===== */

#ifdef __cplusplus
}
#endif

#endif /* DDATA_H */
