#!/usr/bin/env python3
"""Integration tests: real `ddata node --control` processes on loopback.

Each test starts its own nodes (ports picked by the kernel, SQLite stores
in a fresh temporary directory), drives them through the line protocol of
`ddata node --control`, and stops every process it started, whatever
happens. Every wait has a deadline and every test an alarm, so a hang is a
failure, never a stuck run. Only the standard library is used; the binary
comes from DDATA_BIN (set by tests/integration/suite.cmake).

Run one test: DDATA_BIN=build/ddata python3 tests/integration/test_cluster.py NAME
"""
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("DDATA_BIN", "build/ddata")
SEED = int(os.environ.get("DD_SEED", str(int(time.time()))))
# Sanitizer builds are several times slower; deadlines scale with them.
SLOW = float(os.environ.get("DDATA_TIME_SCALE", "1"))

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


class Node:
    def __init__(self, tmp, name, seeds=(), listen="127.0.0.1:0", key=KEY_A, durable=("d:*",),
                 store_key=None, extra=()):
        self.tmp, self.name, self.seeds, self.key = tmp, name, list(seeds), key
        self.extra = list(extra)
        self.store_key = store_key
        self.durable = list(durable)
        self.listen = listen
        self.proc = None
        self.buf = b""
        self.start()

    def start(self):
        key_file = os.path.join(self.tmp, "%s.key" % self.name)
        with open(key_file, "wb") as f:
            f.write(self.key)
        args = [BIN, "node", "--control", "--id", self.name, "--listen", self.listen,
                "--key-file", key_file, "--store", os.path.join(self.tmp, self.name + ".db"),
                "--gossip-ms", "100"]
        for s in self.seeds:
            args += ["--seed", s]
        for d in self.durable:
            args += ["--durable", d]
        args += self.extra
        if self.store_key:
            store_key_file = os.path.join(self.tmp, "%s.store.key" % self.name)
            with open(store_key_file, "wb") as f:
                f.write(self.store_key)
            args += ["--store-key-file", store_key_file]
        self.log = open(os.path.join(self.tmp, self.name + ".log"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.buf = b""
        line = self.read_line(10)
        assert line.startswith("ready "), "%s did not start: %r" % (self.name, line)
        self.addr = line[6:]
        self.listen = self.addr  # a restart comes back on the same address

    def read_line(self, timeout=5):
        deadline = time.monotonic() + timeout * SLOW
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: no answer within %.1f s" % (self.name, timeout * SLOW))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError("%s exited (status %s)" % (self.name, self.proc.poll()))
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def ask(self, line, timeout=5):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        return self.read_line(timeout)

    def ok(self, line):
        answer = self.ask(line)
        assert answer == "ok", "%s: %r answered %r" % (self.name, line, answer)

    def get(self, key):
        answer = self.ask("get " + key)
        return None if answer == "null" else json.loads(answer)["value" if "PNCounter" in answer
                                                                 else "elements"]

    def members(self):
        return json.loads(self.ask("members"))

    def stats(self):
        return json.loads(self.ask("stats"))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                # stop() raced a node exiting by itself (after `quit`): the
                # line it could not send stays buffered and close flushes it
                pass
            self.proc.stdout.close()
        self.log.close()
        self.proc = None

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
                self.ask("quit", 3)
                self.proc.wait(5 * SLOW)
            except Exception:
                pass
        self.kill()


class Cluster:
    """Starts nodes in a temporary directory and stops them all on exit."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="ddata-it-")
        self.nodes = []
        self.failed = False

    def __enter__(self):
        return self

    def add(self, name, **kw):
        n = Node(self.tmp, name, **kw)
        self.nodes.append(n)
        return n

    def __exit__(self, exc_type, exc, tb):
        for n in self.nodes:
            n.stop()
        if exc_type is None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("  logs kept in %s" % self.tmp)
        return False


def wait_until(what, cond, timeout):
    deadline = time.monotonic() + timeout * SLOW
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last is True:
            return
        time.sleep(0.02)
    raise AssertionError("%s: not within %.1f s (last: %r)" % (what, timeout * SLOW, last))


def agree(nodes, key, want):
    def cond():
        got = [n.get(key) for n in nodes]
        return True if all(g == want for g in got) else got
    return cond


def wait_up(nodes, timeout=10):
    for n in nodes:
        others = {m.name for m in nodes if m is not n}
        wait_until("%s sees %s up" % (n.name, sorted(others)),
                   lambda n=n, others=others: True if all(n.members().get(o) == "up"
                                                          for o in others) else n.members(),
                   timeout)


def start_cluster(c, count, **kw):
    first = c.add("n1", **kw)
    for i in range(2, count + 1):
        c.add("n%d" % i, seeds=[first.addr], **kw)
    wait_up(c.nodes)
    return c.nodes


# ---- tests ----

def test_five_nodes_converge_on_concurrent_updates():
    with Cluster() as c:
        nodes = start_cluster(c, 5)
        for rnd in range(10):
            for i, n in enumerate(nodes):
                n.proc.stdin.write(("inc d:count %d\nadd d:set e%d-%d\n" % (i + 1, i, rnd)).encode())
                n.proc.stdin.flush()
            for n in nodes:
                assert n.read_line() == "ok" and n.read_line() == "ok"
        wait_until("count agrees", agree(nodes, "d:count", 10 * 15), 10)
        want = sorted("e%d-%d" % (i, r) for i in range(5) for r in range(10))
        wait_until("set agrees", agree(nodes, "d:set", want), 10)
        peers = nodes[0].stats()["peers"]
        assert any(p["delta_frames_out"] > 0 for p in peers), peers


def test_kill9_and_restart_keeps_durable_keys():
    with Cluster() as c:
        n1, n2, n3 = start_cluster(c, 3)
        n3.ok("inc d:count 5")
        n1.ok("inc d:count 7")
        n3.ok("add d:set x")
        wait_until("agree before the kill", agree([n1, n2, n3], "d:count", 12), 10)
        wait_until("set before the kill", agree([n1, n2, n3], "d:set", ["x"]), 10)
        n3.kill()
        n1.ok("inc d:count 100")
        n3.start()
        # Durable keys come from n3's own store, before or without peers.
        assert n3.get("d:count") in (12, 112), n3.get("d:count")
        assert n3.get("d:set") == ["x"]
        wait_until("agree after the restart", agree([n1, n2, n3], "d:count", 112), 10)
        wait_up([n1, n2, n3])


def test_full_cluster_restart_keeps_durable_keys_only():
    with Cluster() as c:
        nodes = start_cluster(c, 3)
        for i, n in enumerate(nodes):
            n.ok("inc d:count %d" % (i + 1))
            n.ok("inc volatile %d" % (i + 1))
        wait_until("agree", agree(nodes, "d:count", 6), 10)
        wait_until("agree volatile", agree(nodes, "volatile", 6), 10)
        for n in nodes:
            n.kill()
        for n in nodes:
            n.start()
        for n in nodes:
            assert n.get("d:count") == 6, (n.name, n.get("d:count"))
            assert n.get("volatile") is None, (n.name, n.get("volatile"))
        wait_up(nodes)
        nodes[1].ok("inc d:count 1")
        wait_until("agree after the restart", agree(nodes, "d:count", 7), 10)


def test_partition_by_sigstop_heals_and_converges():
    with Cluster() as c:
        n1, n2, n3 = start_cluster(c, 3)
        n3.ok("inc d:count 1")
        wait_until("agree", agree([n1, n2, n3], "d:count", 1), 10)
        n3.signal(signal.SIGSTOP)
        try:
            for _ in range(20):
                n1.ok("inc d:count 1")
                n2.ok("add d:set during")
            wait_until("n1 sees n3 unreachable",
                       lambda: True if n1.members().get("n3") in ("unreachable", "down")
                       else n1.members(), 10)
            wait_until("majority side agrees", agree([n1, n2], "d:count", 21), 10)
        finally:
            n3.signal(signal.SIGCONT)
        wait_until("healed", agree([n1, n2, n3], "d:count", 21), 10)
        wait_until("healed set", agree([n1, n2, n3], "d:set", ["during"]), 10)
        wait_up([n1, n2, n3], 15)


def test_wrong_secret_is_refused_and_learns_nothing():
    with Cluster() as c:
        n1, n2 = start_cluster(c, 2)
        n1.ok("inc d:secret 42")
        wait_until("agree", agree([n1, n2], "d:secret", 42), 10)
        bad = c.add("intruder", seeds=[n1.addr, n2.addr], key=KEY_B)
        time.sleep(1.5 * SLOW)
        assert bad.get("d:secret") is None
        assert bad.members() == {}, bad.members()
        assert "intruder" not in n1.members()
        t = n1.stats()["transport"]
        assert t["handshake_failures"] > 0 and t["rejected_connections"] > 0, t
        assert all(p["node"] != "intruder" for p in n1.stats()["peers"])


def test_garbage_half_open_and_slow_senders_do_not_stall_a_node():
    rng = random.Random(SEED)
    with Cluster() as c:
        n1, n2 = start_cluster(c, 2)
        host, port = n1.addr.rsplit(":", 1)
        port = int(port)
        socks = []
        try:
            for _ in range(20):  # random bytes, then closed
                s = socket.create_connection((host, port), timeout=2)
                try:
                    s.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))
                except OSError:
                    pass  # the node may already have closed it
                s.close()
            for _ in range(10):  # half-open: connect and say nothing
                socks.append(socket.create_connection((host, port), timeout=2))
            slow = socket.create_connection((host, port), timeout=2)
            socks.append(slow)
            huge = socket.create_connection((host, port), timeout=2)
            huge.sendall(b"\xff\xff\xff\xff")  # a frame length past any cap
            socks.append(huge)
            deadline = time.monotonic() + 2 * SLOW
            count = 0
            # A slow sender: a plausible frame (length 64, little-endian),
            # one byte every 50 ms, until the handshake deadline closes it.
            trickle = b"\x40\x00\x00\x00" + bytes(rng.getrandbits(8) for _ in range(64))
            while time.monotonic() < deadline:
                try:
                    if count < len(trickle):
                        slow.send(trickle[count:count + 1])
                except OSError:
                    pass  # closed by the node: it must still serve everyone else
                n1.ok("inc d:count 1")
                count += 1
                time.sleep(0.05)
            wait_until("still converging", agree([n1, n2], "d:count", count), 10)
        finally:
            for s in socks:
                s.close()
        t = n1.stats()["transport"]
        assert t["rejected_connections"] >= 20, t
        n2.ok("inc d:count 1")
        wait_until("still converging after", agree([n1, n2], "d:count", count + 1), 10)


def keygen(path):
    out = subprocess.run([BIN, "keygen", path], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()[1]


def test_node_keys_allow_list_refuses_until_sighup_reloads_it():
    with Cluster() as c:
        paths = {n: os.path.join(c.tmp, n + ".node") for n in ("a", "b", "c")}
        keys = {n: keygen(p) for n, p in paths.items()}
        assert os.stat(paths["a"]).st_mode & 0o777 == 0o600
        again = subprocess.run([BIN, "keygen", paths["a"]], capture_output=True, text=True)
        assert again.returncode != 0 and "cannot create" in again.stderr, again.stderr
        allow = os.path.join(c.tmp, "a.peers")
        with open(allow, "w") as f:
            f.write("# only c for now\n%s c\n" % keys["c"])
        a = c.add("a", extra=["--node-key", paths["a"], "--peer-keys", allow])
        b = c.add("b", seeds=[a.addr], extra=["--node-key", paths["b"]])
        wait_until("a refuses b's key", lambda: a.stats()["transport"]["refused_peers"] >= 1, 10)
        assert a.members().get("b") != "up"
        with open(allow, "w") as f:
            f.write("%s c\n%s b\n" % (keys["c"], keys["b"]))
        a.signal(signal.SIGHUP)
        wait_up([a, b])
        peer = [p for p in a.stats()["peers"] if p["node"] == "b"][0]
        assert peer["key"] == keys["b"], peer

        def logged():
            with open(os.path.join(c.tmp, "a.log")) as f:
                text = f.read()
            return True if ", key %s)" % keys["b"][:16] in text else text
        wait_until("a logs b's key fingerprint with its membership", logged, 10)


def inspect(*args):
    r = subprocess.run([BIN, "inspect"] + list(args), capture_output=True, timeout=30 * SLOW)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def test_inspect_lists_and_decodes_a_node_store():
    with Cluster() as c:
        (n1,) = start_cluster(c, 1)
        n1.ok("inc d:count 5")
        n1.ok("add d:set hello")
        n1.ok("inc volatile 1")
        n1.stop()
        db = os.path.join(c.tmp, "n1.db")
        rc, out, err = inspect(db, "--json")
        assert rc == 0, err
        keys = [json.loads(line) for line in out.splitlines()]
        assert [k["key"] for k in keys] == ["dd/replica/d:count", "dd/replica/d:set"], keys
        rc, out, err = inspect(db, "--key", "d:count", "--json")
        assert rc == 0, err
        rec = json.loads(out)
        assert rec["replica"]["crdt"]["value"] == {"type": "PNCounter", "value": 5}, rec
        rc, out, err = inspect(db, "--key", "volatile")
        assert rc == 1 and "no state key" in err, (rc, err)
        junk = os.path.join(c.tmp, "junk.db")
        with open(junk, "wb") as f:
            f.write(bytes(random.Random(SEED).getrandbits(8) for _ in range(8192)))
        rc, out, err = inspect(junk)
        assert rc == 2 and "not a ddata store" in err, (rc, err)
        rc, out, err = inspect(os.path.join(c.tmp, "missing.db"))
        assert rc == 1 and "No such file" in err, (rc, err)
        assert not os.path.exists(os.path.join(c.tmp, "missing.db"))
        rc, out, err = inspect("--help")
        assert rc == 0 and "usage: ddata inspect" in out


def test_inspect_opens_a_sealed_store_only_with_its_key():
    with Cluster() as c:
        (n1,) = start_cluster(c, 1, store_key=KEY_B)
        n1.ok("inc d:count 9")
        n1.stop()
        db = os.path.join(c.tmp, "n1.db")
        rc, out, err = inspect(db, "--key", "d:count", "--json")
        assert rc == 1 and "--key-file" in err, (rc, err)
        rc, out, err = inspect(db, "--key", "d:count", "--json", "--key-file",
                               os.path.join(c.tmp, "n1.key"))  # the cluster key: wrong
        assert rc == 1 and "wrong key" in err, (rc, err)
        rc, out, err = inspect(db, "--key", "d:count", "--json", "--key-file",
                               os.path.join(c.tmp, "n1.store.key"))
        assert rc == 0, err
        assert json.loads(out)["replica"]["crdt"]["value"]["value"] == 9, out
        n1.start()  # the node reopens its sealed store
        assert n1.get("d:count") == 9


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "stores", "v1")


def tree_digest(root):
    """Every file and directory under root (or the file root) with a hash of
    its bytes: what inspecting must leave exactly as it was."""
    import hashlib
    if os.path.isfile(root):
        return {root: hashlib.sha256(open(root, "rb").read()).hexdigest()}
    out = {}
    for d, dirs, files in os.walk(root):
        out[d] = "dir"
        for f in files:
            p = os.path.join(d, f)
            out[p] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def migrate(path):
    """`ddata migrate`: the writable open that upgrades a fixture's format."""
    r = subprocess.run([BIN, "migrate", path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (path, r.stderr)


def test_inspect_writes_nothing_and_refuses_what_is_not_a_store():
    """#17.4: inspect opens read-only; an ordinary folder or a 0-byte file
    is refused with exit code 2 and left as it was (it used to gain
    journal/ snapshots/ state/ lock, or a schema)."""
    tmp = tempfile.mkdtemp(prefix="ddata-inspect-")
    try:
        for name in ("sqlite", "fs"):
            store = os.path.join(tmp, name)
            shutil.copytree(os.path.join(FIXTURES, name), store)
            target = os.path.join(store, "store.db") if name == "sqlite" else store
            if name == "sqlite":  # a format-1 fixture: read-only opens refuse an old schema
                rc, out, err = inspect(target)
                assert rc == 1 and "to migrate" in err, (rc, err)
                migrate(target)
            before = tree_digest(store)
            rc, out, err = inspect(target, "--json")
            assert rc == 0, (name, err)
            assert b"orders" in out.encode(), out
            rc, out, err = inspect(target, "--pid", "orders")
            assert rc == 0, (name, err)
            assert tree_digest(store) == before, name
        folder = os.path.join(tmp, "folder")
        os.mkdir(folder)
        rc, out, err = inspect(folder)
        assert rc == 2 and "not a ddata store" in err, (rc, err)
        assert os.listdir(folder) == []
        empty = os.path.join(tmp, "empty.db")
        open(empty, "wb").close()
        rc, out, err = inspect(empty)
        assert rc == 2 and "not a ddata store" in err, (rc, err)
        assert os.path.getsize(empty) == 0
    finally:
        shutil.rmtree(tmp)


def test_inspect_not_found_is_one_rule_and_sealed_data_asks_for_the_key():
    """#17.5, #17.6: --pid nope exits 1 like --key nope (it printed
    'highest sequence number: 0' and exited 0); a sealed journal without
    --key-file says so and exits 1 (it printed the ciphertext)."""
    tmp = tempfile.mkdtemp(prefix="ddata-inspect-")
    try:
        db = os.path.join(tmp, "store.db")
        shutil.copy(os.path.join(FIXTURES, "sqlite", "store.db"), db)
        migrate(db)
        rc, out, err = inspect(db, "--pid", "nope")
        assert rc == 1 and "no persistence id 'nope'" in err, (rc, out, err)
        rc, out, err = inspect(db, "--key", "nope")
        assert rc == 1 and "no state key 'nope'" in err, (rc, out, err)
        sealed = os.path.join(tmp, "sealed.db")
        shutil.copy(os.path.join(FIXTURES, "sqlite-sealed", "store.db"), sealed)
        migrate(sealed)
        rc, out, err = inspect(sealed, "--pid", "orders")
        assert rc == 1 and "sealed" in err and "--key-file" in err and not out, (rc, out, err)
        key = os.path.join(tmp, "fixture.key")
        with open(key, "wb") as f:
            f.write(bytes(i * 3 + 5 for i in range(32)))
        rc, out, err = inspect(sealed, "--pid", "orders", "--key-file", key, "--key-id", "7")
        assert rc == 0, err
        r = subprocess.run([BIN, "--version"], capture_output=True, timeout=30)
        assert r.returncode == 0 and r.stdout.startswith(b"ddata "), r
    finally:
        shutil.rmtree(tmp)


def test_backup_of_a_live_store_restores_and_replays():
    """#17.5: `ddata backup` copies a store while its node keeps writing;
    a node started on the copy serves what was written before the copy,
    and `ddata export` reads it; an fs store copies under its lock."""
    with Cluster() as c:
        (n1,) = start_cluster(c, 1)
        for i in range(50):
            n1.ok("inc d:count 1")
        src = os.path.join(c.tmp, "n1.db")
        backups = []
        for b in range(3):  # each copy made while the node goes on writing
            dest = os.path.join(c.tmp, "copy%d.db" % b)
            proc = subprocess.Popen([BIN, "backup", src, dest], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            while proc.poll() is None:
                n1.ok("inc d:count 1")
            out, err = proc.communicate()
            assert proc.returncode == 0, err
            backups.append(dest)
        written = n1.get("d:count")
        n1.stop()
        again = subprocess.run([BIN, "backup", src, backups[0]], capture_output=True, timeout=30)
        assert again.returncode == 2 and b"never overwrites" in again.stderr, again
        for dest in backups:
            restored = os.path.join(c.tmp, "r.db")
            if os.path.exists(restored):
                os.remove(restored)
            shutil.copy(dest, restored)
            r = c.add("r")
            value = r.get("d:count")
            assert 50 <= value <= written, (value, written)
            r.stop()
            c.nodes.remove(r)
            exported = subprocess.run([BIN, "export", dest], capture_output=True, timeout=30)
            assert exported.returncode == 0 and b"dd/replica/d:count" in exported.stdout, exported
    tmp = tempfile.mkdtemp(prefix="ddata-backup-")
    try:
        src = os.path.join(tmp, "fs")
        shutil.copytree(os.path.join(FIXTURES, "fs"), src)
        dest = os.path.join(tmp, "copy")
        r = subprocess.run([BIN, "backup", src, dest], capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        a = subprocess.run([BIN, "export", src], capture_output=True, timeout=30)
        b = subprocess.run([BIN, "export", dest], capture_output=True, timeout=30)
        assert a.returncode == 0 and a.stdout == b.stdout and b"orders" in a.stdout, (a, b)
    finally:
        shutil.rmtree(tmp)


def seal(*args):
    r = subprocess.run([BIN, "seal"] + list(args), capture_output=True, timeout=30 * SLOW)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def test_seal_rekey_moves_a_node_store_to_a_new_key_and_the_node_reopens_it():
    """#17.5: `ddata seal --rekey` rewrites a sealed node store under key id 2;
    key 1 then opens nothing, a wrong old key changes nothing, and the node
    restarted with only the new key (--store-key-id 2) has its durable keys."""
    with Cluster() as c:
        (n1,) = start_cluster(c, 1, store_key=KEY_B)
        n1.ok("inc d:count 9")
        n1.ok("add d:set x")
        n1.stop()
        db = os.path.join(c.tmp, "n1.db")
        old_key = os.path.join(c.tmp, "n1.store.key")
        new_key = os.path.join(c.tmp, "new.store.key")
        with open(new_key, "wb") as f:
            f.write(bytes(range(100, 132)))
        rc, out, err = seal("--rekey", db, "--key-file", os.path.join(c.tmp, "n1.key"),
                            "--new-key-file", new_key)  # the cluster key: wrong
        assert rc == 1 and "nothing was changed" in err, (rc, err)
        rc, out, err = inspect(db, "--key", "d:count", "--json", "--key-file", old_key)
        assert rc == 0, err
        rc, out, err = seal("--rekey", db, "--key-file", old_key, "--new-key-file", new_key)
        assert rc == 0 and "under key id 2" in out, (rc, out, err)
        rc, out, err = inspect(db, "--key", "d:count", "--json", "--key-file", old_key)
        assert rc == 1 and "wrong key" in err, (rc, err)
        rc, out, err = inspect(db, "--key", "d:count", "--json", "--key-file", new_key,
                               "--key-id", "2")
        assert rc == 0, err
        assert json.loads(out)["replica"]["crdt"]["value"]["value"] == 9, out
        rc, out, err = seal("--rekey", os.path.join(c.tmp, "missing.db"), "--new-key-file", new_key)
        assert rc == 1 and "No such file" in err, (rc, err)
        rc, out, err = seal(db, "--new-key-file", new_key)
        assert rc == 2 and "--rekey" in err, (rc, err)
        rc, out, err = seal("--help")
        assert rc == 0 and "usage: ddata seal --rekey" in out, out
        n1.store_key = bytes(range(100, 132))
        n1.extra = list(n1.extra) + ["--store-key-id", "2"]
        n1.start()
        assert n1.get("d:count") == 9
        assert n1.get("d:set") == ["x"]


def test_options_take_the_getopt_forms_and_usage_errors_exit_2():
    """#16.9: options are parsed with getopt_long from each command's table:
    --name=VALUE and options after the operand work, an unknown option or a
    missing value is exit 2 naming it, and --help lists the table."""
    with Cluster() as c:
        (n1,) = start_cluster(c, 1)
        n1.ok("inc d:count 3")
        n1.stop()
        db = os.path.join(c.tmp, "n1.db")
        rc, out, err = inspect("--key=d:count", "--json", db)
        assert rc == 0, err
        assert json.loads(out)["replica"]["crdt"]["value"]["value"] == 3, out
        rc, out, err = inspect("--json", "--", db)  # after "--", operands only
        assert rc == 0 and "dd/replica/d:count" in out, (rc, err)
        rc, out, err = inspect(db, "--bogus")
        assert rc == 2 and "unknown option '--bogus'" in err, (rc, err)
        rc, out, err = inspect(db, "--pid")
        assert rc == 2 and "'--pid' needs a value" in err, (rc, err)
        rc, out, err = inspect("--help")
        assert rc == 0 and "--max N" in out and "--json" in out, out
        r = subprocess.run([BIN, "export", "--key-id=1", db], capture_output=True, timeout=30)
        assert r.returncode == 0 and b"dd/replica/d:count" in r.stdout, r


def test_the_first_node_of_a_fresh_cluster_lists_itself():
    """#17.11: `members` on the node that starts a cluster lists it (it was
    empty until a peer joined)."""
    with Cluster() as c:
        (n1,) = start_cluster(c, 1)
        wait_until("n1 lists itself", lambda: n1.members().get("n1") == "up", 10)



def test_quit_leaves_and_the_others_see_the_node_removed_at_once():
    """#17.11: `quit` calls dd_system_leave. A stopped node is removed by
    the failure detector only after down_after_ms (10 s) plus
    remove_after_ms (5 min), so within the 10 s waited here the survivors
    can only see n3 removed through its announcement."""
    with Cluster() as c:
        n1, n2, n3 = start_cluster(c, 3)
        n3.ok("inc before-quit 3")
        wait_until("all read 3", agree([n1, n2, n3], "before-quit", 3), 10)
        assert n3.ask("quit", 5) == "bye"
        for n in (n1, n2):
            wait_until("%s sees n3 removed" % n.name,
                       lambda n=n: True if n.members().get("n3") == "removed" else n.members(), 10)
        assert n1.get("before-quit") == 3


def test_seed_node_that_quit_comes_back_and_rejoins():
    """#17.11: the others stop dialling a node that left, but not their
    seed's address: the first node (it has no seeds of its own) quits,
    restarts on the same address and is up everywhere again."""
    with Cluster() as c:
        n1, n2, n3 = start_cluster(c, 3)
        assert n1.ask("quit", 5) == "bye"
        n1.proc.wait(5)
        for n in (n2, n3):
            wait_until("%s sees n1 removed" % n.name,
                       lambda n=n: True if n.members().get("n1") == "removed" else n.members(), 10)
        n1.kill()
        n1.start()
        wait_up([n1, n2, n3], 20)
        n1.ok("inc back 1")
        wait_until("all read 1", agree([n1, n2, n3], "back", 1), 10)

TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def run_tests(tests):
    """Runs `tests` (or the ones named on the command line), each under a
    90 s alarm, a failure not hiding the others; 1 if any failed."""
    only = set(sys.argv[1:])
    failed = passed = 0
    for t in tests:
        if only and t.__name__ not in only:
            continue
        signal.alarm(int(90 * SLOW))
        start = time.monotonic()
        try:
            t()
            passed += 1
            print("ok   %s (%.1f s)" % (t.__name__, time.monotonic() - start))
        except Exception as e:  # one failing test must not hide the others
            failed += 1
            print("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e))
        finally:
            signal.alarm(0)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    if not os.access(BIN, os.X_OK):
        print("skipped: DDATA_BIN=%s is not an executable" % BIN)
        return 0
    print("seed %d (DD_SEED=%d to replay)" % (SEED, SEED))
    return run_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
