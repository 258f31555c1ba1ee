"""Log records for the host: dd_system_next_log routed into Python's
logging by System.forward_logs, for a node that joins and one that stops."""
import logging
import select

import ddata
from pump import now_ms, pump


def test_logging_receives_a_joining_node_and_a_stopped_one(caplog):
    opts = dict(failure_timeout_ms=1000, down_after_ms=3000)
    a = ddata.System("a", seeds=["a"], seed=1, **opts)
    b = ddata.System("b", seeds=["a"], seed=2, **opts)
    ra, rb = a.replica(), b.replica()
    try:
        now = pump({"a": a, "b": b}, now_ms())
        # The event fd says records are queued, as it does for events.
        assert select.select([a.fileno()], [], [], 0)[0]
        with caplog.at_level(logging.DEBUG, logger="ddata"):
            a.forward_logs()
            joined = [r for r in caplog.records if r.ddata_event == "member.up"
                      and r.ddata_fields["member"] == "b"]
            assert joined and joined[0].levelno == logging.INFO
            assert "member=b" in joined[0].getMessage()
            caplog.clear()
            # b stops: a hears nothing more from it and gives it up.
            pump({"a": a}, now, rounds=40)
            a.forward_logs()
            events = [(r.ddata_event, r.levelname) for r in caplog.records
                      if r.ddata_fields.get("member") == "b"]
            assert ("member.unreachable", "WARNING") in events, events
        assert a.next_log() is None
    finally:
        for x in (ra, rb, a, b):
            x.close()
