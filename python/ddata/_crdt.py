"""Standalone CRDT values (dd_crdt): one class per data type.

A value is a dd_crdt handle; mutations go through dd_crdt_apply as an
`actor` (a 64-bit replica id) at `now_ms` (used by LWW timestamps only),
and can hand back their delta for another replica to merge. Reads are the
typed dd_crdt_* reads. Every method is one ABI call plus conversions; the
generic path (Op + Crdt.apply) is what the conformance runner uses, the
typed methods are what people write.
"""
import json
import struct
import threading
import time

from ._core import CrdtType, OpKind, _limits_ptr
from ._ddata import ffi, lib
from ._errors import InvalidArgument, check
from ._handle import Handle
from ._util import take_buf, text, to_bytes



def random_actor():
    """A fresh random actor id (never 0) from dd_actor_id_random."""
    out = ffi.new("uint64_t *")
    check(lib.dd_actor_id_random(out))
    return out[0]


# A process-wide actor for values created without one: random, so two
# processes never share counter slots or dots by accident.
DEFAULT_ACTOR = random_actor()


def _clock_ms():
    return time.time_ns() // 1_000_000


class Op:
    """An operation (dd_op): kind, amount, key, value, and for ORMap
    updates the type of the value at key and the nested op."""

    __slots__ = ("kind", "amount", "key", "value", "value_type", "nested")

    def __init__(self, kind, amount=0, key=None, value=None, value_type=0, nested=None):
        self.kind = OpKind(kind)
        self.amount = amount
        self.key = None if key is None else to_bytes(key, "key")
        self.value = None if value is None else to_bytes(value, "value")
        self.value_type = int(value_type)
        self.nested = nested

    def _to_c(self, keep):
        """A dd_op * for this op; `keep` holds every buffer it points into."""
        op = ffi.new("dd_op *")
        keep.append(op)
        check(lib.dd_op_init(op, lib.DD_OP_VERSION))
        op.kind = self.kind
        if self.amount < 0:
            raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL", "amount must not be negative")
        op.amount = self.amount
        if self.key is not None:
            k = ffi.from_buffer(self.key)
            keep.append(k)
            op.key, op.key_len = k, len(self.key)
        if self.value is not None:
            v = ffi.from_buffer(self.value)
            keep.append(v)
            op.value, op.value_len = v, len(self.value)
        op.value_type = self.value_type
        if self.nested is not None:
            op.nested = self.nested._to_c(keep)
        return op

    def __repr__(self):
        fields = ["%s=%r" % (f, getattr(self, f)) for f in self.__slots__[1:] if getattr(self, f)]
        return "Op(%s)" % ", ".join([self.kind.name] + fields)


def _elements(buf):
    """Splits the dd_crdt_elements form: 4-byte LE length, then the bytes."""
    data = take_buf(buf)
    out = []
    pos = 0
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        out.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return out


def _new_ptr(crdt_type):
    out = ffi.new("dd_crdt **")
    check(lib.dd_crdt_new(out, int(crdt_type)))
    return out[0]


_CLASSES: dict = {}


def _wrap(ptr, actor=None):
    """Wraps an owned dd_crdt * in the class of its type."""
    t = lib.dd_crdt_type_of(ptr)
    if t < 0:
        lib.dd_crdt_free(ptr)
        check(t)
    obj = Crdt.__new__(_CLASSES.get(t, Crdt))
    Handle.__init__(obj, ptr, lib.dd_crdt_free)
    obj.actor = DEFAULT_ACTOR if actor is None else actor
    obj._lock = threading.Lock()
    return obj


class _both:
    """Holds the locks of two values (merge, ==) in a fixed order, so two
    threads merging a into b and b into a cannot deadlock."""

    __slots__ = ("locks",)

    def __init__(self, a, b):
        self.locks = (a._lock,) if a is b else tuple(x._lock for x in sorted((a, b), key=id))

    def __enter__(self):
        for lock in self.locks:
            lock.acquire()

    def __exit__(self, *exc):
        for lock in reversed(self.locks):
            lock.release()
        return False


