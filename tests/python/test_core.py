"""Versions, status codes, the exception hierarchy and limits."""
import threading

import pytest

import ddata
from ddata._ddata import ffi, lib
from ddata._errors import check, error_for


def test_version_matches_the_package_and_the_number():
    major, minor, patch = (int(x) for x in ddata.version().split("."))
    assert ddata.version_number() == major * 1_000_000 + minor * 1000 + patch
    assert ddata.__version__ == ddata.version()
    assert ddata.abi_version() == lib.DDATA_ABI_VERSION


def test_init_is_idempotent():
    ddata.init()
    ddata.init()


def test_every_status_has_a_name_and_an_exception():
    seen = set()
    for status in ddata.Status:
        assert ddata.status_name(status) == "DD_" + status.name
        assert ddata.status_str(status)
        if status == ddata.Status.OK:
            continue
        exc = error_for(int(status))
        assert isinstance(exc, ddata.Error)
        assert type(exc) is not ddata.Error, "status %s has no subclass" % status.name
        assert exc.code == status and exc.name == "DD_" + status.name
        seen.add(type(exc))
    assert len(seen) == len(ddata.Status) - 1


def test_unknown_status_is_a_plain_error():
    exc = error_for(-999)
    assert type(exc) is ddata.Error and exc.name == "DD_E?"


def test_exceptions_also_derive_from_the_matching_builtin():
    assert issubclass(ddata.InvalidArgument, ValueError)
    assert issubclass(ddata.NotFound, KeyError)
    assert issubclass(ddata.TypeMismatch, TypeError)
    assert issubclass(ddata.Timeout, TimeoutError)
    assert issubclass(ddata.IOError_, OSError)
    assert issubclass(ddata.Unsupported, NotImplementedError)


def test_failure_carries_the_message_of_dd_error_last():
    with pytest.raises(ddata.InvalidArgument) as info:
        check(lib.dd_limits_init(ffi.new("dd_limits *"), 999))
    assert info.value.code == lib.DD_EINVAL
    assert info.value.message and info.value.message == ddata.last_error()[1]
    assert str(info.value).startswith("DD_EINVAL: ")


def test_error_clear_resets_the_last_error():
    with pytest.raises(ddata.Error):
        check(lib.dd_limits_init(ffi.NULL, lib.DD_LIMITS_VERSION))
    ddata.clear_error()
    assert ddata.last_error() == (0, "no error")


def test_last_error_is_per_thread():
    with pytest.raises(ddata.Error):
        check(lib.dd_limits_init(ffi.NULL, lib.DD_LIMITS_VERSION))
    other = []
    t = threading.Thread(target=lambda: other.append(ddata.last_error()))
    t.start()
    t.join()
    assert other == [(0, "no error")]
    assert ddata.last_error()[0] == lib.DD_EINVAL


def test_limits_default_to_the_library_defaults():
    lim = ddata.Limits()
    assert lim.max_depth == 32 and lim.max_bytes == 64 << 20 and lim.max_clock_skew_ms == 300000
    assert ddata.Limits(max_elements=10).max_elements == 10
    assert ddata.Limits() == ddata.Limits()


def test_limits_reject_unknown_fields_and_negative_values():
    with pytest.raises(TypeError):
        ddata.Limits(max_widgets=1)
    with pytest.raises(ValueError):
        ddata.Limits(max_depth=-1)
    with pytest.raises(AttributeError):
        ddata.Limits().nope = 1


def test_crdt_type_numbers_are_the_wire_numbers():
    assert [int(t) for t in ddata.CrdtType] == list(range(1, 13))
    assert ddata.OpKind.UPDATE == 8


def test_type_stubs_ship_and_declare_every_public_name():
    import ast
    import pathlib

    pkg = pathlib.Path(ddata.__file__).parent
    assert (pkg / "py.typed").exists()
    tree = ast.parse((pkg / "__init__.pyi").read_text())
    declared = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
        elif isinstance(node, ast.Assign):
            declared.update(t.id for t in node.targets if isinstance(t, ast.Name))
    missing = sorted(set(ddata.__all__) - declared)
    assert not missing, "__init__.pyi lacks %s" % missing
