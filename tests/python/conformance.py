#!/usr/bin/env python3
"""The Python conformance runner: tests/conformance/**/*.json through the
ddata package (schema: tests/conformance/SCHEMA.md).

Used two ways: test_conformance.py runs every case as one pytest item (a
case listed in tests/conformance/known_failures_python.txt is a strict
xfail, so a listed case that passes fails the run), and
`python3 tests/python/conformance.py` runs them all and prints
"N passed, N failed" plus the known failures.

Only the package's public API is used, and no vector is special-cased: a
case this runner has no interpreter for (a directory other than crdt/)
raises NotRunnable and must be listed as a known failure.
"""
import base64
import json
import pathlib
import sys

import ddata

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "conformance"
KNOWN = VECTORS / "known_failures_python.txt"

TYPES = {ddata.type_name(t): t for t in ddata.CrdtType}


class NotRunnable(Exception):
    """This runner has no interpreter for the case's kind of vector."""


class CaseFailed(AssertionError):
    pass


def load_cases(root=VECTORS):
    """[(case id, directory name, case)] for every vector file under root."""
    out = []
    for path in sorted(root.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        # Ids as the schemas give them: "sets.json:<name>" for the CRDT
        # vectors, "owned/push.json:<name>" for the owned-state ones.
        prefix = "" if path.parent.name == "crdt" else path.parent.name + "/"
        for case in doc.get("cases", []):
            out.append(("%s%s:%s" % (prefix, path.name, case["name"]), path.parent.name, case))
    return out


def load_known(path=KNOWN):
    if not path.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def byte_string(v):
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, dict) and "$bytes" in v:
        return base64.b64decode(v["$bytes"])
    raise CaseFailed("not a byte string: %r" % (v,))


def make_op(spec):
    kind = ddata.OpKind[spec["kind"].upper()]
    return ddata.Op(
        kind,
        amount=spec.get("amount", 0),
        key=byte_string(spec["key"]) if "key" in spec else None,
        value=byte_string(spec["value"]) if "value" in spec else None,
        value_type=TYPES[spec["value_type"]] if "value_type" in spec else 0,
        nested=make_op(spec["nested"]) if "nested" in spec else None,
    )


def status_of(call):
    """Runs call(); returns ("DD_OK", result) or (status name, None)."""
    try:
        return "DD_OK", call()
    except ddata.Error as e:
        return e.name, None


def run_crdt(case):
    if "decode" in case:
        d = case["decode"]
        limits = ddata.Limits(**d.get("limits", {}))
        status, value = status_of(lambda: ddata.Crdt.decode(bytes.fromhex(d["hex"]), limits=limits,
                                                            now_ms=d.get("now", 0)))
        want = case.get("expect_status", "DD_OK")
        if status != want:
            raise CaseFailed("decode returned %s, expected %s" % (status, want))
        if value is not None:
            value.close()
        return
    ctype = TYPES[case["type"]]
    replicas = [ddata.Crdt.new(ctype, actor=i + 1) for i in range(case["replicas"])]
    try:
        for pos, step in enumerate(case["steps"], 1):
            where = "step %d" % pos
            if "op" in step:
                r = replicas[step["replica"]]
                r.actor = step.get("actor", step["replica"] + 1)
                targets = step.get("delta_to", [])
                status, delta = status_of(lambda: r.apply(make_op(step["op"]), now_ms=step.get("now", 1000 + pos),
                                                          delta=bool(targets)))
                want = step.get("expect_status", "DD_OK")
                if status != want:
                    raise CaseFailed("%s: apply returned %s, expected %s" % (where, status, want))
                if delta is not None:
                    with delta:
                        for t in targets:
                            replicas[t].merge(delta)
            elif "merge" in step:
                m = step["merge"]
                replicas[m["into"]].merge(replicas[m["from"]])
            elif "expect" in step:
                e = step["expect"]
                r = replicas[e["replica"]]
                if "value" in e:
                    got = json.loads(r.value_json())
                    if got != e["value"]:
                        raise CaseFailed("%s: replica %d is %s, expected %s" % (
                            where, e["replica"], json.dumps(got, sort_keys=True), json.dumps(e["value"], sort_keys=True)))
                if "equal_to" in e and r != replicas[e["equal_to"]]:
                    raise CaseFailed("%s: replica %d differs from replica %d" % (where, e["replica"], e["equal_to"]))
                with ddata.Crdt.decode(r.encode()) as back:
                    if back != r:
                        raise CaseFailed("%s: replica %d changed through encode/decode" % (where, e["replica"]))
                with ddata.Crdt.from_json(r.to_json()) as back:
                    if back != r:
                        raise CaseFailed("%s: replica %d changed through to_json/from_json" % (where, e["replica"]))
            else:
                raise CaseFailed("%s: unknown step %r" % (where, sorted(step)))
    finally:
        for r in replicas:
            r.close()


