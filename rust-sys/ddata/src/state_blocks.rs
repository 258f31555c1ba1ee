//! The state store as a building block (issue 17.13): [`StateStore::scan`]
//! with [`ScanRange`] bounds, `last`/`purge` by prefix, atomic
//! [`StateStore::batch`] of [`StateOp`]s and [`StateStore::flush`]. A
//! collection of another framework is a key prefix, and these keep to one.
use std::ptr;

use ddata_sys as sys;

use crate::buf::{empty, slice_ptr};
use crate::error::{call_on, check, found, Result};
use crate::store::{Events, Record, Records, StateStore};

/// Bounds of [`StateStore::scan`]: `start <= key` (`start < key` with
/// `start_exclusive`), `key < end` (`key <= end` with `end_inclusive`) and
/// key starting with `prefix`; an empty bound is absent. `reverse` walks
/// from the greatest key down; `limit` 0 means all; `values: false` leaves
/// every state empty without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRange {
    /// The lower bound (inclusive unless `start_exclusive`).
    pub start: Vec<u8>,
    /// Excludes `start` itself.
    pub start_exclusive: bool,
    /// The upper bound (exclusive unless `end_inclusive`).
    pub end: Vec<u8>,
    /// Includes `end` itself.
    pub end_inclusive: bool,
    /// Only keys starting with it.
    pub prefix: Vec<u8>,
    /// Greatest key first.
    pub reverse: bool,
    /// At most this many records; 0 = all.
    pub limit: u64,
    /// Read states (true by default).
    pub values: bool,
}

impl Default for ScanRange {
    fn default() -> Self {
        ScanRange {
            start: Vec::new(),
            start_exclusive: false,
            end: Vec::new(),
            end_inclusive: false,
            prefix: Vec::new(),
            reverse: false,
            limit: 0,
            values: true,
        }
    }
}

impl ScanRange {
    /// Every record starting with `prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> ScanRange {
        ScanRange {
            prefix: prefix.into(),
            ..ScanRange::default()
        }
    }
}

/// One write of [`StateStore::batch`], in the C order (key, expected
/// revision, state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateOp {
    /// Upsert: expected revision 0 inserts, N replaces N, [`crate::ANY_REVISION`] any.
    Upsert(Vec<u8>, u64, Vec<u8>),
    /// Delete: N or [`crate::ANY_REVISION`] (a missing key is nothing to do then).
    Delete(Vec<u8>, u64),
}

impl StateStore {
    /// Records within `range`, in byte order (or reversed), read in pages.
    pub fn scan(&self, range: &ScanRange) -> Result<Records> {
        let mut raw = std::mem::MaybeUninit::<sys::dd_state_range>::zeroed();
        check(unsafe { sys::dd_state_range_init(raw.as_mut_ptr(), sys::DD_STATE_RANGE_VERSION) })?;
        let mut raw = unsafe { raw.assume_init() };
        raw.start = slice_ptr(&range.start);
        raw.start_len = range.start.len();
        raw.start_exclusive = range.start_exclusive as u32;
        raw.end = slice_ptr(&range.end);
        raw.end_len = range.end.len();
        raw.end_inclusive = range.end_inclusive as u32;
        raw.prefix = slice_ptr(&range.prefix);
        raw.prefix_len = range.prefix.len();
        raw.reverse = range.reverse as u32;
        raw.keys_only = (!range.values) as u32;
        raw.limit = range.limit;
        Events::open(self.ptr(), |c, handle| unsafe {
            sys::dd_state_store_scan(c, handle, &raw)
        })
        .map(Records::from_events)
    }

    /// The record with the greatest key starting with `prefix`, or None.
    pub fn last_prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Option<Record>> {
        let prefix = prefix.as_ref();
        let (mut state, mut key, mut revision) = (empty(), empty(), 0);
        let found = found(call_on(self.ptr(), |handle| unsafe {
            sys::dd_state_store_last_prefix(
                &mut state,
                &mut key,
                &mut revision,
                handle,
                slice_ptr(prefix),
                prefix.len(),
            )
        }))?;
        Ok(found.then(|| Record::from_bufs(key, revision, state)))
    }

    /// Deletes every record whose key starts with `prefix` (every record
    /// when empty), in one transaction.
    pub fn purge_prefix(&self, prefix: impl AsRef<[u8]>) -> Result<()> {
        let prefix = prefix.as_ref();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_state_store_purge_prefix(handle, slice_ptr(prefix), prefix.len())
        })
    }

    /// Applies `ops` all or nothing, in one transaction; returns each op's
    /// new revision (0 for deletes). A Conflict error names the op whose
    /// expected revision did not hold; nothing is written then.
    pub fn batch(&self, ops: &[StateOp]) -> Result<Vec<u64>> {
        let raw: Vec<sys::dd_state_op> = ops
            .iter()
            .map(|op| match op {
                StateOp::Upsert(key, rev, state) => sys::dd_state_op {
                    kind: sys::DD_STATE_OP_UPSERT,
                    key: slice_ptr(key),
                    key_len: key.len(),
                    expected_revision: *rev,
                    state: slice_ptr(state),
                    len: state.len(),
                },
                StateOp::Delete(key, rev) => sys::dd_state_op {
                    kind: sys::DD_STATE_OP_DELETE,
                    key: slice_ptr(key),
                    key_len: key.len(),
                    expected_revision: *rev,
                    state: ptr::null(),
                    len: 0,
                },
            })
            .collect();
        let mut revisions = vec![0u64; ops.len()];
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_state_store_batch(revisions.as_mut_ptr(), handle, raw.as_ptr(), raw.len())
        })?;
        Ok(revisions)
    }

    /// Makes every write so far durable, whatever the sync option.
    pub fn flush(&self) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe { sys::dd_state_store_flush(handle) })
    }
}
