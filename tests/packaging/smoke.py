"""Smoke test of an installed ddata-crdt: a counter, a journal append and
replay, and a sealed state store, in the current directory. Run from a
scratch folder outside the checkout (tests/packaging/run.sh)."""
import os

import ddata

counter = ddata.GCounter(actor=1)
counter.increment(3)
counter.increment(4)
assert counter.value == 7, counter.value

with ddata.Journal("sqlite", "events.db") as journal:
    journal.append("order-1", 0, [b"created", b"paid"])
    payloads = [e.payload for e in journal.replay("order-1")]
    assert payloads == [b"created", b"paid"], payloads

ring = ddata.Keyring({1: os.urandom(32)})
with ddata.StateStore("sqlite", "state.db", keyring=ring) as store:
    rev = store.upsert("cart-1", 0, b"TOP-SECRET-STATE")
    got = store.get("cart-1")
    assert got is not None and bytes(got[1] if isinstance(got, tuple) else got.state) == b"TOP-SECRET-STATE", got
with open("state.db", "rb") as f:
    assert b"TOP-SECRET-STATE" not in f.read(), "sealed state was written in clear"
print("python smoke: ok (ddata %s from %s)" % (ddata.version(), os.path.dirname(ddata.__file__)))
