/*
 * net_metrics_write (net_metrics.h).
 */
#include <string.h>

#include "net/net_metrics.h"
#include "obs/prom.h"

void net_metrics_write(bytes *b, const net_stats *ns)
{
    net_stats z;
    memset(&z, 0, sizeof(z));
    if (!ns)
        ns = &z;
    prom_gauge(b, "ddata_transport_peers_connected", "Authenticated links open now",
               ns->peers_connected);
    prom_counter(b, "ddata_transport_connections_accepted_total", "Connections accepted",
                 ns->accepted);
    prom_counter(b, "ddata_transport_connections_dialled_total", "Connections dialled",
                 ns->dialled);
    prom_counter(b, "ddata_transport_handshakes_total", "Handshakes completed", ns->handshakes);
    prom_counter(b, "ddata_transport_handshake_failures_total",
                 "Handshakes that failed (bad hello, mode mismatch, wrong secret or key)",
                 ns->handshake_failures);
    prom_counter(b, "ddata_transport_handshake_timeouts_total", "Handshakes that timed out",
                 ns->handshake_timeouts);
    prom_counter(b, "ddata_transport_refused_peers_total",
                 "Peers that proved the secret but whose key or id is not admitted",
                 ns->refused_peers);
    prom_counter(b, "ddata_transport_auth_failures_total",
                 "Frames on an open link that failed authentication", ns->auth_failures);
    prom_counter(b, "ddata_transport_malformed_frames_total", "Malformed frames received",
                 ns->malformed_frames);
    prom_counter(b, "ddata_transport_queue_drops_total",
                 "Frames dropped because a peer's send queue was full", ns->queue_drops);
    prom_counter(b, "ddata_transport_reliable_overflows_total",
                 "Links closed because their reliable queue overflowed", ns->reliable_overflows);
    prom_counter(b, "ddata_transport_frames_received_total", "Data frames received", ns->frames_in);
    prom_counter(b, "ddata_transport_frames_sent_total", "Data frames sent", ns->frames_out);
    prom_counter(b, "ddata_transport_received_bytes_total", "Bytes of data frames received",
                 ns->bytes_in);
    prom_counter(b, "ddata_transport_sent_bytes_total", "Bytes of data frames sent", ns->bytes_out);
}
