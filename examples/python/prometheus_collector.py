"""A Python service exposing a ddata node's metrics through prometheus_client.

ddata writes its metrics in the Prometheus text format
(System.metrics_text); a custom collector hands them to prometheus_client's
registry at every scrape, next to the service's own metrics, so one
/metrics endpoint (start_http_server, or any WSGI/ASGI app) serves both.

Run: python examples/python/prometheus_collector.py   (prints one scrape)
"""
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import ddata


class DdataCollector:
    """prometheus_client collector: the node's families, read at scrape time."""

    def __init__(self, system):
        self.system = system

    def collect(self):
        yield from text_string_to_metric_families(self.system.metrics_text())


def main():
    registry = CollectorRegistry()
    requests = Counter("app_requests", "Requests the service handled", registry=registry)
    with ddata.System("svc", seeds=["svc"]) as node, node.replica() as replica:
        registry.register(DdataCollector(node))
        replica.counter("visits").increment(3)
        requests.inc()
        text = generate_latest(registry).decode()
    print(text, end="")
    return text


if __name__ == "__main__":
    main()
