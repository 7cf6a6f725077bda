"""Loads the Ant heap commands: ant-heap, ant-walk, ant-check, ant-block.

From the source tree:   (gdb) source gdb/ant-gdb.py
Installed, it sits next to its antgdb/ package (share/ant/gdb), where the
auto-load stubs that `cmake --install` writes run it from. Copied itself as
an auto-load script (<libdir>/libant.so.<version>-gdb.py), it looks for the
package in ../share/ant/gdb. Loading it twice is harmless.
"""
import os
import sys


def _package_dirs():
    # This file's own name, from its code: __file__ names the calling
    # script when a gdb Python script sources this one.
    here = os.path.dirname(os.path.realpath(os.path.abspath(_package_dirs.__code__.co_filename)))
    return [here, os.path.normpath(os.path.join(here, "..", "share", "ant", "gdb"))]


def _load():
    import gdb

    for directory in _package_dirs():
        if os.path.isfile(os.path.join(directory, "antgdb", "commands.py")):
            if directory not in sys.path:
                sys.path.insert(0, directory)
            break
    try:
        from antgdb import commands
    except ImportError as error:
        gdb.write("ant-gdb: cannot load the antgdb package (%s); looked in %s\n"
                  % (error, ", ".join(_package_dirs())), gdb.STDERR)
        return
    commands.register()


_load()
