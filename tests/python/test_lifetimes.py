"""Handles under explicit close and garbage collection in any order."""
import gc

import pytest

import ddata
from conftest import drop_in_random_order


def test_closed_value_raises_misuse_instead_of_crashing():
    c = ddata.GCounter()
    c.close()
    assert c.closed
    with pytest.raises(ddata.Misuse):
        c.increment()
    with pytest.raises(ddata.Misuse):
        c.value
    c.close()  # a second close is harmless


def test_context_manager_closes():
    with ddata.ORSet() as s:
        s.add("a")
    assert s.closed
    with pytest.raises(ddata.Misuse):
        s.add("b")


def test_merge_with_a_closed_value_is_misuse_and_changes_nothing():
    a, b = ddata.ORSet(), ddata.ORSet()
    a.add("x")
    b.close()
    with pytest.raises(ddata.Misuse):
        a.merge(b)
    assert a.elements() == [b"x"]


def test_values_and_deltas_collected_in_random_order(rng):
    objs = []
    for i in range(200):
        s = ddata.ORSet()
        objs.append(s)
        objs.append(s.add(str(i), delta=True))
        objs.append(s.copy())
    drop_in_random_order(objs, rng, 0.05)


@pytest.mark.parametrize("make,use", [
    (lambda: ddata.Keyring(), lambda k: k.add_key(1, bytes(32))),
    (lambda: ddata.StateStore(), lambda s: s.upsert("k", ddata.ANY_REVISION, b"v")),
    (lambda: ddata.Journal(), lambda j: j.append("p", 0, [b"e"])),
    (lambda: ddata.System("n", seeds=["n"]), lambda n: n.tick(1)),
    (lambda: ddata.Owned(1), lambda o: o.tick(1)),
    (lambda: ddata.LWWMap(), lambda m: m.assign("k", "v")),
], ids=["keyring", "state_store", "journal", "system", "owned", "crdt"])
def test_every_handle_kind_raises_misuse_after_close(make, use):
    h = make()
    use(h)
    h.close()
    with pytest.raises(ddata.Misuse) as info:
        use(h)
    assert info.value.message


def test_a_store_keeps_working_after_its_keyring_is_closed():
    ring = ddata.Keyring({1: bytes(range(32))})
    store = ddata.StateStore(keyring=ring)
    ring.close()
    store.upsert("k", ddata.ANY_REVISION, b"sealed")
    assert store["k"] == b"sealed"
    store.close()


def test_a_replica_keeps_its_durable_store_alive():
    store = ddata.StateStore()
    node = ddata.System("n", seeds=["n"])
    rep = node.replica(store=store, durable_keys=["d*"])
    store.close()
    node.close()
    rep.counter("d1").increment(2)
    assert rep.counter("d1").value == 2
    rep.close()
    gc.collect()
