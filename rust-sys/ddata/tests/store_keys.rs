//! Walking a durable state store (keys, range, last, purge) and listing a
//! journal's persistence ids, on every backend.
use ddata::{Journal, Record, StateStore, Status, StoreOptions, ANY_REVISION};

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ddata-rust-keys-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stores(name: &str) -> Vec<StateStore> {
    let d = tmpdir(name);
    vec![
        StateStore::open(&StoreOptions::memory()).unwrap(),
        StateStore::open(&StoreOptions::sqlite(d.join("s.db"))).unwrap(),
        StateStore::open(&StoreOptions::fs(d.join("fs"))).unwrap(),
    ]
}

fn fill(s: &StateStore) {
    for (k, v) in [
        ("user/bob", "b"),
        ("user/amy", "a"),
        ("order/1", "o1"),
        ("user/amy", "a2"),
        ("users", "u"),
    ] {
        s.upsert(k, ANY_REVISION, v.as_bytes()).unwrap();
    }
}

fn keys(it: ddata::Records) -> Vec<String> {
    it.map(|r| String::from_utf8(r.unwrap().key).unwrap()).collect()
}

#[test]
fn keys_by_prefix_in_byte_order_with_revisions() {
    for s in stores("keys") {
        fill(&s);
        let got: Vec<(Vec<u8>, u64)> = s
            .keys("user/")
            .unwrap()
            .map(|r| r.map(|r| (r.key, r.revision)).unwrap())
            .collect();
        assert_eq!(got, vec![(b"user/amy".to_vec(), 2), (b"user/bob".to_vec(), 1)]);
        assert_eq!(
            keys(s.keys("").unwrap()),
            ["order/1", "user/amy", "user/bob", "users"]
        );
        assert_eq!(s.keys("zzz").unwrap().count(), 0);
    }
}

#[test]
fn range_forward_backward_and_from_a_missing_key() {
    for s in stores("range") {
        fill(&s);
        assert_eq!(keys(s.range("", 2).unwrap()), ["order/1", "user/amy"]);
        assert_eq!(keys(s.range("user/b", 10).unwrap()), ["user/bob", "users"]);
        assert_eq!(keys(s.range("", -2).unwrap()), ["users", "user/bob"]);
        let states: Vec<Vec<u8>> = s
            .range("user/b", i64::MIN)
            .unwrap()
            .map(|r| r.unwrap().state)
            .collect();
        assert_eq!(states, vec![b"a2".to_vec(), b"o1".to_vec()]);
        assert_eq!(s.range("", 0).unwrap().count(), 0);
    }
}

#[test]
fn last_and_purge() {
    let s = StateStore::open(&StoreOptions::memory()).unwrap();
    assert_eq!(s.last().unwrap(), None);
    fill(&s);
    assert_eq!(
        s.last().unwrap(),
        Some(Record {
            key: b"users".to_vec(),
            revision: 1,
            state: b"u".to_vec()
        })
    );
    s.purge().unwrap();
    assert_eq!(s.last().unwrap(), None);
    assert_eq!(s.keys("").unwrap().count(), 0);
    assert_eq!(s.upsert("user/amy", 0, b"again").unwrap(), 1);
}

#[test]
fn more_keys_than_a_page_and_limits() {
    let s = StateStore::open(&StoreOptions::memory()).unwrap();
    let want: Vec<String> = (0..1100).map(|i| format!("k{i:05}")).collect();
    for k in &want {
        s.upsert(k, 0, b"v").unwrap();
    }
    assert_eq!(keys(s.keys("k").unwrap()), want);
    let mut rev = want.clone();
    rev.reverse();
    assert_eq!(keys(s.range("", -5000).unwrap()), rev);
    assert_eq!(s.keys(vec![0u8; 5000]).err().unwrap().status(), Status::Limit);
}

#[test]
fn a_state_cursor_outlives_its_store() {
    let s = StateStore::open(&StoreOptions::memory()).unwrap();
    fill(&s);
    let it = s.range("", 10).unwrap();
    drop(s);
    assert_eq!(it.count(), 4);
}

#[test]
fn journal_pids_in_byte_order_after_a_bound() {
    let j = Journal::open(&StoreOptions::memory()).unwrap();
    for pid in ["b", "a", "c"] {
        j.append(pid, 0, &[ddata::NewEvent::new("e")]).unwrap();
    }
    let all: Vec<Vec<u8>> = j.pids("", u64::MAX).unwrap().map(|p| p.unwrap()).collect();
    assert_eq!(all, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    let next: Vec<Vec<u8>> = j.pids("a", 1).unwrap().map(|p| p.unwrap()).collect();
    assert_eq!(next, vec![b"b".to_vec()]);
    assert_eq!(j.pids("c", u64::MAX).unwrap().count(), 0);
}

/// Issue 17.4 / 17.10: a read-only open creates nothing; a writable one
/// creates missing parent directories.
#[test]
fn read_only_creates_nothing_and_parents_are_created() {
    let d = std::env::temp_dir().join(format!("ddata-rs-ro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let path = d.join("a/b/s.db");
    let err = StateStore::open(&StoreOptions::sqlite(&path).read_only(true))
        .err()
        .unwrap();
    assert_eq!(err.status(), Status::NotFound);
    assert!(!d.exists());
    let s = StateStore::open(&StoreOptions::sqlite(&path)).unwrap();
    s.upsert("k", ANY_REVISION, b"v").unwrap();
    drop(s);
    let ro = StateStore::open(&StoreOptions::sqlite(&path).read_only(true)).unwrap();
    assert_eq!(ro.get("k").unwrap().unwrap().1, b"v".to_vec());
    assert!(ro.upsert("k", ANY_REVISION, b"w").is_err());
    drop(ro);
    std::fs::remove_dir_all(&d).unwrap();
}

/// Issue 17.8: missing items are one rule (ABI.md, "Missing items").
#[test]
fn deleting_a_missing_key_succeeds_unless_a_revision_was_expected() {
    let s = StateStore::open(&StoreOptions::memory()).unwrap();
    assert!(s.get("nope").unwrap().is_none());
    s.delete("nope", ANY_REVISION).unwrap();
    assert_eq!(s.delete("nope", 3).unwrap_err().status(), Status::Conflict);
}
