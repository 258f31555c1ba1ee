/*
 * The transport's counters (net_stats) in Prometheus text (obs/prom.h):
 * connections, handshakes and their failures, frames and bytes on the
 * wire, and queue drops. Apart from transport.h so the transport need not
 * know the format.
 */
#ifndef DD_NET_NET_METRICS_H
#define DD_NET_NET_METRICS_H

#include "net/transport.h"
#include "util/bytes.h"

/* ns NULL: the same families with zeros (pump mode has no transport). */
void net_metrics_write(bytes *b, const net_stats *ns);

#endif
