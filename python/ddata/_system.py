"""A node (dd_system) and its replicated key-value store (dd_replica).

In pump mode the host moves the bytes: tick() lets time pass, deliver()
hands in a message from another node, outgoing() yields what to send and to
whom. Events (membership, subscribed keys, finished requests) are queued in
C and drained here; fileno() is the pollable eventfd, so asyncio can wait
for them (`async for ev in node.events():`) without a callback ever running
on a hidden thread.

`replica.counter("hits")` and friends are typed views of one key: each
mutation is one dd_replica_update through a C shim that fills the dd_op on
the C stack (see python/ddata_build.py), each read is dd_replica_get plus
the typed read of the copy.
"""
import collections
import json
import logging
import time

from ._core import CrdtType, OpKind, _limits_ptr
from ._crdt import Op, _elements, _lookup
from ._ddata import ffi, lib
from ._errors import Deleted, InvalidArgument, check
from ._handle import Handle, handle_arg
from ._pump import Pump
from ._requests import Request
from ._util import lib_enum, take_buf, to_bytes


# NONE: pump mode: the host moves the bytes; TCP: built-in authenticated TCP, one driver thread.
Transport = lib_enum(
    __name__, "Transport", "DD_TRANSPORT_", "NONE TCP",
    """How a System talks to its peers: PUMP (the host moves the bytes) or
    TCP (the built-in transport).""")


SECRET_BYTES = lib.dd_secret_bytes()
KEY_BYTES = lib.dd_key_bytes()


def generate_node_key(path):
    """Writes a new node key file (mode 0600, never overwriting one) and
    returns its public key, for peers' allow-lists."""
    buf = ffi.new("dd_buf *")
    check(lib.dd_node_key_generate(buf, ffi.new("char[]", to_bytes(path, "path"))))
    return take_buf(buf)


def _key_bytes(value, size, what):
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != size:
        raise ValueError("%s must be %d bytes" % (what, size))
    return bytes(value)


def _peer_key_arrays(peer_keys, keep):
    """peer_keys: public keys, or (public key, node id) pairs."""
    keys, ids = [], []
    for entry in peer_keys or ():
        key, nid = (entry, None) if isinstance(entry, (bytes, bytearray, memoryview)) else entry
        keys.append(_key_bytes(key, KEY_BYTES, "a peer key"))
        ids.append(nid)
    if not keys:
        return ffi.NULL, ffi.NULL, 0
    blob = ffi.new("uint8_t[]", b"".join(keys))
    cids = [ffi.new("char[]", to_bytes(i, "node id")) if i else ffi.NULL for i in ids]
    arr = ffi.new("char *[]", cids)
    keep.extend([blob, arr] + cids)
    return blob, arr, len(keys)


EventKind = lib_enum(
    __name__, "EventKind", "DD_EVENT_", "MEMBER CHANGED DELETED EXPIRED REQUEST_DONE OVERFLOW",
    """The kind of a queued system event (DD_EVENT_*).""")


MemberState = lib_enum(
    __name__, "MemberState", "DD_MEMBER_", "JOINING UP UNREACHABLE DOWN REMOVED",
    """A membership state (DD_MEMBER_*).""")


Consistency = lib_enum(
    __name__, "Consistency", "DD_CONSISTENCY_", "LOCAL FROM MAJORITY MAJORITY_PLUS ALL",
    """How many replicas a read or write must reach (DD_CONSISTENCY_*); FROM
    and MAJORITY_PLUS take a count.""")


DeltaStrategy = lib_enum(
    __name__, "DeltaStrategy", "DD_DELTA_", "IMMEDIATE BATCHED NONE",
    """How deltas leave a node after a local update: IMMEDIATE, BATCHED per
    gossip interval, or NONE (digest anti-entropy only).""")


SystemEvent = collections.namedtuple(
    "SystemEvent", "kind key request_id status member_id member_incarnation member_state dropped")
SystemEvent.__doc__ = "One queued event; fields not used by its kind are None."


def _now():
    # The one clock tick() and deliver() use when no now_ms is given: this
    # process's monotonic clock (issue 17.1; the pump's times only schedule).
    return time.monotonic_ns() // 1_000_000


