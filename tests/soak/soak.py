#!/usr/bin/env python3
"""Steady-load soak: does a long-lived node's memory stay flat?

Starts NODES `ddata node` processes on loopback (authenticated TCP, each
with its own SQLite store, every key durable), feeds each a steady stream
of increments over its --control stdin, and samples every node's memory
from /proc every SAMPLE seconds. After a warm-up (2 minutes in a full run)
it fits a least-squares line through each node's VmRSS and fails when any
node grows faster than LIMIT_KIB_PER_MIN. RssAnon (heap, stacks) and
RssFile (mapped files: the library, SQLite's WAL index) are fitted and
printed too, so a file mapping's growth is told apart from the heap's.

A slope, not first-against-last, because allocators and SQLite's page
cache move in steps; the fit over 50 samples sees through single steps.
Not part of `make test` (it takes SOAK_SECONDS, 600 by default):
    make soak                 # the full 10 minutes
    make soak SOAK_SECONDS=120  # a shorter run while developing
"""
import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time

LIMIT_KIB_PER_MIN = 64
FIELDS = ("VmRSS", "RssAnon", "RssFile")


def memory_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in FIELDS:
                out[name] = int(rest.split()[0])
    return out


def slope_kib_per_min(points):
    """Least-squares slope of [(seconds, kib)] in KiB per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    num = sum((t - mt) * (v - mv) for t, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return num / den * 60.0 if den else 0.0


class Node:
    def __init__(self, ddata, workdir, index, key_file, seed_addr, gossip_ms, wrap=None):
        self.name = f"soak{index}"
        args = (wrap.split() if wrap else []) + [ddata, "node", "--id", self.name, "--listen", "127.0.0.1:0",
                "--key-file", key_file, "--store", os.path.join(workdir, f"{self.name}.db"),
                "--durable", "soak/*", "--gossip-ms", str(gossip_ms), "--control"]
        if seed_addr:
            args += ["--seed", seed_addr]
        self.log = open(os.path.join(workdir, f"{self.name}.log"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)
        self.lock = threading.Lock()
        self.errors = 0
        self.answered = 0
        for _ in range(50):  # a wrapper may print a few lines first
            ready = self.proc.stdout.readline().split()
            if not ready or ready[0] == "ready":
                break
        if len(ready) != 2 or ready[0] != "ready":
            raise RuntimeError(f"{self.name} did not start (see its log)")
        self.addr = ready[1]

    def ask(self, line):
        with self.lock:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"{self.name} exited (see its log)")
        self.answered += 1
        if answer.startswith("error"):
            self.errors += 1
        return answer.strip()

    def stop(self):
        try:
            self.ask("quit")
        except (RuntimeError, BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def feed(node, rate, keys, rng, stop):
    """`rate` increments a second on random keys, paced by the clock."""
    period = 1.0 / rate
    due = time.monotonic()
    while not stop.is_set():
        node.ask(f"inc soak/k{rng.randrange(keys)} 1")
        due += period
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        elif pause < -1.0:
            due = time.monotonic()  # fell behind a whole second: do not burst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ddata", required=True, help="the ddata executable")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--rate", type=int, default=100, help="increments a second per node")
    ap.add_argument("--keys", type=int, default=500)
    ap.add_argument("--sample", type=int, default=10, help="seconds between samples")
    ap.add_argument("--seed", type=int, default=0, help="key choice; 0 = random")
    ap.add_argument("--wrap-first", default=None,
                    help="run the first node under this command (a heap profiler: "
                         "'heaptrack', 'valgrind --tool=massif'); its RSS is then the wrapper's")
    a = ap.parse_args()
    seed = a.seed or random.randrange(1, 1 << 31)
    warmup = 120 if a.seconds >= 300 else a.seconds // 5
    print(f"soak: {a.nodes} nodes, {a.rate} durable increments/s each, {a.seconds} s, "
          f"warm-up {warmup} s, seed {seed}", file=sys.stderr)
    workdir = tempfile.mkdtemp(prefix="ddata-soak-")
    key_file = os.path.join(workdir, "cluster.key")
    with open(key_file, "w") as f:
        f.write(secrets.token_hex(32))
    os.chmod(key_file, 0o600)
    nodes, feeders, stop = [], [], threading.Event()
    samples = {}
    failed = False
    try:
        first = Node(a.ddata, workdir, 0, key_file, None, 200, a.wrap_first)
        nodes.append(first)
        for i in range(1, a.nodes):
            nodes.append(Node(a.ddata, workdir, i, key_file, first.addr, 200))
        for i, n in enumerate(nodes):
            t = threading.Thread(target=feed, args=(n, a.rate, a.keys, random.Random(seed + i), stop),
                                 daemon=True)
            t.start()
            feeders.append(t)
        start = time.monotonic()
        while True:
            now = time.monotonic() - start
            for n in nodes:
                if n.proc.poll() is not None:
                    raise RuntimeError(f"{n.name} exited with {n.proc.returncode}")
                m = memory_kib(n.proc.pid)
                samples.setdefault(n.name, []).append((now, m))
            line = " ".join(f"{n.name}={samples[n.name][-1][1]['VmRSS']}" for n in nodes)
            print(f"soak: t={now:5.0f}s VmRSS KiB {line}", file=sys.stderr, flush=True)
            if now >= a.seconds:
                break
            time.sleep(max(0.0, a.sample - (time.monotonic() - start - now)))
        stop.set()
        for t in feeders:
            t.join(timeout=5)
        for n in nodes:
            kept = [(t, m) for t, m in samples[n.name] if t >= warmup]
            fit = {f: round(slope_kib_per_min([(t, m[f]) for t, m in kept]), 1) for f in FIELDS}
            ok = fit["VmRSS"] <= LIMIT_KIB_PER_MIN
            failed |= not ok
            print(json.dumps({"node": n.name, "samples": len(kept),
                              "kib_per_min": fit, "limit_kib_per_min": LIMIT_KIB_PER_MIN,
                              "increments": n.answered, "errors": n.errors,
                              "ok": ok}))
            if n.errors:
                failed = True
    finally:
        stop.set()
        for n in nodes:
            n.stop()
    if failed:
        print(f"soak: FAILED (memory grows, or errors); logs and stores kept in {workdir}",
              file=sys.stderr)
        return 1
    subprocess.run(["rm", "-rf", workdir], check=False)
    print("soak: memory flat", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
