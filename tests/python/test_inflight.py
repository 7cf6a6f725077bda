"""Layout version 4: heaps read half way through a change (<ant/layout.h>,
"A snapshot at any instant"). An arena's journal is undone and the heap
checked as it was; what a thread cache moves is allowed for exactly; a
journal that cannot be used, and damage outside the change, are still
problems."""
import struct
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import layout as L
from antgdb.memory import BytesReader, PatchedReader

COUNTER = {name: 24 + 8 * i for i, name in enumerate(H.COUNTER_NAMES)}


def found(heap):
    return [(p.kind, p.invariant, p.mem) for p in heap.problems]


def sample():
    """H.sample()'s heap, in layout version 4."""
    image = H.Image(version=4)
    arena = image.arena()
    region = arena.region(0x4000)
    image.blocks = [region.used(24), region.free(160, serial=90, site=0x401200),
                    region.used(100), region.free(96), region.used(1), region.used(40)]
    arena.big(100000)
    return image.build()


def half_free(image, change):
    """used2, freed half way: marked free, its head not yet resealed, the
    arena's counters half moved, then merged into the free block below."""
    free1, used2 = image.blocks[1], image.blocks[2]
    arena = image.arenas[0].address
    change.node_write(used2, "state", L.STATE_FREE)
    change.node_write(used2, "requested", 0)
    used = int.from_bytes(image.read(arena + COUNTER["used_blocks"], 8), "little")
    change.write_word(arena + COUNTER["used_blocks"], used - 1)
    change.node_write(free1, "size", free1.size + used2.size)
    change.node_write(free1, "next", used2.node + used2.size)
    change.write(used2.node, bytes([0xA5]) * 80)


class JournalTest(unittest.TestCase):
    def test_a_change_under_way_reads_as_before(self):
        image = sample()
        change = image.change(op=3, step=6, args=(image.blocks[1].mem, image.blocks[2].mem))
        half_free(image, change)
        change.publish()
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        self.assertEqual(heap.inflight, [
            "arena 0: thread 4242 inside free(): merging mem 0x%x with its free neighbour mem 0x%x"
            " (6 records undone to read the heap as it was before)"
            % (image.blocks[1].mem, image.blocks[2].mem)])
        self.assertEqual([b.state for b in heap.blocks()][:3], ["used", "free", "used"])

    def test_the_same_change_unrecorded_is_damage(self):
        image = sample()
        half_free(image, image.change())
        kinds = {kind for kind, _, _ in found(H.walk(image))}
        self.assertTrue(kinds & {"header", "size", "link"}, kinds)

    def test_damage_outside_the_change_is_still_found(self):
        image = sample()
        change = image.change(op=3, step=6)
        half_free(image, change)
        change.publish()
        used4 = image.blocks[5]
        image.write(used4.mem + used4.requested, b"!")
        self.assertEqual(found(H.walk(image)), [("overflow", "I2", used4.mem)])

    def test_the_first_record_of_a_word_wins(self):
        image = sample()
        change = image.change()
        used2 = image.blocks[2]
        change.node_write(used2, "requested", 7)
        change.node_write(used2, "requested", 8)
        change.publish()
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        self.assertEqual(heap.block(2).requested, used2.requested)

    def test_a_journal_beyond_its_capacity_is_not_used(self):
        image = sample()
        change = image.change()
        half_free(image, change)
        change.publish(used=H.JOURNAL_WORDS + 1)
        heap = H.walk(image)
        self.assertEqual(found(heap)[0], ("state", "I18", None))
        self.assertIn("journal.used is %d" % (H.JOURNAL_WORDS + 1), heap.problems[0].detail)
        self.assertIn("arena 0 was half way through a change that could not be undone",
                      "\n".join(heap.notes))

    def test_a_record_of_unreadable_memory_is_not_used(self):
        image = sample()
        change = image.change()
        change.records.append((0x10, bytes(8)))
        change.publish()
        heap = H.walk(image)
        self.assertEqual(found(heap), [("state", "I18", None)])
        self.assertIn("names memory that cannot be read", heap.problems[0].detail)

    def test_a_cut_record_is_not_used(self):
        image = sample()
        change = image.change()
        change.records.append((image.blocks[2].node, bytes(8)))
        change.publish()
        words_at = image.arenas[0].address + H.JOURNAL_AT + 40
        image.write_word(words_at + 8, 1000)  # its byte count past what is used
        heap = H.walk(image)
        self.assertEqual(found(heap)[0], ("state", "I18", None))

    def test_a_change_too_large_to_record(self):
        image = sample()
        half_free(image, image.change())
        image.write(image.arenas[0].address + H.JOURNAL_AT,
                    struct.pack("<IIQQQI", 3, 6, 4242, 0, 0, 0xFFFFFFFF))
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        self.assertIn("outgrew the journal", heap.inflight[0])
        self.assertIn("its blocks were not judged", "\n".join(heap.notes))

    def test_free_lists_rebuilt_are_not_judged(self):
        image = sample()
        free1 = image.blocks[1]
        image.write_word(free1.mem, 0x1234560)
        self.assertEqual(found(H.walk(image))[0][:2], ("use-after-free", "I9"))
        change = image.change(op=1, step=17)
        change.publish()
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        self.assertIn("rebuilding the arena's free lists", heap.inflight[0])


