//! Empty: this crate exists for its tests (tests/snow_peer.rs).
