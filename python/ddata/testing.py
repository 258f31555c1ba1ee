"""Test doubles for applications built on ddata: a simulated cluster of
in-process nodes, a manual clock, a seeded network, in-memory stores.

Use them in your own tests instead of a real cluster::

    from ddata.testing import SimCluster

    with SimCluster(3, seed=7) as sim:          # nodes "n0", "n1", "n2"
        sim.run(2000)                           # they meet
        sim.partition(["n0"], ["n1", "n2"])
        sim.replica("n0").counter("hits").increment(1)
        sim.replica("n1").counter("hits").increment(2)
        sim.run(1000)                           # each side sees its own
        sim.heal()
        sim.run(3000)
        assert sim.values("hits", lambda r, k: r.counter(k).value) == {"n0": 3, "n1": 3, "n2": 3}

Every node is a pump-mode ddata.System with its Replica; nothing runs in
the background. `run(ms)` moves the ManualClock in steps: each step ticks
every node, hands what they send to the SimNetwork, and delivers what is
due. The network decides, with its own random.Random(seed), which messages
are lost (`drop_rate`) and how late the others arrive (`delay_ms`), and
refuses traffic between partitions; the same seed replays the same run
(print `sim.seed` when a test fails).

The clock starts at the wall-clock time (Unix epoch milliseconds, which is
what the pump's `now_ms` means today) and then moves only when told to.
"""
import random
import time

from ._store import Journal, StateStore
from ._system import System

__all__ = ["ManualClock", "SimNetwork", "SimCluster", "memory_store", "memory_journal"]


def memory_store(**options):
    """An in-memory durable state store (for a replica's durable keys, or
    an application's own state)."""
    return StateStore("memory", **options)


def memory_journal(**options):
    """An in-memory journal with snapshots."""
    return Journal("memory", **options)


class ManualClock:
    """Milliseconds that move only when advanced."""

    __slots__ = ("now_ms",)

    def __init__(self, start_ms=None):
        self.now_ms = time.time_ns() // 1_000_000 if start_ms is None else start_ms

    def advance(self, ms):
        """Moves the clock `ms` forward and returns the new time."""
        if ms < 0:
            raise ValueError("a clock does not go back")
        self.now_ms += ms
        return self.now_ms

    def __call__(self):
        """The current time in ms."""
        return self.now_ms


class SimNetwork:
    """Messages in flight between named nodes, with seeded loss and delay,
    and partitions."""

    def __init__(self, seed=None, drop_rate=0.0, delay_ms=(0, 0)):
        self.seed = random.randrange(2**32) if seed is None else seed
        self.random = random.Random(self.seed)
        self.drop_rate = drop_rate
        self.delay_ms = delay_ms
        self._groups = None  # node -> partition index
        self._in_flight = []  # (due_ms, order, from, to, bytes)
        self._order = 0
        self.sent = self.dropped = 0

    def partition(self, *groups):
        """Only nodes within one group talk; a node in no group talks to
        nobody."""
        self._groups = {n: i for i, g in enumerate(groups) for n in g}

    def heal(self):
        """Removes every partition."""
        self._groups = None

    def connected(self, a, b):
        """Whether nodes `a` and `b` can reach each other now."""
        g = self._groups
        return g is None or (a in g and b in g and g[a] == g[b])

    def send(self, now_ms, frm, to, data):
        """Sends `data` from `frm` to `to` at `now_ms`: dropped, or queued
        for delivery after the delay."""
        self.sent += 1
        if not self.connected(frm, to) or (self.drop_rate and self.random.random() < self.drop_rate):
            self.dropped += 1
            return
        lo, hi = self.delay_ms
        self._order += 1
        self._in_flight.append((now_ms + self.random.randint(lo, hi), self._order, frm, to, data))

    def due(self, now_ms):
        """Removes and returns [(from, to, bytes)] due by now, in arrival
        order. A partition made while a message flies drops it too."""
        self._in_flight.sort()
        ready = [m for m in self._in_flight if m[0] <= now_ms]
        self._in_flight = [m for m in self._in_flight if m[0] > now_ms]
        out = []
        for _, _, frm, to, data in ready:
            if self.connected(frm, to):
                out.append((frm, to, data))
            else:
                self.dropped += 1
        return out


class SimCluster:
    """N pump-mode nodes with replicas, one ManualClock and one SimNetwork.

    SimCluster(3) names the nodes "n0".."n2"; pass `names` to choose. Every
    node joins through the first. `replica_options` go to each replica
    (durable_keys get an in-memory store per node, kept across restart()).
    """

    def __init__(self, nodes=3, seed=None, drop_rate=0.0, delay_ms=(0, 0), names=None, clock=None,
                 **replica_options):
        self.names = list(names) if names is not None else ["n%d" % i for i in range(nodes)]
        self.clock = clock if clock is not None else ManualClock()
        self.network = SimNetwork(seed, drop_rate, delay_ms)
        self.replica_options = replica_options
        self.stores = {}
        self.systems, self.replicas = {}, {}
        self._incarnation = {n: 0 for n in self.names}
        for n in self.names:
            self._open(n)

    @property
    def seed(self):
        """The network seed (print it when a test fails)."""
        return self.network.seed

    def _open(self, name):
        self._incarnation[name] += 1
        system = System(name, incarnation=self._incarnation[name], seed=self.seed + self.names.index(name) + 1,
                        seeds=[self.names[0]])
        options = dict(self.replica_options)
        if options.get("durable_keys") and "store" not in options:
            options["store"] = self.stores.setdefault(name, memory_store())
        system.tick(self.clock())
        self.systems[name] = system
        self.replicas[name] = system.replica(**options)

    def system(self, name):
        """The System of node `name`."""
        return self.systems[name]

    def replica(self, name):
        """The Replica of node `name`."""
        return self.replicas[name]

    def partition(self, *groups):
        """Splits the nodes into `groups`; nodes in different groups cannot talk."""
        self.network.partition(*groups)

    def heal(self):
        """Removes every partition."""
        self.network.heal()

    def stop(self, name):
        """Closes a node (a crash: its in-memory store survives)."""
        self.replicas.pop(name).close()
        self.systems.pop(name).close()

    def restart(self, name):
        """Stops the node if running and opens it again (a new
        incarnation, the same store)."""
        if name in self.systems:
            self.stop(name)
        self._open(name)

    def step(self, ms=50):
        """Advances the clock by `ms`, ticks every node and delivers what is due."""
        now = self.clock.advance(ms)
        for name, system in self.systems.items():
            system.tick(now)
            for to, data in system.outgoing():
                self.network.send(now, name, to, data)
        for frm, to, data in self.network.due(now):
            target = self.systems.get(to)
            if target is not None:
                try:
                    target.deliver(frm, data, now)
                except Exception:  # a refused message is lost, as on a real network
                    self.network.dropped += 1

    def run(self, ms, step_ms=50):
        """Advances the clock by `ms`, one step at a time."""
        for _ in range(max(1, ms // step_ms)):
            self.step(step_ms)

    def values(self, key, read):
        """{node: read(replica, key)} over the running nodes."""
        return {n: read(r, key) for n, r in self.replicas.items()}

    def close(self):
        """Closes every node and its store."""
        for n in list(self.systems):
            self.stop(n)
        for s in self.stores.values():
            s.close()
        self.stores.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
