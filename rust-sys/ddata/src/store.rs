//! Persistence: [`Journal`] (events + snapshots), [`StateStore`] (key ->
//! revision, bytes) and [`Keyring`] (keys for sealing at rest). Both stores
//! may be shared between threads (each call takes the object's lock in C),
//! so they are `Send + Sync`; a [`Keyring`] is configured before opening
//! and borrowed during open only.
use std::ffi::{c_void, CString};
use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};

use ddata_sys as sys;

use crate::buf::{empty, slice_ptr, take};
use crate::error::{call_on, check, found, open_handle, read_on, Error, Result, Status};

/// Where a store keeps its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// In this process only; for tests and caches.
    Memory,
    /// One SQLite file (WAL).
    Sqlite(PathBuf),
    /// A directory, one file per record.
    Fs(PathBuf),
    /// A PostgreSQL server shared by every node: a libpq connection string
    /// or URI (`postgresql://user@host/db`). `busy_timeout_ms` is the
    /// statement timeout there.
    Postgres(String),
}

/// Durability of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// No fsync (fastest; a crash may lose recent writes).
    Off = 0,
    /// Survives a process crash (SQLite: may lose the last commits on power loss).
    Normal = 1,
    /// A successful commit is on disk.
    Full = 2,
}

/// Keys for sealing data at rest (zlib, then XChaCha20-Poly1305 or AES-256-GCM).
pub struct Keyring {
    h: NonNull<sys::dd_keyring>,
}

unsafe impl Send for Keyring {}

impl Keyring {
    /// An empty keyring; add keys before sealing a store.
    pub fn new() -> Result<Keyring> {
        let h = open_handle(|h| unsafe { sys::dd_keyring_new(h) })?;
        Ok(Keyring { h })
    }

    /// Adds a 32-byte key; the first key added is active.
    pub fn add_key(&mut self, key_id: u32, key: &[u8]) -> Result<()> {
        call_on(self.h.as_ptr(), |handle| unsafe {
            sys::dd_keyring_add_key(handle, key_id, key.as_ptr(), key.len())
        })
    }

    /// Makes `key_id` the key new blobs are sealed with.
    pub fn set_active(&mut self, key_id: u32) -> Result<()> {
        call_on(self.h.as_ptr(), |handle| unsafe {
            sys::dd_keyring_set_active(handle, key_id)
        })
    }

    /// The AEAD new records are sealed with; [`Status::Unsupported`] for
    /// AES-256-GCM on a CPU without it.
    pub fn set_algorithm(&mut self, algorithm: SealAlgorithm) -> Result<()> {
        check(unsafe { sys::dd_keyring_set_algorithm(self.h.as_ptr(), algorithm as u32) })
    }
}

/// The AEAD a [`Keyring`] seals with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealAlgorithm {
    /// The default; any CPU.
    XChaCha20Poly1305 = 1,
    /// Only on CPUs with AES-NI.
    Aes256Gcm = 2,
}

impl SealAlgorithm {
    /// Whether this CPU can seal with the algorithm.
    pub fn available(self) -> bool {
        unsafe { sys::dd_seal_algorithm_available(self as u32) == 1 }
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        unsafe { sys::dd_keyring_free(self.h.as_ptr()) };
    }
}

/// How to open a journal or state store. `StoreOptions::memory()` or
/// `StoreOptions::sqlite(path)`, then the builder methods.
pub struct StoreOptions<'a> {
    /// Which backend stores the data.
    pub backend: Backend,
    /// SQLite: keep snapshots in this second file; None = in the main file.
    pub snapshot_path: Option<PathBuf>,
    /// How hard commits are flushed.
    pub sync: Sync,
    /// SQLite: wait this long for a writer; PostgreSQL: statement timeout; 0 = none.
    pub busy_timeout_ms: u32,
    /// Seal (encrypt and authenticate) blobs with this keyring; None = plain.
    pub keyring: Option<&'a Keyring>,
    /// 0 = no compression, 1..9 = zlib level.
    pub compression_level: i32,
    /// Compress blobs of at least this many bytes.
    pub compression_threshold: u32,
    /// Keep the newest N snapshots per pid; 0 = all.
    pub snapshot_keep: u32,
    /// Refuse a missing path, a 0-byte file or a folder that is not a store
    /// instead of creating one.
    pub must_exist: bool,
    /// Open an existing store for reading only: nothing is created or
    /// written; a path without a store is `Status::NotFound`.
    pub read_only: bool,
}