@ffi.def_extern()
def ddpy_wall_clock(ctx):
    try:
        return int(ffi.from_handle(ctx)())
    except BaseException:  # cannot cross C frames; the realtime clock stands in
        return time.time_ns() // 1_000_000


def _cstrings(values, keep, what):
    if not values:
        return ffi.NULL, 0
    cs = [ffi.new("char[]", to_bytes(v, what)) for v in values]
    arr = ffi.new("char *[]", cs)
    keep.extend(cs)
    keep.append(arr)
    return arr, len(cs)


class System(Handle, Pump):
    """One node. System("node-a", seeds=["node-a"]) starts a cluster;
    other nodes list a member in `seeds` to join it."""

    __slots__ = ("_replica", "_backlog", "_awaited", "_wall_clock")

    def __init__(self, node_id, incarnation=0, seed=0, seeds=(), failure_timeout_ms=None, down_after_ms=None,
                 remove_after_ms=None, max_events=None, limits=None, transport=Transport.NONE,
                 listen_address=None, advertised_address=None, secret=None, plaintext=False,
                 tick_interval_ms=None, node_key_file=None, node_key=None, next_secret=None,
                 peer_keys=None):
        keep = []
        opts = ffi.new("dd_system_options *")
        check(lib.dd_system_options_init(opts, lib.DD_SYSTEM_OPTIONS_VERSION))
        nid = ffi.new("char[]", to_bytes(node_id, "node_id"))
        opts.node_id = nid
        opts.incarnation = incarnation
        opts.seed = seed
        opts.seeds, opts.seed_count = _cstrings(seeds, keep, "seed")
        for name, value in (("failure_timeout_ms", failure_timeout_ms), ("down_after_ms", down_after_ms),
                            ("remove_after_ms", remove_after_ms), ("max_events", max_events)):
            if value is not None:
                setattr(opts, name, value)
        opts.limits = _limits_ptr(limits)
        if isinstance(transport, str):
            transport = Transport[transport.upper()]
        opts.transport = int(transport)
        for name, value in (("listen_address", listen_address), ("advertised_address", advertised_address)):
            if value is not None:
                c = ffi.new("char[]", to_bytes(value, name))
                keep.append(c)
                setattr(opts, name, c)
        if secret is not None:
            if not isinstance(secret, (bytes, bytearray, memoryview)) or len(secret) != SECRET_BYTES:
                raise ValueError("secret must be %d bytes" % SECRET_BYTES)
            s = ffi.new("uint8_t[]", bytes(secret))
            keep.append(s)
            opts.secret = s
        opts.plaintext = 1 if plaintext else 0
        if tick_interval_ms is not None:
            opts.tick_interval_ms = tick_interval_ms
        if node_key_file is not None:
            c = ffi.new("char[]", to_bytes(node_key_file, "node_key_file"))
            keep.append(c)
            opts.node_key_file = c
        for name, value, size in (("node_key", node_key, KEY_BYTES), ("next_secret", next_secret, SECRET_BYTES)):
            if value is not None:
                c = ffi.new("uint8_t[]", _key_bytes(value, size, name))
                keep.append(c)
                setattr(opts, name, c)
        opts.peer_keys, opts.peer_key_ids, opts.peer_key_count = _peer_key_arrays(peer_keys, keep)
        out = ffi.new("dd_system **")
        check(lib.dd_system_open(out, opts))
        Handle.__init__(self, out[0], lib.dd_system_close)
        self._replica = None
        self._backlog = collections.deque()  # events read past by a Request (_requests.py)
        self._awaited = {}  # request id -> status once done, for awaited Requests
        self._wall_clock = None

    def set_wall_clock(self, clock):
        """Installs `clock()` (epoch milliseconds) as the time the replica
        stamps LWW values and measures expiry with, for tests and
        simulations; None restores the system's realtime clock. Scheduling
        never reads it: that is tick()'s now_ms."""
        if clock is None:
            check(lib.dd_system_set_wall_clock(self._h, ffi.NULL, ffi.NULL), self._h)
            self._wall_clock = None
            return
        if not callable(clock):
            raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL", "clock must be callable (or None)")
        handle = ffi.new_handle(clock)
        check(lib.dd_system_set_wall_clock(self._h, lib.ddpy_wall_clock, handle), self._h)
        self._wall_clock = handle

    @property
    def incarnation(self):
        """This node's incarnation (chosen at open when 0 was given)."""
        out = ffi.new("uint64_t *")
        check(lib.dd_system_incarnation(out, self._h), self._h)
        return out[0]

    def leave(self, timeout_ms=5000):
        """Leaves the cluster cleanly (dd_system_leave): write-behind keys
        are written, this node's keys offered to its peers and its
        departure announced; the others see it REMOVED at once instead of
        waiting for down_after_ms. With the TCP transport it waits up to
        timeout_ms for the acknowledgements (Timeout if some did not come:
        it has left all the same); in pump mode it returns at once and the
        announcement leaves through outgoing(). Afterwards writes raise
        Misuse; reads, events and close still work."""
        check(lib.dd_system_leave(self._h, timeout_ms), self._h)

    # ---- the built-in transport

    @property
    def listen_address(self):
        """The bound "ip:port" (TCP transport; Unsupported in pump mode)."""
        buf = ffi.new("dd_buf *")
        check(lib.dd_system_listen_address(buf, self._h), self._h)
        return take_buf(buf).decode("utf-8")

    def connect(self, address):
        """Dials one more "ip:port", and again after every disconnect."""
        check(lib.dd_system_connect(self._h, ffi.new("char[]", to_bytes(address, "address"))), self._h)

    @property
    def public_key(self):
        """This node's static X25519 public key (TCP transport)."""
        buf = ffi.new("dd_buf *")
        check(lib.dd_system_public_key(buf, self._h))
        return take_buf(buf)

    def set_peer_keys(self, peer_keys):
        """Replaces the allow-list (public keys, or (key, node id) pairs;
        empty = none) and closes the links of peers no longer admitted."""
        keep = []
        blob, ids, count = _peer_key_arrays(peer_keys, keep)
        check(lib.dd_system_set_peer_keys(self._h, blob, ids, count))

    def stats_json(self):
        """Per-peer and engine statistics as JSON text (dd_system_stats_json)."""
        buf = ffi.new("dd_buf *")
        check(lib.dd_system_stats_json(buf, self._h), self._h)
        return take_buf(buf).decode("utf-8")

    def stats(self):
        """Engine, peer and transport statistics as a dict."""
        return json.loads(self.stats_json())

    def metrics_text(self):
        """Metrics in the Prometheus text exposition format (str)."""
        buf = ffi.new("dd_buf *")
        check(lib.dd_system_metrics_text(buf, self._h))
        return take_buf(buf).decode("utf-8")

    # ---- the pump

    def tick(self, now_ms=None):
        """Lets time pass. now_ms: the host's monotonic clock in ms, any
        origin (0 is a time); omitted, time.monotonic() in ms. Mixing the
        two, or a time before the last, raises InvalidArgument."""
        check(lib.dd_system_tick(self._h, _now() if now_ms is None else now_ms), self._h)

    def deliver(self, from_node, data, now_ms=None):
        """Hands in one message from node `from_node`. Malformed bytes raise
        Corrupt or LimitExceeded and change nothing already stored."""
        frm, data = to_bytes(from_node, "from_node"), to_bytes(data, "data")
        check(lib.dd_system_deliver(self._h, _now() if now_ms is None else now_ms, frm, len(frm), data, len(data)), self._h)

    def next_outgoing(self):
        """(to_node, message) as (str, bytes), or None when nothing is queued."""
        to, msg = ffi.new("dd_buf *"), ffi.new("dd_buf *")
        rc = lib.dd_system_next_outgoing(msg, to, self._h)
        if rc == lib.DD_EDONE:
            return None
        try:
            check(rc, self._h)
        except BaseException:
            lib.dd_buf_free(to)
            lib.dd_buf_free(msg)
            raise
        return take_buf(to).decode("utf-8", "surrogateescape"), take_buf(msg)

    # ---- events

    def fileno(self):
        """The eventfd, readable while events are queued. Poll it; never
        read or close it."""
        fd = ffi.new("int *")
        check(lib.dd_system_event_fd(fd, self._h), self._h)
        return fd[0]

    def next_event(self):
        """The next queued SystemEvent, or None when the queue is empty.
        The REQUEST_DONE of a Request being awaited goes to that Request."""
        if self._backlog:
            return self._backlog.popleft()
        while True:
            ev = self._next_event_c()
            if ev is None or not self._route(ev):
                return ev

    # ---- log records (the library prints nothing; the host routes them)

    def next_log(self):
        """The next queued log record as a dict {"event", "level",
        "fields", "time_ms"}, or None when none is queued."""
        buf = ffi.new("dd_buf *")
        rc = lib.dd_system_next_log(buf, self._h)
        if rc == lib.DD_EDONE:
            return None
        check(rc, self._h)
        return json.loads(take_buf(buf).decode("utf-8"))

    _LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
                   "error": logging.ERROR}

    def forward_logs(self, logger=None):
        """Drains the queued log records into `logger` (default the
        "ddata" logger): one logging record each, message "event k=v ...",
        with the record's event and fields as `ddata_event` and
        `ddata_fields` attributes. Returns how many. Call it when
        fileno() is readable, beside next_event()."""
        logger = logger or logging.getLogger("ddata")
        n = 0
        while True:
            rec = self.next_log()
            if rec is None:
                return n
            fields = rec.get("fields", {})
            text = " ".join([rec["event"]] + ["%s=%s" % kv for kv in sorted(fields.items())])
            logger.log(self._LOG_LEVELS.get(rec.get("level"), logging.INFO), "%s", text,
                       extra={"ddata_event": rec["event"], "ddata_fields": fields,
                              "ddata_time_ms": rec.get("time_ms")})
            n += 1

    def _route(self, ev):
        """Takes an awaited request's REQUEST_DONE; True when it did."""
        if ev.kind == EventKind.REQUEST_DONE and ev.request_id in self._awaited:
            self._awaited[ev.request_id] = ev.status
            return True
        return False

    def _pull(self):
        """Reads every queued event: awaited REQUEST_DONEs to their
        Requests, the rest kept in order for next_event()."""
        while True:
            ev = self._next_event_c()
            if ev is None:
                return
            if not self._route(ev):
                self._backlog.append(ev)

    def _next_event_c(self):
        ev = ffi.new("dd_event *")
        check(lib.dd_event_init(ev, lib.DD_EVENT_VERSION))
        try:
            rc = lib.dd_system_next_event(ev, self._h)
            if rc == lib.DD_EDONE:
                return None
            check(rc, self._h)
            kind = EventKind(ev.kind) if ev.kind in EventKind._value2member_map_ else ev.kind
            key = bytes(ffi.buffer(ev.key.data, ev.key.len)) if ev.key.data != ffi.NULL else None
            member = (bytes(ffi.buffer(ev.member_id.data, ev.member_id.len)).decode("utf-8", "surrogateescape")
                      if ev.member_id.data != ffi.NULL else None)
            return SystemEvent(
                kind, key,
                ev.request_id if kind == EventKind.REQUEST_DONE else None,
                ev.status if kind == EventKind.REQUEST_DONE else None,
                member,
                ev.member_incarnation if kind == EventKind.MEMBER else None,
                MemberState(ev.member_state) if kind == EventKind.MEMBER else None,
                ev.dropped if kind == EventKind.OVERFLOW else None)
        finally:
            lib.dd_event_clear(ev)

    # ---- the replica

    def replica(self, **options):
        """Opens this node's replica (one per system). Options map onto
        dd_replica_options: delta_strategy, gossip_interval_ms,
        gossip_fanout, max_message_bytes, notify_interval_ms,
        tombstone_grace_ms, store (a StateStore), durable_keys,
        write_behind, write_behind_interval_ms, expiry_prefixes,
        expire_after_ms, store_prefix (where durable records live in the
        store; default "dd/replica/", the rest of the store is left alone)."""
        return Replica(self, **options)


