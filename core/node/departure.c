/*
 * A node leaving the cluster, and its peers letting it go (issue 17.11).
 *
 * The protocol is the replicator's (core/replicator/leave.c); what the
 * node adds is time and links. node_leave waits for the acks only with the
 * built-in transport, where the driver thread carries the messages while
 * the caller sleeps between checks; in pump mode the host carries them and
 * the call returns at once. On the other side, once a member that said
 * goodbye drops its link, the transport stops dialling its address and
 * the address book ignores announcements of it, so a departed node is not
 * dialled forever; the next link it opens (as a new incarnation, dialling
 * its seeds) clears that. A seed's address is dialled all the same: a
 * first node that left and restarted has no seeds to dial anyone with,
 * and once its link is up again the members gossip to it as to any
 * removed member, so it learns the cluster.
 */
#include <string.h>
#include <time.h>

#include "node/node_internal.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/status.h"

#define LEAVE_POLL_MS 5

int node_refuse_left(const node *n)
{
    return error_set(ST_EMISUSE, "system '%s' has left the cluster", n->node_id);
}

int node_leave(node *n, uint64_t timeout_ms)
{
    node_lock(n);
    if (n->left) {
        int rc = node_refuse_left(n);
        node_unlock(n);
        return rc;
    }
    n->left = true;
    int rc = n->e ? engine_leave(n->e, node_now(n)) : ST_OK;
    bool wait = n->e && n->net;
    node_unlock(n); /* wakes the driver: the announcement leaves now */
    if (!wait)
        return rc;
    uint64_t deadline = clock_monotonic_ms() + timeout_ms;
    for (;;) {
        node_lock(n);
        size_t unacked = n->e ? engine_leave_unacked(n->e) : 0;
        node_unlock(n);
        if (!unacked)
            break;
        if (clock_monotonic_ms() >= deadline) {
            if (rc == ST_OK)
                rc = error_set(ST_ETIMEOUT,
                               "system '%s': members that did not acknowledge the leave "
                               "within %llu ms: %zu",
                               n->node_id, (unsigned long long)timeout_ms, unacked);
            break;
        }
        struct timespec ts = {0, LEAVE_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return rc;
}

/* A seed's address stays dialled: whoever comes back there (a restarted
 * first node has no seeds of its own) must be found again. */
static bool is_seed(const node *n, const char *addr)
{
    for (size_t i = 0; i < n->seed_count; i++)
        if (strcmp(n->seeds[i], addr) == 0)
            return true;
    return false;
}

void departure_link_down(node *n, node_net *nn, book_entry *b)
{
    if (!n->e || !engine_member_left(n->e, b->id, strlen(b->id)) || is_seed(n, b->addr))
        return;
    if (b->addr[0])
        (void)net_disconnect(nn->n, b->addr);
    b->dialled = false;
    b->departed = true;
}

void departure_link_up(node *n, const char *id, size_t len)
{
    if (n->e)
        engine_member_link_up(n->e, id, len);
}
