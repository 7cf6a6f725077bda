"""The commands' errors: each a clear gdb error, never a traceback or hang.

Usage: bad_input.py EXTENSION PROGRAM_WITH_ANT

Covers: no process at all; a process with no Ant heap (found neither by
symbol nor by scanning its memory); bad options and arguments; an address
in no block.
"""
import subprocess
import sys

CASES = [
    # (what, gdb arguments, command, words the error must contain)
    ("no process", [], "ant-heap", ["no process"]),
    ("no Ant heap", ["-ex", "starti", "/bin/true"], "ant-heap", ["no Ant heap"]),
    ("unknown option", ["-ex", "starti", "/bin/true"], "ant-walk --bogus", ["--bogus"]),
    ("bad number", [], "ant-walk --limit many", ["--limit", "rows"]),
    ("missing address", [], "ant-block", ["ADDR"]),
]


def gdb(args):
    argv = ["gdb", "-nx", "-batch", "-iex", "set pagination off", "-iex", "set confirm off",
            "-iex", "set style enabled off"] + args
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    return proc.returncode, proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


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