class Replica(Handle):
    """The node's replicated key-value store. Keys are str (UTF-8) or bytes."""

    __slots__ = ()

    def __init__(self, system, delta_strategy=None, gossip_interval_ms=None, gossip_fanout=None,
                 max_message_bytes=None, notify_interval_ms=None, tombstone_grace_ms=None, store=None,
                 durable_keys=(), write_behind=None, write_behind_interval_ms=None, expiry_prefixes=(),
                 expire_after_ms=None, store_prefix=None):
        if not isinstance(system, System):
            raise TypeError("a Replica belongs to a ddata.System")
        keep = []
        opts = ffi.new("dd_replica_options *")
        check(lib.dd_replica_options_init(opts, lib.DD_REPLICA_OPTIONS_VERSION))
        for name, value in (("delta_strategy", delta_strategy), ("gossip_interval_ms", gossip_interval_ms),
                            ("gossip_fanout", gossip_fanout), ("max_message_bytes", max_message_bytes),
                            ("notify_interval_ms", notify_interval_ms), ("tombstone_grace_ms", tombstone_grace_ms),
                            ("write_behind", write_behind), ("write_behind_interval_ms", write_behind_interval_ms),
                            ("expire_after_ms", expire_after_ms)):
            if value is not None:
                setattr(opts, name, int(value))
        if store is not None:
            opts.store = handle_arg(store, "state store")
        opts.durable_keys, opts.durable_key_count = _cstrings(durable_keys, keep, "durable key")
        opts.expiry_prefixes, opts.expiry_prefix_count = _cstrings(expiry_prefixes, keep, "expiry prefix")
        if store_prefix is not None:
            prefix = ffi.new("char[]", to_bytes(store_prefix, "store_prefix"))
            keep.append(prefix)
            opts.store_prefix = prefix
        out = ffi.new("dd_replica **")
        check(lib.dd_replica_open(out, handle_arg(system, "system"), opts))
        Handle.__init__(self, out[0], lib.dd_replica_close, parent=system)

    # ---- generic

    def update(self, key, crdt_type, op):
        """Applies an Op to key, creating it as crdt_type when missing."""
        key = to_bytes(key, "key")
        keep = []
        check(lib.dd_replica_update(self._h, key, len(key), int(crdt_type), op._to_c(keep)), self._h)

    def _update(self, key, crdt_type, kind, amount=0, mkey=None, value=None, consistency=None, replicas=0,
                timeout_ms=5000):
        if consistency is not None:  # replicated to a level: an awaitable Request
            return self.write(key, crdt_type, Op(kind, amount, mkey, value), consistency, replicas, timeout_ms)
        mk, mn = (ffi.NULL, 0) if mkey is None else (mkey, len(mkey))
        vp, vn = (ffi.NULL, 0) if value is None else (value, len(value))
        try:
            rc = lib.ddpy_replica_update(self._h, key, len(key), crdt_type, kind, amount, mk, mn, vp, vn)
        except OverflowError:
            raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL", "amount must be between 0 and 2**64-1") from None
        if rc < 0:
            check(rc)

    def get(self, key):
        """A copy of the value at key (a typed Crdt), or None when missing or
        deleted (ABI.md, "Missing items": reads never raise for absence;
        writing a deleted key raises Deleted)."""
        try:
            return _lookup(lib.dd_replica_get, self._h, key)
        except Deleted:
            return None

    def __getitem__(self, key):
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __contains__(self, key):
        v = self.get(key)
        if v is None:
            return False
        v.close()
        return True

    def to_json(self, key):
        """The value of `key` as JSON text, or None when the key is absent."""
        key = to_bytes(key, "key")
        buf = ffi.new("dd_buf *")
        check(lib.dd_replica_to_json(buf, self._h, key, len(key)), self._h)
        return take_buf(buf).decode("utf-8")

    def delete(self, key):
        """Deletes `key` everywhere (a tombstone until every member saw it)."""
        key = to_bytes(key, "key")
        check(lib.dd_replica_delete(self._h, key, len(key)), self._h)

    __delitem__ = delete

    def keys(self, page=1000):
        """Live keys (bytes), fetched a page at a time."""
        cursor = ffi.new("uint64_t *")
        while True:
            buf = ffi.new("dd_buf *")
            rc = lib.dd_replica_keys(buf, self._h, cursor, page)
            if rc == lib.DD_EDONE:
                lib.dd_buf_free(buf)
                return
            check(rc, self._h)
            yield from _elements(buf)

    def __len__(self):
        out = ffi.new("uint64_t *")
        check(lib.dd_replica_key_count(out, self._h), self._h)
        return out[0]

    def subscribe(self, key, prefix=False):
        """Queues CHANGED/DELETED/EXPIRED events for key (or every key
        starting with it when prefix is true)."""
        key = to_bytes(key, "key")
        check(lib.dd_replica_subscribe(self._h, key, len(key), 1 if prefix else 0), self._h)

    def write(self, key, crdt_type, op, consistency=Consistency.MAJORITY, n=0, timeout_ms=5000):
        """Applies op locally now, replicates it to `consistency`; returns a
        Request: `await` it (None, or the failure raised), or match its
        request_id against REQUEST_DONE events."""
        key = to_bytes(key, "key")
        keep = []
        rid = ffi.new("uint64_t *")
        check(lib.dd_replica_write(rid, self._h, key, len(key), int(crdt_type), op._to_c(keep), int(consistency), n,
                                   timeout_ms), self._h)
        return Request(self, rid[0], key, False)

    def read(self, key, consistency=Consistency.MAJORITY, n=0, timeout_ms=5000):
        """Asks `consistency` replicas for key; returns a Request whose
        `await` gives the merged value (as get() does after its
        REQUEST_DONE event)."""
        key = to_bytes(key, "key")
        rid = ffi.new("uint64_t *")
        check(lib.dd_replica_read(rid, self._h, key, len(key), int(consistency), n, timeout_ms), self._h)
        return Request(self, rid[0], key, True)

    def flush(self):
        """Writes pending write-behind keys to the store now."""
        check(lib.dd_replica_flush(self._h), self._h)

    # ---- typed views of one key: counter(), gset(), ... are installed
    # from _KEY_VIEWS below the view classes they return.


