"""Thread caches. A clean heap with cached blocks, then each way a cache or a
cached block can be damaged (I13, I3, I10, I11), and nodes a thread was
changing when memory was read (BUSY)."""
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import layout as L
from antgdb import render
from antgdb.facts import block_facts
from antgdb.sites import Sites


def found(heap):
    return [(p.kind, p.invariant, p.mem) for p in heap.problems]


def cached_heap():
    """Arena 0: one region of used, free and cached blocks; two caches,
    the first holding three blocks (two of 96 bytes, one of 176), each
    keeping its last owner's requested bytes, the second, idle, none."""
    image = H.Image()
    arena = image.arena()
    cache = image.cache(thread=4242)
    image.cache(thread=0, state=H.CACHE_IDLE)
    region = arena.region(0x4000)
    region.used(24)
    image.a = region.cached(cache, 96, serial=7, requested=50)
    region.used(100)
    image.b = region.cached(cache, 176, serial=8, requested=120)
    region.free(160, serial=3)
    region.used(40)
    image.c = region.cached(cache, 96, serial=9, requested=60)
    region.used(8)
    image.the_cache = cache
    return image


class CleanTest(unittest.TestCase):
    def setUp(self):
        self.image = cached_heap().build()
        self.heap = H.walk(self.image)

    def test_no_problems(self):
        self.assertEqual(found(self.heap), [])
        self.assertEqual(self.heap.notes, [])

    def test_summary(self):
        summary = self.heap.summary()
        self.assertEqual(summary["layout_version"], 4)
        self.assertEqual((summary["used_blocks"], summary["free_blocks"],
                          summary["cached_blocks"], summary["cached_bytes"],
                          summary["caches"]), (4, 1, 3, 96 + 176 + 96, 2))
        self.assertEqual(summary["requested_bytes"], 24 + 100 + 40 + 8)

    def test_rows(self):
        # A cached block's node keeps its last owner's requested bytes, but
        # a row's requested bytes are a used block's only.
        cached = [(b.mem, b.state, b.requested, b.serial)
                  for b in self.heap.select(state="cached")]
        image = self.image
        self.assertEqual(cached, [(image.a.mem, "cached", 0, 7), (image.b.mem, "cached", 0, 8),
                                  (image.c.mem, "cached", 0, 9)])
        self.assertEqual(self.image.read(image.a.node + 8, 4), (50).to_bytes(4, "little"))

    def test_caches(self):
        caches = [cache.as_dict() for cache in self.heap.caches]
        self.assertEqual([(c["thread"], c["state"], c["blocks"], c["bytes"]) for c in caches],
                         [(4242, "live", 3, 368), (0, "idle", 0, 0)])

    def test_text(self):
        text = "\n".join(render.heap_lines(self.heap))
        self.assertIn("3 cached", text)
        self.assertIn("thread caches  368 B in 2 caches (1 live), 16 blocks per size", text)
        self.assertIn("thread 4242 live: 3 blocks", text)

    def test_block_facts(self):
        block, _ = self.heap.find(self.image.c.mem)
        facts = block_facts(self.heap, block)
        self.assertEqual(facts["links"], {"next": self.image.a.node,
                                          "cache": self.image.the_cache.address})
        self.assertTrue(facts["poison"]["ok"])
        self.assertTrue(all(field["ok"] is not False for field in facts["fields"]))
        lines = "\n".join(render.block_lines(self.heap, block, Sites()))
        self.assertIn("cache links: next in bin 0x%x" % self.image.a.node, lines)


class DepotTest(unittest.TestCase):
    def test_a_depot_holds_cached_blocks_as_a_cache_does(self):
        image = cached_heap()
        depot = image.cache(thread=0, state=H.CACHE_DEPOT)
        region = image.arenas[0].regions[0]
        kept = [region.cached(depot, 64, serial=11, requested=3),
                region.cached(depot, 64, serial=12, requested=20)]
        heap = H.walk(image.build())
        self.assertEqual(found(heap), [])
        self.assertEqual([c.state for c in heap.caches], ["live", "idle", "depot"])
        self.assertEqual([b.mem for b in heap.select("cached")][-2:], [b.mem for b in kept])
        self.assertIn("    cache 0x%x depot: 2 blocks, 128 B" % depot.address,
                      "\n".join(render.heap_lines(heap)))

    def test_a_cache_in_no_state(self):
        image = cached_heap()
        image.cache(thread=0, state=0x12345678)
        heap = H.walk(image.build())
        self.assertEqual(found(heap), [("state", "I17", None)])
        self.assertIn("neither LIVE, IDLE nor DEPOT", heap.problems[0].detail)


