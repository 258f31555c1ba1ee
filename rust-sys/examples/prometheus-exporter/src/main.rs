//! A Rust service exposing a ddata node's metrics through the `prometheus`
//! crate: a custom `Collector` reads `System::metrics_text` at every
//! gather and hands the families to the service's `Registry`, next to its
//! own metrics, so one encoder (behind any HTTP server) serves both.
//!
//! Run: cargo run -p ddata-prometheus-example   (prints one scrape)
use std::collections::BTreeMap;
use std::sync::Mutex;

use ddata::{Replica, ReplicaOptions, System, SystemOptions};
use prometheus::core::{Collector, Desc};
use prometheus::proto::{Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType};
use prometheus::{Encoder, IntCounter, Registry, TextEncoder};

/// The node's families, read at gather time. `System` is driven from one
/// thread at a time here, so the collector keeps it behind a Mutex.
pub struct DdataCollector {
    system: Mutex<System>,
}

impl DdataCollector {
    pub fn new(system: System) -> DdataCollector {
        DdataCollector {
            system: Mutex::new(system),
        }
    }

    pub fn with_system<R>(&self, f: impl FnOnce(&System) -> R) -> R {
        f(&self.system.lock().unwrap())
    }
}

struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim_start_matches(',').to_string();
        let mut value = String::new();
        let mut chars = rest[eq + 2..].char_indices();
        let mut end = rest.len() - eq - 2;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, o)) => value.push(o),
                    None => {}
                },
                '"' => {
                    end = i + 1;
                    break;
                }
                o => value.push(o),
            }
        }
        out.push((key, value));
        rest = &rest[eq + 2 + end..];
    }
    out
}

fn parse_value(v: &str) -> f64 {
    match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => v.parse().unwrap_or(f64::NAN),
    }
}

/// (help, type, samples) per family, in the order served.
fn parse(text: &str) -> Vec<(String, String, String, Vec<Sample>)> {
    let mut fams: Vec<(String, String, String, Vec<Sample>)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            fams.push((name.to_string(), help.to_string(), "untyped".into(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let (Some(f), Some((_, t))) = (fams.last_mut(), rest.split_once(' ')) {
                f.2 = t.to_string();
            }
        } else if let (Some(f), Some((head, value))) = (fams.last_mut(), line.rsplit_once(' ')) {
            let (name, labels) = match head.split_once('{') {
                Some((n, l)) => (n, parse_labels(l.trim_end_matches('}'))),
                None => (head, Vec::new()),
            };
            f.3.push(Sample {
                name: name.to_string(),
                labels,
                value: parse_value(value),
            });
        }
    }
    fams
}

fn label_pairs(labels: &[(String, String)]) -> Vec<LabelPair> {
    labels
        .iter()
        .map(|(k, v)| {
            let mut l = LabelPair::default();
            l.set_name(k.clone());
            l.set_value(v.clone());
            l
        })
        .collect()
}

fn family(name: String, help: String, kind: &str, samples: Vec<Sample>) -> MetricFamily {
    let mut mf = MetricFamily::default();
    mf.set_name(name.clone());
    mf.set_help(help);
    match kind {
        "histogram" => {
            mf.set_field_type(MetricType::HISTOGRAM);
            // One histogram per label set without `le`.
            let mut by: BTreeMap<Vec<(String, String)>, Histogram> = BTreeMap::new();
            for s in samples {
                let le = s
                    .labels
                    .iter()
                    .find(|(k, _)| k == "le")
                    .map(|(_, v)| parse_value(v));
                let key: Vec<_> = s.labels.into_iter().filter(|(k, _)| k != "le").collect();
                let h = by.entry(key).or_default();
                if s.name.ends_with("_bucket") {
                    if let Some(le) = le.filter(|b| b.is_finite()) {
                        let mut b = Bucket::default();
                        b.set_upper_bound(le);
                        b.set_cumulative_count(s.value as u64);
                        let mut all = h.get_bucket().to_vec();
                        all.push(b);
                        h.set_bucket(all);
                    }
                } else if s.name.ends_with("_sum") {
                    h.set_sample_sum(s.value);
                } else if s.name.ends_with("_count") {
                    h.set_sample_count(s.value as u64);
                }
            }
            for (labels, h) in by {
                let mut m = Metric::default();
                m.set_label(label_pairs(&labels));
                m.set_histogram(h);
                mf.mut_metric().push(m);
            }
        }
        _ => {
            mf.set_field_type(if kind == "counter" {
                MetricType::COUNTER
            } else {
                MetricType::GAUGE
            });
            for s in samples {
                let mut m = Metric::default();
                m.set_label(label_pairs(&s.labels));
                if kind == "counter" {
                    let mut c = Counter::default();
                    c.set_value(s.value);
                    m.set_counter(c);
                } else {
                    let mut g = Gauge::default();
                    g.set_value(s.value);
                    m.set_gauge(g);
                }
                mf.mut_metric().push(m);
            }
        }
    }
    mf
}

impl Collector for DdataCollector {
    /// No descriptors: the families are only known at gather time, and the
    /// registry accepts one such unchecked collector.
    fn desc(&self) -> Vec<&Desc> {
        Vec::new()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let text = match self.with_system(|s| s.metrics_text()) {
            Ok(t) => t,
            Err(_) => return Vec::new(),
        };
        parse(&text)
            .into_iter()
            .map(|(name, help, kind, samples)| {
                // prometheus' text encoder adds nothing to counter names, so
                // the served names stay ddata's own (with _total).
                family(name, help, &kind, samples)
            })
            .collect()
    }
}

/// One scrape of a service registry holding its own counter and the node.
pub fn scrape_once() -> String {
    let registry = Registry::new();
    let requests = IntCounter::new("app_requests_total", "Requests the service handled").unwrap();
    registry.register(Box::new(requests.clone())).unwrap();
    let system = System::open(&SystemOptions::new("svc").seeds(["svc"])).unwrap();
    let replica = Replica::open(&system, &ReplicaOptions::default()).unwrap();
    replica
        .update(b"visits", ddata::CrdtType::GCounter, &ddata::Op::increment(3))
        .unwrap();
    registry.register(Box::new(DdataCollector::new(system))).unwrap();
    requests.inc();
    let mut out = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut out).unwrap();
    drop(replica);
    String::from_utf8(out).unwrap()
}

fn main() {
    print!("{}", scrape_once());
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_registry_serves_ddata_and_app_metrics() {
        let text = super::scrape_once();
        assert!(text.lines().any(|l| l == "app_requests_total 1"), "{text}");
        assert!(text.lines().any(|l| l == "ddata_keys 1"), "{text}");
        assert!(
            text.contains("# TYPE ddata_store_operation_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l
                    .starts_with("ddata_store_operation_duration_seconds_bucket{op=\"append\",le=\"+Inf\"}")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l == "ddata_members{state=\"up\"} 1"),
            "{text}"
        );
    }
}
