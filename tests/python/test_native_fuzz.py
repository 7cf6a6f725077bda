"""The C fast test alone (native.NativeRun) against fastpath.PythonRun, and
the C scan (native.NativeScan) against fastpath.PythonScan, on windows of
valid nodes, mutated and resealed so that damage gets past the check, and
on random bytes; at addresses up to 2^64, with random keys, arenas, marks
and poisons. Each window sits flush against a page that cannot be read, at
its end or at its start, so a read out of it kills the test instead of
passing unseen.

Needs the library: run through native_run.py with ANT_GDB_NATIVE set."""
import ctypes
import mmap
import os
import random
import unittest
from array import array

import gdbpath  # noqa: F401
from antgdb import fastpath, native, render
from antgdb import layout as L
from antgdb.columns import Columns
from antgdb.errors import Unreadable
from antgdb.heapwide import _suspects
from antgdb.model import FreeBlocks
from antgdb.selection import Selection
from antgdb.sites import Sites

SEED = int(os.environ.get("ANT_FUZZ_SEED", "20261126"))
ROUNDS = int(os.environ.get("ANT_FUZZ_ROUNDS", "150")) * 20
PAGE = mmap.PAGESIZE
PAGES = 4  # the largest window
U64 = (1 << 64) - 1


def setUpModule():
    if native.load() is None:
        raise unittest.SkipTest("the native walker is not loaded: " + native.describe())


class Fence:
    """PAGES readable pages between two that cannot be read."""

    def __init__(self):
        self.map = mmap.mmap(-1, (PAGES + 2) * PAGE)
        self.start = ctypes.addressof(ctypes.c_char.from_buffer(self.map))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        for page in (0, PAGES + 1):
            if libc.mprotect(self.start + page * PAGE, PAGE, 0):  # PROT_NONE
                raise OSError(ctypes.get_errno(), "mprotect")

    def place(self, data, at_end):
        """data, copied against the end or the start of the readable pages,
        as a ctypes array the C reads in place."""
        offset = (PAGES + 1) * PAGE - len(data) if at_end else PAGE
        self.map[offset:offset + len(data)] = data
        return (ctypes.c_char * len(data)).from_buffer(self.map, offset)


class FakeLayout:
    def __init__(self, rng):
        self.secret = rng.randrange(1 << 64)
        self.poison = rng.choice((0xA5, 0, 0xFF, rng.randrange(256)))


def params_for(rng):
    """Parameters with random keys, poisons and arenas (one beyond the 8
    bits of node.arena among them), and sometimes marks of any value."""
    arena = rng.choice((0, 1, 63, 255, 256, rng.randrange(1 << 32)))
    params = fastpath.Params(FakeLayout(rng), arena)
    if rng.random() < 0.1:
        params.used_mark, params.free_mark, params.cached_mark = (
            rng.choice((rng.randrange(1 << 32), fastpath.NO_MARK, params.free_mark))
            for _ in range(3))
    return params, arena


def put(window, at, value, size=8):
    raw = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
    window[at:at + size] = raw[:max(0, len(window) - at)]


def seal(params, window, base, at):
    node = (base + at) & U64
    data = bytes(window[at:at + 32]).ljust(32, b"\0")
    put(window, at + 28, L.head_check(params.secret, node, data), 4)


def nodes(rng, params, base, length):
    """Valid blocks laid from base, then cut at `length`, mid-block as a
    window may be, or sooner at the end of a block: (the window, the blocks
    as (offset, size), the end of the last block)."""
    window = bytearray(rng.randbytes(length + 2048))
    blocks, at, below = [], 0, rng.choice((0, 0, 64, rng.randrange(1 << 32)))
    while True:
        size = rng.choice((64, 96, 160, 256, 1024, rng.randrange(64, 400)))
        size += -size % 16
        if at + size > len(window) or rng.random() < 0.03:
            break
        node = (base + at) & U64
        kind = rng.random()
        mark = (params.free_mark if kind < 0.3 else params.cached_mark if kind < 0.45
                else params.used_mark)
        if rng.random() < 0.3:
            mark |= rng.randrange(1 << 14) << 17  # a change count in the flags
        free = mark & 0xFF in (L.STATE_FREE, L.STATE_CACHED)
        requested = rng.randrange(0, size - 40 + 1)
        serial, site = rng.randrange(1 << 48), rng.randrange(1 << 48)
        put(window, at, size | below << 32)
        put(window, at + 8, requested | (serial & L.MASK32) << 32)
        put(window, at + 16, site | (serial >> 32) << 48)
        put(window, at + 24, mark & L.MASK32, 4)
        if free:
            freed_site, freed_serial = rng.randrange(1 << 64), rng.randrange(1 << 32)
            put(window, at + 48, freed_site)
            put(window, at + 56, freed_serial, 4)
            put(window, at + 60, L.freed_check(params.secret, node, freed_site, freed_serial), 4)
            window[at + 64:at + size] = bytes([params.poison]) * (size - 64)
        else:
            put(window, at + 32 + requested,
                (((node ^ params.secret) * L.TAIL_MULTIPLIER) & U64) | L.TAIL_NONZERO)
        seal(params, window, base, at)
        blocks.append((at, size))
        below, at = size, at + size
    if blocks and rng.random() < 0.3:
        length = min(length, sum(rng.choice(blocks)))  # right at the end of a block
    return window[:length], [b for b in blocks if b[0] < length], base + at


