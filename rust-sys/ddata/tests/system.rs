use ddata::{
    Consistency, CrdtType, MemberState, Op, Replica, ReplicaOptions, System, SystemEvent, SystemOptions,
};

/// Moves every queued message between the nodes until none is left.
fn pump(nodes: &[(&str, &System)], now: u64) {
    for _ in 0..50 {
        let mut moved = false;
        for (from, sys) in nodes {
            for (to, msg) in sys.outgoing().unwrap() {
                if let Some((_, dst)) = nodes.iter().find(|(id, _)| *id == to) {
                    dst.deliver(now, from, &msg).unwrap();
                    moved = true;
                }
            }
        }
        if !moved {
            return;
        }
    }
}

/// One round of the two-node clock: both nodes tick at `now`, then their
/// messages move until none is left.
fn tick_both(a: &System, b: &System, now: u64) {
    a.tick(now).unwrap();
    b.tick(now).unwrap();
    pump(&[("a", a), ("b", b)], now);
}

fn cluster() -> (System, System, Replica, Replica) {
    let a = System::open(&SystemOptions::new("a").seeds(["a"])).unwrap();
    let b = System::open(&SystemOptions::new("b").seeds(["a"])).unwrap();
    let ra = Replica::open(&a, &ReplicaOptions::default()).unwrap();
    let rb = Replica::open(&b, &ReplicaOptions::default()).unwrap();
    let mut now = 1_000_000;
    for _ in 0..20 {
        now += 200;
        tick_both(&a, &b, now);
    }
    (a, b, ra, rb)
}

#[test]
fn two_nodes_in_pump_mode_converge() {
    let (a, b, ra, rb) = cluster();
    ra.update("hits", CrdtType::GCounter, &Op::increment(3)).unwrap();
    rb.update("hits", CrdtType::GCounter, &Op::increment(4)).unwrap();
    let mut now = 2_000_000;
    for _ in 0..20 {
        now += 500;
        tick_both(&a, &b, now);
    }
    assert_eq!(ra.get("hits").unwrap().unwrap().counter_value().unwrap(), 7);
    assert_eq!(rb.get("hits").unwrap().unwrap().counter_value().unwrap(), 7);
    let ups = a
        .events()
        .filter_map(|e| match e.unwrap() {
            SystemEvent::Member {
                node,
                state: MemberState::Up,
                ..
            } => Some(node),
            _ => None,
        })
        .count();
    assert!(ups >= 1, "node a saw no member come up");
}

#[test]
fn a_majority_write_completes_with_an_event() {
    let (a, b, ra, _rb) = cluster();
    a.events().for_each(drop);
    let id = ra
        .write("k", CrdtType::ORSet, &Op::add("x"), Consistency::All, 5000)
        .unwrap();
    // The pump's clock schedules the timeout: go on from where cluster()
    // left it (a jump of 2000 s would rightly time the request out).
    let mut now = 1_004_000;
    let mut done = None;
    for _ in 0..20 {
        now += 100;
        tick_both(&a, &b, now);
        for e in a.events() {
            if let SystemEvent::RequestDone { request_id, status } = e.unwrap() {
                if request_id == id {
                    done = Some(status);
                }
            }
        }
        if done.is_some() {
            break;
        }
    }
    assert_eq!(done, Some(Ok(())));
}

#[test]
fn subscriptions_queue_changed_events_and_the_fd_is_valid() {
    let a = System::open(&SystemOptions::new("solo").seeds(["solo"])).unwrap();
    // The test's clock: given before the replica starts its timers.
    let now = 1_700_000_000_000u64;
    a.tick(now).unwrap();
    let r = Replica::open(&a, &ReplicaOptions::default()).unwrap();
    assert!(a.event_fd().unwrap() >= 0);
    r.subscribe("cart/", true).unwrap();
    r.update("cart/1", CrdtType::GCounter, &Op::increment(1)).unwrap();
    for t in 1..10 {
        a.tick(now + t * 1000).unwrap();
    }
    let changed: Vec<_> = a
        .events()
        .filter_map(|e| match e.unwrap() {
            SystemEvent::Changed { key } => Some(key),
            _ => None,
        })
        .collect();
    assert_eq!(changed, vec![b"cart/1".to_vec()]);
    assert_eq!(r.keys().unwrap(), vec![b"cart/1".to_vec()]);
}

#[test]
fn garbage_messages_are_rejected_and_change_nothing() {
    let (a, _b, ra, _rb) = cluster();
    ra.update("k", CrdtType::GCounter, &Op::increment(2)).unwrap();
    let err = a.deliver(5_000_000, "b", &[0xff, 0x00, 0x13, 0x37]).unwrap_err();
    assert!(err.code() < 0);
    assert_eq!(ra.get("k").unwrap().unwrap().counter_value().unwrap(), 2);
}

#[test]
fn a_system_outlives_its_handle_while_its_replica_is_open() {
    let a = System::open(&SystemOptions::new("x")).unwrap();
    let r = Replica::open(&a, &ReplicaOptions::default()).unwrap();
    drop(a);
    r.update("k", CrdtType::Flag, &Op::enable()).unwrap();
    assert!(r.get("k").unwrap().unwrap().flag_value().unwrap());
    assert_eq!(r.system().next_outgoing().unwrap(), None);
}

#[test]
fn tcp_only_calls_are_unsupported_in_pump_mode_and_stats_are_json() {
    let a = System::open(&SystemOptions::new("p").seeds(["p"])).unwrap();
    assert_eq!(
        a.listen_address().unwrap_err().status(),
        ddata::Status::Unsupported
    );
    assert_eq!(
        a.connect("127.0.0.1:1").unwrap_err().status(),
        ddata::Status::Unsupported
    );
    let stats: serde_json::Value = serde_json::from_str(&a.stats_json().unwrap()).unwrap();
    assert_eq!(stats["node"], "p");
}

