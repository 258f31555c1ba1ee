//! Node-owned state ([`Owned`]): each node is the only writer of its own
//! instance of a registered type and holds read-only views of everyone
//! else's (ABI.md, "Node-owned state"). Pump mode: the host ticks, delivers
//! and sends, as for [`crate::System`]. ddata never folds views: a view is a
//! base plus deltas that the application folds itself. `Owned` is `Send +
//! Sync` (the engine locks per call).
use std::ffi::{CStr, CString};
use std::ptr::{self, NonNull};

use ddata_sys as sys;

use crate::buf::{empty, lib_defaults, take, Limits};
use crate::error::{call_on, check, open_handle, read_on, Error, Result, Status};
use crate::store::StateStore;
use crate::system::System;

/// How a type's views spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedStrategy {
    /// Every mutation is pushed to the readers.
    ActivePush = 1,
    /// A batched feed; reads pull when the view is stale.
    FeedLazyPull = 2,
    /// The feed plus periodic snapshots.
    FeedWithPeriodicSync = 3,
    /// Periodic snapshots only.
    PeriodicOnly = 4,
}

/// What a reader does with a view of another wire version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMismatch {
    /// Keep the last matching view, flagged `version_mismatch`.
    KeepStale = 1,
    /// Remove the view until the versions match.
    DropAndWait = 2,
}

/// When a publish is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// The type's strategy decides.
    Default,
    /// Announced at once.
    Immediate,
    /// Within `delay_ms` of the publish.
    Delayed,
    /// Not announced; the next announcement carries it.
    Suppressed,
    /// A raw value (for testing the library's argument checks).
    Raw(u32),
}

impl Urgency {
    fn raw(self) -> u32 {
        match self {
            Urgency::Default => 0,
            Urgency::Immediate => 1,
            Urgency::Delayed => 2,
            Urgency::Suppressed => 3,
            Urgency::Raw(v) => v,
        }
    }
}

/// Per-type settings; defaults are DD_OWNED_TYPE_OPTIONS_INIT.
#[derive(Debug, Clone, Copy)]
pub struct OwnedTypeOptions {
    /// How views spread.
    pub strategy: OwnedStrategy,
    /// Version of the view bytes on the wire.
    pub wire_version: u32,
    /// Version of the persisted view bytes.
    pub storage_version: u32,
    /// What a reader does with a view of another wire version.
    pub on_mismatch: OnMismatch,
    /// Deltas before a CompactWanted event; 0 = never.
    pub compact_every: u32,
    /// Announcement period of the feed strategies.
    pub feed_interval_ms: u64,
    /// Period of full snapshots (active push: the heartbeat).
    pub sync_interval_ms: u64,
    /// How soon a pull is retried.
    pub pull_retry_ms: u64,
    /// A pending query fails with Timeout after this long.
    pub pull_timeout_ms: u64,
}

impl Default for OwnedTypeOptions {
    fn default() -> Self {
        let raw = lib_defaults(
            sys::dd_owned_type_options_init,
            sys::DD_OWNED_TYPE_OPTIONS_VERSION,
        );
        OwnedTypeOptions {
            strategy: match raw.strategy {
                2 => OwnedStrategy::FeedLazyPull,
                3 => OwnedStrategy::FeedWithPeriodicSync,
                4 => OwnedStrategy::PeriodicOnly,
                _ => OwnedStrategy::ActivePush,
            },
            wire_version: raw.wire_version,
            storage_version: raw.storage_version,
            on_mismatch: if raw.on_mismatch == 2 {
                OnMismatch::DropAndWait
            } else {
                OnMismatch::KeepStale
            },
            compact_every: raw.compact_every,
            feed_interval_ms: raw.feed_interval_ms,
            sync_interval_ms: raw.sync_interval_ms,
            pull_retry_ms: raw.pull_retry_ms,
            pull_timeout_ms: raw.pull_timeout_ms,
        }
    }
}

