//! The state store as a building block (issue 17.13): scan with bounds,
//! last/purge by prefix, atomic batch and flush, on every backend (sealed
//! too). A collection of another framework is a key prefix; nothing here
//! may touch a neighbour.
use std::path::PathBuf;

use ddata::{Keyring, ScanRange, StateOp, StateStore, Status, StoreOptions, ANY_REVISION};

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ddata-rust-blocks-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (name, where) pairs: None is memory (nothing to reopen).
fn places(name: &str) -> Vec<(&'static str, Option<PathBuf>)> {
    let d = tmpdir(name);
    vec![
        ("memory", None),
        ("sqlite", Some(d.join("s.db"))),
        ("fs", Some(d.join("fs"))),
        ("sealed-sqlite", Some(d.join("z.db"))),
    ]
}

fn open(kind: &str, at: &Option<PathBuf>, ring: &Keyring) -> StateStore {
    let opts = match (kind, at) {
        (_, None) => StoreOptions::memory(),
        ("fs", Some(p)) => StoreOptions::fs(p),
        ("sealed-sqlite", Some(p)) => StoreOptions::sqlite(p).keyring(ring),
        (_, Some(p)) => StoreOptions::sqlite(p),
    };
    StateStore::open(&opts).unwrap()
}

fn ring() -> Keyring {
    let mut r = Keyring::new().unwrap();
    r.add_key(1, &[7u8; 32]).unwrap();
    r
}

fn fill(s: &StateStore, keys: &[&[u8]]) {
    for k in keys {
        let mut v = b"v:".to_vec();
        v.extend_from_slice(k);
        s.upsert(k, ANY_REVISION, &v).unwrap();
    }
}

fn keys(it: ddata::Records) -> Vec<Vec<u8>> {
    it.map(|r| r.unwrap().key).collect()
}

#[test]
fn scan_excludes_start_stops_at_end_and_reverses() {
    let ring = ring();
    for (kind, at) in places("bounds") {
        let s = open(kind, &at, &ring);
        fill(&s, &[b"k1", b"k2", b"k3", b"k4", b"k5", b"k6", b"k7"]);
        let r = ScanRange {
            start: b"k3".to_vec(),
            start_exclusive: true,
            end: b"k6".to_vec(),
            ..ScanRange::default()
        };
        assert_eq!(
            keys(s.scan(&r).unwrap()),
            vec![b"k4".to_vec(), b"k5".to_vec()],
            "{kind}"
        );
        let back = ScanRange {
            end_inclusive: true,
            reverse: true,
            limit: 2,
            ..r
        };
        assert_eq!(
            keys(s.scan(&back).unwrap()),
            vec![b"k6".to_vec(), b"k5".to_vec()],
            "{kind}"
        );
    }
}

#[test]
fn scan_prefix_bound_with_ff_bytes_and_values() {
    let ring = ring();
    for (kind, at) in places("ff") {
        let s = open(kind, &at, &ring);
        fill(
            &s,
            &[
                b"a",
                b"a\xff",
                b"a\xff\x01",
                b"a\xff\xff",
                b"b",
                b"\xff",
                b"\xff\xff\x02",
            ],
        );
        let got: Vec<_> = s
            .scan(&ScanRange::prefix(b"a\xff".to_vec()))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let names: Vec<_> = got.iter().map(|r| r.key.clone()).collect();
        assert_eq!(
            names,
            vec![b"a\xff".to_vec(), b"a\xff\x01".to_vec(), b"a\xff\xff".to_vec()],
            "{kind}"
        );
        assert_eq!(got[0].state, b"v:a\xff".to_vec(), "{kind}");
        let bare = ScanRange {
            values: false,
            reverse: true,
            ..ScanRange::prefix(vec![0xff])
        };
        let rows: Vec<_> = s.scan(&bare).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(
            rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
            vec![b"\xff\xff\x02".to_vec(), b"\xff".to_vec()]
        );
        assert!(rows.iter().all(|r| r.state.is_empty()), "{kind}");
    }
}

#[test]
fn last_and_purge_by_prefix_leave_other_prefixes() {
    let ring = ring();
    for (kind, at) in places("prefix") {
        let s = open(kind, &at, &ring);
        fill(&s, &[b"a/1", b"a/2", b"ab", b"b/1"]);
        assert_eq!(
            s.last_prefix("a/").unwrap().unwrap().key,
            b"a/2".to_vec(),
            "{kind}"
        );
        assert!(s.last_prefix("z").unwrap().is_none(), "{kind}");
        s.purge_prefix("a/").unwrap();
        assert_eq!(
            keys(s.scan(&ScanRange::default()).unwrap()),
            vec![b"ab".to_vec(), b"b/1".to_vec()],
            "{kind}"
        );
    }
}

#[test]
fn batch_is_all_or_nothing_across_a_reopen() {
    let ring = ring();
    for (kind, at) in places("batch") {
        let s = open(kind, &at, &ring);
        fill(&s, &[b"a", b"b"]);
        let err = s
            .batch(&[
                StateOp::Upsert(b"a".to_vec(), 1, b"new".to_vec()),
                StateOp::Delete(b"b".to_vec(), 1),
                StateOp::Upsert(b"c".to_vec(), 0, b"c".to_vec()),
                StateOp::Upsert(b"d".to_vec(), 5, b"d".to_vec()),
            ])
            .unwrap_err();
        assert_eq!(err.status(), Status::Conflict, "{kind}");
        assert!(err.to_string().contains("op 3"), "{kind}: {err}");
        let s = if at.is_some() {
            drop(s);
            open(kind, &at, &ring)
        } else {
            s
        };
        assert_eq!(s.get("a").unwrap(), Some((1, b"v:a".to_vec())), "{kind}");
        assert!(
            s.get("b").unwrap().is_some() && s.get("c").unwrap().is_none(),
            "{kind}"
        );
        let revs = s
            .batch(&[
                StateOp::Upsert(b"a".to_vec(), 1, b"a2".to_vec()),
                StateOp::Delete(b"b".to_vec(), ANY_REVISION),
                StateOp::Upsert(b"c".to_vec(), 0, b"c".to_vec()),
            ])
            .unwrap();
        assert_eq!(revs, vec![2, 0, 1], "{kind}");
        assert!(s.get("b").unwrap().is_none(), "{kind}");
    }
}

#[test]
fn flush_then_reopen_keeps_writes() {
    let ring = ring();
    for (kind, at) in places("flush") {
        let s = open(kind, &at, &ring);
        s.upsert("f", 0, b"flushed").unwrap();
        s.flush().unwrap();
        let s = if at.is_some() {
            drop(s);
            open(kind, &at, &ring)
        } else {
            s
        };
        assert_eq!(s.get("f").unwrap(), Some((1, b"flushed".to_vec())), "{kind}");
    }
}