def mutate(rng, params, window, base, blocks):
    """A few bugs' worth of damage: a field of a block set to a value near a
    limit, resealed or not; or a stray byte."""
    for _ in range(rng.randrange(0, 4)):
        if not window:
            return
        if not blocks or rng.random() < 0.2:
            window[rng.randrange(len(window))] = rng.randrange(256)
            continue
        at, size = rng.choice(blocks)
        room = len(window) - at
        field, width, values = rng.choice((
            (0, 4, (0, 16, 63, size + 8, size - 16, size + 16, room, room - 16, room + 16,
                    0xFFFFFFF0, (1 << 64) - base - at + 64)),
            (4, 4, (0, 16, 64, size, rng.randrange(1 << 32))),
            (8, 4, (size - 40, size - 39, size - 32, size, 0xFFFFFFFF)),
            (12, 4, (0, rng.randrange(1 << 32))),
            (24, 4, (params.used_mark, params.free_mark, params.cached_mark, ord("J"),
                     params.used_mark | 1 << 16, params.free_mark | 1 << 31,
                     params.cached_mark | 0x3FFF << 17, params.used_mark ^ 1 << 8)),
            (28, 4, (rng.randrange(1 << 32),)),
            (32, 8, (0, rng.randrange(1 << 64))),
            (48, 8, (0, rng.randrange(1 << 64))),
            (56, 8, (0, rng.randrange(1 << 64))),
            (size - 8, 8, (0, rng.randrange(1 << 64)))))
        put(window, at + field, rng.choice(values), width)
        if field != 28 and rng.random() < 0.8:
            seal(params, window, base, at)


class FencedHeap:
    """What columns.Columns and native.NativeRows read of a heap: one
    region whose only readable bytes are a window against the fence, and
    problems at some of its nodes."""

    class Region:
        address, arena, kind, lo, values = 0x7FFFF0000000, 0, "heap", 0, {}

    def __init__(self, window, base, nodes, damaged=(), end=U64, length=0x1000):
        self.window_bytes, self.base = window, base
        self.nodes = array("Q", nodes)
        region = self.Region()
        region.hi, region.end, region.length = len(nodes), end, length
        self.regions = [region]
        self.extents = {}
        self.kept = []  # no guarded or kept freed blocks
        self.quarantined = {}  # nor quarantined ones
        self.problems = [Problem(node) for node in damaged]

    def problems_of(self, node):
        return [problem for problem in self.problems if problem.node == node]

    def region_of(self, index):
        return self.regions[0]

    def window(self, node, region):
        """The bytes from node on, as the model gives them, still fenced."""
        if node < self.base or node + 32 > self.base + len(self.window_bytes):
            raise Unreadable(node, 32)
        at = node - self.base
        return (ctypes.c_char * (len(self.window_bytes) - at)).from_buffer(self.window_bytes, at)


class Problem:
    kind = "overflow"

    def __init__(self, node):
        self.node = node


def columns(frees):
    return (list(frees.nodes), list(frees.sizes), list(frees.arenas), list(frees.nexts),
            list(frees.prevs), bytes(frees.known))


def run(runner, buf, base, cur, last, last_free):
    result = runner(buf, base, cur, last, last_free)
    counters = (runner.requested, runner.free_count, runner.free_bytes, runner.largest,
                runner.cached_count, runner.cached_bytes)
    return result, counters