/// A copy of a view: `base` at `base_age`, then `deltas` for the ages after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedView {
    /// The owner node.
    pub node_id: u64,
    /// The owner's incarnation.
    pub incarnation: u64,
    /// Age (version) of the newest delta.
    pub age: u64,
    /// Age of `base`.
    pub base_age: u64,
    /// Wire version the owner published with.
    pub wire_version: u32,
    /// Kept stale under [`OnMismatch::KeepStale`]: the versions differ.
    pub version_mismatch: bool,
    /// When the owner last confirmed the view (ms, the engine's clock).
    pub confirmed_ms: u64,
    /// The base bytes at `base_age`.
    pub base: Vec<u8>,
    /// Deltas for the ages after `base_age`, oldest first.
    pub deltas: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// What an [`OwnedEvent`] reports.
pub enum OwnedEventKind {
    /// A view of another node changed.
    ViewChanged,
    /// A view was removed: its node left, or its version no longer matches.
    ViewRemoved,
    /// A query finished (see `status`).
    QueryDone,
    /// A peer publishes another wire version.
    VersionMismatch,
    /// This node's deltas reached `compact_every`: publish a new base.
    CompactWanted,
    /// A kind this crate does not know yet.
    Other(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One queued owned-state event.
pub struct OwnedEvent {
    /// What happened.
    pub kind: OwnedEventKind,
    /// QueryDone: Ok, or Timeout / NotFound / Unsupported.
    pub status: std::result::Result<(), Status>,
    /// The node the event is about.
    pub node_id: u64,
    /// That node's incarnation.
    pub incarnation: u64,
    /// The view's age.
    pub age: u64,
    /// The query's id (QueryDone).
    pub request_id: u64,
    /// The peer's wire version (VersionMismatch).
    pub peer_version: u32,
    /// The registered type the event is about.
    pub type_name: String,
}

/// Engine settings beyond the node's identity, for [`Owned::open_with`] and
/// [`Owned::attach_with`]; the defaults are DD_OWNED_OPTIONS_INIT's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnedOptions {
    /// Decode limits for everything received; None = the library's defaults.
    pub limits: Option<Limits>,
    /// Cap on queued outgoing messages and on queued events, each (beyond it
    /// they are dropped and the protocol repairs); 0 = 65536.
    pub max_queued: u64,
}

/// One node's owned-state engine.
pub struct Owned {
    h: NonNull<sys::dd_owned>,
}

unsafe impl Send for Owned {}
unsafe impl std::marker::Sync for Owned {}

fn ctype(t: &str) -> Result<CString> {
    CString::new(t).map_err(|_| Error::new(Status::InvalidArgument, "type name contains a NUL byte"))
}

impl Owned {
    /// `incarnation` must be larger at every fresh start; with `store`, this
    /// node's instances persist there (the store stays open while used).
    pub fn open(node_id: u64, incarnation: u64, store: Option<&StateStore>) -> Result<Owned> {
        Self::open_raw(node_id, incarnation, store, None, &OwnedOptions::default())
    }

    /// [`Owned::open`] with decode limits and a queue cap.
    pub fn open_with(
        node_id: u64,
        incarnation: u64,
        store: Option<&StateStore>,
        options: &OwnedOptions,
    ) -> Result<Owned> {
        Self::open_raw(node_id, incarnation, store, None, options)
    }

    /// Attaches to a TCP `system`: its driver thread carries the messages and
    /// feeds membership from the system's replica (which must be open), and
    /// the node id and incarnation are the system's (see [`Owned::node_of`]).
    pub fn attach(system: &System, store: Option<&StateStore>) -> Result<Owned> {
        Self::open_raw(0, 0, store, Some(system), &OwnedOptions::default())
    }

    /// [`Owned::attach`] with decode limits and a queue cap.
    pub fn attach_with(system: &System, store: Option<&StateStore>, options: &OwnedOptions) -> Result<Owned> {
        Self::open_raw(0, 0, store, Some(system), options)
    }