def _lookup(fn, h, key, actor=None):
    """The copy fn(out, h, key, len) hands out, wrapped; None when fn says
    DD_ENOTFOUND. Map entries and replica keys are looked up alike."""
    key = to_bytes(key, "key")
    out = ffi.new("dd_crdt **")
    rc = fn(out, h, key, len(key))
    if rc == lib.DD_ENOTFOUND:
        return None
    check(rc)
    return _wrap(out[0], actor)


def type_name(crdt_type):
    """"ORSet" for CrdtType.ORSET; None for an unknown number."""
    name = text(lib.dd_crdt_type_name(int(crdt_type)))
    return None if name == "unknown" else name


def needs_causal_delta(crdt_type):
    """Whether deltas of `crdt_type` must be delivered in causal order
    (ORSet, MVRegister, the maps)."""
    return bool(check(lib.dd_crdt_needs_causal_delta(int(crdt_type))))


class Crdt(Handle):
    """One CRDT value. Use the typed subclasses (ddata.ORSet(), ...), or
    Crdt.new(type) when the type is data.

    A value may be shared between threads: the C library wants one call at
    a time per value (ABI.md, "Threads"), so every method takes the value's
    own lock around its C call (merge and == take both values' locks, in a
    fixed order). The GIL is released during the call, so other values
    still run in parallel."""

    __slots__ = ("actor", "_lock")
    TYPE = None

    def __init__(self, actor=None):
        if self.TYPE is None:
            raise TypeError("use Crdt.new(type) or a typed class such as ddata.ORSet")
        Handle.__init__(self, _new_ptr(self.TYPE), lib.dd_crdt_free)
        self.actor = DEFAULT_ACTOR if actor is None else actor
        self._lock = threading.Lock()

    def close(self):
        """Frees the C value now (also on garbage collection and at the end of `with`)."""
        with self._lock:
            Handle.close(self)

    @staticmethod
    def new(crdt_type, actor=None):
        """A new empty value of `crdt_type` (a CrdtType or its code), typed as its subclass."""
        return _wrap(_new_ptr(crdt_type), actor)

    @property
    def type(self):
        """The value's CrdtType."""
        with self._lock:
            return CrdtType(check(lib.dd_crdt_type_of(self._h), self._h))

    # ---- mutation

    def apply(self, op, now_ms=None, delta=False):
        """Applies an Op; returns its delta (a value of the same type) when
        `delta` is true, else None."""
        keep = []
        c_op = op._to_c(keep)
        out = ffi.new("dd_crdt **") if delta else ffi.NULL
        with self._lock:
            check(lib.dd_crdt_apply(self._h, c_op, self.actor, now_ms if now_ms is not None else _clock_ms(),
                                    out), self._h)
        return _wrap(out[0], self.actor) if delta else None

    def _op(self, kind, amount=0, key=None, value=None, delta=False, now=0):
        # None (no key, no value) reaches C as NULL, distinct from b"".
        out = ffi.new("dd_crdt **") if delta else ffi.NULL
        kp, kn = (ffi.NULL, 0) if key is None else (key, len(key))
        vp, vn = (ffi.NULL, 0) if value is None else (value, len(value))
        try:
            with self._lock:
                rc = lib.ddpy_apply(self._h, kind, amount, kp, kn, vp, vn, self.actor, now, out)
                if rc < 0:
                    check(rc, self._h)
        except OverflowError:
            raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL", "amount must be between 0 and 2**64-1") from None
        return _wrap(out[0], self.actor) if delta else None

    def merge(self, other):
        """Joins `other` (a full value or a delta) into this value."""
        if not isinstance(other, Crdt):
            raise TypeError("merge needs a ddata.Crdt")
        with _both(self, other):
            check(lib.dd_crdt_merge(self._h, other._h), self._h)
        return self

    def copy(self):
        """A deep copy with the same actor."""
        out = ffi.new("dd_crdt **")
        with self._lock:
            check(lib.dd_crdt_clone(out, self._h), self._h)
        return _wrap(out[0], self.actor)

    __copy__ = copy

    # ---- comparison and encoding

    def __eq__(self, other):
        if not isinstance(other, Crdt):
            return NotImplemented
        with _both(self, other):
            return bool(check(lib.dd_crdt_equal(self._h, other._h), self._h))

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]  # mutable

    def digest(self):
        """A stable 64-bit digest of the value: equal values have equal digests."""
        return self._read_out("uint64_t *", lib.dd_crdt_digest)[0]

    def _read_out(self, ctype, fn):
        """A new `ctype` (a pointer type) filled by fn(out, handle), one of the
        dd_crdt_* readers, under the lock."""
        out = ffi.new(ctype)
        with self._lock:
            check(fn(out, self._h), self._h)
        return out

    def encode(self):
        """The canonical binary form (bytes)."""
        return take_buf(self._read_out("dd_buf *", lib.dd_crdt_encode))

    @staticmethod
    def decode(data, limits=None, now_ms=None, actor=None):
        """Decodes the binary form of encode(), under optional decode `limits`."""
        data = to_bytes(data, "data")
        out = ffi.new("dd_crdt **")
        now = now_ms if now_ms is not None else _clock_ms()
        check(lib.dd_crdt_decode(out, data, len(data), _limits_ptr(limits), now))
        return _wrap(out[0], actor)

    def to_json(self):
        """The full state as canonical JSON text (reads back exactly)."""
        return take_buf(self._read_out("dd_buf *", lib.dd_crdt_to_json)).decode("utf-8")

    @staticmethod
    def from_json(text_, limits=None, actor=None):
        """Builds a value from its JSON form (as in the conformance vectors)."""
        data = to_bytes(text_, "json")
        out = ffi.new("dd_crdt **")
        check(lib.dd_crdt_from_json(out, data, len(data), _limits_ptr(limits)))
        return _wrap(out[0], actor)

    def value_json(self):
        """The value a user sees, as canonical JSON text."""
        return take_buf(self._read_out("dd_buf *", lib.dd_crdt_value_json)).decode("utf-8")

    @property
    def value(self):
        """The visible value as Python data (parsed from value_json())."""
        doc = json.loads(self.value_json())
        doc.pop("type", None)
        return doc.get("value", doc)

    # ---- reads shared by several types

    def __len__(self):
        return self._read_out("uint64_t *", lib.dd_crdt_count)[0]

    def _contains(self, item):
        item = to_bytes(item, "element")
        with self._lock:
            return bool(check(lib.dd_crdt_contains(self._h, item, len(item)), self._h))

    def _elements(self):
        return _elements(self._read_out("dd_buf *", lib.dd_crdt_elements))

    def _counter(self):
        return self._read_out("int64_t *", lib.dd_crdt_counter_value)[0]

    def _map_get(self, key):
        with self._lock:
            return _lookup(lib.dd_crdt_map_get, self._h, key, self.actor)

    def __repr__(self):
        if self.closed:
            return "<%s closed>" % type(self).__name__
        return "<%s %s>" % (type(self).__name__, self.value_json())


