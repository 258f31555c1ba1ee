"""Versions, status codes, CRDT type numbers and decoding limits: the
foundation of the ABI, mirrored as Python values."""

from ._ddata import ffi, lib
from ._errors import check
from ._util import lib_enum, text


def version():
    """The version of the loaded library ("1.0.0")."""
    return text(lib.dd_version())


def version_number():
    """MAJOR * 1000000 + MINOR * 1000 + PATCH of the loaded library."""
    return lib.dd_version_number()


def abi_version():
    """The ABI version of the loaded library (DD_ABI_VERSION)."""
    return lib.dd_abi_version()


def init():
    """Prepares process-wide state; optional, every constructor calls it."""
    check(lib.dd_init())


Status = lib_enum(
    __name__, "Status", "DD_", "OK EINVAL ENOMEM EMISUSE ENOTFOUND ECONFLICT ECORRUPT ECRYPTO ELIMIT EIO ETIMEOUT EDELETED ETYPE EBUSY EDONE EUNSUPPORTED ECALLBACK",
    """The library's status codes: OK and the negative DD_E* errors.""")


def status_name(code):
    """"DD_EINVAL" for -1; "DD_E?" for codes the library does not know."""
    return text(lib.dd_status_name(int(code)))


def status_str(code):
    """A description of a status code: 'invalid argument'."""
    return text(lib.dd_status_str(int(code)))


CrdtType = lib_enum(
    __name__, "CrdtType", "DD_", "GCOUNTER PNCOUNTER GSET ORSET LWWREGISTER FLAG MVREGISTER ORMAP LWWMAP PNCOUNTERMAP GCOUNTERMAP ORMULTIMAP",
    """The CRDT types (DD_CRDT_*).""")


OpKind = lib_enum(
    __name__, "OpKind", "DD_OP_", "INCREMENT DECREMENT ADD REMOVE CLEAR ASSIGN ENABLE UPDATE",
    """The op kinds (DD_OP_*).""")


_LIMIT_FIELDS = ("max_depth", "max_bytes", "max_elements", "max_value_bytes", "max_clock_skew_ms")


class Limits:
    """Decoding limits (dd_limits). Limits() holds the library's defaults;
    change fields by keyword: Limits(max_elements=100_000)."""

    __slots__ = ("_c",)

    def __init__(self, **fields):
        self._c = ffi.new("dd_limits *")
        check(lib.dd_limits_init(self._c, lib.DD_LIMITS_VERSION))
        for name, value in fields.items():
            if name not in _LIMIT_FIELDS:
                raise TypeError("Limits has no field %r" % name)
            setattr(self, name, value)

    def __getattr__(self, name):
        if name in _LIMIT_FIELDS:
            return getattr(self._c, name)
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name == "_c":
            object.__setattr__(self, name, value)
        elif name in _LIMIT_FIELDS:
            if not isinstance(value, int) or value < 0:
                raise ValueError("%s must be a non-negative int" % name)
            setattr(self._c, name, value)
        else:
            raise AttributeError("Limits has no field %r" % name)

    def __eq__(self, other):
        return isinstance(other, Limits) and all(getattr(self, f) == getattr(other, f) for f in _LIMIT_FIELDS)

    def __repr__(self):
        return "Limits(%s)" % ", ".join("%s=%d" % (f, getattr(self, f)) for f in _LIMIT_FIELDS)


def _limits_ptr(limits):
    """The dd_limits * for an optional Limits (NULL means the defaults)."""
    if limits is None:
        return ffi.NULL
    if not isinstance(limits, Limits):
        raise TypeError("limits must be a ddata.Limits")
    return limits._c
