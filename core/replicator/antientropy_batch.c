/*
 * The batch: every anti-entropy list message (DELTA, STATE, KEYS, WANT,
 * NACK, TOMB_SEEN) is built entry by entry and leaves as soon as the next
 * entry would pass the message budget, so only a single entry larger than
 * the cap is split into FRAG pieces by engine_send. A batch addressed to no
 * one goes to every up peer. The delta entry lives here because both the
 * immediate push and the batched flush write it, one encoder for both.
 */
#include <string.h>

#include "replicator/antientropy_internal.h"
#include "util/status.h"

void batch_init(batch *bt, engine *e, wire_type type, const char *to, size_t to_len)
{
    memset(bt, 0, sizeof(*bt));
    bt->e = e;
    bt->type = type;
    bt->to = to;
    bt->to_len = to_len;
    bt->budget = e->cfg.max_message_bytes - WIRE_HEADER_MAX - 64;
}

static void send_to_peers(engine *e, wire_type type, bytes *msg)
{
    const member *peers[MAX_PEERS];
    size_t n = membership_up_peers(e, peers, MAX_PEERS);
    if (n > MAX_PEERS)
        n = MAX_PEERS;
    for (size_t i = 0; i < n; i++) {
        bytes copy = BYTES_INIT;
        bytes_put(&copy, msg->data, msg->len);
        (void)engine_send(e, type, peers[i]->id, peers[i]->id_len, &copy);
    }
    bytes_free(msg);
}

static void batch_emit(batch *bt, const uint8_t *body, size_t len, uint64_t count)
{
    bytes m = BYTES_INIT;
    wire_header(&m, bt->type, bt->e->incarnation);
    bytes_put(&m, bt->prefix.data, bt->prefix.len);
    bytes_put_varint(&m, count);
    bytes_put(&m, body, len);
    if (bt->to)
        (void)engine_send(bt->e, bt->type, bt->to, bt->to_len, &m);
    else
        send_to_peers(bt->e, bt->type, &m);
    if (bt->prefix_next.len || bt->prefix_next.data) {
        bytes_reset(&bt->prefix);
        bytes_put(&bt->prefix, bt->prefix_next.data, bt->prefix_next.len);
    }
}

void batch_begin(batch *bt)
{
    bt->entry_start = bt->body.len;
}

/* Ends an entry: when it pushed the body over budget, what came before it
 * leaves as one message and the entry starts the next. */
void batch_end(batch *bt)
{
    bt->count++;
    if (bt->body.len <= bt->budget || bt->count == 1)
        return;
    batch_emit(bt, bt->body.data, bt->entry_start, bt->count - 1);
    size_t tail = bt->body.len - bt->entry_start;
    memmove(bt->body.data, bt->body.data + bt->entry_start, tail);
    bt->body.len = tail;
    bt->count = 1;
}

/* Sends what is left; with `always`, also an empty list. */
void batch_finish(batch *bt, bool always)
{
    if (bt->count || always)
        batch_emit(bt, bt->body.data, bt->body.len, bt->count);
    bytes_free(&bt->body);
    bytes_free(&bt->prefix);
    bytes_free(&bt->prefix_next);
}

/* One delta entry: key, type, origin actor and its per-key sequence, the
 * change time and the encoded delta. Nothing is added when the delta does
 * not encode. */
void batch_put_delta(batch *bt, const kentry *ke, const crdt *delta, uint64_t seq)
{
    bytes v = BYTES_INIT;
    if (crdt_encode(delta, &v) == ST_OK) {
        batch_begin(bt);
        bytes_put_blob(&bt->body, ke->key, ke->key_len);
        bytes_put_u8(&bt->body, ke->type);
        bytes_put_u64(&bt->body, bt->e->actor);
        bytes_put_varint(&bt->body, seq);
        bytes_put_varint(&bt->body, ke->changed_ms);
        bytes_put_blob(&bt->body, v.data, v.len);
        batch_end(bt);
    }
    bytes_free(&v);
}

void batch_init_states(batch *bt, engine *e, const char *to, size_t to_len, uint64_t request_id)
{
    batch_init(bt, e, WIRE_STATE, to, to_len);
    bytes_put_varint(&bt->prefix, request_id);
}

void batch_put_state(batch *bt, uint32_t idx)
{
    batch_begin(bt);
    if (engine_put_state_entry(bt->e, &bt->body, idx) == ST_OK)
        batch_end(bt);
    else
        bt->body.len = bt->entry_start;
}
