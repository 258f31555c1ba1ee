//! A node ([`System`]) and its replicated key-value store ([`Replica`]).
//!
//! Pump mode is the default: the host carries messages. Call
//! [`System::tick`], hand received bytes to [`System::deliver`] and send what
//! [`System::outgoing`] yields; an actor framework can carry them over its
//! own transport this way. Events are queued in C and drained here as an
//! iterator ([`System::events`]) or, with the `tokio` feature, awaited on the
//! event fd ([`crate::EventStream`]). Both handles are `Send + Sync`: every
//! call takes the system's lock in C.
use std::ffi::CString;
use std::os::raw::c_char;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use ddata_sys as sys;

use crate::buf::{empty, lib_defaults, slice_ptr, split_length_prefixed, take};
use crate::crdt::{Crdt, CrdtType, Op};
use crate::error::{call_on, check, open_handle, read_on, Error, Result, Status};
use crate::store::StateStore;

fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::new(Status::InvalidArgument, format!("{what} contains a NUL byte")))
}

fn opt_cstring(s: Option<&str>, what: &str) -> Result<Option<CString>> {
    s.map(|s| cstring(s, what)).transpose()
}

/// The pointer an optional C string argument takes: NULL for None.
fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// A list of strings as a C array of pointers; the CStrings back the pointers.
struct CStrings {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrings {
    fn new(list: &[String], what: &str) -> Result<CStrings> {
        let owned: Vec<CString> = list.iter().map(|s| cstring(s, what)).collect::<Result<_>>()?;
        let ptrs = owned.iter().map(|s| s.as_ptr()).collect();
        Ok(CStrings { _owned: owned, ptrs })
    }
}

/// How a node starts (pump mode unless `tcp_listen` is set).
#[derive(Debug, Clone)]
pub struct SystemOptions {
    /// This node's id, unique in the cluster.
    pub node_id: String,
    /// 0 = a new one, larger than any before.
    pub incarnation: u64,
    /// Seed for peer choice; 0 = random.
    pub seed: u64,
    /// Node ids to join through; empty = this node starts a cluster.
    pub seeds: Vec<String>,
    /// Silence before a member is unreachable (ms).
    pub failure_timeout_ms: u64,
    /// Unreachable this long, then down (ms).
    pub down_after_ms: u64,
    /// Down this long, then removed (ms).
    pub remove_after_ms: u64,
    /// Event queue cap; beyond it one Overflow event.
    pub max_events: u32,
    /// Built-in TCP transport: listen here ("ip:port"); None = pump mode.
    pub tcp_listen: Option<String>,
    /// TCP: the cluster's 32-byte secret; None = plaintext.
    pub secret: Option<[u8; 32]>,
    /// TCP: this node's static key, from a file written by
    /// [`generate_node_key`] (`ddata keygen`); None = a fresh key per process.
    pub node_key_file: Option<String>,
    /// TCP: a second secret accepted while the cluster's secret rotates.
    pub next_secret: Option<[u8; 32]>,
    /// TCP: the allow-list, public keys each optionally bound to the node
    /// id it must claim; empty = any key that has the secret.
    pub peer_keys: Vec<([u8; 32], Option<String>)>,
}

/// Writes a new node key file (mode 0600, never overwriting one) and
/// returns its public key.
pub fn generate_node_key(path: &str) -> Result<[u8; 32]> {
    let p = cstring(path, "path")?;
    let mut b = empty();
    check(unsafe { sys::dd_node_key_generate(&mut b, p.as_ptr()) })?;
    key_from(take(b))
}

fn key_from(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| Error::new(Status::Corrupt, "a key is not 32 bytes"))
}

/// The allow-list as the C call takes it; the CStrings back the pointers.
struct PeerKeyArrays {
    keys: Vec<u8>,
    _ids: Vec<Option<CString>>,
    id_ptrs: Vec<*const c_char>,
}

impl PeerKeyArrays {
    fn new(list: &[([u8; 32], Option<String>)]) -> Result<PeerKeyArrays> {
        let ids: Vec<Option<CString>> = list
            .iter()
            .map(|(_, id)| opt_cstring(id.as_deref(), "peer key node id"))
            .collect::<Result<_>>()?;
        let id_ptrs = ids.iter().map(opt_ptr).collect();
        Ok(PeerKeyArrays {
            keys: list.iter().flat_map(|(k, _)| k.iter().copied()).collect(),
            _ids: ids,
            id_ptrs,
        })
    }

