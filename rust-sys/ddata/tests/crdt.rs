use ddata::{Crdt, CrdtType, Limits, Op, Status};

fn seed() -> u64 {
    std::env::var("DDATA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn counter_counts_increments_and_decrements() {
    let mut c = Crdt::with_actor(CrdtType::PNCounter, 3).unwrap();
    c.increment(10).unwrap();
    c.apply(&Op::decrement(4), 0).unwrap();
    assert_eq!(c.counter_value().unwrap(), 6);
    assert_eq!(c.crdt_type(), CrdtType::PNCounter);
    assert_eq!(c.value_json().unwrap(), r#"{"type":"PNCounter","value":6}"#);
}

#[test]
fn replicas_converge_through_deltas_and_full_merges() {
    let mut a = Crdt::with_actor(CrdtType::ORSet, 1).unwrap();
    let mut b = Crdt::with_actor(CrdtType::ORSet, 2).unwrap();
    a.apply(&Op::add("x"), 0).unwrap();
    let delta = b.apply_delta(&Op::add("y"), 0).unwrap();
    a.merge(&delta).unwrap();
    b.merge(&a).unwrap();
    assert_eq!(a.elements().unwrap(), vec![b"x".to_vec(), b"y".to_vec()]);
    assert_eq!(a, b);
}

#[test]
fn maps_registers_and_flags_read_back() {
    let mut m = Crdt::new(CrdtType::ORMap).unwrap();
    m.apply(&Op::update("cart", CrdtType::GCounter, Op::increment(2)), 0)
        .unwrap();
    assert_eq!(m.map_get("cart").unwrap().unwrap().counter_value().unwrap(), 2);
    assert!(m.map_get("none").unwrap().is_none());
    let mut r = Crdt::new(CrdtType::LWWRegister).unwrap();
    assert_eq!(r.register_get().unwrap(), None);
    r.apply(&Op::assign("hi"), 5000).unwrap();
    assert_eq!(r.register_get().unwrap().unwrap(), b"hi");
    let mut f = Crdt::new(CrdtType::Flag).unwrap();
    assert!(!f.flag_value().unwrap());
    f.apply(&Op::enable(), 0).unwrap();
    assert!(f.flag_value().unwrap());
}

#[test]
fn an_op_of_the_wrong_type_fails_and_changes_nothing() {
    let mut c = Crdt::new(CrdtType::GCounter).unwrap();
    c.increment(1).unwrap();
    let err = c.apply(&Op::add("x"), 0).unwrap_err();
    assert_eq!(err.status(), Status::TypeMismatch);
    assert!(!err.message().is_empty());
    assert_eq!(c.counter_value().unwrap(), 1);
    assert_eq!(c.flag_value().unwrap_err().status(), Status::TypeMismatch);
}

#[test]
fn garbage_bytes_never_crash_and_limits_hold() {
    let seed = seed();
    let mut rng = Rng(seed | 1);
    for _ in 0..500 {
        let len = (rng.next() % 40) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Err(e) = Crdt::decode(&bytes, &Limits::default(), 0) {
            assert!(e.code() < 0, "seed {seed}");
        }
    }
    let mut s = Crdt::new(CrdtType::GSet).unwrap();
    for e in ["a", "b", "c"] {
        s.apply(&Op::add(e), 0).unwrap();
    }
    let tight = Limits {
        max_elements: 2,
        ..Limits::default()
    };
    assert_eq!(
        Crdt::decode(&s.encode().unwrap(), &tight, 0)
            .unwrap_err()
            .status(),
        Status::Limit
    );
    assert_eq!(
        Crdt::decode(&s.encode().unwrap(), &Limits::default(), 0).unwrap(),
        s
    );
    assert!(Crdt::from_json("{", &Limits::default()).unwrap_err().code() < 0);
}

#[test]
fn merge_is_commutative_and_idempotent_for_random_histories() {
    let seed = seed();
    let mut rng = Rng(seed | 1);
    for round in 0..30 {
        let mut a = Crdt::with_actor(CrdtType::ORSet, 1).unwrap();
        let mut b = Crdt::with_actor(CrdtType::ORSet, 2).unwrap();
        for _ in 0..20 {
            let el = format!("e{}", rng.next() % 5);
            let op = if rng.next() % 10 < 6 {
                Op::add(&el)
            } else {
                Op::remove(&el)
            };
            if rng.next() % 2 == 0 {
                a.apply(&op, 0).unwrap();
                if rng.next() % 5 == 0 {
                    b.merge(&a).unwrap();
                }
            } else {
                b.apply(&op, 0).unwrap();
                if rng.next() % 5 == 0 {
                    a.merge(&b).unwrap();
                }
            }
        }
        let mut ab = a.clone();
        ab.merge(&b).unwrap();
        let mut ba = b.clone();
        ba.merge(&a).unwrap();
        assert_eq!(ab, ba, "seed {seed} round {round}");
        let mut again = ab.clone();
        again.merge(&b).unwrap();
        assert_eq!(again, ab, "seed {seed} round {round}: idempotence");
    }
}

#[test]
fn values_move_between_threads() {
    let mut c = Crdt::new(CrdtType::GCounter).unwrap();
    c.increment(2).unwrap();
    let c = std::thread::spawn(move || {
        c.counter_value().unwrap();
        c
    })
    .join()
    .unwrap();
    assert_eq!(c.counter_value().unwrap(), 2);
}

#[test]
fn random_actors_are_nonzero_and_distinct() {
    let a = ddata::random_actor().unwrap();
    let b = ddata::random_actor().unwrap();
    assert!(a != 0 && b != 0 && a != b);
}
