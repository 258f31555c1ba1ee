//! ddata inside kameo actors (an example crate, tested by `make test-rust`),
//! the same two shapes as the ractor example beside it:
//!
//! - [`replica_actor`]: an actor owns a node (a pump-mode [`ddata::System`]
//!   and its [`ddata::Replica`]), answers updates, gets and subscriptions,
//!   and carries the engine's gossip to peer actors as kameo messages: after
//!   every message it drains `next_outgoing` and tells each message to the
//!   actor of the node it names; a ticker task drives `tick`.
//! - [`persistent`]: an event-sourced actor that recovers from snapshot and
//!   journal in `on_start`, persists each event before changing its state
//!   (a failed write leaves the state as it was), snapshots every N events
//!   with the Full strategy (or every event with Light), and saves a last
//!   snapshot on a graceful stop.
//!
//! See README.md for how the adapter handles kameo's bounded mailboxes and
//! synchronous spawn, where ractor's are unbounded and its spawn async.
pub mod persistent;
pub mod replica_actor;

/// Milliseconds since the Unix epoch: the clock every node is ticked with.
pub use ddata_actor_example_support::now_ms;
