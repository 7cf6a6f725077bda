"""The fast test of the walk's hot loop, run over one window of a region, and
the scan for the next node whose check verifies.

heap.py walks a HEAP region by adjacency (node + size is the next node), a
window of the target at a time. A runner takes the window and tests node
after node against every rule one node can break, recording the nodes it
accepts, until a node fails (the walk then hands it to check.Checker), the
window ends or the region does. After a damaged node the walk looks for the
next sound one with a scanner.

PythonRun and PythonScan are the reference. native.NativeRun and
native.NativeScan run the same tests in C (gdb/native/fastwalk.c) when that
library is loaded, with the same Params, and must find exactly what the
Python finds.
"""
import re
import struct
from array import array

from .layout import (
    CHECK_ADDS, FLAG_TURNS, FREED_ADDS, MASK32, MASK64, MASK128, MIN_BLOCK, NODE_SIZE,
    POISON_OFFSET, STATE_CACHED, STATE_FREE, STATE_USED, TAIL_MULTIPLIER, TAIL_NONZERO,
    TAIL_SIZE,
)

_WORDS = struct.Struct("<4Q")
_WORD = struct.Struct("<Q")
_LINKS = struct.Struct("<QQ")
_FREED = struct.Struct("<QII")  # site | serial_high << 48, serial, check
# The state letter, at node + 24: the scan's cheap first test.
_STATE_LETTER = re.compile(rb"[UFCQ]")
_STATE_AT = 24
# A mark with any bit of the change count set: no masked mark equals it.
NO_MARK = MASK32


class Params:
    """The constants of the fast test for the nodes of one arena: what the
    process chose (its secret, its poison byte) and the marks a sound node
    of the arena has. Every other constant is the layout's own."""

    def __init__(self, layout, arena):
        self.secret = layout.secret
        self.poison = layout.poison
        # state | arena << 8, the flags clear but for the change count, which
        # the mask drops. node.arena has 8 bits: an arena index beyond them
        # matches no node.
        self.mark_mask = MASK32 & ~(FLAG_TURNS << 16)
        if arena > 0xFF:
            self.used_mark = self.free_mark = self.cached_mark = NO_MARK
        else:
            self.used_mark = STATE_USED | arena << 8
            self.free_mark = STATE_FREE | arena << 8
            self.cached_mark = STATE_CACHED | arena << 8


