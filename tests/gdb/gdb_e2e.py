"""End-to-end: gdb in batch mode runs the ant-* commands on a real heap.

Usage:
  gdb_e2e.py live EXTENSION PROGRAM SCENARIO WORKDIR [--stripped] [--count N]
  gdb_e2e.py core EXTENSION PROGRAM SCENARIO WORKDIR [--stripped] [--no-program]

live: runs PROGRAM (tests/gdb/scenario.c) under gdb until it stops with its
heap planted with SCENARIO's damage, runs the commands, checks what they
say against the manifest the program wrote, and writes a core with gcore
for the core tests. core: reads that core, with or without the program,
and checks the same. One gdb per run, settings pinned; this script, not
gdb's exit status, decides pass or fail. Where ANT_GDB_NATIVE names the
native walker, a run that walked in Python fails.
"""
import json
import os
import sys

import gdbrun

HERE = os.path.dirname(os.path.abspath(__file__))


def gdb_args(args, extension):
    return ["-ex", "source " + extension] + args


def parse_json(text, what, failures):
    try:
        value = gdbrun.first_json(text)
    except ValueError as e:
        failures.append("%s printed bad JSON (%s): %r" % (what, e, text[:500]))
        return None
    if value is None:
        failures.append("%s printed no JSON: %r" % (what, text[:500]))
    return value


