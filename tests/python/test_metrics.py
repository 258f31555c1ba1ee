"""dd_system_metrics_text read by the Prometheus project's own parser
(prometheus_client) and promtool: every family has HELP and TYPE, and the
numbers follow what the cluster did."""
import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

import ddata
from ddata import Consistency, CrdtType, Op, OpKind
from pump import now_ms, pump


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(fams, family, name=None, **labels):
    for s in fams[family].samples:
        if (name is None or s.name == name) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError((family, labels))


def test_metrics_text_has_help_and_type_for_every_family(cluster):
    nodes, ra, rb = cluster
    ra.counter("hits").increment(2)
    pump(nodes, now_ms())
    text = nodes["a"].metrics_text()
    helped = {l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")}
    typed = {l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")}
    fams = families(text)
    assert fams and helped == typed
    for f in fams.values():
        # prometheus_client strips _total from counter family names.
        assert f.name in helped or f.name + "_total" in helped, f.name
        assert f.documentation


def test_metrics_follow_the_cluster(cluster):
    nodes, ra, rb = cluster
    now = pump(nodes, now_ms())  # joined first, so the updates travel as deltas
    ra.counter("hits").increment(2)
    rb.orset("cart").add("apple")
    pump(nodes, now, rounds=40)
    fams = families(nodes["a"].metrics_text())
    assert sample(fams, "ddata_members", state="up") == 2
    assert sample(fams, "ddata_keys") == 2
    assert sample(fams, "ddata_messages_sent", kind="gossip") > 0
    assert sample(fams, "ddata_messages_received", kind="delta") > 0
    assert sample(fams, "ddata_messages_received_bytes", kind="delta") > 0
    assert sample(fams, "ddata_digest_rounds") > 0
    # The digests agreed at some point, so b has a convergence-lag sample.
    assert sample(fams, "ddata_member_convergence_lag_seconds", member="b") >= 0
    # Pump mode: the transport families are there, with zeros.
    assert sample(fams, "ddata_transport_handshake_failures") == 0


def test_metrics_count_pending_requests_and_timeouts(cluster):
    nodes, ra, rb = cluster
    now = pump(nodes, now_ms())
    ra.write("k", CrdtType.GCOUNTER, Op(OpKind.INCREMENT, amount=1), Consistency.ALL, timeout_ms=500)
    fams = families(nodes["a"].metrics_text())
    assert sample(fams, "ddata_consistency_requests_pending") == 1
    assert sample(fams, "ddata_consistency_request_timeouts") == 0
    nodes["a"].tick(now + 1000)  # b never hears of it: the request times out
    fams = families(nodes["a"].metrics_text())
    assert sample(fams, "ddata_consistency_requests_pending") == 0
    assert sample(fams, "ddata_consistency_request_timeouts") == 1


def test_store_latency_histograms_count_journal_appends(tmp_path, cluster):
    nodes, _, _ = cluster
    before = families(nodes["a"].metrics_text())
    n0 = sample(before, "ddata_store_operation_duration_seconds",
                "ddata_store_operation_duration_seconds_count", op="append")
    with ddata.Journal("sqlite", str(tmp_path / "j.db")) as j:
        for i in range(5):
            j.append("p", i, [b"e%d" % i])
        assert len(list(j.replay("p"))) == 5
    after = families(nodes["a"].metrics_text())
    assert sample(after, "ddata_store_operation_duration_seconds",
                  "ddata_store_operation_duration_seconds_count", op="append") == n0 + 5
    inf = sample(after, "ddata_store_operation_duration_seconds",
                 "ddata_store_operation_duration_seconds_bucket", op="append", le="+Inf")
    assert inf == n0 + 5
    assert sample(after, "ddata_store_operation_duration_seconds",
                  "ddata_store_operation_duration_seconds_count", op="replay") >= 1


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian's prometheus) not installed")
def test_metrics_pass_promtool_check(cluster):
    nodes, ra, _ = cluster
    ra.counter("hits").increment(1)
    pump(nodes, now_ms())
    out = subprocess.run(["promtool", "check", "metrics"], input=nodes["a"].metrics_text().encode(),
                         capture_output=True)
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()


def test_wal_size_of_each_open_sqlite_store_is_a_gauge(tmp_path):
    """#22: the WAL size an operator watches (13.12), per open SQLite file;
    a closed store leaves the list."""
    path = tmp_path / "events.db"
    with ddata.System("wal") as node:
        with ddata.Journal("sqlite", path) as j:
            for i in range(50):
                j.append("p", i, [b"x" * 512])
            fams = families(node.metrics_text())
            assert fams["ddata_store_wal_bytes"].type == "gauge"
            wal = (tmp_path / "events.db-wal").stat().st_size
            assert wal > 0
            assert sample(fams, "ddata_store_wal_bytes", path=str(path)) == wal
        fams = families(node.metrics_text())
        with pytest.raises(KeyError):
            sample(fams, "ddata_store_wal_bytes", path=str(path))
