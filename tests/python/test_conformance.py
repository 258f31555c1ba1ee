"""Every conformance vector as a pytest item (see conformance.py).

A case listed in tests/conformance/known_failures_python.txt is a strict
xfail: it may fail, and it fails the run when it passes, so the list can
only shrink. pytest's closing line counts the cases run.
"""
import pytest

import conformance

CASES = conformance.load_cases()
KNOWN = conformance.load_known()


def _param(cid, kind, case):
    marks = [pytest.mark.xfail(strict=True, reason="listed in known_failures_python.txt")] if cid in KNOWN else []
    return pytest.param(kind, case, id=cid, marks=marks)


@pytest.mark.parametrize("kind,case", [_param(*c) for c in CASES])
def test_vector(kind, case):
    conformance.run_case(kind, case)


def test_there_are_crdt_vectors_for_every_type():
    covered = {case["type"] for _, kind, case in CASES if kind == "crdt" and "type" in case}
    assert len(CASES) > 0
    missing = [conformance.ddata.type_name(t) for t in conformance.ddata.CrdtType
               if conformance.ddata.type_name(t) not in covered]
    assert not missing, "no conformance scenario for %s" % missing


def test_known_failures_name_existing_cases():
    stale = KNOWN - {cid for cid, _, _ in CASES}
    assert not stale, "known_failures_python.txt lists cases that do not exist: %s" % sorted(stale)
