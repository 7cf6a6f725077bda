"""Stops tests/gdb/steps.c at every instruction of every allocator path and
checks its heap at each stop.

Run by gdb on the program (`gdb -nx -batch -x steps.py steps`), with the
environment naming the extension's folder (ANT_STEPS_GDB) and, optionally,
the paths to take (ANT_STEPS_ONLY, a substring of their names); ANT_OPTIONS
as tests/gdb/CMakeLists.txt sets them.
At every stop the heap must read whole: exactly the one overflow the
program planted before the first path, no other problem, no rule left
unchecked; and what each path says it does must show in the journal of the
arena (a merge, a split) at some stop. This script decides pass or fail and
exits with the verdict; it prints one line per path and every failure.
"""
import os
import sys
import time

import gdb

sys.path.insert(0, os.environ["ANT_STEPS_GDB"])
from antgdb import heap as antheap  # noqa: E402  (the path is known only now)
from antgdb import layout as antlayout  # noqa: E402
from antgdb.inflight import STEPS  # noqa: E402
from antgdb.memory import CachedReader, ProcReader  # noqa: E402
from antgdb.sites import Sites  # noqa: E402

# Every path, and what it must be seen doing (journal steps by number, or a
# cache moving a block), at least once or as often as given; a tuple of
# steps is any of them. A thread cache sends blocks it has no room for to
# its arena's depot (19), a run of them at once, or, when that is full,
# back to the arena (16), one by one.
MOVED = (16, 19)
MUST = {
    "free merging with the free block below": {6: 1},
    "free merging with the free block above": {6: 1},
    "free merging with both neighbours": {6: 2},
    "malloc through the arena, splitting a free block": {1: 1, 3: 1},
    "malloc through the arena, carving the wilderness": {2: 1},
    "realloc shrinking in place": {3: 1},
    "realloc growing over its free neighbour": {14: 1},
    "realloc moving the block": {15: 1},
    "aligned_alloc splitting a lead block": {3: 1},
    "realloc growing into the wilderness": {14: 1},
    "free of the last block, back to the wilderness": {8: 1},
    "malloc growing the region": {9: 1},
    "malloc making a new region": {10: 1},
    "free of a whole region's only block, dropping the region": {11: 1},
    "malloc of a big block": {12: 1},
    "realloc of a big block, moving its mapping": {13: 1, 12: 1},
    "free of a big block": {13: 1},
    "free into a full cache bin, flushing half of it": {MOVED: 1},
    "free into the thread cache": {"cache": 1},
    "malloc from the thread cache": {"cache": 1},
    "free from another thread, into its cache": {"cache": 1},
    "free from another thread, to the arena": {5: 1},
    "thread exit": {MOVED: 4},
    "ant_check() holding each block it checks": {},
}
# With ANT_OPTIONS=quarantine (gdb.steps.quarantine), the quarantine's paths.
QUARANTINE_MUST = {
    "free into the quarantine": {20: 1},
    "free into the quarantine, the oldest leaving it": {20: 1, 21: 1, 7: 1},
    "free into the quarantine, the oldest leaving it, merging": {20: 1, 21: 1, 6: 1},
    "free into the quarantine, every block leaving it, the last to the wilderness": {20: 1, 21: 4, 8: 1},
    "ant_check() holding each block it checks": {},
}
if "quarantine=" in os.environ.get("ANT_OPTIONS", ""):
    MUST = QUARANTINE_MUST
# Notes that say a rule was not checked: at a stop of this test, never.
UNCHECKED = ("not compared", "not judged", "not checked", "could not")
# ...but for a block a thread cache is moving, whose check and contents are
# half written while it holds it BUSY: that one is allowed for.
MOVING = "was changing it when the memory was read (BUSY)"


def say(text):
    """A line to the real standard output. gdb's own goes to /dev/null: it
    prints every stop even when a script asks for none."""
    os.write(OUT, (text + "\n").encode())


OUT = os.dup(1)
_quiet = os.open(os.devnull, os.O_WRONLY)
os.dup2(_quiet, 1)


def selected_thread():
    """The selected thread, or None once it has exited."""
    try:
        thread = gdb.selected_thread()
    except SystemError:  # gdb's word for a thread that is gone
        return None
    return thread if thread is not None and thread.is_valid() else None


