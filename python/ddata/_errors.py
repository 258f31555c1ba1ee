"""One exception hierarchy for every DD_E* status.

Each ABI call's status goes through check(); a failure raises the subclass
registered for its code. Calls made with a handle pass it along, and the
message comes from dd_handle_error (the failure recorded on that handle);
the thread-local dd_error_last(), read first on the same thread, is the
fallback for calls without a handle and for a record another thread's
failure on a shared handle has already replaced (its code differs).
"""
from ._ddata import ffi, lib


class Error(Exception):
    """A ddata call failed. `code` is the DD_E* status, `name` its name
    ("DD_ECONFLICT"), `message` the library's description of what failed."""

    def __init__(self, code, name=None, message=None):
        if name is None and message is None and not isinstance(code, int):
            # Raised by Python code (a custom store engine): Conflict("why").
            message, code = str(code), _CODE_OF.get(type(self), lib.DD_EIO)
            name = ffi.string(lib.dd_status_name(code)).decode()
        super().__init__("%s: %s" % (name, message))
        self.code = code
        self.name = name
        self.message = message


class InvalidArgument(Error, ValueError):
    """DD_EINVAL: an argument is wrong (empty, out of range)."""


class OutOfMemory(Error, MemoryError):
    """DD_ENOMEM: an allocation failed; nothing was changed."""


class Misuse(Error):
    """DD_EMISUSE: a closed or wrong-kind handle, or a call out of order."""


class NotFound(Error, KeyError):
    """DD_ENOTFOUND: no such key, persistence id, snapshot or member."""

    def __str__(self):  # KeyError would quote the message
        return Exception.__str__(self)


class Conflict(Error):
    """DD_ECONFLICT: compare-and-set lost; the sequence or revision moved."""


class Corrupt(Error):
    """DD_ECORRUPT: stored or received bytes are malformed."""


class CryptoError(Error):
    """DD_ECRYPTO: wrong key, tampered data, failed handshake."""


class LimitExceeded(Error):
    """DD_ELIMIT: a configured limit (bytes, count, depth) was hit."""


class IOError_(Error, OSError):
    """DD_EIO: the operating system or a storage engine failed."""

    def __init__(self, code, name=None, message=None):
        Error.__init__(self, code, name, message)


class Timeout(Error, TimeoutError):
    """DD_ETIMEOUT: a consistency level was not reached in time."""

    def __init__(self, code, name=None, message=None):
        Error.__init__(self, code, name, message)


class Deleted(Error):
    """DD_EDELETED: the key was deleted and may not be updated."""


class TypeMismatch(Error, TypeError):
    """DD_ETYPE: the key or value holds another data type."""


class Busy(Error):
    """DD_EBUSY: a resource is locked by someone else; retry."""


class Done(Error):
    """DD_EDONE: no more items. Wrappers turn it into StopIteration or None;
    it reaches callers only from low-level calls."""


class Unsupported(Error, NotImplementedError):
    """DD_EUNSUPPORTED: not available in this build or on this CPU."""


class CallbackError(Error):
    """DD_ECALLBACK: a callback stopped the call with a code of its own
    (named in the message)."""


_BY_CODE = {
    lib.DD_EINVAL: InvalidArgument,
    lib.DD_ENOMEM: OutOfMemory,
    lib.DD_EMISUSE: Misuse,
    lib.DD_ENOTFOUND: NotFound,
    lib.DD_ECONFLICT: Conflict,
    lib.DD_ECORRUPT: Corrupt,
    lib.DD_ECRYPTO: CryptoError,
    lib.DD_ELIMIT: LimitExceeded,
    lib.DD_EIO: IOError_,
    lib.DD_ETIMEOUT: Timeout,
    lib.DD_EDELETED: Deleted,
    lib.DD_ETYPE: TypeMismatch,
    lib.DD_EBUSY: Busy,
    lib.DD_EDONE: Done,
    lib.DD_EUNSUPPORTED: Unsupported,
    lib.DD_ECALLBACK: CallbackError,
}


_CODE_OF = {cls: code for code, cls in _BY_CODE.items()}


def error_for(code, handle=None):
    """The exception for status `code`: the thread's last message when it is
    this call's (the call and this read run on one thread, so it is exact
    even while other threads fail on a shared handle), else the message
    recorded on `handle` (dd_handle_error, the per-handle form, which any
    thread can read)."""
    err = lib.dd_error_last()
    message = ffi.string(err.message).decode("utf-8", "replace") if err.code == code else ""
    if not message and handle is not None and handle != ffi.NULL:
        out = ffi.new("const dd_error **")
        if lib.dd_handle_error(out, handle) == lib.DD_OK and out[0].code == code:
            message = ffi.string(out[0].message).decode("utf-8", "replace")
    if not message:
        message = ffi.string(lib.dd_status_str(code)).decode()
    name = ffi.string(lib.dd_status_name(code)).decode()
    return _BY_CODE.get(code, Error)(code, name, message)


def check(code, handle=None):
    """Raises for a negative status; returns the status otherwise. `handle`
    is the call's handle, whose recorded error names the failure."""
    if code < 0:
        raise error_for(code, handle)
    return code


def last_error():
    """(code, message) of this thread's last failure; (0, "no error") if none."""
    err = lib.dd_error_last()
    return err.code, ffi.string(err.message).decode("utf-8", "replace")


def clear_error():
    """Clears this thread's last error."""
    lib.dd_error_clear()
