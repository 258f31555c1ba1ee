"""Nodes and replicas in pump mode: typed handles, convergence through the
host's message pump, events via fileno() and async for, lifetimes."""
import asyncio
import select
import time

import pytest

import ddata
from ddata import Consistency, CrdtType, EventKind, Op, OpKind
from conftest import drop_in_random_order
from pump import now_ms, pump


def test_typed_handles_read_what_they_wrote():
    with ddata.System("solo", seeds=["solo"]) as node, node.replica() as rep:
        rep.counter("hits").increment(3)
        rep.counter("hits").decrement()
        assert rep.counter("hits").value == 2
        rep.orset("cart").add("apple")
        rep.orset("cart").add(b"pear")
        rep.orset("cart").remove("pear")
        assert rep.orset("cart").elements() == [b"apple"] and "apple" in rep.orset("cart")
        rep.register("name").assign("ddata")
        assert rep.register("name").value == b"ddata"
        rep.flag("on").enable()
        assert rep.flag("on")
        rep.lwwmap("cfg")["k"] = "v"
        assert rep.lwwmap("cfg")["k"] == b"v"
        rep.pncountermap("votes").increment("x", 4)
        assert rep.pncountermap("votes")["x"] == 4
        rep.ormultimap("tags").add("t", "1")
        assert rep.ormultimap("tags").get("t") == [b"1"]
        rep.ormap("doc").update("n", CrdtType.GCOUNTER, Op(OpKind.INCREMENT, amount=2))
        assert rep.ormap("doc").get("n").value == 2
        assert sorted(rep.keys()) == [b"cart", b"cfg", b"doc", b"hits", b"name", b"on", b"tags", b"votes"]
        assert len(rep) == 8
        assert rep.counter("missing").value == 0 and rep.get("missing") is None


def test_key_of_another_type_is_type_mismatch_and_deleted_key_stays_deleted():
    with ddata.System("solo", seeds=["solo"]) as node, node.replica() as rep:
        rep.orset("k").add("x")
        with pytest.raises(ddata.TypeMismatch):
            rep.counter("k").increment()
        assert rep.orset("k").elements() == [b"x"]
        rep.delete("k")
        assert "k" not in rep
        with pytest.raises(ddata.Deleted):
            rep.orset("k").add("y")


def test_two_nodes_converge_through_the_pump(cluster):
    T0 = now_ms()
    nodes, ra, rb = cluster
    now = pump(nodes, T0)
    ra.counter("hits").increment(3)
    rb.counter("hits").increment(4)
    ra.orset("cart").add("apple")
    rb.orset("cart").add("pear")
    pump(nodes, now)
    for r in (ra, rb):
        assert r.counter("hits").value == 7
        assert r.orset("cart").elements() == [b"apple", b"pear"]


def test_garbage_messages_are_rejected_and_lose_nothing(cluster, rng):
    T0 = now_ms()
    nodes, ra, rb = cluster
    ra.counter("c").increment(5)
    for _ in range(50):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
        try:
            nodes["a"].deliver("b", junk, T0)
        except (ddata.Corrupt, ddata.LimitExceeded, ddata.CryptoError, ddata.InvalidArgument):
            pass
    assert ra.counter("c").value == 5


def test_subscription_events_arrive_and_fd_becomes_readable():
    T0 = now_ms()
    with ddata.System("solo", seeds=["solo"]) as node, node.replica(notify_interval_ms=10) as rep:
        rep.subscribe("k")
        node.tick(T0)
        node.drain_events()
        rep.counter("k").increment()
        node.tick(T0 + 1000)
        r, _, _ = select.select([node.fileno()], [], [], 1.0)
        assert r, "event fd not readable with events queued"
        evs = [e for e in node.drain_events() if e.kind == EventKind.CHANGED]
        assert evs and evs[0].key == b"k"
        assert node.next_event() is None


