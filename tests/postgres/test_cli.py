#!/usr/bin/env python3
"""The `ddata` command on a PostgreSQL store, against the test server:
`ddata schema postgres` prints the SQL, `ddata node --store postgresql://...`
keeps durable keys on the server (a second node started cold reads what the
first wrote), `ddata inspect postgresql://...` lists them, and `ddata seal
--rekey postgresql://...` moves a sealed store to a new key.

The server's URL comes from DDATA_PG_URL or the file DDATA_PG_URL_FILE names
(the ctest fixture's throwaway server). Standard library only."""
import glob
import os
import shutil
import subprocess
import sys

BIN = os.environ["DDATA_BIN"]


def server_url():
    url = os.environ.get("DDATA_PG_URL")
    if not url:
        with open(os.environ["DDATA_PG_URL_FILE"]) as f:
            url = f.read().strip()
    assert url, "no PostgreSQL server (DDATA_PG_URL or the ctest fixture)"
    return url


def psql():
    found = shutil.which("psql") or sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1:]
    assert found, "psql is needed to make the test's schema"
    return found if isinstance(found, str) else found[0]


def fresh_schema_url(url, schema):
    """Makes an empty schema of this test's own (other tests' records in the
    server's public schema are not durable keys) and returns a URL using it."""
    sql = "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s" % (schema, schema)
    r = subprocess.run([psql(), "-q", "-d", url, "-c", sql], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return url + ("&" if "?" in url else "?") + "options=-csearch_path%3D" + schema


def node(url, name, commands):
    """Runs one `ddata node --control` with the commands; returns its answers."""
    args = [BIN, "node", "--id", name, "--listen", "127.0.0.1:0", "--plaintext", "--control",
            "--store", url, "--durable", "cli:*"]
    r = subprocess.run(args, input="\n".join(commands + ["quit"]) + "\n", capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_schema_prints_the_sql():
    r = subprocess.run([BIN, "schema", "postgres"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "CREATE TABLE ddata_journal" in r.stdout, r.stderr
    r = subprocess.run([BIN, "schema", "sqlite"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2


def test_node_keeps_durable_keys_on_the_server_and_inspect_lists_them():
    url = fresh_schema_url(server_url(), "cli_%d" % os.getpid())
    key = "cli:hits"
    out = node(url, "a", ["inc %s 5" % key, "get %s" % key])
    assert '"value":5' in out[-2], out
    out = node(url, "b", ["get %s" % key])  # a cold start from the store alone
    assert '"value":5' in out[-2], out
    r = subprocess.run([BIN, "inspect", url], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and key in r.stdout, r.stdout + r.stderr


def test_seal_rekey_moves_a_sealed_server_store_to_a_new_key():
    """#17.5: `ddata seal --rekey postgresql://...` rewrites the node's sealed
    records under key id 2; inspect then opens them with the new key only."""
    url = fresh_schema_url(server_url(), "cli_rekey_%d" % os.getpid())
    tmp = os.environ.get("TMPDIR", "/tmp")
    old_key = os.path.join(tmp, "ddata-pg-old-%d.key" % os.getpid())
    new_key = os.path.join(tmp, "ddata-pg-new-%d.key" % os.getpid())
    try:
        for path, fill in ((old_key, 7), (new_key, 9)):
            with open(path, "wb") as f:
                f.write(bytes([fill]) * 32)
        args = [BIN, "node", "--id", "a", "--listen", "127.0.0.1:0", "--plaintext", "--control",
                "--store", url, "--store-key-file", old_key, "--durable", "cli:*"]
        r = subprocess.run(args, input="inc cli:hits 4\nquit\n", capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([BIN, "seal", "--rekey", url, "--key-file", old_key, "--new-key-file",
                            new_key], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "under key id 2" in r.stdout, r.stdout + r.stderr
        r = subprocess.run([BIN, "inspect", url, "--key", "cli:hits", "--key-file", old_key],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, r.stdout + r.stderr
        r = subprocess.run([BIN, "inspect", url, "--key", "cli:hits", "--key-file", new_key,
                            "--key-id", "2"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and '"value":4' in r.stdout, r.stdout + r.stderr
    finally:
        for path in (old_key, new_key):
            if os.path.exists(path):
                os.unlink(path)


def main():
    failed = 0
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                print("ok   " + name)
            except Exception as e:  # report every test, then fail
                failed += 1
                print("FAIL %s: %r" % (name, e))
    print("%d passed, %d failed" % (sum(1 for n in globals() if n.startswith("test_")) - failed,
                                    failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