    fn keys_ptr(&self) -> *const u8 {
        slice_ptr(&self.keys)
    }

    fn ids_ptr(&self) -> *const *const c_char {
        slice_ptr(&self.id_ptrs)
    }
}

impl SystemOptions {
    /// Options for a pump-mode node named `node_id`, other fields at their defaults.
    pub fn new(node_id: impl Into<String>) -> SystemOptions {
        let raw = lib_defaults(sys::dd_system_options_init, sys::DD_SYSTEM_OPTIONS_VERSION);
        SystemOptions {
            node_id: node_id.into(),
            incarnation: raw.incarnation,
            seed: raw.seed,
            seeds: Vec::new(),
            failure_timeout_ms: raw.failure_timeout_ms,
            down_after_ms: raw.down_after_ms,
            remove_after_ms: raw.remove_after_ms,
            max_events: raw.max_events,
            tcp_listen: None,
            secret: None,
            node_key_file: None,
            next_secret: None,
            peer_keys: Vec::new(),
        }
    }

    /// Sets the node ids to join through.
    pub fn seeds<I: IntoIterator<Item = S>, S: Into<String>>(mut self, seeds: I) -> SystemOptions {
        self.seeds = seeds.into_iter().map(Into::into).collect();
        self
    }
}

pub(crate) struct SystemHandle(NonNull<sys::dd_system>);
unsafe impl Send for SystemHandle {}
unsafe impl std::marker::Sync for SystemHandle {}

impl Drop for SystemHandle {
    fn drop(&mut self) {
        unsafe { sys::dd_system_close(self.0.as_ptr()) };
    }
}

/// One node. Cheap to clone (shared handle); closed when the last clone
/// and its replica are dropped.
#[derive(Clone)]
pub struct System {
    pub(crate) h: Arc<SystemHandle>,
}

/// A membership state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    /// Joining the cluster.
    Joining,
    /// A full member.
    Up,
    /// Silent past the failure timeout.
    Unreachable,
    /// Unreachable past `down_after_ms`.
    Down,
    /// Gone from the membership.
    Removed,
    /// A state this crate does not know yet.
    Other(u32),
}

/// One queued event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A member changed state.
    Member {
        /// The member's node id.
        node: String,
        /// Its incarnation.
        incarnation: u64,
        /// Its new state.
        state: MemberState,
    },
    /// A subscribed key changed.
    Changed {
        /// The key.
        key: Vec<u8>,
    },
    /// A subscribed key was deleted.
    Deleted {
        /// The key.
        key: Vec<u8>,
    },
    /// A key expired after being idle.
    Expired {
        /// The key.
        key: Vec<u8>,
    },
    /// A write or read with a consistency level finished: Ok or Timeout.
    RequestDone {
        /// The id the write or read returned.
        request_id: u64,
        /// Ok, or the failure (Timeout).
        status: std::result::Result<(), Status>,
    },
    /// The queue was full; this many events were lost.
    Overflow {
        /// Number of events lost.
        dropped: u64,
    },
    /// An event kind this crate does not know yet.
    Other {
        /// The raw `DD_EVENT_*` kind.
        kind: u32,
    },
}

impl Event {
    fn from_raw(ev: &mut sys::dd_event) -> Event {
        let take_buf = |b: &mut sys::dd_buf| take(std::mem::replace(b, empty()));
        match ev.kind as i32 {
            k if k == sys::DD_EVENT_MEMBER as i32 => Event::Member {
                node: String::from_utf8_lossy(&take_buf(&mut ev.member_id)).into_owned(),
                incarnation: ev.member_incarnation,
                state: match ev.member_state {
                    1 => MemberState::Joining,
                    2 => MemberState::Up,
                    3 => MemberState::Unreachable,
                    4 => MemberState::Down,
                    5 => MemberState::Removed,
                    s => MemberState::Other(s),
                },
            },
            k if k == sys::DD_EVENT_CHANGED as i32 => Event::Changed {
                key: take_buf(&mut ev.key),
            },
            k if k == sys::DD_EVENT_DELETED as i32 => Event::Deleted {
                key: take_buf(&mut ev.key),
            },
            k if k == sys::DD_EVENT_EXPIRED as i32 => Event::Expired {
                key: take_buf(&mut ev.key),
            },
            k if k == sys::DD_EVENT_REQUEST_DONE as i32 => Event::RequestDone {
                request_id: ev.request_id,
                status: if ev.status == 0 {
                    Ok(())
                } else {
                    Err(Status::from_code(ev.status))
                },
            },
            k if k == sys::DD_EVENT_OVERFLOW as i32 => Event::Overflow { dropped: ev.dropped },
            _ => Event::Other { kind: ev.kind },
        }
    }
}

