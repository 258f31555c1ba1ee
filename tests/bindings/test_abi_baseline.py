"""tools/abi/baseline.py tells compatible from incompatible abidiff reports.

The reports are abidiff's real leaf output for edits made to a scratch copy
of the tree (a member appended, two members swapped, a function removed,
a function added to the wrong node); the classifier must accept exactly the
first.
"""
import pathlib
import sys
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/abi"))
import baseline  # noqa: E402

HEAD = """Leaf changes summary: 1 artifact changed
Changed leaf types summary: 1 leaf type changed
Removed/Changed/Added functions summary: %d Removed, %d Changed, %d Added function
Removed/Changed/Added variables summary: 0 Removed, 0 Changed, 0 Added variable

"""
APPENDED = """'struct dd_limits' changed:
  type size changed from 320 to 384 (in bits)
  1 data member insertion:
    'uint64_t appended', at offset 320 (in bits)
"""
SWAPPED = """'struct dd_limits' changed:
  type size hasn't changed
  there are data member changes:
    'uint64_t max_bytes' offset changed from 64 to 128 (in bits) (by +64 bits)
    'uint64_t max_elements' offset changed from 128 to 64 (in bits) (by -64 bits)
"""
INSERTED_MIDDLE = """'struct dd_limits' changed:
  type size changed from 320 to 384 (in bits)
  1 data member insertion:
    'uint64_t inserted', at offset 64 (in bits)
"""
ADDED_FN = """1 Added function:

  [A] 'function int dd_crdt_new_thing(uint64_t*)'    {dd_crdt_new_thing@@%s}

"""
REMOVED_FN = """1 Removed function:

  [D] 'function int dd_crdt_count(uint64_t*, const dd_crdt*)'    {dd_crdt_count@@DDATA_1.0}

"""


class Classify(unittest.TestCase):
    def test_appended_member_and_added_function_are_compatible(self):
        report = HEAD % (0, 0, 1) + ADDED_FN % "DDATA_1.0" + APPENDED
        self.assertEqual(baseline.classify(report, "DDATA_1.0"), [])

    def test_swapped_members_are_incompatible(self):
        bad = baseline.classify(HEAD % (0, 0, 0) + SWAPPED, "DDATA_1.0")
        self.assertTrue(any("offset changed" in b for b in bad), bad)

    def test_member_inserted_before_the_end_is_incompatible(self):
        self.assertNotEqual(baseline.classify(HEAD % (0, 0, 0) + INSERTED_MIDDLE, "DDATA_1.0"), [])

    def test_removed_function_is_incompatible(self):
        self.assertNotEqual(baseline.classify(HEAD % (1, 0, 0) + REMOVED_FN, "DDATA_1.0"), [])

    def test_addition_outside_the_unreleased_node_is_refused(self):
        bad = baseline.classify(HEAD % (0, 0, 1) + ADDED_FN % "DDATA_1.1", "DDATA_1.0")
        self.assertTrue(any("until 1.0.0" in b for b in bad), bad)

    def test_renumbered_enum_value_is_incompatible_and_new_one_is_not(self):
        old = "dd_crdt_type.DD_ORSET = 4\nDDATA_ABI_VERSION = 1\n"
        bad, added = baseline.compare_values(old, "dd_crdt_type.DD_ORSET = 40\nDDATA_ABI_VERSION = 1\n")
        self.assertEqual(bad, ["dd_crdt_type.DD_ORSET changed from 4 to 40"])
        bad, added = baseline.compare_values(old, old + "dd_crdt_type.DD_NEW = 13\n")
        self.assertEqual((bad, added), ([], ["dd_crdt_type.DD_NEW = 13 added"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
