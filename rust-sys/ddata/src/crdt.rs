//! CRDT values: [`Crdt`] owns one `dd_crdt` and frees it on drop. An
//! operation is an [`Op`], the same for every type (ABI.md, "CRDT values");
//! maps nest ops with [`Op::update`].
//!
//! Thread contract (the header's): a value is not locked, so it may move
//! between threads (`Send`) but not be shared by them (`!Sync`).
use std::ptr::{self, NonNull};

use ddata_sys as sys;

use crate::buf::{empty, split_length_prefixed, take, Limits};
use crate::error::{call_on, check, cstr_static, found, read_on, Error, Result, Status};

/// The data types; numbering is the library's and never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum CrdtType {
    /// Grow-only counter.
    GCounter = 1,
    /// Counter that increments and decrements.
    PNCounter = 2,
    /// Grow-only set.
    GSet = 3,
    /// Observed-remove set (add wins).
    ORSet = 4,
    /// Last-writer-wins register.
    LWWRegister = 5,
    /// Enable-only flag.
    Flag = 6,
    /// Multi-value register (keeps concurrent values).
    MVRegister = 7,
    /// Observed-remove map of nested CRDTs.
    ORMap = 8,
    /// Map of last-writer-wins registers.
    LWWMap = 9,
    /// Map of PN counters.
    PNCounterMap = 10,
    /// Map of G counters.
    GCounterMap = 11,
    /// Observed-remove multi-map (a set per key).
    ORMultiMap = 12,
}

const ALL_TYPES: [CrdtType; 12] = [
    CrdtType::GCounter,
    CrdtType::PNCounter,
    CrdtType::GSet,
    CrdtType::ORSet,
    CrdtType::LWWRegister,
    CrdtType::Flag,
    CrdtType::MVRegister,
    CrdtType::ORMap,
    CrdtType::LWWMap,
    CrdtType::PNCounterMap,
    CrdtType::GCounterMap,
    CrdtType::ORMultiMap,
];

impl CrdtType {
    /// The type with the C code `code` (`DD_CRDT_*`), or None.
    pub fn from_code(code: u32) -> Option<CrdtType> {
        ALL_TYPES.iter().copied().find(|t| *t as u32 == code)
    }

    /// The library's name: "ORSet".
    pub fn name(self) -> &'static str {
        cstr_static(unsafe { sys::dd_crdt_type_name(self as u32) })
    }

    /// The type named `name` as in the vectors and JSON (`"GCounter"`, ...), or None.
    pub fn from_name(name: &str) -> Option<CrdtType> {
        ALL_TYPES.iter().copied().find(|t| t.name() == name)
    }
}

/// What an op does (`dd_op_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum OpKind {
    /// Add `amount` to a counter.
    Increment = 1,
    /// Subtract `amount` from a PN counter.
    Decrement = 2,
    /// Add `value` to a set (or under `key` in a multi-map).
    Add = 3,
    /// Remove `value`, or the entry `key` of a map.
    Remove = 4,
    /// Remove every element or entry.
    Clear = 5,
    /// Set a register (or `key` of an LWW map) to `value`.
    Assign = 6,
    /// Switch a flag on.
    Enable = 7,
    /// Apply the `nested` op to the value under `key` of an ORMap.
    Update = 8,
}

impl OpKind {
    /// The kind named `name` as in the vectors (`"increment"`, ...), or None.
    pub fn from_name(name: &str) -> Option<OpKind> {
        Some(match name {
            "increment" => OpKind::Increment,
            "decrement" => OpKind::Decrement,
            "add" => OpKind::Add,
            "remove" => OpKind::Remove,
            "clear" => OpKind::Clear,
            "assign" => OpKind::Assign,
            "enable" => OpKind::Enable,
            "update" => OpKind::Update,
            _ => return None,
        })
    }
}

/// One operation. Build with the constructors; fields left out are those of
/// DD_OP_INIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// What the op does.
    pub kind: OpKind,
    /// Counter delta for Increment / Decrement.
    pub amount: u64,
    /// Map key, when the op targets an entry.
    pub key: Option<Vec<u8>>,
    /// Element or register value.
    pub value: Option<Vec<u8>>,
    /// Type of the nested value an ORMap update creates.
    pub value_type: Option<CrdtType>,
    /// Op applied to the value under `key` (ORMap Update).
    pub nested: Option<Box<Op>>,
}

