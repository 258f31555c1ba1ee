"""cffi build script: compiles ddata._ddata in API mode against libddata.

Where the library comes from, in order:

1. DDATA_BUILD_DIR=<dir>: an existing CMake build of this checkout
   (`make test` passes its own, so the library is not compiled twice).
2. csrc/ beside this file: the C sources an sdist carries (copied in by
   tools/dist/vendor.sh when the sdist is made). They are compiled into the
   extension itself with the compiler setuptools uses, so building needs no
   CMake and the wheel needs no libddata.so; the dependencies come from
   pkg-config (the -dev packages of sqlite3 libsodium zlib libcjson).
   DDATA_SYSTEM=1 skips this and asks for an installed library instead.
3. An installed libddata found by pkg-config, but only when its ddata.h is
   the same as this checkout's (or there is no checkout): a different
   header would not match the generated declarations in _cdef.py.
4. This checkout, built with CMake into python/build/ddata-cmake and linked
   statically, with its dependencies from pkg-config (sqlite3 libsodium libpq
   zlib libcjson), so the extension needs no libddata.so at run time.

The C shims below (ddpy_*) exist for speed only: they fill a dd_op on the C
stack so a hot call such as counter.increment(3) is one crossing into C
instead of several attribute writes on a cffi struct. They contain no
behaviour beyond packing arguments.
"""
import os
import pathlib
import shlex
import subprocess
import sys

from cffi import FFI

HERE = pathlib.Path(os.path.abspath(globals().get("__file__", "ddata_build.py"))).parent
ROOT = HERE.parent
VENDORED = HERE / "csrc"
TREE_HEADER = ROOT / "abi" / "include" / "ddata.h"
if (VENDORED / "abi" / "include" / "ddata.h").exists():
    TREE_HEADER = VENDORED / "abi" / "include" / "ddata.h"
DEPS = ["sqlite3", "libsodium", "zlib", "libcjson"]
# Linked as a shared library: Debian's libpq.pc names static archives
# (pgcommon, pgport) that only the server's -dev package ships.
SHARED_DEPS = ["libpq"]

SHIMS = r"""
/* The flat op of the Python fast paths below: no nesting, no value type. */
static dd_op ddpy_op(uint32_t kind, uint64_t amount, const uint8_t *key, size_t key_len,
                     const uint8_t *value, size_t value_len)
{
    dd_op op = DD_OP_INIT;
    op.kind = kind;
    op.amount = amount;
    op.key = key;
    op.key_len = key_len;
    op.value = value;
    op.value_len = value_len;
    return op;
}

static int ddpy_apply(dd_crdt *v, uint32_t kind, uint64_t amount, const uint8_t *key, size_t key_len,
                      const uint8_t *value, size_t value_len, uint64_t actor, uint64_t now_ms,
                      dd_crdt **delta_out)
{
    dd_op op = ddpy_op(kind, amount, key, key_len, value, value_len);
    return dd_crdt_apply(v, &op, actor, now_ms, delta_out);
}

static int ddpy_replica_update(dd_replica *r, const uint8_t *key, size_t key_len, uint32_t type,
                               uint32_t kind, uint64_t amount, const uint8_t *op_key,
                               size_t op_key_len, const uint8_t *value, size_t value_len)
{
    dd_op op = ddpy_op(kind, amount, op_key, op_key_len, value, value_len);
    return dd_replica_update(r, key, key_len, type, &op);
}

static int ddpy_replica_count(dd_replica *r, const uint8_t *key, size_t key_len, uint32_t type,
                              uint32_t kind, uint64_t amount)
{
    dd_op op = ddpy_op(kind, amount, NULL, 0, NULL, 0);
    return dd_replica_update(r, key, key_len, type, &op);
}
"""

SHIM_CDEF = r"""
int ddpy_apply(dd_crdt *v, uint32_t kind, uint64_t amount, const uint8_t *key, size_t key_len,
               const uint8_t *value, size_t value_len, uint64_t actor, uint64_t now_ms,
               dd_crdt **delta_out);
int ddpy_replica_update(dd_replica *r, const uint8_t *key, size_t key_len, uint32_t type,
                        uint32_t kind, uint64_t amount, const uint8_t *op_key, size_t op_key_len,
                        const uint8_t *value, size_t value_len);
int ddpy_replica_count(dd_replica *r, const uint8_t *key, size_t key_len, uint32_t type,
                       uint32_t kind, uint64_t amount);
extern "Python" int ddpy_on_snapshot(void *ctx, uint64_t seq, const uint8_t *state, size_t len);
extern "Python" int ddpy_on_event(void *ctx, const dd_journal_event *ev);
extern "Python" int ddpy_be_append(void *, const uint8_t *, size_t, uint64_t, const dd_backend_event *, size_t);
extern "Python" int ddpy_be_replay(void *, const uint8_t *, size_t, uint64_t, uint64_t, uint64_t, dd_backend_event_fn, void *);
extern "Python" int ddpy_be_highest(void *, const uint8_t *, size_t, uint64_t *);
extern "Python" int ddpy_be_deleted_to(void *, const uint8_t *, size_t, uint64_t *);
extern "Python" int ddpy_be_delete_to(void *, const uint8_t *, size_t, uint64_t);
extern "Python" int ddpy_be_pids(void *, const uint8_t *, size_t, uint64_t, dd_backend_key_fn, void *);
extern "Python" int ddpy_be_by_tag(void *, const uint8_t *, size_t, uint64_t, uint64_t, dd_backend_event_fn, void *);
extern "Python" int ddpy_be_snapshot_save(void *, const uint8_t *, size_t, uint64_t, uint64_t, const uint8_t *, size_t);
extern "Python" int ddpy_be_snapshot_find(void *, const uint8_t *, size_t, const dd_snapshot_criteria *, dd_backend_snapshot_fn, void *);
extern "Python" int ddpy_be_snapshot_delete(void *, const uint8_t *, size_t, const dd_snapshot_criteria *);
extern "Python" int ddpy_be_snapshot_prune(void *, const uint8_t *, size_t, uint64_t);
extern "Python" int ddpy_be_state_upsert(void *, const uint8_t *, size_t, uint64_t, const uint8_t *, size_t, uint64_t *);
extern "Python" int ddpy_be_state_get(void *, const uint8_t *, size_t, dd_backend_state_fn, void *);
extern "Python" int ddpy_be_state_delete(void *, const uint8_t *, size_t, uint64_t);
extern "Python" int ddpy_be_state_scan(void *, const uint8_t *, size_t, dd_backend_state_fn, void *);
extern "Python" int ddpy_be_state_range(void *, const uint8_t *, size_t, int64_t, dd_backend_state_fn, void *);
extern "Python" int ddpy_be_state_purge(void *);
extern "Python" void ddpy_be_close(void *);
extern "Python" int ddpy_be_new(void **, void *);
extern "Python" uint64_t ddpy_wall_clock(void *ctx);
"""


