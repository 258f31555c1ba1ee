/*
 * The connection state machine on Noise. See session.h for the protocol
 * and noise.h for the state machines it drives.
 *
 * Bodies are opened in place inside the receive buffer, so a message that
 * is a whole frame costs no copy between the socket read and the
 * transport's inbound queue; only frames over one Noise message are
 * reassembled. A length is checked against the session's limit before
 * anything is buffered for it, so a hostile length field never sizes an
 * allocation; a frame's total is checked against max_message_bytes before
 * its reassembly buffer is sized.
 */
#include "net/session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "util/status.h"

#define PREAMBLE_NOISE "DDN"
#define PREAMBLE_PLAIN "DDP"
#define KIND_DATA 0x01
#define KIND_AUTH 0x02
#define KIND_MORE 0x03
#define DATA_HEADER 6 /* kind, class, total:u32 */
#define AUTH_MAX (1 + 8 + 1 + SESSION_ID_MAX + 1 + SESSION_ADDR_MAX)
#define FIRST_CHUNK (NOISE_MAX_PAYLOAD - DATA_HEADER)
#define MORE_CHUNK (NOISE_MAX_PAYLOAD - 1)
/* The pre-Noise handshake opened with len:u32le = 70 and "DDN1". */
static const uint8_t OLD_HELLO[8] = {70, 0, 0, 0, 'D', 'D', 'N', '1'};

static size_t tag_bytes(const session *s)
{
    return s->plaintext ? 0 : NOISE_TAGLEN;
}

uint32_t session_max_frame_len(const session *s)
{
    /* Until the peer authenticated only handshake messages and AUTH are
     * possible (message 3 is the largest: s, its tag, AUTH and its tag), so
     * an unauthenticated connection can never make us buffer more. */
    if (s->state != SESSION_OPEN)
        return (uint32_t)(NOISE_DHLEN + 2 * NOISE_TAGLEN + AUTH_MAX);
    uint64_t most = (uint64_t)DATA_HEADER + s->max_message_bytes + tag_bytes(s);
    return most < NOISE_MAX_MESSAGE ? (uint32_t)most : NOISE_MAX_MESSAGE;
}

size_t session_frame_size(const session *s, size_t len)
{
    size_t per = 2 + tag_bytes(s);
    if (len <= FIRST_CHUNK)
        return per + DATA_HEADER + len;
    size_t rest = len - FIRST_CHUNK, more = (rest + MORE_CHUNK - 1) / MORE_CHUNK;
    return per + DATA_HEADER + FIRST_CHUNK + more * (per + 1) + rest;
}

static int fail(session *s, session_failure why, int code, const char *what)
{
    s->state = SESSION_FAILED;
    s->failure = why;
    noise_handshake_wipe(&s->hs);
    return error_set(code, "net session: %s", what);
}

/* One message on the wire: len:u16be then `body` (room for `cap` bytes is
 * reserved; the writer fills it and says how much it used). */
static uint8_t *message_begin(bytes *out, size_t cap)
{
    if (!bytes_reserve(out, 2 + cap))
        return NULL;
    return out->data + out->len + 2;
}

static void message_end(bytes *out, size_t len)
{
    out->data[out->len] = (uint8_t)(len >> 8);
    out->data[out->len + 1] = (uint8_t)len;
    out->len += 2 + len;
}

static void rekey_if_due(session *s, noise_cipher *c)
{
    if (c->has_key && c->n % s->rekey_interval == 0)
        noise_cipher_rekey(c);
}

/* Appends one transport message whose plaintext is `hdr` then `data`. */
static int send_transport(session *s, bytes *out, const uint8_t *hdr, size_t hdr_len,
                          const uint8_t *data, size_t len)
{
    size_t plain = hdr_len + len;
    uint8_t *p = message_begin(out, plain + tag_bytes(s));
    if (!p)
        return error_oom();
    memcpy(p, hdr, hdr_len);
    if (len)
        memcpy(p + hdr_len, data, len);
    size_t n = plain;
    if (!s->plaintext) {
        int rc = noise_cipher_encrypt(&s->tx, NULL, 0, p, plain, p, &n);
        if (rc != ST_OK)
            return rc;
        rekey_if_due(s, &s->tx);
    }
    message_end(out, n);
    return ST_OK;
}

