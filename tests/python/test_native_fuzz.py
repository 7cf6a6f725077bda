"""The C fast test alone (native.NativeRun) against fastpath.PythonRun, on
windows of valid nodes, mutated and resealed so that damage gets past the
head check, and on random bytes; at addresses up to 2^64, with random keys,
arenas, poisons and head moduli. Each window sits flush against a page that
cannot be read, at its end or at its start, so a read out of it kills the
test instead of passing unseen.

Needs the library: run through native_run.py with ANT_GDB_NATIVE set."""
import ctypes
import mmap
import os
import random
import struct
import unittest
from array import array

import gdbpath  # noqa: F401
from antgdb import fastpath, native, render
from antgdb.errors import Unreadable
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
    node_size, alignment, min_block, tail_size = 64, 16, 80, 8

    def __init__(self, rng):
        self.secret = rng.randrange(1 << 64)
        self.poison = rng.choice((0xA5, 0, 0xFF, rng.randrange(256)))
        self.version = rng.choice((1, 2, 3))


def params_for(rng):
    """Layout version 1's, 2's or 3's parameters with random keys, arenas and
    poisons, and sometimes others the C handles as the Python does: any
    alignment, poison offset or overhead, any head modulus 2^bits - 1, any
    constants of version 3's head."""
    arena = rng.choice((0, 1, 63, rng.randrange(1 << 32)))
    params = fastpath.Params(FakeLayout(rng), arena)
    if rng.random() < 0.3:
        params.head_prime = (1 << rng.choice((2, 5, 13, 31, 40, 63))) - 1
        params.head_shift = rng.randrange(200)
    if params.head_products and rng.random() < 0.3:
        params.head_adds = tuple(rng.choice((0, U64, rng.randrange(1 << 64))) for _ in range(7))
    if rng.random() < 0.3:
        params.align_mask = rng.choice((0, 7))
        params.poison_from = rng.randrange(64, 200)
        params.overhead = rng.randrange(72, 200)
    return params, arena


def head(params, node, data):
    if params.head_products:
        w = [(int.from_bytes(data[8 * i:8 * i + 8], "little") + add) & U64
             for i, add in enumerate(params.head_adds)]
        x = (w[0] * w[1] + w[2] * w[3] + w[4] * w[5] + w[6] * (node ^ params.secret)) % (1 << 128)
        return (x & U64) ^ (x >> 64)
    low = int.from_bytes(data[:params.head_offset], "little")
    return (low + ((node ^ params.secret) << params.head_shift)) % params.head_prime


def seal(params, window, base, at):
    node = (base + at) & U64
    sealed = head(params, node, window[at:at + 56]).to_bytes(8, "little")
    window[at + 56:at + 64] = sealed[:max(0, len(window) - at - 56)]


def put(window, at, value):
    raw = (value & U64).to_bytes(8, "little")
    window[at:at + 8] = raw[:max(0, len(window) - at)]


def nodes(rng, params, base, length):
    """Valid blocks laid from base, then cut at `length`, mid-block as a
    window may be, or sooner at the end of a block: (the window, the blocks
    as (offset, size), the end of the last block)."""
    window = bytearray(rng.randbytes(length + 2048))
    blocks, at, prev = [], 0, 0
    while True:
        size = rng.choice((80, 96, 160, 256, 1024, rng.randrange(80, 400)))
        size += -size % (params.align_mask + 1)
        if at + size > len(window) or rng.random() < 0.03:
            break
        node = (base + at) & U64
        kind = rng.random()
        free = kind < 0.3 or (kind < 0.45 and params.cached_word)
        word = (params.free_word if kind < 0.3 else params.cached_word if free
                else params.used_word)
        if params.cached_word and rng.random() < 0.3:
            word |= rng.randrange(1, 128) << 56  # version 2's change count
        requested = 0 if free else rng.randrange(0, max(1, size - params.overhead + 1))
        for index, value in enumerate((prev, node + size, size, requested, rng.randrange(1 << 64),
                                       0x401000, word)):
            put(window, at + 8 * index, value)
        if free:
            window[at + params.poison_from:at + size] = bytes([params.poison]) * max(
                0, size - params.poison_from)
        else:
            put(window, at + 64 + requested,
                (((node ^ params.secret) * params.tail_multiplier) & U64) | params.tail_nonzero)
        seal(params, window, base, at)
        blocks.append((at, size))
        prev, at = node, at + size
    if blocks and rng.random() < 0.5:
        put(window, blocks[-1][0] + 8, 0)  # the last block before the wilderness
        seal(params, window, base, blocks[-1][0])
    if blocks and rng.random() < 0.3:
        length = min(length, sum(rng.choice(blocks)))  # right at the end of a block
    return window[:length], [b for b in blocks if b[0] < length], base + at


