"""The Python side of bench/python.sh: calls/s through the ddata package,
printed as bench JSON lines with the C baseline from the same run.

  python_bench.py <baseline executable>
"""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

import ddata

ELEMENTS = 1024


def rate(n, fn):
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def journal_append(use_async, batches=200, batch=100):
    """events/s of Journal.append_async (awaited, on the default executor)
    or of the blocking append, batches of `batch` on a fresh SQLite file."""
    events = [bytes([i]) * 128 for i in range(batch)]
    with tempfile.TemporaryDirectory() as d, ddata.Journal("sqlite", os.path.join(d, "j.db")) as j:
        async def run_async():
            for b in range(batches):
                await j.append_async("p", b * batch, events)

        t0 = time.perf_counter()
        if use_async:
            asyncio.run(run_async())
        else:
            for b in range(batches):
                j.append("p", b * batch, events)
        return batches * batch / (time.perf_counter() - t0)


def main():
    baseline_exe = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    with ddata.System("bench", seeds=["bench"]) as node, node.replica() as rep:
        inc = rep.counter("hits").increment

        def counter(n):
            for _ in range(n):
                inc(1)

        add = rep.orset("cart").add
        elems = [("e%d" % i).encode() for i in range(ELEMENTS)]

        def orset(n):
            for i in range(n):
                add(elems[i % ELEMENTS])

        counter(n // 10)  # warm up
        py = {"counter": rate(n, counter), "orset": rate(n, orset)}
    out = subprocess.run([baseline_exe, str(n)], check=True, capture_output=True, text=True).stdout
    c = {k: float(v) for k, v in (line.split() for line in out.splitlines())}
    for name, key in (("python.counter.increment", "counter"), ("python.orset.add", "orset")):
        print(json.dumps({"name": name, "unit": "calls/s", "value": round(py[key]), "baseline": round(c[key]),
                          "ratio": round(py[key] / c[key], 3)}, separators=(",", ":")))
    journal_append(True)  # warm up
    sync_rate, async_rate = journal_append(False), journal_append(True)
    print(json.dumps({"name": "python.journal.append_async", "unit": "events/s", "value": round(async_rate),
                      "baseline": round(sync_rate), "ratio": round(async_rate / sync_rate, 3)},
                     separators=(",", ":")))


if __name__ == "__main__":
    main()
