/*
 * Removed-node pruning: folding dead actors' counter slots into a survivor,
 * so counter state does not grow by one slot per incarnation that ever
 * wrote (after Akka/Pekko's PruningInitialized/PruningPerformed).
 *
 * Dead actors. Every node notes an actor as dead when its member is
 * removed, or when the member takes a new incarnation (the old actor never
 * writes again), including this node's own when it refutes.
 *
 * One coordinator: the up member with the smallest node id (by bytes).
 * Every pruning of every dead actor goes through it, so one actor is
 * never pruned into two survivors; a node acknowledges only a coordinator
 * that is the coordinator in its own view too, which guards against two
 * nodes that disagree on the membership.
 *
 * Split brain: membership downs and removes unreachable members on its
 * own, so both sides of a long partition remove each other, and each side
 * would prune the other side's actors into its own coordinator; after the
 * heal both survivors would hold the folded counts. A coordinator
 * therefore prunes only while its up members are a strict majority of the
 * most it has seen up within the last prune_marker_ttl_ms (the same bound
 * the markers rely on); a minority side waits.
 *
 * Phase 1 (initialize): every prune_interval_ms the coordinator looks for
 * dead actors (dead for prune_delay_ms) that some key's counters still
 * hold, and sends PRUNE init (its actor, the dead actors) to every up
 * member each gossip round. A member that agrees on the coordinator and
 * does not know those actors as alive answers PRUNE ack: the actors, and the full state of every
 * key in which it holds one of them. The coordinator merges those states before it counts the ack,
 * so an ack means "the coordinator has everything I hold of these actors"; a member's copy of a
 * dead actor can only grow from other members' copies, which reach the coordinator with their own
 * acks.
 *
 * Phase 2 (perform): once every up member has acknowledged, the
 * coordinator calls crdt_prune(value, dead, its actor) on each key that
 * holds the actor: the slot moves into its own and a marker records it
 * (counter.c). The pruned state spreads by ordinary anti-entropy (and an
 * immediate push); a replica that merges it drops its own slot of the
 * dead actor, and an old unpruned copy merged later counts it once.
 *
 * Markers carry keep_until = prune time + prune_marker_ttl_ms; every node
 * drops expired markers on its own clock every prune_interval_ms, and
 * forgets the dead actor then too. An unpruned copy that resurfaces after
 * that (a node cut off for longer than the TTL) would count the actor
 * twice: the TTL (6 hours by default, as in Pekko) must exceed any
 * partition a removed node's data can survive.
 *
 * Writes a removed node made after it was removed (it was alive but cut
 * off, and comes back with a new incarnation) are dropped, as in Pekko.
 * ORSet and map dots of dead actors stay: dots do not grow per update.
 *
 * PRUNE body: u8 kind; init (1): u64 survivor actor, n, n x u64 actor;
 * ack (2): n, n x u64 actor, m, m x STATE entry.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

#define MAX_DEAD 65536u
#define MAX_PRUNE_LIST 4096u
#define MAX_PRUNE_PEERS 4096u
#define PUSH_MAX 64u

enum { PRUNE_INIT = 1, PRUNE_ACK = 2 };

static int64_t find_dead(const engine *e, uint64_t actor)
{
    for (size_t i = 0; i < e->ndead; i++)
        if (e->dead[i].actor == actor)
            return (int64_t)i;
    return -1;
}

void prune_note_dead(engine *e, uint64_t actor)
{
    if (e->cfg.prune_disabled || find_dead(e, actor) >= 0)
        return;
    if (e->ndead == MAX_DEAD) {
        memmove(e->dead, e->dead + 1, (e->ndead - 1) * sizeof *e->dead);
        e->ndead--;
    }
    if (!array_reserve(&e->dead, &e->cap_dead, e->ndead + 1, sizeof(*e->dead)))
        return; /* not pruned: the state only stays larger */
    e->dead[e->ndead].actor = actor;
    e->dead[e->ndead].since_ms = e->now_ms;
    e->ndead++;
}

static void drop_task(engine *e, size_t i)
{
    free(e->tasks[i].acked);
    e->tasks[i] = e->tasks[--e->ntasks];
}

void prune_free(engine *e)
{
    while (e->ntasks)
        drop_task(e, e->ntasks - 1);
    free(e->tasks);
    e->tasks = NULL;
    free(e->dead);
    e->dead = NULL;
    e->ndead = e->cap_dead = 0;
}

