//! Errors: each failing call becomes an [`Error`] with the library's status
//! and a message. A call made with a handle takes the message recorded on
//! that handle (`dd_handle_error`, which does not depend on the thread, so
//! it stays right when an async task moves between threads); calls without
//! a handle (constructors) read `dd_error_last()` on the calling thread
//! right after the call, which is also the fallback when the handle's
//! record is not this call's (its code differs).
use std::ffi::CStr;
use std::fmt;

use ddata_sys as sys;

/// The DD_E* status of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// `DD_EINVAL`: an argument is not valid.
    InvalidArgument,
    /// `DD_ENOMEM`: an allocation failed.
    OutOfMemory,
    /// `DD_EMISUSE`: a closed or wrong-kind handle, or a call out of order.
    Misuse,
    /// `DD_ENOTFOUND`: no such key, pid, snapshot or file.
    NotFound,
    /// `DD_ECONFLICT`: a compare-and-set lost: the sequence or revision moved.
    Conflict,
    /// `DD_ECORRUPT`: stored or received bytes do not decode.
    Corrupt,
    /// `DD_ECRYPTO`: sealing, opening or authentication failed.
    Crypto,
    /// `DD_ELIMIT`: a decode or size limit was exceeded.
    Limit,
    /// `DD_EIO`: the operating system or database reported an error.
    Io,
    /// `DD_ETIMEOUT`: a consistency level was not reached in time.
    Timeout,
    /// `DD_EDELETED`: the key was deleted and may not be updated.
    Deleted,
    /// `DD_ETYPE`: the value has another CRDT type.
    TypeMismatch,
    /// `DD_EBUSY`: a resource is locked by someone else; retry.
    Busy,
    /// `DD_EDONE`: an iteration has no more items.
    Done,
    /// `DD_EUNSUPPORTED`: not available in this build or on this CPU.
    Unsupported,
    /// A callback stopped the call with a code of its own (in the message).
    Callback,
    /// A code this crate does not know (a newer library).
    Other(i32),
}

impl Status {
    /// The status for a C return code (negative `DD_E*`).
    pub fn from_code(code: i32) -> Status {
        match code {
            sys::DD_EINVAL => Status::InvalidArgument,
            sys::DD_ENOMEM => Status::OutOfMemory,
            sys::DD_EMISUSE => Status::Misuse,
            sys::DD_ENOTFOUND => Status::NotFound,
            sys::DD_ECONFLICT => Status::Conflict,
            sys::DD_ECORRUPT => Status::Corrupt,
            sys::DD_ECRYPTO => Status::Crypto,
            sys::DD_ELIMIT => Status::Limit,
            sys::DD_EIO => Status::Io,
            sys::DD_ETIMEOUT => Status::Timeout,
            sys::DD_EDELETED => Status::Deleted,
            sys::DD_ETYPE => Status::TypeMismatch,
            sys::DD_EBUSY => Status::Busy,
            sys::DD_EDONE => Status::Done,
            sys::DD_EUNSUPPORTED => Status::Unsupported,
            sys::DD_ECALLBACK => Status::Callback,
            other => Status::Other(other),
        }
    }

    /// The C return code of this status.
    pub fn code(self) -> i32 {
        match self {
            Status::InvalidArgument => sys::DD_EINVAL,
            Status::OutOfMemory => sys::DD_ENOMEM,
            Status::Misuse => sys::DD_EMISUSE,
            Status::NotFound => sys::DD_ENOTFOUND,
            Status::Conflict => sys::DD_ECONFLICT,
            Status::Corrupt => sys::DD_ECORRUPT,
            Status::Crypto => sys::DD_ECRYPTO,
            Status::Limit => sys::DD_ELIMIT,
            Status::Io => sys::DD_EIO,
            Status::Timeout => sys::DD_ETIMEOUT,
            Status::Deleted => sys::DD_EDELETED,
            Status::TypeMismatch => sys::DD_ETYPE,
            Status::Busy => sys::DD_EBUSY,
            Status::Done => sys::DD_EDONE,
            Status::Unsupported => sys::DD_EUNSUPPORTED,
            Status::Callback => sys::DD_ECALLBACK,
            Status::Other(c) => c,
        }
    }

