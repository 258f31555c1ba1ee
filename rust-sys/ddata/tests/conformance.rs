//! The conformance runner: plays tests/conformance/crdt/*.json (format in
//! tests/conformance/SCHEMA.md) through this crate. Cases listed in
//! tests/conformance/known_failures_rust.txt must fail; a listed case that
//! passes fails the run, so the list only shrinks. owned/*.json (format in
//! tests/conformance/owned/README.md) runs through ddata::Owned, store/*.json
//! (tests/conformance/store/README.md) through ddata::StateStore and Journal,
//! replicator/*.json (tests/conformance/replicator/README.md) through
//! ddata::System and Replica in pump mode.
use std::collections::BTreeSet;
use std::path::PathBuf;

use ddata::{Crdt, CrdtType, Limits, Op, OpKind};
use serde_json::Value;

mod owned_runner;
use owned_runner as owned;
mod replicator_runner;
mod store_runner;

fn root() -> PathBuf {
    std::env::var_os("DDATA_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance"))
}

pub(crate) fn base64(s: &str) -> Result<Vec<u8>, String> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ALPHA.iter().position(|a| *a == c).ok_or("bad base64")? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

pub(crate) fn hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err("odd hex".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

fn bytes(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(o) => base64(o.get("$bytes").and_then(Value::as_str).ok_or("bad byte string")?),
        _ => Err(format!("bad byte string {v}")),
    }
}

fn op(v: &Value) -> Result<Op, String> {
    let kind = v["kind"]
        .as_str()
        .and_then(OpKind::from_name)
        .ok_or("bad op kind")?;
    let mut o = Op::new(kind);
    if let Some(a) = v.get("amount") {
        o.amount = a.as_u64().ok_or("bad amount")?;
    }
    if let Some(k) = v.get("key") {
        o.key = Some(bytes(k)?);
    }
    if let Some(x) = v.get("value") {
        o.value = Some(bytes(x)?);
    }
    if let Some(t) = v.get("value_type") {
        o.value_type = Some(CrdtType::from_name(t.as_str().ok_or("bad value_type")?).ok_or("unknown type")?);
    }
    if let Some(n) = v.get("nested") {
        o.nested = Some(Box::new(op(n)?));
    }
    Ok(o)
}

fn status_name<T>(r: &ddata::Result<T>) -> String {
    match r {
        Ok(_) => "DD_OK".into(),
        Err(e) => e.status().name().into(),
    }
}

fn scenario(c: &Value) -> Result<(), String> {
    let ty = CrdtType::from_name(c["type"].as_str().ok_or("no type")?).ok_or("unknown type")?;
    let n = c.get("replicas").and_then(Value::as_u64).unwrap_or(1) as usize;
    let mut reps: Vec<Crdt> = (0..n).map(|_| Crdt::new(ty).unwrap()).collect();
    for (idx, step) in c["steps"].as_array().ok_or("no steps")?.iter().enumerate() {
        let at = format!("step {}", idx + 1);
        if let Some(o) = step.get("op") {
            let r = step.get("replica").and_then(Value::as_u64).unwrap_or(0) as usize;
            let actor = step.get("actor").and_then(Value::as_u64).unwrap_or(r as u64 + 1);
            let now = step
                .get("now")
                .and_then(Value::as_u64)
                .unwrap_or(1000 + idx as u64 + 1);
            let want = step
                .get("expect_status")
                .and_then(Value::as_str)
                .unwrap_or("DD_OK");
            let res = reps[r].apply_delta_as(&op(o)?, actor, now);
            if status_name(&res) != want {
                return Err(format!("{at}: status {} != {want}", status_name(&res)));
            }
            if let (Ok(delta), Some(to)) = (res, step.get("delta_to").and_then(Value::as_array)) {
                for t in to {
                    let t = t.as_u64().ok_or("bad delta_to")? as usize;
                    reps[t].merge(&delta).map_err(|e| format!("{at}: {e}"))?;
                }
            }
        } else if let Some(m) = step.get("merge") {
            let (from, into) = (
                m["from"].as_u64().ok_or("from")? as usize,
                m["into"].as_u64().ok_or("into")? as usize,
            );
            let src = reps[from].clone();
            reps[into].merge(&src).map_err(|e| format!("{at}: {e}"))?;
        } else if let Some(e) = step.get("expect") {
            let v = &reps[e.get("replica").and_then(Value::as_u64).unwrap_or(0) as usize];
            if let Some(want) = e.get("value") {
                let got: Value = serde_json::from_str(&v.value_json().map_err(|e| e.to_string())?).unwrap();
                if &got != want {
                    return Err(format!("{at}: value {got} != {want}"));
                }
            }
            if let Some(other) = e.get("equal_to").and_then(Value::as_u64) {
                if v != &reps[other as usize] {
                    return Err(format!("{at}: not equal to replica {other}"));
                }
            }
            let limits = Limits::default();
            let round =
                Crdt::decode(&v.encode().unwrap(), &limits, 1 << 52).map_err(|e| format!("{at}: {e}"))?;
            if &round != v {
                return Err(format!("{at}: encode/decode changed the value"));
            }
            let round = Crdt::from_json(&v.to_json().unwrap(), &limits).map_err(|e| format!("{at}: {e}"))?;
            if &round != v {
                return Err(format!("{at}: to_json/from_json changed the value"));
            }
        } else {
            return Err(format!("{at}: unknown step"));
        }
    }
    Ok(())
}

