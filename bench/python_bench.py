"""The Python side of bench/python.sh: calls/s through the ddata package,
printed as bench JSON lines with the C baseline from the same run.

  python_bench.py <baseline executable>
"""
import json
import subprocess
import sys
import time

import ddata

ELEMENTS = 1024


def rate(n, fn):
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


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


if __name__ == "__main__":
    main()
