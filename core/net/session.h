/*
 * One authenticated connection as a sans-I/O state machine: the handshake,
 * the framing and the per-frame AEAD, with no sockets, threads or clocks.
 *
 * The transport (transport.c) feeds it the bytes a socket gave and writes
 * out the bytes it produces; the fuzzer and the unit tests drive it the same
 * way from memory. Keeping it apart from the I/O is what lets every hostile
 * input be tried without a network.
 *
 * Wire format (all integers little-endian):
 *
 *   frame   = len:u32 body[len]              0 < len <= session_max_frame_len
 *   HELLO   = "DDN1" version:u8 mode:u8 eph_pk[32] nonce[32]     (plain body)
 *   AUTH    = 0x02 mac[32] incarnation:u64 idlen:u8 id[idlen] alen:u8 addr[alen]
 *   DATA    = 0x01 class:u8 payload
 *
 * Both sides send HELLO at once (no waiting for the other), so the
 * handshake costs one round trip. On the peer's HELLO each side runs
 * crypto_kx (client = the side that connected) and mixes the pre-shared
 * secret and the transcript hash into per-direction keys with keyed BLAKE2b:
 *
 *   T        = H("ddata-net-1" || HELLO_client || HELLO_server)
 *   key_c2s  = H_secret("c2s" || kx_c2s || T),  key_s2c likewise
 *   mac_key  = H_secret("auth" || T)
 *
 * Every later body (AUTH, DATA) is ChaCha20-Poly1305-IETF under the sender's
 * direction key, the nonce is a per-direction counter (never sent) and the
 * additional data is the 4-byte length. A replayed, reordered, truncated or
 * forged frame therefore fails to open and the session fails. AUTH carries
 * crypto_auth(role || T) under mac_key: without the secret a peer can
 * neither open our AUTH (so it learns no node id or address) nor produce
 * one we accept. DATA is only sealed or accepted once the peer's AUTH
 * checked out (state OPEN).
 *
 * Plain-text mode (explicit, both sides must agree; a mismatch fails the
 * handshake) keeps the same frames with no encryption and a zero MAC.
 */
#ifndef DD_NET_SESSION_H
#define DD_NET_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define SESSION_SECRET_BYTES 32
#define SESSION_ADDR_MAX 255
#define SESSION_ID_MAX 255 /* node ids are opaque strings, as in the engine */
#define SESSION_HELLO_BYTES 70
/* AEAD tag plus the DATA header: what a message adds to its frame. */
#define SESSION_FRAME_OVERHEAD (4 + 16 + 2)

/* What a message is, for the statistics only (the transport never looks
 * inside a payload). */
enum {
    NET_CLASS_OTHER = 0,
    NET_CLASS_DELTA = 1, /* delta gossip */
    NET_CLASS_FULL = 2,  /* full-state transfer */
    NET_CLASS_COUNT = 3
};

typedef enum session_state {
    SESSION_HELLO, /* our HELLO is out, waiting for the peer's */
    SESSION_AUTH,  /* our AUTH is out, waiting for the peer's */
    SESSION_OPEN,  /* both authenticated: DATA flows */
    SESSION_FAILED
} session_state;

/* Why a session failed; the transport counts these separately. */
typedef enum session_failure {
    SESSION_FAIL_NONE,
    SESSION_FAIL_HANDSHAKE, /* bad HELLO, mode mismatch, wrong secret, bad AUTH */
    SESSION_FAIL_MALFORMED, /* length 0 or too large, unknown type, short body */
    SESSION_FAIL_AUTH       /* an open session got a frame that did not open */
} session_failure;

typedef struct session_config {
    const uint8_t *secret; /* SESSION_SECRET_BYTES; ignored in plaintext mode */
    bool plaintext;
    const char *node_id;         /* 1..SESSION_ID_MAX bytes, no NUL inside */
    uint64_t incarnation;        /* changes per process start: tells a restarted peer apart */
    const char *advertised_addr; /* where peers can reach us; may be "" */
    uint32_t max_message_bytes;  /* largest DATA payload either way */
} session_config;

typedef struct session_peer {
    char node_id[SESSION_ID_MAX + 1];
    uint64_t incarnation;
    char addr[SESSION_ADDR_MAX + 1];
} session_peer;

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

typedef struct session {
    session_state state;
    session_failure failure;
    bool initiator;
    bool plaintext;
    char node_id[SESSION_ID_MAX + 1];
    uint64_t incarnation;
    char addr[SESSION_ADDR_MAX + 1];
    uint32_t max_message_bytes;
    uint8_t secret[SESSION_SECRET_BYTES];
    uint8_t eph_pk[32], eph_sk[32];
    uint8_t hello_ours[SESSION_HELLO_BYTES];
    uint8_t key_tx[32], key_rx[32], mac_key[32];
    uint8_t transcript[32];
    uint64_t tx_counter, rx_counter;
    bytes in;      /* received bytes; bodies are opened in place */
    size_t in_off; /* parsed prefix of `in` */
    session_peer peer;
} session;

/* Largest acceptable frame length field in the current state: a few
 * hundred bytes until the peer authenticated, then the message limit. */
uint32_t session_max_frame_len(const session *s);

/* Sets the session up and appends our HELLO to `out`. */
int session_init(session *s, const session_config *cfg, bool initiator, bytes *out);
void session_free(session *s);

/* Hands the session bytes received from the peer. Never parses; call
 * session_next until it returns ST_EDONE. */
int session_input(session *s, const uint8_t *data, size_t len);

/* Parses the next complete frame. Returns ST_OK with an item, ST_EDONE when
 * more bytes are needed, or an error (the session is then FAILED and
 * `failure` says why). Handshake replies are appended to `out`. */
int session_next(session *s, bytes *out, session_item *item);

/* Appends one sealed DATA frame; only in SESSION_OPEN. */
int session_seal(session *s, uint8_t msg_class, const uint8_t *data, size_t len, bytes *out);

/* Bytes a DATA frame of `len` payload bytes takes on the wire. */
static inline size_t session_frame_size(const session *s, size_t len)
{
    return len + (s->plaintext ? 4 + 2 : SESSION_FRAME_OVERHEAD);
}

#endif
