//! Plays one owned-state case (tests/conformance/owned/README.md) through
//! ddata::Owned: nodes keyed by id, memory state stores kept by name across
//! close/open (a restart), and a pump that moves queued messages in order.
use std::collections::BTreeMap;

use ddata::{
    OnMismatch, Owned, OwnedEventKind, OwnedStrategy, OwnedTypeOptions, StateStore, Status, StoreOptions,
    Urgency,
};
use serde_json::Value;

struct Run<'c> {
    nodes: BTreeMap<u64, Option<Owned>>, // open order = insertion order of ids
    order: Vec<u64>,
    stores: BTreeMap<String, StateStore>,
    last_request: BTreeMap<u64, u64>,
    types: Option<&'c Value>,
}

fn num(v: &Value, name: &str, default: u64) -> u64 {
    v.get(name).and_then(Value::as_u64).unwrap_or(default)
}

fn s<'a>(v: &'a Value, name: &str, default: &'a str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or(default)
}

fn bytes(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(o) => {
            let b = o.get("$bytes").and_then(Value::as_str).ok_or("bad byte string")?;
            super::base64(b)
        }
        Value::Null => Ok(Vec::new()),
        _ => Err(format!("bad byte string {v}")),
    }
}

fn status_name(r: &ddata::Result<impl Sized>) -> &'static str {
    match r {
        Ok(_) => "DD_OK",
        Err(e) => e.status().name(),
    }
}

fn check<T>(step: &Value, r: ddata::Result<T>) -> Result<Option<T>, String> {
    let want = s(step, "expect_status", "DD_OK");
    let got = status_name(&r);
    if got != want {
        let msg = r.err().map(|e| e.message().to_string()).unwrap_or_default();
        return Err(format!("returned {got} ({msg}), expected {want}"));
    }
    Ok(r.ok())
}

fn type_options(t: &Value) -> Result<OwnedTypeOptions, String> {
    let mut o = OwnedTypeOptions::default();
    o.strategy = match s(t, "strategy", "active_push") {
        "active_push" => OwnedStrategy::ActivePush,
        "feed_lazy_pull" => OwnedStrategy::FeedLazyPull,
        "feed_with_periodic_sync" => OwnedStrategy::FeedWithPeriodicSync,
        "periodic_only" => OwnedStrategy::PeriodicOnly,
        other => return Err(format!("unknown strategy {other}")),
    };
    o.on_mismatch = match s(t, "on_mismatch", "keep_stale") {
        "keep_stale" => OnMismatch::KeepStale,
        "drop_and_wait" => OnMismatch::DropAndWait,
        other => return Err(format!("unknown policy {other}")),
    };
    o.wire_version = num(t, "wire_version", o.wire_version as u64) as u32;
    o.storage_version = num(t, "storage_version", o.storage_version as u64) as u32;
    o.compact_every = num(t, "compact_every", o.compact_every as u64) as u32;
    o.feed_interval_ms = num(t, "feed_interval_ms", o.feed_interval_ms);
    o.sync_interval_ms = num(t, "sync_interval_ms", o.sync_interval_ms);
    o.pull_retry_ms = num(t, "pull_retry_ms", o.pull_retry_ms);
    o.pull_timeout_ms = num(t, "pull_timeout_ms", o.pull_timeout_ms);
    Ok(o)
}

