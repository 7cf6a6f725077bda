"""Whatever is wrong with the native walker, the walk stays in Python and
says why: no library, a file that is not one, a library without its
symbols, ANT_GDB_NATIVE=0."""
import ctypes.util
import os
import unittest
from unittest import mock

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import native


def attempt(setting):
    with mock.patch.dict(os.environ, {native.ENVIRONMENT: setting}):
        return native._try_load()


class FallbackTest(unittest.TestCase):
    def test_zero_keeps_python(self):
        self.assertEqual(attempt("0"), (None, "python (ANT_GDB_NATIVE=0)"))

    def test_unusable_libraries_are_named(self):
        libc = ctypes.util.find_library("c") or "libc.so.6"
        for path in ("/nonexistent/libantfastwalk.so", os.path.abspath(__file__), libc):
            with self.subTest(path=path):
                loaded, why = attempt(path)
                self.assertIsNone(loaded)
                self.assertTrue(why.startswith("python (%s cannot be used: " % path), why)

    def test_by_default_it_is_looked_for_beside_the_package(self):
        self.assertEqual(os.path.dirname(native.default_path()), gdbpath.GDB_DIR)
        beside = "/nonexistent/share/ant/gdb/libantfastwalk.so"
        with mock.patch.object(native, "default_path", return_value=beside):
            self.assertIn(beside, attempt("")[1])

    def test_the_walk_goes_on_in_python(self):
        image, blocks, _ = H.sample()
        with mock.patch.object(native, "_loaded", [attempt("/nonexistent.so")]):
            heap = H.walk(image)
        self.assertEqual(len(heap.nodes), len(blocks) + 1)
        self.assertEqual(heap.problems, [])


if __name__ == "__main__":
    unittest.main()