def test_async_for_yields_events_as_they_are_queued():
    T0 = now_ms()

    async def main():
        node = ddata.System("solo", seeds=["solo"])
        rep = node.replica(notify_interval_ms=10)
        rep.subscribe("k", prefix=True)
        node.tick(T0)
        node.drain_events()

        async def producer():
            await asyncio.sleep(0.01)
            rep.counter("k1").increment()
            node.tick(T0 + 1000)

        task = asyncio.ensure_future(producer())
        got = None
        async for ev in node.events():
            if ev.kind == EventKind.CHANGED:
                got = ev
                break
        await task
        rep.close()
        node.close()
        return got

    ev = asyncio.run(asyncio.wait_for(main(), 10))
    assert ev.key == b"k1"


def test_local_write_request_completes_with_an_event():
    T0 = now_ms()
    with ddata.System("solo", seeds=["solo"]) as node, node.replica() as rep:
        node.tick(T0)
        rid = rep.write("k", CrdtType.GCOUNTER, Op(OpKind.INCREMENT, amount=1), Consistency.LOCAL).request_id
        node.tick(T0 + 10)
        done = [e for e in node.drain_events() if e.kind == EventKind.REQUEST_DONE and e.request_id == rid]
        assert done and done[0].status == 0
        assert rep.counter("k").value == 1


def test_closing_the_system_first_defers_until_the_replica_closes():
    T0 = now_ms()
    node = ddata.System("solo", seeds=["solo"])
    rep = node.replica()
    node.close()
    rep.counter("k").increment()
    assert rep.counter("k").value == 1
    with pytest.raises(ddata.Misuse):
        node.tick(T0)
    rep.close()
    with pytest.raises(ddata.Misuse):
        rep.counter("k").increment()


def test_second_replica_is_busy():
    with ddata.System("solo", seeds=["solo"]) as node, node.replica():
        with pytest.raises(ddata.Busy):
            node.replica()


def test_systems_replicas_and_values_collected_in_random_order(rng):
    objs = []
    for i in range(30):
        node = ddata.System("n%d" % i, seeds=["n%d" % i])
        rep = node.replica()
        rep.counter("c").increment()
        objs += [node, rep, rep.get("c")]
    drop_in_random_order(objs, rng, 0.1)


def test_tcp_transport_converges_two_nodes_on_loopback():
    secret = bytes(range(ddata.SECRET_BYTES))
    a = ddata.System("a", transport="tcp", listen_address="127.0.0.1:0", secret=secret)
    b = ddata.System("b", transport=ddata.Transport.TCP, listen_address="127.0.0.1:0", secret=secret,
                     seeds=[a.listen_address])
    ra, rb = a.replica(), b.replica()
    try:
        ra.counter("x").increment(5)
        deadline = time.monotonic() + 10
        while rb.counter("x").value != 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rb.counter("x").value == 5
        stats = a.stats()
        assert stats["node"] == "a" and isinstance(stats["peers"], list)
    finally:
        for x in (ra, rb, a, b):
            x.close()


def test_transport_calls_in_pump_mode_are_unsupported_and_bad_secret_is_rejected():
    with ddata.System("solo") as node:
        with pytest.raises(ddata.Unsupported):
            node.listen_address
        with pytest.raises(ddata.Unsupported):
            node.connect("127.0.0.1:1")
        assert "engine" in node.stats()
    with pytest.raises(ValueError):
        ddata.System("x", transport="tcp", secret=b"short")


def test_durable_keys_survive_a_restart(tmp_path):
    path = tmp_path / "durable.db"
    with ddata.StateStore("sqlite", path) as store:
        with ddata.System("n", seeds=["n"]) as node, node.replica(store=store, durable_keys=["cart*"]) as rep:
            rep.orset("cart-1").add("apple")
            rep.counter("volatile").increment()
    with ddata.StateStore("sqlite", path) as store:
        with ddata.System("n", seeds=["n"]) as node, node.replica(store=store, durable_keys=["cart*"]) as rep:
            assert rep.orset("cart-1").elements() == [b"apple"]
            assert rep.get("volatile") is None


