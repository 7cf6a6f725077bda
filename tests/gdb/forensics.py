"""End to end: ant-walk's filters and order on a real heap, live and on a
core, against the program's own account (tests/gdb/forensics.c).

Usage:
  forensics.py live EXTENSION PROGRAM WORKDIR [--stripped]
  forensics.py core EXTENSION PROGRAM WORKDIR [--stripped]

live: runs PROGRAM under gdb to its first stop, saves the walk there
(stop1.json), runs the commands, goes on to the second stop, runs them
again, saves that walk (stop2.json) and writes a core. core: reads that
core and runs them once more. What each command printed is checked
against the full walk of the same heap and the manifest the program
wrote. One gdb per run; this script, not gdb's exit status, decides.
"""
import fnmatch
import json
import os
import sys

import gdbrun


def load(path):
    with open(path) as f:
        return json.load(f)


class Run:
    """The commands of one gdb run, each in its own section, and the checks
    of what they printed once it is over."""

    def __init__(self, work, stripped):
        self.work = work
        self.stripped = stripped
        self.commands = []
        self.checks = []
        self.failures = []

    def add(self, name, command, check=None, error=False):
        """`error`: the command is expected to fail, and its error is to
        be read in its own section rather than among gdb's other errors."""
        if error:
            command = ("python exec(%r)" % ("try:\n gdb.execute(%r)\nexcept gdb.error as e:\n"
                                            " print('gdb error: %%s' %% e)" % command))
        self.commands.append((name, command))
        if check is not None:
            self.checks.append((name, check))

    def fail(self, text):
        self.failures.append(text)

    def json_of(self, out, name):
        try:
            value = gdbrun.first_json(out.get(name, ""))
        except ValueError as error:
            value = None
            self.fail("%s: bad JSON (%s)" % (name, error))
        if value is None:
            self.fail("%s printed no JSON: %r" % (name, out.get(name, "")[:400]))
        return value

    def verify(self, out):
        for name, check in self.checks:
            check(name, out)


def same_rows(run, name, got, expected):
    if got is None:
        return
    keys = [row["mem"] for row in got]
    want = [row["mem"] for row in expected]
    if keys != want:
        run.fail("%s: %d rows %s..., expected %d rows %s..." % (
            name, len(keys), [hex(k) for k in keys[:4]], len(want), [hex(k) for k in want[:4]]))


def walk_filters(run, stop, walk_path):
    """ant-walk's filters and order on the heap at hand, whose full walk
    is (or will be, once gdb has run) at walk_path."""
    tag = "stop%d" % stop

    def expect(rows_of):
        def check(name, out):
            same_rows(run, name, run.json_of(out, name), rows_of(load(walk_path)))
        return check

    run.add(tag + "-sorted", "ant-walk --json --sort requested --reverse --limit 5",
            expect(lambda rows: sorted(rows, key=lambda r: r["requested"], reverse=True)[:5]))
    run.add(tag + "-by-size", "ant-walk --json --sort size --free",
            expect(lambda rows: sorted((r for r in rows if r["state"] == "free"),
                                       key=lambda r: r["size"])))
    run.add(tag + "-serial", "ant-walk --json --serial 100-199",
            expect(lambda rows: [r for r in rows if 100 <= r["serial"] <= 199]))
    run.add(tag + "-requested", "ant-walk --json --used --requested 100-4K",
            expect(lambda rows: [r for r in rows
                                 if r["state"] == "used" and 100 <= r["requested"] <= 4096]))
    run.add(tag + "-arena", "ant-walk --json --arena 0 --min-size 4K",
            expect(lambda rows: [r for r in rows if r["arena"] == 0 and r["size"] >= 4096]))

    def no_arena(name, out):
        if "no arena 9" not in out.get(name, ""):
            run.fail("%s: no clear error for an arena the heap lacks: %r" % (name, out.get(name)))
    run.add(tag + "-no-arena", "ant-walk --arena 9", no_arena, error=True)
    if not run.stripped:
        def named(rows):
            return [r for r in rows if any(fnmatch.fnmatchcase(r["site_symbol"] or "", glob)
                                           for glob in ("make_n*",))]

        def by_name(name, out):
            rows = run.json_of(out, name)
            expected = named(load(walk_path))
            same_rows(run, name, rows, expected)
            if stop == 1 and len(expected) != 400:
                run.fail("%s: %d rows from make_node and make_name, expected 400"
                         % (name, len(expected)))
        run.add(tag + "-site", "ant-walk --json --site make_n*", by_name)


def site_by_hex(run, walk_path, manifest):
    """--site with a site's address, as a program without symbols has it:
    the grow_table blocks (TABLES of 4096 bytes, the only ones)."""
    rows = load(walk_path)
    tables = [r for r in rows if r["state"] == "used" and r["requested"] == 4096]
    if not tables:
        run.fail("no 4096-byte block in the walk")
        return
    site = tables[0]["site"]

    def check(name, out):
        got = run.json_of(out, name)
        same_rows(run, name, got, [r for r in rows if r["site"] == site])
        if got is not None and len(got) != manifest["sites"]["grow_table"][0]:
            run.fail("%s: %d blocks from grow_table, expected %d" % (
                name, len(got), manifest["sites"]["grow_table"][0]))
    run.add("core-site-hex", "ant-walk --json --site 0x%x" % site, check)


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[0] not in ("live", "core"):
        sys.exit(__doc__)
    mode, extension, program, work = args[:4]
    stripped = "--stripped" in args
    os.makedirs(work, exist_ok=True)
    manifest_path = os.path.join(work, "manifest.json")
    stops = [os.path.join(work, "stop%d.json" % n) for n in (1, 2)]
    core = os.path.join(work, "core")
    run = Run(work, stripped)
    argv = ["-ex", "source " + extension]
    if mode == "live":
        for stale in stops + [core, manifest_path, os.path.join(work, "manifest1.json")]:
            if os.path.exists(stale):
                os.remove(stale)
        argv += [program, "-ex", "run " + manifest_path]
        run.add("copy", "shell cp %s %s" % (manifest_path, os.path.join(work, "manifest1.json")))
        run.add("save1", "ant-walk --json --output " + stops[0])
        walk_filters(run, 1, stops[0])
        run.add("on", "continue")
        run.add("save2", "ant-walk --json --output " + stops[1])
        walk_filters(run, 2, stops[1])
        run.add("gcore", "gcore " + core)
    else:
        argv += [program, "-ex", "core-file " + core]
        walk_filters(run, 2, stops[1])
        site_by_hex(run, stops[1], load(manifest_path))
    argv += gdbrun.marked(run.commands)
    if mode == "live":
        argv += ["-ex", "kill"]
    status, stdout, stderr = gdbrun.run(argv)
    out = gdbrun.sections(stdout)
    for path in stops:
        if not os.path.exists(path):
            run.fail("no walk saved at %s" % path)
    if "Traceback" in stdout + stderr:
        run.fail("a Python traceback reached the user")
    if not run.failures:
        run.verify(out)
    if run.failures:
        print("FAIL (%s)\n- %s" % (mode, "\n- ".join(run.failures)))
        print("---- gdb stdout ----\n" + stdout[-6000:])
        print("---- gdb stderr ----\n" + stderr[-3000:])
        return 1
    print("PASS (%s): %d commands" % (mode, len(run.commands)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