class DamageTest(unittest.TestCase):
    def setUp(self):
        self.image = cached_heap()

    def walk(self):
        return H.walk(self.image)

    def test_poison(self):
        self.image.build().write(self.image.b.mem + 40, b"\x00")
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I3", self.image.b.mem)])
        self.assertIn("cached block mem 0x%x (last owner: serial 8" % self.image.b.mem,
                      heap.problems[0].detail)

    def test_bin_link(self):
        image = self.image.build()
        image.write_word(image.c.mem, 0x4141414141414141)
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I13", image.c.mem)])
        self.assertIn("leads to 0x4141414141414141", heap.problems[0].detail)
        self.assertEqual(heap.problems[0].culprit, image.c.mem)
        # a, below c in that bin, is cut off by the damage: said once, not
        # as a problem of its own.
        self.assertIn("cache 0x%x's bin of 96-byte blocks is cut where a problem above says: "
                      "1 cached block naming that cache could not be reached" % H.CACHES_AT,
                      heap.notes)

    def test_cache_link(self):
        image = self.image.build()
        image.write_word(image.b.mem + 8, image.the_cache.address + 1024)
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I13", image.b.mem)])
        self.assertIn("its cache link is 0x%x" % (image.the_cache.address + 1024),
                      heap.problems[0].detail)

    def test_count_too_high(self):
        image = self.image.build()
        slot = H.CACHES_AT + H.CACHE_COUNTS_AT + 2 * ((96 - 64) // 16)
        image.write_word(slot, 3, 2)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I13", None)])
        self.assertIn("holds 2 blocks, but counts[2] says 3", heap.problems[0].detail)

    def test_list_longer_than_count(self):
        image = self.image.build()
        image.write_word(H.CACHES_AT + H.CACHE_COUNTS_AT + 2 * 2, 1, 2)
        heap = self.walk()
        # Every block of the list is cached there: the count or the list is
        # wrong, not a link a block keeps.
        self.assertEqual(found(heap)[0][:2], ("link", "I13"))
        self.assertIn("more than counts[2] = 1", heap.problems[0].detail)

    def test_block_in_no_list(self):
        image = self.image.build()
        image.write_word(H.CACHES_AT + H.CACHE_BINS_AT + 8 * ((176 - 64) // 16), 0)
        image.write_word(H.CACHES_AT + H.CACHE_COUNTS_AT + 2 * ((176 - 64) // 16), 0, 2)
        heap = self.walk()
        self.assertEqual(found(heap), [("accounting", "I10", None),
                                       ("link", "I13", image.b.mem)])
        self.assertIn("is in no thread cache's list", heap.problems[1].detail)

    def test_loop(self):
        image = self.image.build()
        image.write_word(image.a.mem, image.c.node)
        heap = self.walk()
        self.assertEqual(found(heap)[0][:2], ("link", "I13"))
        self.assertIn("lists loop or cross", heap.problems[0].detail)

    def test_counters(self):
        self.image.the_cache.counters["blocks"] = 5
        heap = H.walk(self.image.build())
        self.assertEqual(found(heap), [("accounting", "I10", None)])
        self.assertIn("counts 5 blocks of 368 bytes, but its lists hold 3 blocks",
                      heap.problems[0].detail)

    def test_requested_delta(self):
        # The blocks freed into the cache took their requested bytes along;
        # the arena still counts them and the cache's delta takes them off.
        self.image.arenas[0].counters["requested_bytes"] = 24 + 100 + 40 + 8 + 230
        self.image.the_cache.counters["requested_delta"] = -230
        self.assertEqual(found(H.walk(self.image.build())), [])
        self.image.the_cache.counters["requested_delta"] = 0
        heap = H.walk(self.image.build())
        self.assertEqual(found(heap), [("accounting", "I10", None)])
        self.assertIn("the thread caches +0 more", heap.problems[0].detail)

    def test_magic(self):
        image = self.image.build()
        image.write_word(H.CACHES_AT + H.CACHE_STRIDE, 0x1234)
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I17", None)])
        self.assertIn("cache 0x%x.next leads to 0x%x, which is not a thread cache"
                      % (H.CACHES_AT, H.CACHES_AT + H.CACHE_STRIDE), heap.problems[0].detail)

    def test_caches_unreadable(self):
        image = self.image.build()
        image.write_word(image.root + H.ROOT_CACHES_AT, 0x10)
        heap = self.walk()
        self.assertEqual(found(heap)[0][:2], ("unreadable", "I17"))

    def test_a_cached_block_with_its_last_owners_request_is_sound(self):
        image = self.image.build()
        image.node_write(image.b, "requested", 176 - 40, reseal=True)
        self.assertEqual(found(self.walk()), [])


class CulpritTest(unittest.TestCase):
    def test_a_list_leading_to_a_destroyed_node(self):
        # The used block below a runs over a's node: c's cache link, which
        # leads to a, is intact, and not what to blame.
        image = cached_heap().build()
        below = image.a.node - 64
        image.write(below + 32 + 24, b"A" * (64 - 32 - 24 + 32))
        heap = H.walk(image)
        self.assertEqual(found(heap)[:2], [("overflow", "I2", below + 32),
                                           ("header", "I1", image.a.mem)])
        self.assertNotIn(("use-after-free", "I13", image.c.mem), found(heap))
        self.assertEqual(heap.problems[1].culprit, below + 32)

    def test_underflow_above_a_cached_block(self):
        image = cached_heap().build()
        above = image.a.node + 96
        image.write(above + 31, b"\x77")
        heap = H.walk(image)
        self.assertEqual(found(heap), [("header", "I1", above + 32)])
        self.assertEqual(heap.problems[0].culprit, above + 32)

    def test_flags_with_a_change_count(self):
        image = cached_heap().build()
        image.node_write(image.a, "flags", 0x300, reseal=True)
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        block = next(b for b in heap.blocks() if b.node == image.a.node)
        flags = next(f for f in block_facts(heap, block)["fields"] if f["name"] == "flags")
        self.assertEqual((flags["value"], flags["expected"], flags["ok"]), (0x300, 0x300, True))


class BusyTest(unittest.TestCase):
    """A node with BUSY set: a thread was changing it. Named by a cache or
    an arena, it is noted and not judged; named by nothing, it is damage."""

    def setUp(self):
        self.image = cached_heap()

    def half_changed(self, block):
        # The flag set and a field changed, the check not yet resealed.
        self.image.node_write(block, "flags", L.FLAG_BUSY)
        self.image.node_write(block, "requested", 90)

    def test_named_by_its_cache(self):
        self.image.the_cache.busy = self.image.c
        image = self.image.build()
        self.half_changed(image.c)
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        self.assertEqual(heap.notes, [
            "node 0x%x: thread 4242 (cache 0x%x) was changing it when the memory was read "
            "(BUSY), so its check and contents were not checked" % (image.c.node, H.CACHES_AT)])

    def test_held_by_an_arena(self):
        # Taken BUSY by the arena's lock holder, not yet recorded: it
        # differs from what it was only by the flag.
        self.image.arena_busy[0] = self.image.b
        image = self.image.build()
        image.node_write(image.b, "flags", L.FLAG_BUSY)
        heap = H.walk(image)
        self.assertEqual((found(heap), heap.notes), ([], []))

    def test_held_by_an_arena_and_changed_unrecorded(self):
        self.image.arena_busy[0] = self.image.b
        image = self.image.build()
        image.node_write(image.b, "flags", L.FLAG_BUSY)
        image.node_write(image.b, "below", 0)
        heap = H.walk(image)
        self.assertEqual(found(heap)[0], ("header", "I1", image.b.mem))

    def test_named_by_nothing(self):
        image = self.image.build()
        self.half_changed(image.c)
        heap = H.walk(image)
        self.assertEqual(found(heap)[0], ("header", "I1", image.c.mem))
        self.assertIn("BUSY set, yet no thread names it", heap.problems[0].detail)

    def test_busy_flag_resealed(self):
        image = self.image.build()
        image.node_write(image.c, "flags", L.FLAG_BUSY, reseal=True)
        heap = H.walk(image)
        self.assertEqual(found(heap), [("state", "I11", image.c.mem)])


if __name__ == "__main__":
    unittest.main()
