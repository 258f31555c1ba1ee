//! Moving library-owned bytes (dd_buf) into Rust values, and the limits
//! every decoder takes.
use ddata_sys as sys;

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

pub(crate) fn empty() -> sys::dd_buf {
    sys::dd_buf {
        data: std::ptr::null_mut(),
        len: 0,
    }
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
        let mut raw = std::mem::MaybeUninit::<sys::dd_limits>::zeroed();
        let rc = unsafe { sys::dd_limits_init(raw.as_mut_ptr(), sys::DD_LIMITS_VERSION) };
        assert_eq!(rc, 0, "dd_limits_init rejected its own version");
        let raw = unsafe { raw.assume_init() };
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
