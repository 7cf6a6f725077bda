"""Changes under way when memory was read (<ant/layout.h>, "A snapshot at any
instant").

A core of a crash, or gdb attaching, stops every thread wherever it is,
inside malloc too. An arena's lock holder records the old bytes of every
word before it changes it, in the arena's journal: undo() reads those
journals and hands the walk a reader that puts the old bytes back, so that
the heap reads as it was when each change began, whole, and every rule
holds. A thread cache's change is not recorded but named (cache.busy), and
check.py allows for exactly that block. describe() says, for the user, where
each thread was.
"""
import struct

from .errors import Unreadable
from .layout import FLAG_BUSY, uint
from .memory import PatchedReader

LOST = 0xFFFFFFFF  # journal.used when a change outgrew the journal

OPS = {
    1: "malloc()", 2: "aligned_alloc()", 3: "free()", 4: "realloc()",
    5: "free(), its thread cache full and sending blocks back",
    6: "the end of its thread, its cache going back to the arenas",
    7: "ant_check()",
    8: "fork(), the child taking back the caches of threads it lost",
}

# journal.step: what it says, from args[0] and args[1].
STEPS = {
    1: "taking free block mem 0x{0:x} for a block of {1} bytes",
    2: "carving {1} bytes from the wilderness of region 0x{0:x}",
    3: "splitting block mem 0x{0:x} after its first {1} bytes",
    4: "handing out mem 0x{0:x} for {1} requested bytes",
    5: "marking mem 0x{0:x} free",
    6: "merging mem 0x{0:x} with its free neighbour mem 0x{1:x}",
    7: "filing free block mem 0x{0:x} in its size bin",
    8: "giving free block mem 0x{0:x} back to the wilderness of region 0x{1:x}",
    9: "growing region 0x{0:x} in place to {1} bytes",
    10: "adding a new region 0x{0:x} of {1} bytes",
    11: "dropping the empty region 0x{0:x}",
    12: "adding big block mem 0x{0:x} of {1} requested bytes",
    13: "dropping big block mem 0x{0:x}",
    14: "growing mem 0x{0:x} in place to a block of {1} bytes",
    15: "copying mem 0x{0:x} to its new place, mem 0x{1:x}",
    16: "giving cached mem 0x{0:x} of cache 0x{1:x} back to the arena",
    17: "rebuilding the arena's free lists after damage",
    18: "checking the blocks of region 0x{0:x}",
    19: "moving the cached blocks from mem 0x{0:x} down to cache 0x{1:x}",
    20: "holding freed mem 0x{0:x} in the quarantine, {1} bytes held before",
    21: "taking mem 0x{0:x}, the oldest, out of the quarantine, {1} bytes held before",
}
STEP_REBUILD_BINS = 17

_HEAD = struct.Struct("<IIQQQII")  # op step thread args[0] args[1] used capacity


class Journal:
    """One arena's journal, read and validated: `records` are (address,
    old bytes) in the order they were made; `fault` says why they cannot
    be used, or is None."""

    def __init__(self, arena, address):
        self.arena = arena
        self.address = address  # of the journal in the target
        self.op = self.step = self.thread = self.used = 0
        self.args = (0, 0)
        self.records = []
        self.fault = None

    @property
    def lost(self):
        return self.used == LOST

    @property
    def active(self):
        return bool(self.op or self.step or self.used)

    def describe(self):
        """"thread 4242 inside free(): merging mem A with ...", or None."""
        if not self.active:
            return None
        what = OPS.get(self.op, "an allocator call (journal.op %d)" % self.op)
        text = "arena %d: thread %d inside %s" % (self.arena, self.thread, what)
        step = STEPS.get(self.step)
        if step is not None:
            text += ": " + step.format(*self.args)
        if self.lost:
            text += "; the change outgrew the journal, so the arena's blocks were not checked"
        elif self.records:
            text += " (%d record%s undone to read the heap as it was before)" % (
                len(self.records), "" if len(self.records) == 1 else "s")
        return text


def read_journal(layout, index, address, data):
    """The journal inside arena `index` at `address`, whose bytes are
    `data`."""
    fields = layout.fields
    base = layout.journal[0]
    journal = Journal(index, address + base)
    part = data[base:base + layout.journal[1]]

    def value(name):
        offset, size = fields["journal." + name]
        return uint(part, offset, size)

    journal.op, journal.step, journal.thread = value("op"), value("step"), value("thread")
    args_at = fields["journal.args"][0]
    journal.args = struct.unpack_from("<QQ", part, args_at)
    journal.used, capacity = value("used"), value("capacity")
    words_at, words_size = fields["journal.words"]
    room = words_size // 8
    if journal.lost or not journal.used:
        return journal
    if capacity != room or journal.used > room:
        journal.fault = ("journal.used is %d and journal.capacity %d, but the journal "
                         "has room for %d words" % (journal.used, capacity, room))
        return journal
    words = struct.unpack_from("<%dQ" % journal.used, part, words_at)
    at = 0
    while at < len(words):
        if at + 2 > len(words):
            journal.fault = "its last record is cut off at word %d" % at
            return journal
        where, size = words[at], words[at + 1]
        if where % 8 or size % 8 or not size or at + 2 + size // 8 > len(words):
            journal.fault = ("its record at word %d (address 0x%x, %d bytes) is not a "
                             "whole record of 8-byte words" % (at, where, size))
            return journal
        old = part[words_at + 8 * (at + 2):words_at + 8 * (at + 2) + size]
        journal.records.append((where, old))
        at += 2 + size // 8
    return journal


def undo(reader, layout, arenas):
    """(a reader of the heap as it was before every change under way, the
    journals) for `arenas`, [(index, address, bytes)] read as they are. A
    journal whose records cannot be used, or that names memory that cannot
    be read, undoes nothing: its `fault` says why."""
    journals = []
    words = {}
    for index, address, data in arenas:
        journal = read_journal(layout, index, address, data)
        journals.append(journal)
        if journal.fault or journal.lost or not journal.records:
            continue
        mine = {}
        for where, old in journal.records:
            try:
                reader.read(where, len(old))
            except Unreadable as error:
                journal.fault = "its record of 0x%x names memory that cannot be read (%s)" % (
                    where, error)
                break
            for offset in range(0, len(old), 8):
                # The first record of a word holds its bytes before the change.
                mine.setdefault(where + offset, old[offset:offset + 8])
        if journal.fault is None:
            words.update(mine)
    return PatchedReader(reader, words), journals


def busy_bit(layout):
    """(offset of the word holding node.flags, the BUSY bit in that word)."""
    offset, _ = layout.fields["node.flags"]
    word = offset & ~7
    return word, FLAG_BUSY << ((offset - word) * 8)


def release_held(reader, layout, arena_busy, cache_busy):
    """A node an arena's lock holder has taken BUSY, and that no thread
    cache is changing, differs from what it was only by the flag until the
    journal records it: read it without."""
    word_at, bit = busy_bit(layout)
    words = {}
    for node in arena_busy:
        if not node or node in cache_busy or node % 8:
            continue
        try:
            word = int.from_bytes(reader.read(node + word_at, 8), "little")
        except Unreadable:
            continue
        if word & bit:
            words[node + word_at] = (word & ~bit).to_bytes(8, "little")
    if words:
        reader.add(words)
