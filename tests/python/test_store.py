"""Journal, snapshots, durable state and key rings through the package."""
import gc

import pytest

import ddata
from ddata import Event

KEY1, KEY2 = b"\x01" * 32, b"\x02" * 32


@pytest.fixture(params=["memory", "sqlite", "fs"])
def journal(request, tmp_path):
    path = None if request.param == "memory" else tmp_path / ("j.db" if request.param == "sqlite" else "j")
    with ddata.Journal(request.param, path) as j:
        yield j


def seqs(events):
    return [e.seq for e in events]


def test_append_then_replay_with_bounds(journal):
    assert journal.append("p", 0, [b"1", b"2", b"3", "4", "5"]) == 5
    assert seqs(journal.replay("p")) == [1, 2, 3, 4, 5]
    assert seqs(journal.replay("p", 2, 4)) == [2, 3, 4]
    assert seqs(journal.replay("p", 3, 3)) == [3]
    assert seqs(journal.replay("p", max=2)) == [1, 2]
    assert seqs(journal.replay("p", max=0)) == []
    assert seqs(journal.replay("p", 4, 2)) == []
    assert seqs(journal.replay("unknown")) == []
    assert [e.payload for e in journal.replay("p")] == [b"1", b"2", b"3", b"4", b"5"]


def test_append_with_a_stale_expected_seq_conflicts_and_writes_nothing(journal):
    journal.append("p", 0, [b"a"])
    with pytest.raises(ddata.Conflict) as info:
        journal.append("p", 0, [b"b", b"c"])
    assert "expected" in info.value.message
    assert seqs(journal.replay("p")) == [1]


def test_deleted_range_is_not_replayed_and_highest_seq_stays(journal):
    journal.append("p", 0, [b"%d" % i for i in range(5)])
    journal.delete_to("p", 3)
    assert seqs(journal.replay("p")) == [4, 5]
    assert journal.highest_seq("p") == 5
    journal.delete_to("p", 5)
    assert journal.highest_seq("p") == 5


def test_tags_timestamps_and_ordering(journal):
    journal.append("a", 0, [Event(b"x", 1000, ("red",)), Event(b"y", 1001, ("blue", "red"))])
    journal.append("b", 0, [Event(b"z", 1002, ("red",))])
    red = list(journal.by_tag("red"))
    assert [(e.pid, e.payload) for e in red] == [(b"a", b"x"), (b"a", b"y"), (b"b", b"z")]
    assert red[1].tags == ("blue", "red") or set(red[1].tags) == {"blue", "red"}
    assert red[0].timestamp_ms == 1000
    after = list(journal.by_tag("red", after_ordering=red[1].ordering))
    assert [e.payload for e in after] == [b"z"]
    assert list(journal.pids()) == [b"a", b"b"]
    assert list(journal.pids(after="a")) == [b"b"]


def test_snapshots_latest_wins_and_criteria_select(journal):
    assert journal.load_snapshot("p") is None
    journal.save_snapshot("p", 1, b"one", timestamp_ms=100)
    journal.save_snapshot("p", 5, b"five", timestamp_ms=200)
    assert journal.load_snapshot("p") == (5, 200, b"five")
    assert journal.load_snapshot("p", max_seq=4).state == b"one"
    assert journal.load_snapshot("p", max_timestamp_ms=150).seq == 1
    journal.save_snapshot("p", 5, b"again", timestamp_ms=300)
    assert journal.load_snapshot("p").state == b"again"
    journal.delete_snapshot("p", 5)
    assert journal.load_snapshot("p").seq == 1
    journal.delete_snapshots("p", max_seq=10)
    assert journal.load_snapshot("p") is None
    big = bytes(range(256)) * 40
    journal.save_snapshot("p", 9, big)
    assert journal.load_snapshot("p").state == big


def test_sqlite_journal_survives_reopen(tmp_path):
    path = tmp_path / "j.db"
    with ddata.Journal("sqlite", path, sync=ddata.Sync.FULL) as j:
        j.append("p", 0, [b"kept"])
    with ddata.Journal("sqlite", str(path)) as j:
        assert [e.payload for e in j.replay("p")] == [b"kept"]


def test_state_store_compare_and_set():
    s = ddata.StateStore()
    assert s.get("k") is None and "k" not in s
    assert s.upsert("k", 0, b"v1") == 1
    with pytest.raises(ddata.Conflict):
        s.upsert("k", 0, b"x")
    assert s.upsert("k", 1, b"v2") == 2
    with pytest.raises(ddata.Conflict):
        s.upsert("k", 1, b"x")
    assert s.get("k") == (2, b"v2") and s["k"] == b"v2"
    assert s.upsert("k", ddata.ANY_REVISION, b"v3") == 3
    with pytest.raises(ddata.InvalidArgument):
        s.delete("k", 0)
    s.delete("k", 3)
    assert s.get("k") is None
    with pytest.raises(KeyError):
        s["k"]