static int id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* The up member with the smallest id, in this node's view. */
static const member *coordinator(const engine *e)
{
    const member *best = NULL;
    for (size_t i = 0; i < e->nmembers; i++) {
        const member *m = &e->members[i];
        if (m->state != MEMBER_UP)
            continue;
        if (!best || id_cmp(m->id, m->id_len, best->id, best->id_len) < 0)
            best = m;
    }
    return best;
}

static bool is_coordinator(const engine *e)
{
    return e->joined && coordinator(e) == &e->members[0];
}

typedef struct actor_set {
    const uint64_t *actors; /* sorted */
    size_t n;
    bool *hit; /* may be NULL: stop at the first */
} actor_set;

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static int mark_hit(uint64_t actor, void *arg)
{
    actor_set *s = arg;
    const uint64_t *p = bsearch(&actor, s->actors, s->n, sizeof actor, u64_cmp);
    if (!p)
        return 0;
    if (!s->hit)
        return 1;
    s->hit[p - s->actors] = true;
    return 0;
}

static bool in_set(uint64_t actor, void *arg)
{
    const actor_set *s = arg;
    return bsearch(&actor, s->actors, s->n, sizeof actor, u64_cmp) != NULL;
}

static bool live_value(const kentry *ke)
{
    return ke->used && !(ke->flags & KE_TOMB) && ke->value;
}

/* ---- phase 1: the coordinator asks ------------------------------------- */

static void start_tasks(engine *e)
{
    uint64_t *cand = alloc_array(e->ndead ? e->ndead : 1, sizeof *cand);
    bool *hit = calloc(e->ndead ? e->ndead : 1, 1);
    size_t n = 0;
    if (!cand || !hit)
        goto done;
    for (size_t i = 0; i < e->ndead; i++) {
        if (e->now_ms - e->dead[i].since_ms < e->cfg.prune_delay_ms)
            continue;
        bool tasked = false;
        for (size_t t = 0; t < e->ntasks; t++)
            tasked |= e->tasks[t].removed == e->dead[i].actor;
        if (!tasked)
            cand[n++] = e->dead[i].actor;
    }
    if (!n)
        goto done;
    qsort(cand, n, sizeof *cand, u64_cmp);
    actor_set s = {cand, n, hit};
    for (uint32_t idx = 0; idx < e->kt.nents; idx++) {
        const kentry *ke = kt_at(&e->kt, idx);
        if (live_value(ke))
            (void)crdt_each_counter_actor(ke->value, mark_hit, &s);
    }
    for (size_t i = 0; i < n && e->ntasks < MAX_PRUNE_LIST; i++) {
        if (!hit[i])
            continue;
        prune_task *t = realloc_array(e->tasks, e->ntasks + 1, sizeof *t);
        if (!t)
            break;
        e->tasks = t;
        memset(&e->tasks[e->ntasks], 0, sizeof *t);
        e->tasks[e->ntasks++].removed = cand[i];
    }
done:
    free(cand);
    free(hit);
}

static void send_init(engine *e)
{
    bytes b = BYTES_INIT;
    wire_header(&b, WIRE_PRUNE, e->incarnation);
    bytes_put_u8(&b, PRUNE_INIT);
    bytes_put_u64(&b, e->actor);
    bytes_put_varint(&b, e->ntasks);
    for (size_t t = 0; t < e->ntasks; t++)
        bytes_put_u64(&b, e->tasks[t].removed);
    const member *peers[MAX_PRUNE_PEERS];
    size_t n = membership_up_peers(e, peers, MAX_PRUNE_PEERS);
    for (size_t i = 0; i < n && i < MAX_PRUNE_PEERS; i++) {
        bytes copy = BYTES_INIT;
        bytes_put(&copy, b.data, b.len);
        (void)engine_send(e, WIRE_PRUNE, peers[i]->id, peers[i]->id_len, &copy);
    }
    bytes_free(&b);
}

static bool all_acked(const engine *e, const prune_task *t)
{
    for (size_t i = 1; i < e->nmembers; i++) {
        const member *m = &e->members[i];
        if (m->state != MEMBER_UP)
            continue;
        bool found = false;
        for (uint32_t k = 0; k < t->nacked && !found; k++)
            found = t->acked[k] == m->id_hash;
        if (!found)
            return false;
    }
    return true;
}

/* ---- phase 2: the coordinator prunes ----------------------------------- */