_INC, _DEC, _ADD, _REMOVE, _CLEAR, _ASSIGN, _ENABLE = (int(k) for k in (
    OpKind.INCREMENT, OpKind.DECREMENT, OpKind.ADD, OpKind.REMOVE, OpKind.CLEAR, OpKind.ASSIGN, OpKind.ENABLE))


_count = lib.ddpy_replica_count


class KeyRef:
    """A typed view of one key of a replica; holds no C state of its own."""

    __slots__ = ("replica", "key", "_len")
    TYPE = 0  # the dd_crdt_type of the key; set by each subclass

    def __init__(self, replica, key):
        self.replica = replica
        self.key = to_bytes(key, "key")
        self._len = len(self.key)

    def _read(self):
        return self.replica.get(self.key)

    def crdt(self):
        """A copy of the current value (a typed Crdt), or None."""
        return self._read()

    def to_json(self):
        """The key's value as JSON text, or None."""
        return self.replica.to_json(self.key)

    def delete(self):
        """Deletes the key everywhere."""
        self.replica.delete(self.key)

    def subscribe(self):
        """Subscribes to the key: 'changed', 'deleted' and 'expired' events for it are queued."""
        self.replica.subscribe(self.key)

    def read(self, consistency=Consistency.MAJORITY, replicas=0, timeout_ms=5000):
        """Reads the key from `consistency` replicas: `await` gives the
        merged value (a typed Crdt copy, or None)."""
        return self.replica.read(self.key, consistency, replicas, timeout_ms)

    def __repr__(self):
        return "<%s %r>" % (type(self).__name__, self.key)