impl<'a> StoreOptions<'a> {
    /// Options for `backend`, other fields at their defaults.
    pub fn new(backend: Backend) -> StoreOptions<'a> {
        let mut raw = std::mem::MaybeUninit::<sys::dd_store_options>::zeroed();
        let rc = unsafe { sys::dd_store_options_init(raw.as_mut_ptr(), sys::DD_STORE_OPTIONS_VERSION) };
        assert_eq!(rc, 0, "dd_store_options_init rejected its own version");
        let raw = unsafe { raw.assume_init() };
        StoreOptions {
            backend,
            snapshot_path: None,
            sync: match raw.sync {
                0 => Sync::Off,
                2 => Sync::Full,
                _ => Sync::Normal,
            },
            busy_timeout_ms: raw.busy_timeout_ms,
            keyring: None,
            compression_level: raw.compression_level,
            compression_threshold: raw.compression_threshold,
            snapshot_keep: raw.snapshot_keep,
            must_exist: raw.must_exist != 0,
            read_only: raw.read_only != 0,
        }
    }

    /// An in-memory store (gone when closed).
    pub fn memory() -> StoreOptions<'a> {
        StoreOptions::new(Backend::Memory)
    }

    /// A SQLite store in the file `path`.
    pub fn sqlite(path: impl AsRef<Path>) -> StoreOptions<'a> {
        StoreOptions::new(Backend::Sqlite(path.as_ref().to_path_buf()))
    }

    /// A file-system store in the folder `dir`.
    pub fn fs(dir: impl AsRef<Path>) -> StoreOptions<'a> {
        StoreOptions::new(Backend::Fs(dir.as_ref().to_path_buf()))
    }

    /// A PostgreSQL server: a libpq connection string or URI.
    pub fn postgres(conninfo: impl Into<String>) -> StoreOptions<'a> {
        StoreOptions::new(Backend::Postgres(conninfo.into()))
    }

    /// Seals blobs with `ring`.
    pub fn keyring(mut self, ring: &'a Keyring) -> Self {
        self.keyring = Some(ring);
        self
    }

    /// Sets the sync mode.
    pub fn sync(mut self, sync: Sync) -> Self {
        self.sync = sync;
        self
    }

    /// Keeps only the newest `n` snapshots per pid.
    pub fn snapshot_keep(mut self, n: u32) -> Self {
        self.snapshot_keep = n;
        self
    }

    /// Open only a store that is already there (see `must_exist`).
    pub fn must_exist(mut self, yes: bool) -> Self {
        self.must_exist = yes;
        self
    }

    /// zlib level 0..=9 (0 = off) for records of at least `threshold`
    /// bytes, sealed or not.
    pub fn compression(mut self, level: i32, threshold: u32) -> Self {
        self.compression_level = level;
        self.compression_threshold = threshold;
        self
    }

    /// SQLite: how long to wait for another writer.
    pub fn busy_timeout_ms(mut self, ms: u32) -> Self {
        self.busy_timeout_ms = ms;
        self
    }

    /// SQLite: snapshots in this second file.
    pub fn snapshot_path(mut self, path: impl AsRef<Path>) -> Self {
        self.snapshot_path = Some(path.as_ref().to_path_buf());
        self
    }

    /// Open an existing store for reading only (see `read_only`).
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Calls `f` with the C struct; the path strings live for the call.
    fn with_raw<R>(&self, f: impl FnOnce(&sys::dd_store_options) -> Result<R>) -> Result<R> {
        let cpath = |p: &Path| {
            CString::new(p.to_string_lossy().into_owned())
                .map_err(|_| Error::new(Status::InvalidArgument, "store path contains a NUL byte"))
        };
        let (backend, path) = match &self.backend {
            Backend::Memory => (1u32, None),
            Backend::Sqlite(p) => (2, Some(cpath(p)?)),
            Backend::Fs(p) => (3, Some(cpath(p)?)),
            Backend::Postgres(url) => (
                4,
                Some(CString::new(url.as_str()).map_err(|_| {
                    Error::new(Status::InvalidArgument, "connection string contains a NUL byte")
                })?),
            ),
        };
        let snap = self.snapshot_path.as_deref().map(cpath).transpose()?;
        let raw = sys::dd_store_options {
            version: sys::DD_STORE_OPTIONS_VERSION,
            backend,
            path: path.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            snapshot_path: snap.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            sync: self.sync as u32,
            busy_timeout_ms: self.busy_timeout_ms,
            keyring: self.keyring.map_or(ptr::null_mut(), |k| k.h.as_ptr()),
            compression_level: self.compression_level,
            compression_threshold: self.compression_threshold,
            snapshot_keep: self.snapshot_keep,
            must_exist: self.must_exist as u32,
            // A keyring given means sealed, always: the library refuses a
            // NULL one rather than write in clear.
            seal: if self.keyring.is_some() {
                sys::DD_SEAL_REQUIRED
            } else {
                sys::DD_SEAL_IF_KEYRING
            },
            read_only: self.read_only as u32,
        };
        f(&raw)
    }
}

