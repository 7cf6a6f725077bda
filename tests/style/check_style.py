"""The tree's style, checked over every file there is when the test runs.

Usage: check_style.py c|python SOURCE

c       clang-format --dry-run -Werror over every .c and .h file of
        allocator/, gdb/, tests/ and examples/, in the style of
        SOURCE/.clang-format;
python  flake8 over every .py file of gdb/, tests/ and examples/, with
        SOURCE/.flake8.

Either fails when its tool is not installed, naming the Debian package
that has it (.ci/run installs both).
"""
import os
import shutil
import subprocess
import sys

KINDS = {
    # kind: (tool, Debian package, folders, suffixes)
    "c": ("clang-format", "clang-format", ("allocator", "gdb", "tests", "examples"), (".c", ".h")),
    "python": ("flake8", "flake8", ("gdb", "tests", "examples"), (".py",)),
}


def files(source, folders, suffixes):
    """Every file under the folders with one of the suffixes, sorted;
    caches and build folders left out."""
    found = []
    for folder in folders:
        for top, dirs, names in os.walk(os.path.join(source, folder)):
            dirs[:] = [d for d in dirs if not d.startswith((".", "build", "__pycache__"))]
            found += [os.path.join(top, name) for name in names if name.endswith(suffixes)]
    return sorted(found)


def command(kind, tool, source, paths):
    if kind == "c":
        return [tool, "--dry-run", "-Werror", "--style=file"] + paths
    return [tool, "--config", os.path.join(source, ".flake8")] + paths


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        sys.exit(__doc__)
    kind, source = sys.argv[1], os.path.abspath(sys.argv[2])
    tool, package, folders, suffixes = KINDS[kind]
    found = shutil.which(tool)
    if found is None:
        sys.exit("FAIL: %s is not installed: install Debian's %s package (.ci/run does)" % (tool, package))
    paths = files(source, folders, suffixes)
    if not paths:
        sys.exit("FAIL: no %s file found under %s" % ("/".join(suffixes), source))
    version = " ".join(subprocess.run([found, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      universal_newlines=True).stdout.split())
    done = subprocess.run(command(kind, found, source, [os.path.relpath(p, source) for p in paths]),
                          cwd=source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    print(done.stdout, end="")
    if done.returncode:
        fix = "clang-format -i FILE" if kind == "c" else "the lines above"
        print("FAIL: %d files checked by %s (%s): fix %s" % (len(paths), tool, version, fix))
        return 1
    print("PASS: %d files as %s (%s) wants them" % (len(paths), tool, version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