def mutate(rng, params, window, base, blocks):
    """A few bugs' worth of damage: a field of a block set to a value near a
    limit (its neighbours' fields kept in step, or not), resealed or not;
    or a stray byte."""
    for _ in range(rng.randrange(0, 4)):
        if not window:
            return
        if not blocks or rng.random() < 0.2:
            window[rng.randrange(len(window))] = rng.randrange(256)
            continue
        at, size = rng.choice(blocks)
        node = base + at
        room = len(window) - at
        field, values = rng.choice((
            (16, (0, 16, 79, size + 8, size - 16, room, room - 16, room + 16, U64 - 15,
                  (1 << 64) - node + 64, (1 << 64) - node, U64 - node)),
            (24, (size - 72, size - 71, size - 64, size - 8, size, U64 - 7, U64 - 70)),
            (48, (params.used_word, params.free_word, 0x48434143, params.used_word | 1 << 48,
                  params.free_word ^ 1 << 32, params.used_word | 1 << 56,
                  params.cached_word | 1 << 63, params.free_word | 0x7F << 56)),
            (0, (0, node - size, node, U64, rng.randrange(1 << 64))),
            (8, (0, node + size + 16, node, rng.randrange(1 << 64))),
            (56, (rng.randrange(1 << 64),)),
            (64, (0, rng.randrange(1 << 64))),
            (size - 8, (0, rng.randrange(1 << 64)))))
        value = rng.choice(values) & U64
        put(window, at + field, value)
        if field == 16 and rng.random() < 0.5:
            put(window, at + 8, node + value)
        if field != 56 and rng.random() < 0.8:
            seal(params, window, base, at)


class FencedHeap:
    """What native.NativeRows reads of a heap: one region whose only
    readable bytes are a window against the fence."""

    class Layout:
        node_size = 64

    class Region:
        address, arena, kind, lo = 0x7FFFF0000000, 0, "heap", 0

    def __init__(self, window, base, nodes, end=U64, length=0x1000):
        self.layout = self.Layout()
        self.window_bytes, self.base = window, base
        self.nodes = array("Q", nodes)
        region = self.Region()
        region.hi, region.end, region.length = len(nodes), end, length
        self.regions = [region]
        self.extents, self.problems = {}, []

    def problems_of(self, node):
        return ()

    def window(self, node, region):
        """The bytes from node on, as the model gives them, still fenced."""
        if node < self.base or node + 64 > self.base + len(self.window_bytes):
            raise Unreadable(node, 64)
        at = node - self.base
        return (ctypes.c_char * (len(self.window_bytes) - at)).from_buffer(self.window_bytes, at)


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
            length = rng.choice((0, 8, 64, 80, rng.randrange(PAGES * PAGE + 1)))
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
                fast = native.NativeRun(library, params, arena, end, [], {}, {})
            finally:
                native.ROOM = saved
            slow = fastpath.PythonRun(params, arena, end, [], {}, {})
            at_end = rng.random() < 0.5
            with self.subTest(seed=SEED, round=round_):
                self.assertTrue(fast.supported())
                expected = run(slow, bytes(window), base, cur, last, last_free)
                found = run(fast, fence.place(window, at_end), base, cur, last, last_free)
                self.assertEqual(found, expected)
                self.assertEqual(fast.nodes, slow.nodes)
                self.assertEqual(fast.frees, slow.frees)
                self.assertEqual(fast.cached, slow.cached)

    def test_nothing_is_read_past_a_block_that_ends_the_window(self):
        """One block, flush against the fence: a used one whose requested
        bytes leave no room for the tail, a free one whose poison would
        start past its end."""
        rng = random.Random(SEED)
        fence = Fence()
        library = native.load()
        base = 0x7FFFF0000040
        for size in (80, 96, 160):
            for free in (False, True):
                for excess in range(1, 17):
                    params, arena = params_for(rng)
                    params.poison_from = size + excess
                    window = bytearray(size)
                    requested = 0 if free else size - params.overhead + excess
                    for index, value in enumerate((0, 0, size, requested, 1, 0x401000,
                                                   params.free_word if free else params.used_word)):
                        put(window, 8 * index, value)
                    seal(params, window, base, 0)
                    fast = native.NativeRun(library, params, arena, base + size, [], {}, {})
                    slow = fastpath.PythonRun(params, arena, base + size, [], {}, {})
                    found = run(fast, fence.place(window, True), base, base, 0, None)
                    with self.subTest(size=size, free=free, excess=excess):
                        self.assertEqual(found, run(slow, bytes(window), base, base, 0, None))

    def test_no_prev_matches_an_unknown_node_below(self):
        """After a scan the walk knows no node below (None, 2^64 - 1 in C):
        not even a prev of 2^64 - 1 matches it."""
        arena = 0
        params = fastpath.Params(FakeLayout(random.Random(SEED)), arena)
        base = 0x7FFFF0000040
        window = bytearray(96)
        for index, value in enumerate((U64, 0, 96, 0, 1, 0x401000, params.used_word)):
            put(window, 8 * index, value)
        put(window, 64, (((base ^ params.secret) * params.tail_multiplier) & U64)
            | params.tail_nonzero)
        seal(params, window, base, 0)
        fast = native.NativeRun(native.load(), params, arena, base + 96, [], {}, {})
        slow = fastpath.PythonRun(params, arena, base + 96, [], {}, {})
        self.assertEqual(run(fast, bytes(window), base, base, None, None),
                         run(slow, bytes(window), base, base, None, None))
        self.assertEqual(fast.nodes, [])

    def test_layouts_it_cannot_mirror_are_refused(self):
        rng = random.Random(SEED)
        library = native.load()
        for name, value in (("head_prime", 1000003), ("head_prime", U64), ("head_prime", 1),
                            ("head_offset", 52), ("head_offset", 64), ("min_block", 64),
                            ("overhead", 70), ("poison", 256), ("head_products", 2)):
            params, arena = params_for(rng)
            setattr(params, name, value)
            with self.subTest(name=name, value=value):
                self.assertFalse(native.NativeRun(library, params, arena, 0, [], {}, {}).supported())
        params, arena = params_for(rng)
        self.assertTrue(native.NativeRun(library, params, arena, 0, [], {}, {}).supported())


