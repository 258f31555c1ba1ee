/*
 * The handshake and frame state machine. See session.h for the protocol.
 *
 * Bodies are opened in place inside the receive buffer, so a message costs
 * no copy between the socket read and the transport's inbound queue. A
 * length is checked against the session's limit before anything is
 * buffered for it, so a hostile length field never sizes an allocation.
 */
#include "net/session.h"

#include <sodium.h>
#include <string.h>

#include "util/error.h"
#include "util/status.h"

#define HELLO_MAGIC "DDN1"
#define PROTOCOL_VERSION 1
#define TYPE_DATA 0x01
#define TYPE_AUTH 0x02
#define AEAD_TAG 16
#define AUTH_FIXED (1 + 32 + 8 + 1 + 1) /* with empty id and address */
#define AUTH_MAX (AUTH_FIXED + SESSION_ID_MAX + SESSION_ADDR_MAX)

uint32_t session_max_frame_len(const session *s)
{
    uint32_t tag = s->plaintext ? 0 : AEAD_TAG;
    uint32_t auth = AUTH_MAX + tag;
    /* Before the peer authenticated only HELLO and AUTH are possible: an
     * unauthenticated connection can never make us buffer more than this. */
    if (s->state != SESSION_OPEN)
        return auth > SESSION_HELLO_BYTES ? auth : SESSION_HELLO_BYTES;
    return 2 + s->max_message_bytes + tag;
}

static int fail(session *s, session_failure why, int code, const char *what)
{
    s->state = SESSION_FAILED;
    s->failure = why;
    return error_set(code, "net session: %s", what);
}

static void nonce_for(uint64_t counter, uint8_t nonce[12])
{
    memset(nonce, 0, 4);
    store_u64le(nonce + 4, counter);
}

/* Appends len:u32 then `body` (already written by the caller at the end of
 * `out` after the reserved length) sealed in place. */
static int seal_frame(session *s, bytes *out, const uint8_t *hdr, size_t hdr_len,
                      const uint8_t *payload, size_t len)
{
    size_t tag = s->plaintext ? 0 : AEAD_TAG;
    size_t body = hdr_len + len + tag;
    if (body > UINT32_MAX || !bytes_reserve(out, 4 + body))
        return error_oom();
    size_t at = out->len;
    bytes_put_u32(out, (uint32_t)body);
    bytes_put(out, hdr, hdr_len);
    if (len)
        bytes_put(out, payload, len);
    if (s->plaintext)
        return ST_OK;
    uint8_t nonce[12];
    nonce_for(s->tx_counter++, nonce);
    uint8_t *p = out->data + at + 4;
    unsigned long long clen = 0;
    out->len += tag;
    crypto_aead_chacha20poly1305_ietf_encrypt(p, &clen, p, hdr_len + len, out->data + at, 4, NULL,
                                              nonce, s->key_tx);
    return ST_OK;
}

static void write_hello(session *s)
{
    uint8_t *h = s->hello_ours;
    memcpy(h, HELLO_MAGIC, 4);
    h[4] = PROTOCOL_VERSION;
    h[5] = s->plaintext ? 1 : 0;
    memcpy(h + 6, s->eph_pk, 32);
    if (s->plaintext)
        memset(h + 38, 0, 32);
    else
        randombytes_buf(h + 38, 32);
}

int session_init(session *s, const session_config *cfg, bool initiator, bytes *out)
{
    memset(s, 0, sizeof(*s));
    s->state = SESSION_FAILED;
    if (!cfg || (!cfg->plaintext && !cfg->secret))
        return error_set(ST_EINVAL, "net session: a secret is required unless plaintext is set");
    if (sodium_init() < 0)
        return error_set(ST_ECRYPTO, "net session: libsodium failed to initialise");
    size_t idlen = cfg->node_id ? strlen(cfg->node_id) : 0;
    if (idlen == 0 || idlen > SESSION_ID_MAX)
        return error_set(ST_EINVAL, "net session: node id must be 1..%d bytes", SESSION_ID_MAX);
    const char *addr = cfg->advertised_addr ? cfg->advertised_addr : "";
    size_t alen = strlen(addr);
    if (alen > SESSION_ADDR_MAX)
        return error_set(ST_EINVAL, "net session: advertised address is longer than %d bytes",
                         SESSION_ADDR_MAX);
    if (cfg->max_message_bytes == 0 || cfg->max_message_bytes > (1u << 30))
        return error_set(ST_EINVAL, "net session: max message bytes %u is not in 1..2^30",
                         cfg->max_message_bytes);
    s->initiator = initiator;
    s->plaintext = cfg->plaintext;
    memcpy(s->node_id, cfg->node_id, idlen + 1);
    s->incarnation = cfg->incarnation;
    memcpy(s->addr, addr, alen + 1);
    s->max_message_bytes = cfg->max_message_bytes;
    if (!s->plaintext) {
        memcpy(s->secret, cfg->secret, SESSION_SECRET_BYTES);
        crypto_kx_keypair(s->eph_pk, s->eph_sk);
    }
    write_hello(s);
    s->state = SESSION_HELLO;
    bytes_put_u32(out, SESSION_HELLO_BYTES);
    bytes_put(out, s->hello_ours, SESSION_HELLO_BYTES);
    return out->failed ? error_oom() : ST_OK;
}

