"""A store engine written in Python (dd_backend_ops, ABI.md "Custom
backends"): subclass StoreEngine, then open Journal(backend=engine) or
StateStore(backend=engine), and run check_backend on it first.

Sealing, the checksum envelope, compression and the read checks stay in
the library, above the engine; the engine only keeps opaque bytes. Each
member of the C table is one `extern "Python"` callback here that calls
the engine's method and turns the result into C: a returned iterable is
walked and handed to the library item by item (stopping when it says
so); a raised ddata.Error (Conflict("..."), NotFound("...")) becomes its
DD_E* code; any other exception becomes DD_EIO and is kept on the engine
as `last_exception`.
"""
import collections
import functools
import threading

from ._ddata import ffi, lib
from ._errors import Error, check
from ._util import copy_bytes

BackendEvent = collections.namedtuple("BackendEvent", "seq timestamp_ms ordering pid payload tags")
BackendEvent.__doc__ = """An event as an engine stores it. `tags` is an opaque blob: store it
and hand it back unchanged (backend_tags_contain / backend_tags read it).
On append, `ordering` is 0 and `pid` the call's pid; on read, fill all."""

BackendCheck = collections.namedtuple("BackendCheck", "ok report")
BackendCheck.__doc__ = "check_backend's result: ok (bool) and the report, one line per case."


class StoreEngine:
    """The engine contract (the rules are in ABI.md, "Custom backends").
    Override every method; journal_deleted_to is optional (define it to
    let replay tell a deleted head from a lost one)."""

    name = "python"
    last_exception = None

    # journal
    def journal_append(self, pid, expected_seq, events):
        """Stores `events` (each with seq, timestamp_ms, payload, tags) numbered
        expected_seq + 1 ...; all or nothing; raise ddata.Conflict when the
        highest sequence number of `pid` is not expected_seq."""
        raise NotImplementedError

    def journal_replay(self, pid, from_seq, to_seq, max):
        """Yields the events of `pid` with from_seq <= seq <= to_seq, ascending,
        at most `max`."""
        raise NotImplementedError

    def journal_highest(self, pid):
        """The highest sequence number `pid` ever had (0 for an unknown pid);
        it never decreases, not even after journal_delete_to."""
        raise NotImplementedError

    def journal_delete_to(self, pid, to_seq):
        """Deletes the events of `pid` up to and including to_seq."""
        raise NotImplementedError

    def journal_pids(self, after, limit):
        """Yields the persistence ids greater than `after` (all when empty), in
        byte order, at most `limit`."""
        raise NotImplementedError

    def journal_by_tag(self, tag, after_ordering, max):
        """Yields the events carrying `tag` with ordering > after_ordering, in
        ordering order, at most `max`."""
        raise NotImplementedError

    # snapshots: yield (seq, timestamp_ms, data), highest seq first
    def snapshot_save(self, pid, seq, timestamp_ms, data):
        """Stores a snapshot, replacing one at the same (pid, seq)."""
        raise NotImplementedError

    def snapshot_find(self, pid, min_seq, max_seq, min_timestamp_ms, max_timestamp_ms):
        """Yields (seq, timestamp_ms, data) of the snapshots inside the bounds
        (inclusive), highest seq first."""
        raise NotImplementedError

    def snapshot_delete(self, pid, min_seq, max_seq, min_timestamp_ms, max_timestamp_ms):
        """Deletes the snapshots of `pid` inside the bounds (inclusive)."""
        raise NotImplementedError

    def snapshot_prune(self, pid, keep):
        """Keeps the newest `keep` snapshots of `pid` and deletes the rest."""
        raise NotImplementedError

    # state: records are (key, revision, data)
    def state_upsert(self, key, expected_revision, data):
        """Writes `data` under `key` when its revision is expected_revision (0:
        absent) and returns the new revision; raise ddata.Conflict otherwise."""
        raise NotImplementedError

    def state_get(self, key):
        """(revision, data), or None when absent."""
        raise NotImplementedError

    def state_delete(self, key, expected_revision):
        """Deletes `key` when its revision is expected_revision; raise
        ddata.Conflict otherwise."""
        raise NotImplementedError

    def state_scan(self, prefix):
        """Yields (key, revision, data) of every record whose key starts with
        `prefix`, in key order."""
        raise NotImplementedError

    def state_range(self, from_key, count):
        """Yields up to |count| records (key, revision, data) from `from_key`
        (inclusive): forward when count > 0, backward when count < 0."""
        raise NotImplementedError

    def state_purge(self):
        """Deletes every state record."""
        raise NotImplementedError

    def close(self):
        """Called once when the library lets go of the engine."""
        pass


# Engines the library holds (a `user` pointer is alive in C), by that
# pointer: kept here until their close callback, so the handle stays valid.
_live = {}
_live_lock = threading.Lock()


def _key(user):
    return int(ffi.cast("uintptr_t", user))


def _engine(user):
    return ffi.from_handle(user)


def _status(engine, exc):
    if isinstance(exc, Error):
        return exc.code
    engine.last_exception = exc
    return lib.DD_EIO


