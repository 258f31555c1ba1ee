/*
 * The engine's two queues, both bounded rings: messages waiting for the
 * transport (bounded by bytes, the oldest dropped first) and events waiting
 * for the application (bounded by count; a full queue counts what it drops
 * rather than growing without end).
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

#define OUT_MAX_BYTES (256ull << 20)

static int out_push(engine *e, wire_type type, const char *to, size_t to_len, uint8_t *data,
                    size_t len)
{
    if (e->out_bytes + len > OUT_MAX_BYTES) {
        /* The host is not pumping; gossip repairs whatever is dropped. */
        free(data);
        e->stats.outgoing_dropped++;
        return error_set(ST_ELIMIT, "replicator: outgoing queue is full");
    }
    if (!ring_reserve(&e->out, &e->out_cap, &e->out_head, e->out_len, sizeof(outmsg))) {
        free(data);
        return error_oom();
    }
    char *t = malloc(to_len + 1);
    if (!t) {
        free(data);
        return error_oom();
    }
    memcpy(t, to, to_len);
    t[to_len] = 0;
    outmsg *m = &e->out[(e->out_head + e->out_len) % e->out_cap];
    m->to = t;
    m->to_len = to_len;
    m->data = data;
    m->len = len;
    m->type = type;
    e->out_len++;
    e->out_bytes += len;
    e->stats.msgs_sent++;
    e->stats.bytes_sent += len;
    unsigned kind = len > 2 && data[2] < ENGINE_WIRE_KINDS ? data[2] : 0;
    e->stats.msgs_sent_by_type[kind]++;
    e->stats.bytes_sent_by_type[kind] += len;
    return ST_OK;
}

int engine_send(engine *e, wire_type type, const char *to, size_t to_len, bytes *msg)
{
    int rc = ST_OK;
    if (msg->failed) {
        bytes_free(msg);
        return error_oom();
    }
    size_t cap = e->cfg.max_message_bytes;
    if (msg->len <= cap) {
        size_t len;
        uint8_t *data = bytes_steal(msg, &len);
        return out_push(e, type, to, to_len, data, len);
    }
    /* Too large for one frame: send numbered pieces, each under the cap. */
    size_t chunk = cap - WIRE_HEADER_MAX - 40;
    uint64_t count = (msg->len + chunk - 1) / chunk;
    uint64_t id = e->next_msg_id++;
    for (uint64_t i = 0; i < count && rc == ST_OK; i++) {
        bytes f = BYTES_INIT;
        size_t off = (size_t)i * chunk;
        size_t n = msg->len - off < chunk ? msg->len - off : chunk;
        wire_header(&f, WIRE_FRAG, e->incarnation);
        bytes_put_varint(&f, id);
        bytes_put_varint(&f, i);
        bytes_put_varint(&f, count);
        bytes_put_blob(&f, msg->data + off, n);
        if (f.failed) {
            bytes_free(&f);
            rc = error_oom();
            break;
        }
        size_t len;
        uint8_t *data = bytes_steal(&f, &len);
        rc = out_push(e, WIRE_FRAG, to, to_len, data, len);
    }
    bytes_free(msg);
    return rc;
}

/* Deltas and full states are counted apart on the links; replies that a
 * waiting request needs are never silently dropped. */
static engine_outgoing_info outgoing_info(wire_type type)
{
    engine_outgoing_info info;
    info.traffic = type == WIRE_DELTA   ? ENGINE_TRAFFIC_DELTA
                   : type == WIRE_STATE ? ENGINE_TRAFFIC_FULL
                                        : ENGINE_TRAFFIC_OTHER;
    info.reliable =
        type == WIRE_WRITE_ACK || type == WIRE_READ || type == WIRE_READ_REPLY || type == WIRE_NACK;
    return info;
}

int engine_next_outgoing_info(engine *e, bytes *to, bytes *msg, engine_outgoing_info *info)
{
    if (!e->out_len)
        return ST_EDONE;
    outmsg *m = &e->out[ring_take_oldest(&e->out_head, &e->out_len, e->out_cap)];
    bytes_free(to);
    bytes_free(msg);
    to->data = (uint8_t *)m->to;
    to->len = m->to_len;
    to->cap = m->to_len + 1;
    msg->data = m->data;
    msg->len = msg->cap = m->len;
    if (info)
        *info = outgoing_info(m->type);
    e->out_bytes -= m->len;
    return ST_OK;
}

int engine_next_outgoing(engine *e, bytes *to, bytes *msg)
{
    return engine_next_outgoing_info(e, to, msg, NULL);
}

size_t engine_outgoing_count(const engine *e)
{
    return e->out_len;
}

void engine_emit(engine *e, engine_event *ev)
{
    if (e->ev_len >= e->cfg.max_events) {
        e->ev_dropped++;
        engine_event_clear(ev);
        return;
    }
    if (!ring_reserve(&e->events, &e->ev_cap, &e->ev_head, e->ev_len, sizeof(engine_event))) {
        e->ev_dropped++;
        engine_event_clear(ev);
        return;
    }
    e->events[(e->ev_head + e->ev_len) % e->ev_cap] = *ev;
    e->ev_len++;
    memset(ev, 0, sizeof(*ev));
}

int engine_next_event(engine *e, engine_event *out)
{
    memset(out, 0, sizeof(*out));
    if (!e->ev_len) {
        if (!e->ev_dropped)
            return ST_EDONE;
        out->kind = ENGINE_EV_OVERFLOW;
        out->dropped = e->ev_dropped;
        e->ev_dropped = 0;
        return ST_OK;
    }
    *out = e->events[ring_take_oldest(&e->ev_head, &e->ev_len, e->ev_cap)];
    return ST_OK;
}

size_t engine_event_count(const engine *e)
{
    return e->ev_len + (e->ev_dropped ? 1 : 0);
}