impl Run<'_> {
    fn node(&self, id: u64) -> Result<&Owned, String> {
        self.nodes
            .get(&id)
            .and_then(Option::as_ref)
            .ok_or(format!("node {id} is not open"))
    }

    fn open_ids(&self) -> Vec<u64> {
        self.order
            .iter()
            .copied()
            .filter(|id| matches!(self.nodes.get(id), Some(Some(_))))
            .collect()
    }

    fn pump(&self) -> Result<(), String> {
        for _ in 0..100 {
            let mut moved = 0;
            for id in self.open_ids() {
                let h = self.node(id)?;
                while let Some((to, msg)) = h.next_outgoing().map_err(|e| e.to_string())? {
                    if let Some(Some(dst)) = self.nodes.get(&to) {
                        let _ = dst.deliver(id, &msg);
                    }
                    moved += 1;
                }
            }
            if moved == 0 {
                return Ok(());
            }
        }
        Err("pump: still sending after 100 rounds".into())
    }

    fn step(&mut self, step: &Value) -> Result<(), String> {
        let op = s(step, "op", "");
        let id = num(step, "node", 0);
        match op {
            "open" => {
                if let Some(Some(_)) = self.nodes.get(&id) {
                    return Err(format!("node {id} is open"));
                }
                let store = match step.get("store").and_then(Value::as_str) {
                    Some(name) => {
                        if !self.stores.contains_key(name) {
                            let st = StateStore::open(&StoreOptions::memory()).map_err(|e| e.to_string())?;
                            self.stores.insert(name.to_string(), st);
                        }
                        self.stores.get(name)
                    }
                    None => None,
                };
                let h =
                    Owned::open(id, num(step, "incarnation", 1), store).map_err(|e| format!("open: {e}"))?;
                let types = step.get("types").or(self.types);
                if let Some(Value::Object(types)) = types {
                    for (name, t) in types {
                        h.register(name, &type_options(t)?)
                            .map_err(|e| format!("register {name}: {e}"))?;
                    }
                }
                if !self.order.contains(&id) {
                    self.order.push(id);
                }
                self.nodes.insert(id, Some(h));
                Ok(())
            }
            "pump" => self.pump(),
            "mesh" => {
                let ids = self.open_ids();
                for &a in &ids {
                    for &b in &ids {
                        if a != b {
                            let _ = self.node(a)?.member_up(b, num(step, "incarnation", 1));
                        }
                    }
                }
                Ok(())
            }
            "close" => {
                self.node(id)?;
                self.nodes.insert(id, None);
                Ok(())
            }
            "member_up" => check(
                step,
                self.node(id)?
                    .member_up(num(step, "peer", 0), num(step, "incarnation", 1)),
            )
            .map(drop),
            "member_left" => check(step, self.node(id)?.member_left(num(step, "peer", 0))).map(drop),
            "tick" => check(step, self.node(id)?.tick(num(step, "now_ms", 0))).map(drop),
            "drop" => {
                let h = self.node(id)?;
                while h.next_outgoing().map_err(|e| e.to_string())?.is_some() {}
                Ok(())
            }
            "publish" => {
                let data = bytes(step.get("data").unwrap_or(&Value::Null))?;
                let urgency = match s(step, "urgency", "default") {
                    "default" => Urgency::Default,
                    "immediate" => Urgency::Immediate,
                    "delayed" => Urgency::Delayed,
                    "suppressed" => Urgency::Suppressed,
                    _ => Urgency::Raw(99),
                };
                let full = step.get("full").and_then(Value::as_bool).unwrap_or(false);
                let r = self.node(id)?.publish(
                    s(step, "type", ""),
                    full,
                    &data,
                    urgency,
                    num(step, "delay_ms", 0),
                );
                if let (Some((inc, age)), Some(e)) = (check(step, r)?, step.get("expect")) {
                    if inc != num(e, "incarnation", inc) || age != num(e, "age", age) {
                        return Err(format!("published ({inc}, {age})"));
                    }
                }
                Ok(())
            }
            "deliver" => {
                let hex = super::hex(s(step, "hex", ""))?;
                check(step, self.node(id)?.deliver(num(step, "from", 0), &hex)).map(drop)
            }
            "read" => {
                let r = self.node(id)?.read(s(step, "type", ""), num(step, "of", 0));
                let (Some(v), Some(e)) = (check(step, r)?, step.get("expect")) else {
                    return Ok(());
                };
                for (name, got) in [
                    ("incarnation", v.incarnation),
                    ("age", v.age),
                    ("base_age", v.base_age),
                ] {
                    if let Some(want) = e.get(name).and_then(Value::as_u64) {
                        if want != got {
                            return Err(format!("{name} {got}, expected {want}"));
                        }
                    }
                }
                if let Some(want) = e.get("version_mismatch").and_then(Value::as_bool) {
                    if want != v.version_mismatch {
                        return Err(format!("version_mismatch {}", v.version_mismatch));
                    }
                }
                if let Some(b) = e.get("base") {
                    if bytes(b)? != v.base {
                        return Err("base differs".into());
                    }
                }
                if let Some(Value::Array(ds)) = e.get("deltas") {
                    let want: Result<Vec<Vec<u8>>, String> = ds.iter().map(bytes).collect();
                    if want? != v.deltas {
                        return Err(format!("deltas differ ({} deltas)", v.deltas.len()));
                    }
                }
                Ok(())
            }
            "query" => {
                let staleness = step.get("max_staleness_ms").and_then(Value::as_u64);
                let r = self
                    .node(id)?
                    .query(s(step, "type", ""), num(step, "of", 0), staleness);
                if let Some(req) = check(step, r)? {
                    self.last_request.insert(id, req.unwrap_or(0));
                    if let Some(p) = step.get("pending").and_then(Value::as_bool) {
                        if p != req.is_some() {
                            return Err(format!(
                                "query {}",
                                if req.is_some() { "is pending" } else { "was fresh" }
                            ));
                        }
                    }
                }
                Ok(())
            }
            "expect_event" | "expect_no_event" => {
                let kind = match s(step, "kind", "") {
                    "view_changed" => OwnedEventKind::ViewChanged,
                    "view_removed" => OwnedEventKind::ViewRemoved,
                    "query_done" => OwnedEventKind::QueryDone,
                    "version_mismatch" => OwnedEventKind::VersionMismatch,
                    "compact_wanted" => OwnedEventKind::CompactWanted,
                    other => return Err(format!("unknown event kind {other}")),
                };
                let h = self.node(id)?;
                let mut found = false;
                while !found {
                    let Some(ev) = h.next_event().map_err(|e| e.to_string())? else {
                        break;
                    };
                    if ev.kind != kind {
                        continue;
                    }
                    let fields = [
                        ("of", ev.node_id),
                        ("age", ev.age),
                        ("incarnation", ev.incarnation),
                        ("peer_version", ev.peer_version as u64),
                    ];
                    if fields
                        .iter()
                        .any(|(n, got)| step.get(*n).and_then(Value::as_u64).is_some_and(|w| w != *got))
                    {
                        continue;
                    }
                    if step
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t != ev.type_name)
                    {
                        continue;
                    }
                    if kind == OwnedEventKind::QueryDone {
                        if Some(&ev.request_id) != self.last_request.get(&id) {
                            continue;
                        }
                        let got = match ev.status {
                            Ok(()) => "DD_OK",
                            Err(st) => st.name(),
                        };
                        if got != s(step, "status", "DD_OK") {
                            return Err(format!("query finished with {got}"));
                        }
                    }
                    found = true;
                }
                let want = op == "expect_event";
                if found != want {
                    return Err(format!(
                        "event {} {}",
                        s(step, "kind", ""),
                        if want { "missing" } else { "present" }
                    ));
                }
                Ok(())
            }
            "nodes" => {
                let got = self.node(id)?.nodes().map_err(|e| e.to_string())?;
                let want: Vec<u64> = step
                    .get("expect")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                if got != want {
                    return Err(format!("nodes {got:?}, expected {want:?}"));
                }
                Ok(())
            }
            other => Err(format!("unknown op '{other}'")),
        }
    }
}

pub fn run_case(c: &Value) -> Result<(), String> {
    let mut run = Run {
        nodes: BTreeMap::new(),
        order: Vec::new(),
        stores: BTreeMap::new(),
        last_request: BTreeMap::new(),
        types: c.get("types"),
    };
    let steps = c.get("steps").and_then(Value::as_array).ok_or("no steps")?;
    for (i, step) in steps.iter().enumerate() {
        run.step(step)
            .map_err(|e| format!("step {} ({}): {e}", i + 1, s(step, "op", "")))?;
    }
    // Engines first: they hold references on their stores.
    run.nodes.clear();
    let _ = Status::Done;
    Ok(())
}
