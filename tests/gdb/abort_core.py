"""A core left by the allocator's own abort: the debugger must agree with it.

Usage: abort_core.py EXTENSION PROGRAM WORKDIR

Runs PROGRAM (an example with one bug) under gdb until Ant reports the bug
and aborts, writes a core there with gcore, then reads the core in a new
gdb: ant-heap must show the allocator's last error (the same kind, block
and message as the report on stderr) and, where the damage is still in the
heap, ant-check must name the same kind on the same block.
"""
import os
import re
import sys

from gdbrun import first_json, marked, run, sections

REPORT = re.compile(r"^ant: ([a-z-]+): .*?(?:free )?block (0x[0-9a-f]+)", re.M)
# A double free leaves the heap whole: only the last-error record tells.
STILL_IN_HEAP = {"overflow", "use-after-free", "header"}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    extension, program, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    core = os.path.join(workdir, "abort.core")
    if os.path.exists(core):
        os.remove(core)
    _, out, err = run(["-ex", "run", "-ex", "gcore " + core, "-ex", "kill", program])
    report = REPORT.search(err + out)
    failures = []
    if not report:
        sys.exit("FAIL: no 'ant: KIND: ... block 0x...' report from %s:\n%s" % (program, (err + out)[-3000:]))
    kind, mem = report.group(1), int(report.group(2), 16)
    if "SIGABRT" not in out + err:
        failures.append("the program did not stop with SIGABRT")
    if not os.path.exists(core):
        sys.exit("FAIL: gcore wrote no core:\n" + (out + err)[-3000:])

    status, out, err = run(["-ex", "source " + extension, program, "-ex", "core-file " + core] +
                           marked([("heap", "ant-heap --json")]))
    heap = first_json(sections(out).get("heap", ""))
    last = (heap or {}).get("last_error") or {}
    if last.get("kind_name") != kind or last.get("mem") != mem:
        failures.append("ant-heap's last error is %r on %r; the report said %s on %#x"
                        % (last.get("kind_name"), last.get("mem"), kind, mem))
    if report.group(0) not in last.get("message", ""):
        failures.append("the last error's message %r is not the report" % last.get("message"))

    status, out, err = run(["-ex", "source " + extension, program, "-ex", "core-file " + core] +
                           marked([("check", "ant-check --json")]))
    check = first_json(sections(out).get("check", "")) or {}
    found = [(p.get("kind"), p.get("mem")) for p in check.get("problems", [])]
    if kind in STILL_IN_HEAP:
        if (kind, mem) not in found:
            failures.append("ant-check on the core found %r, the allocator reported %s on %#x" % (found, kind, mem))
        if status == 0:
            failures.append("gdb -batch exited 0 though ant-check found problems")
    if "Traceback" in out + err:
        failures.append("a Python traceback reached the user")
    if failures:
        print("FAIL (%s)\n- %s\n---- gdb ----\n%s\n%s" % (os.path.basename(program), "\n- ".join(failures),
                                                          out[-3000:], err[-2000:]))
        return 1
    print("PASS (%s): the allocator and ant-check agree: %s on %#x" % (os.path.basename(program), kind, mem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
