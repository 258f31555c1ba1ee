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
        for case in doc.get("cases", []):
            out.append(("%s:%s" % (path.name, case["name"]), path.parent.name, case))
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


RUNNERS = {"crdt": run_crdt}


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
