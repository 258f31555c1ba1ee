"""Conversions at the boundary: text and bytes in, bytes out.

Keys, elements and values are byte strings in C. A str is encoded as UTF-8
on the way in; bytes, bytearray and memoryview pass through unchanged. What
comes back is bytes, except where the API is text by definition (JSON,
status names, versions), so a caller never gets a silently decoded value.
"""
import enum

from ._ddata import ffi, lib


def to_bytes(value, what="value"):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))


def copy_bytes(data, length):
    """bytes of length `length` at `data` (NULL or empty gives b"")."""
    return bytes(ffi.buffer(data, length)) if length and data != ffi.NULL else b""


def take_buf(buf):
    """Copies a dd_buf the library handed out into bytes and frees it."""
    try:
        return copy_bytes(buf.data, buf.len)
    finally:
        lib.dd_buf_free(buf)


def text(cstr):
    return ffi.string(cstr).decode("utf-8") if cstr != ffi.NULL else ""


def lib_enum(module, name, prefix, members, doc):
    """An enum.IntEnum mirroring the library's constants: each member M of
    the space-separated `members` has the value lib.<prefix>M."""
    cls = enum.IntEnum(name, [(m, getattr(lib, prefix + m)) for m in members.split()], module=module)
    cls.__doc__ = doc
    return cls
