"""Node-owned state through the package: publish, views, events, pump."""
import pytest

import ddata


def pump(engines):
    moved = True
    while moved:
        moved = False
        for nid, e in engines.items():
            for to, msg in e.outgoing():
                moved = True
                if to in engines:
                    engines[to].deliver(nid, msg)


def test_owner_publishes_and_readers_see_base_plus_deltas():
    a, b = ddata.Owned(1), ddata.Owned(2)
    engines = {1: a, 2: b}
    for e in engines.values():
        e.register("load", strategy=ddata.OwnedStrategy.ACTIVE_PUSH)
    a.member_up(2)
    b.member_up(1)
    assert a.publish("load", "v1", full=True) == (1, 1)
    assert a.publish("load", b"d2") == (1, 2)
    pump(engines)
    view = b.read("load", 1)
    assert (view.age, view.base_age, view.base, view.deltas) == (2, 1, b"v1", [b"d2"])
    assert b.nodes() == [1]
    kinds = {ev.kind for ev in b.drain_events()}
    assert ddata.OwnedEventKind.VIEW_CHANGED in kinds
    a.close()
    b.close()


def test_unknown_type_and_bad_bytes_are_clear_errors():
    with ddata.Owned(1) as o:
        o.register("load")
        with pytest.raises(ddata.NotFound):
            o.publish("nope", b"x")
        with pytest.raises(TypeError):
            o.register("x", colour="blue")
        assert o.read("load", 9) is None
        o.member_up(2)
        with pytest.raises(ddata.Corrupt):
            o.deliver(2, b"")
        with pytest.raises(ddata.Conflict):
            o.register("load")


def test_restart_with_the_store_keeps_the_instance():
    store = ddata.StateStore()
    with ddata.Owned(1, store=store) as o:
        o.register("load")
        o.publish("load", b"v", full=True)
    with ddata.Owned(1, incarnation=2, store=store) as o:
        o.register("load")
        view = o.read("load", 1)
        assert view.base == b"v" and view.incarnation == 1


def test_closed_engine_is_misuse():
    o = ddata.Owned(1)
    o.close()
    with pytest.raises(ddata.Misuse):
        o.tick(1)


def test_owned_state_rides_the_tcp_transport_of_its_system():
    import time

    secret = bytes(range(ddata.SECRET_BYTES))
    a = ddata.System("a", transport="tcp", listen_address="127.0.0.1:0", secret=secret)
    b = ddata.System("b", transport="tcp", listen_address="127.0.0.1:0", secret=secret,
                     seeds=[a.listen_address])
    ra, rb = a.replica(), b.replica()  # membership comes from the replicas
    oa, ob = ddata.Owned(system=a), ddata.Owned(system=b)
    try:
        for o in (oa, ob):
            o.register("load", strategy=ddata.OwnedStrategy.ACTIVE_PUSH)
        with pytest.raises(ddata.Misuse):
            oa.outgoing()  # the system's driver moves the bytes now
        oa.publish("load", "42", full=True)
        ida = ddata.Owned.node_of("a")
        deadline = time.monotonic() + 10
        view = ob.read("load", ida)  # None until a's view arrives
        while view is None and time.monotonic() < deadline:
            time.sleep(0.02)
            view = ob.read("load", ida)
        assert view is not None and view.base == b"42"
        assert ob.nodes() == [ida]
    finally:
        for x in (oa, ob, ra, rb, a, b):
            x.close()
