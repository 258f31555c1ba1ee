"""Standalone CRDT values through the package: typed methods, deltas,
merge laws, encodings, bytes/str handling and bad input."""
import pytest

import ddata
from conftest import cases
from ddata import CrdtType, Op, OpKind

A, B, C = 11, 22, 33


def test_counter_increments_and_decrements():
    c = ddata.PNCounter(actor=A)
    c.increment(3)
    c.increment()
    c.decrement(2)
    assert c.value == 2 and int(c) == 2


def test_gcounter_has_no_decrement_and_pncounter_rejects_negative_amounts():
    assert not hasattr(ddata.GCounter(), "decrement")
    with pytest.raises(ddata.InvalidArgument):
        ddata.GCounter().increment(-1)
    with pytest.raises(ddata.InvalidArgument):
        ddata.GCounter().increment(2**64)


def test_orset_add_remove_contains_and_iterates_sorted():
    s = ddata.ORSet()
    for e in ("pear", "apple", b"fig"):
        s.add(e)
    s.remove("pear")
    assert s.elements() == [b"apple", b"fig"]
    assert list(s) == [b"apple", b"fig"]
    assert "apple" in s and b"apple" in s and "pear" not in s
    assert len(s) == 2
    s.clear()
    assert len(s) == 0


def test_text_is_utf8_and_bytes_pass_through_unchanged():
    s = ddata.GSet()
    s.add("näh")
    s.add(b"\xff\x00raw")
    assert s.elements() == [b"n\xc3\xa4h", b"\xff\x00raw"]
    with pytest.raises(TypeError):
        s.add(42)


def test_lww_register_get_is_none_until_assigned_and_later_timestamp_wins():
    r = ddata.LWWRegister(actor=A)
    assert r.get() is None
    r.assign("one", now_ms=1000)
    other = ddata.LWWRegister(actor=B)
    other.assign("two", now_ms=2000)
    r.merge(other)
    assert r.get() == b"two"
    other.merge(r)
    assert other == r


def test_mvregister_keeps_concurrent_values():
    a, b = ddata.MVRegister(actor=A), ddata.MVRegister(actor=B)
    a.assign("x")
    b.assign("y")
    a.merge(b)
    assert a.values() == [b"x", b"y"]


def test_flag_enables_once_and_for_all():
    f = ddata.Flag()
    assert not f and f.value is False
    f.enable()
    assert f and f.value is True


def test_maps_read_and_write_their_value_types():
    m = ddata.LWWMap()
    m["k"] = "v"
    assert m["k"] == b"v" and m.get("missing") is None and m.keys() == [b"k"]
    del m["k"]
    assert "k" not in m
    with pytest.raises(KeyError):
        m["k"]
    pm = ddata.PNCounterMap()
    pm.increment("a", 5)
    pm.decrement("a", 2)
    assert pm["a"] == 3 and pm.get("b") == 0
    mm = ddata.ORMultiMap()
    mm.add("k", "1")
    mm.add("k", "2")
    mm.remove("k", "1")
    assert mm["k"] == [b"2"] and mm.get("none") == []
    mm.remove("k")
    assert "k" not in mm


def test_ormap_update_nests_an_op_and_get_returns_a_typed_copy():
    om = ddata.ORMap()
    om.update("hits", CrdtType.PNCOUNTER, Op(OpKind.INCREMENT, amount=4))
    inner = om["hits"]
    assert isinstance(inner, ddata.PNCounter) and inner.value == 4
    inner.increment(10)
    assert om["hits"].value == 4, "get returns a copy"
    assert om.get("nothing") is None


def test_op_that_does_not_fit_the_type_raises_type_mismatch_and_changes_nothing():
    s = ddata.ORSet()
    s.add("a")
    before = s.encode()
    with pytest.raises(ddata.TypeMismatch):
        s.apply(Op(OpKind.INCREMENT, amount=1))
    assert s.encode() == before


