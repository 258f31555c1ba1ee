/*
 * The Noise Protocol Framework's three state machines (revision 34, §5),
 * written down as the specification states them, over libsodium:
 *
 *   noise_cipher     CipherState     k, n; ChaChaPoly (§12.3), Rekey (§11.3)
 *   noise_symmetric  SymmetricState  ck, h; BLAKE2b (§12.8), HKDF on HMAC (§4.3)
 *   noise_handshake  HandshakeState  s, e, rs, re, psk and a message pattern
 *
 * DH is X25519 (§12.1). Only the suite 25519_ChaChaPoly_BLAKE2b exists, and
 * only the patterns below: NN, NNpsk0, XX, XXpsk3, IK, IKpsk2 (the ones the
 * published vectors cover; the transport uses XXpsk3). Each state machine
 * lives in its own file so it can be read beside its section of the spec;
 * the test vectors in tests/vectors/noise drive all three byte for byte.
 *
 * Nothing here allocates, does I/O or reads a clock. Buffers may overlap
 * exactly (in == out) for encryption and decryption.
 */
#ifndef DD_NET_NOISE_H
#define DD_NET_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_DHLEN 32
#define NOISE_KEYLEN 32
#define NOISE_HASHLEN 64
#define NOISE_BLOCKLEN 128
#define NOISE_TAGLEN 16
#define NOISE_PSKLEN 32
#define NOISE_MAX_MESSAGE 65535 /* §3: every Noise message, handshake or transport */
#define NOISE_MAX_PAYLOAD (NOISE_MAX_MESSAGE - NOISE_TAGLEN)

/* ---- CipherState (noise_cipher.c) ---- */

typedef struct noise_cipher {
    uint8_t k[NOISE_KEYLEN];
    bool has_key; /* false: k is "empty" and encryption is the identity */
    uint64_t n;   /* 2^64-1 is reserved (§5.1): reaching it fails the cipher */
} noise_cipher;

/* InitializeKey(key); key NULL = empty. */
void noise_cipher_init(noise_cipher *c, const uint8_t *key);
/* EncryptWithAd: writes len (+ NOISE_TAGLEN with a key) bytes to `out`.
 * ST_ELIMIT when the nonce is exhausted. */
int noise_cipher_encrypt(noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *plain,
                         size_t len, uint8_t *out, size_t *out_len);
/* DecryptWithAd: ST_ECRYPTO when the tag does not check (n is then unchanged). */
int noise_cipher_decrypt(noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *cipher,
                         size_t len, uint8_t *out, size_t *out_len);
/* Rekey(): k = the first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros[32]). */
void noise_cipher_rekey(noise_cipher *c);
void noise_cipher_wipe(noise_cipher *c);

/* ---- SymmetricState (noise_symmetric.c) ---- */

typedef struct noise_symmetric {
    noise_cipher cipher;
    uint8_t ck[NOISE_HASHLEN];
    uint8_t h[NOISE_HASHLEN];
} noise_symmetric;

void noise_symmetric_init(noise_symmetric *s, const char *protocol_name);
void noise_symmetric_mix_key(noise_symmetric *s, const uint8_t *ikm, size_t len);
void noise_symmetric_mix_hash(noise_symmetric *s, const uint8_t *data, size_t len);
void noise_symmetric_mix_key_and_hash(noise_symmetric *s, const uint8_t *ikm, size_t len);
int noise_symmetric_encrypt_and_hash(noise_symmetric *s, const uint8_t *plain, size_t len,
                                     uint8_t *out, size_t *out_len);
int noise_symmetric_decrypt_and_hash(noise_symmetric *s, const uint8_t *cipher, size_t len,
                                     uint8_t *out, size_t *out_len);
/* Split(): c1 encrypts initiator -> responder, c2 the other way. */
void noise_symmetric_split(noise_symmetric *s, noise_cipher *c1, noise_cipher *c2);
void noise_symmetric_wipe(noise_symmetric *s);

/* ---- HandshakeState (noise_handshake.c) ---- */

typedef enum noise_pattern {
    NOISE_NN,
    NOISE_NNPSK0,
    NOISE_XX,
    NOISE_XXPSK3,
    NOISE_IK,
    NOISE_IKPSK2
} noise_pattern;

typedef struct noise_handshake_config {
    noise_pattern pattern;
    bool initiator;
    const uint8_t *prologue;
    size_t prologue_len;
    const uint8_t *static_sk;     /* NOISE_DHLEN, or NULL for patterns without s */
    const uint8_t *static_pk;     /* its public half if known (saves a scalar mult), or NULL */
    const uint8_t *ephemeral_sk;  /* NULL = generate (only test vectors fix it) */
    const uint8_t *remote_static; /* the pre-message key (IK's initiator), or NULL */
    const uint8_t *psk;           /* NOISE_PSKLEN for psk patterns */
} noise_handshake_config;

typedef struct noise_handshake {
    noise_symmetric sym;
    uint8_t s_sk[NOISE_DHLEN], s_pk[NOISE_DHLEN];
    uint8_t e_sk[NOISE_DHLEN], e_pk[NOISE_DHLEN];
    uint8_t rs[NOISE_DHLEN], re[NOISE_DHLEN];
    uint8_t psk[NOISE_PSKLEN];
    bool has_s, has_e, has_rs, has_re, has_psk, fixed_e;
    bool initiator;
    noise_pattern pattern;
    size_t message; /* index of the next message pattern */
    bool failed;
} noise_handshake;

int noise_handshake_init(noise_handshake *hs, const noise_handshake_config *cfg);
/* WriteMessage: appends the next handshake message carrying `payload` to
 * `out` (capacity `cap`, at most NOISE_MAX_MESSAGE is ever needed). */
int noise_handshake_write(noise_handshake *hs, const uint8_t *payload, size_t payload_len,
                          uint8_t *out, size_t cap, size_t *out_len);
/* ReadMessage: `payload` needs `len` bytes of room; any failure (ST_ECRYPTO
 * for a bad tag or a low-order key, ST_ECORRUPT for a short message) leaves
 * the handshake failed for good, as §5.3 requires. */
int noise_handshake_read(noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload,
                         size_t *payload_len);
/* True when this side's next step is a write (false once complete). */
bool noise_handshake_my_turn(const noise_handshake *hs);
bool noise_handshake_complete(const noise_handshake *hs);
/* After completion: the transport ciphers for this side, and h. */
void noise_handshake_split(noise_handshake *hs, noise_cipher *tx, noise_cipher *rx);
void noise_handshake_wipe(noise_handshake *hs);

#endif
