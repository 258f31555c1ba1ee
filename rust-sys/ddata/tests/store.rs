use ddata::{
    Journal, Keyring, NewEvent, PersistStrategy, Recover, SnapshotCriteria, StateStore, Status, StoreOptions,
    ANY_REVISION,
};

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ddata-rust-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn append_then_replay_with_bounds() {
    let j = Journal::open(&StoreOptions::memory()).unwrap();
    let evs: Vec<NewEvent> = (1..=5).map(|i| NewEvent::new(format!("e{i}")).tag("t")).collect();
    j.append("p", 0, &evs).unwrap();
    assert_eq!(j.highest_seq("p").unwrap(), 5);
    let got: Vec<u64> = j
        .replay("p", 2, 4, u64::MAX)
        .unwrap()
        .map(|e| e.unwrap().seq)
        .collect();
    assert_eq!(got, vec![2, 3, 4]);
    let first = j.replay("p", 1, u64::MAX, 1).unwrap().next().unwrap().unwrap();
    assert_eq!(
        (first.payload.as_slice(), first.tags.clone()),
        (&b"e1"[..], vec!["t".to_string()])
    );
    assert_eq!(j.by_tag("t", 0, u64::MAX).unwrap().count(), 5);
    assert_eq!(j.replay("nobody", 1, u64::MAX, u64::MAX).unwrap().count(), 0);
}

#[test]
fn a_stale_writer_conflicts_and_writes_nothing() {
    let j = Journal::open(&StoreOptions::memory()).unwrap();
    j.append("p", 0, &[NewEvent::new("a")]).unwrap();
    let e = j
        .append("p", 0, &[NewEvent::new("b"), NewEvent::new("c")])
        .unwrap_err();
    assert_eq!(e.status(), Status::Conflict);
    assert_eq!(j.highest_seq("p").unwrap(), 1);
}

#[test]
fn deleted_events_are_not_replayed_and_highest_seq_stays() {
    let j = Journal::open(&StoreOptions::memory()).unwrap();
    j.append(
        "p",
        0,
        &[NewEvent::new("a"), NewEvent::new("b"), NewEvent::new("c")],
    )
    .unwrap();
    j.delete_to("p", 2).unwrap();
    let got: Vec<u64> = j
        .replay("p", 1, u64::MAX, u64::MAX)
        .unwrap()
        .map(|e| e.unwrap().seq)
        .collect();
    assert_eq!(got, vec![3]);
    assert_eq!(j.highest_seq("p").unwrap(), 3);
}

#[test]
fn snapshots_select_by_criteria() {
    let j = Journal::open(&StoreOptions::memory()).unwrap();
    assert!(j
        .load_snapshot("p", &SnapshotCriteria::default())
        .unwrap()
        .is_none());
    j.save_snapshot("p", 5, 100, b"five").unwrap();
    j.save_snapshot("p", 9, 200, b"nine").unwrap();
    assert_eq!(
        j.load_snapshot("p", &SnapshotCriteria::default())
            .unwrap()
            .unwrap()
            .state,
        b"nine"
    );
    let before = SnapshotCriteria {
        max_seq: 8,
        ..Default::default()
    };
    assert_eq!(j.load_snapshot("p", &before).unwrap().unwrap().seq, 5);
}

#[test]
fn state_store_compare_and_set() {
    let s = StateStore::open(&StoreOptions::memory()).unwrap();
    assert_eq!(s.upsert("k", 0, b"v1").unwrap(), 1);
    assert_eq!(s.upsert("k", 0, b"again").unwrap_err().status(), Status::Conflict);
    assert_eq!(s.upsert("k", 1, b"v2").unwrap(), 2);
    assert_eq!(s.get("k").unwrap(), Some((2, b"v2".to_vec())));
    assert_eq!(s.upsert("k", ANY_REVISION, b"v3").unwrap(), 3);
    s.delete("k", 3).unwrap();
    assert_eq!(s.get("k").unwrap(), None);
    assert_eq!(s.delete("k", 0).unwrap_err().status(), Status::InvalidArgument);
}

struct Sum {
    total: i64,
    snapshots: u32,
}

impl Recover for Sum {
    fn snapshot(&mut self, _seq: u64, state: &[u8]) -> ddata::Result<()> {
        self.snapshots += 1;
        self.total = String::from_utf8_lossy(state).parse().unwrap();
        Ok(())
    }
    fn event(&mut self, ev: &ddata::Event) -> ddata::Result<()> {
        self.total += String::from_utf8_lossy(&ev.payload).parse::<i64>().unwrap();
        Ok(())
    }
}

#[test]
fn persisted_events_recover_from_snapshot_and_tail() {
    let dir = tmpdir("persist");
    let path = dir.join("j.db");
    let mut total = 0i64;
    {
        let j = Journal::open(&StoreOptions::sqlite(&path)).unwrap();
        for i in 1..=7u64 {
            total += i as i64;
            let strategy = PersistStrategy::Full {
                snapshot_every: 3,
                compact: false,
            };
            let seq = j.persist(
                "acc",
                i - 1,
                &NewEvent::new(i.to_string()),
                total.to_string().as_bytes(),
                strategy,
            );
            assert_eq!(seq.unwrap(), i);
        }
    }
    let j = Journal::open(&StoreOptions::sqlite(&path)).unwrap();
    let mut sum = Sum {
        total: 0,
        snapshots: 0,
    };
    assert_eq!(j.recover("acc", &mut sum).unwrap(), 7);
    assert_eq!((sum.total, sum.snapshots), (28, 1));
    drop(j);
    std::fs::remove_dir_all(dir).unwrap();
}

