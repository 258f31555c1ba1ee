/*
 * Fuzzes the transport's parser: the handshake and frame state machine of
 * core/net/session.c, fed arbitrary bytes as if they came from a socket (no
 * real sockets). The first input byte picks a scenario:
 *
 *   0  a fresh encrypted responder gets the bytes (an unknown client)
 *   1  a fresh encrypted initiator gets the bytes (an unknown server)
 *   2  a fresh plain-text responder gets them (no crypto: reaches every
 *      state, so AUTH and DATA parsing are fuzzed directly)
 *   3  an authenticated pair is set up in memory; the rest is a list of
 *      operations: [op][len][bytes], even op = the honest peer seals
 *      `bytes` as a message, odd op = `bytes` are injected raw
 *
 * The second byte splits the input into chunks, so frames also arrive cut
 * at every position. Invariants checked beyond "no crash": random bytes
 * never open an encrypted session, and every message handed out lies
 * within the session's limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/session.h"
#include "util/status.h"

static const uint8_t SECRET[32] = "fuzz-cluster-secret-32-bytes-ok";

static session_config config(bool plaintext, const char *id)
{
    session_config c = {.secret = SECRET,
                        .plaintext = plaintext,
                        .node_id = id,
                        .incarnation = 1,
                        .advertised_addr = "127.0.0.1:7000",
                        .max_message_bytes = 4096};
    return c;
}

/* Feeds `data` in chunks of `chunk` bytes; returns the number of OPENED
 * items seen, or -1 once the session failed. */
static int feed(session *s, bytes *out, const uint8_t *data, size_t len, size_t chunk)
{
    int opened = 0;
    for (size_t at = 0; at < len;) {
        size_t n = len - at < chunk ? len - at : chunk;
        if (session_input(s, data + at, n) != ST_OK)
            return -1;
        at += n;
        session_item it;
        int rc;
        while ((rc = session_next(s, out, &it)) == ST_OK) {
            if (it.kind == SESSION_ITEM_OPENED)
                opened++;
            else if (it.len > s->max_message_bytes || it.msg_class >= NET_CLASS_COUNT)
                __builtin_trap();
        }
        if (rc != ST_EDONE)
            return -1;
    }
    return opened;
}

static void handshake(session *a, bytes *ao, session *b, bytes *bo)
{
    for (int i = 0; i < 4; i++) {
        feed(b, bo, ao->data, ao->len, ao->len ? ao->len : 1);
        bytes_reset(ao);
        feed(a, ao, bo->data, bo->len, bo->len ? bo->len : 1);
        bytes_reset(bo);
    }
}

static void scenario_pair(const uint8_t *data, size_t len, size_t chunk)
{
    session a, b;
    bytes ao = BYTES_INIT, bo = BYTES_INIT, frame = BYTES_INIT;
    session_config ca = config(false, "a"), cb = config(false, "b");
    if (session_init(&a, &ca, true, &ao) != ST_OK || session_init(&b, &cb, false, &bo) != ST_OK)
        __builtin_trap();
    handshake(&a, &ao, &b, &bo);
    if (a.state != SESSION_OPEN || b.state != SESSION_OPEN)
        __builtin_trap();
    while (len >= 2 && b.state != SESSION_FAILED) {
        uint8_t op = data[0];
        size_t n = data[1];
        data += 2;
        len -= 2;
        if (n > len)
            n = len;
        bytes_reset(&frame);
        if ((op & 1) == 0)
            session_seal(&a, (uint8_t)(op >> 1) % NET_CLASS_COUNT, data, n, &frame);
        else
            bytes_put(&frame, data, n);
        feed(&b, &bo, frame.data, frame.len, chunk);
        bytes_reset(&bo);
        data += n;
        len -= n;
    }
    session_free(&a);
    session_free(&b);
    bytes_free(&ao);
    bytes_free(&bo);
    bytes_free(&frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 2)
        return 0;
    uint8_t mode = data[0] % 4;
    size_t chunk = (size_t)data[1] + 1;
    data += 2;
    len -= 2;
    if (mode == 3) {
        scenario_pair(data, len, chunk);
        return 0;
    }
    session s;
    bytes out = BYTES_INIT;
    session_config c = config(mode == 2, "fuzz");
    if (session_init(&s, &c, mode == 1, &out) != ST_OK)
        __builtin_trap();
    int opened = feed(&s, &out, data, len, chunk);
    if (mode != 2 && (opened > 0 || s.state == SESSION_OPEN))
        __builtin_trap(); /* random bytes must never authenticate */
    session_free(&s);
    bytes_free(&out);
    return 0;
}
