"""Ant against glibc, jemalloc and mimalloc on seven malloc workloads, and the
gdb extension on a core of a million blocks.

Run it through CMake, which builds what it needs and passes the paths:

    cmake --build build --target bench

ANT_BENCH_RUNS=N in the environment sets the runs per allocator (5 by
default), ANT_BENCH_ONLY=churn,gdb a subset of the workloads. The gdb part
uses the native walker built with it unless ANT_GDB_NATIVE says otherwise
(ANT_GDB_NATIVE=0 times the pure-Python walk), and names it. The table is
printed and also written as Markdown next to the programs
(build/tests/bench/bench-results.md). A benchmark, not a test: it asserts
no time; it fails only when a run fails or prints another checksum than
under glibc, since then an allocator is broken.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

import allocators
import gdbwalk
import measure
import report

WORKLOADS = [
    ("churn", "malloc/free of 16-128 B, a live set of 4096, 12 M operations"),
    ("realloc_grow", "strings and vectors grown by realloc to 1-48 KiB, among small blocks"),
    ("cross_thread", "3 M blocks of 16-512 B allocated by one thread, freed by another"),
    ("fragment", "holes of 16-64 B pinned by survivors, then 512 B-4 KiB blocks, 6 rounds"),
    ("big_blocks", "1000 blocks of 2-8 MiB, one byte written per page, 4 alive"),
    ("random_sizes", "10 M mallocs or frees of 9 B-256 KiB (15 in 16 at most 128 B), freed at "
     "random, a live set of 1,000-100,000"),
    ("cross_free", "5 M blocks of 16-128 B allocated by 2 threads, freed at random by 2 others"),
]
GDB = "gdb"


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--antmalloc", required=True, help="libantmalloc.so")
    parser.add_argument("--programs", required=True, help="the folder of the bench_* programs")
    parser.add_argument("--million", required=True, help="the bench_million program")
    parser.add_argument("--extension", required=True, help="gdb/ant-gdb.py")
    parser.add_argument("--native", default="", help="the native walker, libantfastwalk.so")
    parser.add_argument("--work", required=True, help="a scratch folder for the core")
    parser.add_argument("--markdown", required=True, help="where to write the Markdown table")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="workloads to run, comma separated")
    parser.add_argument("--build-type", default="")
    parser.add_argument("--sanitize", default="")
    args = parser.parse_args()
    args.runs = int(os.environ.get("ANT_BENCH_RUNS") or args.runs)
    args.only = [w for w in (os.environ.get("ANT_BENCH_ONLY") or args.only).split(",") if w]
    known = [name for name, _ in WORKLOADS] + [GDB]
    unknown = [w for w in args.only if w not in known]
    if unknown or args.runs < 1:
        parser.error("runs must be at least 1; workloads are " + ", ".join(known))
    return args


def say(line):
    print(line, flush=True)


def build_warnings(args):
    if args.sanitize:
        say("warning: built with sanitizers (%s): these numbers measure the sanitizers"
            % args.sanitize)
    if args.build_type and args.build_type not in ("Release", "RelWithDebInfo"):
        say("warning: a %s build: Ant is not optimized, so its times say little; "
            "configure with -DCMAKE_BUILD_TYPE=RelWithDebInfo" % args.build_type)


def ratio(value, base):
    return "%.2f" % (value / base) if value is not None and base else "-"


def measure_workload(name, program, allocs, runs, gnu_time):
    """Rows of the table for one workload, and the failures seen."""
    runs_of = {a.name: [] for a in allocs}
    failures = {}
    for round in range(runs):
        # Each round starts with the next allocator, so none always runs
        # first (cold caches) or right after the same neighbour.
        for a in allocs[round % len(allocs):] + allocs[:round % len(allocs)]:
            result = measure.run([program], a.preload, gnu_time, options=a.options)
            if result.failure:
                failures.setdefault(a.name, result.failure)
            else:
                runs_of[a.name].append(result)
    reference = runs_of["glibc"][0].stdout if runs_of["glibc"] else None
    for a in allocs:
        for result in runs_of[a.name]:
            if reference is not None and result.stdout != reference:
                failures.setdefault(a.name, "printed %r, glibc %r" % (
                    result.stdout.strip(), reference.strip()))
    medians = {}
    for a in allocs:
        done = runs_of[a.name]
        if a.name in failures or not done:
            medians[a.name] = (None, None, None, None)
            continue
        times = [r.seconds for r in done]
        peaks = [r.peak_kib for r in done if r.peak_kib is not None]
        spread = (max(times) - min(times)) / statistics.median(times)
        medians[a.name] = (statistics.median(times), min(times),
                           statistics.median(peaks) if peaks else None, spread)
    base_time, base_best, base_peak, _ = medians["glibc"]
    rows = []
    for a in allocs:
        seconds, best, peak, spread = medians[a.name]
        if seconds is None:
            rows.append([name, a.name, "failed", "-", "-", "-", "-", "-", "-"])
            continue
        rows.append([name, a.name, "%.3f" % seconds, ratio(seconds, base_time),
                     "%.3f" % best, ratio(best, base_best),
                     "%.1f" % (peak / 1024) if peak is not None else "-",
                     ratio(peak, base_peak), "%.0f%%" % (100 * spread)])
    return rows, failures


def versions(allocs, source):
    parts = ["%s %s" % (a.name, a.version) for a in allocs if a.version]
    try:
        commit = subprocess.run(["git", "-C", source, "describe", "--always", "--dirty"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                universal_newlines=True).stdout.strip()
    except OSError:
        commit = ""
    parts.append("Ant " + (commit or "(no git)"))
    return ", ".join(parts)


def main():
    args = arguments()
    started = time.perf_counter()
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    gnu_time = measure.have_gnu_time()
    if not gnu_time:
        say("GNU time is MISSING (%s; Debian package `time`: apt-get install time): "
            "peak memory is not measured, only wall time" % measure.GNU_TIME)
    build_warnings(args)
    allocs = allocators.available(args.antmalloc, say)
    selected = args.only or [name for name, _ in WORKLOADS] + [GDB]
    start_load = report.load()
    # Taken now: others may commit to the tree while the benchmark runs.
    args.versions = versions(allocs, source)
    say("%s; %s; %d runs each, load average %s" % (report.machine(), args.versions, args.runs, start_load))

    header = ["workload", "allocator", "median s", "x glibc", "fastest s", "x glibc", "peak MiB",
              "x glibc", "spread"]
    right = {2, 3, 4, 5, 6, 7, 8}
    rows, failures = [], []
    for name, what in WORKLOADS:
        if name not in selected:
            continue
        t0 = time.perf_counter()
        found, failed = measure_workload(name, os.path.join(args.programs, "bench_" + name),
                                         allocs, args.runs, gnu_time)
        rows += found
        failures += ["%s under %s: %s" % (name, a, why) for a, why in failed.items()]
        say("%s: %.0f s" % (name, time.perf_counter() - t0))

    gdb_header = ["step", "median s", "less start-up", "result"]
    gdb_rows, gdb_notes = [], []
    if GDB in selected and not shutil.which("gdb"):
        say("gdb walk: skipped, gdb is not installed")
    elif GDB in selected:
        try:
            gdb_rows, gdb_notes = gdbwalk.measure(args.million, args.extension, args.work,
                                                  args.runs, say, args.native)
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            failures.append("gdb walk: %s" % error)

    elapsed = time.perf_counter() - started
    end_load = report.load()
    say("")
    if rows:
        say(report.text_table(header, rows, right))
        say("")
    if gdb_rows:
        say("gdb on a core of a million Ant blocks (%s)" % "; ".join(gdb_notes))
        say(report.text_table(gdb_header, gdb_rows, {1, 2}))
        say("")
    for failure in failures:
        say("FAILED: " + failure)
    say("whole benchmark: %.0f s; load average %s at the start, %s at the end"
        % (elapsed, start_load, end_load))

    write_markdown(args, rows, header, right, gdb_rows, gdb_header, gdb_notes,
                   failures, elapsed, (start_load, end_load), gnu_time)
    say("Markdown: " + args.markdown)
    return 1 if failures else 0


def write_markdown(args, rows, header, right, gdb_rows, gdb_header, gdb_notes,
                   failures, elapsed, loads, gnu_time):
    out = ["### Benchmarks", "",
           "Measured %s on %s (load average %s at the start, %s at the end); %s; %s build. "
           "Each workload ran %d times under each allocator, the allocators in turn; the "
           "table gives the median and the fastest wall time, the median peak resident memory "
           "(GNU time's %%M), their ratios to glibc in the same run, and the spread of the "
           "times ((max - min) / median). A busy machine only ever adds time, so the fastest "
           "runs are the ones it disturbed least. The whole benchmark took %.0f s. Reproduce with "
           "`cmake --build build --target bench`."
           % (report.today(), report.machine(), loads[0], loads[1], args.versions,
              args.build_type or "default", args.runs, elapsed), ""]
    if not gnu_time:
        out += ["GNU time was missing: no peak memory was measured.", ""]
    if rows:
        out += ["| workload | what it does |", "|---|---|"]
        out += ["| %s | %s |" % (name, what) for name, what in WORKLOADS
                if any(r[0] == name for r in rows)]
        out += ["", report.markdown_table(header, rows, right), ""]
    if gdb_rows:
        out += ["The gdb extension on a core of a million Ant blocks (%s): each step is one "
                "`gdb -batch` on the core, median of %d; *less start-up* subtracts the "
                "first row, gdb loading only the program and the core."
                % ("; ".join(gdb_notes), args.runs), "",
                report.markdown_table(gdb_header, gdb_rows, {1, 2}), ""]
    out += ["Failed: " + f for f in failures]
    os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
    with open(args.markdown, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    sys.exit(main())
