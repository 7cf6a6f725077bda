"""One run of one program: wall time, peak resident memory, what it printed.

Peak memory comes from GNU time (Debian's package `time`), not from this
Python process's rusage of its child: a child forked from Python reports
Python's own size as its peak when that is larger, since the peak survives
exec. GNU time is small, so its child starts near nothing.
"""
import os
import subprocess
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def have_gnu_time():
    if not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run([GNU_TIME, "-f", "%M", "true"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, universal_newlines=True)
    # A shell's or BusyBox's time either fails here or prints no number.
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


class Run:
    def __init__(self, seconds, peak_kib, stdout, failure):
        self.seconds = seconds
        self.peak_kib = peak_kib  # None without GNU time
        self.stdout = stdout
        self.failure = failure  # None, or a line saying what went wrong


def clean_env(preload, extra=None):
    env = dict(os.environ)
    for name in ("LD_PRELOAD", "ANT_OPTIONS", "MALLOC_CONF", "MIMALLOC_OPTIONS"):
        env.pop(name, None)
    env.update(extra or {})
    if preload:
        env["LD_PRELOAD"] = preload
    return env


def run(argv, preload=None, gnu_time=True, timeout=600, options=None):
    """Runs argv once with `preload` in LD_PRELOAD (None: the C library's
    malloc) and `options` in ANT_OPTIONS (None: unset). The wall time is taken here, to the microsecond; GNU time's own
    %e has only hundredths."""
    with tempfile.NamedTemporaryFile("r", prefix="bench-time-") as report:
        command = ([GNU_TIME, "-f", "%M", "-o", report.name] if gnu_time else []) + list(argv)
        start = time.perf_counter()
        try:
            extra = {"ANT_OPTIONS": options} if options else None
            proc = subprocess.run(command, env=clean_env(preload, extra), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Run(None, None, "", "no result after %d s" % timeout)
        seconds = time.perf_counter() - start
        failure = None
        # ld.so only warns when it cannot preload, then runs the program on
        # the C library's malloc: that would be glibc's number under
        # another name.
        if preload and "cannot be preloaded" in proc.stderr:
            failure = "LD_PRELOAD=%s was ignored by ld.so" % preload
        elif proc.returncode != 0:
            last = proc.stderr.strip().splitlines()[-1:] or ["no message"]
            failure = "exit status %d: %s" % (proc.returncode, last[0])
        peak = None
        if gnu_time:
            lines = report.read().split()
            peak = int(lines[-1]) if lines and lines[-1].isdigit() else None
        return Run(seconds, peak, proc.stdout, failure)
