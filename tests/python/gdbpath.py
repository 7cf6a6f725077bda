"""Importing this puts the repository's gdb/ folder, home of the antgdb
package, on sys.path, so tests run from any directory without gdb."""
import os
import sys

GDB_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "gdb"))
if GDB_DIR not in sys.path:
    sys.path.insert(0, GDB_DIR)
