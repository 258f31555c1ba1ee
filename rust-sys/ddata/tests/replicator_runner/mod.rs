//! Plays one replicator case (tests/conformance/replicator/README.md)
//! through ddata::System and ddata::Replica in pump mode: one explicit
//! clock, messages moved, dropped or reordered exactly as the steps say.
use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use ddata::ReplicaOptions;
use ddata::{Consistency, CrdtType, Replica, StateStore, StoreOptions, System, SystemEvent, SystemOptions};
use serde_json::Value;

fn level(s: &Value) -> Result<Consistency, String> {
    let n = s["n"].as_u64().unwrap_or(0) as u32;
    Ok(match s["consistency"].as_str().unwrap_or("") {
        "local" => Consistency::Local,
        "from" => Consistency::From(n),
        "majority" => Consistency::Majority,
        "majority_plus" => Consistency::MajorityPlus(n),
        "all" => Consistency::All,
        other => return Err(format!("unknown consistency {other}")),
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default()
}

struct Cluster<'c> {
    case: &'c Value,
    names: Vec<String>,
    now: u64,
    incarnation: BTreeMap<String, u64>,
    stores: BTreeMap<String, StateStore>,
    nodes: BTreeMap<String, Replica>, // each keeps its System alive
    held: Vec<(String, String, Vec<u8>)>,
}

impl<'c> Cluster<'c> {
    fn new(case: &'c Value) -> Result<Cluster<'c>, String> {
        let names = strings(&case["nodes"]);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let mut c = Cluster {
            case,
            incarnation: names.iter().map(|n| (n.clone(), 1)).collect(),
            names,
            now,
            stores: BTreeMap::new(),
            nodes: BTreeMap::new(),
            held: Vec::new(),
        };
        for n in c.names.clone() {
            c.open(&n)?;
        }
        Ok(c)
    }

    fn open(&mut self, name: &str) -> Result<(), String> {
        let mut so = SystemOptions::new(name).seeds([self.names[0].clone()]);
        so.incarnation = self.incarnation[name];
        so.seed = self.names.iter().position(|n| n == name).unwrap() as u64 + 1;
        let sys = System::open(&so).map_err(|e| e.to_string())?;
        let r = &self.case["replica"];
        let durable = strings(&r["durable_keys"]);
        if !durable.is_empty() && !self.stores.contains_key(name) {
            let st = StateStore::open(&StoreOptions::memory()).map_err(|e| e.to_string())?;
            self.stores.insert(name.to_string(), st);
        }
        let mut ro = ReplicaOptions::default();
        let num = |k: &str, d: u64| r[k].as_u64().unwrap_or(d);
        ro.gossip_interval_ms = num("gossip_interval_ms", ro.gossip_interval_ms);
        ro.gossip_fanout = num("gossip_fanout", ro.gossip_fanout as u64) as u32;
        ro.notify_interval_ms = num("notify_interval_ms", ro.notify_interval_ms);
        ro.tombstone_grace_ms = num("tombstone_grace_ms", ro.tombstone_grace_ms);
        ro.expire_after_ms = num("expire_after_ms", ro.expire_after_ms);
        ro.expiry_prefixes = strings(&r["expiry_prefixes"]);
        ro.durable_keys = durable;
        ro.store = self.stores.get(name);
        let rep = Replica::open(&sys, &ro).map_err(|e| e.to_string())?;
        self.nodes.insert(name.to_string(), rep);
        Ok(())
    }

    fn deliver(&self, from: &str, to: &str, msg: &[u8]) {
        if let Some(dst) = self.nodes.get(to) {
            let _ = dst.system().deliver(self.now, from, msg); // a refused message is the network's loss
        }
    }

    fn pump(&self, cut: &BTreeSet<String>) -> Result<(), String> {
        for _ in 0..1000 {
            let mut moved = false;
            for name in &self.names {
                let Some(rep) = self.nodes.get(name) else { continue };
                for (to, msg) in rep.system().outgoing().map_err(|e| e.to_string())? {
                    moved = true;
                    if !cut.contains(name) && !cut.contains(&to) {
                        self.deliver(name, &to, &msg);
                    }
                }
            }
            if !moved {
                return Ok(());
            }
        }
        Err("messages never stopped".into())
    }

    fn run(&mut self, s: &Value) -> Result<(), String> {
        let step = s["step_ms"].as_u64().unwrap_or(100);
        let cut: BTreeSet<String> = strings(&s["cut"]).into_iter().collect();
        let mut t = 0;
        while t < s["ms"].as_u64().unwrap_or(0) {
            t += step;
            self.now += step;
            for rep in self.nodes.values() {
                rep.system().tick(self.now).map_err(|e| e.to_string())?;
            }
            self.pump(&cut)?;
        }
        Ok(())
    }

    /// Runs one step: Ok(status name) from the call, Err when the runner
    /// found a difference.
    fn step(&mut self, s: &Value) -> Result<String, String> {
        let op = s["op"].as_str().ok_or("step without op")?;
        let st = |r: ddata::Result<()>| -> Result<String, String> {
            Ok(match r {
                Ok(()) => "DD_OK".into(),
                Err(e) => e.status().name().into(),
            })
        };
        match op {
            "run" => return self.run(s).map(|_| "DD_OK".into()),
            "release" => {
                let held = std::mem::take(&mut self.held);
                for i in s["order"].as_array().ok_or("release without order")? {
                    let (from, to, msg) = held
                        .get(i.as_u64().unwrap_or(u64::MAX) as usize)
                        .ok_or("no such held message")?;
                    self.deliver(from, to, msg);
                }
                return Ok("DD_OK".into());
            }
            _ => {}
        }
        let name = s["node"].as_str().ok_or("step without node")?.to_string();
        if op == "restart" {
            self.nodes.remove(&name);
            *self.incarnation.get_mut(&name).ok_or("unknown node")? += 1;
            self.open(&name)?;
            return Ok("DD_OK".into());
        }
        let rep = self.nodes.get(&name).ok_or("unknown or closed node")?;
        match op {
            "hold" => {
                for (to, msg) in rep.system().outgoing().map_err(|e| e.to_string())? {
                    self.held.push((name.clone(), to, msg));
                }
                return Ok("DD_OK".into());
            }
            "expect_events" => {
                let mut got = Vec::new();
                while let Some(ev) = rep.system().next_event().map_err(|e| e.to_string())? {
                    let row = match ev {
                        SystemEvent::Member { .. } => continue,
                        SystemEvent::Changed { key } => ("changed", Some(key), None),
                        SystemEvent::Deleted { key } => ("deleted", Some(key), None),
                        SystemEvent::Expired { key } => ("expired", Some(key), None),
                        SystemEvent::RequestDone { status, .. } => (
                            "request_done",
                            None,
                            Some(match status {
                                Ok(()) => "DD_OK",
                                Err(s) => s.name(),
                            }),
                        ),
                        SystemEvent::Overflow { .. } => ("overflow", None, None),
                        _ => ("other", None, None),
                    };
                    got.push(row);
                }
                let want = s["events"].as_array().ok_or("no events")?;
                if got.len() != want.len() {
                    return Err(format!(
                        "{name}: {} events {got:?}, expected {}",
                        got.len(),
                        want.len()
                    ));
                }
                for (i, (g, w)) in got.iter().zip(want).enumerate() {
                    if g.0 != w["kind"].as_str().unwrap_or("")
                        || (w.get("key").is_some() && g.1.as_deref() != Some(&crate::bytes(&w["key"])?[..]))
                        || (w.get("status").is_some() && g.2 != w["status"].as_str())
                    {
                        return Err(format!("{name}: event {i} {g:?}, expected {w}"));
                    }
                }
                return Ok("DD_OK".into());
            }
            "expect_keys" => {
                let got = rep.keys().map_err(|e| e.to_string())?;
                let want: Vec<Vec<u8>> = s["keys"]
                    .as_array()
                    .ok_or("no keys")?
                    .iter()
                    .map(crate::bytes)
                    .collect::<Result<_, _>>()?;
                return if got == want {
                    Ok("DD_OK".into())
                } else {
                    Err(format!("{name}: keys {got:?}"))
                };
            }
            _ => {}
        }
        let key = crate::bytes(&s["key"])?;
        let ty = || -> Result<CrdtType, String> {
            CrdtType::from_name(s["type"].as_str().unwrap_or("")).ok_or_else(|| "unknown type".to_string())
        };
        match op {
            "expect" => {
                let want = &s["value"];
                let got = match rep.get(&key) {
                    Ok(v) => v,
                    Err(e) => return Err(format!("{name}: get: {e}")),
                };
                match (want, got) {
                    (Value::Null, None) => Ok("DD_OK".into()),
                    (Value::String(d), None) if d == "$deleted" => Err(format!(
                        "{name}: absent; the binding cannot tell deleted from missing"
                    )),
                    (_, None) => Err(format!("{name}: absent, expected {want}")),
                    (_, Some(v)) => {
                        let got: Value = serde_json::from_str(&v.value_json().map_err(|e| e.to_string())?)
                            .map_err(|e| e.to_string())?;
                        if &got == want {
                            Ok("DD_OK".into())
                        } else {
                            Err(format!("{name}: value {got}, expected {want}"))
                        }
                    }
                }
            }
            "delete" => st(rep.delete(&key)),
            "subscribe" => st(rep.subscribe(&key, s["prefix"].as_bool().unwrap_or(false))),
            "update" => st(rep.update(&key, ty()?, &crate::op(&s["apply"])?)),
            "write" => st(rep
                .write(
                    &key,
                    ty()?,
                    &crate::op(&s["apply"])?,
                    level(s)?,
                    s["timeout_ms"].as_u64().unwrap_or(5000),
                )
                .map(|_| ())),
            "read" => st(rep
                .read(&key, level(s)?, s["timeout_ms"].as_u64().unwrap_or(5000))
                .map(|_| ())),
            other => Err(format!("unknown op {other}")),
        }
    }
}

pub fn run_case(c: &Value) -> Result<(), String> {
    let mut cluster = Cluster::new(c)?;
    for (i, s) in c["steps"].as_array().ok_or("no steps")?.iter().enumerate() {
        let op = s["op"].as_str().unwrap_or("?");
        let status = cluster.step(s).map_err(|e| format!("step {i} ({op}): {e}"))?;
        let want = s["expect_status"].as_str().unwrap_or("DD_OK");
        if status != want {
            return Err(format!("step {i} ({op}): status {status}, expected {want}"));
        }
    }
    Ok(())
}
