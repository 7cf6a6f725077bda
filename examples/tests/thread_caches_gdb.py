"""The thread-caches example seen from gdb, live and in its core.

    thread_caches_gdb.py PROGRAM ANT_GDB_PY WORKDIR

The program prints its workers' thread ids and how many blocks wait in
caches, then stops. ant-heap must list a cache for each worker under that
thread id, ant-walk --cached exactly the blocks the program counted, and
ant-check no problem; the same again from a core written by gcore.
"""
import json
import os
import re
import subprocess
import sys

SETTINGS = ["set pagination off", "set confirm off", "set width 0", "set style enabled off",
            "set debuginfod enabled off"]


def gdb(program, script, commands, core=None):
    argv = ["gdb", "-nx", "-batch"]
    for setting in SETTINGS:
        argv += ["-iex", setting]
    argv += ["-ex", "source " + script]
    for command in commands:
        argv += ["-ex", command]
    argv.append(program)
    if core:
        argv.append(core)
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    if "Traceback" in proc.stdout or "Python Exception" in proc.stdout:
        fail("a Python error escaped:\n" + proc.stdout)
    return proc.stdout


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def expect(output, threads, cached, where):
    for thread in threads:
        if not re.search(r"cache 0x[0-9a-f]+ thread %s live: \d+ block" % thread, output):
            fail("%s: ant-heap lists no live cache of thread %s:\n%s" % (where, thread, output))
    if "ant-check: OK" not in output:
        fail("%s: ant-check found problems:\n%s" % (where, output))
    lines = output.splitlines()
    if "[" not in lines or "]" not in lines:
        fail("%s: ant-walk --cached --json printed no array:\n%s" % (where, output))
    start = lines.index("[")
    rows = json.loads("\n".join(lines[start:lines.index("]", start) + 1]))
    if len(rows) != cached or any(row["state"] != "cached" for row in rows):
        fail("%s: ant-walk --cached --json gave %d rows, the program counted %d cached "
             "blocks:\n%s" % (where, len(rows), cached, output))
    print("%s: caches of threads %s, %d cached blocks, no problems"
          % (where, ", ".join(threads), cached))


def main():
    program, script, workdir = sys.argv[1:4]
    os.makedirs(workdir, exist_ok=True)
    core = os.path.join(workdir, "thread-caches.core")
    if os.path.exists(core):
        os.remove(core)
    look = ["ant-heap", "ant-check", "ant-walk --cached --json"]
    live = gdb(program, script, ["run"] + look + ["gcore " + core, "kill"])
    threads = re.findall(r"worker: +thread (\d+)", live)
    counted = re.search(r"(\d+) cached blocks:", live)
    if len(threads) != 2 or not counted:
        fail("the program did not reach its stop:\n" + live)
    cached = int(counted.group(1))
    if cached == 0:
        fail("the program left no block in a cache:\n" + live)
    expect(live, threads, cached, "live")
    if not os.path.exists(core):
        fail("gcore wrote no core:\n" + live)
    expect(gdb(program, script, look, core), threads, cached, "core")
    os.remove(core)


if __name__ == "__main__":
    main()