/// One event to append.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEvent {
    /// The event's bytes.
    pub payload: Vec<u8>,
    /// Event time in ms since the epoch; 0 = now.
    pub timestamp_ms: u64,
    /// Tags for tag queries.
    pub tags: Vec<String>,
}

impl NewEvent {
    /// An event carrying `payload`, stamped at append time.
    pub fn new(payload: impl Into<Vec<u8>>) -> NewEvent {
        NewEvent {
            payload: payload.into(),
            ..NewEvent::default()
        }
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> NewEvent {
        self.tags.push(tag.into());
        self
    }
}

/// One event read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Persistence id the event belongs to.
    pub pid: Vec<u8>,
    /// Sequence number within the pid (from 1).
    pub seq: u64,
    /// Event time in ms since the epoch.
    pub timestamp_ms: u64,
    /// Global order of the append across pids.
    pub ordering: u64,
    /// The event's bytes.
    pub payload: Vec<u8>,
    /// The event's tags.
    pub tags: Vec<String>,
}

unsafe fn slice<'x>(p: *const u8, n: usize) -> &'x [u8] {
    if p.is_null() || n == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

impl Event {
    unsafe fn from_raw(ev: &sys::dd_journal_event) -> Event {
        let tags = (0..ev.tag_count)
            .map(|i| {
                unsafe { std::ffi::CStr::from_ptr(*ev.tags.add(i)) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        Event {
            pid: unsafe { slice(ev.pid, ev.pid_len) }.to_vec(),
            seq: ev.seq,
            timestamp_ms: ev.timestamp_ms,
            ordering: ev.ordering,
            payload: unsafe { slice(ev.payload, ev.len) }.to_vec(),
            tags,
        }
    }
}

/// Keeps the C views of NewEvents (tag pointer arrays) alive for one call.
struct RawEvents {
    _tags: Vec<Vec<CString>>,
    _ptrs: Vec<Vec<*const std::os::raw::c_char>>,
    raw: Vec<sys::dd_append_event>,
}

fn raw_events(events: &[NewEvent]) -> Result<RawEvents> {
    let mut tags = Vec::with_capacity(events.len());
    for e in events {
        let t: std::result::Result<Vec<CString>, _> =
            e.tags.iter().map(|t| CString::new(t.as_str())).collect();
        tags.push(t.map_err(|_| Error::new(Status::InvalidArgument, "tag contains a NUL byte"))?);
    }
    let ptrs: Vec<Vec<_>> = tags
        .iter()
        .map(|ts| ts.iter().map(|t| t.as_ptr()).collect())
        .collect();
    let raw = events
        .iter()
        .zip(&ptrs)
        .map(|(e, p)| sys::dd_append_event {
            payload: e.payload.as_ptr(),
            len: e.payload.len(),
            timestamp_ms: e.timestamp_ms,
            tags: slice_ptr(p),
            tag_count: p.len(),
        })
        .collect();
    Ok(RawEvents {
        _tags: tags,
        _ptrs: ptrs,
        raw,
    })
}

/// An event journal with a snapshot store.
pub struct Journal {
    h: NonNull<sys::dd_journal>,
}

unsafe impl Send for Journal {}
unsafe impl std::marker::Sync for Journal {}

/// Snapshot selection by sequence number and time (inclusive bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotCriteria {
    /// Lowest sequence (inclusive).
    pub min_seq: u64,
    /// Highest sequence (inclusive).
    pub max_seq: u64,
    /// Earliest timestamp (inclusive, ms).
    pub min_timestamp_ms: u64,
    /// Latest timestamp (inclusive, ms).
    pub max_timestamp_ms: u64,
}

impl Default for SnapshotCriteria {
    fn default() -> Self {
        SnapshotCriteria {
            min_seq: 0,
            max_seq: u64::MAX,
            min_timestamp_ms: 0,
            max_timestamp_ms: u64::MAX,
        }
    }
}

impl SnapshotCriteria {
    fn raw(&self) -> sys::dd_snapshot_criteria {
        sys::dd_snapshot_criteria {
            version: sys::DD_SNAPSHOT_CRITERIA_VERSION,
            min_seq: self.min_seq,
            max_seq: self.max_seq,
            min_timestamp_ms: self.min_timestamp_ms,
            max_timestamp_ms: self.max_timestamp_ms,
        }
    }
}

/// A stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Sequence number the snapshot was taken at.
    pub seq: u64,
    /// When it was saved (ms since the epoch).
    pub timestamp_ms: u64,
    /// The snapshot bytes.
    pub state: Vec<u8>,
}

/// How [`Journal::persist`] stores snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistStrategy {
    /// Every event with a snapshot of the state after it.
    Light,
    /// Events, and a snapshot every `snapshot_every` (0 = 100); `compact`
    /// deletes the events a snapshot covers.
    Full {
        /// Events between snapshots (0 = 100).
        snapshot_every: u64,
        /// Delete the events a snapshot covers.
        compact: bool,
    },
}

/// What recovery hands the caller, in order: at most one snapshot, then events.
pub trait Recover {
    /// Called first with the newest snapshot, if any.
    fn snapshot(&mut self, seq: u64, state: &[u8]) -> Result<()>;
    /// Called for each event after the snapshot, in sequence order.
    fn event(&mut self, event: &Event) -> Result<()>;
}

struct RecoverCtx<'r> {
    r: &'r mut dyn Recover,
    err: Option<Error>,
}

