"""A real program's heap, read by the debugger: Python under the drop-in.

Usage: inspect_python.py EXTENSION LIBANTMALLOC WORKDIR

Runs Python under gdb with Ant preloaded (and PYTHONMALLOC=malloc, so that
every object is a block of Ant's), stops it by a signal once it has built
its objects, writes a core with gcore, then reads the core: tens of
thousands of blocks, ant-check finds no problem, and the walk agrees with
the summary.
"""
import os
import sys

PROGRAM = """
import os, signal
keep = [("item-%d" % i, [i] * (i % 5), {"k": i}) for i in range(20000)]
os.kill(os.getpid(), signal.SIGTRAP)
print(len(keep))
"""
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gdb"))
from gdbrun import first_json, marked, run, sections  # noqa: E402  (found through the path above)


def results(stdout):
    return {name: first_json(text) for name, text in sections(stdout).items()}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    extension, lib, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    script = os.path.join(workdir, "objects.py")
    core = os.path.join(workdir, "python.core")
    with open(script, "w") as f:
        f.write(PROGRAM)
    if os.path.exists(core):
        os.remove(core)
    python = os.path.realpath(sys.executable)
    _, out, err = run(["-ex", "source " + extension, "-ex", "set startup-with-shell off",
                       "-ex", "set environment LD_PRELOAD=" + lib, "-ex", "set environment PYTHONMALLOC=malloc",
                       "-ex", "run " + script] + marked([("live", "ant-heap --json")]) +
                      ["-ex", "gcore " + core, "-ex", "kill", python])
    failures = []
    live = results(out).get("live")
    if not live or not os.path.exists(core):
        sys.exit("FAIL: Python did not stop with an Ant heap:\n%s\n%s" % (out[-3000:], err[-3000:]))

    status, out, err = run(["-ex", "source " + extension, python, "-ex", "core-file " + core] +
                           marked([("heap", "ant-heap --json"), ("walk", "ant-walk --json"),
                                   ("check", "ant-check --json")]))
    found = results(out)
    heap, walk, check = found.get("heap"), found.get("walk"), found.get("check")
    if None in (heap, walk, check):
        sys.exit("FAIL: a command printed no JSON:\n%s\n%s" % (out[-3000:], err[-3000:]))
    if heap["used_blocks"] < 10000:
        failures.append("only %d used blocks; expected tens of thousands" % heap["used_blocks"])
    if live["blocks"] != heap["blocks"] or live["requested_bytes"] != heap["requested_bytes"]:
        failures.append("the live heap and its core disagree: %d/%d blocks, %d/%d bytes"
                        % (live["blocks"], heap["blocks"], live["requested_bytes"], heap["requested_bytes"]))
    if not check.get("ok") or check.get("problems") or heap["problems"]:
        failures.append("ant-check found problems: %r" % check.get("problems", [])[:5])
    if status != 0:
        failures.append("gdb -batch exited %d on a sound heap" % status)
    used = [row for row in walk if row["state"] == "used"]
    free = [row for row in walk if row["state"] == "free"]
    totals = {
        "blocks": len(walk),
        "used_blocks": len(used),
        "free_blocks": len(free),
        "requested_bytes": sum(row["requested"] for row in used),
        "free_bytes": sum(row["size"] for row in free),
    }
    for key, value in totals.items():
        if heap[key] != value:
            failures.append("ant-heap says %s = %d, the walk adds up to %d" % (key, heap[key], value))
    if failures:
        print("FAIL\n- " + "\n- ".join(failures))
        return 1
    print("PASS: Python's heap under Ant: %d blocks (%d used, %.1f MiB requested), no problems"
          % (heap["blocks"], heap["used_blocks"], heap["requested_bytes"] / 2**20))
    return 0


if __name__ == "__main__":
    sys.exit(main())
