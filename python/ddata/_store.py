"""Persistence: key rings, the event journal with snapshots, and the durable
state store (dd_keyring, dd_journal, dd_state_store).

Stores are opened from keyword options that map one to one onto
dd_store_options (filled by dd_store_options_init first, so the library's
defaults apply to whatever is not given). Reads that walk many records
(replay, by_tag, pids; a state store's keys and range) are generators over a dd_journal_cursor, which is
closed when the generator finishes or is collected.
"""
import collections
import enum
import time
import threading

from . import _backend as _custom
from ._aio import add_async_forms
from ._ddata import ffi, lib
from ._errors import InvalidArgument, check
from ._handle import Handle, handle_arg
from ._util import copy_bytes, take_buf, to_bytes


class Backend(enum.IntEnum):
    """Where a journal or state store keeps its data: MEMORY, SQLITE, FS or POSTGRES."""
    MEMORY = lib.DD_BACKEND_MEMORY
    SQLITE = lib.DD_BACKEND_SQLITE
    FS = lib.DD_BACKEND_FS
    POSTGRES = lib.DD_BACKEND_POSTGRES


class Sync(enum.IntEnum):
    """How hard commits are flushed: OFF (never fsync), NORMAL (survives a
    process crash), FULL (on disk when the call returns)."""
    OFF = lib.DD_SYNC_OFF
    NORMAL = lib.DD_SYNC_NORMAL
    FULL = lib.DD_SYNC_FULL


class SealAlgorithm(enum.IntEnum):
    """The AEAD that seals records at rest: XCHACHA20POLY1305 or AES256GCM."""
    XCHACHA20POLY1305 = lib.DD_SEAL_XCHACHA20POLY1305
    AES256GCM = lib.DD_SEAL_AES256GCM


ANY_REVISION = lib.dd_any_revision()
MAX_SEQ = 2**64 - 1


def seal_algorithm_available(algorithm):
    """True when this CPU can seal with `algorithm` (a SealAlgorithm)."""
    return bool(check(lib.dd_seal_algorithm_available(int(algorithm))))


class PersistStrategy(enum.IntEnum):
    """How persist() stores: LIGHT (every event with a snapshot) or FULL
    (events, and a snapshot every N)."""
    LIGHT = lib.DD_PERSIST_LIGHT
    FULL = lib.DD_PERSIST_FULL


def _key_id(key_id):
    if isinstance(key_id, bool) or not isinstance(key_id, int) or not 1 <= key_id <= 2**32 - 1:
        raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL",
                              "key ids are integers 1..2^32-1, not %r" % (key_id,))
    return key_id


class Keyring(Handle):
    """Keys for sealing at rest: 32-byte keys named by an integer id. The
    first key added is active; rotate by adding a key and activating it."""

    __slots__ = ()

    def __init__(self, keys=None, active=None, algorithm=None):
        out = ffi.new("dd_keyring **")
        check(lib.dd_keyring_new(out))
        Handle.__init__(self, out[0], lib.dd_keyring_free)
        for key_id, key in (keys or {}).items():
            self.add_key(key_id, key)
        if active is not None:
            self.set_active(active)
        if algorithm is not None:
            self.set_algorithm(algorithm)

    def add_key(self, key_id, key):
        """Adds a 32-byte `key` named `key_id`; the first key added is active."""
        if not isinstance(key, (bytes, bytearray, memoryview)):
            raise TypeError("a key is 32 bytes, not %s" % type(key).__name__)
        key = bytes(key)
        check(lib.dd_keyring_add_key(self._h, _key_id(key_id), key, len(key)), self._h)

    def set_active(self, key_id):
        """Makes `key_id` the key new records are sealed with."""
        check(lib.dd_keyring_set_active(self._h, _key_id(key_id)), self._h)

    def set_algorithm(self, algorithm):
        """Chooses the AEAD for new records (a SealAlgorithm); AES256GCM
        raises Unsupported on a CPU without AES-NI."""
        check(lib.dd_keyring_set_algorithm(self._h, int(algorithm)), self._h)


