//! Owned state attached to TCP systems: the systems' drivers carry it.
use ddata::{Owned, OwnedTypeOptions, Replica, ReplicaOptions, Status, System, SystemOptions, Urgency};

fn tcp_node(id: &str, seeds: Vec<String>) -> System {
    let mut o = SystemOptions::new(id).seeds(seeds);
    o.tcp_listen = Some("127.0.0.1:0".into());
    o.secret = Some([5u8; 32]);
    System::open(&o).unwrap()
}

#[test]
fn owned_state_attached_to_a_tcp_system_reaches_the_other_node() {
    let a = tcp_node("oa", vec![]);
    let b = tcp_node("ob", vec![a.listen_address().unwrap()]);
    let _ra = Replica::open(&a, &ReplicaOptions::default()).unwrap();
    let _rb = Replica::open(&b, &ReplicaOptions::default()).unwrap();
    let oa = Owned::attach(&a, None).unwrap();
    let ob = Owned::attach(&b, None).unwrap();
    for o in [&oa, &ob] {
        o.register("load", &OwnedTypeOptions::default()).unwrap();
    }
    assert_eq!(oa.tick(1).unwrap_err().status(), Status::Misuse);
    oa.publish("load", true, b"42", Urgency::Default, 0).unwrap();
    let ida = Owned::node_of("oa").unwrap();
    let mut base = None;
    for _ in 0..500 {
        match ob.read("load", ida) {
            Ok(v) => {
                base = Some(v.base);
                break;
            }
            Err(e) if e.status() == Status::NotFound => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(base.as_deref(), Some(&b"42"[..]));
}
