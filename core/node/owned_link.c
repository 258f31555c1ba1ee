/*
 * Node-owned state on the node's links (channel 2). An attached owned
 * engine (one per node) is pumped by the same driver: it is ticked with
 * the replicator, and its membership follows the replicator's: every round
 * the driver compares the members the replicator has up with the ones it
 * told the owned engine about, and reports the difference (up, with the
 * member's incarnation; down, removed or gone: left). Owned ids are
 * node_owned_id of the node ids; the driver keeps the names to send to.
 * Snapshots, deltas and feeds go droppable (the engine re-syncs); pulls
 * and their answers reliable, because a query waits on them.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node_internal.h"
#include "replicator/members_view.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/status.h"

static owned_peer *opeer_find(node_net *nn, uint64_t id)
{
    for (size_t i = 0; i < nn->opeers_n; i++)
        if (nn->opeers[i].id == id)
            return &nn->opeers[i];
    return NULL;
}

static owned_peer *opeer_add(node_net *nn, uint64_t id, const char *name, size_t len)
{
    if (!array_reserve(&nn->opeers, &nn->opeers_cap, nn->opeers_n + 1, sizeof(*nn->opeers)))
        return NULL;
    owned_peer *p = &nn->opeers[nn->opeers_n];
    memset(p, 0, sizeof(*p));
    if (!(p->name = strndup(name, len)))
        return NULL;
    p->id = id;
    nn->opeers_n++;
    return p;
}

/* Reports to the owned engine how the replicator's membership moved since
 * the last call: members now up (or up with a new incarnation) and members
 * no longer up. Linear in members times peers told: clusters of the size a
 * full-mesh transport serves. Both locks held. */
static void owned_sync_members(node *n, node_net *nn, owned *oe)
{
    if (!n->e)
        return; /* no membership until a replica opens the engine */
    for (size_t i = 0; i < nn->opeers_n; i++)
        nn->opeers[i].seen = false;
    uint64_t self = owned_node_id(oe);
    size_t count = engine_member_count(n->e);
    for (size_t i = 0; i < count; i++) {
        engine_member_info mi;
        if (engine_member_at(n->e, i, &mi) != ST_OK || mi.is_self || mi.state != MEMBER_UP ||
            !mi.id_len || mi.id_len > SESSION_ID_MAX)
            continue;
        uint64_t id = node_owned_id(mi.id, mi.id_len);
        if (id == self)
            continue;
        owned_peer *p = opeer_find(nn, id);
        bool fresh = !p;
        if (!p && !(p = opeer_add(nn, id, mi.id, mi.id_len)))
            continue;
        p->seen = true;
        if ((fresh || p->incarnation != mi.incarnation) &&
            owned_member_up(oe, id, mi.incarnation) == ST_OK)
            p->incarnation = mi.incarnation;
    }
    for (size_t i = 0; i < nn->opeers_n;) {
        if (nn->opeers[i].seen) {
            i++;
            continue;
        }
        (void)owned_member_left(oe, nn->opeers[i].id);
        free(nn->opeers[i].name);
        nn->opeers[i] = nn->opeers[--nn->opeers_n];
    }
}

static void owned_flush(node_net *nn, owned *oe)
{
    uint64_t to;
    bytes msg = BYTES_INIT;
    bool reliable;
    while (owned_next_outgoing_reliable(oe, &to, &msg, &reliable) == ST_OK) {
        owned_peer *p = opeer_find(nn, to);
        bytes *b = &nn->scratch;
        bytes_reset(b);
        bytes_put_u8(b, CH_OWNED);
        bytes_put(b, msg.data, msg.len);
        if (!p || b->failed ||
            net_send(nn->n, p->name, b->data, b->len, reliable ? NET_RELIABLE : NET_DROPPABLE,
                     NET_CLASS_OTHER) == ST_ENOTFOUND)
            nn->owned_unroutable++;
    }
    bytes_free(&msg);
}

/* Detaches the owned engine: it returns to pump mode, its views of other
 * nodes are removed (this node no longer hears from them), and the
 * system's reference goes. System lock held. */
void owned_link_detach(node_net *nn)
{
    if (!nn->owned_attached)
        return;
    nn->owned.lock(nn->owned.ctx);
    owned *oe = nn->owned.engine(nn->owned.ctx);
    owned_flush(nn, oe);
    for (size_t i = 0; i < nn->opeers_n; i++) {
        (void)owned_member_left(oe, nn->opeers[i].id);
        free(nn->opeers[i].name);
    }
    nn->opeers_n = 0;
    /* What the departures queued has no one left to go to. */
    uint64_t to;
    bytes msg = BYTES_INIT;
    while (owned_next_outgoing(oe, &to, &msg) == ST_OK)
        ;
    bytes_free(&msg);
    nn->owned.set_attached(nn->owned.ctx, -1);
    nn->owned.unlock(nn->owned.ctx);
    node_owned_host host = nn->owned;
    nn->owned_attached = false;
    memset(&nn->owned, 0, sizeof(nn->owned));
    host.release(host.ctx); /* may free the engine: its handle was closed */
}

/* A closed owned handle is the host's detach: its last reference is ours. */
static void owned_check_closed(node_net *nn)
{
    if (nn->owned_attached && nn->owned.closed(nn->owned.ctx))
        owned_link_detach(nn);
}

void owned_link_deliver(node *n, node_net *nn, const net_event *ev)
{
    uint64_t from = node_owned_id(ev->node_id, ev->node_id_len);
    nn->owned.lock(nn->owned.ctx);
    owned *oe = nn->owned.engine(nn->owned.ctx);
    /* A member the replicator saw come up since the last round is told
     * first, so its greeting is not dropped as a ghost's. */
    if (!opeer_find(nn, from))
        owned_sync_members(n, nn, oe);
    (void)owned_deliver(oe, from, ev->data + 1, ev->len - 1);
    nn->owned.unlock(nn->owned.ctx);
}

void owned_link_round(node *n, node_net *nn, bool ticked)
{
    if (ticked)
        owned_check_closed(nn);
    if (!nn->owned_attached)
        return;
    nn->owned.lock(nn->owned.ctx);
    owned *oe = nn->owned.engine(nn->owned.ctx);
    owned_sync_members(n, nn, oe);
    if (ticked)
        (void)owned_tick(oe, clock_monotonic_ms());
    owned_flush(nn, oe);
    nn->owned.unlock(nn->owned.ctx);
}

int node_attach_owned(node *n, const node_owned_host *host)
{
    node_net *nn = n->net;
    if (!nn)
        return error_set(ST_EUNSUPPORTED, "system '%s' has no built-in transport (pump mode)",
                         n->node_id);
    owned_check_closed(nn);
    if (nn->owned_attached)
        return error_set(ST_ECONFLICT, "system '%s' already carries an owned engine", n->node_id);
    nn->owned = *host;
    nn->owned_attached = true;
    host->lock(host->ctx);
    host->set_attached(host->ctx, nn->wake_fd);
    host->unlock(host->ctx);
    node_net_wake(n);
    return ST_OK;
}
