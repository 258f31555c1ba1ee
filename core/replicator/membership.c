/*
 * Membership: who is in the cluster, in which incarnation and state, and
 * whether they are alive.
 *
 * Join: a node sends JOIN to its seeds every gossip interval until it hears
 * a GOSSIP from anyone; the seed answers with its member list, and the
 * joiner learns the node ids it did not know (DESIGN.md: the transport maps
 * ids to addresses). Members are gossiped as (id, incarnation, state,
 * heartbeat) with every GOSSIP message.
 *
 * Ordering: a higher incarnation replaces the member (a restarted node
 * takes over its old self, with a new CRDT actor); within one incarnation
 * the more severe state wins (joining < up < down < removed), so the
 * member states form a join-semilattice and gossip converges on them.
 * Unreachability is each node's own view and is not gossiped; down is the
 * decision, taken after down_after_ms of unreachability and then gossiped.
 * A node that learns that the cluster considers it down or removed refutes
 * by taking a new incarnation, as a restart would.
 *
 * Failure detection is gossip-style heartbeats (van Renesse et al. 1998):
 * each node increments its own counter per gossip interval and the max
 * travels with the member list. The detector keeps the mean interval
 * between counter advances and suspects a member when phi (for an
 * exponential inter-arrival model, phi = 0.434 * elapsed / mean, the
 * phi-accrual idea of Hayashibara et al.) passes the threshold and the
 * silence exceeds a floor that grows with log2 of the cluster size, since
 * a heartbeat needs about that many rounds to spread.
 */
#include <stdlib.h>
#include <string.h>

#include "replicator/engine_internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/status.h"

#define MAX_MEMBERS 4096u
#define MAX_NODE_ID 255u

static int severity(engine_member_state s)
{
    switch (s) {
    case MEMBER_JOINING: return 0;
    case MEMBER_UP: return 1;
    case MEMBER_DOWN: return 2;
    case MEMBER_REMOVED: return 3;
    default: return 1;
    }
}

static engine_member_state visible_state(const member *m)
{
    if (m->state == MEMBER_UP && !m->reachable)
        return MEMBER_UNREACHABLE;
    return m->state;
}

static void log_member(engine *e, const member *m, engine_member_state st)
{
    static const char *const names[] = {
        "", "member.joining", "member.up", "member.unreachable", "member.down", "member.removed"};
    if (st < MEMBER_JOINING || st > MEMBER_REMOVED)
        return;
    char inc[24];
    log_field f[2] = {log_field_u64("incarnation", m->incarnation, inc),
                      {"member", m->id, m->id_len}};
    log_queue_push(&e->logs, st == MEMBER_UNREACHABLE || st == MEMBER_DOWN ? LOG_WARN : LOG_INFO,
                   names[st], e->now_ms, f, 2);
}

static void emit_member(engine *e, const member *m)
{
    log_member(e, m, visible_state(m));
    engine_event ev = {0};
    ev.kind = ENGINE_EV_MEMBER;
    ev.member_id = malloc(m->id_len + 1);
    if (!ev.member_id) {
        e->ev_dropped++;
        return;
    }
    memcpy(ev.member_id, m->id, m->id_len + 1);
    ev.member_incarnation = m->incarnation;
    ev.member_state = visible_state(m);
    engine_emit(e, &ev);
}

/* Every entry of every member list received is looked up, so with a scan
 * one gossip round costs N^2 comparisons per node (N^3 cluster-wide) and
 * a 1,024-node simulation spends most of its time in memcmp. The index
 * keeps lookups O(1); it is rebuilt, at most half full, when it grows and
 * when members are forgotten (rare: removed ones, long after removal). */
static void index_rebuild(engine *e)
{
    size_t cap = 64;
    while (cap < 2 * e->nmembers)
        cap *= 2;
    if (cap != e->member_slots_cap) {
        free(e->member_slots);
        e->member_slots = calloc(cap, sizeof(uint32_t));
        e->member_slots_cap = e->member_slots ? cap : 0;
    } else {
        memset(e->member_slots, 0, cap * sizeof(uint32_t));
    }
    if (!e->member_slots)
        return;
    for (size_t i = 0; i < e->nmembers; i++) {
        size_t at = (size_t)e->members[i].id_hash & (cap - 1);
        while (e->member_slots[at])
            at = (at + 1) & (cap - 1);
        e->member_slots[at] = (uint32_t)i + 1;
    }
}