impl Op {
    /// An op of `kind` with no amount, key or value.
    pub fn new(kind: OpKind) -> Op {
        Op {
            kind,
            amount: 0,
            key: None,
            value: None,
            value_type: None,
            nested: None,
        }
    }
    /// Increment a counter by `amount`.
    pub fn increment(amount: u64) -> Op {
        Op {
            amount,
            ..Op::new(OpKind::Increment)
        }
    }
    /// Decrement a PN counter by `amount`.
    pub fn decrement(amount: u64) -> Op {
        Op {
            amount,
            ..Op::new(OpKind::Decrement)
        }
    }
    /// Add `value` to a set.
    pub fn add(value: impl AsRef<[u8]>) -> Op {
        Op::new(OpKind::Add).value(value)
    }
    /// Remove `value` from a set.
    pub fn remove(value: impl AsRef<[u8]>) -> Op {
        Op::new(OpKind::Remove).value(value)
    }
    /// Clear a set or map.
    pub fn clear() -> Op {
        Op::new(OpKind::Clear)
    }
    /// Assign `value` to a register.
    pub fn assign(value: impl AsRef<[u8]>) -> Op {
        Op::new(OpKind::Assign).value(value)
    }
    /// Enable a flag.
    pub fn enable() -> Op {
        Op::new(OpKind::Enable)
    }
    /// ORMap: apply `nested` to the value of type `value_type` at `key`.
    pub fn update(key: impl AsRef<[u8]>, value_type: CrdtType, nested: Op) -> Op {
        Op {
            value_type: Some(value_type),
            nested: Some(Box::new(nested)),
            ..Op::new(OpKind::Update)
        }
        .key(key)
    }
    /// Sets the map key (counter maps, LWWMap, ORMultiMap, removes).
    pub fn key(mut self, key: impl AsRef<[u8]>) -> Op {
        self.key = Some(key.as_ref().to_vec());
        self
    }
    /// Sets the element or register value.
    pub fn value(mut self, value: impl AsRef<[u8]>) -> Op {
        self.value = Some(value.as_ref().to_vec());
        self
    }

    /// Calls `f` with the dd_op view of this op; nested ops live on the
    /// stack frames of the recursion, so every pointer stays valid.
    pub(crate) fn with_raw<R>(&self, f: &mut dyn FnMut(&sys::dd_op) -> R) -> R {
        let (kp, kl) = self
            .key
            .as_deref()
            .map_or((ptr::null(), 0), |k| (k.as_ptr(), k.len()));
        let (vp, vl) = self
            .value
            .as_deref()
            .map_or((ptr::null(), 0), |v| (v.as_ptr(), v.len()));
        let mut raw = sys::dd_op {
            version: sys::DD_OP_VERSION,
            kind: self.kind as u32,
            amount: self.amount,
            key: kp,
            key_len: kl,
            value: vp,
            value_len: vl,
            value_type: self.value_type.map_or(0, |t| t as u32),
            nested: ptr::null(),
        };
        match &self.nested {
            None => f(&raw),
            Some(n) => n.with_raw(&mut |inner| {
                raw.nested = inner;
                f(&raw)
            }),
        }
    }
}

/// A fresh random actor id (never 0), from the library's CSPRNG: one per
/// writer; writers sharing an id corrupt each other's dots.
pub fn random_actor() -> Result<u64> {
    let mut out = 0u64;
    check(unsafe { sys::dd_actor_id_random(&mut out) })?;
    Ok(out)
}

/// One CRDT value.
pub struct Crdt {
    h: NonNull<sys::dd_crdt>,
    actor: u64,
}

// The C contract: one thread at a time, freeing from any thread is safe.
unsafe impl Send for Crdt {}

impl Crdt {
    /// A new empty value; ops are applied as this process's random actor
    /// (one [`random_actor`] drawn at first use; see [`Crdt::with_actor`]).
    pub fn new(ty: CrdtType) -> Result<Crdt> {
        static PROCESS_ACTOR: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let actor = PROCESS_ACTOR.get_or_init(|| random_actor().unwrap_or(1));
        Crdt::with_actor(ty, *actor)
    }

