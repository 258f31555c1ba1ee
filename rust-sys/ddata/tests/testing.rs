//! ddata::testing: the simulated cluster, clock and network applications
//! use in their own tests (feature `testing`).
use ddata::testing::{memory_journal, memory_store, ManualClock, SimCluster, SimNetwork};
use ddata::{CrdtType, Op, Replica, ANY_REVISION};

fn hits(r: &Replica) -> i64 {
    r.get("hits")
        .unwrap()
        .map(|c| c.counter_value().unwrap())
        .unwrap_or(0)
}

#[test]
fn a_partition_heals_and_the_cluster_converges() {
    let mut sim = SimCluster::new(3, 11).unwrap();
    let seed = sim.seed();
    sim.run(2000).unwrap();
    sim.partition(&[&["n0"], &["n1", "n2"]]);
    sim.replica("n0")
        .update("hits", CrdtType::PNCounter, &Op::increment(1))
        .unwrap();
    sim.replica("n1")
        .update("hits", CrdtType::PNCounter, &Op::increment(2))
        .unwrap();
    sim.run(2000).unwrap();
    let split: Vec<i64> = sim.values(hits).into_values().collect();
    assert_eq!(split, vec![1, 2, 2], "seed {seed}");
    sim.heal();
    sim.run(4000).unwrap();
    let healed: Vec<i64> = sim.values(hits).into_values().collect();
    assert_eq!(healed, vec![3, 3, 3], "seed {seed}");
}

#[test]
fn a_lossy_delaying_network_converges_and_replays_by_seed() {
    let play = |seed| {
        let mut sim = SimCluster::new(3, seed).unwrap();
        sim.network.drop_rate = 0.3;
        sim.network.delay_ms = (10, 200);
        sim.run(3000).unwrap();
        for (i, n) in sim.names().to_vec().iter().enumerate() {
            sim.replica(n)
                .update("s", CrdtType::ORSet, &Op::add(format!("e{i}")))
                .unwrap();
        }
        sim.run(8000).unwrap();
        let v = sim.values(|r| r.get("s").unwrap().unwrap().value_json().unwrap());
        (v, sim.network.dropped)
    };
    let (first, dropped) = play(5);
    assert!(dropped > 0);
    for v in first.values() {
        assert!(
            v.contains("\"e0\"") && v.contains("\"e1\"") && v.contains("\"e2\""),
            "{v}"
        );
    }
    assert_eq!(play(5), (first, dropped));
}

#[test]
fn a_restarted_node_keeps_durable_keys() {
    let mut sim = SimCluster::with_options(
        1,
        3,
        Some(Box::new(|o: &mut ddata::ReplicaOptions<'_>| {
            o.durable_keys = vec!["cart*".into()]
        })),
    )
    .unwrap();
    sim.replica("n0")
        .update("cart-1", CrdtType::ORSet, &Op::add("apple"))
        .unwrap();
    sim.replica("n0")
        .update("volatile", CrdtType::GCounter, &Op::increment(1))
        .unwrap();
    sim.restart("n0").unwrap();
    assert!(sim.replica("n0").get("cart-1").unwrap().is_some());
    assert!(sim.replica("n0").get("volatile").unwrap().is_none());
}

#[test]
fn clock_network_and_memory_stores() {
    let mut clock = ManualClock::at(1000);
    assert_eq!(clock.advance(5), 1005);
    let mut net = SimNetwork::new(1);
    net.partition(&[&["a"], &["b"]]);
    net.send(0, "a", "b", b"x".to_vec());
    net.heal();
    net.send(0, "a", "b", b"y".to_vec());
    assert_eq!(
        net.due(0),
        vec![("a".to_string(), "b".to_string(), b"y".to_vec())]
    );
    assert_eq!(net.dropped, 1);
    let s = memory_store().unwrap();
    assert_eq!(s.upsert("k", ANY_REVISION, b"v").unwrap(), 1);
    let j = memory_journal().unwrap();
    j.append("p", 0, &[ddata::NewEvent::new("e")]).unwrap();
}
