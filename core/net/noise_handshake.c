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

/* The DH a token names, from this side's point of view (§5.3). */
static int mix_dh(noise_handshake *hs, token t)
{
    const uint8_t *sk = NULL, *pk = NULL;
    bool ok;
    switch (t) {
    case T_EE: sk = hs->e_sk, pk = hs->re, ok = hs->has_e && hs->has_re; break;
    case T_ES:
        if (hs->initiator)
            sk = hs->e_sk, pk = hs->rs, ok = hs->has_e && hs->has_rs;
        else
            sk = hs->s_sk, pk = hs->re, ok = hs->has_s && hs->has_re;
        break;
    case T_SE:
        if (hs->initiator)
            sk = hs->s_sk, pk = hs->re, ok = hs->has_s && hs->has_re;
        else
            sk = hs->e_sk, pk = hs->rs, ok = hs->has_e && hs->has_rs;
        break;
    default: sk = hs->s_sk, pk = hs->rs, ok = hs->has_s && hs->has_rs; break;
    }
    if (!ok)
        return fail(hs, ST_EINVAL, "a key the pattern needs is missing");
    uint8_t shared[NOISE_DHLEN];
    if (dh(sk, pk, shared) != ST_OK)
        return fail(hs, ST_ECRYPTO, "peer sent a low-order public key");
    noise_symmetric_mix_key(&hs->sym, shared, NOISE_DHLEN);
    sodium_memzero(shared, sizeof(shared));
    return ST_OK;
}

int noise_handshake_write(noise_handshake *hs, const uint8_t *payload, size_t payload_len,
                          uint8_t *out, size_t cap, size_t *out_len)
{
    if (hs->failed || !noise_handshake_my_turn(hs))
        return error_set(ST_EMISUSE, "noise handshake: not this side's turn to write");
    const pattern_def *p = &PATTERNS[hs->pattern];
    if (cap > NOISE_MAX_MESSAGE)
        cap = NOISE_MAX_MESSAGE;
    size_t at = 0, n = 0;
    for (const token *t = p->tokens[hs->message];
         t < p->tokens[hs->message] + MAX_TOKENS && *t != T_END; t++) {
        int rc = ST_OK;
        switch (*t) {
        case T_E:
            if (cap - at < NOISE_DHLEN)
                return fail(hs, ST_ELIMIT, "message buffer too small");
            if (!hs->fixed_e)
                randombytes_buf(hs->e_sk, NOISE_DHLEN);
            crypto_scalarmult_base(hs->e_pk, hs->e_sk);
            hs->has_e = true;
            memcpy(out + at, hs->e_pk, NOISE_DHLEN);
            at += NOISE_DHLEN;
            noise_symmetric_mix_hash(&hs->sym, hs->e_pk, NOISE_DHLEN);
            if (p->has_psk)
                noise_symmetric_mix_key(&hs->sym, hs->e_pk, NOISE_DHLEN);
            break;
        case T_S:
            if (!hs->has_s)
                return fail(hs, ST_EINVAL, "the pattern sends a static key and none is set");
            if (cap - at < NOISE_DHLEN + NOISE_TAGLEN)
                return fail(hs, ST_ELIMIT, "message buffer too small");
            rc = noise_symmetric_encrypt_and_hash(&hs->sym, hs->s_pk, NOISE_DHLEN, out + at, &n);
            at += n;
            break;
        case T_PSK: noise_symmetric_mix_key_and_hash(&hs->sym, hs->psk, NOISE_PSKLEN); break;
        default: rc = mix_dh(hs, *t); break;
        }
        if (rc != ST_OK)
            return fail(hs, rc, "could not write the message");
    }
    size_t tag = hs->sym.cipher.has_key ? NOISE_TAGLEN : 0;
    if (payload_len > cap - at || cap - at - payload_len < tag)
        return fail(hs, ST_ELIMIT, "payload does not fit in one noise message");
    int rc = noise_symmetric_encrypt_and_hash(&hs->sym, payload, payload_len, out + at, &n);
    if (rc != ST_OK)
        return fail(hs, rc, "could not encrypt the payload");
    *out_len = at + n;
    hs->message++;
    return ST_OK;
}

int noise_handshake_read(noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload,
                         size_t *payload_len)
{
    if (hs->failed || noise_handshake_complete(hs) || sends(hs, hs->message))
        return error_set(ST_EMISUSE, "noise handshake: not this side's turn to read");
    const pattern_def *p = &PATTERNS[hs->pattern];
    size_t at = 0, n = 0;
    for (const token *t = p->tokens[hs->message];
         t < p->tokens[hs->message] + MAX_TOKENS && *t != T_END; t++) {
        int rc = ST_OK;
        switch (*t) {
        case T_E:
            if (len - at < NOISE_DHLEN)
                return fail(hs, ST_ECORRUPT, "message too short for an ephemeral key");
            memcpy(hs->re, msg + at, NOISE_DHLEN);
            hs->has_re = true;
            at += NOISE_DHLEN;
            noise_symmetric_mix_hash(&hs->sym, hs->re, NOISE_DHLEN);
            if (p->has_psk)
                noise_symmetric_mix_key(&hs->sym, hs->re, NOISE_DHLEN);
            break;
        case T_S: {
            size_t need = NOISE_DHLEN + (hs->sym.cipher.has_key ? NOISE_TAGLEN : 0);
            if (len - at < need)
                return fail(hs, ST_ECORRUPT, "message too short for a static key");
            uint8_t rs[NOISE_DHLEN];
            rc = noise_symmetric_decrypt_and_hash(&hs->sym, msg + at, need, rs, &n);
            if (rc != ST_OK)
                return fail(hs, ST_ECRYPTO, "peer's static key failed authentication");
            memcpy(hs->rs, rs, NOISE_DHLEN);
            hs->has_rs = true;
            at += need;
            break;
        }
        case T_PSK: noise_symmetric_mix_key_and_hash(&hs->sym, hs->psk, NOISE_PSKLEN); break;
        default: rc = mix_dh(hs, *t); break;
        }
        if (rc != ST_OK)
            return rc;
    }
    int rc = noise_symmetric_decrypt_and_hash(&hs->sym, msg + at, len - at, payload, &n);
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