def _cdef():
    scope = {}
    exec(compile((HERE / "ddata" / "_cdef.py").read_text(), "_cdef.py", "exec"), scope)
    return scope["CDEF"]


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def _split_flags(flags):
    kw = {"include_dirs": [], "library_dirs": [], "libraries": [], "extra_link_args": []}
    for f in flags:
        if f.startswith("-I"):
            kw["include_dirs"].append(f[2:])
        elif f.startswith("-L"):
            kw["library_dirs"].append(f[2:])
        elif f.startswith("-l"):
            kw["libraries"].append(f[2:])
        else:
            kw["extra_link_args"].append(f)
    return kw


def _static_from(build_dir):
    lib = pathlib.Path(build_dir) / "libddata.a"
    if not lib.exists():
        sys.exit("ddata: %s not found (build the library first)" % lib)
    deps = _pkg_config("--libs", "--static", *DEPS)
    shared = _pkg_config("--libs", *SHARED_DEPS)
    if deps is None or shared is None:
        sys.exit("ddata: pkg-config cannot find %s; install the -dev packages" % " ".join(DEPS + SHARED_DEPS))
    deps = deps + shared
    kw = _split_flags(deps)
    kw["include_dirs"].append(str(TREE_HEADER.parent))
    kw["extra_objects"] = [str(lib)]
    # setuptools relinks only when a dependency is newer than the extension:
    # without this a rebuilt libddata.a left a stale extension in place.
    kw["depends"] = [str(lib)]
    return kw


def _installed():
    if os.environ.get("DDATA_FROM_SOURCE") == "1":
        return None
    cflags = _pkg_config("--cflags-only-I", "ddata")
    libs = _pkg_config("--libs", "ddata")
    if cflags is None or libs is None:
        return None
    inc = [f[2:] for f in cflags] + ["/usr/local/include", "/usr/include"]
    header = next((pathlib.Path(d) / "ddata.h" for d in inc if (pathlib.Path(d) / "ddata.h").exists()), None)
    if header is None:
        return None
    if TREE_HEADER.exists() and header.read_bytes() != TREE_HEADER.read_bytes():
        print("ddata: installed %s differs from this checkout's; building from source" % header)
        return None
    kw = _split_flags(cflags + libs)
    kw["runtime_library_dirs"] = list(kw["library_dirs"])
    return kw


def _build_tree():
    if not (ROOT / "CMakeLists.txt").exists() or not TREE_HEADER.exists():
        sys.exit("ddata: no installed libddata (pkg-config ddata) and no source tree at %s" % ROOT)
    build = HERE / "build" / "ddata-cmake"
    jobs = os.environ.get("DDATA_JOBS", "2")
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    "-DDDATA_TESTS=OFF", "-DDDATA_BENCH=OFF"], check=True, stdout=sys.stderr)
    subprocess.run(["cmake", "--build", str(build), "--target", "ddata_static", "-j", jobs],
                   check=True, stdout=sys.stderr)
    return _static_from(build)


def _vendored():
    if os.environ.get("DDATA_SYSTEM") == "1" or not (VENDORED / "abi" / "include" / "ddata.h").exists():
        return None
    deps = _pkg_config("--cflags", "--libs", *(DEPS + SHARED_DEPS))
    if deps is None:
        sys.exit("ddata: pkg-config cannot find %s; install the -dev packages" % " ".join(DEPS + SHARED_DEPS))
    kw = _split_flags(deps)
    sources = sorted(str(p.relative_to(HERE)) for p in VENDORED.glob("core/**/*.c"))
    sources += sorted(str(p.relative_to(HERE)) for p in VENDORED.glob("abi/*.c"))
    kw["sources"] = sources
    kw["include_dirs"] += [str(VENDORED / "abi" / "include"), str(VENDORED / "core"), str(VENDORED / "abi")]
    kw["define_macros"] = [("_GNU_SOURCE", None), ("DDATA_BUILDING", "1")]
    kw["libraries"].append("pthread")
    return kw


def library_flags():
    if os.environ.get("DDATA_BUILD_DIR"):
        return _static_from(os.environ["DDATA_BUILD_DIR"])
    return _vendored() or _installed() or _build_tree()


ffibuilder = FFI()
ffibuilder.cdef(_cdef() + SHIM_CDEF)
_flags = library_flags()
ffibuilder.set_source("ddata._ddata", '#include "ddata.h"\n' + SHIMS,
                      extra_compile_args=["-O2", "-std=gnu11", "-fvisibility=hidden"] + _flags.pop("extra_compile_args", []),
                      **_flags)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
