"""A real program's heap, read by the debugger: Python under the drop-in.

Usage: inspect_python.py EXTENSION LIBANTMALLOC WORKDIR

Runs Python under gdb with Ant preloaded (and PYTHONMALLOC=malloc, so that
every object is a block of Ant's), stops it by a signal once it has built
its objects, writes a core with gcore, then reads the core: tens of
thousands of blocks, ant-check finds no problem, and the walk agrees with
the summary.
"""
import json
import os
import subprocess
import sys

PROGRAM = """
import os, signal
keep = [("item-%d" % i, [i] * (i % 5), {"k": i}) for i in range(20000)]
os.kill(os.getpid(), signal.SIGTRAP)
print(len(keep))
"""
MARK = "@@ant-real "


def gdb(args):
    argv = ["gdb", "-nx", "-batch", "-iex", "set pagination off", "-iex", "set confirm off",
            "-iex", "set width 0", "-iex", "set style enabled off"] + args
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=600)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def sections(text):
    parts, name = {}, None
    for line in text.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK):].strip()
            parts[name] = []
        elif name:
            parts[name].append(line)
    decoder = json.JSONDecoder()
    out = {}
    for key, lines in parts.items():
        body = "\n".join(lines)
        start = min([i for i in (body.find("{"), body.find("[")) if i >= 0], default=-1)
        out[key] = decoder.raw_decode(body[start:])[0] if start >= 0 else None
    return out


def commands(names):
    argv = []
    for name, command in names:
        argv += ["-ex", "echo \\n%s%s\\n" % (MARK, name), "-ex", command]
    return argv


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
    _, out, err = gdb(["-ex", "source " + extension, "-ex", "set startup-with-shell off",
                       "-ex", "set environment LD_PRELOAD=" + lib, "-ex", "set environment PYTHONMALLOC=malloc",
                       "-ex", "run " + script] + commands([("live", "ant-heap --json")]) +
                      ["-ex", "gcore " + core, "-ex", "kill", python])
    failures = []
    live = sections(out).get("live")
    if not live or not os.path.exists(core):
        sys.exit("FAIL: Python did not stop with an Ant heap:\n%s\n%s" % (out[-3000:], err[-3000:]))

    status, out, err = gdb(["-ex", "source " + extension, python, "-ex", "core-file " + core] +
                           commands([("heap", "ant-heap --json"), ("walk", "ant-walk --json"),
                                     ("check", "ant-check --json")]))
    found = sections(out)
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
