"""Runs a real program under glibc and under Ant's drop-in; they must agree.

Usage: run_real.py LIBANTMALLOC SCRATCH WORKLOAD

Passes when the program exits 0 under both allocators with the same output,
Ant reports nothing, and Ant was really in the process: its options line
for a deliberately unknown key proves the drop-in started.
"""
import os
import sys

import workloads

PROBE = "real_test_probe=1"


def main():
    if len(sys.argv) != 4 or not workloads.workload(sys.argv[3]):
        sys.exit("usage: run_real.py LIBANTMALLOC SCRATCH WORKLOAD (one of %s, or program:PATH)"
                 % ", ".join(workloads.WORKLOADS))
    lib, scratch, name = sys.argv[1:]
    tool = workloads.missing_tool(name)
    if tool:
        sys.exit("FAIL: %s is not installed (.ci/run installs it)" % tool)
    os.makedirs(scratch, exist_ok=True)
    argv, env = workloads.workload(name)(scratch)

    status, out, err = workloads.run(argv, scratch, env, None)
    ant_status, ant_out, ant_err = workloads.run(argv, scratch, env, lib, PROBE)

    problems = []
    if status != 0:
        problems.append("under glibc it exited %d: %s" % (status, err.decode(errors="replace")[-2000:]))
    if ant_status != status:
        problems.append("under Ant it exited %d, under glibc %d" % (ant_status, status))
    if ant_out != out:
        problems.append("outputs differ:\nglibc: %r\nant:   %r" % (out[-500:], ant_out[-500:]))
    lines = ant_err.decode(errors="replace").splitlines()
    probes = [line for line in lines if line.startswith("ant: ANT_OPTIONS: unknown key 'real_test_probe'")]
    reports = [line for line in lines if line.startswith("ant: ") and line not in probes]
    if not probes:
        problems.append("Ant never started in the process (no options line on stderr)")
    if reports:
        problems.append("Ant reported:\n" + "\n".join(reports[:10]))
    print("%s: exit %d, %d bytes of output, Ant started in %d process(es)"
          % (name, ant_status, len(ant_out), len(probes)))
    print(out.decode(errors="replace")[-400:])
    if problems:
        print("FAIL:\n" + "\n".join(problems))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
