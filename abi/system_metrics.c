/*
 * dd_system_metrics_text: a system's metrics in the Prometheus text
 * exposition format. The handle layer only gathers: the engine, the
 * transport and the store histograms each write their own families
 * (core/replicator/engine_metrics.c, core/net/net_metrics.c,
 * core/obs/store_latency.c). docs/observability.md lists every metric.
 */
#include "system.h"
#include "net/net_metrics.h"
#include "net/transport.h"
#include "obs/prom.h"
#include "obs/store_files.h"
#include "obs/store_latency.h"
#include "replicator/engine_metrics.h"
#include "util/error.h"
#include "util/status.h"

int abi_impl_dd_system_metrics_text(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE_BUF(out, "out");
    SYSTEM_ENTER(s, sys);
    bytes b = BYTES_INIT;
    engine_metrics_write(&b, s->e);
    net_stats ns;
    bool have_net = node_net_stats(s, &ns) == ST_OK;
    net_metrics_write(&b, have_net ? &ns : NULL);
    SYSTEM_LEAVE(s, sys);
    store_latency_write_prom(&b);
    store_files_write_prom(&b);
    int rc = b.failed ? error_oom() : abi_buf_from_bytes(out, &b);
    bytes_free(&b);
    return rc;
}
