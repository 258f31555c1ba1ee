"""Awaiting consistency-level writes and reads (dd_replica_write/read).

The C library reports a finished request as a REQUEST_DONE event on the
system's event queue, whose eventfd is System.fileno(). A Request is the
awaitable form of one request id: awaiting it registers the id with its
System, whose next_event() then routes that REQUEST_DONE to the Request
instead of returning it; every other event stays queued, in order, for the
application (System._backlog holds the ones a waiter read past).

Several waiters (Requests, events() iterators) may wait on one fd at once;
asyncio allows one reader per fd, so they share one future per (loop, fd),
set when the fd turns readable.

Who drives the protocol does not change: in pump mode the application keeps
ticking and delivering (another task), with the TCP transport the driver
thread does. A request that cannot reach its consistency level finishes
with DD_ETIMEOUT after its timeout_ms, raised here as ddata.Timeout.
"""
import asyncio

from ._errors import check

_readable = {}


async def wait_readable(fd):
    """Returns once fd is readable; any number of tasks may wait at once."""
    loop = asyncio.get_running_loop()
    key = (loop, fd)
    fut = _readable.get(key)
    if fut is None or fut.done():
        fut = loop.create_future()
        _readable[key] = fut

        def ready():
            loop.remove_reader(fd)
            if _readable.get(key) is fut:
                del _readable[key]
            if not fut.done():
                fut.set_result(None)

        loop.add_reader(fd, ready)
    await asyncio.shield(fut)


class Request:
    """A write or read replicated to a consistency level, in flight.

    `await request` finishes when its REQUEST_DONE event arrives: a write
    gives None, a read the merged value (a typed Crdt copy, or None when the
    key is absent); a failed request raises (Timeout when the level was not
    reached in time). Await it or watch for its REQUEST_DONE event through
    next_event()/events(), not both."""

    __slots__ = ("request_id", "_replica", "_key", "_is_read")

    def __init__(self, replica, request_id, key, is_read):
        self.request_id = request_id
        self._replica = replica
        self._key = key
        self._is_read = is_read

    def __await__(self):
        return self._wait().__await__()

    def __repr__(self):
        return "<Request %d %s>" % (self.request_id, "read" if self._is_read else "write")

    async def _wait(self):
        system = self._replica._parent
        rid = self.request_id
        system._awaited.setdefault(rid, None)
        try:
            for i, ev in enumerate(system._backlog):  # read past by another waiter
                if ev.request_id == rid and ev.status is not None:
                    del system._backlog[i]
                    system._awaited[rid] = ev.status
                    break
            while system._awaited[rid] is None:
                system._pull()
                if system._awaited[rid] is None:
                    await wait_readable(system.fileno())
            status = system._awaited[rid]
        finally:
            system._awaited.pop(rid, None)
        check(status)
        return self._replica.get(self._key) if self._is_read else None
