"""Loads the Ant heap commands: ant-heap, ant-walk, ant-check, ant-block.

From the source tree:   (gdb) source gdb/ant-gdb.py
(with the native walker of a build under the tree, builds.py says which),
or, from a build anywhere, the loader it writes: source BUILD/gdb/ant-gdb.py.
Installed, it sits next to its antgdb/ package (share/ant/gdb), where the
auto-load stubs that `cmake --install` writes run it from. Copied itself as
an auto-load script (<libdir>/libant.so.<version>-gdb.py), it looks for the
package in ../share/ant/gdb. It loads from wherever it is sourced: from
gdb's command line, a gdb script, a gdb Python script, or a folder of gdb's
source path (`directory`). Loading it twice is harmless.
"""
import os
import sys


def _this_file():
    """This file's name, from its code: __file__ names the calling script
    when a gdb Python script sources this one. gdb gives the name as the
    user typed it, which `source` may have found in a folder of its source
    path rather than the current one."""
    name = _this_file.__code__.co_filename
    if not os.path.isabs(name) and not os.path.exists(name):
        import gdb

        for folder in gdb.parameter("directories").split(os.pathsep):
            if os.path.isfile(os.path.join(folder, name)):
                return os.path.join(folder, name)
    return name


def _package_dirs():
    here = os.path.dirname(os.path.realpath(os.path.abspath(_this_file())))
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
