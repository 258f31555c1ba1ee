"""A store engine in pure Python (dicts and lists) plugged into the
library through the public engine table, checked with the contract kit,
and used as a Journal and a StateStore."""
import ddata


class DictEngine(ddata.StoreEngine):
    name = "dict"

    def __init__(self, broken=False):
        self.events = []  # BackendEvent, in ordering
        self.highest = {}
        self.deleted = {}
        self.snapshots = {}  # (pid, seq) -> (ts, data)
        self.state = {}  # key -> (revision, data)
        self.ordering = 0
        self.broken = broken
        self.closed = False

    # journal
    def journal_append(self, pid, expected_seq, events):
        if self.highest.get(pid, 0) != expected_seq:
            raise ddata.Conflict("pid %r is at %d" % (pid, self.highest.get(pid, 0)))
        for i, e in enumerate(events):
            self.ordering += 1
            self.events.append(e._replace(seq=expected_seq + i + 1, ordering=self.ordering))
        self.highest[pid] = expected_seq + len(events)

    def _live(self):
        return [e for e in self.events if e.seq > self.deleted.get(e.pid, 0)]

    def journal_replay(self, pid, from_seq, to_seq, max):
        return [e for e in self._live() if e.pid == pid and from_seq <= e.seq <= to_seq][:max]

    def journal_highest(self, pid):
        return self.highest.get(pid, 0)

    def journal_delete_to(self, pid, to_seq):
        self.deleted[pid] = max(self.deleted.get(pid, 0), to_seq)
        if self.broken and to_seq >= self.highest.get(pid, 0):
            self.highest[pid] = 0

    def journal_deleted_to(self, pid):
        return self.deleted.get(pid, 0)

    def journal_pids(self, after, limit):
        return sorted(p for p in self.highest if not after or p > after)[:limit]

    def journal_by_tag(self, tag, after_ordering, max):
        return [e for e in self._live()
                if e.ordering > after_ordering and ddata.backend_tags_contain(e.tags, tag)][:max]

    # snapshots
    def snapshot_save(self, pid, seq, timestamp_ms, data):
        self.snapshots[(pid, seq)] = (timestamp_ms, data)

    def _matching(self, pid, min_seq, max_seq, min_ts, max_ts):
        return sorted(((s, ts, d) for (p, s), (ts, d) in self.snapshots.items()
                       if p == pid and min_seq <= s <= max_seq and min_ts <= ts <= max_ts), reverse=True)

    def snapshot_find(self, pid, *criteria):
        return self._matching(pid, *criteria)

    def snapshot_delete(self, pid, *criteria):
        for seq, _, _ in self._matching(pid, *criteria):
            del self.snapshots[(pid, seq)]

    def snapshot_prune(self, pid, keep):
        for seq, _, _ in self._matching(pid, 0, 2**64 - 1, 0, 2**64 - 1)[keep:]:
            del self.snapshots[(pid, seq)]

    # state
    def state_upsert(self, key, expected_revision, data):
        have = self.state.get(key, (0, b""))[0]
        if expected_revision != ddata.ANY_REVISION and expected_revision != have:
            raise ddata.Conflict("key %r is at revision %d" % (key, have))
        self.state[key] = (have + 1, data)
        return have + 1

    def state_get(self, key):
        return self.state.get(key)

    def state_delete(self, key, expected_revision):
        if key not in self.state:
            raise ddata.NotFound("no key %r" % key)
        if expected_revision != ddata.ANY_REVISION and expected_revision != self.state[key][0]:
            raise ddata.Conflict("key %r moved" % key)
        del self.state[key]

    def state_scan(self, prefix):
        return [(k, r, d) for k, (r, d) in sorted(self.state.items()) if k.startswith(prefix)]

    def state_range(self, from_key, count):
        items = sorted(self.state.items(), reverse=count < 0)
        if from_key:
            items = [(k, v) for k, v in items if (k >= from_key if count > 0 else k <= from_key)]
        return [(k, r, d) for k, (r, d) in items[:abs(count)]]

    def state_purge(self):
        self.state.clear()

    def close(self):
        self.closed = True


def test_python_dict_engine_passes_the_contract_kit():
    made = []

    def factory():
        made.append(DictEngine())
        return made[-1]

    result = ddata.check_backend(factory)
    assert result.ok, result.report
    assert "40 passed, 0 failed" in result.report
    assert made[1:] and all(e.closed for e in made)


def test_kit_reports_a_python_engine_whose_highest_falls():
    result = ddata.check_backend(lambda: DictEngine(broken=True))
    assert not result.ok
    assert "FAIL highest_survives_deleting_everything [unsealed]" in result.report


def test_journal_and_state_store_run_on_a_python_engine():
    engine = DictEngine()
    with ddata.Journal(backend=engine) as j:
        j.append("p", 0, [ddata.Event(b"one", tags=("red",)), b"two"])
        assert [e.payload for e in j.replay("p")] == [b"one", b"two"]
        assert [e.seq for e in j.by_tag("red")] == [1]
        assert ddata.backend_tags(engine.events[0].tags) == [b"red"]
        # the engine keeps the checksummed envelope, not the bare payload
        assert engine.events[0].payload != b"one" and engine.events[0].payload.endswith(b"one")
    assert engine.closed

    engine = DictEngine()
    with ddata.StateStore(backend=engine) as s:
        assert s.upsert("k", 0, b"v") == 1
        try:
            s.upsert("k", 0, b"w")
            raise AssertionError("expected a conflict")
        except ddata.Conflict:
            pass
        assert s.get("k").value == b"v"


def test_an_unexpected_exception_in_an_engine_is_eio_and_kept():
    class Failing(DictEngine):
        def journal_highest(self, pid):
            raise RuntimeError("disk on fire")

    engine = Failing()
    with ddata.Journal(backend=engine) as j:
        try:
            j.highest_seq("p")
            raise AssertionError("expected an I/O error")
        except ddata.IOError_:
            pass
    assert isinstance(engine.last_exception, RuntimeError)
