"""Node identities of the TCP transport through the Python package: key
files, the allow-list at open and its reload, over real loopback sockets."""
import os
import stat
import time

import pytest

import ddata

SECRET = bytes(range(ddata.SECRET_BYTES))


def tcp(node_id, **kw):
    return ddata.System(node_id, transport="tcp", listen_address="127.0.0.1:0", secret=SECRET, **kw)


def until(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def connected(node, peer_id):
    return any(p["node"] == peer_id and p["connected"] for p in node.stats().get("peers", []))


def test_generated_key_file_is_private_and_is_the_nodes_identity(tmp_path):
    path = tmp_path / "a.key"
    public = ddata.generate_node_key(str(path))
    assert len(public) == ddata.KEY_BYTES
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(ddata.Conflict):
        ddata.generate_node_key(str(path))
    with tcp("a", node_key_file=str(path)) as a:
        assert a.public_key == public
    os.chmod(path, 0o644)
    with pytest.raises(ddata.InvalidArgument, match="chmod 600"):
        tcp("a", node_key_file=str(path))


def test_unlisted_key_is_refused_until_set_peer_keys_admits_it():
    stranger = bytes(32)
    a = tcp("a", peer_keys=[(b"\x01" * 32, "nobody")])
    b = tcp("b", seeds=[a.listen_address])
    ra, rb = a.replica(), b.replica()
    try:
        assert until(lambda: a.stats()["transport"]["refused_peers"] >= 1)
        assert not connected(a, "b")
        a.set_peer_keys([(b.public_key, "b")])
        assert until(lambda: connected(a, "b"))
        peer = [p for p in a.stats()["peers"] if p["node"] == "b"][0]
        assert bytes.fromhex(peer["key"]) == b.public_key
        a.set_peer_keys([stranger])
        assert until(lambda: not connected(a, "b"))
    finally:
        for x in (ra, rb, a, b):
            x.close()