static size_t write_auth(const session *s, uint8_t auth[AUTH_MAX])
{
    size_t idlen = strlen(s->node_id), alen = strlen(s->addr), at = 0;
    auth[at++] = KIND_AUTH;
    store_u64le(auth + at, s->incarnation);
    at += 8;
    auth[at++] = (uint8_t)idlen;
    memcpy(auth + at, s->node_id, idlen);
    at += idlen;
    auth[at++] = (uint8_t)alen;
    memcpy(auth + at, s->addr, alen);
    return at + alen;
}

static bool read_auth(session *s, const uint8_t *body, size_t len)
{
    reader r = reader_make(body, len);
    uint8_t kind = reader_u8(&r);
    uint64_t incarnation = reader_u64(&r);
    uint8_t idlen = reader_u8(&r);
    const uint8_t *id = reader_take(&r, idlen);
    uint8_t alen = reader_u8(&r);
    const uint8_t *addr = reader_take(&r, alen);
    if (!reader_done(&r) || kind != KIND_AUTH || idlen == 0 || memchr(id, 0, idlen) ||
        (alen && memchr(addr, 0, alen)))
        return false;
    s->peer.incarnation = incarnation;
    memcpy(s->peer.node_id, id, idlen);
    s->peer.node_id[idlen] = '\0';
    if (alen)
        memcpy(s->peer.addr, addr, alen);
    s->peer.addr[alen] = '\0';
    return true;
}

static int start_handshake(session *s, const uint8_t *psk)
{
    uint8_t prologue[SESSION_PREAMBLE_BYTES] = {'D', 'D', 'N', SESSION_VERSION};
    noise_handshake_config hc = {.pattern = NOISE_XXPSK3,
                                 .initiator = s->initiator,
                                 .prologue = prologue,
                                 .prologue_len = sizeof(prologue),
                                 .static_sk = s->static_sk,
                                 .static_pk = s->static_pk,
                                 .psk = psk};
    return noise_handshake_init(&s->hs, &hc);
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
    s->rekey_interval = cfg->rekey_interval ? cfg->rekey_interval : SESSION_REKEY_DEFAULT;
    s->admit = cfg->admit;
    s->admit_ctx = cfg->admit_ctx;
    s->phase = initiator ? (s->plaintext ? PHASE_PEER_AUTH : PHASE_MSG2) : PHASE_PREAMBLE;
    if (!s->plaintext) {
        memcpy(s->psk[0], cfg->secret, SESSION_SECRET_BYTES);
        s->psk_count = 1;
        if (cfg->next_secret) {
            memcpy(s->psk[1], cfg->next_secret, SESSION_SECRET_BYTES);
            s->psk_count = 2;
        }
        if (cfg->static_sk)
            memcpy(s->static_sk, cfg->static_sk, SESSION_KEY_BYTES);
        else
            randombytes_buf(s->static_sk, SESSION_KEY_BYTES);
        if (cfg->static_sk && cfg->static_pk)
            memcpy(s->static_pk, cfg->static_pk, SESSION_KEY_BYTES);
        else
            crypto_scalarmult_base(s->static_pk, s->static_sk);
        int rc = start_handshake(s, s->psk[0]);
        if (rc != ST_OK)
            return rc;
    }
    s->state = SESSION_HELLO;
    if (!initiator)
        return ST_OK;
    bytes_put(out, (const uint8_t *)(s->plaintext ? PREAMBLE_PLAIN : PREAMBLE_NOISE), 3);
    bytes_put_u8(out, SESSION_VERSION);
    if (out->failed)
        return error_oom();
    if (s->plaintext) {
        uint8_t auth[AUTH_MAX];
        return send_transport(s, out, auth, write_auth(s, auth), NULL, 0);
    }
    uint8_t *p = message_begin(out, NOISE_DHLEN + NOISE_TAGLEN);
    if (!p)
        return error_oom();
    size_t n = 0;
    int rc = noise_handshake_write(&s->hs, NULL, 0, p, NOISE_DHLEN + NOISE_TAGLEN, &n);
    if (rc != ST_OK)
        return rc;
    message_end(out, n);
    return ST_OK;
}

