//! Moving library-owned bytes (dd_buf) into Rust values, and the limits
//! every decoder takes.
use ddata_sys as sys;

use crate::error::{Error, Result, Status};

/// Copies a dd_buf the library filled into a Vec and frees it.
pub(crate) fn take(mut b: sys::dd_buf) -> Vec<u8> {
    let v = if b.data.is_null() || b.len == 0 {
        Vec::new()
    } else {
        unsafe { std::slice::from_raw_parts(b.data, b.len) }.to_vec()
    };
    unsafe { sys::dd_buf_free(&mut b) };
    v
}

/// Appends to `out` the items of a list the library encodes as
/// (u32 little-endian length, bytes) pairs; a length past the end is
/// `truncated`, a Corrupt error.
pub(crate) fn split_length_prefixed(bytes: &[u8], out: &mut Vec<Vec<u8>>, truncated: &str) -> Result<()> {
    let mut rest = bytes;
    while rest.len() >= 4 {
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        rest = &rest[4..];
        if n > rest.len() {
            return Err(Error::new(Status::Corrupt, truncated));
        }
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    Ok(())
}

/// A slice as the C calls take an optional array: NULL when empty.
pub(crate) fn slice_ptr<T>(items: &[T]) -> *const T {
    if items.is_empty() {
        std::ptr::null()
    } else {
        items.as_ptr()
    }
}

pub(crate) fn empty() -> sys::dd_buf {
    sys::dd_buf {
        data: std::ptr::null_mut(),
        len: 0,
    }
}

/// The library's defaults for a versioned struct: `init` (a
/// `dd_*_init`) with this crate's `version`. It cannot fail; a failure means
/// a mismatched library, and panics naming the struct.
pub(crate) fn lib_defaults<T>(
    init: unsafe extern "C" fn(*mut T, u32) -> std::os::raw::c_int,
    version: u32,
) -> T {
    let mut raw = std::mem::MaybeUninit::<T>::zeroed();
    let rc = unsafe { init(raw.as_mut_ptr(), version) };
    let what = std::any::type_name::<T>();
    assert_eq!(rc, 0, "the init of {what} rejected its own version");
    unsafe { raw.assume_init() }
}

/// Bounds for everything ddata decodes (DD_LIMITS_INIT by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of maps in maps.
    pub max_depth: u32,
    /// Largest encoded value or message, in bytes.
    pub max_bytes: u64,
    /// Most entries in one set, map or dot store.
    pub max_elements: u64,
    /// Largest single element, key or register value, in bytes.
    pub max_value_bytes: u64,
    /// How far into the future a timestamp may be, in milliseconds.
    pub max_clock_skew_ms: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        let raw = lib_defaults(sys::dd_limits_init, sys::DD_LIMITS_VERSION);
        Limits {
            max_depth: raw.max_depth,
            max_bytes: raw.max_bytes,
            max_elements: raw.max_elements,
            max_value_bytes: raw.max_value_bytes,
            max_clock_skew_ms: raw.max_clock_skew_ms,
        }
    }
}

impl Limits {
    pub(crate) fn raw(&self) -> sys::dd_limits {
        sys::dd_limits {
            version: sys::DD_LIMITS_VERSION,
            max_depth: self.max_depth,
            max_bytes: self.max_bytes,
            max_elements: self.max_elements,
            max_value_bytes: self.max_value_bytes,
            max_clock_skew_ms: self.max_clock_skew_ms,
        }
    }
}
