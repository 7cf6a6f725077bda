"""The allocators a benchmark compares, each a name and an LD_PRELOAD.

glibc is the baseline every ratio divides by, so it is always there; Ant
comes through its drop-in, as it ships and without call stacks; jemalloc and mimalloc come from their Debian
packages when installed, and are skipped with a line saying so when not.
"""
import glob
import os
import subprocess

# name, shared object, Debian package
OPTIONAL = [
    ("jemalloc", "libjemalloc.so.2", "libjemalloc2"),
    ("mimalloc", "libmimalloc.so.2", "libmimalloc2.0"),
]


class Allocator:
    def __init__(self, name, preload, version="", options=None):
        self.name = name
        self.preload = preload  # None: the C library's own malloc
        self.version = version
        self.options = options  # ANT_OPTIONS, or None for the defaults


def _find(soname):
    for pattern in ("/usr/lib/*-linux-gnu*/" + soname, "/usr/lib/" + soname,
                    "/usr/local/lib/" + soname):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def package_version(package):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True)
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def glibc_version():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    except (ValueError, OSError, AttributeError):
        return ""


def available(antmalloc, say):
    """The allocators to compare, glibc first; `say` receives a line for
    each one skipped."""
    # Ant twice: as it ships, and without call stacks (stack=0), so that
    # the table shows what the default stack=N costs.
    found = [Allocator("glibc", None, glibc_version()), Allocator("ant", antmalloc),
             Allocator("ant stack=0", antmalloc, options="stack=0")]
    for name, soname, package in OPTIONAL:
        path = _find(soname)
        if path:
            found.append(Allocator(name, path, package_version(package)))
        else:
            say("%s: skipped, %s not found (Debian package %s)" % (name, soname, package))
    return found