def _backend(value):
    if isinstance(value, str):
        try:
            return Backend[value.upper()]
        except KeyError:
            raise ValueError("backend must be memory, sqlite, fs or postgres, not %r" % value) from None
    return Backend(value)


def store_schema(backend="postgres"):
    """The SQL that creates `backend`'s tables (only "postgres" has one), for
    the tables' owner to run when the store's role may not create them."""
    out = ffi.new("dd_buf *")
    check(lib.dd_store_schema(out, _backend(backend)))
    return take_buf(out).decode()


def store_rekey(backend, path, new_keyring, **options):
    """Rewrites every record of the store at `path` (sqlite, fs or postgres)
    under the active key of `new_keyring` (a Keyring), keeping every number; `keyring=` names the
    ring the store is sealed with now (none: an unsealed store becomes
    sealed). All or nothing. Returns how many records were rewritten."""
    if not isinstance(new_keyring, Keyring):
        raise TypeError("new_keyring must be a ddata.Keyring")
    keep = []
    opts = _options(keep, backend, path, **options)
    records = ffi.new("uint64_t *")
    check(lib.dd_store_rekey(opts, handle_arg(new_keyring, "new_keyring"), records))
    return records[0]


def _options(keep, backend="memory", path=None, snapshot_path=None, sync=None, busy_timeout_ms=None, keyring=None,
             compression_level=None, compression_threshold=None, snapshot_keep=None, must_exist=False,
             read_only=False):
    opts = ffi.new("dd_store_options *")
    keep.append(opts)
    check(lib.dd_store_options_init(opts, lib.DD_STORE_OPTIONS_VERSION))
    opts.backend = _backend(backend)
    for name, value in (("path", path), ("snapshot_path", snapshot_path)):
        if value is not None:
            if hasattr(value, "__fspath__"):
                value = value.__fspath__()
            c = ffi.new("char[]", to_bytes(value, name))
            keep.append(c)
            setattr(opts, name, c)
    if sync is not None:
        opts.sync = Sync(sync)
    if keyring is not None:
        if not isinstance(keyring, Keyring):
            raise TypeError("keyring must be a ddata.Keyring")
        opts.keyring = handle_arg(keyring, "keyring")
        opts.seal = lib.DD_SEAL_REQUIRED
    for name, value in (("busy_timeout_ms", busy_timeout_ms), ("compression_level", compression_level),
                        ("compression_threshold", compression_threshold), ("snapshot_keep", snapshot_keep)):
        if value is not None:
            setattr(opts, name, value)
    if not isinstance(must_exist, bool):
        raise TypeError("must_exist must be True or False")
    opts.must_exist = 1 if must_exist else 0
    # an existing store, read only: nothing created or written (NotFound when none)
    opts.read_only = 1 if read_only else 0
    return opts


Event = collections.namedtuple("Event", "payload timestamp_ms tags", defaults=(0, ()))
Event.__doc__ = "An event to append: payload (bytes or str), timestamp_ms, tags (strs)."

JournalEvent = collections.namedtuple("JournalEvent", "pid seq payload timestamp_ms ordering tags")
JournalEvent.__doc__ = "An event read back from a journal."

Snapshot = collections.namedtuple("Snapshot", "seq timestamp_ms state")
State = collections.namedtuple("State", "revision value")
KeyRevision = collections.namedtuple("KeyRevision", "key revision")
KeyRevision.__doc__ = "A state store key and its revision (StateStore.keys)."
Record = collections.namedtuple("Record", "key revision value")
Record.__doc__ = "A state store record (StateStore.range, StateStore.last)."


def _tags(tags, keep):
    if not tags:
        return ffi.NULL, 0
    cs = [ffi.new("char[]", to_bytes(t, "tag")) for t in tags]
    arr = ffi.new("char *[]", cs)
    keep.extend(cs)
    keep.append(arr)
    return arr, len(cs)


