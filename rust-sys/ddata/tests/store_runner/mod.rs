//! Plays one store case (tests/conformance/store/README.md) through
//! ddata::StateStore and ddata::Journal, both in memory and fresh per case.
//! Each step's result is turned into JSON-shaped data and compared with the
//! step's `expect`, byte strings decoded on both sides.
use ddata::{Journal, NewEvent, StateStore, StoreOptions, ANY_REVISION};
use serde_json::{json, Value};

fn bytes(v: Option<&Value>) -> Result<Vec<u8>, String> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Object(o)) => {
            crate::base64(o.get("$bytes").and_then(Value::as_str).ok_or("bad byte string")?)
        }
        Some(v) => Err(format!("bad byte string {v}")),
    }
}

/// Byte strings as JSON arrays of numbers, so both sides compare alike.
fn b(v: &[u8]) -> Value {
    json!(v)
}

/// The expect value with every byte string turned into an array of bytes.
fn expected(v: &Value) -> Result<Value, String> {
    Ok(match v {
        Value::Array(a) => Value::Array(a.iter().map(expected).collect::<Result<_, _>>()?),
        Value::Object(o) if !o.contains_key("$bytes") => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), expected(x)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::String(_) | Value::Object(_) => b(&bytes(Some(v))?),
        other => other.clone(),
    })
}

fn revision(v: &Value) -> u64 {
    if v.as_str() == Some("any") {
        ANY_REVISION
    } else {
        v.as_u64().unwrap_or(0)
    }
}

fn step(store: &StateStore, journal: &Journal, s: &Value) -> Result<ddata::Result<Value>, String> {
    let key = |name: &str| bytes(s.get(name));
    Ok(match s["op"].as_str().unwrap_or("") {
        "upsert" => store
            .upsert(key("key")?, revision(&s["expected"]), &key("value")?)
            .map(|r| json!(r)),
        "get" => store.get(key("key")?).map(|st| match st {
            None => Value::Null,
            Some((rev, v)) => json!({"revision": rev, "value": b(&v)}),
        }),
        "delete" => store
            .delete(key("key")?, revision(&s["expected"]))
            .map(|()| Value::Null),
        "keys" => store.keys(key("prefix")?).and_then(|it| {
            it.map(|r| r.map(|r| json!([b(&r.key), r.revision])))
                .collect::<ddata::Result<Vec<_>>>()
                .map(Value::Array)
        }),
        "range" => store
            .range(key("from")?, s["count"].as_i64().ok_or("range needs a count")?)
            .and_then(|it| {
                it.map(|r| r.map(|r| json!([b(&r.key), r.revision, b(&r.state)])))
                    .collect::<ddata::Result<Vec<_>>>()
                    .map(Value::Array)
            }),
        "last" => store.last().map(|r| match r {
            None => Value::Null,
            Some(r) => json!([b(&r.key), r.revision, b(&r.state)]),
        }),
        "purge" => store.purge().map(|()| Value::Null),
        "append" => {
            let events = s["events"]
                .as_array()
                .ok_or("append needs events")?
                .iter()
                .map(|e| bytes(Some(e)).map(NewEvent::new))
                .collect::<Result<Vec<_>, _>>()?;
            journal
                .append(key("pid")?, s["expected_seq"].as_u64().unwrap_or(0), &events)
                .map(|()| Value::Null)
        }
        "pids" => journal
            .pids(key("after")?, s["max"].as_u64().unwrap_or(u64::MAX))
            .and_then(|it| {
                it.map(|p| p.map(|p| b(&p)))
                    .collect::<ddata::Result<Vec<_>>>()
                    .map(Value::Array)
            }),
        other => return Err(format!("unknown store op {other}")),
    })
}

pub fn run_case(c: &Value) -> Result<(), String> {
    let store = StateStore::open(&StoreOptions::memory()).map_err(|e| e.to_string())?;
    let journal = Journal::open(&StoreOptions::memory()).map_err(|e| e.to_string())?;
    for (i, s) in c["steps"]
        .as_array()
        .ok_or("case without steps")?
        .iter()
        .enumerate()
    {
        let op = s["op"].as_str().unwrap_or("?");
        let want = s.get("expect_status").and_then(Value::as_str).unwrap_or("DD_OK");
        let got = step(&store, &journal, s)?;
        let status = match &got {
            Ok(_) => "DD_OK",
            Err(e) => e.status().name(),
        };
        if status != want {
            return Err(format!(
                "step {} ({op}): returned {status}, expected {want}",
                i + 1
            ));
        }
        if let (Ok(v), Some(e)) = (got, s.get("expect")) {
            let e = expected(e)?;
            if v != e {
                return Err(format!("step {} ({op}): got {v}, expected {e}", i + 1));
            }
        }
    }
    Ok(())
}
