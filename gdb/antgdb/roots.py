"""The roots of ant-leaks and ant-refs: where a program keeps pointers that
are not in the Ant heap.

Every thread's registers, and its stack from its stack pointer up to the
end of the mapping that holds it (below the stack pointer lie only frames
that have returned); every other writable mapping: data, bss, TLS, other
mappings, other allocators' memory. Not roots: the Ant heap itself (its
HEAP regions and big mappings, which the marking reaches block by block)
and the allocator's own records (the root, the arenas with their bins and
journals, the thread caches and depots), which name blocks the program
may have lost. commands.py gathers the threads and the mappings from gdb;
this module only decides.
"""
import re

_MAPS_LINE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$")
# gdb's `info proc mappings` on a core: start, end, size, offset, [perms,] file.
_GDB_LINE = re.compile(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+"
                       r"(?:[-r][-w][-x][-sp]\s+)?(\S.*)$")


class Thread:
    """A thread as gdb shows it: its number, its LWP, the words its
    registers hold ({name: [words]}, vector registers as several), its
    stack pointer and its frames, newest first, as (stack pointer, name)."""

    def __init__(self, number, lwp, registers, sp, frames=()):
        self.number = number
        self.lwp = lwp
        self.registers = registers
        self.sp = sp
        self.frames = list(frames)

    def label(self):
        return "thread %d" % self.number + (" (LWP %d)" % self.lwp if self.lwp else "")

    def frame_of(self, address):
        """(index, name) of the frame whose part of the stack holds
        address, or None above the oldest frame's stack pointer."""
        found = None
        for index, (sp, name) in enumerate(self.frames):
            if sp > address:
                break
            found = (index, name)
        return found


class Area:
    """Memory scanned as a root: [start, end) of a thread's stack (thread
    set) or of a mapping (name as /proc/PID/maps gives it, or None)."""

    def __init__(self, start, end, name=None, thread=None):
        self.start = start
        self.end = end
        self.name = name
        self.thread = thread

    def describe(self, address):
        if self.thread is not None:
            frame = self.thread.frame_of(address)
            where = "stack"
            if frame is not None:
                where += " frame #%d (%s)" % frame
            return "%s %s" % (self.thread.label(), where)
        return "mapping 0x%x-0x%x%s" % (self.start, self.end, " " + self.name if self.name else "")


def parse_maps(text):
    """[(start, end, writable, name)] of /proc/PID/maps' readable lines."""
    found = []
    for line in text.splitlines():
        match = _MAPS_LINE.match(line)
        if match and match.group(3)[0] == "r":
            found.append((int(match.group(1), 16), int(match.group(2), 16),
                          match.group(3)[1] == "w", match.group(4).strip() or None))
    return found


def parse_gdb_mappings(text):
    """[(start, end, file)] of the file-backed mappings gdb's `info proc
    mappings` lists for a core (from its NT_FILE note)."""
    found = []
    for line in text.splitlines():
        match = _GDB_LINE.match(line)
        if match:
            found.append((int(match.group(1), 16), int(match.group(2), 16), match.group(3).strip()))
    return found


def named(mappings, files):
    """The mappings, each unnamed one given the file of the mapping in
    `files` that holds it: a core's segments carry no names."""
    files = sorted(files)
    out = []
    for start, end, writable, name in mappings:
        for lo, hi, path in files:
            if name is None and lo <= start and end <= hi:
                name = path
                break
        out.append((start, end, writable, name))
    return out


def allocator_spans(heap):
    """[(start, end)] of the Ant heap and of the allocator's records, sorted."""
    layout = heap.layout
    spans = [(region.address, region.end) for region in heap.regions]
    spans.append((layout.address, layout.address + layout.fields["root"][1]))
    spans += [(address, address + layout.arena_size) for address in layout.arena_addresses
              if address]
    spans += [(cache.address, cache.address + layout.cache_size) for cache in heap.caches]
    return sorted(spans)


def areas(mappings, threads, heap):
    """The Areas to scan: each writable mapping, or from a thread's stack
    pointer up in the one that holds it, less the allocator's spans."""
    spans = allocator_spans(heap)
    found = []
    for start, end, writable, name in sorted(mappings):
        if not writable:
            continue
        inside = [thread for thread in threads if start <= thread.sp < end]
        if inside:
            lowest = min(inside, key=lambda thread: thread.sp)
            pieces = [(lowest.sp, end, lowest)]
        else:
            pieces = [(start, end, None)]
        for lo, hi, thread in pieces:
            for piece_lo, piece_hi in _less(lo, hi, spans):
                found.append(Area(piece_lo, piece_hi, name, thread))
    return found


def _less(lo, hi, spans):
    """[lo, hi) without the sorted spans, as pieces."""
    pieces = []
    for start, end in spans:
        if end <= lo or start >= hi:
            continue
        if start > lo:
            pieces.append((lo, start))
        lo = max(lo, end)
        if lo >= hi:
            return pieces
    if lo < hi:
        pieces.append((lo, hi))
    return pieces