def test_delta_merged_elsewhere_equals_applying_there():
    a, b = ddata.ORSet(actor=A), ddata.ORSet(actor=B)
    d1 = a.add("x", delta=True)
    d2 = a.add("y", delta=True)
    b.merge(d1).merge(d2)
    assert b.elements() == a.elements()


def test_merge_is_commutative_associative_and_idempotent(rng):
    for _ in range(cases(20)):
        values = []
        for actor in (A, B, C):
            s = ddata.ORSet(actor=actor)
            for _ in range(rng.randrange(1, 8)):
                e = "e%d" % rng.randrange(10)
                (s.remove if rng.random() < 0.3 else s.add)(e)
            values.append(s)
        x, y, z = values
        xy = x.copy().merge(y)
        yx = y.copy().merge(x)
        assert xy == yx
        assert x.copy().merge(y).merge(z) == x.copy().merge(y.copy().merge(z))
        assert xy.copy().merge(xy) == xy


def test_merge_of_different_types_is_type_mismatch():
    with pytest.raises(ddata.TypeMismatch):
        ddata.ORSet().merge(ddata.GSet())
    with pytest.raises(TypeError):
        ddata.ORSet().merge("nope")


def test_encode_decode_and_json_round_trip_to_the_same_class():
    s = ddata.ORSet()
    s.add("a")
    back = ddata.Crdt.decode(s.encode())
    assert type(back) is ddata.ORSet and back == s and back.digest() == s.digest()
    again = ddata.Crdt.from_json(s.to_json())
    assert again == s
    assert isinstance(s.to_json(), str)
    assert s.value_json() == '{"elements":["a"],"type":"ORSet"}'


def test_garbage_bytes_and_json_raise_corrupt_never_crash(rng):
    good = ddata.ORSet()
    good.add("a")
    enc = bytearray(good.encode())
    for _ in range(cases(200)):
        data = bytearray(enc)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            ddata.Crdt.decode(bytes(data[: rng.randrange(len(data) + 1)]))
        except (ddata.Corrupt, ddata.LimitExceeded):
            pass
    with pytest.raises(ddata.Error):
        ddata.Crdt.from_json("{not json")


def test_decode_respects_limits():
    s = ddata.ORSet()
    for i in range(20):
        s.add(str(i))
    with pytest.raises(ddata.LimitExceeded):
        ddata.Crdt.decode(s.encode(), limits=ddata.Limits(max_elements=5))


def test_crdt_new_with_type_as_data_and_unknown_type():
    v = ddata.Crdt.new(CrdtType.GSET)
    assert isinstance(v, ddata.GSet) and v.type == CrdtType.GSET
    with pytest.raises(ddata.InvalidArgument):
        ddata.Crdt.new(99)
    with pytest.raises(TypeError):
        ddata.Crdt()


def test_type_names_and_causal_delta_flags():
    assert ddata.type_name(CrdtType.ORSET) == "ORSet"
    assert ddata.type_name(99) is None
    assert ddata.needs_causal_delta(CrdtType.ORSET) is True
    assert ddata.needs_causal_delta(CrdtType.GCOUNTER) is False



def test_one_orset_mutated_from_many_threads_stays_whole():
    # The C contract is one call at a time per value; the package's value
    # lock makes sharing safe. Without it this corrupted the value (decode
    # of its encoding: "elements are not strictly ascending") or the heap
    # (a double free in the dot store, seen under ASan) in most runs.
    import sys
    import threading

    threads, per_thread = 8, 2000
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(3):
            s, other = ddata.ORSet(), ddata.ORSet()
            barrier = threading.Barrier(threads)

            def work(t):
                barrier.wait()
                for i in range(per_thread):
                    s.add(b"%d-%d" % (t, i))
                    if i % 3 == 0:
                        s.remove(b"%d-%d" % (t, i - 1))
                    if i % 500 == 0:
                        other.merge(s)
                        s.merge(other)

            ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            removed = sum(1 for i in range(per_thread) if i % 3 == 0 and i > 0)
            assert ddata.Crdt.decode(s.encode()) == s
            assert len(s) == threads * (per_thread - removed)
    finally:
        sys.setswitchinterval(interval)
