"""End to end: ant-walk's filters and order, ant-sites, ant-diff and
ant-break on a real heap, live and on a core, against the program's own
account (tests/gdb/forensics.c).

Usage:
  forensics.py live EXTENSION PROGRAM WORKDIR [--stripped] [--no-stacks]
  forensics.py core EXTENSION PROGRAM WORKDIR [--stripped] [--no-stacks]

live: runs PROGRAM under gdb to its first stop, saves the walk there
(stop1.json), runs the commands, goes on to the second stop, runs them
again, saves that walk (stop2.json) and writes a core. core: reads that
core and runs them once more. The program records call stacks (stack=N,
the default) unless --no-stacks runs it with stack=0: blocks are then
grouped by site, else by stack, and the stacks are checked too. What each command printed is checked
against the full walk of the same heap and the manifest the program
wrote. One gdb per run; this script, not gdb's exit status, decides.
"""
import fnmatch
import json
import os
import re
import subprocess
import sys

import gdbrun


def load(path):
    with open(path) as f:
        return json.load(f)


class Run:
    """The commands of one gdb run, each in its own section, and the checks
    of what they printed once it is over."""

    def __init__(self, work, stripped, program, stacks=True):
        self.work = work
        self.program = program
        self.stripped = stripped
        self.stacks = stacks
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
            for row in rows or ():
                check_stack(run, name, row)
            if stop == 1 and len(expected) != 400:
                run.fail("%s: %d rows from make_node and make_name, expected 400"
                         % (name, len(expected)))
        run.add(tag + "-site", "ant-walk --json --site make_n*", by_name)


def key(row):
    """What blocks are grouped by: their stack where one was recorded."""
    return tuple(row["stack"]) if row.get("stack") else row["site"]


def check_stack(run, name, row):
    """A row's stack: there with stacks on (its first frame the site, and
    callers up to main), null with them off."""
    stack = row.get("stack")
    if not run.stacks:
        if stack is not None:
            run.fail("%s: a stack %r with stack=0" % (name, stack))
        return
    if not stack or stack[0] != row["site"] or len(stack) < 2:
        run.fail("%s: site 0x%x has the stack %r" % (name, row["site"], stack))


def site_groups(run, stop, walk_path, manifest_path):
    """ant-sites against the program's account of its sites and against
    the full walk of the same heap: used blocks, then freed ones."""
    tag = "stop%d" % stop

    def expected(rows, states):
        groups = {}
        for row in rows:
            if row["state"] in states:
                group = groups.setdefault(key(row), [0, 0, row["serial"], row["serial"]])
                group[0] += 1
                group[1] += row["size"]
                group[2] = min(group[2], row["serial"])
                group[3] = max(group[3], row["serial"])
        return groups

    def used(name, out):
        got = run.json_of(out, name)
        if got is None:
            return
        manifest = load(manifest_path)
        account = sorted(tuple(value) for value in manifest["sites"].values())
        # The program counts by function; a function called from two
        # places has two stacks.
        by_site = {}
        for g in got:
            sums = by_site.setdefault(g["site"], [0, 0])
            sums[0] += g["blocks"]
            sums[1] += g["requested_bytes"]
        if sorted(tuple(value) for value in by_site.values()) != account:
            run.fail("%s: sites %r, the program allocated %r" % (
                name, [(g["where"], g["blocks"], g["requested_bytes"]) for g in got], account))
        if run.stacks and stop == 2 and len(got) <= len(by_site):
            run.fail("%s: %d groups for %d sites: make_name's two callers are not told apart"
                     % (name, len(got), len(by_site)))
        if [g["requested_bytes"] for g in got] != sorted((g["requested_bytes"] for g in got),
                                                         reverse=True):
            run.fail("%s: not largest requested first" % name)
        walked = expected(load(walk_path), ("used",))
        for g in got:
            check_stack(run, name, g)
            if walked.get(key(g)) != [g["blocks"], g["bytes"], g["first_serial"],
                                      g["last_serial"]]:
                run.fail("%s: site 0x%x is %r, the walk says %r" % (
                    name, g["site"], g, walked.get(key(g))))
            function = next((f for f, v in manifest["sites"].items()
                             if v == by_site[g["site"]]), None)
            callers = r"( < .*)?$" if run.stacks else "$"
            if run.stripped:
                # No symbol: the file and offset addr2line takes.
                if not re.match(r"^0x%x \(%s\+0x[0-9a-f]+\)%s" % (
                        g["site"], re.escape(os.path.basename(run.program)), callers),
                        g["where"] or ""):
                    run.fail("%s: a stripped program's site is named %r" % (name, g["where"]))
            elif not re.match(r"^%s\+\d+ at forensics\.c:\d+%s" % (function, callers), g["where"] or ""):
                run.fail("%s: the %s blocks' site is named %r" % (name, function, g["where"]))
            elif run.stacks and not re.search(r" < main\+\d+$", g["where"]):
                run.fail("%s: the %s blocks' stack does not end at main: %r" % (name, function, g["where"]))

    def freed(name, out):
        got = run.json_of(out, name)
        if got is None:
            return
        walked = expected(load(walk_path), ("free", "cached"))
        if {key(g): [g["blocks"], g["bytes"], g["first_serial"], g["last_serial"]]
                for g in got} != walked:
            run.fail("%s: %r, the walk says %r" % (name, got, walked))
        nodes = load(manifest_path)["sites"]["make_node"]
        if stop == 2 and [(g["blocks"], g["requested_bytes"]) for g in got] != [(150, 150 * 48)]:
            run.fail("%s: %r, the program freed 150 nodes of 48 bytes (%r live)"
                     % (name, got, nodes))

    def text(name, out):
        lines = out.get(name, "").splitlines()
        groups = len(expected(load(walk_path), ("used",)))
        if len(lines) != 3 or not lines[-1].startswith("%d sites, " % groups) \
                or "(the 1 largest shown)" not in lines[-1]:
            run.fail("%s: %r" % (name, lines))
    run.add(tag + "-sites", "ant-sites --json", used)
    run.add(tag + "-sites-free", "ant-sites --json --free", freed)
    run.add(tag + "-sites-text", "ant-sites --top 1", text)