impl System {
    /// Opens a node with `opts`.
    pub fn open(opts: &SystemOptions) -> Result<System> {
        let node = cstring(&opts.node_id, "node_id")?;
        let seeds = CStrings::new(&opts.seeds, "seed")?;
        let listen = opt_cstring(opts.tcp_listen.as_deref(), "listen address")?;
        let key_file = opt_cstring(opts.node_key_file.as_deref(), "node key file")?;
        let peers = PeerKeyArrays::new(&opts.peer_keys)?;
        let raw = sys::dd_system_options {
            version: sys::DD_SYSTEM_OPTIONS_VERSION,
            node_id: node.as_ptr(),
            incarnation: opts.incarnation,
            seed: opts.seed,
            transport: if listen.is_some() {
                sys::DD_TRANSPORT_TCP
            } else {
                sys::DD_TRANSPORT_NONE
            },
            seeds: slice_ptr(&seeds.ptrs),
            seed_count: seeds.ptrs.len(),
            failure_timeout_ms: opts.failure_timeout_ms,
            down_after_ms: opts.down_after_ms,
            remove_after_ms: opts.remove_after_ms,
            max_events: opts.max_events,
            limits: ptr::null(),
            listen_address: opt_ptr(&listen),
            advertised_address: ptr::null(),
            secret: opts.secret.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            plaintext: (listen.is_some() && opts.secret.is_none()) as u32,
            tick_interval_ms: 0,
            node_key_file: opt_ptr(&key_file),
            node_key: ptr::null(),
            next_secret: opts.next_secret.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            peer_keys: peers.keys_ptr(),
            peer_key_ids: peers.ids_ptr(),
            peer_key_count: opts.peer_keys.len(),
        };
        let h = open_handle(|h| unsafe { sys::dd_system_open(h, &raw) })?;
        Ok(System {
            h: Arc::new(SystemHandle(h)),
        })
    }

    pub(crate) fn ptr(&self) -> *mut sys::dd_system {
        self.h.0.as_ptr()
    }

    /// Leaves the cluster cleanly (`dd_system_leave`): write-behind keys are
    /// written, this node's keys offered to its peers and its departure
    /// announced, so the others see it `MemberState::Removed` at once
    /// instead of after `down_after_ms`. A TCP node waits up to `timeout`
    /// for their acknowledgements (`Status::Timeout` if some did not come:
    /// it has left all the same); in pump mode it returns at once and the
    /// announcement leaves through [`System::outgoing`]. Afterwards writes
    /// and a second leave fail with `Status::Misuse`.
    pub fn leave(&self, timeout: std::time::Duration) -> Result<()> {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        call_on(self.ptr(), |handle| unsafe { sys::dd_system_leave(handle, ms) })
    }