    /// A new empty value whose ops are applied as `actor` (a replica id).
    pub fn with_actor(ty: CrdtType, actor: u64) -> Result<Crdt> {
        let mut h = ptr::null_mut();
        check(unsafe { sys::dd_crdt_new(&mut h, ty as u32) })?;
        Ok(Crdt::own(h, actor))
    }

    pub(crate) fn from_raw(h: *mut sys::dd_crdt) -> Crdt {
        Crdt::own(h, 1)
    }

    fn own(h: *mut sys::dd_crdt, actor: u64) -> Crdt {
        Crdt {
            h: NonNull::new(h).expect("ddata returned a NULL value with DD_OK"),
            actor,
        }
    }

    fn ptr(&self) -> *mut sys::dd_crdt {
        self.h.as_ptr()
    }

    /// The actor id this value's local updates are made as.
    pub fn actor(&self) -> u64 {
        self.actor
    }

    /// Changes the actor id used by [`Crdt::apply`] and friends.
    pub fn set_actor(&mut self, actor: u64) {
        self.actor = actor;
    }

    /// This value's type.
    pub fn crdt_type(&self) -> CrdtType {
        let t = unsafe { sys::dd_crdt_type_of(self.ptr()) };
        CrdtType::from_code(t as u32).expect("a live value has a known type")
    }