class PythonRun:
    """Runs the fast test in Python, appending accepted nodes to `nodes`,
    free ones to `frees` (a model.FreeBlocks) and cached ones to `cached` as
    heap.Heap keeps them, and summing what the region's counters need."""

    def __init__(self, params, arena, end, nodes, frees, cached):
        self.params = params
        self.arena = arena
        self.end = end
        self.nodes = nodes
        self.frees = frees
        self.cached = cached
        self.requested = self.free_count = self.free_bytes = self.largest = 0
        self.cached_count = self.cached_bytes = 0

    def __call__(self, buf, base, cur, last, last_free):
        """Tests the nodes of buf (read at base) from cur on; returns the
        walk's (cur, last, last_free) and whether the node at cur failed.
        `last` is the node below cur, 0 when cur is its region's first,
        None when the walk does not know it. Locals only: this loop runs
        once per block."""
        p = self.params
        secret, mask, m128, m32 = p.secret, MASK64, MASK128, MASK32
        a0, a1, a2, a3 = CHECK_ADDS
        f0, f1 = FREED_ADDS
        multiplier, nonzero = TAIL_MULTIPLIER, TAIL_NONZERO
        used_mark, free_mark, cached_mark, mark_mask = (p.used_mark, p.free_mark, p.cached_mark,
                                                        p.mark_mask)
        node_size, min_block, overhead = NODE_SIZE, MIN_BLOCK, NODE_SIZE + TAIL_SIZE
        freed_at, poison_from, poison = NODE_SIZE + 16, NODE_SIZE + POISON_OFFSET, p.poison
        end, arena = self.end, self.arena
        unpack, word, links, freed = (_WORDS.unpack_from, _WORD.unpack_from, _LINKS.unpack_from,
                                      _FREED.unpack_from)
        append = self.nodes.append
        cached = self.cached
        records = array("Q")  # node, size, next, prev of each free block
        record = records.extend
        requested_sum = free_count = free_sum = cached_count = cached_sum = 0
        largest = self.largest
        top = base + len(buf)
        failed = False
        while cur < end and cur + node_size <= top:
            if last is None:
                failed = True
                break
            off = cur - base
            w0, w1, w2, w3 = unpack(buf, off)
            size = w0 & m32
            after = cur + size
            key = cur ^ secret
            mark = w3 & m32
            x = (((w0 + a0) & mask) * ((w1 + a1) & mask)
                 + ((w2 + a2) & mask) * (((key + a3) & mask) ^ mark)) & m128
            h = (x ^ (x >> 64)) & mask
            # I1 the check; I4 below; I6 and I7 the size: aligned, at least
            # a smallest block, inside the window, and ending at the
            # wilderness or where another block fits.
            if ((h ^ (h >> 32)) & m32 != w3 >> 32 or w0 >> 32 != (cur - last if last else 0)
                    or size & 15 or size < min_block or after > top
                    or (after != end and after + min_block > end)):
                failed = True
                break
            state = mark & mark_mask
            if state == used_mark:
                requested = w1 & m32
                if (requested + overhead > size or word(buf, off + node_size + requested)[0]
                        != ((key * multiplier) & mask) | nonzero):
                    failed = True
                    break
                requested_sum += requested
            elif state == free_mark or state == cached_mark:
                site, serial, check = freed(buf, off + freed_at)
                x = ((site + f0) & mask) * (((key + f1) & mask) ^ serial)
                h = (x ^ (x >> 64)) & mask
                if ((h ^ (h >> 32)) & m32 != check
                        or buf.count(poison, off + poison_from, off + size) != size - poison_from
                        or (state == free_mark and last_free == last)):
                    failed = True
                    break
                if state == free_mark:
                    record((cur, size) + links(buf, off + node_size))
                    free_count += 1
                    free_sum += size
                    if size > largest:
                        largest = size
                    last_free = cur
                else:
                    cached[cur] = (arena, size) + links(buf, off + node_size)
                    cached_count += 1
                    cached_sum += size
            else:
                failed = True
                break
            append(cur)
            last = cur
            cur = after
        self.frees.extend(arena, records, free_count)
        self.requested += requested_sum
        self.free_count += free_count
        self.free_bytes += free_sum
        self.cached_count += cached_count
        self.cached_bytes += cached_sum
        self.largest = largest
        return cur, last, last_free, failed


class PythonScan:
    """Finds the lowest node in a window whose check verifies: what the walk
    resumes from after a damaged node. Only nodes in a state a block can
    have are tried, so that few addresses cost a check."""

    def __init__(self, params):
        self.secret = params.secret

    def __call__(self, buf, base, at, anchor=None):
        """The lowest address from `at` on, a multiple of 16, holding a
        whole node in buf (read at base) whose state is USED, FREE, CACHED
        or QUARANTINED and whose check verifies, and, when an anchor is given, whose
        below reaches back to it exactly; None if there is none."""
        secret = self.secret
        a0, a1, a2, a3 = CHECK_ADDS
        mask, m128, m32 = MASK64, MASK128, MASK32
        unpack = _WORDS.unpack_from
        start = at + (-at % 16)
        if start < base:
            start = base + (-base % 16)
        # The state letters of every candidate node, 16 bytes apart.
        first = start - base + _STATE_AT
        letters = buf[first:len(buf) - NODE_SIZE + _STATE_AT + 1:16]
        for match in _STATE_LETTER.finditer(letters):
            node = start + 16 * match.start()
            w0, w1, w2, w3 = unpack(buf, node - base)
            x = (((w0 + a0) & mask) * ((w1 + a1) & mask)
                 + ((w2 + a2) & mask) * ((((node ^ secret) + a3) & mask) ^ (w3 & m32))) & m128
            h = (x ^ (x >> 64)) & mask
            if (h ^ (h >> 32)) & m32 == w3 >> 32 and (anchor is None or w0 >> 32 == node - anchor):
                return node
        return None


def runner(params, arena, end, nodes, frees, cached, native=None):
    """The native runner when `native` (a native.Native) is given and can
    test this layout, else the Python one."""
    if native is not None:
        run = native.runner(params, arena, end, nodes, frees, cached)
        if run is not None:
            return run
    return PythonRun(params, arena, end, nodes, frees, cached)


def scanner(params, native=None):
    """The native scanner when `native` is given and can test this layout,
    else the Python one."""
    if native is not None:
        scan = native.scanner(params)
        if scan is not None:
            return scan
    return PythonScan(params)
