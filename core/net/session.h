/*
 * One authenticated connection as a sans-I/O state machine: the Noise
 * handshake, the framing and the transport messages, with no sockets,
 * threads or clocks.
 *
 * The transport (transport.c) feeds it the bytes a socket gave and writes
 * out the bytes it produces; the fuzzer and the unit tests drive it the same
 * way from memory. Keeping it apart from the I/O is what lets every hostile
 * input be tried without a network. The Noise state machines themselves are
 * in noise.h; this file decides what travels inside them.
 *
 * Wire format (docs/transport.md has the full story):
 *
 *   stream   = preamble message*          (the initiator's preamble only)
 *   preamble = "DDN" version:u8           version 2 (2 = Noise); "DDP" 2 in plain-text mode
 *   message  = len:u16be body[len]       1 <= len <= 65535 (a Noise message)
 *
 * Handshake: Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b, prologue = the preamble,
 * psk = the cluster secret:
 *
 *   -> e                       payload empty
 *   <- e, ee, s, es            payload empty
 *   -> s, se, psk              payload AUTH (initiator's id, incarnation, address)
 *   <- transport message 0     AUTH of the responder
 *
 *   AUTH = 0x02 incarnation:u64le idlen:u8 id[idlen] alen:u8 addr[alen]
 *
 * The responder reveals nothing but its static public key before the
 * initiator proved the PSK (message 3); the initiator reveals its identity
 * only inside message 3, which only a holder of the responder's ephemeral
 * key can open. A responder holding two PSKs (a rotation under way) tries
 * message 3 under each.
 *
 * Transport: each direction is one Noise CipherState; every body is one
 * transport message (nonce = the message count, never sent, so a replayed,
 * reordered or dropped message fails authentication). Its plaintext is a
 * chunk of a frame:
 *
 *   DATA = 0x01 class:u8 total:u32le bytes   first (or only) chunk of a frame
 *   MORE = 0x03 bytes                        the next chunk, until total bytes came
 *
 * A frame of up to max_message_bytes (the 4 MiB cap) is one DATA chunk and
 * as many MORE chunks as it needs. Both directions Rekey() after every
 * rekey_interval messages they carry (spec §11.3), counted the same way on
 * both ends.
 *
 * Plain-text mode (explicit, both sides must agree; a mismatch fails the
 * handshake) sends the "DDP" preamble, both AUTHs and the chunks unencrypted.
 */
#ifndef DD_NET_SESSION_H
#define DD_NET_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/noise.h"
#include "util/bytes.h"

#define SESSION_SECRET_BYTES 32
#define SESSION_KEY_BYTES 32 /* X25519 public and private keys */
#define SESSION_ADDR_MAX 255
#define SESSION_ID_MAX 255 /* node ids are opaque strings, as in the engine */
#define SESSION_VERSION 2  /* the preamble's version byte; 1 was the pre-Noise handshake */
#define SESSION_PREAMBLE_BYTES 4
#define SESSION_REKEY_DEFAULT (1u << 20) /* messages per direction between rekeys */

/* What a message is, for the statistics only (the transport never looks
 * inside a payload). */
enum {
    NET_CLASS_OTHER = 0,
    NET_CLASS_DELTA = 1, /* delta gossip */
    NET_CLASS_FULL = 2,  /* full-state transfer */
    NET_CLASS_COUNT = 3
};

typedef enum session_state {
    SESSION_HELLO, /* the handshake is under way */
    SESSION_AUTH,  /* handshake done on our side, waiting for the peer's AUTH */
    SESSION_OPEN,  /* both authenticated: DATA flows */
    SESSION_FAILED
} session_state;

/* Why a session failed; the transport counts these separately. */
typedef enum session_failure {
    SESSION_FAIL_NONE,
    SESSION_FAIL_HANDSHAKE, /* bad preamble, mode mismatch, wrong secret, bad AUTH */
    SESSION_FAIL_MALFORMED, /* length 0 or too large, unknown type, short body */
    SESSION_FAIL_AUTH,      /* an open session got a message that did not open */
    SESSION_FAIL_REFUSED    /* the peer proved the secret but its key or id is not admitted */
} session_failure;

typedef struct session_peer {
    char node_id[SESSION_ID_MAX + 1];
    uint64_t incarnation;
    char addr[SESSION_ADDR_MAX + 1];
    uint8_t static_pk[SESSION_KEY_BYTES]; /* the key the peer proved (zero in plain-text mode) */
} session_peer;

