"""Conservative reachability over an Ant heap: what ant-leaks and ant-refs
compute.

The used blocks form a table sorted by mem. A word points into a block
when it equals its mem (a start pointer) or lies inside its requested
bytes (an interior pointer). Every used block's words are scanned once,
giving the edges between blocks; the roots' words (roots.py) and register
values give the blocks they hold. Then memcheck's marking: reached by a
chain of start pointers from a root is reachable; reached otherwise,
possible; not reached, a leak, indirect when another leaked block points
into it, else definite (in a cycle of leaked blocks, the lowest one that
no other leak reaches).

The steps that touch every word run in C where gdb/native is built
(NativeSteps over reach.c) and in Python otherwise (PythonSteps, the
reference); both give the same answers.
"""
import bisect
import re
import struct
from array import array

from . import native
from .errors import Unreadable
from .layout import MASK32, NODE_SIZE, STATE_USED
from .memory import WINDOW, read_upto
from .model import damaged
from .roots import Area

UNREACHED, POSSIBLE, REACHABLE, INDIRECT = range(4)
KINDS = {UNREACHED: "definite", INDIRECT: "indirect", POSSIBLE: "possible"}
ORDER = ("definite", "indirect", "possible")
DONE, AT_WINDOW, FULL = range(3)  # reach.c's enum
ROOM = 1 << 16  # hits a call writes at most
ABI = 2  # REACH_ABI of reach.c
_WORD = struct.Struct("<Q")


class Table:
    """The used blocks, sorted by mem: mem, end (mem + requested) and
    index (the node's place in heap.nodes)."""

    def __init__(self, mem=None, end=None, index=None):
        self.mem = mem if mem is not None else array("Q")
        self.end = end if end is not None else array("Q")
        self.index = index if index is not None else array("Q")
        self.lo = self.hi = 0

    def __len__(self):
        return len(self.mem)

    def seal(self):
        """Fixes lo and hi, which bound every word that can hit."""
        if self.mem:
            self.lo = self.mem[0]
            self.hi = max(max(self.end), self.mem[-1] + 1)
        return self

    def holder(self, word):
        """The hit of one word: index << 1 | interior, or None."""
        if not self.lo <= word < self.hi:
            return None
        index = bisect.bisect_right(self.mem, word) - 1
        if index < 0:
            return None
        if word == self.mem[index]:
            return index << 1
        return index << 1 | 1 if word < self.end[index] else None


class Cursor:
    """Where a scan of contents stands: reach.c's struct reach_cursor."""

    def __init__(self, block=0):
        self.block, self.at, self.edges, self.written = block, 0, 0, 0


class PythonSteps:
    """reach.c's functions in Python: the reference."""

    name = "python"

    def used(self, buf, base, nodes, start, stop, table, count):
        """Writes the used blocks among nodes[start:stop] whose nodes the
        window holds into the table's columns from `count` on; returns
        (the first node not taken, the new count)."""
        mem, end, places = table.mem, table.end, table.index
        for index in range(start, stop):
            node = nodes[index]
            offset = node - base
            if offset < 0 or offset + NODE_SIZE > len(buf):
                return index, count
            if _WORD.unpack_from(buf, offset + 24)[0] & 0xFF == STATE_USED:
                mem[count] = node + NODE_SIZE
                end[count] = node + NODE_SIZE + (_WORD.unpack_from(buf, offset + 8)[0] & MASK32)
                places[count] = index
                count += 1
        return stop, count

    def words(self, buf, base, start, stop, table, where=None, room=ROOM):
        """(hits, the address to go on from); where, a list, gets each
        hit's address."""
        hits = []
        at = max((start + 7) & ~7, (base + 7) & ~7)
        top = min(base + len(buf), stop)
        if at + 8 <= top:
            count = (top - at) // 8
            values = array("Q", buf[at - base:at - base + 8 * count])
            lo, hi = table.lo, table.hi
            for position, word in enumerate(values):
                if not lo <= word < hi:
                    continue
                hit = table.holder(word)
                if hit is None:
                    continue
                address = at + 8 * position
                if len(hits) == room:
                    return hits, address
                hits.append(hit)
                if where is not None:
                    where.append(address)
            at += 8 * count
        return hits, at if at + 8 <= stop else stop

    def contents(self, buf, base, table, stop, cursor, edges, offsets):
        """Scans blocks' words into edges (an array), as reach.c does."""
        cursor.edges += cursor.written
        cursor.written = 0
        while cursor.block < stop:
            b = cursor.block
            mem, end = table.mem[b], table.end[b]
            last = end - (end - mem) % 8 if end > mem else mem
            start = max(cursor.at, mem)
            if start < last:
                if not base <= start < base + len(buf):
                    cursor.at = start
                    return AT_WINDOW
                hits, going = self.words(buf, base, start, last, table, None, ROOM - cursor.written)
                edges.extend(hits)
                cursor.written += len(hits)
                if going < last:
                    cursor.at = going
                    return AT_WINDOW if going + 8 > base + len(buf) else FULL
            offsets[b + 1] = cursor.edges + cursor.written
            cursor.block = b + 1
            cursor.at = 0
        return DONE

    def solve(self, count, offsets, edges, roots):
        state = bytearray(count)
        stack = []

        def mark(hit, definite):
            i = hit >> 1
            if state[i] == REACHABLE:
                return
            if not hit & 1 and definite:
                state[i] = REACHABLE
                stack.append(i)
            elif state[i] == UNREACHED:
                state[i] = POSSIBLE
                stack.append(i)

        for root in roots:
            mark(root, True)
            while stack:
                b = stack.pop()
                definite = state[b] == REACHABLE
                for e in range(offsets[b], offsets[b + 1]):
                    mark(edges[e], definite)
        for leader in range(count):
            if state[leader] != UNREACHED:
                continue
            stack.append(leader)
            while stack:
                b = stack.pop()
                for e in range(offsets[b], offsets[b + 1]):
                    i = edges[e] >> 1
                    if state[i] == UNREACHED and i != leader:
                        state[i] = INDIRECT
                        stack.append(i)
        return state


