//! Library-wide calls: versions and initialisation.
use ddata_sys as sys;

use crate::error::{check, cstr_static, Result};

/// The version of the library actually loaded, "1.0.0".
pub fn version() -> &'static str {
    cstr_static(unsafe { sys::dd_version() })
}

/// MAJOR * 1000000 + MINOR * 1000 + PATCH.
pub fn version_number() -> i32 {
    unsafe { sys::dd_version_number() }
}

/// The ABI version of the loaded library (`DD_ABI_VERSION`).
pub fn abi_version() -> i32 {
    unsafe { sys::dd_abi_version() }
}

/// Prepares process-wide state; idempotent and thread-safe. Constructors
/// call it, so calling it yourself is optional.
pub fn init() -> Result<()> {
    check(unsafe { sys::dd_init() })
}