class HeldTest(unittest.TestCase):
    """A node an arena's lock holder has just taken BUSY, before the
    journal records it."""

    def setUp(self):
        self.image = sample()
        self.used2 = self.image.blocks[2]
        mark = int.from_bytes(self.image.read(self.used2.node + 48, 8), "little")
        self.image.write_word(self.used2.node + 48, mark | L.FLAG_BUSY << 48)

    def test_named_by_the_arena(self):
        self.image.write_word(self.image.arenas[0].address + 112, self.used2.node)
        self.assertEqual(found(H.walk(self.image)), [])

    def test_named_by_nothing(self):
        self.assertEqual(found(H.walk(self.image))[0], ("header", "I1", self.used2.mem))


def cached_sample(image=None):
    """Version 4: arena 0 with used, free and cached blocks, one cache
    holding a (96 bytes) under c (96 bytes) in one bin, and b (176)."""
    image = H.Image(version=4)
    arena = image.arena()
    cache = image.cache(thread=4242)
    region = arena.region(0x4000)
    region.used(24)
    image.a = region.cached(cache, 96, serial=7)
    image.u = region.used(100)
    image.b = region.cached(cache, 176, serial=8)
    region.free(160, serial=3)
    region.used(40)
    image.c = region.cached(cache, 96, serial=9)
    region.used(8)
    image.the_cache = cache
    return image


class CacheMoveTest(unittest.TestCase):
    """A block a thread cache was moving when memory was read."""

    def test_put_on_top_not_yet_counted(self):
        image = cached_sample()
        image.the_cache.busy = image.c
        image.the_cache.counts_override = {1: 1}
        image.the_cache.counters = {"blocks": 2, "bytes": 96 + 176}
        heap = H.walk(image.build())
        self.assertEqual(found(heap), [])
        self.assertIn("thread 4242 (cache 0x%x) moving mem 0x%x" % (H.CACHES_AT, image.c.mem),
                      heap.inflight[0])

    def test_counted_twice_is_damage(self):
        image = cached_sample()
        image.the_cache.busy = image.c
        image.the_cache.counts_override = {1: 4}
        heap = H.walk(image.build())
        self.assertEqual(found(heap)[0][:2], ("link", "I13"))

    def test_taken_from_its_list_not_yet_uncounted(self):
        image = cached_sample()
        image.the_cache.busy = image.c
        image.build()
        # c left its bin: the bin's top is a again, the counts not yet down.
        image.write_word(H.CACHES_AT + 96 + 8, image.a.node)
        self.assertEqual(found(H.walk(image)), [])

    def test_requested_bytes_moved_by_exactly_the_announced_amount(self):
        image = cached_sample()
        image.the_cache.busy = image.u
        image.the_cache.counters = {"busy_requested": -100}
        image.build()
        # u's free into the cache: its requested bytes gone, the cache's
        # requested_delta not yet told.
        image.node_write(image.u, "flags", L.FLAG_BUSY)
        image.node_write(image.u, "requested", 0)
        self.assertEqual(found(H.walk(image)), [])

    def test_requested_bytes_moved_by_another_amount(self):
        image = cached_sample()
        image.the_cache.busy = image.u
        image.the_cache.counters = {"busy_requested": -90}
        image.build()
        image.node_write(image.u, "flags", L.FLAG_BUSY)
        image.node_write(image.u, "requested", 0)
        self.assertEqual(found(H.walk(image)), [("accounting", "I10", None)])


class AbandonedTest(unittest.TestCase):
    """A bin a cache gave up after damage: what hangs there is in no list."""

    def test_orphans_are_noted(self):
        image = cached_sample()
        image.the_cache.counters = {"refused": 1 << 1, "blocks": 1, "bytes": 176}
        image.the_cache.counts_override = {1: 0}
        image.build()
        image.write_word(H.CACHES_AT + 96 + 8, 0)
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        self.assertIn("abandoned its bin of 96-byte blocks after damage was reported: 2 blocks",
                      "\n".join(heap.notes))

    def test_abandoning_half_way(self):
        image = cached_sample()
        image.the_cache.counters = {"refused": 1 << 1}
        image.build()
        image.write_word(H.CACHES_AT + 96 + 8, 0)  # the list let go, its count not yet
        self.assertEqual(found(H.walk(image)), [])


class PatchedReaderTest(unittest.TestCase):
    def test_words_replace_what_they_cover(self):
        inner = BytesReader([(0x1000, bytes(range(64)))])
        reader = PatchedReader(inner, {0x1008: b"ABCDEFGH", 0x1018: b"abcdefgh"})
        self.assertEqual(reader.read(0x1004, 8), bytes(range(4, 8)) + b"ABCD")
        self.assertEqual(reader.read(0x100C, 16), b"EFGH" + bytes(range(16, 24)) + b"abcd")
        self.assertEqual(reader.read(0x1020, 8), bytes(range(32, 40)))
        reader.add({0x1020: b"12345678"})
        self.assertEqual(reader.read(0x101F, 3), b"h12")


if __name__ == "__main__":
    unittest.main()
