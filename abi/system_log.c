/*
 * dd_system_next_log: the log records of a system (core/obs/log_queue.h),
 * drained by the host like events and signalled by the same event fd. The
 * engine queues membership, NACK, full-state and store records; the
 * system queues the transport's and the slow-fsync ones.
 */
#include "abi.h"
#include "handle.h"
#include "obs/store_latency.h"
#include "system_internal.h"
#include "util/error.h"
#include "util/status.h"

size_t system_log_count(const sysobj *s)
{
    return log_queue_count(&s->logs) + (s->e ? engine_log_count(s->e) : 0);
}

void system_log_slow_fsyncs(sysobj *s)
{
    uint64_t slow = store_latency_slow_fsyncs();
    if (slow <= s->slow_fsyncs_seen)
        return;
    char n[24], ms[24];
    log_field f[2] = {log_field_u64("count", slow - s->slow_fsyncs_seen, n),
                      log_field_u64("threshold_ms", STORE_SLOW_FSYNC_NS / 1000000u, ms)};
    log_queue_push(&s->logs, LOG_WARN, "store.slow_fsync", system_now(s), f, 2);
    s->slow_fsyncs_seen = slow;
}

int abi_impl_dd_system_next_log(dd_buf *out, dd_system *sys)
{
    ABI_REQUIRE(out, "out");
    out->data = NULL;
    out->len = 0;
    sysobj *s = handle_acquire(sys, HK_SYSTEM, "system");
    if (!s)
        return DD_EMISUSE;
    system_lock(s);
    bytes b = BYTES_INIT;
    int rc = s->e ? engine_next_log(s->e, &b) : ST_EDONE;
    if (rc == ST_EDONE)
        rc = log_queue_pop(&s->logs, &b, system_now(s));
    system_unlock(s);
    handle_release(sys);
    if (rc == ST_OK)
        rc = abi_buf_from_bytes(out, &b);
    else if (rc == ST_ENOMEM)
        rc = error_oom();
    bytes_free(&b);
    return rc;
}