def _typed(crdt_type):
    def register(cls):
        cls.TYPE = crdt_type
        _CLASSES[int(crdt_type)] = cls
        return cls

    return register


_INC = int(OpKind.INCREMENT)
_DEC = int(OpKind.DECREMENT)
_ADD = int(OpKind.ADD)
_REMOVE = int(OpKind.REMOVE)
_CLEAR = int(OpKind.CLEAR)
_ASSIGN = int(OpKind.ASSIGN)
_ENABLE = int(OpKind.ENABLE)


@_typed(CrdtType.GCOUNTER)
class GCounter(Crdt):
    """A grow-only counter."""
    __slots__ = ()

    def increment(self, n=1, delta=False):
        """Adds `n`. With delta=True, returns the delta as a Crdt."""
        if delta:
            return self._op(_INC, n, delta=True)
        try:
            with self._lock:
                rc = lib.ddpy_apply(self._h, _INC, n, ffi.NULL, 0, ffi.NULL, 0, self.actor, 0, ffi.NULL)
                if rc < 0:
                    check(rc, self._h)
        except OverflowError:
            raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL", "amount must be between 0 and 2**64-1") from None

    @property
    def value(self):
        """The counter's value."""
        return self._counter()

    def __int__(self):
        return self._counter()


@_typed(CrdtType.PNCOUNTER)
class PNCounter(GCounter):
    """A counter that also decrements."""
    __slots__ = ()

    def decrement(self, n=1, delta=False):
        """Subtracts `n`. With delta=True, returns the delta as a Crdt."""
        return self._op(_DEC, n, delta=delta)


