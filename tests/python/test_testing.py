"""ddata.testing: the simulated cluster, clock, network and stores that
applications use in their own tests."""
import pytest

import ddata
from ddata.testing import ManualClock, SimCluster, SimNetwork, memory_journal, memory_store


def counters(sim, key):
    return sim.values(key, lambda r, k: r.counter(k).value)


def test_a_partition_heals_and_the_cluster_converges():
    with SimCluster(3, seed=11) as sim:
        print("seed", sim.seed)
        sim.run(2000)
        sim.partition(["n0"], ["n1", "n2"])
        sim.replica("n0").counter("hits").increment(1)
        sim.replica("n1").counter("hits").increment(2)
        sim.run(2000)
        split = counters(sim, "hits")
        assert split["n0"] == 1 and split["n1"] == 2 and split["n2"] == 2
        sim.heal()
        sim.run(4000)
        assert counters(sim, "hits") == {"n0": 3, "n1": 3, "n2": 3}


def test_a_lossy_delaying_network_still_converges_and_replays_by_seed():
    def play(seed):
        with SimCluster(3, seed=seed, drop_rate=0.3, delay_ms=(10, 200)) as sim:
            sim.run(3000)
            for i, n in enumerate(sim.names):
                sim.replica(n).orset("s").add("e%d" % i)
            sim.run(8000)
            return sim.values("s", lambda r, k: r.orset(k).elements()), sim.network.dropped

    first, dropped = play(5)
    assert dropped > 0
    assert all(v == [b"e0", b"e1", b"e2"] for v in first.values()), first
    assert play(5) == (first, dropped)  # the same seed, the same run


def test_a_restarted_node_keeps_durable_keys_from_its_memory_store():
    with SimCluster(1, durable_keys=["cart*"]) as sim:
        sim.replica("n0").orset("cart-1").add("apple")
        sim.replica("n0").counter("volatile").increment()
        sim.restart("n0")
        assert sim.replica("n0").orset("cart-1").elements() == [b"apple"]
        assert sim.replica("n0").get("volatile") is None


def test_manual_clock_and_network_parts():
    clock = ManualClock(1000)
    assert clock.advance(5) == 1005 == clock()
    with pytest.raises(ValueError):
        clock.advance(-1)
    net = SimNetwork(seed=1)
    net.partition(["a"], ["b"])
    net.send(0, "a", "b", b"x")
    net.heal()
    net.send(0, "a", "b", b"y")
    assert net.due(0) == [("a", "b", b"y")] and net.dropped == 1
    with memory_store() as s, memory_journal() as j:
        assert s.upsert("k", 0, b"v") == 1
        assert j.append("p", 0, [b"e"]) == 1
