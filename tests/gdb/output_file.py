"""--output FILE: every command writes to the file exactly what it prints,
and a command that fails leaves the file as it was; a device, a FIFO or
gdb's own stdout is written to, never replaced.

Usage: output_file.py EXTENSION PROGRAM CLEAN_WORKDIR DAMAGED_WORKDIR OUTDIR

The workdirs hold the cores and manifests that gdb_e2e.py wrote (the
fixtures core-debug-clean and core-debug-overflow).
"""
import glob
import json
import os
import re
import stat
import subprocess
import sys

import gdbrun


def load(workdir):
    with open(os.path.join(workdir, "expected.json")) as f:
        return json.load(f)


def gdb_on(extension, program, workdir, commands):
    args = ["-ex", "source " + extension, program, "-ex",
            "core-file " + os.path.join(workdir, "core")] + gdbrun.marked(commands)
    status, stdout, stderr = gdbrun.run(args)
    return status, gdbrun.sections(stdout), stdout + stderr


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def same_as_screen(extension, program, workdir, outdir, commands, failures, damaged=False):
    """Each command printed, then written with --output: the same text."""
    marked = []
    for index, command in enumerate(commands):
        path = os.path.join(outdir, "%s-%d.out" % ("damaged" if damaged else "clean", index))
        if os.path.exists(path):
            os.remove(path)
        marked += [("screen %d" % index, command), ("file %d" % index, "%s --output %s" % (command, path))]
    status, out, everything = gdb_on(extension, program, workdir, marked)
    if "Traceback" in everything or "Python Exception" in everything:
        failures.append("a Python traceback reached the user:\n" + everything[-1500:])
    if damaged and status == 0:
        failures.append("gdb -batch exited 0 though ant-check found problems")
    for index, command in enumerate(commands):
        path = os.path.join(outdir, "%s-%d.out" % ("damaged" if damaged else "clean", index))
        said = out.get("file %d" % index, "")
        if not os.path.exists(path):
            failures.append("`%s --output` wrote no file; gdb said: %s" % (command, said[-500:]))
            continue
        if read(path) != out.get("screen %d" % index):
            failures.append("`%s --output`: the file differs from what the screen shows" % command)
        if "wrote" not in said or path not in said:
            failures.append("`%s --output` did not say where it wrote: %r" % (command, said[-300:]))
    if damaged:
        errors = [line for line in everything.splitlines()
                  if line.startswith("ant-check: ") and line.endswith(" found")]
        if len(errors) != 2 * len(commands):
            failures.append("ant-check with and without --output should each end in the "
                            "problems' error, %d times; it did %d times" % (2 * len(commands), len(errors)))


def put_back(device, before):
    """False, and the device made again, if a file was renamed over it: as
    root a regression would otherwise leave the machine without /dev/null."""
    now = os.stat(device)
    if stat.S_ISCHR(now.st_mode) and now.st_rdev == before.st_rdev:
        return True
    os.unlink(device)
    os.mknod(device, before.st_mode, before.st_rdev)
    os.chmod(device, stat.S_IMODE(before.st_mode))
    return False