def test_sealed_store_opens_with_the_right_key_only(tmp_path):
    path = tmp_path / "s.db"
    with ddata.Keyring({7: KEY1}) as ring, ddata.StateStore("sqlite", path, keyring=ring) as s:
        s.upsert("secret", ddata.ANY_REVISION, b"plaintext" * 10)
    raw = path.read_bytes()
    assert b"plaintext" not in raw
    with ddata.Keyring({7: KEY2}) as wrong, ddata.StateStore("sqlite", path, keyring=wrong) as s:
        with pytest.raises(ddata.CryptoError):
            s.get("secret")
    with ddata.Keyring({7: KEY1}) as ring, ddata.StateStore("sqlite", path, keyring=ring) as s:
        assert s["secret"] == b"plaintext" * 10


def test_tampered_sealed_record_is_crypto_error_and_other_records_survive(tmp_path):
    path = tmp_path / "store"
    ring = ddata.Keyring({1: KEY1})
    with ddata.StateStore("fs", path, keyring=ring) as s:
        s.upsert("a", ddata.ANY_REVISION, b"alpha" * 20)
        s.upsert("b", ddata.ANY_REVISION, b"beta" * 20)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.stat().st_size > 40)
    assert files
    bad = bytearray(files[0].read_bytes())
    bad[-1] ^= 1
    files[0].write_bytes(bytes(bad))
    with ddata.StateStore("fs", path, keyring=ring) as s:
        results = []
        for k in ("a", "b"):
            try:
                results.append(s[k])
            except (ddata.CryptoError, ddata.Corrupt):
                results.append(None)
    assert results.count(None) == 1 and (b"alpha" * 20 in results or b"beta" * 20 in results)


def test_keyring_rejects_bad_keys_and_unknown_ids():
    ring = ddata.Keyring()
    with pytest.raises(ddata.InvalidArgument):
        ring.add_key(1, b"short")
    with pytest.raises(TypeError):
        ring.add_key(1, "text is not a key")
    with pytest.raises(ddata.Error):
        ring.set_active(42)
    assert ddata.seal_algorithm_available(ddata.SealAlgorithm.XCHACHA20POLY1305)


def test_bad_options_raise_before_anything_is_opened(tmp_path):
    with pytest.raises(ValueError):
        ddata.Journal("floppy")
    (tmp_path / "file").write_bytes(b"")  # a parent that cannot be a directory (#17.10)
    with pytest.raises(ddata.Error, match="file"):
        ddata.Journal("sqlite", tmp_path / "file" / "such" / "dir" / "j.db")


def test_cursor_outlives_a_closed_journal():
    j = ddata.Journal()
    j.append("p", 0, [b"1", b"2"])
    it = j.replay("p")
    first = next(it)
    j.close()
    assert [first.seq] + [e.seq for e in it] == [1, 2]
    with pytest.raises(ddata.Misuse):
        j.highest_seq("p")


def test_journals_and_cursors_collected_in_random_order(rng):
    objs = []
    for i in range(50):
        j = ddata.Journal()
        j.append("p", 0, [b"x"] * 3)
        it = j.replay("p")
        next(it)
        objs += [j, it]
    rng.shuffle(objs)
    while objs:
        del objs[rng.randrange(len(objs))]
    gc.collect()


def test_persist_full_snapshots_every_n_and_recover_replays_the_rest():
    j = ddata.Journal()
    seq = 0
    for i in range(1, 6):
        seq = j.persist("acc", seq, b"+%d" % i, b"total=%d" % sum(range(1, i + 1)), snapshot_every=2)
    assert seq == 5
    snaps, events = [], []
    last = j.recover("acc", events.append, lambda s, state: snaps.append((s, state)))
    assert last == 5
    assert snaps == [(4, b"total=10")]
    assert [e.payload for e in events] == [b"+5"]


def test_persist_light_keeps_a_snapshot_per_event():
    j = ddata.Journal()
    j.persist("a", 0, b"e1", b"s1", strategy=ddata.PersistStrategy.LIGHT)
    j.persist("a", 1, b"e2", b"s2", strategy=ddata.PersistStrategy.LIGHT)
    assert j.load_snapshot("a").state == b"s2"
    with pytest.raises(ddata.Conflict):
        j.persist("a", 1, b"e3", b"s3", strategy=ddata.PersistStrategy.LIGHT)


