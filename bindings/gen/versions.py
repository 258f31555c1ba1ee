"""The struct version table: bindings/gen/layout_versions.txt.

layout.txt is the header's layout today; this table is its history, so a
caller compiled against an older header keeps a layout the library still
knows (ABI.md, "Struct versions"). Every struct with a body is one of:

  versioned  begins with `uint32_t version` and has a DD_<NAME>_VERSION
             constant; one entry per version the library accepts. An older
             version's fields are a prefix (same names, same offsets) of
             every newer one's, and sizes never shrink.
  frozen     filled by the library into caller memory, or passed in arrays,
             with no version field: one entry, and the layout may never
             change within ABI 1.

Before the first release (`released no`), `make bindings` rewrites the
entry of each versioned struct's current version, so structs may still
grow without a version bump. From `released yes` on, a changed layout with
an unchanged DD_<NAME>_VERSION fails the check: bump the constant and
`make bindings` appends the new version's entry, keeping the old one.
Frozen entries are never rewritten by `make bindings`: changing a frozen
struct is a deliberate edit of this table (before 1.0.0 only).

One entry per line:
  versioned <struct> <version> size <n> align <n> fields <name>:<offset> ...
  frozen <struct> size <n> align <n> fields <name>:<offset> ...
"""
import re

TABLE = "bindings/gen/layout_versions.txt"
HEAD = """\
# Struct layouts per version: the history bindings/gen/layout.txt does not
# keep. Checked by `gen.py check` (ctest bindings.generated) against the
# header; see bindings/gen/versions.py and ABI.md "Struct versions".
# `released no` until 1.0.0: versioned entries of the current version may
# still be rewritten by `make bindings`; frozen entries never are.
"""


class Entry:
    def __init__(self, kind, struct, version, size, align, fields):
        self.kind = kind  # "versioned" | "frozen"
        self.struct = struct
        self.version = version  # int, or None when frozen
        self.size = size
        self.align = align
        self.fields = fields  # [(name, offset)]

    def line(self):
        ver = " %d" % self.version if self.kind == "versioned" else ""
        fields = " ".join("%s:%d" % f for f in self.fields)
        return "%s %s%s size %d align %d fields %s" % (self.kind, self.struct, ver, self.size, self.align, fields)

    def same_layout(self, other):
        return (self.size, self.align, self.fields) == (other.size, other.align, other.fields)


class Table:
    def __init__(self, released=False, entries=None):
        self.released = released
        self.entries = entries or []

    def of(self, struct):
        return [e for e in self.entries if e.struct == struct]

    def text(self):
        order = []
        for e in self.entries:
            if e.struct not in order:
                order.append(e.struct)
        lines = [HEAD.rstrip("\n"), "released %s" % ("yes" if self.released else "no")]
        for name in order:
            lines.extend(e.line() for e in sorted(self.of(name), key=lambda e: e.version or 0))
        return "\n".join(lines) + "\n"


_LINE = re.compile(r"(versioned|frozen) (\w+)( \d+)? size (\d+) align (\d+) fields((?: \w+:\d+)*)$")


def parse(text):
    table = Table()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line in ("released no", "released yes"):
            table.released = line == "released yes"
            continue
        m = _LINE.match(line)
        if not m or (m.group(1) == "versioned") != (m.group(3) is not None):
            raise ValueError("%s line %d: cannot read %r" % (TABLE, n, line))
        fields = [(f.split(":")[0], int(f.split(":")[1])) for f in m.group(6).split()]
        version = int(m.group(3)) if m.group(3) else None
        table.entries.append(Entry(m.group(1), m.group(2), version, int(m.group(4)), int(m.group(5)), fields))
    return table


def version_constant(hdr, s):
    """The DD_<NAME>_VERSION constant of a versioned struct, or None."""
    if not s.fields or s.fields[0].name != "version":
        return None
    want = "DD_%s_VERSION" % s.name[len("dd_"):].upper()
    for name, value in hdr.constants:
        if name == want:
            return value
    return None


def current(hdr, s):
    """The header's layout of struct s as an entry."""
    ver = version_constant(hdr, s)
    kind = "frozen" if ver is None else "versioned"
    fields = [(f.name, s.offsets[f.name]) for f in s.fields]
    return Entry(kind, s.name, ver, s.size, s.align, fields)


def update(hdr, table):
    """What `make bindings` does to the table (see the module comment)."""
    for s in hdr.structs:
        if s.opaque:
            continue
        now = current(hdr, s)
        have = table.of(s.name)
        if not have:
            table.entries.append(now)
            continue
        if now.kind == "frozen" or any(e.kind != now.kind for e in have):
            continue  # frozen, or reclassified: check() says what to do
        same = [e for e in have if e.version == now.version]
        if not same:
            table.entries.append(now)
        elif not table.released and not same[0].same_layout(now):
            table.entries[table.entries.index(same[0])] = now
    return table


def check(hdr, table):
    """Problems (strings) between the header and the table; [] when they agree."""
    problems = []
    structs = {s.name: s for s in hdr.structs if not s.opaque}
    for name in sorted({e.struct for e in table.entries} - set(structs)):
        problems.append("%s has entries for %s, which the header no longer defines" % (TABLE, name))
    for name, s in structs.items():
        now = current(hdr, s)
        have = table.of(name)
        if not have:
            problems.append("%s has no entry for %s; run `make bindings`" % (TABLE, name))
            continue
        kinds = {e.kind for e in have}
        if kinds != {now.kind}:
            problems.append("%s is %s in the header but %s in %s" % (name, now.kind, "/".join(sorted(kinds)), TABLE))
            continue
        if now.kind == "frozen":
            if len(have) != 1:
                problems.append("%s is frozen but has %d entries in %s" % (name, len(have), TABLE))
            elif not have[0].same_layout(now):
                problems.append("%s is frozen for ABI 1 (%s) but its layout changed:\n  table:  %s\n  header: %s"
                                % (name, TABLE, have[0].line(), now.line()))
            continue
        versions = sorted(have, key=lambda e: e.version)
        if len({e.version for e in versions}) != len(versions):
            problems.append("%s has two entries for one version in %s" % (name, TABLE))
            continue
        same = [e for e in versions if e.version == now.version]
        if not same:
            problems.append("%s version %d has no entry in %s; run `make bindings`" % (name, now.version, TABLE))
        elif not same[0].same_layout(now):
            hint = ("bump %s and run `make bindings`" % version_name(name)) if table.released else "run `make bindings`"
            problems.append("%s version %d changed layout: %s\n  table:  %s\n  header: %s"
                            % (name, now.version, hint, same[0].line(), now.line()))
        newer = [e.version for e in versions if e.version > now.version]
        if newer:
            problems.append("%s: %s has entries for versions %s, newer than the header's %d"
                            % (name, TABLE, newer, now.version))
        for old, new in zip(versions, versions[1:]):
            if new.fields[: len(old.fields)] != old.fields or new.size < old.size:
                problems.append("%s version %d is not version %d with fields appended" % (name, new.version, old.version))
    return problems


def version_name(struct):
    return "DD_%s_VERSION" % struct[len("dd_"):].upper()
