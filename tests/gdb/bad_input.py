"""The commands' errors: each a clear gdb error, never a traceback or hang.

Usage: bad_input.py EXTENSION PROGRAM_WITH_ANT

Covers: no process at all; a process with no Ant heap (found neither by
symbol nor by scanning its memory); bad options and arguments; an address
in no block.
"""
import sys

from gdbrun import run

CASES = [
    # (what, gdb arguments, command, words the error must contain)
    ("no process", [], "ant-heap", ["no process"]),
    ("no Ant heap", ["-ex", "starti", "/bin/true"], "ant-heap", ["no Ant heap"]),
    ("unknown option", ["-ex", "starti", "/bin/true"], "ant-walk --bogus", ["--bogus"]),
    ("bad number", [], "ant-walk --limit many", ["--limit", "rows"]),
    ("missing address", [], "ant-block", ["ADDR"]),
    ("backward range", [], "ant-walk --serial 9-1", ["--serial", "ends below"]),
    ("unknown sort key", [], "ant-walk --sort name", ["--sort", "size"]),
    ("bad byte count", [], "ant-walk --requested 1Q-", ["--requested"]),
    ("no sites to show", [], "ant-sites --top 0", ["--top"]),
    ("sites with no process", [], "ant-sites", ["no process"]),
    ("diff of nothing", [], "ant-diff", ["OLD"]),
    ("diff of a missing file", [], "ant-diff /nonexistent/walk.json", ["cannot read"]),
    ("diff of three", [], "ant-diff a b c", ["OLD"]),
]


def gdb(args):
    status, out, err = run(args, timeout=120)
    return status, out + err


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    extension, program = sys.argv[1:]
    failures = []
    cases = CASES + [
        ("address in no block", ["-ex", "break ant_example_stop", "-ex", "run 100", program],
         "ant-block 0x10", ["0x10"]),
    ]
    for what, args, command, words in cases:
        status, out = gdb(["-ex", "source " + extension] + args + ["-ex", command])
        lowered = out.lower()
        missing = [w for w in words if w.lower() not in lowered]
        if status == 0:
            failures.append("%s: `%s` did not end in an error" % (what, command))
        if "Traceback" in out or "Python Exception" in out:
            failures.append("%s: a Python traceback reached the user:\n%s" % (what, out[-1500:]))
        if missing:
            failures.append("%s: the error does not say %r:\n%s" % (what, missing, out[-800:]))
    if failures:
        print("FAIL\n- " + "\n- ".join(failures))
        return 1
    print("PASS: %d bad inputs, each a clear error" % len(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