def commands_for(manifest):
    probe = manifest["damaged"] or manifest["blocks"][len(manifest["blocks"]) // 2][0]
    return [
        ("walker", "python from antgdb import native; print(native.describe())"),
        ("heap", "ant-heap --json"),
        ("walk", "ant-walk --json"),
        ("block", "ant-block %d --json" % (probe + 5)),
        ("heap-text", "ant-heap"),
        ("check", "ant-check --json"),
    ]


def verify(manifest, out, failures, scenario):
    heap = parse_json(out.get("heap", ""), "ant-heap --json", failures)
    walk = parse_json(out.get("walk", ""), "ant-walk --json", failures)
    block = parse_json(out.get("block", ""), "ant-block --json", failures)
    check = parse_json(out.get("check", ""), "ant-check --json", failures)
    if "Traceback" in "\n".join(out.values()):
        failures.append("a Python traceback reached the user")
    if os.environ.get("ANT_GDB_NATIVE", "0") != "0" and not out.get("walker", "").startswith("native"):
        failures.append("ANT_GDB_NATIVE is set, but the walk ran %r" % out.get("walker"))
    if None in (heap, walk, block, check):
        return
    expected = {mem: size for mem, size in manifest["blocks"]}
    damaged = manifest["damaged"]
    used = {row["mem"]: row["requested"] for row in walk if row["state"] == "used"}
    kind = manifest["kind"]

    for mem, size in expected.items():
        if mem == damaged and kind in ("header",):
            continue
        if used.get(mem) != size:
            failures.append("walk: block %#x of %d bytes is listed as %r" % (mem, size, used.get(mem)))
    if kind == "none":
        extra = set(used) - set(expected)
        if extra:
            failures.append("walk: %d used blocks nobody allocated, e.g. %#x" % (len(extra), min(extra)))
        if heap.get("used_blocks") != len(expected):
            failures.append("ant-heap: used_blocks %r, allocated %d" % (heap.get("used_blocks"), len(expected)))
        if heap.get("requested_bytes") != sum(expected.values()):
            failures.append("ant-heap: requested_bytes %r, allocated %d"
                            % (heap.get("requested_bytes"), sum(expected.values())))
        if not check.get("ok") or check.get("problems"):
            failures.append("ant-check found problems on a clean heap: %r" % check.get("problems"))
    else:
        if check.get("ok"):
            failures.append("ant-check says ok on a damaged heap")
        found = [(p.get("kind"), p.get("mem")) for p in check.get("problems", [])]
        if (kind, damaged) not in found:
            failures.append("ant-check: expected %s on %#x, found %r" % (kind, damaged, found))
        if scenario == "overflow-node" and ("overflow", manifest["culprit"]) not in found:
            failures.append("ant-check: the overflowing block %#x is not named: %r" % (manifest["culprit"], found))
        if heap.get("problems", 0) < 1:
            failures.append("ant-heap: problems %r on a damaged heap" % heap.get("problems"))
    for key in ("layout_version", "arenas", "regions", "blocks", "used_blocks", "free_blocks",
                "requested_bytes", "free_bytes", "wilderness_bytes", "mapped_bytes", "largest_free", "problems"):
        if key not in heap:
            failures.append("ant-heap --json lacks %r" % key)
    probe = damaged or manifest["blocks"][len(manifest["blocks"]) // 2][0]
    if block.get("mem") != probe:
        failures.append("ant-block: the block holding %#x is %r" % (probe + 5, block.get("mem")))
    for key in ("node", "mem", "size", "requested", "state", "serial", "site", "prev", "next"):
        if key not in block:
            failures.append("ant-block --json lacks %r" % key)
    if check.get("blocks", 0) < len(expected):
        failures.append("ant-check: blocks %r, fewer than the %d allocated" % (check.get("blocks"), len(expected)))


def main():
    args = sys.argv[1:]
    if len(args) < 5 or args[0] not in ("live", "core"):
        sys.exit(__doc__)
    mode, extension, program, scenario, workdir = args[:5]
    stripped = "--stripped" in args
    no_program = "--no-program" in args
    count = args[args.index("--count") + 1] if "--count" in args else "1000"
    os.makedirs(workdir, exist_ok=True)
    manifest_path = os.path.join(workdir, "manifest.json")
    core_path = os.path.join(workdir, "core")
    failures = []

    if mode == "live":
        for stale in (manifest_path, core_path, os.path.join(workdir, "expected.json")):
            if os.path.exists(stale):
                os.remove(stale)
        planted = "clean" if scenario == "gdb-scribble" else scenario
        argv = gdb_args([program], extension)
        argv += [] if stripped else ["-ex", "break ant_test_stop"]
        argv += ["-ex", "run %s %s %s" % (planted, manifest_path, count),
                 "-ex", "source " + os.path.join(HERE, "at_stop.py"), "-ex", "kill"]
        os.environ["ANT_E2E_WORKDIR"] = workdir
        os.environ["ANT_E2E_SCENARIO"] = scenario
        os.environ["ANT_E2E_HERE"] = HERE
        status, stdout, stderr = gdbrun.run(argv)
        expected = os.path.join(workdir, "expected.json")
        if not os.path.exists(expected):
            sys.exit("FAIL: the program did not reach its stop:\n%s\n%s" % (stdout[-3000:], stderr[-3000:]))
        with open(expected) as f:
            manifest = json.load(f)
        if not os.path.exists(core_path):
            failures.append("gcore wrote no core")
    else:
        with open(os.path.join(workdir, "expected.json")) as f:
            manifest = json.load(f)
        argv = gdb_args([] if no_program else [program], extension)
        argv += ["-ex", "core-file " + core_path]
        argv += gdbrun.marked(commands_for(manifest))
        status, stdout, stderr = gdbrun.run(argv)
        clean = manifest["kind"] == "none"
        if clean and status != 0:
            failures.append("gdb -batch exited %d on a clean core" % status)
        if not clean and status == 0:
            failures.append("gdb -batch exited 0 though ant-check found problems")

    out = gdbrun.sections(stdout)
    verify(manifest, out, failures, scenario)
    if failures:
        print("FAIL (%s %s)\n- %s" % (mode, scenario, "\n- ".join(failures)))
        print("---- gdb stdout ----\n" + stdout[-6000:])
        print("---- gdb stderr ----\n" + stderr[-3000:])
        return 1
    print("PASS (%s %s): %d blocks" % (mode, scenario, len(manifest["blocks"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