void session_free(session *s)
{
    bytes_free(&s->in);
    sodium_memzero(s->secret, sizeof(s->secret));
    sodium_memzero(s->eph_sk, sizeof(s->eph_sk));
    sodium_memzero(s->key_tx, sizeof(s->key_tx));
    sodium_memzero(s->key_rx, sizeof(s->key_rx));
    sodium_memzero(s->mac_key, sizeof(s->mac_key));
    s->state = SESSION_FAILED;
}

int session_input(session *s, const uint8_t *data, size_t len)
{
    if (s->state == SESSION_FAILED)
        return error_set(ST_ECLOSED, "net session: input after the session failed");
    if (s->in_off && s->in_off == s->in.len) {
        s->in.len = 0;
        s->in_off = 0;
    }
    bytes_put(&s->in, data, len);
    if (s->in.failed) {
        s->in.failed = false;
        return error_oom();
    }
    return ST_OK;
}

static void derive_key(const session *s, const char *label, const uint8_t kx[32], uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, s->secret, SESSION_SECRET_BYTES, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    if (kx)
        crypto_generichash_update(&st, kx, 32);
    crypto_generichash_update(&st, s->transcript, 32);
    crypto_generichash_final(&st, out, 32);
}

static int on_hello(session *s, const uint8_t *body, size_t len, bytes *out)
{
    if (len != SESSION_HELLO_BYTES || memcmp(body, HELLO_MAGIC, 4) != 0)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer did not send a ddata hello");
    if (body[4] != PROTOCOL_VERSION)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_EUNSUPPORTED, "peer speaks another version");
    if (body[5] != (s->plaintext ? 1 : 0))
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO,
                    "peer disagrees on plain-text mode (both sides must set it)");
    if (!s->plaintext) {
        const uint8_t *client = s->initiator ? s->hello_ours : body;
        const uint8_t *server = s->initiator ? body : s->hello_ours;
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, (const uint8_t *)"ddata-net-1", 11);
        crypto_generichash_update(&st, client, SESSION_HELLO_BYTES);
        crypto_generichash_update(&st, server, SESSION_HELLO_BYTES);
        crypto_generichash_final(&st, s->transcript, 32);
        uint8_t rx[32], tx[32];
        int rc = s->initiator
                     ? crypto_kx_client_session_keys(rx, tx, s->eph_pk, s->eph_sk, body + 6)
                     : crypto_kx_server_session_keys(rx, tx, s->eph_pk, s->eph_sk, body + 6);
        sodium_memzero(s->eph_sk, sizeof(s->eph_sk));
        if (rc != 0)
            return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer sent a weak public key");
        derive_key(s, s->initiator ? "c2s" : "s2c", tx, s->key_tx);
        derive_key(s, s->initiator ? "s2c" : "c2s", rx, s->key_rx);
        derive_key(s, "auth", NULL, s->mac_key);
        sodium_memzero(rx, sizeof(rx));
        sodium_memzero(tx, sizeof(tx));
    }
    uint8_t auth[AUTH_MAX];
    size_t idlen = strlen(s->node_id), alen = strlen(s->addr);
    auth[0] = TYPE_AUTH;
    if (s->plaintext) {
        memset(auth + 1, 0, 32);
    } else {
        uint8_t msg[33];
        msg[0] = s->initiator ? 'C' : 'S';
        memcpy(msg + 1, s->transcript, 32);
        crypto_auth(auth + 1, msg, sizeof(msg), s->mac_key);
    }
    store_u64le(auth + 33, s->incarnation);
    size_t at = 41;
    auth[at++] = (uint8_t)idlen;
    memcpy(auth + at, s->node_id, idlen);
    at += idlen;
    auth[at++] = (uint8_t)alen;
    memcpy(auth + at, s->addr, alen);
    at += alen;
    int rc = seal_frame(s, out, auth, at, NULL, 0);
    if (rc != ST_OK)
        return rc;
    s->state = SESSION_AUTH;
    return ST_OK;
}

/* Opens `body` in place; returns the plain length or -1. */
static long open_body(session *s, const uint8_t *hdr, uint8_t *body, size_t len)
{
    if (s->plaintext)
        return (long)len;
    if (len < AEAD_TAG)
        return -1;
    uint8_t nonce[12];
    nonce_for(s->rx_counter, nonce);
    unsigned long long mlen = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(body, &mlen, NULL, body, len, hdr, 4, nonce,
                                                  s->key_rx) != 0)
        return -1;
    s->rx_counter++;
    return (long)mlen;
}

