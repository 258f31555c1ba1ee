"""What every pump-mode engine (System, Owned) offers on top of its two
ABI calls next_outgoing() and next_event(): draining both queues, and
awaiting events on the eventfd from fileno().

The engines differ only in those calls and in the records they build, so
the loops live here once. A subclass provides closed, next_outgoing(),
next_event() and fileno().
"""
from ._requests import wait_readable


class Pump:
    __slots__ = ()

    def outgoing(self):
        """Drains the outgoing queue: a list of (to_node, message)."""
        return _drain(self.next_outgoing)

    def drain_events(self):
        """Every queued event, oldest first."""
        return _drain(self.next_event)

    def events(self):
        """An async iterator over events: waits on fileno() with the running
        loop's add_reader between batches (one reader per fd, shared with
        awaited Requests). Ends when the engine is closed."""
        return _EventIterator(self)


def _drain(next_item):
    out = []
    while True:
        item = next_item()
        if item is None:
            return out
        out.append(item)


class _EventIterator:
    __slots__ = ("_src",)

    def __init__(self, source):
        self._src = source

    def __aiter__(self):
        return self

    async def __anext__(self):
        while True:
            if self._src.closed:
                raise StopAsyncIteration
            ev = self._src.next_event()
            if ev is not None:
                return ev
            # shared with awaited Requests: asyncio allows one reader per fd
            await wait_readable(self._src.fileno())
