"""The ways the extension is loaded, and the walker each one gets.

Usage: loading.py WAY SOURCE BUILD PROGRAM WORKDIR

SOURCE is the source tree, BUILD the build that made PROGRAM
(tests/gdb/scenario.c) and the native walker. WAY is one of:

  tree       `source T/gdb/ant-gdb.py` in a copy T of the source tree's
             extension with a build under it (T/build, the library copied)
             walks with that build's library, not with one of another tree
             or an ASan build beside it;
  script     a gdb Python script (gdb -x) that sources ant-gdb.py by its
             path gets every command, from a folder of its own;
  directory  `source ant-gdb.py` found through gdb's source path
             (`directory SOURCE/gdb`) from another folder;
  build      `source BUILD/gdb/ant-gdb.py`, the loader the build writes,
             walks with BUILD's library;
  note       a heap of 120,000 blocks walked in Python (ANT_GDB_NATIVE
             names no library) says so once per session, on stderr, and
             how to get the native walker; with ANT_GDB_NATIVE=0 it says
             nothing.

This script, not gdb's exit status, decides pass or fail.
"""
import os
import shutil
import sys

import gdbrun

LIBRARY = "libantfastwalk.so"
WALKER = "python from antgdb import native; print(native.describe())"
NOTE = "blocks walked in Python"


