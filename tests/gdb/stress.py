"""Stops a busy threaded program (tests/gdb/busy.c) at random instants and
checks its heap each time: by attaching, as `gdb -p` does, and from cores
written by gcore at some of those instants. The program is correct, so
every check must say OK, whichever instruction each thread was stopped at.

Run by gdb (`gdb -nx -batch -x stress.py`), with the environment naming
the program (ANT_STRESS_PROGRAM, linked against libantmalloc), the
extension (ANT_STRESS_EXTENSION, gdb/ant-gdb.py), a scratch folder
(ANT_STRESS_WORK), and how many stops (ANT_STRESS_STOPS, default 120; a
core is written at every third). Prints one line per stop that found
anything, then a summary, and exits with the verdict.
"""
import json
import os
import random
import subprocess
import sys
import time

import gdb

STOPS = int(os.environ.get("ANT_STRESS_STOPS", "120"))
CORE_EVERY = 3
# At least this share of the stops must find a thread in the middle of a
# change, or the test proves little.
IN_FLIGHT_SHARE = 0.1


def say(text):
    os.write(OUT, (text + "\n").encode())


OUT = os.dup(1)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # gdb's own chatter


def check(work, name):
    """ant-check's JSON for the target at hand, or an error string."""
    out = os.path.join(work, name + ".json")
    try:
        gdb.execute("ant-check --json --output %s" % out, to_string=True)
    except gdb.error as error:
        if "problem" not in str(error):
            return None, "ant-check failed: %s" % error
    with open(out) as f:
        return json.load(f), None


def main():
    work = os.environ["ANT_STRESS_WORK"]
    os.makedirs(work, exist_ok=True)
    for setting in ("pagination off", "confirm off", "width 0", "print thread-events off"):
        gdb.execute("set " + setting)
    gdb.execute("source " + os.environ["ANT_STRESS_EXTENSION"])
    program = os.environ["ANT_STRESS_PROGRAM"]
    gdb.execute("file " + program, to_string=True)
    busy = subprocess.Popen([program, "600"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    failures, in_flight, cores = [], 0, 0
    rng = random.Random(os.environ.get("ANT_STRESS_SEED", "12345"))
    try:
        if busy.stdout.readline().strip() != b"ready":
            raise RuntimeError("the program did not start")
        for stop in range(STOPS):
            time.sleep(rng.uniform(0.001, 0.05))
            if busy.poll() is not None:
                raise RuntimeError("the program ended with status %s" % busy.returncode)
            gdb.execute("attach %d" % busy.pid, to_string=True)
            found, error = check(work, "attach")
            core = None
            if stop % CORE_EVERY == 0:
                core = os.path.join(work, "core")
                gdb.execute("gcore " + core, to_string=True)
            gdb.execute("detach", to_string=True)
            results = [("attach", found, error)]
            if core:
                gdb.execute("core-file " + core, to_string=True)
                results.append(("core",) + check(work, "core"))
                gdb.execute("core-file", to_string=True)
                os.unlink(core)
                cores += 1
            for how, found, error in results:
                if error or not found["ok"]:
                    text = error or "; ".join("%s (%s): %s" % (p["kind"], p["invariant"], p["detail"])
                                              for p in found["problems"])
                    failures.append("stop %d (%s): %s" % (stop, how, text))
                    say("FAIL: stop %d (%s): %s" % (stop, how, text))
                    for line in (found or {}).get("in_flight", []):
                        say("      under way: " + line)
            if found and found.get("in_flight"):
                in_flight += 1
    except Exception as error:  # a failure of the test itself fails it too
        failures.append("%s: %s" % (type(error).__name__, error))
        say("FAIL: %s: %s" % (type(error).__name__, error))
    finally:
        busy.kill()
        busy.wait()
    say("%d stops (%d also from cores), %d with a change under way, %d failures" % (
        STOPS, cores, in_flight, len(failures)))
    if not failures and in_flight < IN_FLIGHT_SHARE * STOPS:
        failures.append("too few stops caught a change under way")
        say("FAIL: only %d of %d stops caught a change under way" % (in_flight, STOPS))
    sys.stdout.flush()
    os._exit(1 if failures else 0)


main()