class NativeSteps:
    """The same steps through reach.c."""

    name = "native"

    def __init__(self, library_path):
        import ctypes

        library = ctypes.CDLL(library_path)
        version = library.ant_reach_abi
        version.restype = ctypes.c_uint
        version.argtypes = []
        if version() != ABI:
            raise ValueError("its reach ABI is %d, this antgdb needs %d" % (version(), ABI))
        u64, pointer = ctypes.c_uint64, ctypes.c_void_p

        class CTable(ctypes.Structure):
            _fields_ = [(name, u64) for name in ("mem", "end", "count", "lo", "hi")]

        class CCursor(ctypes.Structure):
            _fields_ = [(name, u64) for name in ("block", "at", "edges", "written")]

        self.ctypes = ctypes
        self.CTable, self.CCursor = CTable, CCursor
        self._used = library.ant_reach_used
        self._used.restype = u64
        self._used.argtypes = [pointer, u64, u64, pointer, u64, u64, pointer, pointer, pointer, pointer]
        self._words = library.ant_reach_words
        self._words.restype = u64
        self._words.argtypes = [pointer, u64, u64, u64, u64, pointer, pointer, pointer, u64, pointer]
        self._contents = library.ant_reach_contents
        self._contents.restype = ctypes.c_int
        self._contents.argtypes = [pointer, u64, u64, pointer, u64, pointer, pointer, u64, pointer]
        self._solve = library.ant_reach_solve
        self._solve.restype = None
        self._solve.argtypes = [u64, pointer, pointer, pointer, u64, pointer, pointer]
        self._out = array("I", bytes(4 * ROOM))
        self._where = array("Q", bytes(8 * ROOM))
        self._tables = {}

    @staticmethod
    def _address(column):
        return column.buffer_info()[0] if len(column) else 0

    def _table(self, table):
        """The C's view of a table, kept while the table lives."""
        key = id(table)
        held = self._tables.get(key)
        if held is None or held[0] is not table or held[1].count != len(table):
            ctable = self.CTable(self._address(table.mem), self._address(table.end), len(table),
                                 table.lo, table.hi)
            held = self._tables[key] = (table, ctable)
        return self.ctypes.byref(held[1])

    def used(self, buf, base, nodes, start, stop, table, count):
        taken = self.ctypes.c_uint64(count)
        going = self._used(buf, len(buf), base, self._address(nodes), start, stop,
                           self._address(table.mem), self._address(table.end),
                           self._address(table.index), self.ctypes.byref(taken))
        return going, taken.value

    def words(self, buf, base, start, stop, table, where=None, room=ROOM):
        going = self.ctypes.c_uint64(0)
        count = self._words(buf, len(buf), base, start, stop, self._table(table),
                            self._address(self._out),
                            self._address(self._where) if where is not None else 0,
                            min(room, ROOM), self.ctypes.byref(going))
        if where is not None:
            where.extend(self._where[:count])
        return list(self._out[:count]), going.value

    def contents(self, buf, base, table, stop, cursor, edges, offsets):
        ccursor = self.CCursor(cursor.block, cursor.at, cursor.edges, cursor.written)
        why = self._contents(buf, len(buf), base, self._table(table), stop, self.ctypes.byref(ccursor),
                             self._address(self._out), ROOM, self._address(offsets))
        edges.extend(self._out[:ccursor.written])
        cursor.block, cursor.at, cursor.edges, cursor.written = (
            ccursor.block, ccursor.at, ccursor.edges, ccursor.written)
        return why

    def solve(self, count, offsets, edges, roots):
        state = bytearray(count)
        stack = array("I", bytes(4 * (2 * count + 1)))
        roots = array("I", roots)
        if not count:
            return state
        buffer = (self.ctypes.c_char * count).from_buffer(state)
        self._solve(count, self._address(offsets), self._address(edges), self._address(roots),
                    len(roots), self.ctypes.addressof(buffer), self._address(stack))
        del buffer
        return state