void session_free(session *s)
{
    bytes_free(&s->in);
    bytes_free(&s->frame);
    noise_handshake_wipe(&s->hs);
    noise_cipher_wipe(&s->tx);
    noise_cipher_wipe(&s->rx);
    sodium_memzero(s->psk, sizeof(s->psk));
    sodium_memzero(s->static_sk, sizeof(s->static_sk));
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

static int check_preamble(session *s, const uint8_t *p)
{
    if (memcmp(p, OLD_HELLO, 4) == 0)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_EUNSUPPORTED,
                    "peer speaks the pre-Noise ddata handshake (version 1); refused, upgrade it");
    bool plain = memcmp(p, PREAMBLE_PLAIN, 3) == 0;
    if (!plain && memcmp(p, PREAMBLE_NOISE, 3) != 0)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer did not send a ddata preamble");
    if (p[3] != SESSION_VERSION) {
        char why[96];
        snprintf(why, sizeof(why), "peer speaks transport version %u, this node %u; refused", p[3],
                 SESSION_VERSION);
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_EUNSUPPORTED, why);
    }
    if (plain != s->plaintext)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO,
                    "peer disagrees on plain-text mode (both sides must set it)");
    s->phase = s->plaintext ? PHASE_PEER_AUTH : PHASE_MSG1;
    return ST_OK;
}

static int admit_peer(session *s)
{
    if (s->admit) {
        const char *why = s->admit(s->admit_ctx, &s->peer);
        if (why) {
            s->refusal = why;
            return fail(s, SESSION_FAIL_REFUSED, ST_ECRYPTO, why);
        }
    }
    return ST_OK;
}

static int opened(session *s, session_item *item)
{
    s->state = SESSION_OPEN;
    s->phase = PHASE_TRANSPORT;
    noise_handshake_wipe(&s->hs);
    item->kind = SESSION_ITEM_OPENED;
    item->msg_class = 0;
    item->data = NULL;
    item->len = 0;
    return ST_OK;
}

static int on_msg1(session *s, uint8_t *body, size_t len, bytes *out)
{
    size_t n = 0;
    if (noise_handshake_read(&s->hs, body, len, body, &n) != ST_OK || n != 0)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer sent a malformed first message");
    uint8_t *p = message_begin(out, 2 * NOISE_DHLEN + 2 * NOISE_TAGLEN);
    if (!p)
        return error_oom();
    int rc = noise_handshake_write(&s->hs, NULL, 0, p, 2 * NOISE_DHLEN + 2 * NOISE_TAGLEN, &n);
    if (rc != ST_OK)
        return fail(s, SESSION_FAIL_HANDSHAKE, rc, "could not write the second message");
    message_end(out, n);
    s->phase = PHASE_MSG3;
    return ST_OK;
}

static int on_msg2(session *s, uint8_t *body, size_t len, bytes *out)
{
    size_t n = 0;
    if (noise_handshake_read(&s->hs, body, len, body, &n) != ST_OK || n != 0)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO,
                    "peer's second handshake message failed (not a ddata node?)");
    memcpy(s->peer.static_pk, s->hs.rs, SESSION_KEY_BYTES);
    uint8_t auth[AUTH_MAX];
    size_t alen = write_auth(s, auth), cap = NOISE_DHLEN + 2 * NOISE_TAGLEN + alen;
    uint8_t *p = message_begin(out, cap);
    if (!p)
        return error_oom();
    int rc = noise_handshake_write(&s->hs, auth, alen, p, cap, &n);
    if (rc != ST_OK)
        return fail(s, SESSION_FAIL_HANDSHAKE, rc, "could not write the third message");
    message_end(out, n);
    noise_handshake_split(&s->hs, &s->tx, &s->rx);
    noise_handshake_wipe(&s->hs);
    s->state = SESSION_AUTH;
    s->phase = PHASE_PEER_AUTH;
    return ST_OK;
}