impl RecoverCtx<'_> {
    /// Runs one handler call for C: 0 when it succeeds; otherwise keeps the
    /// error (a panic becomes one, it must not unwind into C) and returns
    /// its status, which stops recovery.
    fn run(&mut self, what: &str, f: impl FnOnce(&mut dyn Recover) -> Result<()>) -> c_int {
        let r = &mut *self.r;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(r))) {
            Ok(Ok(())) => 0,
            Ok(Err(e)) => {
                let code = e.code();
                self.err = Some(e);
                code
            }
            Err(_) => {
                self.err = Some(Error::new(
                    Status::InvalidArgument,
                    format!("recovery {what} handler panicked"),
                ));
                sys::DD_EINVAL
            }
        }
    }
}

unsafe extern "C" fn on_snapshot(ctx: *mut c_void, seq: u64, state: *const u8, len: usize) -> c_int {
    let ctx = unsafe { &mut *(ctx as *mut RecoverCtx) };
    let state = unsafe { slice(state, len) };
    ctx.run("snapshot", |r| r.snapshot(seq, state))
}

unsafe extern "C" fn on_event(ctx: *mut c_void, ev: *const sys::dd_journal_event) -> c_int {
    let ctx = unsafe { &mut *(ctx as *mut RecoverCtx) };
    let ev = unsafe { Event::from_raw(&*ev) };
    ctx.run("event", |r| r.event(&ev))
}

impl Journal {
    /// Opens (or creates) the journal described by `opts`.
    pub fn open(opts: &StoreOptions) -> Result<Journal> {
        opts.with_raw(|raw| {
            let h = open_handle(|h| unsafe { sys::dd_journal_open(h, raw) })?;
            Ok(Journal { h })
        })
    }

    fn ptr(&self) -> *mut sys::dd_journal {
        self.h.as_ptr()
    }

