"""The state store as a building block (issue 17.13): a collection of
another framework is a key prefix, and scan, last, purge, batch and flush
keep to one, on every backend and on a Python engine that implements none
of the new members (the library's generic forms run then)."""
import contextlib

import pytest

import ddata
from test_backend_kit import DictEngine

ANY = ddata.ANY_REVISION


@pytest.fixture(params=["memory", "sqlite", "fs", "sealed-sqlite", "sealed-fs", "python-engine"])
def opener(request, tmp_path):
    """A function opening the same store again (for reopen checks)."""
    kind = request.param
    backend = kind.split("-")[-1]
    if kind == "python-engine":
        engine = DictEngine()
        return lambda: ddata.StateStore(engine)
    if kind == "memory":
        kept = ddata.StateStore("memory")  # nothing to reopen: the same store again
        return lambda: contextlib.nullcontext(kept)
    path = None if backend == "memory" else tmp_path / ("s.db" if backend == "sqlite" else "s")
    ring = ddata.Keyring({1: b"\x07" * 32}) if kind.startswith("sealed") else None
    return lambda: ddata.StateStore(backend, path, keyring=ring, sync=ddata.Sync.OFF)


@pytest.fixture
def store(opener):
    with opener() as s:
        yield s


def fill(s, keys):
    for k in keys:
        s.upsert(k, ANY, b"v:" + k)


def keys_of(records):
    return [r.key for r in records]


def test_scan_exclusive_start_and_end_bound(store):
    fill(store, [b"k%d" % i for i in range(1, 10)])
    assert keys_of(store.scan(b"k3", b"k7", start_exclusive=True)) == [b"k4", b"k5", b"k6"]
    assert keys_of(store.scan(b"k3", b"k7", end_inclusive=True, reverse=True, limit=2)) == [b"k7", b"k6"]
    assert keys_of(store.scan(start=b"k8")) == [b"k8", b"k9"]


def test_scan_prefix_bound_with_ff_bytes(store):
    fill(store, [b"a", b"a\xff", b"a\xff\x01", b"a\xff\xff", b"b", b"\xff", b"\xff\xff\x02"])
    assert keys_of(store.scan(prefix=b"a\xff")) == [b"a\xff", b"a\xff\x01", b"a\xff\xff"]
    assert keys_of(store.scan(prefix=b"\xff", reverse=True)) == [b"\xff\xff\x02", b"\xff"]


def test_listing_with_values(store):
    fill(store, [b"c/1", b"c/2", b"d/1"])
    assert list(store.keys(b"c/", values=True)) == [(b"c/1", 1, b"v:c/1"), (b"c/2", 1, b"v:c/2")]
    assert list(store.scan(prefix=b"c/", values=False)) == [(b"c/1", 1), (b"c/2", 1)]


def test_last_and_purge_by_prefix_leave_other_prefixes(store):
    fill(store, [b"a/1", b"a/2", b"ab", b"b/1"])
    assert store.last(b"a/") == (b"a/2", 1, b"v:a/2")
    assert store.last(b"z") is None
    assert store.last().key == b"b/1"
    store.purge(b"a/")
    assert keys_of(store.scan()) == [b"ab", b"b/1"]


def test_batch_all_or_nothing_across_reopen(opener):
    with opener() as s:
        fill(s, [b"a", b"b"])
        refused = (ddata.Unsupported, "neither state_batch") if can_batch(s) is False else (ddata.Conflict, "op 3")
        with pytest.raises(refused[0], match=refused[1]):
            s.batch([("upsert", b"a", 1, b"new"), ("delete", b"b", 1), ("upsert", b"c", 0, b"c"),
                     ("upsert", b"d", 5, b"d")])
    with opener() as s:
        assert s.get(b"a") == (1, b"v:a")
        assert b"b" in s and b"c" not in s and b"d" not in s


def test_batch_applies_and_returns_revisions(store):
    if not can_batch(store):
        pytest.skip("a Python engine without state_begin/state_commit cannot batch")
    fill(store, [b"x", b"y"])
    assert store.batch([("upsert", b"x", 1, b"x2"), ("delete", b"y", ANY), ("upsert", b"z", 0, b"z")]) == [2, 0, 1]
    assert store.get(b"x") == (2, b"x2") and b"y" not in store and store.get(b"z") == (1, b"z")


def can_batch(store):
    try:
        store.batch([("delete", b"probe", ANY)])
        return True
    except ddata.Unsupported:
        return False


def test_batch_checks_arguments_at_the_call(store):
    with pytest.raises(ddata.InvalidArgument, match="batch op 0"):
        store.batch([("replace", b"k", 0, b"v")])
    with pytest.raises(ddata.InvalidArgument, match="takes 3 items"):
        store.batch([("delete", b"k", 1, b"extra")])
    with pytest.raises(ddata.InvalidArgument, match="appears twice"):
        store.batch([("upsert", b"k", ANY, b"1"), ("delete", b"k", ANY)])
    with pytest.raises(ddata.InvalidArgument):
        store.scan(limit=-1)


def test_flush_then_reopen(opener):
    with opener() as s:
        s.upsert(b"f", 0, b"flushed")
        s.flush()
    with opener() as s:
        assert s.get(b"f") == (1, b"flushed")


def test_async_forms(store):
    import asyncio

    async def run():
        await store.upsert_async(b"a/1", 0, b"x")
        await store.upsert_async(b"b", 0, b"y")
        assert [r.key async for r in store.scan_async(prefix=b"a/")] == [b"a/1"]
        assert (await store.last_async(b"a/")).key == b"a/1"
        await store.purge_async(b"a/")
        await store.flush_async()
    asyncio.run(run())
    assert [k.key for k in store.keys()] == [b"b"]
