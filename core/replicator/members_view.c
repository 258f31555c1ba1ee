/*
 * engine_member_count / engine_member_at (members_view.h): the membership
 * table read in place, without copying ids, because the node shell looks
 * at it every driver tick.
 */
#include "replicator/members_view.h"

#include "replicator/engine_internal.h"
#include "util/status.h"

size_t engine_member_count(const engine *e)
{
    return e ? e->nmembers : 0;
}

int engine_member_at(const engine *e, size_t index, engine_member_info *out)
{
    if (!e || !out || index >= e->nmembers)
        return ST_ENOTFOUND;
    const member *m = &e->members[index];
    out->id = m->id;
    out->id_len = m->id_len;
    out->incarnation = m->incarnation;
    out->state = m->state;
    out->reachable = m->reachable;
    out->is_self = index == 0;
    out->heartbeat = m->heartbeat;
    out->last_seen_ms = m->last_seen_ms;
    out->digest_match_ms = m->digest_match_ms;
    return ST_OK;
}

uint64_t engine_now_ms(const engine *e)
{
    return e ? e->now_ms : 0;
}