if __name__ == "__main__":
    unittest.main()


def site_name(address):
    return (None, None) if address % 5 == 0 else ("s%x" % address, "f.c:%d" % (address % 9))


class RowsFenceTest(unittest.TestCase):
    """The C of ant-walk --json's rows (native.NativeRows) on nodes in
    random and damaged windows flush against the fence, and on nodes
    partly or wholly out of them: never a read out of the window, and the
    text Python writes (render.JsonRows, TextRows)."""

    def test_same_rows_as_python_and_no_read_out_of_the_window(self):
        rng = random.Random(SEED)
        fence = Fence()
        library = native.load()
        for round_ in range(ROUNDS // 2):
            params, _ = params_for(rng)
            length = rng.choice((0, 64, 80, rng.randrange(PAGES * PAGE + 1)))
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
                offsets = [at for at in offsets if 0 <= at <= length - 64]
            addresses = sorted({base + at for at in offsets if 0 <= base + at <= U64})
            chosen = rng.choice(((None, 0, None), ("used", 0, None), ("cached", 0, 3),
                                 (None, 100, None), (None, 0, rng.randrange(1, 5))))
            heap = FencedHeap(fence.place(window, rng.random() < 0.5), base, addresses,
                              end=rng.choice((U64, min(U64, base + length + 64), 1 << 40)),
                              length=rng.choice((0x1000, 1 << 40, 10 ** 19)))
            json_mode = rng.random() < 0.5
            text = (render.JsonRows if json_mode else render.TextRows)(heap, Sites(site_name))
            expected, unreadable = [], False
            shown = 0
            for node in addresses:
                if node < base or node + 64 > base + length:
                    unreadable = True
                    break
                words = struct.unpack_from("<8Q", window, node - base)
                state = native.STATE_NAMES.get(words[6] & 0xFFFFFFFF, "unknown")
                if (chosen[0] and state != chosen[0]) or words[2] < chosen[1]:
                    continue
                if shown == chosen[2]:
                    break
                expected.append(text.row(node, words, heap.regions[0], words[2], state))
                shown += 1
            saved = native.OUT_ROOM
            native.OUT_ROOM = rng.choice((saved, 300, 700))
            try:
                rows = native.NativeRows(library, heap, text, *chosen)
            finally:
                native.OUT_ROOM = saved
            between = ",\n" if json_mode else "\n"
            with self.subTest(seed=SEED, round=round_, json=json_mode):
                if unreadable:
                    with self.assertRaises(Unreadable):
                        list(rows)
                else:
                    self.assertEqual(between.join(rows), between.join(expected))
                    self.assertEqual(rows.shown, len(expected))