def diffs(run, old_path, new_path, manifest_path, mode):
    """ant-diff of the first stop's walk with the heap at hand (the second
    stop, live or its core), and on a core with the second stop's walk
    too: new and freed blocks as the program made them."""
    def check(name, out):
        got = run.json_of(out, name)
        if got is None:
            return
        manifest = load(manifest_path)
        for key in ("new", "freed"):
            if sorted(row["mem"] for row in got.get(key, [])) != sorted(manifest[key]):
                run.fail("%s: %d %s blocks, the program made %d" % (
                    name, len(got.get(key, [])), key, len(manifest[key])))
        sites = [(row["new_blocks"], row["freed_blocks"], row["where"])
                 for row in got.get("by_site", [])]
        if [site[:2] for site in sites] != [(50, 0), (0, 150)]:
            run.fail("%s: by site %r" % (name, sites))
        elif not run.stripped and not (sites[0][2] or "").startswith("make_name+"):
            run.fail("%s: the new names' site is not named: %r" % (name, sites))

    def text(name, out):
        said = out.get(name, "")
        if "new 50 blocks" not in said or "freed 150 blocks" not in said:
            run.fail("%s: %r" % (name, said[:600]))

    def refused(words):
        def check_error(name, out):
            if words not in out.get(name, ""):
                run.fail("%s: no clear error saying %r: %r" % (name, words, out.get(name)))
        return check_error

    run.add(mode + "-diff", "ant-diff %s --json" % old_path, check)
    run.add(mode + "-diff-text", "ant-diff " + old_path, text)
    if mode == "core":
        run.add("files-diff", "ant-diff %s %s --json" % (old_path, new_path), check)
        other = os.path.join(run.work, "other-layout.json")
        with open(other, "w") as f:
            json.dump([dict(row, mem=row["node"] + 48) for row in load(old_path)], f)
        run.add("diff-other-layout", "ant-diff " + other, refused("another layout"), error=True)
        run.add("diff-no-walk", "ant-diff " + manifest_path, refused("not a walk"), error=True)
        run.add("diff-no-file", "ant-diff %s.missing" % old_path, refused("cannot read"),
                error=True)


