"""asyncio forms of the store calls: Journal.append_async, replay_async,
StateStore.upsert_async, ... each run the blocking call on the event loop's
default executor (asyncio.to_thread), so SQLite and fsync never stall the
loop. The C calls release the GIL (cffi releases it around every call into
C), so the loop's thread keeps running Python meanwhile.

Reads of many records (replay, by_tag, pids, keys, range) become async
iterators that take the next batch of rows on a thread, the event loop
turning between batches. recover_async runs its callbacks on the worker
thread, one at a time, in order.
"""
import asyncio

BATCH_ROWS = 256


def _take(it, n):
    out = []
    for row in it:
        out.append(row)
        if len(out) == n:
            break
    return out


def blocking_async(name):
    """`name`_async: the blocking method `name` run with asyncio.to_thread."""

    async def method(self, *args, **kwargs):
        return await asyncio.to_thread(getattr(self, name), *args, **kwargs)

    method.__name__ = method.__qualname__ = name + "_async"
    method.__doc__ = "`await`able %s(), run on the event loop's default executor." % name
    return method


def iterator_async(name):
    """`name`_async: an async iterator over the generator method `name`,
    read in batches on the default executor."""

    async def method(self, *args, **kwargs):
        it = getattr(self, name)(*args, **kwargs)  # arguments checked at the call
        try:
            while True:
                rows = await asyncio.to_thread(_take, it, BATCH_ROWS)
                if not rows:
                    return
                for row in rows:
                    yield row
        finally:
            await asyncio.to_thread(it.close)

    method.__name__ = method.__qualname__ = name + "_async"
    method.__doc__ = "%s() as an async iterator, read %d rows at a time on the default executor." % (
        name, BATCH_ROWS)
    return method


def add_async_forms(cls, blocking, iterators):
    for name in blocking:
        setattr(cls, name + "_async", blocking_async(name))
    for name in iterators:
        setattr(cls, name + "_async", iterator_async(name))


__all__ = ["add_async_forms", "BATCH_ROWS"]
