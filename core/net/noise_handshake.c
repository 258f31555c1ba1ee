/*
 * Noise HandshakeState (spec §5.3) for the patterns of §7.4 and §9.4 that
 * ddata needs or the vectors cover. A pattern is a list of token strings,
 * one per message, exactly as the spec prints it; WriteMessage and
 * ReadMessage walk the tokens. The psk modifier (§9.2) is the "psk" token
 * plus its rule that every "e" token also does MixKey(e.public_key).
 *
 * The protocol name is derived from the pattern (Noise_<pattern>_25519_
 * ChaChaPoly_BLAKE2b) so the name hashed into h is the one the peer uses.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "net/noise.h"
#include "util/error.h"
#include "util/status.h"

#define MAX_TOKENS 6
#define MAX_MESSAGES 3

typedef enum token { T_END = 0, T_E, T_S, T_EE, T_ES, T_SE, T_SS, T_PSK } token;

typedef struct pattern_def {
    const char *name;
    bool responder_static_premessage; /* "<- s" before the messages (IK) */
    bool has_psk;
    size_t messages;
    token tokens[MAX_MESSAGES][MAX_TOKENS];
} pattern_def;

static const pattern_def PATTERNS[] = {
    [NOISE_NN] = {"NN", false, false, 2, {{T_E}, {T_E, T_EE}}},
    [NOISE_NNPSK0] = {"NNpsk0", false, true, 2, {{T_PSK, T_E}, {T_E, T_EE}}},
    [NOISE_XX] = {"XX", false, false, 3, {{T_E}, {T_E, T_EE, T_S, T_ES}, {T_S, T_SE}}},
    [NOISE_XXPSK3] =
        {"XXpsk3", false, true, 3, {{T_E}, {T_E, T_EE, T_S, T_ES}, {T_S, T_SE, T_PSK}}},
    [NOISE_IK] = {"IK", true, false, 2, {{T_E, T_ES, T_S, T_SS}, {T_E, T_EE, T_SE}}},
    [NOISE_IKPSK2] = {"IKpsk2", true, true, 2, {{T_E, T_ES, T_S, T_SS}, {T_E, T_EE, T_SE, T_PSK}}},
};

static int fail(noise_handshake *hs, int code, const char *what)
{
    hs->failed = true;
    return error_set(code, "noise handshake: %s", what);
}

static int dh(const uint8_t sk[NOISE_DHLEN], const uint8_t pk[NOISE_DHLEN],
              uint8_t out[NOISE_DHLEN])
{
    /* libsodium refuses an all-zero result (a low-order public key); §12.1
     * lets an implementation abort on it, and we do. */
    return crypto_scalarmult(out, sk, pk) == 0 ? ST_OK : ST_ECRYPTO;
}

int noise_handshake_init(noise_handshake *hs, const noise_handshake_config *cfg)
{
    memset(hs, 0, sizeof(*hs));
    hs->failed = true;
    if (sodium_init() < 0)
        return error_set(ST_ECRYPTO, "noise handshake: libsodium failed to initialise");
    if ((unsigned)cfg->pattern >= sizeof(PATTERNS) / sizeof(PATTERNS[0]))
        return error_set(ST_EINVAL, "noise handshake: unknown pattern %d", (int)cfg->pattern);
    const pattern_def *p = &PATTERNS[cfg->pattern];
    if (p->has_psk && !cfg->psk)
        return error_set(ST_EINVAL, "noise handshake: pattern %s needs a psk", p->name);
    if (p->responder_static_premessage && cfg->initiator && !cfg->remote_static)
        return error_set(ST_EINVAL, "noise handshake: pattern %s needs the responder's key",
                         p->name);
    hs->pattern = cfg->pattern;
    hs->initiator = cfg->initiator;
    if (cfg->static_sk) {
        memcpy(hs->s_sk, cfg->static_sk, NOISE_DHLEN);
        if (cfg->static_pk)
            memcpy(hs->s_pk, cfg->static_pk, NOISE_DHLEN);
        else
            crypto_scalarmult_base(hs->s_pk, hs->s_sk);
        hs->has_s = true;
    }
    if (cfg->ephemeral_sk) {
        memcpy(hs->e_sk, cfg->ephemeral_sk, NOISE_DHLEN);
        hs->fixed_e = true;
    }
    if (cfg->remote_static) {
        memcpy(hs->rs, cfg->remote_static, NOISE_DHLEN);
        hs->has_rs = true;
    }
    if (cfg->psk) {
        memcpy(hs->psk, cfg->psk, NOISE_PSKLEN);
        hs->has_psk = true;
    }
    char name[64];
    snprintf(name, sizeof(name), "Noise_%s_25519_ChaChaPoly_BLAKE2b", p->name);
    noise_symmetric_init(&hs->sym, name);
    noise_symmetric_mix_hash(&hs->sym, cfg->prologue, cfg->prologue_len);
    if (p->responder_static_premessage) {
        if (!hs->initiator && !hs->has_s)
            return error_set(ST_EINVAL, "noise handshake: pattern %s needs a static key", p->name);
        noise_symmetric_mix_hash(&hs->sym, hs->initiator ? hs->rs : hs->s_pk, NOISE_DHLEN);
    }
    hs->failed = false;
    return ST_OK;
}

