"""The native walker against the Python one, on whole heaps: for every kind
of damage, planted or scribbled at random, both walks must find the same
nodes, problems and counters, and every command must print the same.
Windows and output arrays are shrunk too, so that blocks straddle windows
and the C fills its arrays mid-window.

Needs the library: run through native_run.py with ANT_GDB_NATIVE set."""
import json
import os
import random
import unittest
from unittest import mock

import gdbpath  # noqa: F401
import heapimage as H
import test_fuzz
from antgdb import fastpath, model, native, render, selection
from antgdb.selection import Selection, SitePattern
from antgdb import heap as walker
from antgdb.sites import Sites

SEED = int(os.environ.get("ANT_FUZZ_SEED", "20261126"))
ROUNDS = int(os.environ.get("ANT_FUZZ_ROUNDS", "150"))
U64 = (1 << 64) - 1


def setUpModule():
    if native.load() is None:
        raise unittest.SkipTest("the native walker is not loaded: " + native.describe())


def snapshot(heap):
    """What a walk found, and everything the commands print from it."""
    sites = Sites()
    return {
        "nodes": list(heap.nodes), "extents": heap.extents,
        "frees": [(node,) + heap.frees.get(node) for node in heap.frees.nodes],
        "cached": heap.cached,
        "problems": [problem.as_dict() for problem in heap.problems],
        "notes": heap.notes,
        "regions": [(r.lo, r.hi, r.skipped_bytes, r.unknown_bytes) for r in heap.regions],
        "heap": json.dumps(render.heap_dict(heap)),
        "text": list(render.heap_lines(heap)) + list(render.check_lines(heap)),
        "rows": "\n".join(render.walk_json_lines(heap, sites)),
    }


def build():
    """Two HEAP regions of used, free and cached blocks of many sizes, and a
    big one."""
    image = H.Image()
    arena = image.arena()
    cache = image.cache()
    first = arena.region(0x4000)
    blocks = [first.used(24), first.free(160, serial=90, site=0x401200, requested=70),
              first.used(100), first.free(96), first.used(1), first.used(40), first.used(300),
              first.free(4096), first.used(2000), first.cached(cache, 64, serial=5, requested=9)]
    second = arena.region(0x3000)
    blocks += [second.used(0), second.free(64), second.used(500), second.used(16)]
    blocks[2].turns = 0x1234
    arena.big(100000)
    image.build()
    return image, blocks


def damages(blocks):
    """(name, block, plant(image, block) -> reader or None) for every kind."""
    def field(name, value, reseal=True):
        """Sets a node field to value, or to value(block) if it is callable."""
        def plant(image, block):
            image.node_write(block, name, value(block) if callable(value) else value, reseal)
        return plant

    def write(where, raw):
        return lambda image, block: image.write(where(block), raw)

    def word(where, value):
        return lambda image, block: image.write_word(where(block), value(block))

    kinds = [
        ("check", field("check", 0x1234, False)),
        ("underflow", write(lambda b: b.mem - 2, b"\0\0")),
        ("zeroed node", write(lambda b: b.node, bytes(32))),
        ("below", field("below", lambda b: 16)),
        ("below zero", field("below", 0)),
        ("below huge", field("below", 0xFFFFFFF0)),
        ("size misaligned", field("size", lambda b: b.size + 8)),
        ("size small", field("size", 16)),
        ("size zero", field("size", 0)),
        ("size huge", field("size", 0xFFFFFFF0)),
        ("size one block more", field("size", lambda b: b.size + 64)),
        ("size a little less", field("size", lambda b: max(64, b.size - 32))),
        ("size into wilderness", field("size", lambda b: b.size + 0x8000)),
        ("requested too many", field("requested", lambda b: b.size)),
        ("requested huge", field("requested", 0xFFFFFFF8)),
        ("serial", field("serial_high", 0x4141)),
        ("unknown state", field("state", ord("J"))),
        ("flags", field("flags", 1)),
        ("busy", field("flags", 0x8000)),
        ("change count", field("flags", 0x7FFE)),
        ("arena", field("arena", 3)),
        ("tail", write(lambda b: b.mem + b.requested, b"\0")),
        ("who freed it", write(lambda b: b.mem + 20, b"\x55")),
        ("poison", write(lambda b: b.mem + 40, b"\0")),
        ("last poison byte", write(lambda b: b.node + b.size - 1, b"\1")),
        ("free link", word(lambda b: b.mem, lambda b: b.node + 0x40)),
        ("copied node", lambda image, block: image.write(block.node,
                                                         image.read(blocks[2].node, 32))),
        ("region unreadable", lambda image, block: image.reader(skip=(block.region.address,))),
        ("wilderness", word(lambda b: b.region.address + 32, lambda b: b.node)),
        ("region first", word(lambda b: b.region.address + 40, lambda b: b.node)),
        ("region last", word(lambda b: b.region.address + 48, lambda b: b.node)),
    ]
    for name, plant in kinds:
        for block in (blocks[0], blocks[1], blocks[7], blocks[9], blocks[11]):
            yield name, block, plant