class _SetReads:
    __slots__ = ()

    def __contains__(self, element):
        return self._contains(element)

    def elements(self):
        """The elements as a sorted list of bytes."""
        return self._elements()

    def __iter__(self):
        return iter(self._elements())


@_typed(CrdtType.GSET)
class GSet(_SetReads, Crdt):
    """A grow-only set of byte strings."""
    __slots__ = ()

    def add(self, element, delta=False):
        """Adds `element`. With delta=True, returns the delta as a Crdt."""
        return self._op(_ADD, value=to_bytes(element, "element"), delta=delta)


@_typed(CrdtType.ORSET)
class ORSet(GSet):
    """An observed-remove set (add wins over a concurrent remove)."""
    __slots__ = ()

    def remove(self, element, delta=False):
        """Removes `element` (the adds seen). With delta=True, returns the delta as a Crdt."""
        return self._op(_REMOVE, value=to_bytes(element, "element"), delta=delta)

    def clear(self, delta=False):
        """Removes every element seen. With delta=True, returns the delta as a Crdt."""
        return self._op(_CLEAR, delta=delta)


@_typed(CrdtType.LWWREGISTER)
class LWWRegister(Crdt):
    """A last-writer-wins register."""
    __slots__ = ()

    def assign(self, value, now_ms=None, delta=False):
        """Sets the register to `value`. With delta=True, returns the delta as a Crdt."""
        return self._op(_ASSIGN, value=to_bytes(value), delta=delta,
                        now=now_ms if now_ms is not None else _clock_ms())

    def get(self):
        """The value (bytes), or None when never assigned."""
        buf = ffi.new("dd_buf *")
        with self._lock:
            rc = lib.dd_crdt_register_get(buf, self._h)
        if rc == lib.DD_ENOTFOUND:
            return None
        check(rc, self._h)
        return take_buf(buf)

    value = property(get)


@_typed(CrdtType.MVREGISTER)
class MVRegister(Crdt):
    """A multi-value register: concurrent assigns are all kept."""
    __slots__ = ()

    def assign(self, value, delta=False):
        """Sets the register to `value`, replacing the values seen. With delta=True, returns the delta as a Crdt."""
        return self._op(_ASSIGN, value=to_bytes(value), delta=delta)

    def clear(self, delta=False):
        """Removes the values seen. With delta=True, returns the delta as a Crdt."""
        return self._op(_CLEAR, delta=delta)

    def values(self):
        """Concurrent values, sorted, as bytes."""
        return self._elements()


@_typed(CrdtType.FLAG)
class Flag(Crdt):
    """An enable-only flag."""
    __slots__ = ()

    def enable(self, delta=False):
        """Enables the flag. With delta=True, returns the delta as a Crdt."""
        return self._op(_ENABLE, delta=delta)

    @property
    def value(self):
        """Whether the flag is enabled."""
        with self._lock:
            return bool(check(lib.dd_crdt_flag_value(self._h), self._h))

    def __bool__(self):
        return self.value


_ABSENT = object()  # _MapReads._entry: raise KeyError instead of a default