def _with(ref, read, default):
    v = ref._read()
    if v is None:
        return default
    with v:
        return read(v)


def _counter_step(qualname, kind, doc):
    """GCounterRef.increment and PNCounterRef.decrement: a method of its own
    for each `kind` (a closure, not a shared helper it calls) because this
    is the hot path of the package (python.counter.increment): one crossing
    into C, no optional arguments to convert, no extra Python call."""
    def step(self, n=1, *, consistency=None, replicas=0, timeout_ms=5000):
        if consistency is not None:
            return self.replica._update(self.key, self.TYPE, kind, n, consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)
        try:
            rc = _count(self.replica._h, self.key, self._len, self.TYPE, kind, n)
        except OverflowError:
            raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL", "amount must be between 0 and 2**64-1") from None
        if rc < 0:
            check(rc)
    step.__qualname__ = qualname
    step.__name__ = qualname.rpartition(".")[2]
    step.__doc__ = doc
    return step


class GCounterRef(KeyRef):
    """A GCounter key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.GCOUNTER)

    increment = _counter_step("GCounterRef.increment", _INC, "Adds `n`. With `consistency`, returns a Request to await; else applies locally.")

    @property
    def value(self):
        """The counter's value (0 when the key is absent)."""
        return _with(self, lambda v: v._counter(), 0)


