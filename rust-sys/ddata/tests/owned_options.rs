//! The engine options beyond identity reach the C engine from Rust (#18.4):
//! a queue cap of one keeps one outgoing message where the default keeps
//! one per reader.
use ddata::{Owned, OwnedOptions, OwnedTypeOptions, Urgency};

fn queued_after_publish(options: &OwnedOptions) -> usize {
    let owned = Owned::open_with(1, 1, None, options).unwrap();
    owned.register("load", &OwnedTypeOptions::default()).unwrap();
    for peer in 2..=4 {
        owned.member_up(peer, 1).unwrap();
    }
    while owned.next_outgoing().unwrap().is_some() {}
    owned.publish("load", true, b"42", Urgency::Immediate, 0).unwrap();
    let mut n = 0;
    while owned.next_outgoing().unwrap().is_some() {
        n += 1;
    }
    n
}

#[test]
fn owned_max_queued_caps_the_outgoing_queue() {
    assert_eq!(queued_after_publish(&OwnedOptions::default()), 3);
    let capped = OwnedOptions {
        max_queued: 1,
        ..OwnedOptions::default()
    };
    assert_eq!(queued_after_publish(&capped), 1);
}

#[test]
fn owned_open_with_takes_decode_limits() {
    let options = OwnedOptions {
        limits: Some(ddata::Limits::default()),
        max_queued: 0,
    };
    let owned = Owned::open_with(1, 1, None, &options).unwrap();
    owned.register("load", &OwnedTypeOptions::default()).unwrap();
}
