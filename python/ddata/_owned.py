"""Node-owned state (dd_owned): each node owns one instance of a named
type and is its only writer; every other node reads a view of it, a base
plus the deltas after it, which the reader folds itself (ABI.md,
"Node-owned state").

Like System, an Owned engine runs in pump mode: tick(), deliver() and
outgoing() move the bytes, events are drained with next_event() or awaited
with `async for ev in owned.events()` on the eventfd from fileno().
"""
import collections

from ._core import _limits_ptr
from ._ddata import ffi, lib
from ._errors import check
from ._handle import Handle, handle_arg
from ._pump import Pump
from ._util import copy_bytes, lib_enum, take_buf, to_bytes

ANY_STALENESS = 2**64 - 1


OwnedStrategy = lib_enum(
    __name__, "OwnedStrategy", "DD_OWNED_", "ACTIVE_PUSH FEED_LAZY_PULL FEED_WITH_PERIODIC_SYNC PERIODIC_ONLY",
    """How a type's views spread (DD_OWNED_ACTIVE_PUSH ... DD_OWNED_PERIODIC_ONLY).""")


OwnedMismatch = lib_enum(
    __name__, "OwnedMismatch", "DD_OWNED_", "KEEP_STALE DROP_AND_WAIT",
    """What a reader does with a view of another wire version
    (DD_OWNED_KEEP_STALE, DD_OWNED_DROP_AND_WAIT).""")


OwnedUrgency = lib_enum(
    __name__, "OwnedUrgency", "DD_OWNED_URGENCY_", "DEFAULT IMMEDIATE DELAYED SUPPRESSED",
    """When a publish is announced (DD_OWNED_URGENCY_*).""")


OwnedEventKind = lib_enum(
    __name__, "OwnedEventKind", "DD_OWNED_EV_", "VIEW_CHANGED VIEW_REMOVED QUERY_DONE VERSION_MISMATCH COMPACT_WANTED",
    """What an OwnedEvent reports (DD_OWNED_EV_*).""")


OwnedView = collections.namedtuple(
    "OwnedView", "node_id incarnation age base_age wire_version version_mismatch confirmed_ms base deltas")
OwnedView.__doc__ = "A copy of a node's view: base (bytes) at base_age, then deltas (list of bytes) up to age."

OwnedEvent = collections.namedtuple(
    "OwnedEvent", "kind type node_id incarnation age request_id status peer_version")

_TYPE_FIELDS = ("strategy", "wire_version", "storage_version", "on_mismatch", "compact_every", "feed_interval_ms",
                "sync_interval_ms", "pull_retry_ms", "pull_timeout_ms")


def _ctype(name):
    return ffi.new("char[]", to_bytes(name, "type"))