fn decode_case(c: &Value) -> Result<(), String> {
    let d = &c["decode"];
    let mut limits = Limits::default();
    if let Some(l) = d.get("limits").and_then(Value::as_object) {
        for (k, v) in l {
            let v = v.as_u64().ok_or("bad limit")?;
            match k.as_str() {
                "max_bytes" => limits.max_bytes = v,
                "max_elements" => limits.max_elements = v,
                "max_depth" => limits.max_depth = v as u32,
                "max_value_bytes" => limits.max_value_bytes = v,
                "max_clock_skew_ms" => limits.max_clock_skew_ms = v,
                other => return Err(format!("unknown limit {other}")),
            }
        }
    }
    let bytes = hex(d["hex"].as_str().ok_or("no hex")?)?;
    let res = Crdt::decode(&bytes, &limits, d.get("now").and_then(Value::as_u64).unwrap_or(0));
    let want = c.get("expect_status").and_then(Value::as_str).unwrap_or("DD_OK");
    if status_name(&res) != want {
        return Err(format!("status {} != {want}", status_name(&res)));
    }
    Ok(())
}

#[test]
fn conformance_vectors() {
    let root = root();
    let known: BTreeSet<String> = std::fs::read_to_string(root.join("known_failures_rust.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    let (mut passed, mut expected_failures) = (0, 0);
    for dir in ["crdt", "owned", "store", "replicator"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let fname = f.file_name().unwrap().to_string_lossy().into_owned();
            for c in doc["cases"].as_array().unwrap() {
                let id = format!("{fname}:{}", c["name"].as_str().unwrap());
                seen.insert(id.clone());
                let result = if dir == "owned" {
                    owned::run_case(c)
                } else if dir == "store" {
                    store_runner::run_case(c)
                } else if dir == "replicator" {
                    replicator_runner::run_case(c)
                } else if c.get("decode").is_some() {
                    decode_case(c)
                } else {
                    scenario(c)
                };
                match (result, known.contains(&id)) {
                    (Ok(()), false) => passed += 1,
                    (Err(_), true) => expected_failures += 1,
                    (Ok(()), true) => {
                        problems.push(format!("{id}: passes but is listed in known_failures_rust.txt"))
                    }
                    (Err(e), false) => problems.push(format!("{id}: {e}")),
                }
            }
        }
    }
    for id in known.difference(&seen) {
        problems.push(format!(
            "{id}: listed in known_failures_rust.txt but no such case"
        ));
    }
    eprintln!("conformance: {passed} passed, {expected_failures} known failures");
    assert!(
        passed > 0,
        "no conformance case ran (looked in {})",
        root.display()
    );
    assert!(
        problems.is_empty(),
        "conformance failures:\n{}",
        problems.join("\n")
    );
}