def _engine_call(fn):
    """The `extern "Python"` callback named as `fn`: runs `fn` on the engine
    of the call's user pointer; any exception becomes a status."""

    @functools.wraps(fn)
    def run(user, *args):
        engine = _engine(user)
        try:
            rc = fn(engine, *args)
            return rc if rc is not None else 0
        except BaseException as exc:  # noqa: BLE001 -- nothing may cross the C frames
            return _status(engine, exc)

    return ffi.def_extern(name=fn.__name__)(run)


def _bytes(p, n):
    return copy_bytes(p, n) if n else b""


def _event_in(ev, pid):
    return BackendEvent(ev.seq, ev.timestamp_ms, 0, pid, _bytes(ev.payload, ev.len), _bytes(ev.tags, ev.tags_len))


def _emit_events(events, fn, ctx):
    for e in events:
        pid, payload, tags = bytes(e.pid), bytes(e.payload), bytes(e.tags or b"")
        c = ffi.new("dd_backend_event *")
        c.seq, c.timestamp_ms, c.ordering = e.seq, e.timestamp_ms, e.ordering
        keep = (ffi.from_buffer(pid), ffi.from_buffer(payload), ffi.from_buffer(tags))
        c.pid, c.pid_len = keep[0], len(pid)
        c.payload, c.len = keep[1], len(payload)
        c.tags, c.tags_len = keep[2], len(tags)
        rc = fn(ctx, c)
        if rc:
            return rc
    return 0


def _emit_records(records, fn, ctx):
    for key, revision, data in records:
        key, data = bytes(key), bytes(data)
        rc = fn(ctx, ffi.from_buffer(key), len(key), revision, ffi.from_buffer(data), len(data))
        if rc:
            return rc
    return 0


@_engine_call
def ddpy_be_append(e, pid, pid_len, expected, events, count):
    p = _bytes(pid, pid_len)
    e.journal_append(p, expected, [_event_in(events[i], p) for i in range(count)])


@_engine_call
def ddpy_be_replay(e, pid, pid_len, from_seq, to_seq, max, fn, ctx):
    return _emit_events(e.journal_replay(_bytes(pid, pid_len), from_seq, to_seq, max), fn, ctx)


@_engine_call
def ddpy_be_highest(e, pid, pid_len, out):
    out[0] = e.journal_highest(_bytes(pid, pid_len))


@_engine_call
def ddpy_be_deleted_to(e, pid, pid_len, out):
    out[0] = e.journal_deleted_to(_bytes(pid, pid_len))


@_engine_call
def ddpy_be_delete_to(e, pid, pid_len, to_seq):
    e.journal_delete_to(_bytes(pid, pid_len), to_seq)


@_engine_call
def ddpy_be_pids(e, after, after_len, limit, fn, ctx):
    for pid in e.journal_pids(_bytes(after, after_len), limit):
        pid = bytes(pid)
        rc = fn(ctx, ffi.from_buffer(pid), len(pid))
        if rc:
            return rc
    return 0


@_engine_call
def ddpy_be_by_tag(e, tag, tag_len, after, max, fn, ctx):
    return _emit_events(e.journal_by_tag(_bytes(tag, tag_len), after, max), fn, ctx)


@_engine_call
def ddpy_be_snapshot_save(e, pid, pid_len, seq, ts, data, length):
    e.snapshot_save(_bytes(pid, pid_len), seq, ts, _bytes(data, length))


def _criteria(c):
    return c.min_seq, c.max_seq, c.min_timestamp_ms, c.max_timestamp_ms


@_engine_call
def ddpy_be_snapshot_find(e, pid, pid_len, criteria, fn, ctx):
    found = False
    for seq, ts, data in e.snapshot_find(_bytes(pid, pid_len), *_criteria(criteria)):
        found = True
        data = bytes(data)
        rc = fn(ctx, seq, ts, ffi.from_buffer(data), len(data))
        if rc:
            return rc
    return 0 if found else lib.DD_ENOTFOUND


@_engine_call
def ddpy_be_snapshot_delete(e, pid, pid_len, criteria):
    e.snapshot_delete(_bytes(pid, pid_len), *_criteria(criteria))


@_engine_call
def ddpy_be_snapshot_prune(e, pid, pid_len, keep):
    e.snapshot_prune(_bytes(pid, pid_len), keep)


@_engine_call
def ddpy_be_state_upsert(e, key, key_len, expected, data, length, new_revision):
    new_revision[0] = e.state_upsert(_bytes(key, key_len), expected, _bytes(data, length))


@_engine_call
def ddpy_be_state_get(e, key, key_len, fn, ctx):
    k = _bytes(key, key_len)
    got = e.state_get(k)
    if got is None:
        return lib.DD_ENOTFOUND
    revision, data = got
    return _emit_records([(k, revision, data)], fn, ctx)


@_engine_call
def ddpy_be_state_delete(e, key, key_len, expected):
    e.state_delete(_bytes(key, key_len), expected)


@_engine_call
def ddpy_be_state_scan(e, prefix, prefix_len, fn, ctx):
    return _emit_records(e.state_scan(_bytes(prefix, prefix_len)), fn, ctx)