static member *add_member(engine *e, const char *id, size_t len, uint64_t inc)
{
    if (e->nmembers >= MAX_MEMBERS)
        return NULL;
    if (!array_reserve(&e->members, &e->cap_members, e->nmembers + 1, sizeof(member)))
        return NULL;
    member *m = &e->members[e->nmembers];
    memset(m, 0, sizeof(*m));
    m->id = malloc(len + 1);
    if (!m->id)
        return NULL;
    memcpy(m->id, id, len);
    m->id[len] = 0;
    m->id_len = len;
    m->id_hash = hash_digest(id, len);
    m->incarnation = inc;
    m->actor = engine_actor_of(id, len, inc);
    m->state = MEMBER_UP;
    m->reachable = true;
    m->last_seen_ms = e->now_ms;
    m->mean_interval_ms = (double)e->cfg.gossip_interval_ms;
    m->state_since_ms = e->now_ms;
    e->nmembers++;
    if (e->member_slots && 2 * e->nmembers <= e->member_slots_cap) {
        size_t at = (size_t)m->id_hash & (e->member_slots_cap - 1);
        while (e->member_slots[at])
            at = (at + 1) & (e->member_slots_cap - 1);
        e->member_slots[at] = (uint32_t)e->nmembers;
    } else {
        index_rebuild(e);
    }
    return m;
}

int membership_init(engine *e)
{
    member *self = add_member(e, e->node_id, e->node_id_len, e->incarnation);
    if (!self)
        return error_oom();
    self->state = MEMBER_JOINING;
    return ST_OK;
}

void membership_free(engine *e)
{
    for (size_t i = 0; i < e->nmembers; i++)
        free(e->members[i].id);
    free(e->members);
    e->members = NULL;
    e->nmembers = 0;
    free(e->member_slots);
    e->member_slots = NULL;
    e->member_slots_cap = 0;
}

member *membership_find(engine *e, const char *id, size_t len)
{
    if (e->member_slots) {
        size_t mask = e->member_slots_cap - 1;
        for (size_t at = (size_t)hash_digest(id, len) & mask; e->member_slots[at];
             at = (at + 1) & mask) {
            member *m = &e->members[e->member_slots[at] - 1];
            if (m->id_len == len && memcmp(m->id, id, len) == 0)
                return m;
        }
        return NULL;
    }
    for (size_t i = 0; i < e->nmembers; i++)
        if (e->members[i].id_len == len && memcmp(e->members[i].id, id, len) == 0)
            return &e->members[i];
    return NULL;
}

static void replace_incarnation(engine *e, member *m, uint64_t inc, engine_member_state state)
{
    prune_note_dead(e, m->actor); /* the old incarnation never writes again */
    m->incarnation = inc;
    m->actor = engine_actor_of(m->id, m->id_len, inc);
    if (state == MEMBER_REMOVED)
        prune_note_dead(e, m->actor);
    m->state = state == MEMBER_JOINING ? MEMBER_UP : state;
    m->reachable = true;
    m->heartbeat = 0;
    m->last_seen_ms = e->now_ms;
    m->mean_interval_ms = (double)e->cfg.gossip_interval_ms;
    m->state_since_ms = e->now_ms;
    m->left = false; /* a new incarnation of a member that left rejoins */
    m->leave_acked = false;
    emit_member(e, m);
}

static void mark_joined(engine *e)
{
    if (e->joined)
        return;
    e->joined = true;
    e->members[0].state = MEMBER_UP;
    emit_member(e, &e->members[0]);
}

void membership_start_cluster(engine *e)
{
    /* The first node is up at once and says so, as a node that joins does
     * in mark_joined (issue 17.11: it was missing from its own members). */
    e->members[0].state = MEMBER_UP;
    if (e->joined)
        return;
    e->joined = true;
    emit_member(e, &e->members[0]);
}

member *membership_heard(engine *e, const char *from, size_t from_len, uint64_t incarnation,
                         bool add)
{
    member *m = membership_find(e, from, from_len);
    if (!m) {
        if (!add)
            return NULL;
        m = add_member(e, from, from_len, incarnation);
        if (m)
            emit_member(e, m);
        return m;
    }
    if (incarnation > m->incarnation) {
        replace_incarnation(e, m, incarnation, MEMBER_UP);
        return m;
    }
    if (incarnation == m->incarnation) {
        /* A message straight from the member proves it is alive. */
        m->last_seen_ms = e->now_ms;
        if (!m->reachable && m->state == MEMBER_UP) {
            m->reachable = true;
            emit_member(e, m);
        }
    }
    return m;
}