class PNCounterRef(GCounterRef):
    """A PNCounter key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.PNCOUNTER)

    decrement = _counter_step("PNCounterRef.decrement", _DEC, "Subtracts `n`. With `consistency`, returns a Request to await; else applies locally.")


class GSetRef(KeyRef):
    """A GSet key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.GSET)

    def add(self, element, *, consistency=None, replicas=0, timeout_ms=5000):
        """Adds `element`. With `consistency`, returns a Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _ADD, value=to_bytes(element, "element"), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def elements(self):
        """The elements as a list of bytes ([] when the key is absent)."""
        return _with(self, lambda v: v._elements(), [])

    def __contains__(self, element):
        return _with(self, lambda v: v._contains(element), False)

    def __iter__(self):
        return iter(self.elements())

    def __len__(self):
        return _with(self, len, 0)


class ORSetRef(GSetRef):
    """An ORSet key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.ORSET)

    def remove(self, element, *, consistency=None, replicas=0, timeout_ms=5000):
        """Removes `element` (the adds this node has seen). With
        `consistency`, returns a Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _REMOVE, value=to_bytes(element, "element"), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def clear(self, *, consistency=None, replicas=0, timeout_ms=5000):
        """Removes every element this node has seen. With `consistency`,
        returns a Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _CLEAR, consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)