_loaded = []


def steps(accelerate=True):
    """NativeSteps where the walker's library is loaded and has reach.c,
    else PythonSteps."""
    if not accelerate or native.load() is None:
        return PythonSteps()
    if not _loaded:
        # The library the walker loaded, as describe() names it: "native (PATH)".
        path = native.describe()[len("native ("):-1]
        try:
            _loaded.append(NativeSteps(path))
        except Exception:  # a library without reach.c: Python says the same
            _loaded.append(None)
    return _loaded[0] or PythonSteps()


# -- the steps put together ---------------------------------------------------

def _damaged_nodes(heap):
    return {p.node for p in heap.problems if p.node is not None and damaged([p])}


def used_table(heap, engine):
    """(Table of the heap's used blocks whose nodes are sound, the regions
    sorted by address), and how many nodes could not be read."""
    regions = sorted(heap.regions, key=lambda region: region.address)
    nodes = heap.nodes
    room = array("Q", bytes(8 * len(nodes)))
    table = Table(room, array("Q", room), array("Q", room))
    count = unread = 0
    for region in regions:
        if region.kind == "big":
            for index in range(region.lo, region.hi):
                block = heap.block(index)
                if block.state == "used":
                    table.mem[count], table.end[count] = block.mem, block.mem + block.requested
                    table.index[count] = index
                    count += 1
            continue
        index = region.lo
        while index < region.hi:
            try:
                buf, base = heap.window(nodes[index], region), nodes[index]
            except Unreadable:
                unread += 1
                index += 1
                continue
            index, count = engine.used(buf, base, nodes, index, region.hi, table, count)
    for column in (table.mem, table.end, table.index):
        del column[count:]
    bad = _damaged_nodes(heap)
    ordered = all(a.end <= b.address for a, b in zip(regions, regions[1:]))
    if bad or not ordered:
        kept = sorted(entry for entry in zip(table.mem, table.end, table.index)
                      if entry[0] - NODE_SIZE not in bad)
        table = Table(*(array("Q", column) for column in zip(*kept))) if kept else Table()
    return table.seal(), regions, unread


def contents(heap, table, regions, engine):
    """(CSR offsets, edges, bytes of blocks that could not be read): each
    used block's words, block by block in table order."""
    offsets = array("Q", bytes(8 * (len(table) + 1)))
    edges = array("I")
    cursor = Cursor()
    unread = 0
    reader = heap.reader
    for region in regions:
        stop = bisect.bisect_left(table.mem, region.end)
        while cursor.block < stop:
            b = cursor.block
            start = max(cursor.at, table.mem[b])
            try:
                buf = read_upto(reader, start, min(WINDOW, max(8, region.end - start)), 8)
            except Unreadable:
                # The rest of this block is lost to the scan: go on past it.
                unread += max(0, table.end[b] - start)
                cursor.edges += cursor.written
                cursor.written = 0
                offsets[b + 1] = cursor.edges
                cursor.block, cursor.at = b + 1, 0
                continue
            while engine.contents(buf, start, table, stop, cursor, edges, offsets) == FULL:
                pass
    offsets_done = cursor.edges + cursor.written
    for b in range(cursor.block, len(table)):  # below no region: overlapping ones, damage
        offsets[b + 1] = offsets_done
    return offsets, edges, unread


