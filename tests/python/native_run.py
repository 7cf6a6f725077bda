"""Runs test modules with the native walker, failing unless it ran.

    ANT_GDB_NATIVE=build/gdb/libantfastwalk.so python3 native_run.py test_walk ...

The walk falls back to Python, silently, whenever the library cannot be
used; a test run that fell back would pass while proving nothing about
the C. So this fails when the library did not load, or when a walk picked
the Python runner for any region (test_native checks that walks pick the
C at all).
"""
import sys
import unittest

import gdbpath  # noqa: F401
from antgdb import native


def main():
    if native.load() is None:
        sys.exit("FAIL: the native walker did not load: " + native.describe())
    print("walker: " + native.describe())
    chosen = []
    runner = native.Native.runner

    def counted(self, *args):
        run = runner(self, *args)
        chosen.append(run is not None)
        return run

    native.Native.runner = counted
    suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:])
    result = unittest.TextTestRunner().run(suite)
    if not result.wasSuccessful():
        return 1
    if not all(chosen):
        print("FAIL: of %d regions walked, only %d ran in C" % (len(chosen), sum(chosen)))
        return 1
    print("%d regions walked, all in C" % len(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