def test_threads_share_a_replica():
    import threading

    with ddata.System("n", seeds=["n"]) as node, node.replica() as rep:
        def work():
            c = rep.counter("hits")
            for _ in range(5000):
                c.increment()

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rep.counter("hits").value == 20000


def test_majority_write_and_read_complete_through_the_pump(cluster):
    nodes, ra, rb = cluster
    now = pump(nodes, now_ms())
    rid = ra.write("k", CrdtType.GCOUNTER, Op(OpKind.INCREMENT, amount=2), Consistency.ALL,
                   timeout_ms=5000).request_id
    now = pump(nodes, now)
    done = [e for e in nodes["a"].drain_events() if e.kind == EventKind.REQUEST_DONE and e.request_id == rid]
    assert done and ddata.status_name(done[0].status) == "DD_OK"
    rid = rb.read("k", Consistency.MAJORITY).request_id
    pump(nodes, now)
    done = [e for e in nodes["b"].drain_events() if e.kind == EventKind.REQUEST_DONE and e.request_id == rid]
    assert done and done[0].status == 0
    assert rb.gcounter("k").value == 2


# ---- issue 17.1: the host's clock schedules, any origin; the wall clock stamps


def test_pump_cluster_ticking_from_zero_converges():
    nodes = {n: ddata.System(n, seeds=["a"], seed=i + 1) for i, n in enumerate("abc")}
    reps = {n: s.replica() for n, s in nodes.items()}
    for s in nodes.values():
        s.tick(0)
    for r in reps.values():
        r.counter("hits").increment(2)
    pump(nodes, 0, rounds=60, step=100)
    assert [reps[n].counter("hits").value for n in "abc"] == [6, 6, 6]
    for x in list(reps.values()) + list(nodes.values()):
        x.close()


def test_pump_time_going_backwards_raises_invalid_argument():
    with ddata.System("solo", seeds=["solo"]) as node, node.replica():
        node.tick(1000)
        with pytest.raises(ddata.InvalidArgument, match="backwards"):
            node.tick(999)
        with pytest.raises(ddata.InvalidArgument, match="backwards"):
            node.deliver("x", b"\x00", 10)
        node.tick(1000)