static void perform(engine *e, uint64_t removed)
{
    uint64_t wall = engine_wall_ms(e);
    uint64_t keep_until = wall + e->cfg.prune_marker_ttl_ms;
    if (keep_until < wall)
        keep_until = UINT64_MAX;
    uint32_t pushed = 0;
    for (uint32_t idx = 0; idx < e->kt.nents; idx++) {
        kentry *ke = kt_at(&e->kt, idx);
        if (!live_value(ke) || !crdt_holds_actor(ke->value, removed))
            continue;
        if (crdt_prune(ke->value, removed, e->actor, keep_until) != ST_OK)
            continue; /* left as it was; the next scan tries again */
        (void)engine_changed(e, idx, ENGINE_EV_CHANGED);
        /* a few keys go out at once; many are left to digest gossip,
         * which batches them, rather than one message per key and peer */
        if (pushed++ < PUSH_MAX)
            antientropy_push_state_all(e, idx, 0);
    }
    e->stats.actors_pruned++;
}

static void drop_markers(engine *e)
{
    uint64_t wall = engine_wall_ms(e);
    for (uint32_t idx = 0; idx < e->kt.nents; idx++) {
        kentry *ke = kt_at(&e->kt, idx);
        if (live_value(ke) && crdt_drop_prune_markers(ke->value, wall))
            (void)engine_changed(e, idx, ENGINE_EV_CHANGED);
    }
    /* Forget actors whose markers are gone everywhere by now, with the
     * per-key delta sequence numbers they left (one per key they wrote,
     * which would otherwise grow with churn too): no delta of theirs can
     * still be in flight. */
    size_t k = 0, nforget = 0;
    uint64_t keep = e->cfg.prune_delay_ms + e->cfg.prune_interval_ms + e->cfg.prune_marker_ttl_ms;
    uint64_t *forget = alloc_array(e->ndead ? e->ndead : 1, sizeof *forget);
    for (size_t i = 0; i < e->ndead; i++) {
        if (e->now_ms - e->dead[i].since_ms < keep)
            e->dead[k++] = e->dead[i];
        else if (forget)
            forget[nforget++] = e->dead[i].actor;
    }
    e->ndead = k;
    if (nforget) {
        qsort(forget, nforget, sizeof *forget, u64_cmp);
        actor_set set = {forget, nforget, NULL};
        for (uint32_t idx = 0; idx < e->kt.nents; idx++) {
            kentry *ke = kt_at(&e->kt, idx);
            if (ke->used && ke->nseqs)
                kt_seq_drop(ke, in_set, &set);
        }
    }
    free(forget);
}

static bool has_quorum(engine *e)
{
    uint32_t up = membership_up_count(e);
    if (up >= e->peak_up || e->now_ms - e->peak_at_ms > e->cfg.prune_marker_ttl_ms) {
        e->peak_up = up;
        e->peak_at_ms = e->now_ms;
    }
    return 2 * up > e->peak_up;
}

void prune_tick(engine *e)
{
    if (e->cfg.prune_disabled)
        return;
    bool quorum = has_quorum(e);
    if (e->now_ms >= e->next_marker_drop_ms) {
        e->next_marker_drop_ms = e->now_ms + e->cfg.prune_interval_ms;
        drop_markers(e);
    }
    if (!is_coordinator(e) || !quorum) {
        while (e->ntasks) /* someone else coordinates (now) */
            drop_task(e, e->ntasks - 1);
        return;
    }
    if (e->now_ms >= e->next_prune_ms) {
        e->next_prune_ms = e->now_ms + e->cfg.prune_interval_ms;
        start_tasks(e);
    }
    for (size_t t = 0; t < e->ntasks;) {
        if (all_acked(e, &e->tasks[t])) {
            perform(e, e->tasks[t].removed);
            drop_task(e, t);
        } else {
            t++;
        }
    }
    if (e->ntasks)
        send_init(e);
}

/* ---- messages ---------------------------------------------------------- */

static int corrupt(void)
{
    return error_set(ST_ECORRUPT, "replicator: malformed prune message");
}

static uint64_t *read_actors(reader *r, uint64_t *n)
{
    *n = reader_varint(r);
    if (!reader_ok(r) || *n > MAX_PRUNE_LIST || *n > reader_left(r) / 8)
        return NULL;
    uint64_t *a = alloc_array(*n ? *n : 1, sizeof *a);
    if (!a)
        return NULL;
    for (uint64_t i = 0; i < *n; i++)
        a[i] = reader_u64(r);
    return a;
}

