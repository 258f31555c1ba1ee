//! Smoke test of the packaged ddata and ddata-sys crates: a counter, a
//! journal append and replay, and a sealed state store
//! (tests/packaging/run.sh copies this to src/main.rs of a `cargo new`).
use ddata::{Crdt, CrdtType, Journal, Keyring, NewEvent, StateStore, StoreOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut counter = Crdt::with_actor(CrdtType::GCounter, 1)?;
    counter.increment(3)?;
    counter.increment(4)?;
    assert_eq!(counter.counter_value()?, 7);

    let journal = Journal::open(&StoreOptions::sqlite("events.db"))?;
    journal.append("order-1", 0, &[NewEvent::new("created"), NewEvent::new("paid")])?;
    let payloads: Vec<Vec<u8>> = journal
        .replay("order-1", 1, u64::MAX, u64::MAX)?
        .map(|e| e.map(|e| e.payload))
        .collect::<Result<_, _>>()?;
    assert_eq!(payloads, vec![b"created".to_vec(), b"paid".to_vec()]);

    let mut ring = Keyring::new()?;
    let key: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(97).wrapping_add(13)).collect();
    ring.add_key(1, &key)?;
    {
        let store = StateStore::open(&StoreOptions::sqlite("state.db").keyring(&ring))?;
        store.upsert("cart-1", 0, b"TOP-SECRET-STATE")?;
        let (_, state) = store.get("cart-1")?.expect("cart-1 was just written");
        assert_eq!(state, b"TOP-SECRET-STATE");
    }
    let file = std::fs::read("state.db")?;
    assert!(!file.windows(16).any(|w| w == b"TOP-SECRET-STATE"), "sealed state written in clear");
    println!("rust smoke: ok, ddata {}", ddata::version());
    Ok(())
}