static bool sends(const noise_handshake *hs, size_t message)
{
    return (message % 2 == 0) == hs->initiator;
}

bool noise_handshake_complete(const noise_handshake *hs)
{
    return !hs->failed && hs->message == PATTERNS[hs->pattern].messages;
}

bool noise_handshake_my_turn(const noise_handshake *hs)
{
    return !hs->failed && !noise_handshake_complete(hs) && sends(hs, hs->message);
}

/* The DH a token names, from this side's point of view (§5.3): the token
 * spells the initiator's key, then the responder's ("es" is the
 * initiator's e with the responder's s), so the initiator takes its first
 * letter locally and the responder its second. */
static int mix_dh(noise_handshake *hs, token t)
{
    bool initiator_e = t == T_EE || t == T_ES, responder_e = t == T_EE || t == T_SE;
    bool local_e = hs->initiator ? initiator_e : responder_e;
    bool remote_e = hs->initiator ? responder_e : initiator_e;
    const uint8_t *sk = local_e ? hs->e_sk : hs->s_sk, *pk = remote_e ? hs->re : hs->rs;
    bool ok = (local_e ? hs->has_e : hs->has_s) && (remote_e ? hs->has_re : hs->has_rs);
    if (!ok)
        return fail(hs, ST_EINVAL, "a key the pattern needs is missing");
    uint8_t shared[NOISE_DHLEN];
    if (dh(sk, pk, shared) != ST_OK)
        return fail(hs, ST_ECRYPTO, "peer sent a low-order public key");
    noise_symmetric_mix_key(&hs->sym, shared, NOISE_DHLEN);
    sodium_memzero(shared, sizeof(shared));
    return ST_OK;
}

/* Where a message is written or read: bytes [0, at) are done. */
typedef struct message_cursor {
    uint8_t *out;      /* writing */
    const uint8_t *in; /* reading */
    size_t len;        /* the buffer's room (writing) or the message's length (reading) */
    size_t at;
} message_cursor;

/* An "e" token's hashing, and the psk modifier's MixKey (§9.2). */
static void mix_ephemeral(noise_handshake *hs, const uint8_t e_pub[NOISE_DHLEN])
{
    noise_symmetric_mix_hash(&hs->sym, e_pub, NOISE_DHLEN);
    if (PATTERNS[hs->pattern].has_psk)
        noise_symmetric_mix_key(&hs->sym, e_pub, NOISE_DHLEN);
}

/* WriteMessage's "e" and "s": this side's keys into the message. */
static int write_key_token(noise_handshake *hs, token t, message_cursor *m)
{
    if (t == T_E) {
        if (m->len - m->at < NOISE_DHLEN)
            return fail(hs, ST_ELIMIT, "message buffer too small");
        if (!hs->fixed_e)
            randombytes_buf(hs->e_sk, NOISE_DHLEN);
        crypto_scalarmult_base(hs->e_pk, hs->e_sk);
        hs->has_e = true;
        memcpy(m->out + m->at, hs->e_pk, NOISE_DHLEN);
        m->at += NOISE_DHLEN;
        mix_ephemeral(hs, hs->e_pk);
        return ST_OK;
    }
    if (!hs->has_s)
        return fail(hs, ST_EINVAL, "the pattern sends a static key and none is set");
    if (m->len - m->at < NOISE_DHLEN + NOISE_TAGLEN)
        return fail(hs, ST_ELIMIT, "message buffer too small");
    size_t n = 0;
    int rc = noise_symmetric_encrypt_and_hash(&hs->sym, hs->s_pk, NOISE_DHLEN, m->out + m->at, &n);
    if (rc != ST_OK)
        return fail(hs, rc, "could not write the message");
    m->at += n;
    return ST_OK;
}

