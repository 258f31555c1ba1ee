/*
 * The engine's metrics in Prometheus text (obs/prom.h): membership by
 * state, traffic by message kind, anti-entropy and request counters, keys
 * and tombstones, and the convergence lag per member. Kept out of
 * engine.h so the engine's interface does not grow a text format; the
 * numbers themselves are the engine's own counters (engine_stats) and its
 * membership table (members_view.h), read once per scrape.
 *
 * Convergence lag (docs/observability.md): for each other member, the
 * seconds since a digest status that member gossiped to this node was
 * equal, bucket for bucket, to this node's own digest at the moment it
 * arrived. It is measured on the receiving side only, from the statuses
 * the protocol already sends; it rises while the member is silent or
 * differs, and drops back to under about one gossip interval (times the
 * cluster size over the fanout) once they agree again. Members never seen
 * to match have no sample.
 */
#ifndef DD_REPLICATOR_ENGINE_METRICS_H
#define DD_REPLICATOR_ENGINE_METRICS_H

#include "replicator/engine.h"
#include "util/bytes.h"

/* Appends the engine's families to `b` (e may be NULL: the families with
 * zero values, so a scrape before a replica is open has the same shape). */
void engine_metrics_write(bytes *b, const engine *e);

#endif