struct Refuse;
impl Recover for Refuse {
    fn snapshot(&mut self, _: u64, _: &[u8]) -> ddata::Result<()> {
        Ok(())
    }
    fn event(&mut self, _: &ddata::Event) -> ddata::Result<()> {
        Err(ddata::Error::new(Status::Corrupt, "bad event payload"))
    }
}

#[test]
fn a_recovery_handler_error_stops_recovery_with_that_error() {
    let j = Journal::open(&StoreOptions::memory()).unwrap();
    j.append("p", 0, &[NewEvent::new("x")]).unwrap();
    let e = j.recover("p", &mut Refuse).unwrap_err();
    assert_eq!((e.status(), e.message()), (Status::Corrupt, "bad event payload"));
}

#[test]
fn a_sealed_store_rejects_the_wrong_key() {
    let dir = tmpdir("sealed");
    let path = dir.join("s.db");
    {
        let mut ring = Keyring::new().unwrap();
        ring.add_key(1, &[7u8; 32]).unwrap();
        let s = StateStore::open(&StoreOptions::sqlite(&path).keyring(&ring)).unwrap();
        s.upsert("k", 0, b"secret").unwrap();
    }
    let mut wrong = Keyring::new().unwrap();
    wrong.add_key(1, &[8u8; 32]).unwrap();
    let s = StateStore::open(&StoreOptions::sqlite(&path).keyring(&wrong)).unwrap();
    assert_eq!(s.get("k").unwrap_err().status(), Status::Crypto);
    let mut bad = Keyring::new().unwrap();
    assert_eq!(
        bad.add_key(1, &[1u8; 5]).unwrap_err().status(),
        Status::InvalidArgument
    );
    drop(s);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn stores_are_shared_between_threads() {
    let s = std::sync::Arc::new(StateStore::open(&StoreOptions::memory()).unwrap());
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    s.upsert(format!("k{t}-{i}"), 0, b"x").unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(s.get("k3-49").unwrap().unwrap().0, 1);
}

#[test]
fn must_exist_refuses_an_empty_file_and_a_missing_path() {
    let d = tmpdir("must-exist");
    let empty = d.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Journal::open(&StoreOptions::sqlite(&empty).must_exist(true)).err().unwrap();
    assert_eq!(err.status(), Status::Corrupt);
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    let missing = d.join("missing");
    let err = StateStore::open(&StoreOptions::fs(&missing).must_exist(true)).err().unwrap();
    assert_eq!(err.status(), Status::NotFound);
    assert!(!missing.exists());
    Journal::open(&StoreOptions::sqlite(&empty)).unwrap().append("p", 0, &[NewEvent::new("x")]).unwrap();
    let j = Journal::open(&StoreOptions::sqlite(&empty).must_exist(true)).unwrap();
    assert_eq!(j.highest_seq("p").unwrap(), 1);
}

#[test]
fn compression_works_without_a_keyring() {
    let d = tmpdir("zip");
    let root = d.join("zip");
    let big = vec![b'a'; 4096];
    let s = StateStore::open(&StoreOptions::fs(&root).compression(9, 256)).unwrap();
    s.upsert("k", 0, &big).unwrap();
    assert_eq!(s.get("k").unwrap().unwrap().1, big);
    drop(s);
    assert!(std::fs::metadata(root.join("state").join("x6b")).unwrap().len() < 300);
}

#[test]
fn postgres_backend_reports_the_servers_error() {
    let opts = StoreOptions::postgres("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
    let e = match Journal::open(&opts) {
        Ok(_) => panic!("opened a journal on a closed port"),
        Err(e) => e,
    };
    assert_eq!(e.status(), Status::Io);
    assert!(e.message().contains("postgres: connecting"), "{}", e.message());
}

#[test]
fn a_keyring_can_seal_with_aes_256_gcm_where_the_cpu_has_it() {
    use ddata::{Keyring, SealAlgorithm, StateStore, StoreOptions, ANY_REVISION};
    let dir = std::env::temp_dir().join(format!("ddata-rs-aes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut ring = Keyring::new().unwrap();
    ring.add_key(1, &[7u8; 32]).unwrap();
    let r = ring.set_algorithm(SealAlgorithm::Aes256Gcm);
    if !SealAlgorithm::Aes256Gcm.available() {
        assert_eq!(r.unwrap_err().status(), ddata::Status::Unsupported);
        return;
    }
    r.unwrap();
    let opts = StoreOptions::sqlite(dir.join("s.db")).keyring(&ring).compression(9, 16).busy_timeout_ms(1000);
    let s = StateStore::open(&opts).unwrap();
    s.upsert("k", ANY_REVISION, &[b'x'; 4096]).unwrap();
    assert_eq!(s.get("k").unwrap().unwrap().1, vec![b'x'; 4096]);
    drop(s);
    std::fs::remove_dir_all(dir).unwrap();
}