class LoadTest(unittest.TestCase):
    def test_another_abi_is_refused(self):
        with mock.patch.object(native, "ABI", native.ABI + 1):
            loaded, why = native._try_load()
        self.assertIsNone(loaded)
        self.assertIn("its ABI is %d, this antgdb needs %d" % (native.ABI, native.ABI + 1), why)


class SameWalkTest(unittest.TestCase):
    def test_the_walk_runs_in_c(self):
        chosen = []
        runner = fastpath.runner

        def recorded(*args):
            run = runner(*args)
            chosen.append(type(run).__name__)
            return run

        with mock.patch.object(fastpath, "runner", recorded):
            H.walk(build()[0])
        self.assertEqual(chosen, ["NativeRun", "NativeRun"])

    def compare(self, image, reader=None, window=None, room=None):
        saved = walker.WINDOW, native.ROOM
        try:
            walker.WINDOW = window or walker.WINDOW
            native.ROOM = room or native.ROOM
            python = snapshot(H.walk(image, reader, accelerate=False))
            fast = snapshot(H.walk(image, reader, accelerate=True))
        finally:
            walker.WINDOW, native.ROOM = saved
        for key in python:
            self.assertEqual(fast[key], python[key], key)

    def test_clean_heaps(self):
        image, _ = build()
        for window, room in ((None, None), (100, None), (333, 1), (4096, 2)):
            with self.subTest(window=window, room=room):
                self.compare(image, window=window, room=room)

    def test_two_free_neighbours(self):
        image = H.Image()
        region = image.arena().region(0x2000)
        region.used(10)
        region.free(96)
        region.free(160)
        region.used(20)
        region.free(80)
        image.build()
        self.compare(image)

    def test_every_planted_damage(self):
        _, blocks = build()
        for name, target, plant in damages(blocks):
            image, fresh = build()
            block = fresh[blocks.index(target)]
            reader = plant(image, block)
            for window, room in ((None, None), (256, 2)):
                with self.subTest(damage=name, block=block.node, window=window, room=room):
                    self.compare(image, reader, window, room)

    def test_random_damage(self):
        rng = random.Random(SEED)
        for round_ in range(ROUNDS):
            image = test_fuzz.build(rng)
            for _ in range(rng.randrange(1, 4)):
                test_fuzz.scribble(rng, image)
            window = rng.choice((None, 64, 200, 1 << 12))
            room = rng.choice((None, 1, 5))
            with self.subTest(seed=SEED, round=round_, window=window, room=room):
                self.compare(image, window=window, room=room)


def named(address):
    """A name and a line for every site, some needing JSON's escapes."""
    if address % 3 == 0:
        return None, None
    return ('f%x "q"\\' % address, "\u00e9%d.c:%d" % (address % 7, address % 100))


