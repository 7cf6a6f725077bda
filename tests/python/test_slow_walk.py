"""A big heap walked in Python says so once, and how to get the native
walker; a small one, a native walk and ANT_GDB_NATIVE=0 say nothing."""
import os
import unittest
from unittest import mock

import gdbpath  # noqa: F401
from antgdb import native, slow_walk

WHY = "/b/gdb/libantfastwalk.so cannot be used: its ABI is 5, this antgdb needs 6"


class SlowWalkTest(unittest.TestCase):
    def setUp(self):
        self.addCleanup(slow_walk._said.clear)
        slow_walk._said.clear()

    def walked(self, loaded, setting=""):
        patches = (mock.patch.object(native, "_loaded", [loaded]),
                   mock.patch.dict(os.environ, {native.ENVIRONMENT: setting}))
        for patch in patches:
            patch.start()
            self.addCleanup(patch.stop)

    def test_once_on_a_big_heap_walked_in_python(self):
        self.walked((None, "python (%s)" % WHY))
        self.assertEqual(slow_walk.once(slow_walk.BIG_HEAP - 1), [])
        first, second = slow_walk.once(1000000)
        self.assertIn("1,000,000 blocks walked in Python", first)
        self.assertIn("(%s)" % WHY, first)
        self.assertIn("cmake --build build", second)
        self.assertIn("ANT_GDB_NATIVE", second)
        self.assertEqual(slow_walk.once(1000000), [])

    def test_quiet_with_the_native_walker(self):
        self.walked((object(), "native (/b/gdb/libantfastwalk.so)"))
        self.assertEqual(slow_walk.once(1000000), [])

    def test_quiet_when_python_was_asked_for(self):
        self.walked((None, "python (ANT_GDB_NATIVE=0)"), setting="0")
        self.assertEqual(slow_walk.once(1000000), [])


if __name__ == "__main__":
    unittest.main()
