"""Bugs caught at the access, read back by the debugger, live and on a core.

Usage: guard_core.py EXTENSION PROGRAM WORKDIR

PROGRAM is tests/c/test_guard. Each of its scenarios runs under gdb with
guard=1 (guard=0 for big blocks) until Ant's SIGSEGV handler reports the
access and aborts; there, live, and then on a core written by gcore,
ant-heap must show the report as the last error, with the guarded and
kept counts, ant-block on the block must say what it is (a guarded block
and its guard's side, or a freed block with its free's site), and
ant-walk's row of a guarded block (text and JSON) its guard's side.
"""
import os
import re
import sys

from gdbrun import first_json, marked, run, sections

REPORT = re.compile(r"^ant: ([a-z-]+): (?:read|write|free) .*?block (0x[0-9a-f]+) \(", re.M)
# scenario: (options, kind, what ant-block's text must say, its JSON's facts)
SCENARIOS = {
    "overflow": ("guard=1", "overflow", "guarded: a guard page right after it", {"guard": "after"}),
    "underflow": ("guard=1", "underflow", "guarded: a guard page right before it", {"guard": "before"}),
    "read_after_free": ("guard=1", "use-after-free", "of freed guarded block",
                        {"state": "freed", "guard": "after"}),
    "big_write_after_free": ("guard=0", "use-after-free", "of freed big block",
                             {"state": "freed", "guard": None, "requested": 1 << 20}),
    "big_double_free": ("guard=0", "double-free", "of freed big block",
                        {"state": "freed", "guard": None, "requested": 1 << 20}),
}


def commands(extension, mem):
    return ["-ex", "source " + extension] + marked([
        ("heap", "ant-heap --json"), ("block", "ant-block 0x%x" % mem),
        ("block-json", "ant-block --json 0x%x" % mem), ("walk", "ant-walk --json"),
        ("walk-text", "ant-walk")])


def judge(where, scenario, out, err, kind, mem, report, text, facts):
    failures = []
    parts = sections(out)
    heap = first_json(parts.get("heap", "")) or {}
    last = heap.get("last_error") or {}
    if last.get("kind_name") != kind or last.get("mem") != mem or report not in last.get("message", ""):
        failures.append("%s: ant-heap's last error is %r on %r, the report said %s on %#x"
                        % (where, last.get("kind_name"), last.get("mem"), kind, mem))
    freed = facts.get("state") == "freed"
    if heap.get("kept_freed_blocks", 0) < (1 if freed else 0) or heap.get("layout_version", 0) < 5:
        failures.append("%s: ant-heap shows version %r and %r kept freed blocks"
                        % (where, heap.get("layout_version"), heap.get("kept_freed_blocks")))
    if not freed and heap.get("guarded_blocks", 0) < 1:
        failures.append("%s: ant-heap shows no guarded block" % where)
    block = parts.get("block", "")
    if text not in block or (freed and "freed at " not in block):
        failures.append("%s: ant-block says %r, not %r" % (where, block.strip(), text))
    found = first_json(parts.get("block-json", "")) or {}
    for key, value in facts.items():
        if found.get(key) != value:
            failures.append("%s: ant-block --json has %s %r, not %r" % (where, key, found.get(key), value))
    rows = [row for row in first_json(parts.get("walk", "")) or [] if row.get("mem") == mem]
    if not freed and [row.get("guard") for row in rows] != [facts["guard"]]:
        failures.append("%s: ant-walk --json's rows of mem %#x are %r" % (where, mem, rows))
    lines = [line for line in parts.get("walk-text", "").splitlines() if " 0x%x " % mem in line]
    if not freed and not (len(lines) == 1 and lines[0].endswith("[guard page %s]" % facts["guard"])):
        failures.append("%s: ant-walk's rows of mem %#x are %r" % (where, mem, lines))
    if freed and rows:
        failures.append("%s: ant-walk --json shows the freed block %#x" % (where, mem))
    if found.get("mem") != mem:
        failures.append("%s: ant-block --json names mem %r, not %#x" % (where, found.get("mem"), mem))
    if "Traceback" in out + err:
        failures.append("%s: a Python traceback" % where)
    return ["%s: %s" % (scenario, failure) for failure in failures]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    extension, program, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    failures = []
    for scenario, (options, kind, text, facts) in SCENARIOS.items():
        os.environ["ANT_OPTIONS"] = options
        core = os.path.join(workdir, scenario + ".core")
        if os.path.exists(core):
            os.remove(core)
        # gdb stops at the fault first; the handler must have it.
        _, out, err = run(["-ex", "handle SIGSEGV nostop noprint pass", "-ex", "run",
                           "-ex", "gcore " + core, "-ex", "kill", "--args", program, "--child", scenario])
        report = REPORT.search(err + out)
        if not report or "SIGABRT" not in out + err or not os.path.exists(core):
            failures.append("%s: no report, abort and core:\n%s" % (scenario, (err + out)[-2000:]))
            continue
        mem = int(report.group(2), 16)
        line = err[report.start():].split("\n", 1)[0] if report.group(0) in err else report.group(0)
        _, out, err = run(["-ex", "handle SIGSEGV nostop noprint pass", "-ex", "run"]
                          + commands(extension, mem) + ["-ex", "kill", "--args", program, "--child", scenario])
        failures += judge("live", scenario, out, err, report.group(1), mem, line, text, facts)
        if report.group(1) != kind:
            failures.append("%s: the report names %s, not %s" % (scenario, report.group(1), kind))
        _, out, err = run([program, "-ex", "core-file " + core] + commands(extension, mem))
        failures += judge("core", scenario, out, err, kind, mem, line, text, facts)
    if failures:
        sys.exit("FAIL:\n" + "\n".join(failures))
    print("ok: %d scenarios, live and on their cores" % len(SCENARIOS))


if __name__ == "__main__":
    main()