@_engine_call
def ddpy_be_state_range(e, from_key, from_len, count, fn, ctx):
    return _emit_records(e.state_range(_bytes(from_key, from_len), count), fn, ctx)


@_engine_call
def ddpy_be_state_purge(e):
    e.state_purge()


@ffi.def_extern()
def ddpy_be_close(user):
    engine = _engine(user)
    with _live_lock:
        _live.pop(_key(user), None)
    try:
        engine.close()
    except BaseException as exc:  # noqa: BLE001 -- close cannot fail in C
        engine.last_exception = exc


def _ops(engine, keep):
    ops = ffi.new("dd_backend_ops *")
    keep.append(ops)
    ops.version = lib.DD_BACKEND_OPS_VERSION
    name = ffi.new("char[]", str(getattr(engine, "name", "python")).encode())
    keep.append(name)
    ops.name = name
    ops.journal_append = lib.ddpy_be_append
    ops.journal_replay = lib.ddpy_be_replay
    ops.journal_highest = lib.ddpy_be_highest
    ops.journal_delete_to = lib.ddpy_be_delete_to
    if callable(getattr(engine, "journal_deleted_to", None)):
        ops.journal_deleted_to = lib.ddpy_be_deleted_to
    ops.journal_pids = lib.ddpy_be_pids
    ops.journal_by_tag = lib.ddpy_be_by_tag
    ops.snapshot_save = lib.ddpy_be_snapshot_save
    ops.snapshot_find = lib.ddpy_be_snapshot_find
    ops.snapshot_delete = lib.ddpy_be_snapshot_delete
    ops.snapshot_prune = lib.ddpy_be_snapshot_prune
    ops.state_upsert = lib.ddpy_be_state_upsert
    ops.state_get = lib.ddpy_be_state_get
    ops.state_delete = lib.ddpy_be_state_delete
    ops.state_scan = lib.ddpy_be_state_scan
    ops.state_range = lib.ddpy_be_state_range
    ops.state_purge = lib.ddpy_be_state_purge
    ops.close = lib.ddpy_be_close
    return ops


def _hold(engine):
    """A `user` pointer for engine, alive until the library closes it."""
    h = ffi.new_handle(engine)
    with _live_lock:
        _live[_key(h)] = h
    return h


def _release(user):
    with _live_lock:
        _live.pop(_key(user), None)


def open_custom(kind, engine, opts):
    """Opens a journal ("journal") or state store on engine; the raw handle."""
    if not isinstance(engine, StoreEngine):
        raise TypeError("backend must be a ddata.StoreEngine or a backend name")
    keep = []
    ops = _ops(engine, keep)
    user = _hold(engine)
    if kind == "journal":
        out = ffi.new("dd_journal **")
        rc = lib.dd_journal_open_custom(out, ops, user, opts)
    else:
        out = ffi.new("dd_state_store **")
        rc = lib.dd_state_store_open_custom(out, ops, user, opts)
    if rc < 0:
        _release(user)  # a failed open does not close the engine
    check(rc)
    return out[0]


@ffi.def_extern()
def ddpy_be_new(user_out, ctx):
    factory, holder = ffi.from_handle(ctx)
    try:
        engine = factory()
        if not isinstance(engine, StoreEngine):
            raise TypeError("the factory must return a ddata.StoreEngine")
    except BaseException as exc:  # noqa: BLE001
        holder.append(exc)
        return lib.DD_EIO
    user_out[0] = _hold(engine)
    return 0


def check_backend(factory):
    """Runs the library's contract suite against the engines `factory()`
    makes (a fresh, empty one per case), unsealed and sealed. Returns
    BackendCheck(ok, report); raises for a table the library refuses."""
    probe = factory()
    keep = []
    ops = _ops(probe, keep)
    probe.close()
    holder = []
    ctx = ffi.new_handle((factory, holder))
    report = ffi.new("dd_buf *")
    rc = lib.dd_backend_check(report, ops, lib.ddpy_be_new, ctx)
    text = ffi.string(ffi.cast("char *", report.data), report.len).decode() if report.data != ffi.NULL else ""
    if report.data != ffi.NULL:
        lib.dd_buf_free(report)
    if holder:
        raise holder[0]
    if rc == lib.DD_ECORRUPT:
        return BackendCheck(False, text)
    check(rc)
    return BackendCheck(True, text)


def backend_tags_contain(tags, tag):
    """True when the opaque tags blob of an event carries `tag` (bytes)."""
    tags, tag = bytes(tags), bytes(tag)
    out = ffi.new("int *")
    check(lib.dd_backend_tags_contain(out, tags, len(tags), tag, len(tag)))
    return bool(out[0])


def backend_tags(tags):
    """The tags in an event's opaque tags blob, as a list of bytes."""
    tags = bytes(tags)
    found = []
    tag, tag_len, pos = ffi.new("const uint8_t **"), ffi.new("size_t *"), ffi.new("size_t *")
    while True:
        rc = lib.dd_backend_tags_next(tag, tag_len, tags, len(tags), pos)
        if rc == lib.DD_EDONE:
            return found
        check(rc)
        found.append(ffi.buffer(tag[0], tag_len[0])[:])
