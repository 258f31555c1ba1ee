"""Handles under explicit close and garbage collection in any order."""
import gc

import pytest

import ddata


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
    rng.shuffle(objs)
    while objs:
        del objs[rng.randrange(len(objs))]
        if rng.random() < 0.05:
            gc.collect()
    gc.collect()
