"""asyncio: consistency-level writes and reads are awaitables resolved from
the event fd, store calls have *_async forms run on the default executor,
and blocking C calls release the GIL."""
import asyncio
import contextlib
import sqlite3
import threading
import time

import pytest

import ddata
from ddata import Consistency, EventKind
from pump import now_ms, pump


async def pump_forever(nodes, now, step=50, cut=()):
    """Ticks the nodes and moves their messages until cancelled, yielding to
    the loop each round. Messages from or to a node in `cut` are dropped."""
    while True:
        now += step
        for n in nodes.values():
            n.tick(now)
        for name, n in nodes.items():
            for to, msg in n.outgoing():
                if to in nodes and name not in cut and to not in cut:
                    nodes[to].deliver(name, msg, now)
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def pumping(nodes, now, cut=()):
    """pump_forever in a task for the length of the block."""
    task = asyncio.create_task(pump_forever(nodes, now, cut=cut))
    try:
        yield
    finally:
        task.cancel()


@pytest.fixture
def trio():
    """Three nodes that have met (a is the seed), a replica each, and the
    time they met at."""
    nodes = {k: ddata.System(k, seeds=["a"], seed=i + 1) for i, k in enumerate("abc")}
    reps = {k: n.replica() for k, n in nodes.items()}
    yield nodes, reps, pump(nodes, now_ms())
    for r in reps.values():
        r.close()
    for n in nodes.values():
        n.close()


def test_awaited_all_write_and_majority_read_resolve_from_the_event_fd(trio):
    nodes, reps, now = trio

    async def main():
        async with pumping(nodes, now):
            done = await reps["a"].counter("k").increment(2, consistency=Consistency.ALL)
            value = await reps["b"].counter("k").read(Consistency.MAJORITY)
            return done, value

    done, value = asyncio.run(asyncio.wait_for(main(), 20))
    assert done is None
    assert value.value == 2


def test_awaited_write_with_a_node_cut_off_raises_timeout(trio):
    nodes, reps, now = trio

    async def main():
        async with pumping(nodes, now, cut=("c",)):
            await reps["a"].counter("k").increment(1, consistency=Consistency.ALL, timeout_ms=500)

    with pytest.raises(ddata.Timeout):
        asyncio.run(asyncio.wait_for(main(), 20))
    assert reps["a"].counter("k").value == 1  # applied locally all the same


def test_events_other_than_the_awaited_request_stay_queued(trio):
    nodes, reps, now = trio
    nodes["a"].drain_events()
    reps["a"].subscribe("k")

    async def main():
        async with pumping(nodes, now):
            req = reps["a"].counter("k").increment(1, consistency=Consistency.MAJORITY)
            other = reps["a"].write("k", ddata.CrdtType.PNCOUNTER, ddata.Op(ddata.OpKind.INCREMENT, amount=1),
                                    Consistency.LOCAL)
            await asyncio.gather(req, asyncio.sleep(0.3))
            return other.request_id

    other = asyncio.run(asyncio.wait_for(main(), 20))
    events = nodes["a"].drain_events()
    assert any(e.kind == EventKind.CHANGED and e.key == b"k" for e in events)
    assert [e.request_id for e in events if e.kind == EventKind.REQUEST_DONE] == [other]


def test_two_requests_awaited_at_once_both_finish(trio):
    nodes, reps, now = trio

    async def main():
        async with pumping(nodes, now):
            return await asyncio.gather(reps["a"].orset("s").add("x", consistency=Consistency.ALL),
                                        reps["a"].orset("s").add("y", consistency=Consistency.MAJORITY))

    assert asyncio.run(asyncio.wait_for(main(), 20)) == [None, None]
    assert reps["a"].orset("s").elements() == [b"x", b"y"]
    assert b"x" in reps["c"].orset("s").elements()  # ALL: every node has it


def test_journal_and_store_async_forms(tmp_path):
    async def main():
        with ddata.Journal("sqlite", tmp_path / "j.db") as j, ddata.StateStore("sqlite", tmp_path / "s.db") as s:
            assert await j.append_async("p", 0, [b"e%d" % i for i in range(1000)]) == 1000
            assert await j.highest_seq_async("p") == 1000
            seqs = [e.seq async for e in j.replay_async("p")]
            assert seqs == list(range(1, 1001))
            assert [p async for p in j.pids_async()] == [b"p"]
            assert await j.persist_async("p", 1000, b"last", b"state", snapshot_every=1) == 1001
            assert (await j.load_snapshot_async("p")).state == b"state"
            assert await s.upsert_async("k", 0, b"v") == 1
            with pytest.raises(ddata.Conflict):
                await s.upsert_async("k", 0, b"again")
            assert (await s.get_async("k")).value == b"v"
            assert [k.key async for k in s.keys_async()] == [b"k"]
            await s.delete_async("k", ddata.ANY_REVISION)
            assert await s.last_async() is None

    asyncio.run(main())


def test_the_event_loop_runs_while_an_append_async_works(tmp_path):
    async def main():
        ticks = 0
        stop = False

        async def ticker():
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        with ddata.Journal("sqlite", tmp_path / "j.db", sync=ddata.Sync.FULL) as j:
            for i in range(4):
                await j.append_async("p", i * 1000, [bytes(4096)] * 1000)
        stop = True
        await t
        return ticks

    assert asyncio.run(main()) > 0


def test_a_blocking_store_call_releases_the_gil(tmp_path):
    # A second connection holds SQLite's write lock; upsert in a thread
    # waits for it (busy_timeout 30 s). The main thread, running Python,
    # commits to release it: possible only if the waiting thread let go of
    # the GIL. Holding it, the thread would time out with Busy first.
    path = tmp_path / "s.db"
    store = ddata.StateStore("sqlite", path, busy_timeout_ms=30000)
    store.upsert("k", 0, b"v0")
    other = sqlite3.connect(path, isolation_level=None, timeout=30)
    other.execute("BEGIN IMMEDIATE")
    result = {}
    started = threading.Event()

    def writer():
        started.set()
        try:
            result["rev"] = store.upsert("k", 1, b"v1")
        except Exception as e:  # reported below
            result["error"] = e

    t = threading.Thread(target=writer)
    t.start()
    started.wait()
    time.sleep(0.2)  # the writer is now waiting inside C for the lock
    assert t.is_alive()
    other.execute("COMMIT")
    other.close()
    t.join()
    assert result == {"rev": 2}
    store.close()


def test_an_events_iterator_and_an_awaited_request_share_the_event_fd(trio):
    nodes, reps, now = trio
    nodes["a"].drain_events()
    reps["a"].subscribe("k")

    async def first_changed():
        async for ev in nodes["a"].events():
            if ev.kind == EventKind.CHANGED:
                return ev.key

    async def main():
        async with pumping(nodes, now):
            watcher = asyncio.create_task(first_changed())
            await asyncio.sleep(0)  # the iterator waits on the fd first
            await reps["b"].counter("k").increment(1, consistency=Consistency.ALL)
            done = await reps["a"].counter("k").increment(1, consistency=Consistency.ALL)
            return done, await watcher

    assert asyncio.run(asyncio.wait_for(main(), 20)) == (None, b"k")