static int on_msg3(session *s, uint8_t *body, size_t len, bytes *out, session_item *item)
{
    /* ReadMessage fails the handshake for good, and may decrypt in place:
     * keep the state and the message to try the next PSK. */
    noise_handshake before = s->hs;
    uint8_t copy[NOISE_DHLEN + 2 * NOISE_TAGLEN + AUTH_MAX];
    memcpy(copy, body, len);
    size_t n = 0;
    int rc = ST_ECRYPTO;
    for (int i = 0; i < s->psk_count && rc != ST_OK; i++) {
        s->hs = before;
        memcpy(s->hs.psk, s->psk[i], NOISE_PSKLEN);
        memcpy(body, copy, len);
        rc = noise_handshake_read(&s->hs, body, len, body, &n);
    }
    sodium_memzero(&before, sizeof(before));
    if (rc != ST_OK)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO,
                    "peer failed authentication (wrong cluster secret?)");
    if (!read_auth(s, body, n))
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer sent a malformed auth message");
    memcpy(s->peer.static_pk, s->hs.rs, SESSION_KEY_BYTES);
    noise_handshake_split(&s->hs, &s->tx, &s->rx);
    if ((rc = admit_peer(s)) != ST_OK)
        return rc;
    uint8_t auth[AUTH_MAX];
    if ((rc = send_transport(s, out, auth, write_auth(s, auth), NULL, 0)) != ST_OK)
        return fail(s, SESSION_FAIL_HANDSHAKE, rc, "could not send our auth message");
    return opened(s, item);
}

/* Opens a transport message in place; returns the plain length or -1. */
static long open_transport(session *s, uint8_t *body, size_t len)
{
    if (s->plaintext)
        return (long)len;
    size_t n = 0;
    if (noise_cipher_decrypt(&s->rx, NULL, 0, body, len, body, &n) != ST_OK)
        return -1;
    rekey_if_due(s, &s->rx);
    return (long)n;
}

static int on_peer_auth(session *s, uint8_t *body, size_t len, bytes *out, session_item *item)
{
    long n = open_transport(s, body, len);
    if (n < 0)
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO,
                    "peer failed authentication (wrong cluster secret?)");
    if (!read_auth(s, body, (size_t)n))
        return fail(s, SESSION_FAIL_HANDSHAKE, ST_ECRYPTO, "peer sent a malformed auth message");
    int rc = admit_peer(s);
    if (rc != ST_OK)
        return rc;
    if (s->plaintext && !s->initiator) {
        uint8_t auth[AUTH_MAX];
        if ((rc = send_transport(s, out, auth, write_auth(s, auth), NULL, 0)) != ST_OK)
            return fail(s, SESSION_FAIL_HANDSHAKE, rc, "could not send our auth message");
    }
    return opened(s, item);
}

static int malformed(session *s, const char *what)
{
    return fail(s, SESSION_FAIL_MALFORMED, ST_ECORRUPT, what);
}

/* ST_OK with an item, ST_EDONE when the message was a chunk that did not
 * finish its frame, or a failure. */
static int on_data(session *s, uint8_t *body, size_t len, size_t wire, session_item *item)
{
    long n = open_transport(s, body, len);
    if (n < 0)
        return fail(s, SESSION_FAIL_AUTH, ST_ECRYPTO,
                    "message failed authentication (replayed, reordered or forged)");
    size_t plain = (size_t)n;
    if (plain == 0)
        return malformed(s, "empty transport message");
    if (body[0] == KIND_DATA) {
        if (s->in_frame || plain < DATA_HEADER || body[1] >= NET_CLASS_COUNT)
            return malformed(s, "malformed data message");
        uint32_t total = load_u32le(body + 2);
        size_t chunk = plain - DATA_HEADER;
        if (total > s->max_message_bytes)
            return fail(s, SESSION_FAIL_MALFORMED, ST_ELIMIT, "frame longer than the limit");
        if (chunk > total || (chunk < total && chunk != FIRST_CHUNK))
            return malformed(s, "data message does not match its frame's length");
        if (chunk == total) {
            item->kind = SESSION_ITEM_MESSAGE;
            item->msg_class = body[1];
            item->data = body + DATA_HEADER;
            item->len = chunk;
            item->frame_bytes = wire;
            return ST_OK;
        }
        bytes_reset(&s->frame);
        if (!bytes_reserve(&s->frame, total))
            return error_oom();
        bytes_put(&s->frame, body + DATA_HEADER, chunk);
        s->in_frame = true;
        s->frame_total = total;
        s->frame_class = body[1];
        s->frame_wire_bytes = wire;
        return ST_EDONE;
    }
    if (body[0] != KIND_MORE || !s->in_frame)
        return malformed(s, "unexpected transport message");
    size_t chunk = plain - 1, left = s->frame_total - s->frame.len;
    if (chunk == 0 || chunk > left || (chunk < left && chunk != MORE_CHUNK))
        return malformed(s, "continuation does not match its frame's length");
    bytes_put(&s->frame, body + 1, chunk);
    s->frame_wire_bytes += wire;
    if (chunk < left)
        return ST_EDONE;
    s->in_frame = false;
    item->kind = SESSION_ITEM_MESSAGE;
    item->msg_class = s->frame_class;
    item->data = s->frame.data;
    item->len = s->frame.len;
    item->frame_bytes = s->frame_wire_bytes;
    return ST_OK;
}