def test_recover_of_an_unknown_pid_applies_nothing():
    j = ddata.Journal()
    assert j.recover("nobody", lambda e: pytest.fail("no events expected")) == 0


def test_an_exception_in_a_recovery_callback_stops_and_propagates():
    j = ddata.Journal()
    j.append("p", 0, [b"1", b"2", b"3"])
    seen = []

    def on_event(e):
        seen.append(e.seq)
        if e.seq == 2:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        j.recover("p", on_event)
    assert seen == [1, 2]


def test_must_exist_refuses_an_empty_file_and_a_missing_path(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(ddata.Corrupt):
        ddata.Journal("sqlite", empty, must_exist=True)
    assert empty.stat().st_size == 0
    with pytest.raises(ddata.NotFound):
        ddata.StateStore("fs", tmp_path / "missing", must_exist=True)
    assert not (tmp_path / "missing").exists()
    with ddata.Journal("sqlite", empty) as j:
        j.append("p", 0, [b"x"])
    with ddata.Journal("sqlite", empty, must_exist=True) as j:
        assert j.highest_seq("p") == 1


def test_compression_works_without_a_keyring(tmp_path):
    root = tmp_path / "zip"
    big = b"a" * 4096
    with ddata.StateStore("fs", root, compression_level=9) as s:
        s.upsert("k", 0, big)
        assert s.get("k").value == big
    assert (root / "state" / "x6b").stat().st_size < 300


def test_postgres_backend_is_named_and_its_schema_printed():
    sql = ddata.store_schema("postgres")
    assert "CREATE TABLE ddata_journal" in sql
    with pytest.raises(ddata.Unsupported):
        ddata.store_schema("sqlite")
    with pytest.raises(OSError) as err:
        ddata.Journal("postgres", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "postgres: connecting" in str(err.value)


@pytest.mark.parametrize("kind", ["journal", "state_store"])
def test_a_closed_keyring_is_misuse_and_never_writes_plaintext(tmp_path, kind):
    path = tmp_path / "sealed.db"
    ring = ddata.Keyring({1: KEY1})
    ring.close()
    with pytest.raises(ddata.Misuse):
        if kind == "journal":
            ddata.Journal("sqlite", path, keyring=ring).append("p", 0, [b"TOP-SECRET"])
        else:
            ddata.StateStore("sqlite", path, keyring=ring).upsert("k", ddata.ANY_REVISION, b"TOP-SECRET")
    assert not path.exists() or b"TOP-SECRET" not in path.read_bytes()


def test_a_closed_store_or_system_passed_as_an_argument_is_misuse():
    store = ddata.StateStore()
    store.close()
    with pytest.raises(ddata.Misuse):
        ddata.Owned(node_id=1, store=store)
    with ddata.System("n1") as node:
        with pytest.raises(ddata.Misuse):
            node.replica(store=store)
    node = ddata.System("n2")
    node.close()
    with pytest.raises(ddata.Misuse):
        ddata.Owned(system=node)


def test_a_failure_is_recorded_on_its_handle_and_read_from_any_thread():
    import threading

    from ddata._ddata import lib
    from ddata._errors import error_for

    j = ddata.Journal()
    j.append("p", 0, [b"a"])
    with pytest.raises(ddata.Conflict) as failed:
        j.append("p", 0, [b"b"])
    assert "'p'" in failed.value.message
    seen = []
    # Another thread has no error of its own: the message it gets is the
    # one recorded on the journal (dd_handle_error).
    t = threading.Thread(target=lambda: seen.append(error_for(lib.DD_ECONFLICT, j._h)))
    t.start()
    t.join()
    assert isinstance(seen[0], ddata.Conflict)
    assert seen[0].message == failed.value.message
    assert ddata.last_error()[0] == lib.DD_ECONFLICT  # this thread's copy is untouched


def test_upsert_takes_the_c_order_and_requires_an_expected_revision():
    s = ddata.StateStore()
    assert s.upsert("k", 0, b"v1") == 1
    assert s.get("k") == ddata.State(1, b"v1")
    with pytest.raises(TypeError):
        s.upsert("k", b"v2")  # no expected revision: no silent overwrite
    with pytest.raises(TypeError):
        s.delete("k")
    s.delete("k", ddata.ANY_REVISION)
    s.close()


def test_append_and_persist_take_pid_expected_seq_then_events():
    j = ddata.Journal()
    assert j.append("p", 0, [b"a", b"b"]) == 2
    assert j.persist("p", 2, b"c", b"state") == 3
    assert [e.payload for e in j.replay("p")] == [b"a", b"b", b"c"]
    j.close()


def test_read_only_store_creates_nothing_and_refuses_writes(tmp_path):
    missing = tmp_path / "missing.db"
    with pytest.raises(ddata.NotFound, match="not a ddata store"):
        ddata.StateStore("sqlite", missing, read_only=True)
    assert not missing.exists()
    with ddata.StateStore("sqlite", missing) as s:
        s.upsert("k", state=b"v", expected_revision=ddata.ANY_REVISION)
    with ddata.StateStore("sqlite", missing, read_only=True) as s:
        assert s["k"] == b"v"
        with pytest.raises(ddata.Error):
            s.upsert("k", state=b"w", expected_revision=ddata.ANY_REVISION)
    with pytest.raises(ddata.InvalidArgument):
        ddata.StateStore("memory", read_only=True)


# ---- issue 17.9: errors at the call, not at the first next()


def test_bad_arguments_raise_at_the_call():
    j = ddata.Journal()
    j.append("p", 0, ["a", "b"])
    for call in (lambda: j.replay("p", to_seq=2**64), lambda: j.replay("p", from_seq=-1),
                 lambda: j.by_tag("t", after_ordering=-5), lambda: j.pids(max=-1),
                 lambda: j.delete_to("p", -1), lambda: j.replay("p", max="all")):
        with pytest.raises(ddata.InvalidArgument):
            call()  # not iterated: the error is at the call
    s = ddata.StateStore()
    with pytest.raises(ddata.InvalidArgument):
        s.range("a", count=2**63)
    assert [e.seq for e in j.replay("p")] == [1, 2]
    j.close()
    s.close()


def test_a_sealed_record_read_with_the_wrong_key_raises_at_the_call(tmp_path):
    path = tmp_path / "sealed.db"
    with ddata.Journal("sqlite", path, keyring=ddata.Keyring({1: bytes(32)})) as j:
        j.append("p", 0, ["secret"])
    with ddata.Journal("sqlite", path, keyring=ddata.Keyring({1: bytes([1] * 32)})) as j:
        with pytest.raises(ddata.CryptoError):
            j.replay("p")


def test_key_ids_are_integers_with_a_clear_message():
    with pytest.raises(ddata.InvalidArgument, match=r"key ids are integers 1\.\.2\^32-1"):
        ddata.Keyring({"k1": bytes(32)})
    with pytest.raises(ddata.InvalidArgument, match="key ids"):
        ddata.Keyring({2**32: bytes(32)})
    ring = ddata.Keyring({7: bytes(32)})
    with pytest.raises(ddata.InvalidArgument, match="key ids"):
        ring.set_active(0)
    ring.close()


def test_store_paths_follow_one_rule(tmp_path):
    with pytest.raises(ddata.InvalidArgument, match="takes no path"):
        ddata.StateStore("memory", tmp_path / "ignored.db")
    for backend in ("sqlite", "fs"):
        path = tmp_path / backend / "a" / "b" / "store"
        with ddata.StateStore(backend, path) as s:
            s.upsert("k", state=b"v", expected_revision=ddata.ANY_REVISION)
        assert (tmp_path / backend / "a").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("kind", ["sqlite", "fs"])
def test_store_rekey_moves_a_store_to_a_ring_without_the_old_key(tmp_path, kind):
    path = tmp_path / ("r.db" if kind == "sqlite" else "r")
    old, new = ddata.Keyring({1: KEY1}), ddata.Keyring({2: KEY2})
    with ddata.Journal(kind, path, keyring=old) as j:
        j.append("p", 0, [Event(b"one", 10, ["t"]), Event(b"two", 20)])
    with ddata.StateStore(kind, path, keyring=old) as st:
        st.upsert("k", 0, b"v1")
        st.upsert("k", 1, b"v2")
    assert ddata.store_rekey(kind, path, new, keyring=old) == 3
    with ddata.Journal(kind, path, keyring=new) as j:
        assert [(e.seq, e.payload, e.timestamp_ms, e.tags) for e in j.replay("p")] == [
            (1, b"one", 10, ("t",)), (2, b"two", 20, ())]
    with ddata.StateStore(kind, path, keyring=new) as st:
        assert st.get("k") == (2, b"v2")
    with pytest.raises(ddata.CryptoError):
        ddata.store_rekey(kind, path, new, keyring=old)
    with pytest.raises(TypeError):
        ddata.store_rekey(kind, path, b"\x02" * 32, keyring=new)