class NativeFuzzTest(unittest.TestCase):
    def test_same_as_python_and_no_read_out_of_the_window(self):
        rng = random.Random(SEED)
        fence = Fence()
        library = native.load()
        for round_ in range(ROUNDS):
            params, arena = params_for(rng)
            length = rng.choice((0, 8, 32, 64, rng.randrange(PAGES * PAGE + 1)))
            base = rng.choice((0x7FFFF0000040, 16, (1 << 64) - length - 64,
                               (1 << 64) - rng.randrange(1, 2 * length + 2) & ~15))
            if rng.random() < 0.9:
                window, blocks, stop = nodes(rng, params, base, length)
                mutate(rng, params, window, base, blocks)
            else:
                window, blocks, stop = bytearray(rng.randbytes(length)), [], base + length
            start = rng.randrange(length + 1)
            if blocks and rng.random() < 0.8:
                start = rng.choice(blocks)[0]
            cur = base + start
            if cur > U64:
                continue  # no node lies above 2^64: the walk never asks
            last = rng.choice((0, None, max(0, cur - 96), rng.randrange(1 << 64)))
            for (at, _), (following, _) in zip(blocks, blocks[1:]):
                if following == start and rng.random() < 0.8:
                    last = base + at
            if blocks and start == blocks[0][0]:
                last = rng.choice((last, 0))
            last_free = rng.choice((None, last, max(0, cur - 96)))
            end = min(U64, rng.choice((stop, stop, base + length, cur, cur + 80, U64,
                                       base + rng.randrange(length + 1))))
            saved = native.ROOM
            native.ROOM = rng.choice((saved, 1, 3))
            try:
                fast = native.NativeRun(library, params, arena, end, [], FreeBlocks(), {})
            finally:
                native.ROOM = saved
            slow = fastpath.PythonRun(params, arena, end, [], FreeBlocks(), {})
            at_end = rng.random() < 0.5
            with self.subTest(seed=SEED, round=round_):
                self.assertTrue(fast.supported())
                expected = run(slow, bytes(window), base, cur, last, last_free)
                found = run(fast, fence.place(window, at_end), base, cur, last, last_free)
                self.assertEqual(found, expected)
                self.assertEqual(fast.nodes, slow.nodes)
                self.assertEqual(columns(fast.frees), columns(slow.frees))
                self.assertEqual(fast.cached, slow.cached)

    def test_the_fuzz_reaches_every_outcome(self):
        """The windows above are not all refused at once: many of their
        blocks are accepted, and each kind of state among them."""
        rng = random.Random(SEED)
        accepted = {"used": 0, "free": 0, "cached": 0}
        for _ in range(200):
            arena = rng.choice((0, 1, 63, 255))
            params = fastpath.Params(FakeLayout(rng), arena)
            window, blocks, stop = nodes(rng, params, 0x7FFFF0000050, 1 << 14)
            run = fastpath.PythonRun(params, arena, stop, [], FreeBlocks(), {})
            run(bytes(window), 0x7FFFF0000050, 0x7FFFF0000050, 0, None)
            accepted["free"] += run.free_count
            accepted["cached"] += run.cached_count
            accepted["used"] += len(run.nodes) - run.free_count - run.cached_count
        self.assertTrue(all(count > 100 for count in accepted.values()), accepted)

    def test_nothing_is_read_past_a_block_that_ends_the_window(self):
        """One block, flush against the fence: a used one whose requested
        bytes leave no room for the tail, and free and cached ones whose
        poison runs to the window's last byte."""
        rng = random.Random(SEED)
        fence = Fence()
        library = native.load()
        base = 0x7FFFF0000050
        for size in (64, 96, 160):
            for kind in ("used_mark", "free_mark", "cached_mark"):
                for excess in range(0, 17):
                    params, arena = params_for(rng)
                    window = bytearray(size)
                    put(window, 0, size)
                    put(window, 8, size - 40 + excess if kind == "used_mark" else 0)
                    put(window, 24, getattr(params, kind), 4)
                    put(window, 60, L.freed_check(params.secret, base, 0, 0), 4)
                    window[64:] = bytes([params.poison]) * (size - 64)
                    seal(params, window, base, 0)
                    fast = native.NativeRun(library, params, arena, base + size, [], FreeBlocks(), {})
                    slow = fastpath.PythonRun(params, arena, base + size, [], FreeBlocks(), {})
                    found = run(fast, fence.place(window, True), base, base, 0, None)
                    with self.subTest(size=size, kind=kind, excess=excess):
                        self.assertEqual(found, run(slow, bytes(window), base, base, 0, None))

    def test_no_below_matches_an_unknown_node_below(self):
        """After a scan the walk knows no node below (None, 2^64 - 1 in C):
        no below matches it."""
        arena = 0
        params = fastpath.Params(FakeLayout(random.Random(SEED)), arena)
        base = 0x7FFFF0000050
        for below in (0, 64, 0xFFFFFFFF):
            window = bytearray(96)
            put(window, 0, 96 | below << 32)
            put(window, 24, params.used_mark, 4)
            put(window, 32, (((base ^ params.secret) * L.TAIL_MULTIPLIER) & U64) | L.TAIL_NONZERO)
            seal(params, window, base, 0)
            fast = native.NativeRun(native.load(), params, arena, base + 96, [], FreeBlocks(), {})
            slow = fastpath.PythonRun(params, arena, base + 96, [], FreeBlocks(), {})
            self.assertEqual(run(fast, bytes(window), base, base, None, None),
                             run(slow, bytes(window), base, base, None, None))
            self.assertEqual(fast.nodes, [])
            self.assertEqual(run(fast, bytes(window), base, base, 0, None)[0][3], below != 0)

    def test_a_poison_it_cannot_hold_is_refused(self):
        rng = random.Random(SEED)
        library = native.load()
        params, arena = params_for(rng)
        params.poison = 256
        self.assertFalse(native.NativeRun(library, params, arena, 0, [], FreeBlocks(), {}).supported())
        params, arena = params_for(rng)
        self.assertTrue(native.NativeRun(library, params, arena, 0, [], FreeBlocks(), {}).supported())