    /// This node's incarnation.
    pub fn incarnation(&self) -> Result<u64> {
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_system_incarnation(out, handle)
        })
    }

    /// Lets time pass: gossip, failure detection, timeouts.
    pub fn tick(&self, now_ms: u64) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_system_tick(handle, now_ms)
        })
    }

    /// One message received from node `from`. Malformed bytes are an error
    /// and change nothing.
    pub fn deliver(&self, now_ms: u64, from: &str, bytes: &[u8]) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_system_deliver(
                handle,
                now_ms,
                from.as_ptr().cast(),
                from.len(),
                bytes.as_ptr(),
                bytes.len(),
            )
        })
    }

    /// The next message to send: (destination node id, bytes), or None.
    pub fn next_outgoing(&self) -> Result<Option<(String, Vec<u8>)>> {
        let (mut to, mut msg) = (empty(), empty());
        let rc = unsafe { sys::dd_system_next_outgoing(&mut msg, &mut to, self.ptr()) };
        if rc == sys::DD_EDONE {
            return Ok(None);
        }
        check(rc)?;
        Ok(Some((String::from_utf8_lossy(&take(to)).into_owned(), take(msg))))
    }

    /// Every queued outgoing message.
    pub fn outgoing(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        while let Some(m) = self.next_outgoing()? {
            out.push(m);
        }
        Ok(out)
    }

    /// The next queued event, or None when the queue is empty.
    pub fn next_event(&self) -> Result<Option<Event>> {
        let mut ev = std::mem::MaybeUninit::<sys::dd_event>::zeroed();
        unsafe { sys::dd_event_init(ev.as_mut_ptr(), sys::DD_EVENT_VERSION) };
        let mut ev = unsafe { ev.assume_init() };
        let rc = unsafe { sys::dd_system_next_event(&mut ev, self.ptr()) };
        if rc == sys::DD_EDONE {
            return Ok(None);
        }
        let r = check(rc).map(|()| Some(Event::from_raw(&mut ev)));
        unsafe { sys::dd_event_clear(&mut ev) };
        r
    }

    /// Drains the queued events (never blocks).
    pub fn events(&self) -> Events<'_> {
        Events { sys: self }
    }

    /// TCP transport: the bound "ip:port" (useful with port 0).
    /// [`Status::Unsupported`] in pump mode.
    pub fn listen_address(&self) -> Result<String> {
        let mut b = empty();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_system_listen_address(&mut b, handle)
        })?;
        Ok(String::from_utf8_lossy(&take(b)).into_owned())
    }

    /// TCP transport: dial one more address (and again after every
    /// disconnect until the system closes).
    pub fn connect(&self, address: &str) -> Result<()> {
        let a = cstring(address, "address")?;
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_system_connect(handle, a.as_ptr())
        })
    }

    /// TCP transport: this node's static X25519 public key.
    pub fn public_key(&self) -> Result<[u8; 32]> {
        let mut b = empty();
        check(unsafe { sys::dd_system_public_key(&mut b, self.ptr()) })?;
        key_from(take(b))
    }

    /// TCP transport: replaces the allow-list (empty = none) and closes the
    /// links of peers it no longer admits.
    pub fn set_peer_keys(&self, list: &[([u8; 32], Option<String>)]) -> Result<()> {
        let peers = PeerKeyArrays::new(list)?;
        check(unsafe {
            sys::dd_system_set_peer_keys(self.ptr(), peers.keys_ptr(), peers.ids_ptr(), list.len())
        })
    }

    /// Statistics as canonical JSON (engine, peers, transport).
    pub fn stats_json(&self) -> Result<String> {
        let mut b = empty();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_system_stats_json(&mut b, handle)
        })?;
        String::from_utf8(take(b)).map_err(|_| Error::new(Status::Corrupt, "stats are not UTF-8"))
    }

    /// The next queued log record, or `None`; see [`System::forward_logs`].
    pub fn next_log(&self) -> Result<Option<crate::LogRecord>> {
        let mut b = empty();
        let rc = unsafe { sys::dd_system_next_log(&mut b, self.ptr()) };
        if rc == sys::DD_EDONE {
            return Ok(None);
        }
        check(rc)?;
        let text =
            String::from_utf8(take(b)).map_err(|_| Error::new(Status::Corrupt, "log record is not UTF-8"))?;
        crate::LogRecord::parse(&text).map(Some)
    }

    /// Metrics in the Prometheus text exposition format.
    pub fn metrics_text(&self) -> Result<String> {
        let mut b = empty();
        check(unsafe { sys::dd_system_metrics_text(&mut b, self.ptr()) })?;
        String::from_utf8(take(b)).map_err(|_| Error::new(Status::Corrupt, "metrics are not UTF-8"))
    }

    /// A descriptor readable while events are queued: poll it, never read
    /// or close it.
    pub fn event_fd(&self) -> Result<i32> {
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_system_event_fd(out, handle)
        })
    }
}

/// Iterator over queued events; ends when the queue is empty (an error
/// ends it too, after yielding it).
pub struct Events<'a> {
    sys: &'a System,
}

impl Iterator for Events<'_> {
    type Item = Result<Event>;
    fn next(&mut self) -> Option<Result<Event>> {
        self.sys.next_event().transpose()
    }
}

/// How many replicas a read or write must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// This node only.
    Local,
    /// N replicas, this one included.
    From(u32),
    /// floor(N/2)+1 replicas.
    Majority,
    /// A majority plus N, at most every replica.
    MajorityPlus(u32),
    /// Every replica.
    All,
}