class Stepper:
    def __init__(self):
        self.failures = []
        self.stops = 0
        self.root = None
        self.victim = None
        self.reader = None

    def fail(self, text):
        self.failures.append(text)
        say("FAIL: " + text)

    def pc_text(self):
        frame = gdb.selected_frame()
        name = frame.name() or "??"
        return "%s (0x%x)" % (name, frame.pc())

    def heap(self):
        """The heap as antgdb reads it at this stop."""
        pid = gdb.selected_inferior().pid
        if self.reader is None or self.reader.pid != pid:
            self.reader = ProcReader(pid)
        reader = CachedReader(self.reader)
        layout = antlayout.read_root(reader, self.root)
        return antheap.walk(reader, layout, Sites())

    def check(self, name, seen):
        self.stops += 1
        heap = self.heap()
        # The allocator's own report of the overflow, once ant_check() made
        # it, names the same block.
        problems = sorted({(p.kind, p.mem) for p in heap.problems}, key=lambda p: (p[0], p[1] or 0))
        if self.victim is None:
            if len(problems) != 1 or problems[0][0] != "overflow":
                self.fail("%s: before the path, expected the planted overflow alone, found %s"
                          % (name, [(p.kind, p.detail) for p in heap.problems]))
                return False
            self.victim = problems[0][1]
        if problems != [("overflow", self.victim)]:
            self.fail("%s, stop %d at %s: %s" % (
                name, self.stops, self.pc_text(),
                "; ".join("%s (%s): %s" % (p.kind, p.invariant, p.detail) for p in heap.problems)
                or "the planted overflow was not found"))
            return False
        for note in heap.notes:
            if any(word in note for word in UNCHECKED) and MOVING not in note:
                self.fail("%s, stop %d at %s: %s" % (name, self.stops, self.pc_text(), note))
                return False
        for journal in heap.journals:
            if journal.step:
                seen.setdefault(journal.step, set()).add(tuple(journal.args))
        for cache in heap.caches:
            if cache.values["busy"]:
                seen.setdefault("cache", set()).add(cache.values["busy"])
        return True

    def take(self, name):
        """From the stop in path(): returns to the caller, then steps to
        path_end(), checking at every instruction."""
        gdb.execute("finish", to_string=True)
        thread = gdb.selected_thread()
        end = int(gdb.parse_and_eval("(unsigned long)&path_end"))
        seen = {}
        start, before = time.time(), self.stops
        ok = self.check(name, seen)
        while ok:
            try:
                gdb.execute("stepi", to_string=True)
            except gdb.error as error:
                if "exited" in str(error) or not thread.is_valid():
                    break
                raise
            if selected_thread() != thread:
                break
            if gdb.selected_frame().pc() == end:
                break
            ok = self.check(name, seen)
        for steps, count in MUST.get(name, {}).items():
            steps = steps if isinstance(steps, tuple) else (steps,)
            if len(set().union(*(seen.get(step, ()) for step in steps))) < count:
                what = " or ".join("a thread cache moving a block" if step == "cache" else
                                   STEPS[step].split(" mem")[0].split(" {")[0] for step in steps)
                self.fail("%s: never seen %s%s" % (name, what,
                                                   " %d times" % count if count > 1 else ""))
        say("path %-60s %6d stops  %5.1f s" % (name, self.stops - before, time.time() - start))

    def run(self):
        for setting in ("pagination off", "confirm off", "width 0", "print thread-events off"):
            gdb.execute("set " + setting)
        gdb.Breakpoint("path").silent = True
        gdb.execute("run", to_string=True)
        # Only the thread stepped runs: the others stay where they are.
        gdb.execute("set scheduler-locking step")
        self.root = int(gdb.parse_and_eval("(unsigned long)&ant_root"))
        only = os.environ.get("ANT_STEPS_ONLY", "")
        taken = 0
        while gdb.selected_inferior().pid:
            frame = gdb.selected_frame()
            if frame.name() != "path":
                break
            name = frame.read_var("name").string()
            if only in name:
                self.take(name)
                taken += 1
            if self.failures:
                break
            if selected_thread() is None:
                gdb.selected_inferior().threads()[0].switch()
            gdb.execute("continue", to_string=True)
        if not self.failures and taken < (1 if only else len(MUST)):
            self.fail("only %d paths were taken" % taken)
        say("%d stops, %d failures" % (self.stops, len(self.failures)))
        return not self.failures


def main():
    try:
        ok = Stepper().run()
    except Exception as error:  # a failure of the test itself is a failure too
        import traceback
        say(traceback.format_exc())
        say("FAIL: %s: %s" % (type(error).__name__, error))
        ok = False
    sys.stdout.flush()
    os._exit(0 if ok else 1)


main()