def test_tick_without_now_uses_the_monotonic_clock():
    with ddata.System("solo", seeds=["solo"]) as node, node.replica():
        node.tick()
        node.tick(time.monotonic_ns() // 1_000_000 + 10)
        with pytest.raises(ddata.InvalidArgument):
            node.tick(0)


def test_lww_stamps_come_from_the_installed_wall_clock(cluster):
    nodes, ra, rb = cluster
    nodes["a"].set_wall_clock(lambda: 5000)
    nodes["b"].set_wall_clock(lambda: 9000)
    now = pump(nodes, 0, rounds=10)
    rb.register("r").assign("from-b")
    now += 1000
    for n in nodes.values():
        n.tick(now)
    ra.register("r").assign("from-a")  # later on the pump, earlier on the wall
    pump(nodes, now, rounds=10)
    assert ra.register("r").value == rb.register("r").value == b"from-b"
    nodes["a"].set_wall_clock(None)
    with pytest.raises(ddata.InvalidArgument):
        nodes["a"].set_wall_clock(42)


# ---- issue 17.2: one store for a replica, owned state and the application


def test_one_store_serves_a_replica_owned_state_and_the_application(tmp_path):
    path = tmp_path / "shared.db"
    with ddata.StateStore("sqlite", path) as store:
        store.upsert("app/user/1", state=b'{"name": "x"}', expected_revision=ddata.ANY_REVISION)
        with ddata.Owned(node_id=1, store=store) as owned:
            owned.register("load")
            owned.publish("load", b"v1", full=True)
        with ddata.System("n", seeds=["n"]) as node, node.replica(store=store, durable_keys=["*"]) as rep:
            rep.counter("hits").increment(3)
        keys = sorted(k.key for k in store.keys())
        assert keys == [b"app/user/1", b"dd/owned/load", b"dd/replica/hits"]
    with ddata.StateStore("sqlite", path) as store:
        with ddata.System("n", seeds=["n"]) as node, node.replica(store=store, durable_keys=["*"]) as rep:
            assert rep.counter("hits").value == 3
            assert rep.get("app/user/1") is None
        with ddata.System("m", seeds=["m"]) as node, node.replica(store=store, durable_keys=["*"],
                                                                  store_prefix="other/") as rep:
            assert rep.get("hits") is None
        assert store["app/user/1"] == b'{"name": "x"}'


# ---- issue 17.8: missing items are one rule (ABI.md, "Missing items")


def test_missing_and_deleted_read_as_absent_and_deletes_are_idempotent():
    with ddata.System("solo", seeds=["solo"]) as node, node.replica() as rep:
        rep.orset("k").add("x")
        rep.delete("k")
        rep.delete("k")  # deleting a deleted key succeeds
        rep.delete("never")  # and a missing one
        for key in ("k", "never"):
            assert rep.get(key) is None and key not in rep
            assert rep.orset(key).elements() == []  # a typed read: the empty value, no Deleted
        with pytest.raises(ddata.Deleted):
            rep.orset("k").add("y")  # writing a deleted key is the error
    with ddata.StateStore() as s:
        assert s.get("nope") is None
        s.delete("nope", ddata.ANY_REVISION)  # unconditional: succeeds
        with pytest.raises(ddata.Conflict, match="found none"):
            s.delete("nope", expected_revision=3)
    with ddata.Journal() as j:
        assert j.load_snapshot("nope") is None
        j.delete_snapshot("nope", 1)
        assert j.highest_seq("nope") == 0 and list(j.replay("nope")) == []


def _member_states(node, who):
    states = []
    while (ev := node.next_event()) is not None:
        if ev.kind == EventKind.MEMBER and ev.member_id == who:
            states.append(ev.member_state)
    return states


def test_leave_in_pump_mode_removes_the_node_when_the_announcement_is_carried(cluster):
    nodes, ra, rb = cluster
    now = pump(nodes, now_ms())
    assert ddata.MemberState.UP in _member_states(nodes["a"], "b")
    nodes["b"].leave(timeout_ms=60000)  # pump mode: returns at once
    pump(nodes, now, rounds=1)
    assert _member_states(nodes["a"], "b") == [ddata.MemberState.REMOVED]
    with pytest.raises(ddata.Misuse, match="has left"):
        rb.counter("x").increment()
    with pytest.raises(ddata.Misuse):
        nodes["b"].leave()


def test_leave_over_tcp_is_seen_by_the_other_node_without_down():
    secret = bytes(range(ddata.SECRET_BYTES))
    opts = dict(transport="tcp", listen_address="127.0.0.1:0", secret=secret, down_after_ms=60000)
    a = ddata.System("a", **opts)
    b = ddata.System("b", seeds=[a.listen_address], **opts)
    ra, rb = a.replica(gossip_interval_ms=100), b.replica(gossip_interval_ms=100)
    try:
        seen = []
        deadline = time.monotonic() + 10
        while ddata.MemberState.UP not in seen and time.monotonic() < deadline:
            seen += _member_states(a, "b")
            time.sleep(0.02)
        assert ddata.MemberState.UP in seen
        rb.counter("from-b").increment(4)
        b.leave(timeout_ms=5000)
        deadline = time.monotonic() + 5
        while ddata.MemberState.REMOVED not in seen and time.monotonic() < deadline:
            seen += _member_states(a, "b")
            time.sleep(0.02)
        assert seen[-1] == ddata.MemberState.REMOVED
        assert ddata.MemberState.DOWN not in seen and ddata.MemberState.UNREACHABLE not in seen
        assert ra.counter("from-b").value == 4
    finally:
        for x in (ra, rb, a, b):
            x.close()