/* ReadMessage's "e" and "s": the peer's keys out of the message. */
static int read_key_token(noise_handshake *hs, token t, message_cursor *m)
{
    if (t == T_E) {
        if (m->len - m->at < NOISE_DHLEN)
            return fail(hs, ST_ECORRUPT, "message too short for an ephemeral key");
        memcpy(hs->re, m->in + m->at, NOISE_DHLEN);
        hs->has_re = true;
        m->at += NOISE_DHLEN;
        mix_ephemeral(hs, hs->re);
        return ST_OK;
    }
    size_t need = NOISE_DHLEN + (hs->sym.cipher.has_key ? NOISE_TAGLEN : 0);
    if (m->len - m->at < need)
        return fail(hs, ST_ECORRUPT, "message too short for a static key");
    uint8_t rs[NOISE_DHLEN];
    size_t n = 0;
    if (noise_symmetric_decrypt_and_hash(&hs->sym, m->in + m->at, need, rs, &n) != ST_OK)
        return fail(hs, ST_ECRYPTO, "peer's static key failed authentication");
    memcpy(hs->rs, rs, NOISE_DHLEN);
    hs->has_rs = true;
    m->at += need;
    return ST_OK;
}

/* The tokens of the current message, in order. "e" and "s" differ between
 * the writer and the reader; "psk" and the DHs are alike on both sides,
 * except that a writer reports a failed DH as a failed write. */
static int walk_tokens(noise_handshake *hs, bool writing, message_cursor *m)
{
    const token *tokens = PATTERNS[hs->pattern].tokens[hs->message];
    for (size_t i = 0; i < MAX_TOKENS && tokens[i] != T_END; i++) {
        int rc = ST_OK;
        if (tokens[i] == T_E || tokens[i] == T_S) {
            rc = writing ? write_key_token(hs, tokens[i], m) : read_key_token(hs, tokens[i], m);
        } else if (tokens[i] == T_PSK) {
            noise_symmetric_mix_key_and_hash(&hs->sym, hs->psk, NOISE_PSKLEN);
        } else if ((rc = mix_dh(hs, tokens[i])) != ST_OK && writing) {
            rc = fail(hs, rc, "could not write the message");
        }
        if (rc != ST_OK)
            return rc;
    }
    return ST_OK;
}

int noise_handshake_write(noise_handshake *hs, const uint8_t *payload, size_t payload_len,
                          uint8_t *out, size_t cap, size_t *out_len)
{
    if (hs->failed || !noise_handshake_my_turn(hs))
        return error_set(ST_EMISUSE, "noise handshake: not this side's turn to write");
    message_cursor m = {out, NULL, cap > NOISE_MAX_MESSAGE ? NOISE_MAX_MESSAGE : cap, 0};
    int rc = walk_tokens(hs, true, &m);
    if (rc != ST_OK)
        return rc;
    size_t tag = hs->sym.cipher.has_key ? NOISE_TAGLEN : 0, n = 0;
    if (payload_len > m.len - m.at || m.len - m.at - payload_len < tag)
        return fail(hs, ST_ELIMIT, "payload does not fit in one noise message");
    rc = noise_symmetric_encrypt_and_hash(&hs->sym, payload, payload_len, out + m.at, &n);
    if (rc != ST_OK)
        return fail(hs, rc, "could not encrypt the payload");
    *out_len = m.at + n;
    hs->message++;
    return ST_OK;
}

int noise_handshake_read(noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload,
                         size_t *payload_len)
{
    if (hs->failed || noise_handshake_complete(hs) || sends(hs, hs->message))
        return error_set(ST_EMISUSE, "noise handshake: not this side's turn to read");
    message_cursor m = {NULL, msg, len, 0};
    int rc = walk_tokens(hs, false, &m);
    if (rc != ST_OK)
        return rc;
    size_t n = 0;
    rc = noise_symmetric_decrypt_and_hash(&hs->sym, msg + m.at, len - m.at, payload, &n);
    if (rc != ST_OK)
        return fail(hs, ST_ECRYPTO,
                    "message failed authentication (wrong psk or not the expected peer)");
    *payload_len = n;
    hs->message++;
    return ST_OK;
}

void noise_handshake_split(noise_handshake *hs, noise_cipher *tx, noise_cipher *rx)
{
    noise_cipher c1, c2;
    noise_symmetric_split(&hs->sym, &c1, &c2);
    *tx = hs->initiator ? c1 : c2;
    *rx = hs->initiator ? c2 : c1;
    noise_cipher_wipe(&c1);
    noise_cipher_wipe(&c2);
}

void noise_handshake_wipe(noise_handshake *hs)
{
    sodium_memzero(hs, sizeof(*hs));
}