#[test]
fn two_nodes_over_the_builtin_tcp_transport_converge() {
    let mut oa = SystemOptions::new("ta");
    oa.tcp_listen = Some("127.0.0.1:0".into());
    oa.secret = Some([9u8; 32]);
    let a = System::open(&oa).unwrap();
    let addr = a.listen_address().unwrap();
    let mut ob = SystemOptions::new("tb").seeds([addr.clone()]);
    ob.tcp_listen = Some("127.0.0.1:0".into());
    ob.secret = Some([9u8; 32]);
    let b = System::open(&ob).unwrap();
    let gossip_fast = ReplicaOptions {
        gossip_interval_ms: 50,
        ..Default::default()
    };
    let ra = Replica::open(&a, &gossip_fast).unwrap();
    let rb = Replica::open(&b, &gossip_fast).unwrap();
    ra.update("k", CrdtType::GCounter, &Op::increment(3)).unwrap();
    let mut got = None;
    for _ in 0..200 {
        got = rb.get("k").unwrap().map(|c| c.counter_value().unwrap());
        if got == Some(3) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(got, Some(3), "the update never crossed the TCP transport");
}

/// Issue 17.1: the host's clock may start at 0 (it ended at [6, 6, 3] when
/// 0 meant "use the wall clock"); a time going backwards is refused.
#[test]
fn a_pump_cluster_ticking_from_zero_converges_and_refuses_a_clock_going_back() {
    let ids = ["a", "b", "c"];
    let systems: Vec<System> = ids
        .iter()
        .map(|id| System::open(&SystemOptions::new(*id).seeds(["a"])).unwrap())
        .collect();
    for s in &systems {
        s.tick(0).unwrap();
    }
    let replicas: Vec<Replica> = systems
        .iter()
        .map(|s| Replica::open(s, &ReplicaOptions::default()).unwrap())
        .collect();
    for r in &replicas {
        r.update("hits", CrdtType::GCounter, &Op::increment(2)).unwrap();
    }
    let nodes: Vec<(&str, &System)> = ids.iter().copied().zip(systems.iter()).collect();
    let mut now = 0;
    for _ in 0..60 {
        now += 100;
        for s in &systems {
            s.tick(now).unwrap();
        }
        pump(&nodes, now);
    }
    let values: Vec<i64> = replicas
        .iter()
        .map(|r| r.get("hits").unwrap().unwrap().counter_value().unwrap())
        .collect();
    assert_eq!(values, [6, 6, 6]);
    assert_eq!(
        systems[0].tick(now - 1).unwrap_err().status(),
        ddata::Status::InvalidArgument
    );
}

/// Issue 17.2: a replica keeps its records under its prefix and leaves the
/// rest of a shared store alone.
#[test]
fn a_replica_shares_its_store_with_the_application() {
    let store = ddata::StateStore::open(&ddata::StoreOptions::memory()).unwrap();
    store.upsert("app/user/1", 0, b"x").unwrap();
    let opts = |prefix: Option<&str>| ReplicaOptions {
        store: Some(&store),
        durable_keys: vec!["*".into()],
        store_prefix: prefix.map(String::from),
        ..Default::default()
    };
    {
        let a = System::open(&SystemOptions::new("a").seeds(["a"])).unwrap();
        let r = Replica::open(&a, &opts(None)).unwrap();
        r.update("hits", CrdtType::GCounter, &Op::increment(3)).unwrap();
    }
    let keys: Vec<Vec<u8>> = store.keys("").unwrap().map(|r| r.unwrap().key).collect();
    assert_eq!(keys, [b"app/user/1".to_vec(), b"dd/replica/hits".to_vec()]);
    let a = System::open(&SystemOptions::new("a").seeds(["a"])).unwrap();
    let r = Replica::open(&a, &opts(None)).unwrap();
    assert_eq!(r.get("hits").unwrap().unwrap().counter_value().unwrap(), 3);
    assert!(r.get("app/user/1").unwrap().is_none());
    let c = System::open(&SystemOptions::new("c").seeds(["c"])).unwrap();
    let other = Replica::open(&c, &opts(Some("other/"))).unwrap();
    assert!(other.get("hits").unwrap().is_none());
}

#[test]
fn metrics_text_shows_both_members_up_with_help_and_type() {
    let (a, _b, _ra, _rb) = cluster();
    let text = a.metrics_text().unwrap();
    let help: Vec<&str> = text.lines().filter(|l| l.starts_with("# HELP ")).collect();
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    assert!(!help.is_empty());
    assert_eq!(help.len(), types.len());
    assert!(
        text.lines().any(|l| l == "ddata_members{state=\"up\"} 2"),
        "{text}"
    );
}

#[test]
fn a_node_that_leaves_is_removed_at_once_and_refuses_writes() {
    let (a, b, _ra, rb) = cluster();
    let _ = a.events().count();
    b.leave(std::time::Duration::from_secs(60)).unwrap(); // pump mode: returns at once
    pump(&[("a", &a), ("b", &b)], 1_005_000);
    let states: Vec<MemberState> = a
        .events()
        .filter_map(|e| match e.unwrap() {
            SystemEvent::Member { node, state, .. } if node == "b" => Some(state),
            _ => None,
        })
        .collect();
    assert_eq!(states, vec![MemberState::Removed]);
    let err = rb.update("x", CrdtType::GCounter, &Op::increment(1)).unwrap_err();
    assert_eq!(err.status(), ddata::Status::Misuse);
    assert!(err.message().contains("has left"));
    let again = b.leave(std::time::Duration::ZERO).unwrap_err();
    assert_eq!(again.status(), ddata::Status::Misuse);
}
