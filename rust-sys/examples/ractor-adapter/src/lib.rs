//! ddata inside ractor actors (an example crate, tested by `make test`).
//!
//! - [`replica_actor`]: an actor owns a node (a pump-mode [`ddata::System`]
//!   and its [`ddata::Replica`]), serves updates, gets and subscriptions, and
//!   carries the engine's gossip to peer actors as ordinary ractor messages:
//!   after every message it drains `next_outgoing` and casts each message to
//!   the actor of the node it names; a timer message drives `tick`.
//! - [`persistent`]: an event-sourced actor that recovers from journal and
//!   snapshot in `pre_start`, persists each event before changing its state
//!   (a failed write leaves the state as it was), and snapshots in
//!   `post_stop`.
pub mod persistent;
pub mod replica_actor;

/// Milliseconds since the Unix epoch: the clock every node is ticked with.
pub use ddata_actor_example_support::now_ms;
