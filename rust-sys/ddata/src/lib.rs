//! Safe Rust bindings to ddata: replicated, durable state (CRDTs, a gossip
//! replicator, an event journal, a durable state store) through the ddata C
//! library.
//!
//! Every method is one call into the C ABI plus conversions; behaviour lives
//! in C. Handles are RAII values that close themselves on drop, failures are
//! [`Error`]s carrying the library's status and message, and no `unsafe` is
//! needed to use the crate.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod buf;
mod crdt;
mod error;
mod log;
mod owned;
mod state_blocks;
mod store;
#[cfg(feature = "tokio")]
mod stream;
mod system;
#[cfg(feature = "testing")]
pub mod testing;
mod version;

pub use buf::Limits;
pub use crdt::{random_actor, Crdt, CrdtType, Op, OpKind};
pub use error::{Error, Result, Status};
pub use log::{LogLevel, LogRecord};
pub use owned::{
    OnMismatch, Owned, OwnedEvent, OwnedEventKind, OwnedOptions, OwnedStrategy, OwnedTypeOptions, OwnedView,
    Urgency,
};
pub use state_blocks::{ScanRange, StateOp};
pub use store::{
    Backend, Event, Events, Journal, Keyring, NewEvent, PersistStrategy, Pids, Record, Records, Recover,
    SealAlgorithm, Snapshot, SnapshotCriteria, StateStore, StoreOptions, Sync, ANY_REVISION,
};
#[cfg(feature = "tokio")]
pub use stream::EventStream;
pub use system::generate_node_key;
pub use system::{
    Consistency, DeltaStrategy, Event as SystemEvent, Events as SystemEvents, MemberState, Replica,
    ReplicaOptions, System, SystemOptions,
};
pub use version::{abi_version, init, version, version_number};

/// The raw FFI, for what this crate does not wrap yet.
pub use ddata_sys as sys;