static bool looks_like_old_hello(const session *s, const uint8_t *p, size_t avail)
{
    return s->state != SESSION_OPEN && avail >= 4 && memcmp(p, OLD_HELLO, 4) == 0;
}

int session_next(session *s, bytes *out, session_item *item)
{
    /* A reassembled frame handed out last time is no longer referenced. */
    if (!s->in_frame && s->frame.cap > (1u << 20))
        bytes_free(&s->frame);
    for (;;) {
        if (s->state == SESSION_FAILED)
            return error_set(ST_ECLOSED, "net session: the session has failed");
        size_t avail = s->in.len - s->in_off;
        if (!avail)
            break; /* also keeps `in.data + 0` off a NULL buffer */
        uint8_t *hdr = s->in.data + s->in_off;
        if (s->phase == PHASE_PREAMBLE) {
            if (avail < SESSION_PREAMBLE_BYTES)
                break;
            s->in_off += SESSION_PREAMBLE_BYTES;
            int rc = check_preamble(s, hdr);
            if (rc != ST_OK)
                return rc;
            continue;
        }
        if (avail < 2)
            break;
        if (looks_like_old_hello(s, hdr, avail))
            return fail(s, SESSION_FAIL_HANDSHAKE, ST_EUNSUPPORTED,
                        "peer speaks the pre-Noise ddata handshake (version 1); refused, "
                        "upgrade it");
        uint32_t len = (uint32_t)hdr[0] << 8 | hdr[1];
        if (len == 0)
            return fail(s, SESSION_FAIL_MALFORMED, ST_ECORRUPT, "message of length 0");
        if (len > session_max_frame_len(s))
            return fail(s, SESSION_FAIL_MALFORMED, ST_ELIMIT, "message longer than the limit");
        if (avail - 2 < len)
            break;
        uint8_t *body = hdr + 2;
        s->in_off += 2 + (size_t)len;
        item->frame_bytes = 2 + (size_t)len;
        int rc;
        switch (s->phase) {
        case PHASE_MSG1: rc = on_msg1(s, body, len, out); break;
        case PHASE_MSG2: rc = on_msg2(s, body, len, out); break;
        case PHASE_MSG3: return on_msg3(s, body, len, out, item);
        case PHASE_PEER_AUTH: return on_peer_auth(s, body, len, out, item);
        case PHASE_TRANSPORT:
            rc = on_data(s, body, len, 2 + (size_t)len, item);
            if (rc == ST_EDONE)
                continue;
            return rc;
        default: rc = fail(s, SESSION_FAIL_MALFORMED, ST_ECORRUPT, "bad session phase"); break;
        }
        if (rc != ST_OK)
            return rc;
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
    if (!bytes_reserve(out, session_frame_size(s, len)))
        return error_oom();
    uint8_t hdr[DATA_HEADER] = {KIND_DATA, msg_class};
    store_u32le(hdr + 2, (uint32_t)len);
    size_t first = len < FIRST_CHUNK ? len : FIRST_CHUNK;
    int rc = send_transport(s, out, hdr, DATA_HEADER, data, first);
    const uint8_t more = KIND_MORE;
    for (size_t at = first; rc == ST_OK && at < len;) {
        size_t chunk = len - at < MORE_CHUNK ? len - at : MORE_CHUNK;
        rc = send_transport(s, out, &more, 1, data + at, chunk);
        at += chunk;
    }
    return rc;
}
