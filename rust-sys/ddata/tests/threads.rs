//! The crate's Send/Sync markers follow the C contract (ABI.md, Threads):
//! values move between threads but are not shared; stores, systems and
//! replicas are shared (one lock per object in C). Checked at compile time.
use ddata::{Crdt, Journal, Keyring, Replica, StateStore, System};

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn handles_are_send_or_sync_exactly_as_the_c_contract_allows() {
    send::<Crdt>();
    send::<Keyring>();
    send_sync::<Journal>();
    send_sync::<StateStore>();
    send_sync::<System>();
    send_sync::<Replica>();
}

/// A `Crdt` must not be `Sync`: this only compiles if some `&Crdt` is not
/// shareable. (If `Crdt` became `Sync`, the blanket impl below would make
/// the two impls of `AmbiguousIfSync` overlap and the crate fail to build.)
trait AmbiguousIfSync<A> {
    fn check() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
struct IsSync;
impl<T: ?Sized + Sync> AmbiguousIfSync<IsSync> for T {}

#[test]
fn crdt_values_are_not_sync() {
    <Crdt as AmbiguousIfSync<_>>::check();
}
