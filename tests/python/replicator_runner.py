"""The Python runner of the replicator conformance vectors
(tests/conformance/replicator/README.md): pump-mode ddata.System nodes on
one explicit clock, played through the package's API as the C runner plays
them through the ABI."""
import json
import time

import ddata

from conformance import CaseFailed, TYPES, byte_string, make_op

LEVELS = {"local": ddata.Consistency.LOCAL, "from": ddata.Consistency.FROM, "majority": ddata.Consistency.MAJORITY,
          "majority_plus": ddata.Consistency.MAJORITY_PLUS, "all": ddata.Consistency.ALL}
EVENT_KINDS = {ddata.EventKind.CHANGED: "changed", ddata.EventKind.DELETED: "deleted",
               ddata.EventKind.EXPIRED: "expired", ddata.EventKind.REQUEST_DONE: "request_done",
               ddata.EventKind.OVERFLOW: "overflow"}
REPLICA_OPTIONS = ("gossip_interval_ms", "gossip_fanout", "notify_interval_ms", "tombstone_grace_ms",
                   "expire_after_ms")


class Cluster:
    def __init__(self, case):
        self.case = case
        self.names = list(case["nodes"])
        self.now = time.time_ns() // 1_000_000  # Unix epoch ms, then only as steps say
        self.incarnation = {n: 1 for n in self.names}
        self.stores = {}
        self.systems, self.replicas = {}, {}
        self.held = []
        for n in self.names:
            self.open(n)

    def open(self, name):
        sysopt = self.case.get("system", {})
        system = ddata.System(name, incarnation=self.incarnation[name], seed=self.names.index(name) + 1,
                              seeds=[self.names[0]], **{k: sysopt[k] for k in ("failure_timeout_ms", "down_after_ms")
                                                        if k in sysopt})
        ropt = self.case.get("replica", {})
        kw = {k: ropt[k] for k in REPLICA_OPTIONS if k in ropt}
        if ropt.get("expiry_prefixes"):
            kw["expiry_prefixes"] = ropt["expiry_prefixes"]
        if ropt.get("durable_keys"):
            kw["durable_keys"] = ropt["durable_keys"]
            kw["store"] = self.stores.setdefault(name, ddata.StateStore())
        self.systems[name] = system
        self.replicas[name] = system.replica(**kw)

    def close_node(self, name):
        self.replicas.pop(name).close()
        self.systems.pop(name).close()

    def close(self):
        for n in list(self.systems):
            self.close_node(n)
        for s in self.stores.values():
            s.close()

    def pump(self, cut):
        for _ in range(1000):
            moved = False
            for name in self.names:
                system = self.systems.get(name)
                if system is None:
                    continue
                for to, msg in system.outgoing():
                    moved = True
                    if to in self.systems and name not in cut and to not in cut:
                        try:
                            self.systems[to].deliver(name, msg, self.now)
                        except ddata.Error:
                            pass  # a refused message is the network's loss
            if not moved:
                return
        raise CaseFailed("messages never stopped")

    def run(self, s):
        step, cut = s.get("step_ms", 100), set(s.get("cut", ()))
        t = 0
        while t < s.get("ms", 0):
            t += step
            self.now += step
            for system in self.systems.values():
                system.tick(self.now)
            self.pump(cut)

    def call(self, s):
        op = s["op"]
        if op == "run":
            return self.run(s)
        if op == "release":
            for i in s["order"]:
                frm, to, msg = self.held[i]
                if to in self.systems:
                    try:
                        self.systems[to].deliver(frm, msg, self.now)
                    except ddata.Error:
                        pass
            self.held = []
            return None
        name = s["node"]
        if op == "restart":
            self.close_node(name)
            self.incarnation[name] += 1
            return self.open(name)
        system, rep = self.systems[name], self.replicas[name]
        if op == "hold":
            self.held.extend((name, to, msg) for to, msg in system.outgoing())
            return None
        if op == "expect_events":
            got = [e for e in system.drain_events() if e.kind != ddata.EventKind.MEMBER]
            want = s["events"]
            if len(got) != len(want):
                raise CaseFailed("events %r, expected %r" % ([(EVENT_KINDS.get(e.kind), e.key) for e in got], want))
            for i, (e, w) in enumerate(zip(got, want)):
                if EVENT_KINDS.get(e.kind) != w["kind"] or ("key" in w and e.key != byte_string(w["key"])) or \
                        ("status" in w and ddata.status_name(e.status) != w["status"]):
                    raise CaseFailed("event %d: %s %r status %r, expected %r" % (
                        i, EVENT_KINDS.get(e.kind), e.key, e.status, w))
            return None
        if op == "expect_keys":
            got = list(rep.keys())
            if got != [byte_string(k) for k in s["keys"]]:
                raise CaseFailed("keys %r" % got)
            return None
        key = byte_string(s["key"])
        if op == "expect":
            want = s["value"]
            try:
                v = rep.get(key)
            except ddata.Deleted:
                if want != "$deleted":
                    raise CaseFailed("%s: deleted, expected %r" % (name, want))
                return None
            if want is None or want == "$deleted":
                if v is not None or want == "$deleted":
                    raise CaseFailed("%s: %r, expected %r" % (name, v, want))
                return None
            if v is None:
                raise CaseFailed("%s: absent, expected %r" % (name, want))
            with v:
                got = json.loads(v.value_json())
            if got != want:
                raise CaseFailed("%s: value %r, expected %r" % (name, got, want))
            return None
        if op == "delete":
            return rep.delete(key)
        if op == "subscribe":
            return rep.subscribe(key, prefix=s.get("prefix", False))
        if op == "read":
            return rep.read(key, LEVELS[s["consistency"]], s.get("n", 0), s.get("timeout_ms", 5000))
        if op == "update":
            return rep.update(key, TYPES[s["type"]], make_op(s["apply"]))
        if op == "write":
            return rep.write(key, TYPES[s["type"]], make_op(s["apply"]), LEVELS[s["consistency"]], s.get("n", 0),
                             s.get("timeout_ms", 5000))
        raise CaseFailed("unknown op %r" % op)


def run_replicator(case):
    cluster = Cluster(case)
    try:
        for pos, s in enumerate(case["steps"]):
            try:
                cluster.call(s)
                status = "DD_OK"
            except ddata.Error as e:
                status = e.name
            if status != s.get("expect_status", "DD_OK"):
                raise CaseFailed("step %d (%s): status %s, expected %s" % (pos, s["op"], status,
                                                                             s.get("expect_status", "DD_OK")))
    finally:
        cluster.close()