impl Consistency {
    fn raw(self) -> (u32, u32) {
        match self {
            Consistency::Local => (0, 0),
            Consistency::From(n) => (1, n),
            Consistency::Majority => (2, 0),
            Consistency::MajorityPlus(n) => (3, n),
            Consistency::All => (4, 0),
        }
    }
}

/// How deltas leave a node after a local update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaStrategy {
    /// Pushed to every up member at once.
    Immediate = 0,
    /// Joined per key, pushed each gossip interval.
    Batched = 1,
    /// Periodic digest anti-entropy only.
    None = 2,
}

/// Replica settings; defaults are DD_REPLICA_OPTIONS_INIT.
pub struct ReplicaOptions<'a> {
    /// How deltas leave this node.
    pub delta_strategy: DeltaStrategy,
    /// Digest gossip period (> 0).
    pub gossip_interval_ms: u64,
    /// Peers gossiped to per interval (> 0).
    pub gossip_fanout: u32,
    /// No gossip message is larger (>= 1024).
    pub max_message_bytes: u32,
    /// Subscription events are coalesced per interval.
    pub notify_interval_ms: u64,
    /// Deleted keys are kept this long after every member saw the delete.
    pub tombstone_grace_ms: u64,
    /// Durable keys live here (kept open by the replica); None = none durable.
    pub store: Option<&'a StateStore>,
    /// Exact keys or "prefix*" wildcards.
    pub durable_keys: Vec<String>,
    /// Flush durable keys every `write_behind_interval_ms` instead of on every change.
    pub write_behind: bool,
    /// Flush period with `write_behind`.
    pub write_behind_interval_ms: u64,
    /// Keys starting so expire after `expire_after_ms` idle.
    pub expiry_prefixes: Vec<String>,
    /// Idle time before a key under `expiry_prefixes` expires.
    pub expire_after_ms: u64,
    /// Durable records live under this key prefix in the store, the rest
    /// is left alone; None = "dd/replica/".
    pub store_prefix: Option<String>,
}

impl<'a> Default for ReplicaOptions<'a> {
    fn default() -> Self {
        let raw = lib_defaults(sys::dd_replica_options_init, sys::DD_REPLICA_OPTIONS_VERSION);
        ReplicaOptions {
            delta_strategy: match raw.delta_strategy {
                1 => DeltaStrategy::Batched,
                2 => DeltaStrategy::None,
                _ => DeltaStrategy::Immediate,
            },
            gossip_interval_ms: raw.gossip_interval_ms,
            gossip_fanout: raw.gossip_fanout,
            max_message_bytes: raw.max_message_bytes,
            notify_interval_ms: raw.notify_interval_ms,
            tombstone_grace_ms: raw.tombstone_grace_ms,
            store: None,
            durable_keys: Vec::new(),
            write_behind: raw.write_behind != 0,
            write_behind_interval_ms: raw.write_behind_interval_ms,
            expiry_prefixes: Vec::new(),
            expire_after_ms: raw.expire_after_ms,
            store_prefix: None,
        }
    }
}

/// The node's replicated key-value store. Keeps its system alive.
pub struct Replica {
    h: NonNull<sys::dd_replica>,
    system: System,
}

unsafe impl Send for Replica {}
unsafe impl std::marker::Sync for Replica {}

impl Replica {
    /// Opens the replicator on `system` (one replica per system).
    pub fn open(system: &System, opts: &ReplicaOptions) -> Result<Replica> {
        let keys = CStrings::new(&opts.durable_keys, "durable key")?;
        let prefixes = CStrings::new(&opts.expiry_prefixes, "expiry prefix")?;
        let store_prefix = opt_cstring(opts.store_prefix.as_deref(), "store prefix")?;
        let raw = sys::dd_replica_options {
            version: sys::DD_REPLICA_OPTIONS_VERSION,
            delta_strategy: opts.delta_strategy as u32,
            gossip_interval_ms: opts.gossip_interval_ms,
            gossip_fanout: opts.gossip_fanout,
            max_message_bytes: opts.max_message_bytes,
            notify_interval_ms: opts.notify_interval_ms,
            tombstone_grace_ms: opts.tombstone_grace_ms,
            store: opts.store.map_or(ptr::null_mut(), |s| s.ptr()),
            durable_keys: slice_ptr(&keys.ptrs),
            durable_key_count: keys.ptrs.len(),
            write_behind: opts.write_behind as u32,
            write_behind_interval_ms: opts.write_behind_interval_ms,
            expiry_prefixes: slice_ptr(&prefixes.ptrs),
            expiry_prefix_count: prefixes.ptrs.len(),
            expire_after_ms: opts.expire_after_ms,
            store_prefix: opt_ptr(&store_prefix),
        };
        let h = open_handle(|h| unsafe { sys::dd_replica_open(h, system.ptr(), &raw) })?;
        Ok(Replica {
            h,
            system: system.clone(),
        })
    }