    /// Counters: adds `amount` (the hot path: one ABI call, no allocation).
    #[inline]
    pub fn increment(&mut self, amount: u64) -> Result<()> {
        let op = sys::dd_op {
            version: sys::DD_OP_VERSION,
            kind: OpKind::Increment as u32,
            amount,
            key: ptr::null(),
            key_len: 0,
            value: ptr::null(),
            value_len: 0,
            value_type: 0,
            nested: ptr::null(),
        };
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_apply(handle, &op, self.actor, 0, ptr::null_mut())
        })
    }

    /// Applies `op` at `now_ms` (LWW timestamps). On failure nothing changes.
    pub fn apply(&mut self, op: &Op, now_ms: u64) -> Result<()> {
        let (h, actor) = (self.ptr(), self.actor);
        op.with_raw(&mut |raw| check(unsafe { sys::dd_crdt_apply(h, raw, actor, now_ms, ptr::null_mut()) }))
    }

    /// Applies `op` as `actor` and returns its delta (to merge elsewhere).
    pub fn apply_delta_as(&mut self, op: &Op, actor: u64, now_ms: u64) -> Result<Crdt> {
        let h = self.ptr();
        let mut delta = ptr::null_mut();
        op.with_raw(&mut |raw| check(unsafe { sys::dd_crdt_apply(h, raw, actor, now_ms, &mut delta) }))?;
        Ok(Crdt::own(delta, self.actor))
    }

    /// Applies `op` as this value's actor and returns its delta.
    pub fn apply_delta(&mut self, op: &Op, now_ms: u64) -> Result<Crdt> {
        self.apply_delta_as(op, self.actor, now_ms)
    }

    /// Joins `other` (a full value or a delta) into this one.
    pub fn merge(&mut self, other: &Crdt) -> Result<()> {
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_merge(handle, other.ptr())
        })
    }

    /// A deep copy (same actor).
    pub fn try_clone(&self) -> Result<Crdt> {
        let mut h = ptr::null_mut();
        call_on(self.ptr(), |handle| unsafe { sys::dd_crdt_clone(&mut h, handle) })?;
        Ok(Crdt::own(h, self.actor))
    }

    /// A stable 64-bit digest of the value (equal values, equal digests).
    pub fn digest(&self) -> Result<u64> {
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_crdt_digest(out, handle)
        })
    }

    /// The canonical binary form.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut b = empty();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_encode(&mut b, handle)
        })?;
        Ok(take(b))
    }

    /// Decodes the binary form of [`Crdt::encode`], under `limits`.
    pub fn decode(bytes: &[u8], limits: &Limits, now_ms: u64) -> Result<Crdt> {
        let raw = limits.raw();
        let mut h = ptr::null_mut();
        check(unsafe { sys::dd_crdt_decode(&mut h, bytes.as_ptr(), bytes.len(), &raw, now_ms) })?;
        Ok(Crdt::own(h, 1))
    }

    /// The full state as canonical JSON.
    pub fn to_json(&self) -> Result<String> {
        let mut b = empty();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_to_json(&mut b, handle)
        })?;
        utf8(take(b))
    }

    /// Builds a value from its JSON form (as in the conformance vectors), under `limits`.
    pub fn from_json(json: &str, limits: &Limits) -> Result<Crdt> {
        let raw = limits.raw();
        let mut h = ptr::null_mut();
        check(unsafe { sys::dd_crdt_from_json(&mut h, json.as_ptr().cast(), json.len(), &raw) })?;
        Ok(Crdt::own(h, 1))
    }

    /// The value a user sees, as canonical JSON ({"type":"PNCounter","value":5}).
    pub fn value_json(&self) -> Result<String> {
        let mut b = empty();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_value_json(&mut b, handle)
        })?;
        utf8(take(b))
    }

    /// GCounter, PNCounter.
    pub fn counter_value(&self) -> Result<i64> {
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_crdt_counter_value(out, handle)
        })
    }

    /// Set element, MVRegister value or map key.
    pub fn contains(&self, element: impl AsRef<[u8]>) -> Result<bool> {
        let e = element.as_ref();
        let rc = unsafe { sys::dd_crdt_contains(self.ptr(), e.as_ptr(), e.len()) };
        check(rc)?;
        Ok(rc == 1)
    }

    /// Number of elements (sets), entries (maps) or values (MVRegister).
    pub fn count(&self) -> Result<u64> {
        read_on(self.ptr(), |out, handle| unsafe {
            sys::dd_crdt_count(out, handle)
        })
    }

    /// LWWRegister: the value, or None when never assigned.
    pub fn register_get(&self) -> Result<Option<Vec<u8>>> {
        let mut b = empty();
        let found = found(call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_register_get(&mut b, handle)
        }))?;
        Ok(found.then(|| take(b)))
    }

    /// Whether a flag is enabled.
    pub fn flag_value(&self) -> Result<bool> {
        let rc = unsafe { sys::dd_crdt_flag_value(self.ptr()) };
        check(rc)?;
        Ok(rc == 1)
    }

    /// Maps: a copy of the value at `key`, or None.
    pub fn map_get(&self, key: impl AsRef<[u8]>) -> Result<Option<Crdt>> {
        let k = key.as_ref();
        let mut h = ptr::null_mut();
        let found = found(call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_map_get(&mut h, handle, k.as_ptr(), k.len())
        }))?;
        Ok(found.then(|| Crdt::own(h, self.actor)))
    }

    /// Set elements, MVRegister values or map keys, in bytewise order.
    pub fn elements(&self) -> Result<Vec<Vec<u8>>> {
        let mut b = empty();
        call_on(self.ptr(), |handle| unsafe {
            sys::dd_crdt_elements(&mut b, handle)
        })?;
        let mut out = Vec::new();
        split_length_prefixed(&take(b), &mut out, "dd_crdt_elements: truncated element")?;
        Ok(out)
    }
}

fn utf8(v: Vec<u8>) -> Result<String> {
    String::from_utf8(v).map_err(|_| Error::new(Status::Corrupt, "ddata returned JSON that is not UTF-8"))
}

impl PartialEq for Crdt {
    /// Same full state (not only the same visible value).
    fn eq(&self, other: &Crdt) -> bool {
        unsafe { sys::dd_crdt_equal(self.ptr(), other.ptr()) == 1 }
    }
}

impl Clone for Crdt {
    /// Panics only when the library is out of memory; see [`Crdt::try_clone`].
    fn clone(&self) -> Crdt {
        self.try_clone().expect("dd_crdt_clone failed")
    }
}

impl std::fmt::Debug for Crdt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value_json() {
            Ok(j) => write!(f, "Crdt({j})"),
            Err(e) => write!(f, "Crdt(<{e}>)"),
        }
    }
}

impl Drop for Crdt {
    fn drop(&mut self) {
        unsafe { sys::dd_crdt_free(self.ptr()) };
    }
}