/* Whether this node knows `actor` as a live member's (its own included).
 * Deadness is the coordinator's call; a member that knows better (it sees
 * that member alive, e.g. the coordinator missed a rejoin) does not ack. A
 * member that never heard of the actor acks: a node that joined after the
 * removal, whose ack only says "you have all I hold of it". */
static bool alive_here(const engine *e, uint64_t actor)
{
    if (find_dead(e, actor) >= 0)
        return false;
    for (size_t i = 0; i < e->nmembers; i++)
        if (e->members[i].actor == actor && e->members[i].state != MEMBER_REMOVED)
            return true;
    return false;
}

/* A member answers the coordinator with what it holds of the actors. */
static int handle_init(engine *e, member *from, reader *r)
{
    uint64_t survivor = reader_u64(r), n;
    uint64_t *actors = read_actors(r, &n);
    if (!actors || !reader_done(r)) {
        free(actors);
        return corrupt();
    }
    int rc = ST_OK;
    bytes body = BYTES_INIT, msg = BYTES_INIT;
    if (e->cfg.prune_disabled || !from || from->state != MEMBER_UP || coordinator(e) != from ||
        survivor != from->actor)
        goto done; /* not the coordinator in this node's view: no ack */
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++)
        if (!alive_here(e, actors[i]))
            actors[k++] = actors[i];
    if (!k)
        goto done;
    qsort(actors, k, sizeof *actors, u64_cmp);
    actor_set s = {actors, k, NULL};
    uint64_t m = 0;
    for (uint32_t idx = 0; idx < e->kt.nents; idx++) {
        const kentry *ke = kt_at(&e->kt, idx);
        if (!live_value(ke) || crdt_each_counter_actor(ke->value, mark_hit, &s) != 1)
            continue;
        rc = engine_put_state_entry(e, &body, idx);
        if (rc)
            goto done;
        m++;
    }
    wire_header(&msg, WIRE_PRUNE, e->incarnation);
    bytes_put_u8(&msg, PRUNE_ACK);
    bytes_put_varint(&msg, k);
    for (uint64_t i = 0; i < k; i++)
        bytes_put_u64(&msg, actors[i]);
    bytes_put_varint(&msg, m);
    bytes_put(&msg, body.data, body.len);
    rc = engine_send(e, WIRE_PRUNE, from->id, from->id_len, &msg);
done:
    bytes_free(&msg);
    bytes_free(&body);
    free(actors);
    return rc;
}

/* The coordinator merges what the member holds, then counts its ack. */
static int handle_ack(engine *e, member *from, reader *r)
{
    uint64_t n;
    uint64_t *actors = read_actors(r, &n);
    if (!actors)
        return corrupt();
    int rc = ST_OK;
    uint64_t m = reader_varint(r);
    if (!reader_ok(r) || m > reader_left(r) / 4) {
        rc = corrupt();
        goto done;
    }
    if (!from)
        goto done;
    for (uint64_t i = 0; i < m; i++) {
        uint32_t idx;
        bool was_tomb;
        rc = engine_read_state_entry(e, r, &idx, &was_tomb);
        if (rc)
            goto done; /* not counted: the coordinator asks again */
    }
    if (!reader_done(r)) {
        rc = corrupt();
        goto done;
    }
    if (!is_coordinator(e))
        goto done;
    for (uint64_t i = 0; i < n; i++) {
        for (size_t t = 0; t < e->ntasks; t++) {
            prune_task *pt = &e->tasks[t];
            if (pt->removed != actors[i])
                continue;
            bool seen = false;
            for (uint32_t k = 0; k < pt->nacked && !seen; k++)
                seen = pt->acked[k] == from->id_hash;
            if (seen || pt->nacked >= MAX_PRUNE_PEERS)
                continue;
            uint64_t *a = realloc_array(pt->acked, (size_t)pt->nacked + 1, sizeof *a);
            if (!a) {
                rc = error_oom();
                goto done;
            }
            pt->acked = a;
            a[pt->nacked++] = from->id_hash;
        }
    }
done:
    free(actors);
    return rc;
}

int prune_handle(engine *e, member *from, const char *from_id, size_t from_len, reader *r)
{
    (void)from_id;
    (void)from_len;
    uint8_t kind = reader_u8(r);
    if (!reader_ok(r))
        return corrupt();
    if (kind == PRUNE_INIT)
        return handle_init(e, from, r);
    if (kind == PRUNE_ACK)
        return handle_ack(e, from, r);
    return corrupt();
}
