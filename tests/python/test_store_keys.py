"""Walking a durable state store (keys, range, last, purge) and listing a
journal's persistence ids, through the package, on every backend."""
import pytest

import ddata


@pytest.fixture(params=["memory", "sqlite", "fs", "sealed-sqlite"])
def store(request, tmp_path):
    backend = request.param.split("-")[-1]
    path = None if backend == "memory" else tmp_path / ("s.db" if backend == "sqlite" else "s")
    ring = ddata.Keyring({1: b"\x07" * 32}) if request.param.startswith("sealed") else None
    with ddata.StateStore(backend, path, keyring=ring, sync=ddata.Sync.OFF) as s:
        yield s


def fill(s):
    for key, value in [(b"user/bob", b"b"), (b"user/amy", b"a"), (b"order/1", b"o1"), (b"user/amy", b"a2"),
                       (b"users", b"u")]:
        s.upsert(key, ddata.ANY_REVISION, value)


def test_keys_by_prefix_in_byte_order_with_revisions(store):
    fill(store)
    assert list(store.keys(b"user/")) == [(b"user/amy", 2), (b"user/bob", 1)]
    assert [k.key for k in store.keys()] == [b"order/1", b"user/amy", b"user/bob", b"users"]
    assert list(store.keys("nothing")) == []


def test_range_forward_backward_and_from_a_missing_key(store):
    fill(store)
    assert list(store.range(count=2)) == [(b"order/1", 1, b"o1"), (b"user/amy", 2, b"a2")]
    assert [r.key for r in store.range(b"user/b", 10)] == [b"user/bob", b"users"]
    assert [r.key for r in store.range(count=-2)] == [b"users", b"user/bob"]
    assert [r.value for r in store.range(b"user/b", -5)] == [b"a2", b"o1"]
    assert list(store.range(count=0)) == []


def test_last_and_purge(store):
    assert store.last() is None
    fill(store)
    assert store.last() == ddata.Record(b"users", 1, b"u")
    store.purge()
    assert store.last() is None and list(store.keys()) == [] and store.get(b"user/amy") is None
    assert store.upsert(b"user/amy", 0, b"again") == 1


def test_keys_and_range_match_a_model_across_pages(rng):
    s = ddata.StateStore()
    model = {}
    for _ in range(1500):
        key = "k%d" % rng.randrange(1200)
        if key in model and rng.random() < 0.2:
            s.delete(key, ddata.ANY_REVISION)
            del model[key]
        else:
            s.upsert(key, ddata.ANY_REVISION, key + "!")
            model[key] = model.get(key, 0) + 1
    order = sorted(k.encode() for k in model)
    assert [(k.key, k.revision) for k in s.keys(b"k")] == [(k, model[k.decode()]) for k in order]
    for _ in range(20):
        start = ("k%d" % rng.randrange(1200)).encode()
        count = rng.randrange(-700, 700)
        want = [k for k in order if k >= start][:count] if count >= 0 else \
            [k for k in reversed(order) if k <= start][:-count]
        assert [r.key for r in s.range(start, count)] == want, (start, count)
    s.close()


def test_state_cursor_outlives_its_store_and_misuse_raises():
    s = ddata.StateStore()
    s.upsert("a", ddata.ANY_REVISION, "1")
    s.upsert("b", ddata.ANY_REVISION, "2")
    it = s.keys()
    first = next(it)  # the cursor opens on the first next()
    s.close()
    assert [first] + list(it) == [(b"a", 1), (b"b", 1)]
    with pytest.raises(ddata.Misuse):
        s.purge()
    with pytest.raises(ddata.Misuse):
        list(s.keys())
    with pytest.raises(ddata.Misuse):
        s.last()
    t = ddata.StateStore()
    with pytest.raises(ddata.LimitExceeded):
        list(t.keys(b"x" * 5000))
    t.close()


def test_journal_pids_in_byte_order_after_a_bound():
    j = ddata.Journal()
    for pid in [b"b", b"a", b"c"]:
        j.append(pid, 0, [b"e"])
    assert list(j.pids()) == [b"a", b"b", b"c"]
    assert list(j.pids(b"a", max=1)) == [b"b"]
    j.close()