    /// "DD_ECONFLICT".
    pub fn name(self) -> &'static str {
        cstr_static(unsafe { sys::dd_status_name(self.code()) })
    }

    /// "compare-and-set lost ...".
    pub fn description(self) -> &'static str {
        cstr_static(unsafe { sys::dd_status_str(self.code()) })
    }
}

/// The library's names and descriptions are static strings, never NULL.
pub(crate) fn cstr_static(p: *const std::os::raw::c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("")
}

/// A failed ddata call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    /// An error with `status` and `message`.
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
        }
    }

    /// Builds the error for status `rc` from this thread's last error.
    pub(crate) fn last(rc: i32) -> Error {
        let e = unsafe { sys::dd_error_last() };
        let message = if e.is_null() {
            None
        } else {
            let e = unsafe { &*e };
            if e.code == rc && !e.message.is_null() {
                Some(
                    unsafe { CStr::from_ptr(e.message) }
                        .to_string_lossy()
                        .into_owned(),
                )
            } else {
                None
            }
        };
        let status = Status::from_code(rc);
        Error {
            status,
            message: message.unwrap_or_else(|| status.description().to_owned()),
        }
    }

    /// The library status this error carries.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The negative DD_E* number.
    pub fn code(&self) -> i32 {
        self.status.code()
    }

    /// The library's message (as `dd_error_last()` gave it).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// A `std::result::Result` whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The failure of a call made with `handle`: the thread's record when it
    /// is this call's (the call and the read run on this thread, so it is
    /// exact even when other threads fail on the same handle meanwhile),
    /// else the record on the handle (`dd_handle_error`).
    pub(crate) fn on<T>(rc: i32, handle: *mut T) -> Error {
        let t = unsafe { sys::dd_error_last() };
        if !t.is_null() {
            let t = unsafe { &*t };
            if t.code == rc && !t.message.is_null() {
                return Error::last(rc);
            }
        }
        let fallback = Error::last(rc);
        let mut e: *const sys::dd_error = std::ptr::null();
        let ok = unsafe { sys::dd_handle_error(&mut e, handle as *const std::os::raw::c_void) };
        if ok == sys::DD_OK && !e.is_null() {
            let e = unsafe { &*e };
            if e.code == rc && !e.message.is_null() {
                let message = unsafe { CStr::from_ptr(e.message) }
                    .to_string_lossy()
                    .into_owned();
                return Error::new(fallback.status, message);
            }
        }
        fallback
    }
}

/// Makes one ABI call with `handle` and turns its status into a Result,
/// reading the message the call recorded on that same handle.
#[inline]
pub(crate) fn call_on<T>(handle: *mut T, call: impl FnOnce(*mut T) -> i32) -> Result<()> {
    let rc = call(handle);
    if rc >= 0 {
        Ok(())
    } else {
        Err(Error::on(rc, handle))
    }
}

/// [`call_on`] for a call that writes its one result through its first
/// argument: returns that result.
#[inline]
pub(crate) fn read_on<H, T: Default>(handle: *mut H, call: impl FnOnce(&mut T, *mut H) -> i32) -> Result<T> {
    let mut out = T::default();
    call_on(handle, |handle| call(&mut out, handle))?;
    Ok(out)
}

/// Turns a status into a Result, reading the message on failure.
#[inline]
pub(crate) fn check(rc: i32) -> Result<()> {
    if rc >= 0 {
        Ok(())
    } else {
        Err(Error::last(rc))
    }
}

/// Runs a constructor that writes a new handle through its first argument
/// (`dd_*_open`, `dd_*_new`) and returns the handle: never NULL on success.
pub(crate) fn open_handle<T>(open: impl FnOnce(&mut *mut T) -> i32) -> Result<std::ptr::NonNull<T>> {
    let mut h = std::ptr::null_mut();
    check(open(&mut h))?;
    Ok(std::ptr::NonNull::new(h).expect("DD_OK with NULL"))
}

/// A lookup's outcome: true when found, false on `DD_ENOTFOUND` (not an
/// error for a getter that answers with an Option), any other failure as is.
pub(crate) fn found(looked_up: Result<()>) -> Result<bool> {
    match looked_up {
        Ok(()) => Ok(true),
        Err(e) if e.status() == Status::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