class LWWRegisterRef(KeyRef):
    """An LWWRegister key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.LWWREGISTER)

    def assign(self, value, *, consistency=None, replicas=0, timeout_ms=5000):
        """Sets the register to `value` (also `set`). With `consistency`,
        returns a Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _ASSIGN, value=to_bytes(value), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    set = assign

    def get(self):
        """The register's value (bytes), or None when never assigned (also the `value` property)."""
        return _with(self, lambda v: v.get(), None)

    value = property(get)


class MVRegisterRef(KeyRef):
    """An MVRegister key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.MVREGISTER)

    def assign(self, value, *, consistency=None, replicas=0, timeout_ms=5000):
        """Sets the register to `value`, replacing the values this node has
        seen. With `consistency`, returns a Request to await; else
        applies locally."""
        return self.replica._update(self.key, self.TYPE, _ASSIGN, value=to_bytes(value), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def clear(self, *, consistency=None, replicas=0, timeout_ms=5000):
        """Removes the values this node has seen. With `consistency`,
        returns a Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _CLEAR, consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def values(self):
        """The concurrent values, as a list of bytes."""
        return _with(self, lambda v: v._elements(), [])


class FlagRef(KeyRef):
    """A Flag key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.FLAG)

    def enable(self, *, consistency=None, replicas=0, timeout_ms=5000):
        """Enables the flag. With `consistency`, returns a Request to await;
        else applies locally."""
        return self.replica._update(self.key, self.TYPE, _ENABLE, consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    @property
    def value(self):
        """Whether the flag is enabled (False when the key is absent)."""
        return _with(self, lambda v: v.value, False)

    def __bool__(self):
        return self.value


class _MapRef(KeyRef):
    __slots__ = ()

    def keys(self):
        return _with(self, lambda v: v._elements(), [])

    def __contains__(self, k):
        return _with(self, lambda v: v._contains(k), False)

    def remove(self, k, *, consistency=None, replicas=0, timeout_ms=5000):
        return self.replica._update(self.key, self.TYPE, _REMOVE, mkey=to_bytes(k, "key"), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def clear(self, *, consistency=None, replicas=0, timeout_ms=5000):
        return self.replica._update(self.key, self.TYPE, _CLEAR, consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)


class ORMapRef(_MapRef):
    """An ORMap key of a replica: nested CRDTs under map keys."""
    __slots__ = ()
    TYPE = int(CrdtType.ORMAP)

    def update(self, k, value_type, op):
        """Applies the Op `op` to the `value_type` value under `k`."""
        self.replica.update(self.key, self.TYPE, Op(OpKind.UPDATE, key=k, value_type=value_type, nested=op))

    def get(self, k):
        """A copy of the value under `k` (a typed Crdt), or None."""
        return _with(self, lambda v: v.get(k), None)


class LWWMapRef(_MapRef):
    """An LWWMap key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.LWWMAP)

    def assign(self, k, value, *, consistency=None, replicas=0, timeout_ms=5000):
        """Sets the register under `k` to `value`. With `consistency`,
        returns a Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _ASSIGN, mkey=to_bytes(k, "key"), value=to_bytes(value), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    __setitem__ = assign

    def get(self, k, default=None):
        """The value under `k` (bytes), or `default` when absent."""
        return _with(self, lambda v: v.get(k, default), default)

    def __getitem__(self, k):
        v = self.get(k)
        if v is None:
            raise KeyError(k)
        return v


class GCounterMapRef(_MapRef):
    """A GCounterMap key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.GCOUNTERMAP)

    def increment(self, k, n=1, *, consistency=None, replicas=0, timeout_ms=5000):
        """Adds `n` to the counter under `k`. With `consistency`, returns a
        Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _INC, n, mkey=to_bytes(k, "key"), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def get(self, k, default=0):
        """The counter under `k`, or `default` when absent."""
        return _with(self, lambda v: v.get(k, default), default)

    def __getitem__(self, k):
        return self.get(k)


class PNCounterMapRef(GCounterMapRef):
    """A PNCounterMap key of a replica."""
    __slots__ = ()
    TYPE = int(CrdtType.PNCOUNTERMAP)

    def decrement(self, k, n=1, *, consistency=None, replicas=0, timeout_ms=5000):
        """Subtracts `n` from the counter under `k`. With `consistency`,
        returns a Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _DEC, n, mkey=to_bytes(k, "key"), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)


