//! Raw bindings to the ddata C library.
//!
//! Everything comes from the private `ffi` module, generated from
//! `abi/include/ddata.h` by `bindings/gen/gen.py`, and is re-exported here.
//! Use the safe `ddata` crate unless you are writing a binding; ABI.md is
//! the contract of every function.


#![warn(missing_docs)]
mod ffi;
pub use ffi::*;

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn loaded_library_matches_generated_header() {
        let v = unsafe { CStr::from_ptr(dd_version()) }.to_str().unwrap();
        assert_eq!(v, DDATA_VERSION);
        assert_eq!(unsafe { dd_version_number() } as u32, DDATA_VERSION_NUMBER);
        assert_eq!(unsafe { dd_abi_version() } as u32, DDATA_ABI_VERSION);
    }

    #[test]
    fn crate_version_records_the_c_version() {
        let meta = env!("CARGO_PKG_VERSION").split('+').nth(1).unwrap();
        assert_eq!(meta, format!("ddata.{}", DDATA_VERSION));
    }

    #[test]
    fn every_status_has_a_distinct_name() {
        let mut names = std::collections::BTreeSet::new();
        for code in DD_EUNSUPPORTED..=DD_OK {
            let n = unsafe { CStr::from_ptr(dd_status_name(code)) };
            names.insert(n.to_owned());
        }
        assert_eq!(names.len(), (DD_OK - DD_EUNSUPPORTED + 1) as usize);
    }

    #[test]
    fn error_last_is_never_null() {
        let e = unsafe { dd_error_last() };
        assert!(!e.is_null());
        assert!(!unsafe { (*e).message }.is_null());
    }
}