void membership_put(engine *e, bytes *b)
{
    e->members[0].heartbeat = e->heartbeat;
    bytes_put_varint(b, e->nmembers);
    for (size_t i = 0; i < e->nmembers; i++) {
        const member *m = &e->members[i];
        bytes_put_blob(b, m->id, m->id_len);
        bytes_put_varint(b, m->incarnation);
        bytes_put_u8(b, (uint8_t)m->state);
        bytes_put_varint(b, m->heartbeat);
    }
}

static void refute(engine *e, uint64_t seen_incarnation)
{
    uint64_t inc = seen_incarnation > e->incarnation ? seen_incarnation : e->incarnation;
    prune_note_dead(e, e->actor);
    e->incarnation = inc + 1;
    e->actor = engine_actor_of(e->node_id, e->node_id_len, e->incarnation);
    member *self = &e->members[0];
    self->incarnation = e->incarnation;
    self->actor = e->actor;
    self->state = MEMBER_UP;
    emit_member(e, self);
}

typedef struct wire_member {
    const uint8_t *id;
    size_t len;
    uint64_t inc, hb;
    uint8_t state;
} wire_member;

int membership_read(engine *e, reader *r, member *sender)
{
    (void)sender;
    uint64_t n = reader_varint(r);
    if (!reader_ok(r) || n > MAX_MEMBERS || n > reader_left(r) / 4)
        return error_set(ST_ECORRUPT, "replicator: malformed member list");
    wire_member *ms = alloc_array(n ? n : 1, sizeof(wire_member));
    if (!ms)
        return error_oom();
    for (uint64_t i = 0; i < n; i++) {
        ms[i].id = reader_blob(r, MAX_NODE_ID, &ms[i].len);
        ms[i].inc = reader_varint(r);
        ms[i].state = reader_u8(r);
        ms[i].hb = reader_varint(r);
        if (!reader_ok(r) || !ms[i].len || memchr(ms[i].id, 0, ms[i].len) ||
            ms[i].state < MEMBER_JOINING || ms[i].state > MEMBER_REMOVED ||
            ms[i].state == MEMBER_UNREACHABLE) {
            free(ms);
            return error_set(ST_ECORRUPT, "replicator: malformed member entry");
        }
    }
    mark_joined(e);
    for (uint64_t i = 0; i < n; i++) {
        const char *id = (const char *)ms[i].id;
        engine_member_state st = (engine_member_state)ms[i].state;
        if (ms[i].len == e->node_id_len && memcmp(id, e->node_id, ms[i].len) == 0) {
            if (ms[i].inc > e->incarnation ||
                (ms[i].inc == e->incarnation && severity(st) >= severity(MEMBER_DOWN)))
                refute(e, ms[i].inc);
            continue;
        }
        member *m = membership_find(e, id, ms[i].len);
        if (!m) {
            if (st == MEMBER_REMOVED)
                prune_note_dead(e, engine_actor_of(id, ms[i].len, ms[i].inc));
            if (severity(st) >= severity(MEMBER_DOWN))
                continue; /* nothing to learn about a stranger that left */
            m = add_member(e, id, ms[i].len, ms[i].inc);
            if (!m)
                continue;
            m->heartbeat = ms[i].hb;
            emit_member(e, m);
            continue;
        }
        if (ms[i].inc > m->incarnation) {
            replace_incarnation(e, m, ms[i].inc, st);
            m->heartbeat = ms[i].hb;
            continue;
        }
        if (ms[i].inc < m->incarnation)
            continue;
        if (severity(st) > severity(m->state)) {
            m->state = st;
            m->state_since_ms = e->now_ms;
            if (st == MEMBER_REMOVED)
                prune_note_dead(e, m->actor);
            emit_member(e, m);
        }
        if (ms[i].hb > m->heartbeat) {
            double interval = (double)(e->now_ms - m->last_seen_ms);
            if (interval < 1)
                interval = 1;
            m->mean_interval_ms = 0.8 * m->mean_interval_ms + 0.2 * interval;
            m->heartbeat = ms[i].hb;
            m->last_seen_ms = e->now_ms;
            if (!m->reachable && m->state == MEMBER_UP) {
                m->reachable = true;
                emit_member(e, m);
            }
        }
    }
    free(ms);
    return ST_OK;
}

static uint64_t failure_floor_ms(const engine *e)
{
    uint64_t log2n = 1;
    while ((1ull << log2n) < e->nmembers)
        log2n++;
    uint64_t floor = (4 + 2 * log2n) * e->cfg.gossip_interval_ms;
    return floor > e->cfg.failure_timeout_ms ? floor : e->cfg.failure_timeout_ms;
}

