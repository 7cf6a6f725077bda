"""The sums of ant-sites in C (gdb/native/groups.c) against Python's
(sitegroups.python_groups), on random and damaged heaps, with tables that
must grow several times.

Needs the library: run through native_run.py with ANT_GDB_NATIVE set."""
import os
import random
import unittest
from unittest import mock

import gdbpath  # noqa: F401
import heapimage as H
import test_fuzz
from antgdb import native, sitegroups
from test_sites import as_table

SEED = int(os.environ.get("ANT_FUZZ_SEED", "20261126"))
ROUNDS = int(os.environ.get("ANT_FUZZ_ROUNDS", "150"))


def setUpModule():
    if native.load() is None:
        raise unittest.SkipTest("the native walker is not loaded: " + native.describe())


class NativeGroupsTest(unittest.TestCase):
    """The sums in C against Python's, on random and damaged heaps, and
    with a table that must grow several times."""

    def test_same_groups_as_python(self):
        rng = random.Random(SEED)
        for round_ in range(ROUNDS // 5):
            image = test_fuzz.build(rng)
            for _ in range(rng.randrange(0, 3)):
                test_fuzz.scribble(rng, image)
            heap = H.walk(image)
            free = rng.random() < 0.5
            with self.subTest(seed=SEED, round=round_, free=free):
                python = sitegroups.groups(heap, None, free)
                with mock.patch.object(native, "GROUP_SLOTS", rng.choice((1, 2, 4, 1 << 10))):
                    fast = sitegroups.groups(heap, native.load(), free)
                self.assertEqual(as_table(fast), as_table(python))
                self.assertEqual([g.site for g in fast], [g.site for g in python])


if __name__ == "__main__":
    unittest.main()