class Owned(Handle, Pump):
    """One node's owned-state engine. Owned(node_id=1, incarnation=1,
    store=ddata.StateStore()) persists this node's instances in `store`.
    Owned(system=sys) attaches it to a System with the built-in TCP
    transport: its driver thread pumps the engine, node ids are
    Owned.node_of(name) of the system's node ids, and membership follows
    the system's replica."""

    __slots__ = ("_store", "_system")

    def __init__(self, node_id=0, incarnation=1, store=None, limits=None, max_queued=0, system=None):
        opts = ffi.new("dd_owned_options *")
        check(lib.dd_owned_options_init(opts, lib.DD_OWNED_OPTIONS_VERSION))
        opts.node_id = node_id
        opts.incarnation = incarnation
        opts.store = handle_arg(store, "state store") if store is not None else ffi.NULL
        opts.limits = _limits_ptr(limits)
        opts.max_queued = max_queued
        opts.system = handle_arg(system, "system") if system is not None else ffi.NULL
        out = ffi.new("dd_owned **")
        check(lib.dd_owned_open(out, opts))
        Handle.__init__(self, out[0], lib.dd_owned_close)
        self._store = store
        self._system = system

    @staticmethod
    def node_of(node_id):
        """The owned-state id (int) of a system node id (str or bytes)."""
        b = to_bytes(node_id, "node_id")
        out = ffi.new("uint64_t *")
        check(lib.dd_owned_node_of(out, b, len(b)))
        return out[0]

    def register(self, type_name, **options):
        """Registers a state type (and loads this node's persisted instance).
        Options: strategy, wire_version, storage_version, on_mismatch,
        compact_every, feed_interval_ms, sync_interval_ms, pull_retry_ms,
        pull_timeout_ms; the rest keep DD_OWNED_TYPE_OPTIONS_INIT."""
        opts = ffi.new("dd_owned_type_options *")
        check(lib.dd_owned_type_options_init(opts, lib.DD_OWNED_TYPE_OPTIONS_VERSION))
        for name, value in options.items():
            if name not in _TYPE_FIELDS:
                raise TypeError("unknown owned type option %r" % name)
            setattr(opts, name, int(value))
        check(lib.dd_owned_register(self._h, _ctype(type_name), opts), self._h)

    def publish(self, type_name, data, full=False, urgency=OwnedUrgency.DEFAULT, delay_ms=0):
        """Persists, then publishes a full view or a delta; returns the new
        generation as (incarnation, age)."""
        data = to_bytes(data, "data")
        inc, age = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        check(lib.dd_owned_publish(inc, age, self._h, _ctype(type_name), 1 if full else 0, data, len(data), int(urgency), delay_ms), self._h)
        return inc[0], age[0]

    # ---- the pump

    def tick(self, now_ms):
        """Advances the engine's clock to `now_ms` (pump mode)."""
        check(lib.dd_owned_tick(self._h, now_ms), self._h)

    def deliver(self, from_node, data):
        """Hands the engine a message `data` that arrived from node `from_node` (pump mode)."""
        data = to_bytes(data, "data")
        check(lib.dd_owned_deliver(self._h, from_node, data, len(data)), self._h)

    def next_outgoing(self):
        """(to_node, message) or None when nothing is queued."""
        buf, to = ffi.new("dd_buf *"), ffi.new("uint64_t *")
        rc = lib.dd_owned_next_outgoing(buf, to, self._h)
        if rc == lib.DD_EDONE:
            return None
        check(rc, self._h)
        return to[0], take_buf(buf)

    def member_up(self, node_id, incarnation=1):
        """Tells the engine that node `node_id` is up with `incarnation` (pump mode)."""
        check(lib.dd_owned_member_up(self._h, node_id, incarnation), self._h)

    def member_left(self, node_id):
        """Tells the engine that node `node_id` left; its views are removed (pump mode)."""
        check(lib.dd_owned_member_left(self._h, node_id), self._h)

    # ---- reads

    def query(self, type_name, node_id, max_staleness_ms=ANY_STALENESS):
        """0 when node's view is fresh enough; otherwise the request id its
        QUERY_DONE event will carry."""
        out = ffi.new("uint64_t *")
        check(lib.dd_owned_query(out, self._h, _ctype(type_name), node_id, max_staleness_ms), self._h)
        return out[0]

    def read(self, type_name, node_id):
        """A copy of node's view (OwnedView), or None when there is none."""
        v = ffi.new("dd_owned_view *")
        rc = lib.dd_owned_read(v, self._h, _ctype(type_name), node_id)
        if rc == lib.DD_ENOTFOUND:
            return None
        try:
            check(rc, self._h)
            base = copy_bytes(v.base.data, v.base.len)
            deltas = [copy_bytes(v.deltas[i].data, v.deltas[i].len) for i in range(v.delta_count)]
            return OwnedView(v.node_id, v.incarnation, v.age, v.base_age, v.wire_version, bool(v.version_mismatch),
                             v.confirmed_ms, base, deltas)
        finally:
            lib.dd_owned_view_free(v)

    def nodes(self):
        """The members that are up, ascending."""
        count = ffi.new("size_t *")
        cap = 16
        while True:
            arr = ffi.new("uint64_t[]", cap)
            check(lib.dd_owned_nodes(arr, cap, count, self._h), self._h)
            if count[0] <= cap:
                return [arr[i] for i in range(count[0])]
            cap = count[0]

    # ---- events

    def fileno(self):
        """A file descriptor that is readable while events are queued (for select/asyncio)."""
        fd = ffi.new("int *")
        check(lib.dd_owned_event_fd(fd, self._h), self._h)
        return fd[0]

    def next_event(self):
        """The next queued OwnedEvent, or None when the queue is empty."""
        ev = ffi.new("dd_owned_event *")
        rc = lib.dd_owned_next_event(ev, self._h)
        if rc == lib.DD_EDONE:
            return None
        check(rc, self._h)
        kind = OwnedEventKind(ev.kind) if ev.kind in OwnedEventKind._value2member_map_ else ev.kind
        return OwnedEvent(kind, ffi.string(ev.type).decode("utf-8", "replace"), ev.node_id, ev.incarnation, ev.age,
                          ev.request_id, ev.status, ev.peer_version)