class ScanFuzzTest(unittest.TestCase):
    """The C scan (native.NativeScan) against fastpath.PythonScan, on windows
    of valid and damaged nodes, stale copies, random bytes, at any start,
    fenced like the walk's."""

    def test_same_node_as_python_and_no_read_out_of_the_window(self):
        rng = random.Random(SEED)
        fence = Fence()
        library = native.load()
        found_any = 0
        for round_ in range(ROUNDS // 4):
            params = fastpath.Params(FakeLayout(rng), rng.choice((0, 7, 255)))
            if rng.random() < 0.2:
                params, _ = params_for(rng)
            length = rng.choice((0, 31, 32, 48) + (rng.randrange(PAGES * PAGE + 1),) * 4)
            base = rng.choice((0x7FFFF0000040, 16, (1 << 64) - length - 16 & ~15,
                               0x7FFFF0000049))
            if rng.random() < 0.8:
                window, blocks, _ = nodes(rng, params, base, length)
                mutate(rng, params, window, base, blocks)
                for at, _ in rng.sample(blocks, min(len(blocks), rng.randrange(4))):
                    put(window, at + 28, rng.randrange(1 << 32), 4)  # damaged nodes
            else:
                window = bytearray(rng.randbytes(length))
            at = base + rng.randrange(-40, length + 40)
            if not 0 <= at <= U64:
                continue  # the walk never asks for a node below 0 or above 2^64
            python = fastpath.PythonScan(params)(bytes(window), base, at)
            with self.subTest(seed=SEED, round=round_):
                self.assertEqual(native.NativeScan(library, params)(
                    fence.place(window, rng.random() < 0.5), base, at), python)
            found_any += python is not None
        self.assertGreater(found_any, ROUNDS // 40)  # the scan is not always fruitless


class LinksFuzzTest(unittest.TestCase):
    """The C test of free links (native.Native.free_links) against
    heapwide._suspects: free lists whole, cut, crossed, leading out, to
    other arenas, to blocks whose links are unknown, of arenas not judged,
    with the blocks in address order and out of it."""

    def test_same_suspects_as_python(self):
        rng = random.Random(SEED)
        library = native.load()
        flagged = 0
        for round_ in range(ROUNDS // 20):
            frees = FreeBlocks()
            count = rng.choice((0, 1, 2, rng.randrange(3, 300)))
            nodes = rng.sample(range(0x7FFFF0000000, 0x7FFFF0000000 + 0x10000 * 16, 16), count)
            if rng.random() < 0.5:
                nodes.sort()
            arenas = [rng.choice((0, 0, 0, 1, 63)) for _ in nodes]
            order = sorted(range(count), key=lambda i: (arenas[i], rng.random()))
            nexts, prevs = [0] * count, [0] * count
            for a, b in zip(order, order[1:]):
                if arenas[a] == arenas[b]:
                    nexts[a], prevs[b] = nodes[b], nodes[a]
            for _ in range(rng.randrange(0, 4)):
                if count:
                    column = rng.choice((nexts, prevs))
                    column[rng.randrange(count)] = rng.choice(
                        (0, rng.choice(nodes), rng.randrange(1 << 64), nodes[0] + 8))
            for i in range(count):
                known = rng.random() > 0.05
                frees.add(nodes[i], arenas[i], 64, nexts[i] if known else None,
                          prevs[i] if known else None)
            rebuilding = set(rng.sample((0, 1, 63), rng.randrange(2)))
            python = _suspects(frees, rebuilding)
            with self.subTest(seed=SEED, round=round_):
                self.assertEqual(library.free_links(frees, rebuilding), python)
            flagged += bool(python)
        self.assertGreater(flagged, ROUNDS // 200)


def site_name(address):
    return (None, None) if address % 5 == 0 else ("s%x" % address, "f.c:%d" % (address % 9))


class RowsFenceTest(unittest.TestCase):
    """The C that reads nodes into columns (columns.Columns with the
    library) and writes ant-walk's rows from them (native.NativeRows), on
    nodes in random and damaged windows flush against the fence, and on
    nodes partly or wholly out of them: never a read out of the window,
    the columns Python reads and the text Python writes (render.JsonRows,
    TextRows)."""

    def test_same_rows_as_python_and_no_read_out_of_the_window(self):
        rng = random.Random(SEED)
        fence = Fence()
        library = native.load()
        for round_ in range(ROUNDS // 2):
            params, _ = params_for(rng)
            length = rng.choice((0, 32, 64, rng.randrange(PAGES * PAGE + 1)))
            base = rng.choice((0x7FFFF0000040, 16, (1 << 64) - length - 64 & ~15,
                               (1 << 64) - length))
            if rng.random() < 0.7:
                window, blocks, _ = nodes(rng, params, base, length)
                mutate(rng, params, window, base, blocks)
                offsets = [at for at, _ in blocks]
            else:
                window, offsets = bytearray(rng.randbytes(length)), []
            length = len(window)
            offsets += [rng.randrange(-80, length + 16) for _ in range(rng.randrange(4))]
            if rng.random() < 0.5:
                offsets = [at for at in offsets if 0 <= at <= length - 32]
            addresses = sorted({base + at for at in offsets if 0 <= base + at <= U64})
            damaged = [node for node in addresses if rng.random() < 0.2]
            chosen = rng.choice(((None, 0, None), ("used", 0, None), ("cached", 0, 3),
                                 (None, 100, None), (None, 0, rng.randrange(1, 5))))
            heap = FencedHeap(fence.place(window, rng.random() < 0.5), base, addresses, damaged,
                              end=rng.choice((U64, min(U64, base + length + 64), 1 << 40)),
                              length=rng.choice((0x1000, 1 << 40, 10 ** 19)))
            json_mode = rng.random() < 0.5
            text = (render.JsonRows if json_mode else render.TextRows)(heap, Sites(site_name))
            slow, fast = Columns(heap), Columns(heap, library)
            with self.subTest(seed=SEED, round=round_, json=json_mode):
                if any(node < base or node + 32 > base + length for node in addresses):
                    for columns in (slow, fast):
                        with self.assertRaises(Unreadable):
                            columns.everything()
                    continue
                for name in ("sizes", "requested", "serials", "sites", "states", "plain"):
                    self.assertEqual(getattr(fast.everything(), name),
                                     getattr(slow.everything(), name))
                python = render.PythonRows(heap, slow, text, Selection(*chosen))
                saved = native.OUT_ROOM
                native.OUT_ROOM = rng.choice((saved, 300, 700))
                try:
                    rows = native.NativeRows(library, heap, fast, text, Selection(*chosen))
                finally:
                    native.OUT_ROOM = saved
                between = ",\n" if json_mode else "\n"
                self.assertEqual(between.join(rows), between.join(python))
                self.assertEqual(rows.shown, python.shown)


if __name__ == "__main__":
    unittest.main()
