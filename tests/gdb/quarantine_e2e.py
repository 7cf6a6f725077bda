"""The quarantine read by the debugger, live and on a core.

Usage: quarantine_e2e.py EXTENSION PROGRAM WORKDIR

PROGRAM is tests/gdb/quarantine.c, run with ANT_OPTIONS=quarantine=1m and
stopped in at_the_heap(), where gcore writes a core. Live and on the core,
with and without a write after free into one quarantined block: ant-walk
--json shows each block the program freed in state "quarantined" and
ant-walk --quarantined lists them; ant-heap --json counts them; ant-block
names one quarantined; ant-sites --free counts them; ant-leaks names none
of them; and ant-check says nothing of a sound heap, and names
use-after-free (I3) at the damaged block, and nothing else.
"""
import os
import re
import sys

from gdbrun import first_json, marked, run, sections

COMMANDS = [("walk", "ant-walk --json"), ("walk-text", "ant-walk --quarantined"),
            ("heap", "ant-heap --json"), ("check", "ant-check --json"),
            ("sites", "ant-sites --free --json"), ("leaks", "ant-leaks --json")]


def commands(extension, mem):
    return ["-ex", "source " + extension] + marked(
        COMMANDS + [("block", "ant-block 0x%x" % mem), ("block-json", "ant-block --json 0x%x" % mem)])


def judge(where, out, err, freed, damaged):
    failures = []
    parts = sections(out)
    rows = first_json(parts.get("walk", "")) or []
    states = {row["mem"]: row["state"] for row in rows}
    wrong = [mem for mem in freed if states.get(mem) != "quarantined"]
    if wrong:
        failures.append("ant-walk --json shows %d freed blocks not quarantined: %s"
                        % (len(wrong), ["%#x: %s" % (m, states.get(m)) for m in wrong[:3]]))
    listed = {int(m, 16) for m in re.findall(r"0x[0-9a-f]+\s+(0x[0-9a-f]+)", parts.get("walk-text", ""))}
    if not set(freed) <= listed or any(states.get(mem) != "quarantined" for mem in listed):
        failures.append("ant-walk --quarantined lists %r" % parts.get("walk-text", "")[:500])
    heap = first_json(parts.get("heap", "")) or {}
    if heap.get("layout_version") != 6 or heap.get("quarantined_blocks", 0) < len(freed) \
            or heap.get("quarantine") != 1 << 20:
        failures.append("ant-heap --json: version %r, %r quarantined blocks, quarantine %r"
                        % (heap.get("layout_version"), heap.get("quarantined_blocks"),
                           heap.get("quarantine")))
    check = first_json(parts.get("check", "")) or {}
    found = [(p["kind"], p["invariant"], p["mem"]) for p in check.get("problems", [])
             if p.get("source") == "walk"]
    want = [("use-after-free", "I3", damaged)] if damaged else []
    if found != want:
        failures.append("ant-check finds %r, not %r" % (found, want))
    sites = first_json(parts.get("sites", "")) or []
    counted = sum(group.get("blocks", 0) for group in sites)
    if counted < len(freed):
        failures.append("ant-sites --free counts %d blocks: %r" % (counted, parts.get("sites", "")[:300]))
    leaks = first_json(parts.get("leaks", "")) or {}
    named = {row.get("mem") for row in leaks.get("leaked", [])}
    if "leaked" not in leaks or named & set(freed):
        failures.append("ant-leaks names quarantined blocks: %r" % parts.get("leaks", "")[:300])
    block = parts.get("block", "")
    if "quarantined, " not in block or "freed at " not in block or "quarantine links" not in block:
        failures.append("ant-block says %r" % block[:400])
    facts = first_json(parts.get("block-json", "")) or {}
    if facts.get("state") != "quarantined":
        failures.append("ant-block --json has state %r" % facts.get("state"))
    if "Traceback" in out + err:
        failures.append("a Python traceback: %s" % (out + err)[-1500:])
    return ["%s: %s" % (where, failure) for failure in failures]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    extension, program, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    os.environ["ANT_OPTIONS"] = "quarantine=1m"
    failures = []
    for mode in ("sound", "damage"):
        core = os.path.join(workdir, mode + ".core")
        if os.path.exists(core):
            os.remove(core)
        stop = ["-ex", "break at_the_heap", "-ex", "run"]
        _, out, err = run(stop + ["-ex", "gcore " + core, "-ex", "kill", "--args", program, mode])
        freed = [int(m, 16) for m in re.findall(r"^quarantined (0x[0-9a-f]+)$", out, re.M)]
        hit = re.search(r"^damaged (0x[0-9a-f]+)$", out, re.M)
        damaged = int(hit.group(1), 16) if hit else None
        if not freed or not os.path.exists(core) or (mode == "damage") != bool(damaged):
            failures.append("%s: the program did not stop with its blocks freed:\n%s"
                            % (mode, (out + err)[-2000:]))
            continue
        mem = damaged or freed[0]
        _, out, err = run(stop + commands(extension, mem) + ["-ex", "kill", "--args", program, mode])
        failures += judge(mode + " live", out, err, freed, damaged)
        _, out, err = run([program, "-ex", "core-file " + core] + commands(extension, mem))
        failures += judge(mode + " core", out, err, freed, damaged)
    if failures:
        sys.exit("FAIL:\n" + "\n".join(failures))
    print("ok: quarantined blocks read live and on cores, sound and damaged")


if __name__ == "__main__":
    main()
