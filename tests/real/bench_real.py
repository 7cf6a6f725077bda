"""Time and peak resident memory of the real programs under glibc, Ant, and
jemalloc and mimalloc where their Debian packages are installed.

Usage: bench_real.py LIBANTMALLOC SCRATCH [RUNS] [WORKLOAD ...]

Runs each workload under each allocator, the allocators in turn and each
round starting with the next one, RUNS times each (5 by default), and
prints the median and the fastest time, the median peak memory, and their
ratios to glibc from this one run. A
benchmark, not a test: it asserts no time. It fails only when a program
fails or prints other output than under glibc, since then an allocator is
broken. A workload whose program is not installed is skipped, with a line
naming the Debian package that has it.

Peak memory comes from GNU time (Debian's package `time`): a child forked
from this Python process would report Python's own size as its peak, since
the peak survives exec.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import workloads

# tests/bench/allocators.py finds jemalloc and mimalloc as `bench` does.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import allocators  # noqa: E402
import report  # noqa: E402

GNU_TIME = "/usr/bin/time"
DEFAULT = ["python", "sort", "gcc", "git", "sqlite3", "perl", "python-malloc", "bash", "awk"]


def with_options(env, options):
    """The workload's environment with `options` added to its ANT_OPTIONS."""
    if not options:
        return env
    given = env.get("ANT_OPTIONS")
    return dict(env, ANT_OPTIONS=given + ":" + options if given else options)


def measure(argv, scratch, env_extra, preload):
    """One run: (seconds, peak KiB, stdout), or a string saying why it failed."""
    env = dict(os.environ)
    for name in ("LD_PRELOAD", "ANT_OPTIONS", "MALLOC_CONF", "MIMALLOC_OPTIONS"):
        env.pop(name, None)
    env.update(env_extra)
    if preload:
        env["LD_PRELOAD"] = preload
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        proc = subprocess.run([GNU_TIME, "-f", "%M", "-o", report.name] + argv, cwd=scratch,
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            last = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            return "exit status %d: %s" % (proc.returncode, last[0])
        if preload and b"cannot be preloaded" in proc.stderr:
            return "LD_PRELOAD=%s was ignored by ld.so" % preload
        peak = report.read().split()[-1]
    return seconds, int(peak), proc.stdout


def ant_commit():
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        return subprocess.run(["git", "-C", source, "describe", "--always", "--dirty"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True).stdout.strip() or "(no git)"
    except OSError:
        return "(no git)"


def ratio(value, base):
    return "%.2fx" % (value / base) if base else "-"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if not shutil.which(GNU_TIME):
        sys.exit("bench_real.py needs GNU time: apt-get install time")
    lib, scratch = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    names = sys.argv[4:] or DEFAULT
    started = time.perf_counter()
    allocs = allocators.available(lib, print)
    print("%s; %s, Ant %s; %d runs each, load average %s" % (
        report.machine(), ", ".join("%s %s" % (a.name, a.version) for a in allocs if a.version),
        ant_commit(), runs, report.load()))
    width = max([14] + [len(os.path.basename(n)) for n in names])
    row = "%-" + str(width) + "s %-9s %9s %7s %10s %7s %11s %7s"
    print(row % ("program", "allocator", "median s", "time", "fastest s", "time", "peak KiB", "peak"),
          flush=True)
    failures, skipped = [], []
    for name in names:
        base = os.path.basename(name)
        if workloads.workload(name) is None:
            sys.exit("unknown workload %s: one of %s, or program:PATH"
                     % (name, ", ".join(workloads.WORKLOADS)))
        tool = workloads.missing_tool(name)
        if tool:
            line = "%s: skipped, %s is not installed (Debian package %s)" % (
                name, tool, workloads.package(name))
            skipped.append(line)
            print(line, flush=True)
            continue
        where = os.path.join(scratch, name.replace("/", "_").replace(":", "_"))
        os.makedirs(where, exist_ok=True)
        argv, env = workloads.workload(name)(where)
        results = {a.name: [] for a in allocs}
        failed = {}
        for round in range(runs):
            for a in allocs[round % len(allocs):] + allocs[:round % len(allocs)]:
                result = measure(argv, where, with_options(env, a.options), a.preload)
                if isinstance(result, str):
                    failed.setdefault(a.name, result)
                else:
                    results[a.name].append(result)
        reference = results["glibc"][0][2] if results["glibc"] else None
        for a in allocs:
            if any(out != reference for _, _, out in results[a.name]) and reference is not None:
                other = next(out for _, _, out in results[a.name] if out != reference)
                failed.setdefault(a.name, "printed %r, glibc %r" % (other[-200:], reference[-200:]))
        medians = {}
        for a in allocs:
            if a.name in failed or not results[a.name]:
                continue
            medians[a.name] = (statistics.median(t for t, _, _ in results[a.name]),
                               min(t for t, _, _ in results[a.name]),
                               statistics.median(r for _, r, _ in results[a.name]))
        g_time, g_fastest, g_peak = medians.get("glibc", (None, None, None))
        for a in allocs:
            if a.name not in medians:
                print(row % (base, a.name, "failed", "", "", "", "", ""), flush=True)
                continue
            seconds, fastest, peak = medians[a.name]
            print(row % (base, a.name, "%.3f" % seconds, ratio(seconds, g_time), "%.3f" % fastest,
                         ratio(fastest, g_fastest), peak, ratio(peak, g_peak)), flush=True)
        failures += ["%s under %s: %s" % (base, a, why) for a, why in failed.items()]
    print("whole run: %.0f s; load average %s at the end" % (time.perf_counter() - started, report.load()))
    for line in skipped:
        print(line)
    for line in failures:
        print("FAILED: " + line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