def _criteria(keep, min_seq=None, max_seq=None, min_timestamp_ms=None, max_timestamp_ms=None):
    c = ffi.new("dd_snapshot_criteria *")
    keep.append(c)
    check(lib.dd_snapshot_criteria_init(c, lib.DD_SNAPSHOT_CRITERIA_VERSION))
    for name, value in (("min_seq", min_seq), ("max_seq", max_seq), ("min_timestamp_ms", min_timestamp_ms),
                        ("max_timestamp_ms", max_timestamp_ms)):
        if value is not None:
            setattr(c, name, value)
    return c


class _Cursor(Handle):
    __slots__ = ()


def _strings(arr, n):
    return tuple(ffi.string(arr[i]).decode("utf-8") for i in range(n))


def _event(ev):
    return JournalEvent(bytes(ffi.buffer(ev.pid, ev.pid_len)), ev.seq,
                        copy_bytes(ev.payload, ev.len), ev.timestamp_ms, ev.ordering,
                        _strings(ev.tags, ev.tag_count))


class _Recovery:
    """What dd_journal_recover's callbacks reach through their ctx: the
    Python callables, and the first exception one raised (re-raised after
    the C call returns, since it cannot cross C frames)."""

    __slots__ = ("on_snapshot", "on_event", "error")

    def __init__(self, on_snapshot, on_event):
        self.on_snapshot, self.on_event, self.error = on_snapshot, on_event, None


@ffi.def_extern()
def ddpy_on_snapshot(ctx, seq, state, length):
    rec = ffi.from_handle(ctx)
    try:
        rec.on_snapshot(seq, copy_bytes(state, length))
        return 0
    except BaseException as e:  # re-raised by Journal.recover
        rec.error = e
        return 1


@ffi.def_extern()
def ddpy_on_event(ctx, ev):
    rec = ffi.from_handle(ctx)
    try:
        rec.on_event(_event(ev))
        return 0
    except BaseException as e:  # re-raised by Journal.recover
        rec.error = e
        return 1


_END = object()