    /// The id views use for a system's node id.
    pub fn node_of(node_id: &str) -> Result<u64> {
        let mut out = 0u64;
        check(unsafe { sys::dd_owned_node_of(&mut out, node_id.as_ptr().cast(), node_id.len()) })?;
        Ok(out)
    }

    fn open_raw(
        node_id: u64,
        incarnation: u64,
        store: Option<&StateStore>,
        system: Option<&System>,
        options: &OwnedOptions,
    ) -> Result<Owned> {
        let mut raw = std::mem::MaybeUninit::<sys::dd_owned_options>::zeroed();
        check(unsafe { sys::dd_owned_options_init(raw.as_mut_ptr(), sys::DD_OWNED_OPTIONS_VERSION) })?;
        let mut raw = unsafe { raw.assume_init() };
        raw.node_id = node_id;
        raw.incarnation = incarnation;
        raw.store = store.map_or(ptr::null_mut(), |s| s.ptr());
        raw.system = system.map_or(ptr::null_mut(), |s| s.ptr());
        let limits = options.limits.map(|l| l.raw());
        raw.limits = limits
            .as_ref()
            .map_or(ptr::null(), |l| l as *const sys::dd_limits);
        raw.max_queued = options.max_queued;
        let h = open_handle(|h| unsafe { sys::dd_owned_open(h, &raw) })?;
        Ok(Owned { h })
    }

    fn ptr(&self) -> *mut sys::dd_owned {
        self.h.as_ptr()
    }

