//! Log records reach `tracing`: a node that joins and one that stops, as
//! a pump-mode host sees them through System::forward_logs.
use std::sync::{Arc, Mutex};

use ddata::{LogLevel, Replica, ReplicaOptions, System, SystemOptions};

type Seen = Arc<Mutex<Vec<(tracing::Level, String)>>>;

/// A subscriber that keeps each event's level and fields as text.
struct Capture(Seen);

struct Text(String);

impl tracing::field::Visit for Text {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?};", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, ev: &tracing::Event<'_>) {
        let mut t = Text(String::new());
        ev.record(&mut t);
        self.0.lock().unwrap().push((*ev.metadata().level(), t.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn pump(nodes: &[(&str, &System)], now: u64) {
    for (_, sys) in nodes {
        sys.tick(now).unwrap();
    }
    for (from, sys) in nodes {
        for (to, msg) in sys.outgoing().unwrap() {
            if let Some((_, dst)) = nodes.iter().find(|(id, _)| *id == to) {
                dst.deliver(now, from, &msg).unwrap();
            }
        }
    }
}

#[test]
fn tracing_receives_a_joining_member_and_a_stopped_one() {
    let mut oa = SystemOptions::new("a").seeds(["a"]);
    oa.failure_timeout_ms = 1000;
    let mut ob = SystemOptions::new("b").seeds(["a"]);
    ob.failure_timeout_ms = 1000;
    let a = System::open(&oa).unwrap();
    let b = System::open(&ob).unwrap();
    let _ra = Replica::open(&a, &ReplicaOptions::default()).unwrap();
    let _rb = Replica::open(&b, &ReplicaOptions::default()).unwrap();
    let seen: Seen = Arc::default();
    // Engine time follows the host's clock, so start from the current time.
    let mut now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    tracing::subscriber::with_default(Capture(seen.clone()), || {
        for _ in 0..20 {
            now += 200;
            pump(&[("a", &a), ("b", &b)], now);
        }
        assert!(a.forward_logs().unwrap() > 0);
        for _ in 0..40 {
            now += 200; // b stops: only a runs
            pump(&[("a", &a)], now);
        }
        a.forward_logs().unwrap();
    });
    let seen = seen.lock().unwrap();
    let up = seen
        .iter()
        .find(|(_, t)| t.contains("event=\"member.up\"") && t.contains("member=b"));
    assert!(matches!(up, Some((tracing::Level::INFO, _))), "{seen:?}");
    let gone = seen
        .iter()
        .find(|(_, t)| t.contains("event=\"member.unreachable\"") && t.contains("member=b"));
    assert!(matches!(gone, Some((tracing::Level::WARN, _))), "{seen:?}");
    assert!(a.next_log().unwrap().is_none());
    let _ = LogLevel::Info;
}