def breaks(run, mode):
    """ant-break: live, set to the first serial no thread has taken yet,
    shown, hit (the block of that serial is the one allocated, from
    make_node), cleared, and the program runs to its end; on a core,
    shown and refused. Serials no node can have, and two, are refused."""
    state = {}

    def setting(expected):
        def check(name, out):
            got = run.json_of(out, name)
            if got is None:
                return
            state.setdefault("serial", got.get("serial"))
            want = expected() if callable(expected) else expected
            if got.get("break_serial") != want:
                run.fail("%s: break_serial %r, expected %r" % (name, got.get("break_serial"), want))
        return check

    def refused(words):
        def check(name, out):
            if words not in out.get(name, ""):
                run.fail("%s: no clear error saying %r: %r" % (name, words, out.get(name)))
        return check

    def hit(name, out):
        said = out.get(name, "")
        if "SIGTRAP" not in said:
            run.fail("%s: the program did not stop on SIGTRAP: %r" % (name, said[-400:]))

    def block(name, out):
        rows = run.json_of(out, name)
        if rows is None:
            return
        if [(row["serial"], row["state"], row["requested"]) for row in rows] != [
                (state.get("serial", 0) + 1, "used", 48)]:
            run.fail("%s: the block of the serial ant-break named is %r" % (name, rows))
        elif not run.stripped and not (rows[0]["site_symbol"] or "").startswith("make_node+"):
            run.fail("%s: it was allocated at %r" % (name, rows[0]["site_symbol"]))

    def ended(name, out):
        if "exited normally" not in out.get(name, ""):
            run.fail("%s: the program did not run to its end: %r" % (name, out.get(name)))

    for serial, words in (("x", "number"), ("1 2", "one serial"), ("281474976710656", "2^48")):
        run.add("%s-break-%s" % (mode, serial.replace(" ", "-")), "ant-break " + serial,
                refused(words), error=True)
    run.add(mode + "-break-none", "ant-break --json", setting(None))
    if mode == "core":
        run.add("core-break-refused", "ant-break 7", refused("core file cannot be changed"),
                error=True)
        return
    run.add("break-set", "python import json; gdb.execute('ant-break %d' % (json.loads("
            "gdb.execute('ant-break --json', to_string=True))['serial'] + 1))")
    run.add("break-shown", "ant-break --json", setting(lambda: state.get("serial", 0) + 1))
    run.add("break-hit", "continue", hit)
    run.add("break-block", "python gdb.execute('ant-walk --json --serial %d' % (json.loads("
            "gdb.execute('ant-break --json', to_string=True))['break_serial']))", block)
    run.add("break-clear", "ant-break 0")
    run.add("break-cleared", "ant-break --json", setting(None))
    run.add("break-end", "continue", ended)


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

    def addr2line(name, out):
        said = [line for line in out.get(name, "").splitlines() if line.startswith("module: ")]
        module = said[0][len("module: "):] if said else ""
        if not module.startswith(os.path.basename(run.program) + "+0x"):
            run.fail("%s: the site's file and offset are %r" % (name, module))
            return
        if run.stripped:
            return  # addr2line has no names in a stripped file
        found = subprocess.run(["addr2line", "-f", "-e", run.program, module.split("+")[1]],
                               stdout=subprocess.PIPE, universal_newlines=True).stdout
        if not found.startswith("grow_table\n"):
            run.fail("%s: addr2line says %r of %s" % (name, found, module))
    run.add("core-module", "python from antgdb import commands; "
            "print('module: %%s' %% commands.Modules()(%d))" % site, addr2line)


def block_stack(run, walk_path):
    """ant-block of a block make_name made: its stack, a frame a line, up
    to main (with stacks on); none with stack=0."""
    rows = [r for r in load(walk_path) if r["state"] == "used" and r["stack"] and len(r["stack"]) > 1] \
        if run.stacks else [r for r in load(walk_path) if r["state"] == "used"]
    if not rows:
        run.fail("no used block with a stack in the walk")
        return
    row = rows[-1]

    def check(name, out):
        lines = out.get(name, "").splitlines()
        if not run.stacks:
            if any(line.strip() == "allocated at:" for line in lines):
                run.fail("%s: a stack with stack=0: %r" % (name, lines))
            return
        at = [i for i, line in enumerate(lines) if line == "  allocated at:"]
        frames = lines[at[0] + 1:at[0] + 1 + len(row["stack"])] if at else []
        if [line.split()[0] for line in frames] != ["#%d" % i for i in range(len(row["stack"]))]:
            run.fail("%s: no frame a line after 'allocated at:': %r" % (name, lines))
        elif not run.stripped and not frames[-1].startswith("    #%d main+" % (len(row["stack"]) - 1)):
            run.fail("%s: the stack does not end at main: %r" % (name, frames))
    run.add("block-stack", "ant-block 0x%x" % row["mem"], check)


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[0] not in ("live", "core"):
        sys.exit(__doc__)
    mode, extension, program, work = args[:4]
    stripped = "--stripped" in args
    stacks = "--no-stacks" not in args
    os.makedirs(work, exist_ok=True)
    manifest_path = os.path.join(work, "manifest.json")
    stops = [os.path.join(work, "stop%d.json" % n) for n in (1, 2)]
    core = os.path.join(work, "core")
    run = Run(work, stripped, program, stacks)
    argv = ["-ex", "source " + extension]
    if not stacks:
        argv += ["-ex", "set environment ANT_OPTIONS stack=0"]
    if mode == "live":
        for stale in stops + [core, manifest_path, os.path.join(work, "manifest1.json")]:
            if os.path.exists(stale):
                os.remove(stale)
        argv += [program, "-ex", "run " + manifest_path]
        run.add("copy", "shell cp %s %s" % (manifest_path, os.path.join(work, "manifest1.json")))
        run.add("save1", "ant-walk --json --output " + stops[0])
        walk_filters(run, 1, stops[0])
        site_groups(run, 1, stops[0], os.path.join(work, "manifest1.json"))
        run.add("on", "continue")
        run.add("save2", "ant-walk --json --output " + stops[1])
        walk_filters(run, 2, stops[1])
        site_groups(run, 2, stops[1], manifest_path)
        diffs(run, stops[0], stops[1], manifest_path, "live")
        run.add("gcore", "gcore " + core)
        breaks(run, "live")
    else:
        argv += [program, "-ex", "core-file " + core]
        walk_filters(run, 2, stops[1])
        site_groups(run, 2, stops[1], manifest_path)
        diffs(run, stops[0], stops[1], manifest_path, "core")
        breaks(run, "core")
        site_by_hex(run, stops[1], load(manifest_path))
        block_stack(run, stops[1])
    argv += gdbrun.marked(run.commands)
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