    /// Registers a type by name with its options; every node registers the same types.
    pub fn register(&self, type_name: &str, o: &OwnedTypeOptions) -> Result<()> {
        let t = ctype(type_name)?;
        let raw = sys::dd_owned_type_options {
            version: sys::DD_OWNED_TYPE_OPTIONS_VERSION,
            strategy: o.strategy as u32,
            wire_version: o.wire_version,
            storage_version: o.storage_version,
            on_mismatch: o.on_mismatch as u32,
            compact_every: o.compact_every,
            feed_interval_ms: o.feed_interval_ms,
            sync_interval_ms: o.sync_interval_ms,
            pull_retry_ms: o.pull_retry_ms,
            pull_timeout_ms: o.pull_timeout_ms,
        };
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_register(handle, t.as_ptr(), &raw)
        })
    }

    /// Persists, then publishes a full view or a delta; returns the new
    /// generation (incarnation, age).
    pub fn publish(
        &self,
        type_name: &str,
        full: bool,
        data: &[u8],
        urgency: Urgency,
        delay_ms: u64,
    ) -> Result<(u64, u64)> {
        let t = ctype(type_name)?;
        let (mut inc, mut age) = (0, 0);
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_publish(
                &mut inc,
                &mut age,
                handle,
                t.as_ptr(),
                full as i32,
                data.as_ptr(),
                data.len(),
                urgency.raw(),
                delay_ms,
            )
        })?;
        Ok((inc, age))
    }

    /// Advances the engine's clock to `now_ms` (pump mode).
    pub fn tick(&self, now_ms: u64) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe { sys::dd_owned_tick(handle, now_ms) })
    }

    /// Undecodable bytes are an error and change nothing.
    pub fn deliver(&self, from_node: u64, data: &[u8]) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_deliver(handle, from_node, data.as_ptr(), data.len())
        })
    }

    /// The next message to send: (destination node, bytes), or None.
    pub fn next_outgoing(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let (mut b, mut to) = (empty(), 0);
        let rc = unsafe { sys::dd_owned_next_outgoing(&mut b, &mut to, self.ptr()) };
        if rc == sys::DD_EDONE {
            return Ok(None);
        }
        check(rc)?;
        Ok(Some((to, take(b))))
    }

    /// Tells the engine a node joined (pump mode).
    pub fn member_up(&self, node_id: u64, incarnation: u64) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_member_up(handle, node_id, incarnation)
        })
    }

    /// Tells the engine a node left; its views are removed (pump mode).
    pub fn member_left(&self, node_id: u64) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_member_left(handle, node_id)
        })
    }

    /// A read with a maximum staleness (None: any). Returns None when the
    /// view is fresh enough to read now, or the request id whose
    /// QueryDone event reports the pull.
    pub fn query(&self, type_name: &str, node_id: u64, max_staleness_ms: Option<u64>) -> Result<Option<u64>> {
        let t = ctype(type_name)?;
        let mut req = 0;
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_query(
                &mut req,
                handle,
                t.as_ptr(),
                node_id,
                max_staleness_ms.unwrap_or(u64::MAX),
            )
        })?;
        Ok(if req == 0 { None } else { Some(req) })
    }

    /// A copy of `node_id`'s view (this node's id: its own instance).
    pub fn read(&self, type_name: &str, node_id: u64) -> Result<OwnedView> {
        let t = ctype(type_name)?;
        let mut v = std::mem::MaybeUninit::<sys::dd_owned_view>::zeroed();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_read(v.as_mut_ptr(), handle, t.as_ptr(), node_id)
        })?;
        let mut v = unsafe { v.assume_init() };
        let copy = |b: &sys::dd_buf| {
            if b.data.is_null() {
                Vec::new()
            } else {
                unsafe { std::slice::from_raw_parts(b.data, b.len) }.to_vec()
            }
        };
        let deltas = (0..v.delta_count)
            .map(|i| copy(unsafe { &*v.deltas.add(i) }))
            .collect();
        let out = OwnedView {
            node_id: v.node_id,
            incarnation: v.incarnation,
            age: v.age,
            base_age: v.base_age,
            wire_version: v.wire_version,
            version_mismatch: v.version_mismatch != 0,
            confirmed_ms: v.confirmed_ms,
            base: copy(&v.base),
            deltas,
        };
        unsafe { sys::dd_owned_view_free(&mut v) };
        Ok(out)
    }

    /// The members that are up, ascending.
    pub fn nodes(&self) -> Result<Vec<u64>> {
        let mut n = 0usize;
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_nodes(ptr::null_mut(), 0, &mut n, handle)
        })?;
        let mut ids = vec![0u64; n];
        let mut got = 0usize;
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_owned_nodes(ids.as_mut_ptr(), ids.len(), &mut got, handle)
        })?;
        ids.truncate(got.min(n));
        Ok(ids)
    }

    /// The next queued event, or None when the queue is empty.
    pub fn next_event(&self) -> Result<Option<OwnedEvent>> {
        let mut ev = std::mem::MaybeUninit::<sys::dd_owned_event>::zeroed();
        let rc = unsafe { sys::dd_owned_next_event(ev.as_mut_ptr(), self.ptr()) };
        if rc == sys::DD_EDONE {
            return Ok(None);
        }
        check(rc)?;
        let ev = unsafe { ev.assume_init() };
        let type_name = unsafe { CStr::from_ptr(ev.r#type.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Ok(Some(OwnedEvent {
            kind: match ev.kind {
                1 => OwnedEventKind::ViewChanged,
                2 => OwnedEventKind::ViewRemoved,
                3 => OwnedEventKind::QueryDone,
                4 => OwnedEventKind::VersionMismatch,
                5 => OwnedEventKind::CompactWanted,
                k => OwnedEventKind::Other(k),
            },
            status: if ev.status == 0 {
                Ok(())
            } else {
                Err(Status::from_code(ev.status))
            },
            node_id: ev.node_id,
            incarnation: ev.incarnation,
            age: ev.age,
            request_id: ev.request_id,
            peer_version: ev.peer_version,
            type_name,
        }))
    }

    /// A descriptor readable while events are queued.
    pub fn event_fd(&self) -> Result<i32> {
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_owned_event_fd(out, handle)
        })
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        unsafe { sys::dd_owned_close(self.ptr()) };
    }
}