# ---- owned-state vectors (tests/conformance/owned/README.md)

OWNED_TYPE_ENUMS = {"strategy": ddata.OwnedStrategy, "on_mismatch": ddata.OwnedMismatch}


def _owned_type_options(spec):
    opts = {}
    for name, value in spec.items():
        enum_cls = OWNED_TYPE_ENUMS.get(name)
        opts[name] = enum_cls[value.upper()] if enum_cls else value
    return opts


def _urgency(name):
    try:
        return ddata.OwnedUrgency[name.upper()]
    except KeyError:
        return 0x7FFFFFFF  # "anything else is passed as an invalid value"


class OwnedCase:
    def __init__(self, case):
        self.case = case
        self.nodes = {}  # node id -> Owned, in open order
        self.stores = {}  # store name -> StateStore, kept across restarts
        self.last_request = {}

    def close(self):
        for n in self.nodes.values():
            n.close()
        for s in self.stores.values():
            s.close()

    def step(self, s):
        op = s["op"]
        node = self.nodes.get(s.get("node"))
        if op == "open":
            store = None
            if "store" in s:
                store = self.stores.get(s["store"])
                if store is None:
                    store = self.stores[s["store"]] = ddata.StateStore()
            o = ddata.Owned(s["node"], incarnation=s.get("incarnation", 1), store=store)
            self.nodes[s["node"]] = o
            for name, spec in s.get("types", self.case.get("types", {})).items():
                o.register(name, **_owned_type_options(spec))
        elif op == "close":
            self.nodes.pop(s["node"]).close()
        elif op == "mesh":
            for a, na in self.nodes.items():
                for b in self.nodes:
                    if a != b:
                        na.member_up(b, s.get("incarnation", 1))
        elif op == "member_up":
            node.member_up(s["peer"], s.get("incarnation", 1))
        elif op == "member_left":
            node.member_left(s["peer"])
        elif op == "tick":
            node.tick(s["now_ms"])
        elif op == "pump":
            moved = True
            while moved:
                moved = False
                for nid, n in list(self.nodes.items()):
                    for to, msg in n.outgoing():
                        moved = True
                        if to in self.nodes:
                            self.nodes[to].deliver(nid, msg)
        elif op == "drop":
            node.outgoing()
        elif op == "publish":
            gen = node.publish(s["type"], byte_string(s["data"]), full=s.get("full", False),
                               urgency=_urgency(s.get("urgency", "default")), delay_ms=s.get("delay_ms", 0))
            want = s.get("expect", {})
            got = {"incarnation": gen[0], "age": gen[1]}
            for k, v in want.items():
                if got[k] != v:
                    raise CaseFailed("publish gave %s %d, expected %d" % (k, got[k], v))
        elif op == "deliver":
            node.deliver(s["from"], bytes.fromhex(s["hex"]))
        elif op == "read":
            view = node.read(s["type"], s["of"])
            if view is None:
                raise ddata.NotFound(ddata.Status.ENOTFOUND, "DD_ENOTFOUND", "no view")
            for k, v in s.get("expect", {}).items():
                got = getattr(view, k)
                if k == "base":
                    v = byte_string(v)
                elif k == "deltas":
                    v = [byte_string(x) for x in v]
                elif k == "version_mismatch":
                    v = bool(v)
                if got != v:
                    raise CaseFailed("read %s is %r, expected %r" % (k, got, v))
        elif op == "query":
            rid = node.query(s["type"], s["of"], s.get("max_staleness_ms", ddata.ANY_STALENESS))
            self.last_request[s["node"]] = rid
            if "pending" in s and bool(rid) != s["pending"]:
                raise CaseFailed("query pending is %s, expected %s" % (bool(rid), s["pending"]))
        elif op in ("expect_event", "expect_no_event"):
            found = False
            while True:
                ev = node.next_event()
                if ev is None:
                    break
                if self._matches(s, ev):
                    found = True
                    if op == "expect_event":
                        break
            if op == "expect_event" and not found:
                raise CaseFailed("no %s event matching %s" % (s["kind"], s))
            if op == "expect_no_event" and found:
                raise CaseFailed("an unexpected %s event matching %s" % (s["kind"], s))
        elif op == "nodes":
            got = node.nodes()
            if got != s["expect"]:
                raise CaseFailed("nodes are %s, expected %s" % (got, s["expect"]))
        else:
            raise CaseFailed("unknown op %r" % op)

    def _matches(self, s, ev):
        if ev.kind != ddata.OwnedEventKind[s["kind"].upper()]:
            return False
        fields = {"of": ev.node_id, "type": ev.type, "age": ev.age, "incarnation": ev.incarnation,
                  "peer_version": ev.peer_version}
        for k, v in fields.items():
            if k in s and s[k] != v:
                return False
        if ev.kind == ddata.OwnedEventKind.QUERY_DONE:
            if ev.request_id != self.last_request.get(s["node"]):
                return False
            if "status" in s and ddata.status_name(ev.status) != s["status"]:
                return False
        return True