def scan_areas(reader, areas, table, engine, where=None):
    """(hits of the areas' words, bytes that could not be read); where, a
    list, gets each hit's address."""
    hits = array("I")
    unread = 0
    for area in areas:
        at = area.start
        while at < area.end:
            size = min(WINDOW, area.end - at)
            try:
                buf = read_upto(reader, at, size, min(size, 8))
            except Unreadable:
                unread += min(4096 - at % 4096, area.end - at)
                at = (at // 4096 + 1) * 4096
                continue
            top = at + len(buf)
            going = at
            while True:  # again while the hits filled the room
                found, going = engine.words(buf, at, going, area.end, table, where)
                hits.extend(found)
                if going >= area.end or going + 8 > top:
                    break
            at = going
    return hits, unread


def register_hits(threads, table):
    """[(hit, thread, register name)] of every register word that points
    into the table."""
    found = []
    for thread in threads:
        for name, words in thread.registers.items():
            for word in words:
                hit = table.holder(word)
                if hit is not None:
                    found.append((hit, thread, name))
    return found


class Leaks:
    """What ant-leaks found: the table, each block's state, and what the
    scan covered."""

    def __init__(self, table, state, facts):
        self.table = table
        self.state = state
        self.facts = facts

    def leaked(self):
        """[(mem, kind)] of every leaked block, in address order."""
        return [(self.table.mem[i], KINDS[self.state[i]]) for i in self.indices(LEAKED)]

    def indices(self, pattern=None):
        """Indices of the blocks whose state `pattern` (a compiled bytes
        regex of one state byte) matches: found in C, not a loop over a
        million states."""
        return [match.start() for match in (pattern or _DEFINITE).finditer(self.state)]


LEAKED = re.compile(b"[^%c]" % REACHABLE)
_DEFINITE = re.compile(b"%c" % UNREACHED)


def damaged_areas(heap):
    """Areas of the blocks whose nodes are damaged: they are not judged,
    but their words are roots, so that what a damaged block holds is not
    called lost."""
    found = []
    for node in sorted(_damaged_nodes(heap)):
        block, _ = heap.find(node)
        if block is None:
            continue
        end = min(block.node + block.size, block.region.end)
        if end > block.mem:
            found.append(Area(block.mem, end, "damaged block mem 0x%x" % block.mem))
    return found


def leaks(heap, threads, areas, accelerate=True):
    engine = steps(accelerate)
    areas = list(areas) + damaged_areas(heap)
    table, regions, unread_nodes = used_table(heap, engine)
    offsets, edges, unread_blocks = contents(heap, table, regions, engine)
    hits, unread_roots = scan_areas(heap.reader, areas, table, engine)
    hits.extend(hit for hit, _, _ in register_hits(threads, table))
    state = engine.solve(len(table), offsets, edges, hits)
    facts = {
        "engine": engine.name, "threads": len(threads), "areas": len(areas),
        "root_bytes": sum(area.end - area.start for area in areas),
        "unread_root_bytes": unread_roots, "unread_block_bytes": unread_blocks,
        "unread_nodes": unread_nodes, "edges": len(edges), "root_hits": len(hits),
    }
    return Leaks(table, state, facts)


def refs(heap, threads, areas, block, accelerate=True):
    """Every word that points into `block` (any of its bytes from mem to
    its end): [(address or None, offset into the block, where)] where is
    ("block", mem of the used block holding the word),
    ("area", Area) or ("register", thread, name)."""
    engine = steps(accelerate)
    areas = list(areas) + damaged_areas(heap)
    used, regions, _ = used_table(heap, engine)
    target = Table(array("Q", [block.mem]), array("Q", [block.node + block.size])).seal()
    found = []
    for hit, thread, name in register_hits(threads, target):
        found.append((None, _offset(thread.registers[name], block, hit), ("register", thread, name)))
    for area in areas:
        where = []
        scan_areas(heap.reader, [area], target, engine, where)
        for address in where:
            found.append((address, _word_offset(heap.reader, address, block), ("area", area)))
    for region in regions:
        where = []
        scan_areas(heap.reader, [Area(region.address, region.end)], target, engine, where)
        for address in where:
            hit = used.holder(address)
            if hit is None or address + 8 > used.end[hit >> 1]:
                continue  # a node, a tail, a free block's bytes: not the program's
            found.append((address, _word_offset(heap.reader, address, block),
                          ("block", used.mem[hit >> 1])))
    return found


def _offset(words, block, hit):
    for word in words:
        if block.mem <= word < block.node + block.size:
            return word - block.mem
    return 0


def _word_offset(reader, address, block):
    return _WORD.unpack(reader.read(address, 8))[0] - block.mem
