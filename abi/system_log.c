/*
 * dd_system_next_log: the log records of a system (core/obs/log_queue.h),
 * drained by the host like events and signalled by the same event fd. The
 * engine queues membership, NACK, full-state and store records; the
 * system queues the transport's and the slow-fsync ones.
 */
#include "system.h"
#include "obs/store_latency.h"
#include "util/error.h"
#include "util/status.h"

int abi_impl_dd_system_next_log(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE_BUF(out, "out");
    SYSTEM_ENTER(s, sys);
    s->logs_wanted = true; /* from now on log records wake the event fd too */
    bytes b = BYTES_INIT;
    int rc = s->e ? engine_next_log(s->e, &b) : ST_EDONE;
    if (rc == ST_EDONE)
        rc = log_queue_pop(&s->logs, &b, node_now(s));
    SYSTEM_LEAVE(s, sys);
    if (rc == ST_OK)
        rc = abi_buf_from_bytes(out, &b);
    else if (rc == ST_ENOMEM)
        rc = error_oom();
    bytes_free(&b);
    return rc;
}