def run_owned(case):
    oc = OwnedCase(case)
    try:
        for pos, s in enumerate(case["steps"], 1):
            status, _ = status_of(lambda: oc.step(s))
            want = s.get("expect_status", "DD_OK")
            if status != want:
                raise CaseFailed("step %d (%s): returned %s, expected %s" % (pos, s["op"], status, want))
    finally:
        oc.close()


# ---- store vectors (tests/conformance/store/README.md)

def _revision(v):
    return ddata.ANY_REVISION if v == "any" else v


def _store_step(store, journal, s):
    """Runs one step; returns what the step's `expect` is compared with."""
    op = s["op"]
    if op == "upsert":
        return store.upsert(byte_string(s["key"]), _revision(s["expected"]), byte_string(s["value"]))
    if op == "get":
        st = store.get(byte_string(s["key"]))
        return None if st is None else {"revision": st.revision, "value": st.value}
    if op == "delete":
        return store.delete(byte_string(s["key"]), _revision(s["expected"]))
    if op == "keys":
        return [[k.key, k.revision] for k in store.keys(byte_string(s.get("prefix", "")))]
    if op == "range":
        return [[r.key, r.revision, r.value] for r in store.range(byte_string(s.get("from", "")), s["count"])]
    if op == "last":
        r = store.last()
        return None if r is None else [r.key, r.revision, r.value]
    if op == "purge":
        return store.purge()
    if op == "append":
        return journal.append(byte_string(s["pid"]), s["expected_seq"], [byte_string(e) for e in s["events"]])
    if op == "pids":
        return list(journal.pids(byte_string(s.get("after", "")), s.get("max", 2**64 - 1)))
    raise CaseFailed("unknown store op %r" % op)


def _store_expected(v):
    """The expect value with every byte string decoded (numbers stay)."""
    if isinstance(v, list):
        return [_store_expected(x) for x in v]
    if isinstance(v, dict) and "$bytes" not in v:
        return {k: _store_expected(x) for k, x in v.items()}
    if isinstance(v, (str, dict)):
        return byte_string(v)
    return v


def run_store(case):
    store, journal = ddata.StateStore(), ddata.Journal()
    try:
        for pos, s in enumerate(case["steps"], 1):
            status, got = status_of(lambda: _store_step(store, journal, s))
            want = s.get("expect_status", "DD_OK")
            if status != want:
                raise CaseFailed("step %d (%s): returned %s, expected %s" % (pos, s["op"], status, want))
            if status == "DD_OK" and "expect" in s and got != _store_expected(s["expect"]):
                raise CaseFailed("step %d (%s): got %r, expected %r" % (pos, s["op"], got, s["expect"]))
    finally:
        store.close()
        journal.close()


RUNNERS = {"crdt": run_crdt, "owned": run_owned, "store": run_store}


def _run_replicator(case):
    from replicator_runner import run_replicator  # imports this module

    run_replicator(case)


RUNNERS["replicator"] = _run_replicator


def run_case(kind, case):
    runner = RUNNERS.get(kind)
    if runner is None:
        raise NotRunnable("the Python runner does not interpret %s/ vectors yet" % kind)
    runner(case)


def main():
    cases = load_cases()
    known = load_known()
    passed = failed = known_failed = 0
    for cid, kind, case in cases:
        try:
            run_case(kind, case)
            ok, why = True, ""
        except Exception as e:  # a case's failure, whatever its form, is reported
            ok, why = False, "%s: %s" % (type(e).__name__, e)
        if cid in known:
            if ok:
                failed += 1
                print("FAIL %s: listed in %s but passes; remove it" % (cid, KNOWN.name))
            else:
                known_failed += 1
        elif ok:
            passed += 1
        else:
            failed += 1
            print("FAIL %s: %s" % (cid, why))
    stale = known - {cid for cid, _, _ in cases}
    for cid in sorted(stale):
        failed += 1
        print("FAIL %s: listed in %s but no such case" % (cid, KNOWN.name))
    print("conformance (python): %d cases, %d known failures" % (len(cases), known_failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