    /// Appends events expected_seq + 1 .. atomically; [`Status::Conflict`]
    /// and nothing written when expected_seq is not the highest sequence.
    pub fn append(&self, pid: impl AsRef<[u8]>, expected_seq: u64, events: &[NewEvent]) -> Result<()> {
        let pid = pid.as_ref();
        let r = raw_events(events)?;
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_journal_append(
                handle,
                pid.as_ptr(),
                pid.len(),
                expected_seq,
                r.raw.as_ptr(),
                r.raw.len(),
            )
        })
    }

    /// Highest sequence number written for `pid` (0 = none).
    pub fn highest_seq(&self, pid: impl AsRef<[u8]>) -> Result<u64> {
        let pid = pid.as_ref();
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_journal_highest_seq(out, handle, pid.as_ptr(), pid.len())
        })
    }

    /// Deletes the events of `pid` up to and including `to_seq`.
    pub fn delete_to(&self, pid: impl AsRef<[u8]>, to_seq: u64) -> Result<()> {
        let pid = pid.as_ref();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_journal_delete_to(handle, pid.as_ptr(), pid.len(), to_seq)
        })
    }

    /// Events from_seq ..= to_seq, at most max, as an iterator.
    pub fn replay(&self, pid: impl AsRef<[u8]>, from_seq: u64, to_seq: u64, max: u64) -> Result<Events> {
        let pid = pid.as_ref();
        Events::open(self.ptr(), |c, handle| unsafe {
            sys::dd_journal_replay(c, handle, pid.as_ptr(), pid.len(), from_seq, to_seq, max)
        })
    }

    /// Persistence ids greater than `after` (all when empty), in byte order,
    /// at most max.
    pub fn pids(&self, after: impl AsRef<[u8]>, max: u64) -> Result<Pids> {
        let after = after.as_ref();
        Events::open(self.ptr(), |c, handle| unsafe {
            sys::dd_journal_pids(c, handle, after.as_ptr(), after.len(), max)
        })
        .map(Pids)
    }

    /// Events tagged `tag` after `after_ordering`, in global order.
    pub fn by_tag(&self, tag: &str, after_ordering: u64, max: u64) -> Result<Events> {
        let tag =
            CString::new(tag).map_err(|_| Error::new(Status::InvalidArgument, "tag contains a NUL byte"))?;
        Events::open(self.ptr(), |c, handle| unsafe {
            sys::dd_journal_by_tag(c, handle, tag.as_ptr(), after_ordering, max)
        })
    }

    /// Saves `state` as the snapshot of `pid` at `seq`.
    pub fn save_snapshot(
        &self,
        pid: impl AsRef<[u8]>,
        seq: u64,
        timestamp_ms: u64,
        state: &[u8],
    ) -> Result<()> {
        let pid = pid.as_ref();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_snapshot_save(
                handle,
                pid.as_ptr(),
                pid.len(),
                seq,
                timestamp_ms,
                state.as_ptr(),
                state.len(),
            )
        })
    }

    /// The newest snapshot matching `criteria`, or None.
    pub fn load_snapshot(
        &self,
        pid: impl AsRef<[u8]>,
        criteria: &SnapshotCriteria,
    ) -> Result<Option<Snapshot>> {
        let pid = pid.as_ref();
        let raw = criteria.raw();
        let (mut b, mut seq, mut ts) = (empty(), 0, 0);
        let found = found(call_on(self.ptr(), |handle| unsafe {
            sys::dd_snapshot_load(&mut b, &mut seq, &mut ts, handle, pid.as_ptr(), pid.len(), &raw)
        }))?;
        Ok(found.then(|| Snapshot {
            seq,
            timestamp_ms: ts,
            state: take(b),
        }))
    }

    /// Deletes the snapshots of `pid` that match `criteria`.
    pub fn delete_snapshots(&self, pid: impl AsRef<[u8]>, criteria: &SnapshotCriteria) -> Result<()> {
        let pid = pid.as_ref();
        let raw = criteria.raw();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_snapshot_delete_matching(handle, pid.as_ptr(), pid.len(), &raw)
        })
    }

    /// Appends `event` at expected_seq + 1 and, per `strategy`, a snapshot
    /// of `state` (the state after the event). Returns the event's seq.
    pub fn persist(
        &self,
        pid: impl AsRef<[u8]>,
        expected_seq: u64,
        event: &NewEvent,
        state: &[u8],
        strategy: PersistStrategy,
    ) -> Result<u64> {
        let pid = pid.as_ref();
        let r = raw_events(std::slice::from_ref(event))?;
        let opts = match strategy {
            PersistStrategy::Light => sys::dd_persist_options {
                version: sys::DD_PERSIST_OPTIONS_VERSION,
                strategy: sys::DD_PERSIST_LIGHT,
                snapshot_every: 0,
                compact: 0,
            },
            PersistStrategy::Full {
                snapshot_every,
                compact,
            } => sys::dd_persist_options {
                version: sys::DD_PERSIST_OPTIONS_VERSION,
                strategy: sys::DD_PERSIST_FULL,
                snapshot_every,
                compact: compact as u32,
            },
        };
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_journal_persist(
                out,
                handle,
                pid.as_ptr(),
                pid.len(),
                expected_seq,
                r.raw.as_ptr(),
                state.as_ptr(),
                state.len(),
                &opts,
            )
        })
    }

    /// Loads the latest snapshot and replays the events after it into `r`;
    /// returns the last sequence number applied. A gap is [`Status::Corrupt`];
    /// an error from `r` stops recovery and is returned as is.
    pub fn recover(&self, pid: impl AsRef<[u8]>, r: &mut dyn Recover) -> Result<u64> {
        let pid = pid.as_ref();
        let mut ctx = RecoverCtx { r, err: None };
        let mut last = 0;
        let rc = unsafe {
            sys::dd_journal_recover(
                &mut last,
                self.ptr(),
                pid.as_ptr(),
                pid.len(),
                Some(on_snapshot),
                Some(on_event),
                &mut ctx as *mut RecoverCtx as *mut c_void,
            )
        };
        if let Some(e) = ctx.err {
            return Err(e);
        }
        check(rc)?;
        Ok(last)
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        unsafe { sys::dd_journal_close(self.ptr()) };
    }
}

