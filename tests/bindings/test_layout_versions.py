"""The struct version rules (ABI.md "Struct versions") hold mechanically.

Each test edits a copy of the public header the way a contributor might
(grow an options struct, grow a library-filled struct, bump a version) and
runs the table logic `make bindings` / `gen.py check` use on it.
"""
import pathlib
import sys
import tempfile
import unittest
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings/gen"))
import header  # noqa: E402
import versions  # noqa: E402

HEADER = (ROOT / "abi/include/ddata.h").read_text()
GROW_LIMITS = ("    uint64_t max_clock_skew_ms;", "    uint64_t max_clock_skew_ms;\n    uint64_t max_new_thing;")
GROW_JOURNAL_EVENT = ("    size_t tag_count;\n} dd_journal_event;", "    size_t tag_count;\n    uint64_t extra;\n} dd_journal_event;")
BUMP_LIMITS = ("#define DD_LIMITS_VERSION 1", "#define DD_LIMITS_VERSION 2")


def parse_edited(*edits):
    text = HEADER
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    with tempfile.TemporaryDirectory() as tmp:
        p = pathlib.Path(tmp) / "ddata.h"
        p.write_text(text)
        return header.parse(p)


def checked_in():
    return versions.parse((ROOT / versions.TABLE).read_text())


def released(table):
    table.released = True
    return table


class LayoutVersions(unittest.TestCase):
    def test_checked_in_table_matches_header(self):
        self.assertEqual(versions.check(header.parse(ROOT / "abi/include/ddata.h"), checked_in()), [])

    def test_every_library_filled_struct_is_frozen(self):
        kinds = {e.struct: e.kind for e in checked_in().entries}
        for name in ("dd_journal_event", "dd_owned_event", "dd_owned_view", "dd_append_event", "dd_error", "dd_buf"):
            self.assertEqual(kinds[name], "frozen", name)
        self.assertEqual(kinds["dd_event"], "versioned")

    def test_grown_frozen_struct_fails_and_is_not_rewritten(self):
        hdr = parse_edited(GROW_JOURNAL_EVENT)
        table = versions.update(hdr, checked_in())
        problems = versions.check(hdr, table)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("dd_journal_event is frozen", problems[0])

    def test_options_grow_without_bump_before_release(self):
        hdr = parse_edited(GROW_LIMITS)
        table = checked_in()
        self.assertIn("dd_limits version 1 changed layout", versions.check(hdr, table)[0])
        table = versions.update(hdr, table)
        self.assertEqual(versions.check(hdr, table), [])
        self.assertEqual(len(table.of("dd_limits")), 1)

    def test_options_grow_without_bump_after_release_fails(self):
        hdr = parse_edited(GROW_LIMITS)
        table = versions.update(hdr, released(checked_in()))
        problems = versions.check(hdr, table)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("bump DD_LIMITS_VERSION", problems[0])

    def test_options_bump_after_release_keeps_both_versions(self):
        hdr = parse_edited(GROW_LIMITS, BUMP_LIMITS)
        table = versions.update(hdr, released(checked_in()))
        self.assertEqual(versions.check(hdr, table), [])
        self.assertEqual([e.version for e in table.of("dd_limits")], [1, 2])
        reread = versions.parse(table.text())
        self.assertEqual(versions.check(hdr, reread), [])

    def test_bumped_version_that_reorders_fields_fails(self):
        swapped = ("    uint64_t max_bytes;", "    uint64_t max_bytes_renamed;")
        hdr = parse_edited(GROW_LIMITS, BUMP_LIMITS, swapped)
        table = versions.update(hdr, released(checked_in()))
        problems = versions.check(hdr, table)
        self.assertTrue(any("not version 1 with fields appended" in p for p in problems), problems)

    def test_table_entry_for_removed_struct_fails(self):
        table = checked_in()
        table.entries.append(versions.Entry("frozen", "dd_gone", None, 8, 8, [("x", 0)]))
        problems = versions.check(header.parse(ROOT / "abi/include/ddata.h"), table)
        self.assertIn("dd_gone", problems[0])


if __name__ == "__main__":
    warnings.simplefilter("ignore", ResourceWarning)  # header.parse reads without a with-block
    unittest.main(verbosity=2)
