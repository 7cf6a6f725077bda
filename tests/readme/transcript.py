"""Runs a command and compares what it prints with a transcript quoted in a
Markdown file, so that the README's transcripts say what the current build
does.

    transcript.py FILE NAME [options] -- COMMAND [ARG...]

The transcript is the fenced block that follows the line
`<!-- transcript: NAME -->` in FILE. Its first line is left out of the
comparison when it starts with "$ " or "(gdb) " and the command's output
does not: that line shows the reader the command. In the transcript, a
line "..." stands for any number of lines (none included), so an excerpt
can be quoted. With --globs, a line with a * stands for one or more lines
it matches (the files of a directory); with --any-order, the lines may
come in any order.

What may differ between two runs on two machines is made alike on both
sides before they are compared, and nothing else is: addresses (hex of 4
or more digits, whose columns then are not held to their widths), process
and thread ids, the size of a core file, and the paths of the source and
build trees, which read as "." and "./build" (--source, --build). With
--temp, "@TEMP@" in the command's arguments names a new empty directory,
which reads as "/tmp".

The transcript itself must hold no path of this machine: the source or
build tree's absolute path there fails the test."""
import argparse
import difflib
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!-- transcript: (\S+) -->\s*$")
FENCE = re.compile(r"^(```+|~~~+)")
SHOWN_COMMAND = ("$ ", "(gdb) ")
ELISION = "..."

HEX = re.compile(r"\b0x[0-9a-fA-F]{4,}\b")
IDS = re.compile(r"\b(process|thread|Thread|LWP|pid) \d+")
PROC = re.compile(r"/proc/\d+/")
CORE_SIZE = re.compile(r"^\d+ bytes: ", re.M)
SPACES = re.compile(r"(?<=\S)  +")


def quoted(path, name):
    """The lines of the block marked NAME in the Markdown file at path."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    marks = [i for i, line in enumerate(lines) if MARK.match(line) and MARK.match(line).group(1) == name]
    if len(marks) != 1:
        sys.exit("%s: %d transcripts named %s, expected one" % (path, len(marks), name))
    start = marks[0] + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    fence = FENCE.match(lines[start]) if start < len(lines) else None
    if not fence:
        sys.exit("%s:%d: the transcript %s does not start with a fenced block" % (path, start + 1, name))
    for end in range(start + 1, len(lines)):
        if lines[end].startswith(fence.group(1)):
            return lines[start + 1:end], start + 2
    sys.exit("%s:%d: the transcript %s has no closing fence" % (path, start + 1, name))


def normalise(text, paths):
    for path, shown in paths:
        text = text.replace(path, shown)
    text = HEX.sub("0x…", text)
    text = IDS.sub(lambda m: m.group(1) + " N", text)
    text = PROC.sub("/proc/N/", text)
    text = CORE_SIZE.sub("N bytes: ", text)
    # An address's width sets the columns after it, so a run of spaces
    # within a line counts as one space.
    return [SPACES.sub(" ", line.rstrip()) for line in text.splitlines()]


def matches(want, got, globs):
    """Does got match want, where "..." in want stands for any lines?"""
    memo = {}

    def from_(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(want):
            result = j == len(got)
        elif want[i] == ELISION:
            result = any(from_(i + 1, k) for k in range(j, len(got) + 1))
        elif j < len(got) and (want[i] == got[j] or
                               (globs and "*" in want[i] and fnmatch.fnmatchcase(got[j], want[i]))):
            # A line with a * stands for one or more lines it matches.
            result = from_(i + 1, j + 1) or (globs and "*" in want[i] and from_(i, j + 1))
        else:
            result = False
        memo[key] = result
        return result

    sys.setrecursionlimit(max(10000, 4 * (len(want) + len(got))))
    return from_(0, 0)


def matches_in_any_order(want, got, globs):
    """Does got hold want's lines, in any order, a line with * (with globs)
    standing for every line it matches, at least one?"""
    rest = list(got)
    plain = []
    for line in want:
        if globs and "*" in line:
            if not any(fnmatch.fnmatchcase(g, line) for g in rest):
                return False
            rest = [g for g in rest if not fnmatch.fnmatchcase(g, line)]
        else:
            plain.append(line)
    return sorted(plain) == sorted(rest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("markdown")
    parser.add_argument("name")
    parser.add_argument("--source", help="the source tree, shown as .")
    parser.add_argument("--build", help="the build tree, shown as ./build")
    parser.add_argument("--temp", action="store_true", help="@TEMP@ names a new directory, shown as /tmp")
    parser.add_argument("--globs", action="store_true",
                        help="a transcript line with * matches one or more lines (file names)")
    parser.add_argument("--any-order", action="store_true",
                        help="compare the lines in any order (files installed from a directory come "
                             "in the file system's order)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--unset", action="append", default=[], metavar="KEY",
                        help="run the command without KEY in its environment")
    parser.add_argument("--status", type=int, default=0, help="the exit status the command must end with")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()

    want, line = quoted(args.markdown, args.name)
    paths = []
    # The longer path first: the build tree may lie inside the source tree.
    for path, shown in sorted(((args.build, "./build"), (args.source, ".")),
                              key=lambda p: -len(p[0] or "")):
        if path:
            paths.append((os.path.realpath(path), shown))
            if os.path.realpath(path) != path:
                paths.append((path, shown))
    for path, _ in paths:
        for number, text in enumerate(want, line):
            if path in text:
                sys.exit("%s:%d: a path of this machine (%s) in the transcript %s" % (
                    args.markdown, number, path, args.name))

    env = dict(os.environ)
    env.update(entry.split("=", 1) for entry in args.env)
    for key in args.unset:
        env.pop(key, None)
    temp = tempfile.mkdtemp(prefix="ant-transcript-") if args.temp else None
    try:
        command = [arg.replace("@TEMP@", temp) if temp else arg for arg in args.command]
        run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                             timeout=600)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    output = run.stdout.decode("utf-8", "replace")
    if run.returncode != args.status:
        print(output)
        print("%s exited with %d, not %d" % (command[0], run.returncode, args.status))
        return 1
    if temp:
        paths.insert(0, (temp, "/tmp"))
    got = normalise(output, paths)
    want = normalise("\n".join(want), [])
    if want and want[0].startswith(SHOWN_COMMAND) and not (got and got[0] == want[0]):
        want = want[1:]
    if (matches_in_any_order(want, got, args.globs) if args.any_order
            else matches(want, got, args.globs)):
        print("%s: the transcript %s (%d lines) matches the output of %s" % (
            args.markdown, args.name, len(want), os.path.basename(command[0])))
        return 0
    print("%s:%d: the transcript %s differs from what the command prints now "
          "(both as compared: addresses, ids and paths made alike):" % (args.markdown, line, args.name))
    sys.stdout.writelines(difflib.unified_diff(
        [w + "\n" for w in want], [g + "\n" for g in got], "README", "now"))
    for path, shown in paths:
        output = output.replace(path, shown)
    print("\nThe command's output, its paths made relative as the README writes them "
          "(to paste over the transcript, or over the lines an excerpt keeps):")
    print(output)
    return 1


if __name__ == "__main__":
    sys.exit(main())