def not_regular(extension, program, workdir, outdir, failures):
    """/dev/null, /dev/stdout on a pipe, a FIFO with a reader, and
    /dev/stdout on a file the shell redirected gdb's stdout to."""
    null = os.stat("/dev/null")
    try:
        _, out, everything = gdb_on(extension, program, workdir, [
            ("screen", "ant-heap"), ("null", "ant-walk --json --output /dev/null"),
            ("stdout", "ant-heap --output /dev/stdout")])
    finally:
        if not put_back("/dev/null", null):
            failures.append("--output /dev/null replaced /dev/null by a file (put back)")
    screen = out.get("screen", "")
    if not screen.startswith("Ant heap at") or "Traceback" in everything:
        failures.append("ant-heap failed:\n" + everything[-1500:])
    if not re.fullmatch(r"ant-walk: wrote [\d,]+ characters to /dev/null", out.get("null", "")):
        failures.append("--output /dev/null: %r" % out.get("null", "")[-300:])
    if glob.glob("/dev/.ant-output-*"):
        failures.append("--output /dev/null left a temporary in /dev")
    wrote = r"\nant-heap: wrote [\d,]+ characters to /dev/stdout"
    if not re.fullmatch(re.escape(screen) + wrote, out.get("stdout", "")):
        failures.append("--output /dev/stdout on a pipe: not the screen's text:\n"
                        + out.get("stdout", "")[-500:])

    fifo = os.path.join(outdir, "fifo")
    if os.path.lexists(fifo):
        os.remove(fifo)
    os.mkfifo(fifo)
    received = os.path.join(outdir, "fifo.received")
    with open(received, "w") as sink:  # not a pipe: the walk is more than a pipe holds
        reader = subprocess.Popen(["cat", fifo], stdout=sink)
    try:
        _, out, everything = gdb_on(extension, program, workdir, [
            ("screen", "ant-walk"), ("fifo", "ant-walk --output " + fifo)])
        try:
            reader.wait(timeout=30)
        except subprocess.TimeoutExpired:
            failures.append("the FIFO's reader never saw its end: gdb said\n" + everything[-800:])
    finally:
        reader.kill()
        reader.wait()
    if read(received) != out.get("screen"):
        failures.append("the FIFO's reader did not receive what the screen shows")
    if not stat.S_ISFIFO(os.lstat(fifo).st_mode):
        failures.append("--output FIFO replaced the FIFO")

    redirected = os.path.join(outdir, "stdout.txt")
    args = ["-ex", "source " + extension, program, "-ex",
            "core-file " + os.path.join(workdir, "core"), "-ex", "echo first echo\\n",
            "-ex", "ant-heap --output /dev/stdout", "-ex", "echo second echo\\n"]
    with open(redirected, "w") as f:
        subprocess.run(["gdb"] + gdbrun.SETTINGS + args, stdin=subprocess.DEVNULL, stdout=f,
                       stderr=subprocess.PIPE, timeout=300)
    text = read(redirected)
    if not re.search(re.escape("first echo\n" + screen) + wrote + "\nsecond echo$", text):
        failures.append("gdb > FILE with --output /dev/stdout: FILE is not the first echo, "
                        "the command's text, then the second echo:\n" + text[-1500:])


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    extension, program, clean, damaged, outdir = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    failures = []
    probe = load(clean)["blocks"][0][0]
    same_as_screen(extension, program, clean, outdir,
                   ["ant-heap", "ant-heap --json", "ant-walk", "ant-walk --json",
                    "ant-walk --json --used --limit 7", "ant-walk --json --free",
                    "ant-check", "ant-check --json", "ant-block %d" % probe,
                    "ant-block %d --json" % probe], failures)
    same_as_screen(extension, program, damaged, outdir, ["ant-check", "ant-check --json"],
                   failures, damaged=True)
    not_regular(extension, program, clean, outdir, failures)

    # Errors: a file that cannot be made, and a command that fails after
    # the file was begun; the old file stays, no temporary is left.
    kept = os.path.join(outdir, "kept.out")
    with open(kept, "w") as f:
        f.write("what was there before\n")
    missing_dir = os.path.join(outdir, "no-such-directory", "x.json")
    link = os.path.join(outdir, "link.out")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink("kept-target.out", link)
    status, out, everything = gdb_on(extension, program, clean, [
        ("no directory", "ant-walk --json --output " + missing_dir),
        ("a directory", "ant-heap --output " + outdir),
        ("no block", "ant-block 0x10 --output " + kept),
        ("no value", "ant-walk --output"),
        ("link", "ant-heap --output " + link)])
    for name, words in (("no directory", ["cannot write", missing_dir]),
                        ("a directory", ["cannot write", "directory"]),
                        ("no block", ["0x10"]), ("no value", ["--output", "FILE"])):
        missing = [w for w in words if w not in everything]
        if missing:
            failures.append("%s: the error does not say %r:\n%s" % (name, missing, everything[-800:]))
    if not os.path.islink(link) or not read(link).startswith("Ant heap at"):
        failures.append("--output through a symbolic link did not write its target")
    if read(kept) != "what was there before":
        failures.append("a failed ant-block --output changed the file it named")
    if os.path.exists(missing_dir):
        failures.append("a file was made in a directory that does not exist")
    left = glob.glob(os.path.join(outdir, ".ant-output-*"))
    if left:
        failures.append("temporary files were left: %s" % left)
    if "Traceback" in everything or "Python Exception" in everything:
        failures.append("a Python traceback reached the user:\n" + everything[-1500:])

    if failures:
        print("FAIL\n- " + "\n- ".join(failures))
        return 1
    print("PASS: --output writes what the screen shows, an error leaves a file alone, and "
          "a device, a FIFO or gdb's stdout is written to in place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