void membership_tick(engine *e)
{
    e->heartbeat++;
    e->members[0].heartbeat = e->heartbeat;
    uint64_t now = e->now_ms;
    bool any_up = false;
    uint64_t floor = failure_floor_ms(e);
    for (size_t i = 1; i < e->nmembers; i++) {
        member *m = &e->members[i];
        if (m->state == MEMBER_UP || m->state == MEMBER_JOINING) {
            uint64_t elapsed = now - m->last_seen_ms;
            double phi =
                0.434 * (double)elapsed / (m->mean_interval_ms > 1 ? m->mean_interval_ms : 1);
            if (m->reachable && elapsed > floor && phi > e->cfg.phi_threshold) {
                m->reachable = false;
                m->unreachable_since_ms = now;
                emit_member(e, m);
            } else if (!m->reachable && now - m->unreachable_since_ms >= e->cfg.down_after_ms) {
                m->state = MEMBER_DOWN;
                m->state_since_ms = now;
                emit_member(e, m);
            }
            if (m->reachable && m->state == MEMBER_UP)
                any_up = true;
        } else if (m->state == MEMBER_DOWN && now - m->state_since_ms >= e->cfg.remove_after_ms) {
            m->state = MEMBER_REMOVED;
            m->state_since_ms = now;
            prune_note_dead(e, m->actor);
            emit_member(e, m);
        }
    }
    /* Forget members removed long ago, so churn does not grow the member
     * list (and every GOSSIP) without bound. By then every node has had
     * remove_after_ms to learn of the removal. */
    size_t before = e->nmembers;
    for (size_t i = 1; i < e->nmembers;) {
        member *m = &e->members[i];
        if (m->state == MEMBER_REMOVED && now - m->state_since_ms >= e->cfg.remove_after_ms) {
            free(m->id);
            e->members[i] = e->members[--e->nmembers];
        } else {
            i++;
        }
    }
    if (e->nmembers != before)
        index_rebuild(e);
    /* Not joined yet, or cut off from everyone: ask the seeds (again). */
    if (!e->joined || !any_up) {
        for (size_t i = 0; i < e->cfg.seed_count; i++) {
            const char *s = e->cfg.seeds[i];
            size_t len = strlen(s);
            if (len == e->node_id_len && memcmp(s, e->node_id, len) == 0)
                continue;
            bytes b = BYTES_INIT;
            wire_header(&b, WIRE_JOIN, e->incarnation);
            (void)engine_send(e, WIRE_JOIN, s, len, &b);
        }
    }
}

size_t membership_up_peers(const engine *e, const member **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 1; i < e->nmembers; i++) {
        const member *m = &e->members[i];
        if (m->state == MEMBER_UP) {
            if (out && n < max)
                out[n] = m;
            n++;
        }
    }
    return n;
}

uint32_t membership_up_count(const engine *e)
{
    /* Unreachable members still count: a majority is of the cluster, not
     * of whoever this node happens to hear right now. */
    uint32_t n = 1;
    for (size_t i = 1; i < e->nmembers; i++)
        if (e->members[i].state == MEMBER_UP)
            n++;
    return n;
}

void membership_mark_removed(engine *e, member *m)
{
    if (m->state == MEMBER_REMOVED)
        return;
    m->state = MEMBER_REMOVED;
    m->state_since_ms = e->now_ms;
    m->reachable = true; /* removed, not suspected: no unreachable detour in the view */
    if (m != &e->members[0])
        prune_note_dead(e, m->actor);
    emit_member(e, m);
}

bool membership_counts_for_tombstones(const member *m)
{
    return m->state != MEMBER_REMOVED;
}

size_t engine_up_peers(const engine *e)
{
    size_t n = 0;
    for (size_t i = 1; i < e->nmembers; i++)
        n += e->members[i].state == MEMBER_UP && e->members[i].reachable;
    return n;
}

int engine_member_state_of(const engine *e, const char *node_id, engine_member_state *state)
{
    size_t len = strlen(node_id);
    for (size_t i = 0; i < e->nmembers; i++) {
        if (e->members[i].id_len == len && memcmp(e->members[i].id, node_id, len) == 0) {
            *state = visible_state(&e->members[i]);
            return ST_OK;
        }
    }
    return error_set(ST_ENOTFOUND, "no member '%s'", node_id);
}