    fn ptr(&self) -> *mut sys::dd_replica {
        self.h.as_ptr()
    }

    /// The system this replica runs on.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Applies `op` to `key`, creating it as `ty` when missing.
    pub fn update(&self, key: impl AsRef<[u8]>, ty: CrdtType, op: &Op) -> Result<()> {
        let (k, h) = (key.as_ref(), self.ptr());
        op.with_raw(&mut |raw| {
            check(unsafe { sys::dd_replica_update(h, k.as_ptr(), k.len(), ty as u32, raw) })
        })
    }

    /// A copy of the value at `key`, or None when absent or deleted.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Crdt>> {
        let k = key.as_ref();
        let mut out = ptr::null_mut();
        match call_on(self.ptr(), |handle| unsafe {
            sys::dd_replica_get(&mut out, handle, k.as_ptr(), k.len())
        }) {
            Ok(()) => Ok(Some(Crdt::from_raw(out))),
            Err(e) if matches!(e.status(), Status::NotFound | Status::Deleted) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes `key` everywhere (a tombstone until every member saw it).
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        let k = key.as_ref();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_replica_delete(handle, k.as_ptr(), k.len())
        })
    }

    /// Number of keys this replica holds.
    pub fn key_count(&self) -> Result<u64> {
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_replica_key_count(out, handle)
        })
    }

    /// Every live key.
    pub fn keys(&self) -> Result<Vec<Vec<u8>>> {
        let mut cursor = 0u64;
        let mut out = Vec::new();
        loop {
            let mut b = empty();
            let rc = unsafe { sys::dd_replica_keys(&mut b, self.ptr(), &mut cursor, 0) };
            if rc == sys::DD_EDONE {
                return Ok(out);
            }
            check(rc)?;
            split_length_prefixed(&take(b), &mut out, "dd_replica_keys: truncated key")?;
        }
    }

    /// Queue Changed/Deleted/Expired events for `key` (or every key with
    /// that prefix).
    pub fn subscribe(&self, key: impl AsRef<[u8]>, prefix: bool) -> Result<()> {
        let k = key.as_ref();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_replica_subscribe(handle, k.as_ptr(), k.len(), prefix as i32)
        })
    }

    /// Applies locally at once, then replicates to `consistency`; returns
    /// the request id whose [`Event::RequestDone`] reports the outcome.
    pub fn write(
        &self,
        key: impl AsRef<[u8]>,
        ty: CrdtType,
        op: &Op,
        consistency: Consistency,
        timeout_ms: u64,
    ) -> Result<u64> {
        let (k, h) = (key.as_ref(), self.ptr());
        let (level, n) = consistency.raw();
        let mut id = 0;
        op.with_raw(&mut |raw| {
            check(unsafe {
                sys::dd_replica_write(
                    &mut id,
                    h,
                    k.as_ptr(),
                    k.len(),
                    ty as u32,
                    raw,
                    level,
                    n,
                    timeout_ms,
                )
            })
        })?;
        Ok(id)
    }

    /// Asks `consistency` replicas for `key`; read it with [`Replica::get`]
    /// after its [`Event::RequestDone`].
    pub fn read(&self, key: impl AsRef<[u8]>, consistency: Consistency, timeout_ms: u64) -> Result<u64> {
        let k = key.as_ref();
        let (level, n) = consistency.raw();
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_replica_read(out, handle, k.as_ptr(), k.len(), level, n, timeout_ms)
        })
    }

    /// Writes pending write-behind keys to the store now.
    pub fn flush(&self) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe { sys::dd_replica_flush(handle) })
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        unsafe { sys::dd_replica_close(self.ptr()) };
    }
}
