"""A clean heap: exact summary, exact rows, lookups and filters."""
import unittest

import gdbpath  # noqa: F401
import heapimage as H

BASE = H.HEAP_AT
BIG = H.HEAP_AT + 0x100000


class CleanHeapTest(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, self.big = H.sample()
        self.heap = H.walk(self.image)

    def test_no_problems(self):
        self.assertEqual(self.heap.problems, [])
        self.assertEqual(self.heap.notes, [])

    def test_summary_numbers(self):
        summary = self.heap.summary()
        free_all = 256 + 15696
        self.assertEqual(summary, {
            "layout_version": 4, "root": H.ROOT_AT, "arenas": 1, "regions": 1, "bigs": 1,
            "blocks": 7, "used_blocks": 5, "free_blocks": 2, "cached_blocks": 0,
            "cached_bytes": 0, "caches": 0, "unknown_blocks": 0,
            "quarantined_blocks": 0, "quarantined_bytes": 0, "quarantine": 0,
            "requested_bytes": 24 + 100 + 1 + 40 + 100000,
            "used_bytes": 64 + 144 + 64 + 80 + 100048, "free_bytes": 160 + 96,
            "wilderness_bytes": 0x4000 - 0x2B0, "mapped_bytes": 0x4000 + 102400,
            "largest_free": 160, "largest_free_extent": 15696,
            "fragmentation": 1 - 15696 / free_all, "problems": 0,
        })

    def test_rows(self):
        rows = [(b.node, b.mem, b.size, b.requested, b.state, b.serial, b.site, b.big)
                for b in self.heap.blocks()]
        site = 0x401000
        # A free block's node keeps its last owner's requested bytes (free1
        # says 100), but a row's are those of a used block only.
        self.assertEqual(rows, [
            (BASE + 0x050, BASE + 0x070, 64, 24, "used", 1, site, False),
            (BASE + 0x090, BASE + 0x0B0, 160, 0, "free", 90, 0x401200, False),
            (BASE + 0x130, BASE + 0x150, 144, 100, "used", 2, site, False),
            (BASE + 0x1C0, BASE + 0x1E0, 96, 0, "free", 0, 0, False),
            (BASE + 0x220, BASE + 0x240, 64, 1, "used", 3, site, False),
            (BASE + 0x260, BASE + 0x280, 80, 40, "used", 4, site, False),
            (BIG + 0x050, BIG + 0x070, 100048, 100000, "used", 5, site, True),
        ])

    def test_counters_match(self):
        arena = self.heap.arenas[0]
        for name, value in arena.walk_counters().items():
            self.assertEqual(arena.values[name], value, name)

    def test_region_details(self):
        region = self.heap.regions[0]
        self.assertEqual((region.kind, region.blocks, region.used_blocks, region.free_blocks),
                         ("heap", 6, 4, 2))
        self.assertEqual(region.wilderness, BASE + 0x2B0)
        self.assertEqual(self.heap.regions[1].kind, "big")

    def test_select(self):
        used = [b.mem for b in self.heap.select("used")]
        self.assertEqual(len(used), 5)
        self.assertEqual([b.mem for b in self.heap.select("free")], [BASE + 0xB0, BASE + 0x1E0])
        self.assertEqual([b.size for b in self.heap.select(min_size=150)], [160, 100048])
        self.assertEqual(len(list(self.heap.select(limit=3))), 3)
        self.assertEqual([b.size for b in self.heap.select("used", 100, 1)], [144])


class LookupTest(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, self.big = H.sample()
        self.heap = H.walk(self.image)

    def test_interior_mem_and_node_addresses(self):
        third = self.blocks[2]
        for address in (third.mem, third.mem + 99, third.node, third.node + 31,
                        third.node + third.size - 1):
            block, where = self.heap.find(address)
            self.assertEqual(block.mem, third.mem, hex(address))
            self.assertIn("0x%x" % third.mem, where)

    def test_big_block(self):
        block, _ = self.heap.find(self.big.mem + 5000)
        self.assertEqual(block.mem, self.big.mem)
        self.assertTrue(block.big)
        below, above = self.heap.neighbours(block)
        self.assertIsNone(below)
        self.assertIsNone(above)

    def test_neighbours(self):
        block, _ = self.heap.find(self.blocks[1].mem)
        below, above = self.heap.neighbours(block)
        self.assertEqual((below.mem, above.mem), (self.blocks[0].mem, self.blocks[2].mem))

    def test_addresses_outside_blocks(self):
        cases = [
            (BASE + 8, "in the header of HEAP region 0x%x" % BASE),
            (BASE + 0x2B0, "in the wilderness of HEAP region"),
            (BASE + 0x3FFF, "in the wilderness"),
            (BIG + 8, "in the header of BIG region"),
            (BIG + 0x50 + 100048 + 16, "past its last block"),
            (0x1000, "not in the Ant heap"),
        ]
        for address, phrase in cases:
            block, where = self.heap.find(address)
            self.assertIsNone(block, hex(address))
            self.assertIn(phrase, where)


class ShapesTest(unittest.TestCase):
    def test_two_arenas_and_two_regions(self):
        image = H.Image()
        first, second = image.arena(), image.arena()
        one = first.region(0x2000)
        one.used(10)
        two = first.region(0x2000)
        two.used(20)
        two.free(80)
        two.used(30)
        second.region(0x2000).used(50)
        image.build()
        heap = H.walk(image)
        self.assertEqual(heap.problems, [])
        self.assertEqual([r.arena for r in heap.regions], [0, 0, 1])
        self.assertEqual(heap.summary()["blocks"], 5)
        self.assertEqual([b.arena for b in heap.blocks()], [0, 0, 0, 0, 1])

    def test_empty_region_and_empty_arena(self):
        image = H.Image()
        image.arena().region(0x2000)
        image.arena()
        image.build()
        heap = H.walk(image)
        self.assertEqual(heap.problems, [])
        self.assertEqual(heap.summary()["wilderness_bytes"], 0x2000 - 80)
        self.assertEqual(heap.summary()["fragmentation"], 0.0)

    def test_hard_cap_on_blocks(self):
        from antgdb import heap as walk_module

        image = H.Image()
        arena = image.arena()
        for _ in range(3):
            region = arena.region(0x2000)
            for _ in range(4):
                region.used(10)
        image.build()
        saved, walk_module.MAX_BLOCKS = walk_module.MAX_BLOCKS, 5
        try:
            heap = H.walk(image)
        finally:
            walk_module.MAX_BLOCKS = saved
        # Checked per window and per region: it stops within one of them.
        self.assertEqual(len(heap.nodes), 8)
        self.assertIn("the walk stopped after 5 blocks", heap.notes)

    def test_no_arena_yet(self):
        image = H.Image().build()
        heap = H.walk(image)
        self.assertEqual((heap.summary()["blocks"], heap.problems), (0, []))


if __name__ == "__main__":
    unittest.main()