class Run:
    def __init__(self, source, build, program, workdir):
        self.source, self.build, self.program, self.workdir = source, build, program, workdir
        self.failures = []

    def gdb(self, loading, commands, count=1000, env=None, cwd=None):
        """gdb on PROGRAM stopped with `count` blocks allocated: `loading`
        (gdb arguments) first, then the marked commands. Returns the
        sections and stderr."""
        args = loading + [self.program, "-ex", "break ant_test_stop",
                          "-ex", "run clean %s %d" % (os.path.join(self.workdir, "manifest.json"), count)]
        args += gdbrun.marked(commands) + ["-ex", "kill"]
        saved = dict(os.environ)
        os.environ.pop("ANT_GDB_NATIVE", None)
        os.environ.update(env or {})
        here = os.getcwd()
        try:
            os.chdir(cwd or self.workdir)
            status, stdout, stderr = gdbrun.run(args)
        finally:
            os.chdir(here)
            os.environ.clear()
            os.environ.update(saved)
        if "Traceback" in stdout + stderr:
            self.failures.append("a Python traceback reached the user:\n" + stderr[-2000:])
        return gdbrun.sections(stdout), stderr

    def expect(self, what, got, wanted):
        if got != wanted:
            self.failures.append("%s: %r, expected %r" % (what, got, wanted))

    @staticmethod
    def walker(out):
        """What native.describe() said: its section's first line."""
        return (out.get("walker", "").splitlines() or [None])[0]

    def walks(self, out, what):
        """The heap was walked and summed up."""
        if "Ant heap at 0x" not in out.get("heap", ""):
            self.failures.append("%s: ant-heap printed %r" % (what, out.get("heap", "")[:500]))

    def tree(self):
        tree = os.path.join(self.workdir, "tree")
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(os.path.join(self.source, "gdb"), os.path.join(tree, "gdb"),
                        ignore=shutil.ignore_patterns("__pycache__", "native", "*.so"))
        shutil.copy(os.path.join(self.source, "CMakeLists.txt"), tree)
        for name, home, sanitize in (("build", tree, ""), ("build-asan", tree, "address"),
                                     ("build-other", self.source, "")):
            os.makedirs(os.path.join(tree, name, "gdb"))
            shutil.copy(os.path.join(self.build, "gdb", LIBRARY), os.path.join(tree, name, "gdb"))
            with open(os.path.join(tree, name, "CMakeCache.txt"), "w") as cache:
                cache.write("CMAKE_HOME_DIRECTORY:INTERNAL=%s\nANT_SANITIZE:STRING=%s\n" % (home, sanitize))
        # The newest first after build/: build-asan and build-other are newer.
        for name in ("build-asan", "build-other"):
            library = os.path.join(tree, name, "gdb", LIBRARY)
            os.utime(library, (os.path.getmtime(library) + 60,) * 2)
        out, _ = self.gdb(["-ex", "source " + os.path.join(tree, "gdb", "ant-gdb.py")],
                          [("walker", WALKER), ("heap", "ant-heap")])
        self.expect("walker", self.walker(out), "native (%s)" % os.path.join(tree, "build", "gdb", LIBRARY))
        self.walks(out, "tree")
        os.remove(os.path.join(tree, "build", "gdb", LIBRARY))
        out, _ = self.gdb(["-ex", "source " + os.path.join(tree, "gdb", "ant-gdb.py")], [("walker", WALKER)])
        self.expect("walker without build/", self.walker(out), "python (%s cannot be used: it is built with "
                    "-fsanitize=address, whose runtime must be the first library of its process, and gdb's "
                    "is not)" % os.path.join(tree, "build-asan", "gdb", LIBRARY))

    def script(self):
        folder = os.path.join(self.workdir, "scripts")
        os.makedirs(folder, exist_ok=True)
        script = os.path.join(folder, "load_ant.py")
        with open(script, "w") as f:
            f.write("import gdb\ngdb.execute(%r)\n" % ("source " + os.path.join(self.source, "gdb", "ant-gdb.py")))
        out, stderr = self.gdb(["-x", script], [("walker", WALKER), ("heap", "ant-heap"),
                                                ("help", "help ant-walk")])
        if "cannot load" in stderr:
            self.failures.append("the loader failed: " + stderr[-1000:])
        self.walks(out, "script")
        if not out.get("help", "").startswith("List the blocks"):
            self.failures.append("ant-walk is not defined: help says %r" % out.get("help", "")[:300])

    def directory(self):
        out, stderr = self.gdb(["-ex", "directory " + os.path.join(self.source, "gdb"), "-ex", "source ant-gdb.py"],
                               [("heap", "ant-heap")])
        if "cannot load" in stderr:
            self.failures.append("the loader failed: " + stderr[-1000:])
        self.walks(out, "directory")

    def build_loader(self):
        out, _ = self.gdb(["-ex", "source " + os.path.join(self.build, "gdb", "ant-gdb.py")],
                          [("walker", WALKER), ("heap", "ant-heap")])
        self.expect("walker", self.walker(out), "native (%s)" % os.path.join(self.build, "gdb", LIBRARY))
        self.walks(out, "build")

    def note(self):
        extension = ["-ex", "source " + os.path.join(self.source, "gdb", "ant-gdb.py")]
        commands = [("heap", "ant-heap"), ("again", "ant-heap --json"), ("walk", "ant-walk --limit 1")]
        absent = os.path.join(self.workdir, "absent", LIBRARY)
        out, stderr = self.gdb(extension, commands, count=120000, env={"ANT_GDB_NATIVE": absent})
        self.walks(out, "note")
        self.expect("notes in one session", stderr.count(NOTE), 1)
        for wanted in ("%s cannot be used" % absent, "cmake --build build", "ANT_GDB_NATIVE"):
            if wanted not in stderr:
                self.failures.append("the note does not say %r: %r" % (wanted, stderr[-2000:]))
        if NOTE in "".join(out.values()):
            self.failures.append("the note went to stdout, among the commands' output")
        out, stderr = self.gdb(extension, commands[:1], count=120000, env={"ANT_GDB_NATIVE": "0"})
        self.walks(out, "note, ANT_GDB_NATIVE=0")
        self.expect("notes with ANT_GDB_NATIVE=0", stderr.count(NOTE), 0)


WAYS = {"tree": Run.tree, "script": Run.script, "directory": Run.directory, "build": Run.build_loader,
        "note": Run.note}


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in WAYS:
        sys.exit(__doc__)
    way, source, build, program, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    run = Run(source, build, program, workdir)
    WAYS[way](run)
    if run.failures:
        print("FAIL (%s)\n- %s" % (way, "\n- ".join(run.failures)))
        return 1
    print("PASS (%s)" % way)
    return 0


if __name__ == "__main__":
    sys.exit(main())