class ORMultiMapRef(_MapRef):
    """An ORMultiMap key of a replica: a set of values per map key."""
    __slots__ = ()
    TYPE = int(CrdtType.ORMULTIMAP)

    def add(self, k, value, *, consistency=None, replicas=0, timeout_ms=5000):
        """Adds `value` to the set under `k`. With `consistency`, returns a
        Request to await; else applies locally."""
        return self.replica._update(self.key, self.TYPE, _ADD, mkey=to_bytes(k, "key"), value=to_bytes(value), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def remove(self, k, value=None, *, consistency=None, replicas=0, timeout_ms=5000):
        """Removes `value` from the set under `k`, or the whole entry when
        `value` is None. With `consistency`, returns a Request to await;
        else applies locally."""
        return self.replica._update(self.key, self.TYPE, _REMOVE, mkey=to_bytes(k, "key"),
                             value=None if value is None else to_bytes(value), consistency=consistency, replicas=replicas, timeout_ms=timeout_ms)

    def get(self, k):
        """The set under `k`, as a list of bytes."""
        return _with(self, lambda v: v.get(k), [])


def _key_view(name, ref_class, doc):
    def view(self, key):
        return ref_class(self, key)
    view.__name__ = name
    view.__qualname__ = "Replica." + name
    view.__doc__ = doc
    return view


# Replica's typed views of one key: replica.orset(key) is ORSetRef(replica, key).
_KEY_VIEWS = (
    ("counter", PNCounterRef, "A PNCounterRef view of `key`."),
    ("gcounter", GCounterRef, "A GCounterRef view of `key`."),
    ("gset", GSetRef, "A GSetRef view of `key`."),
    ("orset", ORSetRef, "An ORSetRef view of `key`."),
    ("register", LWWRegisterRef, "An LWWRegisterRef view of `key` (also `lwwregister`)."),
    ("mvregister", MVRegisterRef, "An MVRegisterRef view of `key`."),
    ("flag", FlagRef, "A FlagRef view of `key`."),
    ("ormap", ORMapRef, "An ORMapRef view of `key`."),
    ("lwwmap", LWWMapRef, "An LWWMapRef view of `key`."),
    ("pncountermap", PNCounterMapRef, "A PNCounterMapRef view of `key`."),
    ("gcountermap", GCounterMapRef, "A GCounterMapRef view of `key`."),
    ("ormultimap", ORMultiMapRef, "An ORMultiMapRef view of `key`."),
)
for _name, _ref_class, _doc in _KEY_VIEWS:
    setattr(Replica, _name, _key_view(_name, _ref_class, _doc))
Replica.lwwregister = Replica.register
del _name, _ref_class, _doc


__all__ = ["System", "Replica", "Transport", "SECRET_BYTES", "SystemEvent", "EventKind", "MemberState", "Consistency", "DeltaStrategy"]