def _int_arg(value, name, lo=0, hi=2**64 - 1):
    """An integer argument checked at the call (issue 17.9): InvalidArgument
    naming it, never cffi's OverflowError or TypeError later."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL",
                              "%s must be an integer, not %s" % (name, type(value).__name__))
    if not lo <= value <= hi:
        raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL",
                              "%s must be between %d and %d, not %d" % (name, lo, hi, value))
    return value


class _Walk:
    """What replay, by_tag, pids, keys and range return: an iterator whose
    cursor is opened, and whose first item is read, at the call, so a bad
    argument or an unreadable first record (CryptoError, Corrupt) raises
    there, not at the first next() (issue 17.9). Later pages are read as
    iteration reaches them; the cursor closes at the end or on an error.

    A lock serialises next() and close(): the C cursor is one thread at a
    time, and a Python user may share the iterator between threads.
    """

    __slots__ = ("_cursor", "_ev", "_convert", "_next", "_lock")

    def __init__(self, parent, open_cursor, pids_only, convert):
        out = ffi.new("dd_journal_cursor **")
        check(open_cursor(out))
        self._cursor = _Cursor(out[0], lib.dd_journal_cursor_close, parent=parent)
        self._ev = ffi.new("dd_journal_event *")
        if convert is None:
            convert = (lambda ev: bytes(ffi.buffer(ev.pid, ev.pid_len))) if pids_only else _event
        self._convert = convert
        self._lock = threading.Lock()
        self._next = self._read()

    def _read(self):
        if self._cursor.closed:
            return _END
        try:
            rc = lib.dd_journal_cursor_next(self._ev, self._cursor._h)
            if rc == lib.DD_EDONE:
                self._cursor.close()
                return _END
            check(rc)
            return self._convert(self._ev)
        except BaseException:
            self._cursor.close()
            raise

    def __iter__(self):
        return self

    def __next__(self):
        item = self._next
        if item is _END:
            raise StopIteration
        self._next = self._read()
        return item

    def close(self):
        """Closes the cursor before the end (also done when it is collected)."""
        self._cursor.close()
        self._next = _END


def _walk(parent, open_cursor, pids_only=False, convert=None):
    return _Walk(parent, open_cursor, pids_only, convert)


def _open_store(handle, which, backend, path, options, out_type, open_fn, close_fn):
    """Opens `handle` (a Journal or StateStore) on a built-in engine or on a
    store of your own (_backend.py)."""
    keep = []
    if isinstance(backend, _custom.StoreEngine):
        opts = _options(keep, "memory", path, **options)
        Handle.__init__(handle, _custom.open_custom(which, backend, opts), close_fn)
        return
    opts = _options(keep, backend, path, **options)
    out = ffi.new(out_type)
    check(open_fn(out, opts))
    Handle.__init__(handle, out[0], close_fn)


class Journal(Handle):
    """An event journal plus a snapshot store.

    Journal(backend="sqlite", path="events.db", keyring=ring, sync=Sync.FULL)
    """

    __slots__ = ()

    def __init__(self, backend="memory", path=None, **options):
        _open_store(self, "journal", backend, path, options, "dd_journal **", lib.dd_journal_open, lib.dd_journal_close)

    def append(self, pid, expected_seq, events):
        """Appends events expected_seq+1.. atomically; returns the new highest
        sequence number. Conflict when expected_seq is not the highest.
        Arguments in the C order (pid, expected_seq, events)."""
        pid = to_bytes(pid, "pid")
        events = [e if isinstance(e, Event) else Event(e) for e in events]
        keep = []
        arr = ffi.new("dd_append_event[]", len(events)) if events else ffi.NULL
        for i, e in enumerate(events):
            payload = to_bytes(e.payload, "payload")
            keep.append(payload)
            arr[i].payload = ffi.from_buffer(payload)
            arr[i].len = len(payload)
            arr[i].timestamp_ms = e.timestamp_ms or time.time_ns() // 1_000_000
            arr[i].tags, arr[i].tag_count = _tags(e.tags, keep)
        check(lib.dd_journal_append(self._h, pid, len(pid), expected_seq, arr, len(events)), self._h)
        return expected_seq + len(events)

    def highest_seq(self, pid):
        """The highest sequence number written for `pid` (0 when none)."""
        pid = to_bytes(pid, "pid")
        out = ffi.new("uint64_t *")
        check(lib.dd_journal_highest_seq(out, self._h, pid, len(pid)), self._h)
        return out[0]

    def delete_to(self, pid, to_seq):
        """Deletes the events of `pid` up to and including `to_seq`."""
        pid = to_bytes(pid, "pid")
        check(lib.dd_journal_delete_to(self._h, pid, len(pid), _int_arg(to_seq, "to_seq")), self._h)

    def replay(self, pid, from_seq=1, to_seq=MAX_SEQ, max=MAX_SEQ):
        """Events with from_seq <= seq <= to_seq, at most `max`."""
        pid = to_bytes(pid, "pid")
        from_seq, to_seq = _int_arg(from_seq, "from_seq"), _int_arg(to_seq, "to_seq")
        max = _int_arg(max, "max")
        return _walk(self, lambda out: lib.dd_journal_replay(out, self._h, pid, len(pid), from_seq, to_seq, max))

    def by_tag(self, tag, after_ordering=0, max=MAX_SEQ):
        """Events carrying `tag` after `after_ordering`, in global order."""
        tag = ffi.new("char[]", to_bytes(tag, "tag"))
        after_ordering, max = _int_arg(after_ordering, "after_ordering"), _int_arg(max, "max")
        return _walk(self, lambda out: lib.dd_journal_by_tag(out, self._h, tag, after_ordering, max))

    def pids(self, after=b"", max=MAX_SEQ):
        """Persistence ids greater than `after`, in byte order."""
        after = to_bytes(after, "after")
        max = _int_arg(max, "max")
        return _walk(self, lambda out: lib.dd_journal_pids(out, self._h, after, len(after), max), pids_only=True)

    # ---- event-sourced actors

    def persist(self, pid, expected_seq, event, state, strategy=PersistStrategy.FULL, snapshot_every=None,
                compact=False):
        """Appends one event at expected_seq + 1 and, as `strategy` says, a
        snapshot of `state` (the state after it). Returns the event's seq."""
        pid, state = to_bytes(pid, "pid"), to_bytes(state, "state")
        e = event if isinstance(event, Event) else Event(event)
        keep = []
        payload = to_bytes(e.payload, "payload")
        ev = ffi.new("dd_append_event *")
        ev.payload, ev.len = ffi.from_buffer(payload), len(payload)
        ev.timestamp_ms = e.timestamp_ms or time.time_ns() // 1_000_000
        ev.tags, ev.tag_count = _tags(e.tags, keep)
        opts = ffi.new("dd_persist_options *")
        check(lib.dd_persist_options_init(opts, lib.DD_PERSIST_OPTIONS_VERSION))
        opts.strategy = PersistStrategy(strategy)
        if snapshot_every is not None:
            opts.snapshot_every = snapshot_every
        opts.compact = 1 if compact else 0
        out = ffi.new("uint64_t *")
        check(lib.dd_journal_persist(out, self._h, pid, len(pid), expected_seq, ev, state, len(state), opts), self._h)
        return out[0]

    def recover(self, pid, on_event, on_snapshot=None):
        """Calls on_snapshot(seq, state) with the latest snapshot (if any),
        then on_event(JournalEvent) for each event after it; returns the
        last sequence number applied. Corrupt when an event is missing. An
        exception raised by a callback stops recovery and propagates."""
        pid = to_bytes(pid, "pid")
        rec = _Recovery(on_snapshot, on_event)
        ctx = ffi.new_handle(rec)
        out = ffi.new("uint64_t *")
        rc = lib.dd_journal_recover(out, self._h, pid, len(pid),
                                    lib.ddpy_on_snapshot if on_snapshot is not None else ffi.NULL,
                                    lib.ddpy_on_event, ctx)
        if rec.error is not None:
            raise rec.error
        check(rc, self._h)
        return out[0]

    # ---- snapshots

    def save_snapshot(self, pid, seq, state, timestamp_ms=None):
        """Saves `state` as the snapshot of `pid` at `seq`."""
        pid, state = to_bytes(pid, "pid"), to_bytes(state, "state")
        ts = timestamp_ms if timestamp_ms is not None else time.time_ns() // 1_000_000
        check(lib.dd_snapshot_save(self._h, pid, len(pid), seq, ts, state, len(state)), self._h)

    def load_snapshot(self, pid, **criteria):
        """The newest snapshot matching min_seq/max_seq/min_timestamp_ms/
        max_timestamp_ms, as Snapshot(seq, timestamp_ms, state), or None."""
        pid = to_bytes(pid, "pid")
        keep = []
        crit = _criteria(keep, **criteria) if criteria else ffi.NULL
        buf = ffi.new("dd_buf *")
        seq, ts = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        rc = lib.dd_snapshot_load(buf, seq, ts, self._h, pid, len(pid), crit)
        if rc == lib.DD_ENOTFOUND:
            return None
        check(rc, self._h)
        return Snapshot(seq[0], ts[0], take_buf(buf))

    def delete_snapshot(self, pid, seq):
        """Deletes the snapshot of `pid` taken at `seq`."""
        pid = to_bytes(pid, "pid")
        check(lib.dd_snapshot_delete(self._h, pid, len(pid), seq), self._h)

    def delete_snapshots(self, pid, **criteria):
        """Deletes the snapshots of `pid` that match the sequence and timestamp bounds."""
        pid = to_bytes(pid, "pid")
        keep = []
        check(lib.dd_snapshot_delete_matching(self._h, pid, len(pid), _criteria(keep, **criteria)), self._h)


