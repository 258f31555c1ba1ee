"""Owning wrappers for ddata handles.

A handle is wrapped with ffi.gc so the garbage collector frees it when the
Python object goes, and close() frees it at once (context managers call
it). After close, the wrapper holds NULL: the next call reaches C, which
answers DD_EMISUSE (raised as ddata.Misuse) instead of touching freed
memory. The C side also keeps a parent alive while children exist
(ABI.md section 5), so finalizers may run in any order; children still
keep a Python reference to their parent so that the parent's options and
buffers stay reachable as long as they may be used.

A handle passed as an argument (a keyring, a store, a system in an options
struct) goes through handle_arg: a closed wrapper raises Misuse there,
because in an options struct NULL means "absent" (no sealing, no durable
store), and a closed keyring must never turn sealing off.
"""
from ._ddata import ffi, lib
from ._errors import Misuse


class Handle:
    __slots__ = ("_h", "_parent", "__weakref__")

    def __init__(self, ptr, destroy, parent=None):
        # ffi.gc wants a destructor returning nothing useful; the close
        # functions return a status, which is ignored in a finalizer.
        self._h = ffi.gc(ptr, destroy)
        self._parent = parent

    @property
    def closed(self):
        return self._h == ffi.NULL

    def close(self):
        """Releases the handle now. Closing twice is harmless here (the
        wrapper knows it is closed); calls after close raise Misuse."""
        h = self._h
        if h != ffi.NULL:
            self._h = ffi.NULL
            ffi.release(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, "closed" if self.closed else "open")


def handle_arg(obj, what):
    """The C handle of `obj` for use as an argument; Misuse when closed."""
    h = obj._h
    if h == ffi.NULL:
        raise Misuse(lib.DD_EMISUSE, "DD_EMISUSE", "%s handle is closed" % what)
    return h