class SameRowsTest(unittest.TestCase):
    """The rows of ant-walk, JSON and text, formatted in C
    (native.NativeRows) must be Python's (render.JsonRows, TextRows) byte
    for byte, whatever the filters, the windows and the room the C writes
    in; and so must the count of rows shown."""

    CHOSEN = [(None, 0, None), ("used", 0, None), ("cached", 0, None), ("free", 0, None),
              (None, 97, None), (None, 0, 1), (None, 0, 5), ("used", 64, 3), (None, 1 << 40, None),
              (None, 0, 0)]

    # Filters and orders, by keywords; a site pattern by its text.
    ORDERED = [dict(sort="size"), dict(sort="requested", reverse=True, limit=4),
               dict(sort="address", reverse=True), dict(reverse=True, limit=2),
               dict(serial=(2, 6)), dict(requested=(1, 100)), dict(arena=0, sort="serial"),
               dict(site="f4*", state="used")]

    def rows(self, heap, chosen, fast, lines):
        loaded = native.load()
        sites = Sites(named)
        if isinstance(chosen, dict):
            chosen = dict(chosen)
            if "site" in chosen:
                chosen["site"] = SitePattern(chosen["site"], sites)
            selected = Selection(**chosen)
        else:
            selected = Selection(*chosen)
        with mock.patch.object(native, "load", lambda: loaded if fast else None):
            return "\n".join(lines(heap, sites, selected))

    def compare(self, image, reader=None):
        heap = H.walk(image, reader, symbolize=named)
        for chosen in self.CHOSEN + self.ORDERED:
            for lines in (render.walk_json_lines, render.walk_lines):
                python = self.rows(heap, chosen, False, lines)
                if lines is render.walk_json_lines:
                    json.loads(python)
                for window, room, part in ((None, None, None), (64, 400, 3), (200, 100, 1),
                                           (4096, 700, 2)):
                    saved = model.WINDOW, native.OUT_ROOM, selection.SLICE
                    try:
                        model.WINDOW = window or model.WINDOW
                        native.OUT_ROOM = room or native.OUT_ROOM
                        selection.SLICE = part or selection.SLICE
                        fast = self.rows(heap, chosen, True, lines)
                    finally:
                        model.WINDOW, native.OUT_ROOM, selection.SLICE = saved
                    with self.subTest(chosen=chosen, lines=lines.__name__, window=window, room=room):
                        self.assertEqual(fast, python)

    def test_the_rows_are_formatted_in_c(self):
        heap = H.walk(build()[0], symbolize=named)
        calls = []
        real = native.load()

        class Counting:
            def __getattr__(self, name):
                return getattr(real, name)

            def rows(self, *args):
                calls.append(args)
                return real.rows(*args)

        with mock.patch.object(native, "load", Counting):
            self.rows(heap, (None, 0, None), True, render.walk_json_lines)
            self.rows(heap, (None, 0, None), True, render.walk_lines)
        self.assertEqual(len(calls), 2)

    def test_wide_columns_stay_in_python(self):
        heap = H.walk(build()[0], symbolize=named)
        python = self.rows(heap, (None, 0, None), False, render.walk_lines)
        with mock.patch.object(native, "WIDTH_MAX", 4):
            self.assertEqual(self.rows(heap, (None, 0, None), True, render.walk_lines), python)

    def test_clean_heap(self):
        self.compare(build()[0])

    def test_every_planted_damage(self):
        _, blocks = build()
        for name, target, plant in damages(blocks):
            image, fresh = build()
            reader = plant(image, fresh[blocks.index(target)])
            with self.subTest(damage=name):
                self.compare(image, reader)

    def test_random_heaps_and_damage(self):
        rng = random.Random(SEED)
        for round_ in range(ROUNDS // 5):
            image = test_fuzz.build(rng)
            for _ in range(rng.randrange(0, 3)):
                test_fuzz.scribble(rng, image)
            with self.subTest(seed=SEED, round=round_):
                self.compare(image)


if __name__ == "__main__":
    unittest.main()
