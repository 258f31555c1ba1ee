"""Shared fixtures for the Python package's tests.

The tests import the installed package (`make test-python` installs it from
./python first), never the source directory, so they see what a user sees.
Randomised tests draw from `seed`: DD_SEED=n replays one, and the seed is
printed on failure.
"""
import os
import pathlib
import random
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_report_header(config):
    import ddata

    return "ddata %s from %s" % (ddata.version(), os.path.dirname(ddata.__file__))


@pytest.fixture
def seed(request):
    value = int(os.environ.get("DD_SEED", "0")) or int(time.time_ns() % 1_000_000_007)
    yield value
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print("replay with DD_SEED=%d" % value)


@pytest.fixture
def rng(seed):
    return random.Random(seed)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def cluster():
    """Two nodes in pump mode, a (the seed) and b, with a replica each:
    ({"a": a, "b": b}, replica of a, replica of b)."""
    import ddata

    a = ddata.System("a", seeds=["a"], seed=1)
    b = ddata.System("b", seeds=["a"], seed=2)
    ra, rb = a.replica(), b.replica()
    yield {"a": a, "b": b}, ra, rb
    for x in (ra, rb, a, b):
        x.close()


def drop_in_random_order(objs, rng, collect_chance):
    """Deletes the references in objs one by one in a random order, with a
    garbage collection now and then and one at the end: handles and the
    objects that depend on them must be freed in any order."""
    import gc

    rng.shuffle(objs)
    while objs:
        del objs[rng.randrange(len(objs))]
        if rng.random() < collect_chance:
            gc.collect()
    gc.collect()


def long_mode():
    return os.environ.get("DD_LONG") == "1"


def cases(n):
    """How many cases a property test runs: n, or 20 n with DD_LONG=1."""
    return n * 20 if long_mode() else n
