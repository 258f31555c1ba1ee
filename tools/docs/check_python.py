#!/usr/bin/env python3
"""Every public name of the `ddata` package has a docstring (#18.8): the
names in `ddata.__all__` and `ddata.testing.__all__`, and the public
methods, properties and nested classes those classes define themselves.
pydoc renders these docstrings as the API reference (`make docs`), so a
name without one is a hole in the reference and fails `make test`.

Enum members and plain constants carry no docstring of their own (their
class documents them) and are skipped, as are members inherited from
outside the package.

  check_python.py          exit 1 and a list of undocumented names
"""
import enum
import inspect
import sys

import ddata
import ddata.testing


def own_doc(obj):
    doc = getattr(obj, "__doc__", None)
    return bool(doc and doc.strip())


def members(cls):
    for name, value in vars(cls).items():
        if name.startswith("_") and name not in ("__init__", "__call__"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isfunction(value) or inspect.isclass(value):
            yield name, value


def check(module, names):
    missing = []
    for name in names:
        obj = getattr(module, name)
        qual = "%s.%s" % (module.__name__, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)):
            continue  # constants: documented where they are listed
        if not own_doc(obj):
            missing.append(qual)
        if inspect.isclass(obj) and not issubclass(obj, enum.Enum):
            for mname, member in members(obj):
                if mname == "__init__":
                    continue  # the class docstring covers construction
                if not own_doc(member):
                    missing.append("%s.%s" % (qual, mname))
    return missing


def main():
    missing = check(ddata, ddata.__all__) + check(ddata.testing, ddata.testing.__all__)
    for m in missing:
        print("no docstring: %s" % m)
    total = len(ddata.__all__) + len(ddata.testing.__all__)
    print("python docs: %d public names, %d undocumented" % (total, len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
