"""Loads the Ant heap commands (ant-heap, ant-walk, ant-check, ant-block).

From the source tree:   (gdb) source gdb/ant-gdb.py
Installed for auto-load as <libdir>/libant.so.<version>-gdb.py (or under gdb's
auto-load directory), it finds the antgdb package next to itself, or in
../share/ant/gdb, or where the install step wrote its path below. Loading it
twice is harmless.
"""
import os
import sys

# An install step may replace this with the directory holding antgdb/.
INSTALLED_PACKAGE_DIR = "@ANT_GDB_PACKAGE_DIR@"


def _package_dirs():
    here = os.path.dirname(os.path.realpath(os.path.abspath(__file__)))
    yield here
    yield os.path.join(here, "..", "share", "ant", "gdb")
    if not INSTALLED_PACKAGE_DIR.startswith("@"):
        yield INSTALLED_PACKAGE_DIR


def _load():
    for directory in _package_dirs():
        if os.path.isfile(os.path.join(directory, "antgdb", "commands.py")):
            if directory not in sys.path:
                sys.path.insert(0, directory)
            break
    try:
        from antgdb import commands
    except ImportError as error:
        import gdb

        gdb.write("ant-gdb: cannot load the antgdb package (%s); looked in %s\n"
                  % (error, ", ".join(_package_dirs())), gdb.STDERR)
        return
    commands.register()


_load()
