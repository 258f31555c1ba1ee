"""examples/python/prometheus_collector.py runs and its scrape carries both
the service's own metric and the node's."""
import runpy

from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT


def test_prometheus_collector_example_serves_ddata_and_app_metrics(capsys):
    mod = runpy.run_path(str(ROOT / "examples" / "python" / "prometheus_collector.py"))
    text = mod["main"]()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    assert fams["app_requests"].samples[0].value == 1
    assert [s.value for s in fams["ddata_keys"].samples] == [1]
    assert "ddata_store_operation_duration_seconds" in fams
    assert capsys.readouterr().out == text