class _MapReads:
    __slots__ = ()

    def _entry(self, key, default):
        """_entry_value of a copy of the value at `key`, closed after; `default`
        when absent (KeyError when `default` is _ABSENT)."""
        v = self._map_get(key)
        if v is None:
            if default is _ABSENT:
                raise KeyError(key)
            return default
        with v:
            return self._entry_value(v)

    def __getitem__(self, key):
        return self._entry(key, _ABSENT)

    def keys(self):
        return self._elements()

    def __contains__(self, key):
        return self._contains(key)

    def __iter__(self):
        return iter(self._elements())

    def remove(self, key, delta=False):
        return self._op(_REMOVE, key=to_bytes(key, "key"), delta=delta)

    def clear(self, delta=False):
        return self._op(_CLEAR, delta=delta)


@_typed(CrdtType.ORMAP)
class ORMap(_MapReads, Crdt):
    """An observed-remove map of nested CRDTs."""
    __slots__ = ()

    def update(self, key, value_type, op, now_ms=None, delta=False):
        """Applies `op` (an Op) to the value of type `value_type` at `key`."""
        return self.apply(Op(OpKind.UPDATE, key=key, value_type=value_type, nested=op), now_ms=now_ms, delta=delta)

    def get(self, key):
        """A copy of the value at key (a Crdt), or None."""
        return self._map_get(key)

    def __getitem__(self, key):
        v = self._map_get(key)
        if v is None:
            raise KeyError(key)
        return v


@_typed(CrdtType.LWWMAP)
class LWWMap(_MapReads, Crdt):
    """A map of last-writer-wins registers."""
    __slots__ = ()

    def assign(self, key, value, now_ms=None, delta=False):
        """Sets the register under `key` to `value`. With delta=True, returns the delta as a Crdt."""
        return self._op(_ASSIGN, key=to_bytes(key, "key"), value=to_bytes(value), delta=delta,
                        now=now_ms if now_ms is not None else _clock_ms())

    def __setitem__(self, key, value):
        self.assign(key, value)

    def get(self, key, default=None):
        """The value under `key` (bytes), or `default` when absent."""
        return self._entry(key, default)

    def _entry_value(self, reg):
        return reg.get()

    def __delitem__(self, key):
        self.remove(key)


@_typed(CrdtType.GCOUNTERMAP)
class GCounterMap(_MapReads, Crdt):
    """A map of grow-only counters."""
    __slots__ = ()

    def increment(self, key, n=1, delta=False):
        """Adds `n` to the counter under `key`. With delta=True, returns the delta as a Crdt."""
        return self._op(_INC, n, key=to_bytes(key, "key"), delta=delta)

    def get(self, key, default=0):
        """The counter under `key`, or `default` when absent."""
        return self._entry(key, default)

    def _entry_value(self, counter):
        return counter._counter()


@_typed(CrdtType.PNCOUNTERMAP)
class PNCounterMap(GCounterMap):
    """A map of PN counters."""
    __slots__ = ()

    def decrement(self, key, n=1, delta=False):
        """Subtracts `n` from the counter under `key`. With delta=True, returns the delta as a Crdt."""
        return self._op(_DEC, n, key=to_bytes(key, "key"), delta=delta)


@_typed(CrdtType.ORMULTIMAP)
class ORMultiMap(_MapReads, Crdt):
    """An observed-remove multi-map: a set of values per key."""
    __slots__ = ()

    def add(self, key, value, delta=False):
        """Adds `value` to the set under `key`. With delta=True, returns the delta as a Crdt."""
        return self._op(_ADD, key=to_bytes(key, "key"), value=to_bytes(value), delta=delta)

    def remove(self, key, value=None, delta=False):
        """Removes one value under key, or the whole key when value is None."""
        return self._op(_REMOVE, key=to_bytes(key, "key"), value=None if value is None else to_bytes(value),
                        delta=delta)

    def get(self, key):
        """The values under key as a sorted list of bytes ([] when absent)."""
        return self._entry(key, [])

    def _entry_value(self, values):
        return values._elements()


__all__ = ["Op", "Crdt", "GCounter", "PNCounter", "GSet", "ORSet", "LWWRegister", "MVRegister", "Flag", "ORMap",
           "LWWMap", "GCounterMap", "PNCounterMap", "ORMultiMap", "type_name", "needs_causal_delta"]