/// A journal cursor as an iterator of `Result<Event>`; it keeps its journal
/// alive (in C) until dropped.
pub struct Events {
    c: NonNull<sys::dd_journal_cursor>,
    done: bool,
}

unsafe impl Send for Events {}

impl Events {
    /// The cursor a call on `handle` opens through its first argument.
    pub(crate) fn open<H>(
        handle: *mut H,
        open: impl FnOnce(*mut *mut sys::dd_journal_cursor, *mut H) -> i32,
    ) -> Result<Events> {
        let mut c = ptr::null_mut();
        call_on(handle, |handle| open(&mut c, handle))?;
        Ok(Events::own(c))
    }

    fn own(c: *mut sys::dd_journal_cursor) -> Events {
        Events {
            c: NonNull::new(c).expect("DD_OK with NULL"),
            done: false,
        }
    }
}

impl Iterator for Events {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        if self.done {
            return None;
        }
        let mut ev = std::mem::MaybeUninit::<sys::dd_journal_event>::zeroed();
        let rc = unsafe { sys::dd_journal_cursor_next(ev.as_mut_ptr(), self.c.as_ptr()) };
        if rc == sys::DD_EDONE {
            self.done = true;
            return None;
        }
        if let Err(e) = check(rc) {
            self.done = true;
            return Some(Err(e));
        }
        Some(Ok(unsafe { Event::from_raw(&ev.assume_init()) }))
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        unsafe { sys::dd_journal_cursor_close(self.c.as_ptr()) };
    }
}

/// Persistence ids from [`Journal::pids`].
pub struct Pids(Events);

impl Iterator for Pids {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Result<Vec<u8>>> {
        self.0.next().map(|r| r.map(|e| e.pid))
    }
}

/// One durable state record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The key.
    pub key: Vec<u8>,
    /// Revision of this state (1 for the first write).
    pub revision: u64,
    /// The state bytes.
    pub state: Vec<u8>,
}

impl Record {
    /// A record from the buffers a lookup filled, which it frees.
    pub(crate) fn from_bufs(key: sys::dd_buf, revision: u64, state: sys::dd_buf) -> Record {
        Record {
            key: take(key),
            revision,
            state: take(state),
        }
    }
}

