"""Time and peak resident memory of the real programs, glibc against Ant.

Usage: bench_real.py LIBANTMALLOC SCRATCH [RUNS] [WORKLOAD ...]

Runs each workload under glibc and under Ant's drop-in, alternating, RUNS
times each (3 by default), and prints the medians and Ant's ratios to glibc
from this one run. A benchmark, not a test: it asserts nothing.

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

import workloads


def measure(argv, scratch, env_extra, preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("ANT_OPTIONS", None)
    env.update(env_extra)
    if preload:
        env["LD_PRELOAD"] = preload
    with tempfile.NamedTemporaryFile("r") as report:
        status = subprocess.call([GNU_TIME, "-f", "%e %M", "-o", report.name] + argv, cwd=scratch,
                                 env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        if status != 0:
            sys.exit("%s failed under %s" % (argv, preload or "glibc"))
        elapsed, peak = report.read().split()[-2:]
    return float(elapsed), int(peak)


GNU_TIME = "/usr/bin/time"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if not shutil.which(GNU_TIME):
        sys.exit("bench_real.py needs GNU time: apt-get install time")
    lib, scratch = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    names = sys.argv[4:] or list(workloads.WORKLOADS)
    print("%-18s %10s %10s %7s %12s %12s %7s" % ("program", "glibc s", "ant s", "time",
                                                "glibc KiB", "ant KiB", "peak"))
    for name in names:
        where = os.path.join(scratch, name.replace("/", "_").replace(":", "_"))
        os.makedirs(where, exist_ok=True)
        argv, env = workloads.workload(name)(where)
        results = {None: [], lib: []}
        for _ in range(runs):
            for preload in (None, lib):
                results[preload].append(measure(argv, where, env, preload))
        g_time = statistics.median(t for t, _ in results[None])
        a_time = statistics.median(t for t, _ in results[lib])
        g_rss = statistics.median(r for _, r in results[None])
        a_rss = statistics.median(r for _, r in results[lib])
        print("%-18s %10.3f %10.3f %6.2fx %12d %12d %6.2fx" % (
            os.path.basename(name), g_time, a_time, a_time / g_time, g_rss, a_rss, a_rss / g_rss))


if __name__ == "__main__":
    main()
