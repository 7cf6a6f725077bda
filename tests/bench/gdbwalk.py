"""The million-block walk: how long the gdb extension takes on a big core.

bench_million (million.c) builds a heap of a million blocks with the ant_*
API and stops on SIGTRAP; gdb writes its core once with gcore. Each command
then runs in a gdb of its own on that core, and so does gdb with nothing
but the program and the core, whose time is subtracted: what remains is
ours (loading the extension, walking, rendering). Ant only: no other
allocator has a heap these commands read. The notes name the walker the
extension ran: the native one, or Python and why.
"""
import os
import statistics
import subprocess
import time

SETTINGS = ["set pagination off", "set confirm off", "set width 0", "set style enabled off",
            "set debuginfod enabled off"]


def gdb_argv(program, ex):
    argv = ["gdb", "-nx", "-batch"]
    for setting in SETTINGS:
        argv += ["-iex", setting]
    for command in ex:
        argv += ["-ex", command]
    return argv + [program]


def walker(program, extension, env):
    """Which walker the extension runs in this environment, as
    antgdb.native.describe() says: "native (PATH)" or "python (why)"."""
    argv = gdb_argv(program, ["source " + extension, "python from antgdb import native; "
                              "print('walker: ' + native.describe())"])
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                         timeout=600).stdout
    said = [line[len("walker: "):] for line in out.splitlines() if line.startswith("walker: ")]
    if not said:
        raise RuntimeError("gdb did not say which walker the extension runs: " + out[-600:])
    return said[0]


def write_core(program, core):
    if os.path.exists(core):
        os.remove(core)
    argv = gdb_argv(program, ["run", "gcore " + core, "kill"])
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    seconds = time.perf_counter() - start
    if not os.path.exists(core):
        raise RuntimeError("gdb wrote no core: " + proc.stdout[-600:])
    heap = [line.split(":", 1)[1].strip() for line in proc.stdout.splitlines()
            if line.startswith("million:")]
    return seconds, heap[0] if heap else "a heap the program did not describe"


def count_lines(path):
    lines = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return lines


class Step:
    """One gdb run: its commands after loading the core, and how to tell
    from its output (or the file it wrote) that it did its work."""

    def __init__(self, name, commands, verify):
        self.name = name
        self.commands = commands
        self.verify = verify
        self.seconds = []
        self.result = ""


def steps(extension, core, walk_file):
    def nothing(out):
        return ""

    def heap(out):
        blocks = [line.split(None, 1)[1] for line in out.splitlines()
                  if line.strip().startswith("blocks ")]
        if not blocks:
            raise RuntimeError("ant-heap printed no block count: " + out[-600:])
        return blocks[0].strip()

    def walk(out):
        # The array's brackets, or the header and the count, have lines of their own.
        rows = count_lines(walk_file) - 2
        os.remove(walk_file)
        if rows <= 0:
            raise RuntimeError("ant-walk wrote no rows: " + out[-600:])
        return "%s rows" % format(rows, ",")

    def check(out):
        verdict = [line for line in out.splitlines() if line.startswith("ant-check:")]
        if not verdict or "OK" not in verdict[-1]:
            raise RuntimeError("ant-check did not say OK: " + out[-600:])
        return verdict[-1][len("ant-check: "):]

    def leaks(out):
        # Every block of the benchmark's heap is reachable through its array.
        summary = [line for line in out.splitlines() if " used blocks considered: " in line]
        if not summary or "ant-leaks:" in out:
            raise RuntimeError("ant-leaks found leaks, or said nothing: " + out[-600:])
        return summary[-1].split(":")[0] + ", no leaks"

    map_file = os.path.splitext(walk_file)[0] + ".svg"

    def picture(out):
        if not os.path.exists(map_file):
            raise RuntimeError("ant-map wrote no picture: " + out[-600:])
        size = os.path.getsize(map_file)
        os.remove(map_file)
        return "%.1f MB of SVG" % (size / 1e6)

    def sites(out):
        total = [line for line in out.splitlines() if " sites, " in line and "requested" in line]
        if not total:
            raise RuntimeError("ant-sites printed no totals: " + out[-600:])
        return ",".join(total[-1].split(",")[:2])

    load = ["source " + extension, "core-file " + core]
    return [
        Step("gdb start-up (core-file only)", ["core-file " + core], nothing),
        Step("source ant-gdb.py", load, nothing),
        Step("ant-heap", load + ["ant-heap"], heap),
        Step("ant-walk --json --output file", load + ["ant-walk --json --output " + walk_file],
             walk),
        Step("ant-walk --output file (text)", load + ["ant-walk --output " + walk_file], walk),
        Step("ant-check", load + ["ant-check"], check),
        Step("ant-sites", load + ["ant-sites"], sites),
        Step("ant-leaks", load + ["ant-leaks"], leaks),
        Step("ant-map --svg file", load + ["ant-map --svg " + map_file], picture),
    ]


def measure(program, extension, work, runs, say, native=None):
    """Returns (rows, notes): for each step its median seconds, those
    seconds less gdb's start-up, and what it reported. The extension loads
    the native walker at `native` unless ANT_GDB_NATIVE is already set."""
    env = dict(os.environ)
    if native and "ANT_GDB_NATIVE" not in env:
        env["ANT_GDB_NATIVE"] = native
    os.makedirs(work, exist_ok=True)
    core = os.path.join(work, "million.core")
    seconds, heap = write_core(program, core)
    notes = ["%s; core of %.0f MiB written by gcore in %.1f s" % (
        heap, os.path.getsize(core) / 2**20, seconds),
        "walker: " + walker(program, extension, env)]
    for note in notes:
        say(note)
    plan = steps(extension, core, os.path.join(work, "walk.json"))
    try:
        for round in range(runs):
            # Rotated, so no step always follows the same one.
            for step in plan[round % len(plan):] + plan[:round % len(plan)]:
                start = time.perf_counter()
                proc = subprocess.run(gdb_argv(program, step.commands), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      universal_newlines=True, env=env, timeout=1800)
                step.seconds.append(time.perf_counter() - start)
                step.result = step.verify(proc.stdout)
            say("gdb round %d of %d done" % (round + 1, runs))
    finally:
        os.remove(core)
    base = statistics.median(plan[0].seconds)
    rows = []
    for step in plan:
        median = statistics.median(step.seconds)
        rows.append([step.name, "%.2f" % median,
                     "-" if step is plan[0] else "%.2f" % (median - base), step.result])
    return rows, notes