/// Records from [`StateStore::range`], or keys with their revisions (state
/// left empty) from [`StateStore::keys`]. Reads in pages; keeps its store
/// alive (in C) until dropped.
pub struct Records(Events);

impl Records {
    pub(crate) fn from_events(events: Events) -> Records {
        Records(events)
    }
}

impl Iterator for Records {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        self.0.next().map(|r| {
            r.map(|e| Record {
                key: e.pid,
                revision: e.seq,
                state: e.payload,
            })
        })
    }
}

/// Durable state: key -> (revision, bytes) with compare-and-set.
pub struct StateStore {
    h: NonNull<sys::dd_state_store>,
}

unsafe impl Send for StateStore {}
unsafe impl std::marker::Sync for StateStore {}

/// Write whatever revision the key has.
pub const ANY_REVISION: u64 = u64::MAX;

impl StateStore {
    /// Opens (or creates) the state store described by `opts`.
    pub fn open(opts: &StoreOptions) -> Result<StateStore> {
        opts.with_raw(|raw| {
            let h = open_handle(|h| unsafe { sys::dd_state_store_open(h, raw) })?;
            Ok(StateStore { h })
        })
    }

    pub(crate) fn ptr(&self) -> *mut sys::dd_state_store {
        self.h.as_ptr()
    }

    /// expected_revision 0 inserts, N replaces revision N, [`ANY_REVISION`]
    /// writes regardless; returns the new revision.
    pub fn upsert(&self, key: impl AsRef<[u8]>, expected_revision: u64, state: &[u8]) -> Result<u64> {
        let key = key.as_ref();
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_state_store_upsert(
                out,
                handle,
                key.as_ptr(),
                key.len(),
                expected_revision,
                state.as_ptr(),
                state.len(),
            )
        })
    }

    /// (revision, bytes), or None when the key has no record.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<(u64, Vec<u8>)>> {
        let key = key.as_ref();
        let (mut b, mut rev) = (empty(), 0);
        let found = found(call_on(self.ptr(), |handle| unsafe {
            sys::dd_state_store_get(&mut b, &mut rev, handle, key.as_ptr(), key.len())
        }))?;
        Ok(found.then(|| (rev, take(b))))
    }

    /// Deletes `key` if its revision is `expected_revision`; else a Conflict error.
    pub fn delete(&self, key: impl AsRef<[u8]>, expected_revision: u64) -> Result<()> {
        let key = key.as_ref();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_state_store_delete(handle, key.as_ptr(), key.len(), expected_revision)
        })
    }

    /// Keys starting with `prefix` (all when empty), in byte order; each
    /// Record carries the key and its revision, with an empty state.
    pub fn keys(&self, prefix: impl AsRef<[u8]>) -> Result<Records> {
        let prefix = prefix.as_ref();
        Events::open(self.ptr(), |c, handle| unsafe {
            sys::dd_state_store_keys(c, handle, prefix.as_ptr(), prefix.len())
        })
        .map(Records)
    }

    /// Up to |count| records from `from` (inclusive): forward in byte order
    /// when count > 0 (from the first key when `from` is empty), backward
    /// when count < 0 (from the last key when `from` is empty).
    pub fn range(&self, from: impl AsRef<[u8]>, count: i64) -> Result<Records> {
        let from = from.as_ref();
        Events::open(self.ptr(), |c, handle| unsafe {
            sys::dd_state_store_range(c, handle, from.as_ptr(), from.len(), count)
        })
        .map(Records)
    }

    /// The record with the greatest key, or None when the store is empty.
    pub fn last(&self) -> Result<Option<Record>> {
        let (mut state, mut key, mut revision) = (empty(), empty(), 0);
        let found = found(call_on(self.ptr(), |handle| unsafe {
            sys::dd_state_store_last(&mut state, &mut key, &mut revision, handle)
        }))?;
        Ok(found.then(|| Record::from_bufs(key, revision, state)))
    }

    /// Deletes every record.
    pub fn purge(&self) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe { sys::dd_state_store_purge(handle) })
    }
}

impl Drop for StateStore {
    fn drop(&mut self) {
        unsafe { sys::dd_state_store_close(self.ptr()) };
    }
}