/* Admission: called once the peer proved the PSK and its static key, with
 * the id it claims, before anything of ours is revealed to it beyond the
 * handshake. Returns NULL to admit, or a lowercase reason to refuse. */
typedef const char *(*session_admit_fn)(void *ctx, const session_peer *peer);

typedef struct session_config {
    const uint8_t *secret; /* SESSION_SECRET_BYTES (the PSK); ignored in plaintext mode */
    bool plaintext;
    const char *node_id;         /* 1..SESSION_ID_MAX bytes, no NUL inside */
    uint64_t incarnation;        /* changes per process start: tells a restarted peer apart */
    const char *advertised_addr; /* where peers can reach us; may be "" */
    uint32_t max_message_bytes;  /* largest DATA payload either way */
    /* Appended for Noise; zero/NULL keeps the defaults. */
    const uint8_t *static_sk;   /* our X25519 private key; NULL = a fresh one per session */
    const uint8_t *static_pk;   /* its public half, if the caller has it (saves a scalar mult) */
    const uint8_t *next_secret; /* a second accepted PSK during a rotation, or NULL */
    uint32_t rekey_interval;    /* 0 = SESSION_REKEY_DEFAULT */
    session_admit_fn admit;     /* NULL = admit any peer that proved the PSK */
    void *admit_ctx;
} session_config;

typedef enum session_item_kind {
    SESSION_ITEM_OPENED, /* the peer authenticated; see session->peer */
    SESSION_ITEM_MESSAGE
} session_item_kind;

typedef struct session_item {
    session_item_kind kind;
    uint8_t msg_class;
    const uint8_t *data; /* points into the session; valid until the next call */
    size_t len;
    size_t frame_bytes; /* on-the-wire size of the frame, for statistics */
} session_item;

typedef enum session_phase {
    PHASE_PREAMBLE,  /* responder: waiting for the initiator's preamble */
    PHASE_MSG1,      /* responder: waiting for -> e */
    PHASE_MSG2,      /* initiator: waiting for <- e, ee, s, es */
    PHASE_MSG3,      /* responder: waiting for -> s, se, psk */
    PHASE_PEER_AUTH, /* initiator (and plain-text mode): waiting for the peer's AUTH */
    PHASE_TRANSPORT
} session_phase;

typedef struct session {
    session_state state;
    session_failure failure;
    session_phase phase;
    bool initiator;
    bool plaintext;
    char node_id[SESSION_ID_MAX + 1];
    uint64_t incarnation;
    char addr[SESSION_ADDR_MAX + 1];
    uint32_t max_message_bytes;
    uint32_t rekey_interval;
    uint8_t psk[2][SESSION_SECRET_BYTES];
    int psk_count;
    uint8_t static_sk[SESSION_KEY_BYTES], static_pk[SESSION_KEY_BYTES];
    session_admit_fn admit;
    void *admit_ctx;
    noise_handshake hs;
    noise_cipher tx, rx;
    bytes in;      /* received bytes; bodies are opened in place */
    size_t in_off; /* parsed prefix of `in` */
    bytes frame;   /* a frame that spans several messages, as it is reassembled */
    uint32_t frame_total;
    uint8_t frame_class;
    bool in_frame;
    size_t frame_wire_bytes;
    session_peer peer;
    const char *refusal; /* why admission refused the peer, for the log */
} session;

/* Largest acceptable message length field in the current state: a few
 * hundred bytes until the peer authenticated, then one Noise message. */
uint32_t session_max_frame_len(const session *s);

/* Sets the session up and appends what we send first (the initiator's
 * preamble and first handshake message) to `out`. */
int session_init(session *s, const session_config *cfg, bool initiator, bytes *out);
void session_free(session *s);

/* Hands the session bytes received from the peer. Never parses; call
 * session_next until it returns ST_EDONE. */
int session_input(session *s, const uint8_t *data, size_t len);

/* Parses the next complete message. Returns ST_OK with an item, ST_EDONE
 * when more bytes are needed, or an error (the session is then FAILED and
 * `failure` says why). Handshake replies are appended to `out`. */
int session_next(session *s, bytes *out, session_item *item);

/* Appends one DATA frame (as one or more transport messages); only in
 * SESSION_OPEN. */
int session_seal(session *s, uint8_t msg_class, const uint8_t *data, size_t len, bytes *out);

/* Bytes a DATA frame of `len` payload bytes takes on the wire. */
size_t session_frame_size(const session *s, size_t len);

#endif