static int on_auth(session *s, const uint8_t *hdr, uint8_t *body, size_t len, session_item *item)
{
    long n = open_body(s, hdr, body, len);
    if (n < 0)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO,
                    "peer failed authentication (wrong cluster secret?)");
    reader r = reader_make(body, (size_t)n);
    uint8_t type = reader_u8(&r);
    const uint8_t *mac = reader_take(&r, 32);
    uint64_t incarnation = reader_u64(&r);
    uint8_t idlen = reader_u8(&r);
    const uint8_t *id = reader_take(&r, idlen);
    uint8_t alen = reader_u8(&r);
    const uint8_t *addr = reader_take(&r, alen);
    if (!reader_done(&r) || type != TYPE_AUTH || idlen == 0 || memchr(id, 0, idlen) ||
        (alen && memchr(addr, 0, alen)))
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer sent a malformed auth message");
    if (!s->plaintext) {
        uint8_t msg[33];
        msg[0] = s->initiator ? 'S' : 'C';
        memcpy(msg + 1, s->transcript, 32);
        if (crypto_auth_verify(mac, msg, sizeof(msg), s->mac_key) != 0)
            return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer's transcript proof is wrong");
    }
    s->peer.incarnation = incarnation;
    memcpy(s->peer.node_id, id, idlen);
    s->peer.node_id[idlen] = '\0';
    if (alen)
        memcpy(s->peer.addr, addr, alen);
    s->peer.addr[alen] = '\0';
    s->state = SESSION_OPEN;
    item->kind = SESSION_ITEM_OPENED;
    item->msg_class = 0;
    item->data = NULL;
    item->len = 0;
    return ST_OK;
}

static int on_data(session *s, const uint8_t *hdr, uint8_t *body, size_t len, session_item *item)
{
    long n = open_body(s, hdr, body, len);
    if (n < 0)
        return fail(s, SESSION_FAIL_AUTH, ST_ECRYPTO,
                    "frame failed authentication (replayed, reordered or forged)");
    if (n < 2 || body[0] != TYPE_DATA || body[1] >= NET_CLASS_COUNT)
        return fail(s, SESSION_FAIL_MALFORMED, ST_ECORRUPT, "malformed data frame");
    item->kind = SESSION_ITEM_MESSAGE;
    item->msg_class = body[1];
    item->data = body + 2;
    item->len = (size_t)n - 2;
    return ST_OK;
}

int session_next(session *s, bytes *out, session_item *item)
{
    for (;;) {
        if (s->state == SESSION_FAILED)
            return error_set(ST_ECLOSED, "net session: the session has failed");
        size_t avail = s->in.len - s->in_off;
        if (avail < 4)
            break;
        uint8_t *hdr = s->in.data + s->in_off;
        uint32_t len = load_u32le(hdr);
        if (len == 0)
            return fail(s, SESSION_FAIL_MALFORMED, ST_ECORRUPT, "frame of length 0");
        if (len > session_max_frame_len(s))
            return fail(s, SESSION_FAIL_MALFORMED, ST_ELIMIT, "frame longer than the limit");
        if (avail - 4 < len)
            break;
        uint8_t *body = hdr + 4;
        s->in_off += 4 + (size_t)len;
        item->frame_bytes = 4 + (size_t)len;
        switch (s->state) {
        case SESSION_HELLO: {
            int rc = on_hello(s, body, len, out);
            if (rc != ST_OK)
                return rc;
            continue;
        }
        case SESSION_AUTH: return on_auth(s, hdr, body, len, item);
        case SESSION_OPEN: return on_data(s, hdr, body, len, item);
        case SESSION_FAILED: break;
        }
    }
    /* Keep only the unparsed tail, at the front of the buffer. */
    if (s->in_off) {
        size_t rest = s->in.len - s->in_off;
        memmove(s->in.data, s->in.data + s->in_off, rest);
        s->in.len = rest;
        s->in_off = 0;
    }
    return ST_EDONE;
}

int session_seal(session *s, uint8_t msg_class, const uint8_t *data, size_t len, bytes *out)
{
    if (s->state != SESSION_OPEN)
        return error_set(ST_EMISUSE, "net session: not open");
    if (len > s->max_message_bytes)
        return error_set(ST_ELIMIT, "net: message of %zu bytes exceeds the limit of %u", len,
                         s->max_message_bytes);
    if (msg_class >= NET_CLASS_COUNT)
        return error_set(ST_EINVAL, "net: unknown message class %u", msg_class);
    uint8_t hdr[2] = {TYPE_DATA, msg_class};
    return seal_frame(s, out, hdr, 2, data, len);
}