class StateStore(Handle):
    """Durable state: key -> (revision, bytes) with compare-and-set.

    Revisions start at 1. upsert(key, 0, state) inserts, upsert(key, N,
    state) replaces revision N, upsert(key, ANY_REVISION, state) writes
    regardless. The expected revision is always given (the C order: key,
    expected_revision, state).
    """

    __slots__ = ()

    def __init__(self, backend="memory", path=None, **options):
        _open_store(self, "state", backend, path, options, "dd_state_store **", lib.dd_state_store_open, lib.dd_state_store_close)

    def upsert(self, key, expected_revision, state):
        """Writes and returns the new revision; Conflict when the revision moved."""
        key, state = to_bytes(key, "key"), to_bytes(state, "state")
        out = ffi.new("uint64_t *")
        check(lib.dd_state_store_upsert(out, self._h, key, len(key), expected_revision, state, len(state)), self._h)
        return out[0]

    def get(self, key):
        """State(revision, value) for key, or None when it has no record."""
        key = to_bytes(key, "key")
        buf = ffi.new("dd_buf *")
        rev = ffi.new("uint64_t *")
        rc = lib.dd_state_store_get(buf, rev, self._h, key, len(key))
        if rc == lib.DD_ENOTFOUND:
            return None
        check(rc, self._h)
        return State(rev[0], take_buf(buf))

    def __getitem__(self, key):
        st = self.get(key)
        if st is None:
            raise KeyError(key)
        return st.value

    def __contains__(self, key):
        return self.get(key) is not None

    def delete(self, key, expected_revision):
        """Deletes key; Conflict when its revision is not expected_revision
        (ANY_REVISION deletes whatever revision it has)."""
        key = to_bytes(key, "key")
        check(lib.dd_state_store_delete(self._h, key, len(key), expected_revision), self._h)

    def keys(self, prefix=b"", values=False):
        """KeyRevision(key, revision) for every key starting with `prefix`,
        in byte order (an iterator, read in pages; the first at the call).
        With values=True, Records (key, revision, value) instead."""
        prefix = to_bytes(prefix, "prefix")
        if values:
            return self.scan(prefix=prefix)
        return _walk(self, lambda out: lib.dd_state_store_keys(out, self._h, prefix, len(prefix)),
                     convert=_key_revision)

    def range(self, start=b"", count=1):
        """Up to abs(count) Records from `start` (inclusive): forward in byte
        order when count > 0 (from the first key when start is empty),
        backward when count < 0 (from the last key when start is empty)."""
        start = to_bytes(start, "start")
        count = _int_arg(count, "count", -2**63, 2**63 - 1)
        return _walk(self, lambda out: lib.dd_state_store_range(out, self._h, start, len(start), count),
                     convert=_record)

    def scan(self, start=b"", end=b"", prefix=b"", *, start_exclusive=False, end_inclusive=False,
             reverse=False, limit=0, values=True):
        """Records whose key is within the bounds, in byte order (reverse:
        greatest first): start <= key (start < key with start_exclusive),
        key < end (key <= end with end_inclusive) and key starting with
        prefix; an empty bound is absent, limit 0 means all. values=False
        yields KeyRevision(key, revision) without reading states. An
        iterator read in pages; arguments are checked at the call."""
        start, end, prefix = to_bytes(start, "start"), to_bytes(end, "end"), to_bytes(prefix, "prefix")
        limit = _int_arg(limit, "limit")
        r = ffi.new("dd_state_range *")
        check(lib.dd_state_range_init(r, lib.DD_STATE_RANGE_VERSION))
        keep = [start, end, prefix]
        for field in ("start", "end", "prefix"):
            value = locals()[field]
            setattr(r, field, ffi.from_buffer(value) if value else ffi.NULL)
            setattr(r, field + "_len", len(value))
        r.start_exclusive, r.end_inclusive = bool(start_exclusive), bool(end_inclusive)
        r.reverse, r.keys_only, r.limit = bool(reverse), not values, limit

        def open_cursor(out):
            rc = lib.dd_state_store_scan(out, self._h, r)
            del keep[:]  # the cursor copied the bounds
            return rc
        return _walk(self, open_cursor, convert=_record if values else _key_revision)

    def last(self, prefix=b""):
        """The Record with the greatest key starting with `prefix` (any key
        when empty), or None when there is none."""
        prefix = to_bytes(prefix, "prefix")
        buf, key = ffi.new("dd_buf *"), ffi.new("dd_buf *")
        rev = ffi.new("uint64_t *")
        if prefix:
            rc = lib.dd_state_store_last_prefix(buf, key, rev, self._h, prefix, len(prefix))
        else:
            rc = lib.dd_state_store_last(buf, key, rev, self._h)
        if rc == lib.DD_ENOTFOUND:
            return None
        check(rc, self._h)
        return Record(take_buf(key), rev[0], take_buf(buf))

    def purge(self, prefix=b""):
        """Deletes every record whose key starts with `prefix` (every record
        when empty), in one transaction."""
        prefix = to_bytes(prefix, "prefix")
        if prefix:
            check(lib.dd_state_store_purge_prefix(self._h, prefix, len(prefix)), self._h)
        else:
            check(lib.dd_state_store_purge(self._h), self._h)

    def batch(self, ops):
        """Applies ops all or nothing, in one transaction, and returns the
        new revision of each (0 for deletes). Each op is a tuple in the C
        order: ("upsert", key, expected_revision, state) or ("delete", key,
        expected_revision). Conflict (naming the op's index) when any
        expected revision does not hold; nothing is written then."""
        ops = list(ops)
        arr = ffi.new("dd_state_op[]", len(ops)) if ops else ffi.NULL
        keep = []
        for i, op in enumerate(ops):
            if not isinstance(op, (tuple, list)) or not op or op[0] not in _OP_ARITY:
                raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL",
                                      "batch op %d: expected ('upsert', key, expected_revision, state) "
                                      "or ('delete', key, expected_revision), not %r" % (i, op))
            if len(op) != _OP_ARITY[op[0]]:
                raise InvalidArgument(lib.DD_EINVAL, "DD_EINVAL",
                                      "batch op %d: %r takes %d items, not %d" % (i, op[0], _OP_ARITY[op[0]], len(op)))
            key = to_bytes(op[1], "key")
            keep.append(key)
            arr[i].kind = lib.DD_STATE_OP_UPSERT if op[0] == "upsert" else lib.DD_STATE_OP_DELETE
            arr[i].key, arr[i].key_len = ffi.from_buffer(key), len(key)
            arr[i].expected_revision = _int_arg(op[2], "batch op %d: expected_revision" % i)
            if op[0] == "upsert":
                state = to_bytes(op[3], "state")
                keep.append(state)
                arr[i].state = ffi.from_buffer(state) if state else ffi.NULL
                arr[i].len = len(state)
        revs = ffi.new("uint64_t[]", len(ops)) if ops else ffi.NULL
        check(lib.dd_state_store_batch(revs, self._h, arr, len(ops)), self._h)
        return [revs[i] for i in range(len(ops))]

    def flush(self):
        """Makes every write so far durable, whatever the sync option."""
        check(lib.dd_state_store_flush(self._h), self._h)


_OP_ARITY = {"upsert": 4, "delete": 3}


def _key_revision(ev):
    return KeyRevision(bytes(ffi.buffer(ev.pid, ev.pid_len)), ev.seq)


def _record(ev):
    return Record(bytes(ffi.buffer(ev.pid, ev.pid_len)), ev.seq,
                  copy_bytes(ev.payload, ev.len))


# asyncio forms (_aio.py): append_async, replay_async, upsert_async, ...
add_async_forms(Journal, ("append", "highest_seq", "delete_to", "persist", "recover", "save_snapshot",
                          "load_snapshot", "delete_snapshot", "delete_snapshots"),
                ("replay", "by_tag", "pids"))
add_async_forms(StateStore, ("upsert", "get", "delete", "last", "purge", "batch", "flush"),
                ("keys", "range", "scan"))
