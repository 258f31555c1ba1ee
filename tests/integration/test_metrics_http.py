#!/usr/bin/env python3
"""`ddata node --metrics`: real node processes on loopback serving GET
/metrics, read by the Prometheus project's own parser (prometheus_client)
and by promtool when Debian's prometheus package is installed.

Needs prometheus_client (tools/dist/requirements-test.txt, in build/venv);
exits 77 (skipped) without it. Uses the Node and Cluster helpers of
test_cluster.py.

Run one test: DDATA_BIN=build/ddata build/venv/bin/python tests/integration/test_metrics_http.py NAME
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cluster as tc  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None


def metrics_address(node):
    with open(os.path.join(node.tmp, node.name + ".log"), "rb") as f:
        m = re.search(rb"metrics on http://([0-9.:]+)/metrics", f.read())
    assert m, "%s did not report its metrics address" % node.name
    return m.group(1).decode()


def scrape(node):
    url = "http://%s/metrics" % node.metrics
    with urllib.request.urlopen(url, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def lag(node, member):
    """The convergence-lag sample for `member` on `node` (None: none yet)."""
    for fam in text_string_to_metric_families(scrape(node)):
        if fam.name == "ddata_member_convergence_lag_seconds":
            for s in fam.samples:
                if s.labels.get("member") == member:
                    return s.value
    return None


def start(c, count):
    nodes = []
    for i in range(1, count + 1):
        seeds = [nodes[0].addr] if nodes else []
        n = c.add("n%d" % i, seeds=seeds, extra=["--metrics", "127.0.0.1:0"])
        n.metrics = metrics_address(n)
        nodes.append(n)
    tc.wait_up(nodes)
    return nodes


def test_metrics_endpoint_parses_with_prometheus_client_and_promtool():
    with tc.Cluster() as c:
        nodes = start(c, 2)
        nodes[0].ok("inc hits 3")
        tc.wait_until("n2 has hits", tc.agree(nodes, "hits", 3), 10)
        text = scrape(nodes[0])
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        helped = {l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")}
        typed = {l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")}
        assert helped == typed and len(helped) == len(fams)
        up = [s.value for s in fams["ddata_members"].samples if s.labels["state"] == "up"]
        assert up == [2], up
        handshakes = fams["ddata_transport_handshakes"].samples[0].value
        assert handshakes >= 1, handshakes
        if shutil.which("promtool"):
            out = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                                 capture_output=True)
            assert out.returncode == 0, out.stdout + out.stderr
        with urllib.request.urlopen("http://%s/metrics" % nodes[1].metrics, timeout=5) as r:
            assert r.status == 200
        try:
            urllib.request.urlopen("http://%s/other" % nodes[0].metrics, timeout=5)
            raise AssertionError("/other answered")
        except urllib.error.HTTPError as e:
            assert e.code == 404


def test_convergence_lag_rises_while_a_node_is_stopped_and_falls_after_heal():
    with tc.Cluster() as c:
        n1, n2, n3 = start(c, 3)
        for n in (n1, n2):
            tc.wait_until("%s has a lag sample for n3 under 1 s" % n.name,
                          lambda n=n: True if (lag(n, "n3") or 99) < 1 else lag(n, "n3"), 15)
        n3.signal(signal.SIGSTOP)
        try:
            n1.ok("inc during 1")  # n3 cannot have this: the digests differ too
            time.sleep(2.5 * tc.SLOW)
            first = {n: lag(n, "n3") for n in (n1, n2)}
            time.sleep(1.0)
            second = {n: lag(n, "n3") for n in (n1, n2)}
            for n in (n1, n2):
                assert first[n] is not None and first[n] >= 2.0, (n.name, first[n])
                assert second[n] > first[n], (n.name, first[n], second[n])
        finally:
            n3.signal(signal.SIGCONT)
        for n in (n1, n2):
            tc.wait_until("%s's lag for n3 falls under 1 s after heal" % n.name,
                          lambda n=n: True if (lag(n, "n3") or 99) < 1 else lag(n, "n3"), 20)
        tc.wait_until("n3 has the update", tc.agree([n3], "during", 1), 10)


def log_records(node):
    import json
    with open(os.path.join(node.tmp, node.name + ".log"), "rb") as f:
        return [json.loads(l) for l in f.read().decode().splitlines() if l.startswith("{")]


def test_log_format_json_prints_membership_records_one_per_line():
    with tc.Cluster() as c:
        n1 = c.add("n1", extra=["--log-format", "json"])
        n2 = c.add("n2", seeds=[n1.addr])
        n3 = c.add("n3", seeds=[n1.addr], extra=["--log-format", "text"])
        tc.wait_up([n1, n2, n3])
        seen = lambda ev: any(r["event"] == ev and r["fields"].get("member") == "n2"
                              and r["node"] == "n1" for r in log_records(n1))
        tc.wait_until("n1 logs member.up for n2", lambda: seen("member.up") or log_records(n1), 10)
        n2.kill()
        tc.wait_until("n1 logs member.unreachable for n2",
                      lambda: seen("member.unreachable") or log_records(n1), 15)
        rec = next(r for r in log_records(n1) if r["event"] == "member.unreachable")
        assert rec["level"] == "warn" and isinstance(rec["time_ms"], int), rec
        with open(os.path.join(n3.tmp, "n3.log"), "rb") as f:
            text = f.read().decode()
        assert re.search(r"^\[n3\] info member\.up incarnation=\d+ member=n1$", text, re.M), text


def test_top_under_tmux_shows_three_members_up():
    if not shutil.which("tmux"):
        print("  (tmux missing: skipped)")
        return
    with tc.Cluster() as c:
        n1, _, _ = start(c, 3)
        session = "ddtop%d" % os.getpid()
        sock = os.path.join(c.tmp, "tmux.sock")
        tmux = ["tmux", "-S", sock]
        subprocess.run(tmux + ["new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                               "%s top %s" % (tc.BIN, n1.metrics)], check=True)
        try:
            def screen():
                out = subprocess.run(tmux + ["capture-pane", "-p", "-t", session],
                                     capture_output=True, text=True)
                return out.stdout

            def three_up():
                text = screen()
                rows = [l for l in text.splitlines() if re.match(r"^n[123]\s+up\s", l)]
                return True if len(rows) == 3 and "(3 members)" in text else text
            tc.wait_until("top shows n1, n2, n3 up", three_up, 15)
            # A second refresh has rates: "msg/s" appears once two scrapes exist.
            tc.wait_until("top shows rates", lambda: True if "msg/s" in screen() else screen(), 10)
            subprocess.run(tmux + ["send-keys", "-t", session, "C-c"], check=True)
            tc.wait_until("top exits on Ctrl-C",
                          lambda: subprocess.run(tmux + ["has-session", "-t", session],
                                                 capture_output=True).returncode != 0, 10)
        finally:
            subprocess.run(tmux + ["kill-server"], capture_output=True)


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def main():
    if text_string_to_metric_families is None:
        print("skipped: prometheus_client is not installed (make venv)")
        return 77
    if not os.access(tc.BIN, os.X_OK):
        print("skipped: DDATA_BIN=%s is not an executable" % tc.BIN)
        return 77
    return tc.run_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
