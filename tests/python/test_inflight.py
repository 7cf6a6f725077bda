"""Heaps read half way through a change (<ant/layout.h>, "A snapshot at any
instant"). An arena's journal is undone and the heap
checked as it was; what a thread cache moves is allowed for exactly; a
journal that cannot be used, and damage outside the change, are still
problems."""
import struct
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import layout as L
from antgdb.memory import BytesReader, PatchedReader

COUNTER = H.COUNTER_AT
BIN_96 = H.CACHES_AT + H.CACHE_BINS_AT + 8 * 2  # cache.bins[2], its 96-byte blocks


def found(heap):
    return [(p.kind, p.invariant, p.mem) for p in heap.problems]


def sample():
    """H.sample()'s heap, its blocks kept in image.blocks."""
    image, image.blocks, _ = H.sample()
    return image


def half_free(image, change):
    """used2, freed half way: marked free, its check not yet resealed, the
    arena's counters half moved, then merged into the free block below:
    free1 grown over it, the block above told its new below, and used2's
    node, links and record of who freed it turned to poison."""
    free1, used2, free2 = image.blocks[1], image.blocks[2], image.blocks[3]
    arena = image.arenas[0].address
    change.node_write(used2, "state", L.STATE_FREE)
    used = int.from_bytes(image.read(arena + COUNTER["used_blocks"], 8), "little")
    change.write_word(arena + COUNTER["used_blocks"], used - 1)
    change.node_write(free1, "size", free1.size + used2.size)
    change.node_write(free2, "below", free1.size + used2.size)
    change.write(used2.node, bytes([0xA5]) * H.MIN_BLOCK)


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
            " (5 records undone to read the heap as it was before)"
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
        w3 = int.from_bytes(self.image.read(self.used2.node + 24, 8), "little")
        self.image.write_word(self.used2.node + 24, w3 | L.FLAG_BUSY << 16)

    def test_named_by_the_arena(self):
        self.image.write_word(self.image.arenas[0].address + H.ARENA_BUSY_AT, self.used2.node)
        self.assertEqual(found(H.walk(self.image)), [])

    def test_named_by_nothing(self):
        self.assertEqual(found(H.walk(self.image))[0], ("header", "I1", self.used2.mem))


def cached_sample(image=None):
    """Arena 0 with used, free and cached blocks, one cache holding a (96
    bytes) under c (96 bytes) in one bin, and b (176)."""
    image = H.Image()
    arena = image.arena()
    cache = image.cache(thread=4242)
    region = arena.region(0x4000)
    region.used(24)
    image.a = region.cached(cache, 96, serial=7, requested=50)
    image.u = region.used(100)
    image.b = region.cached(cache, 176, serial=8, requested=120)
    region.free(160, serial=3)
    region.used(40)
    image.c = region.cached(cache, 96, serial=9, requested=60)
    region.used(8)
    image.the_cache = cache
    return image


class CacheMoveTest(unittest.TestCase):
    """A block a thread cache was moving when memory was read."""

    def test_put_on_top_not_yet_counted(self):
        image = cached_sample()
        image.the_cache.busy = image.c
        image.the_cache.counts_override = {2: 1}
        image.the_cache.counters = {"blocks": 2, "bytes": 96 + 176}
        heap = H.walk(image.build())
        self.assertEqual(found(heap), [])
        self.assertIn("thread 4242 (cache 0x%x) moving mem 0x%x" % (H.CACHES_AT, image.c.mem),
                      heap.inflight[0])

    def test_counted_twice_is_damage(self):
        image = cached_sample()
        image.the_cache.busy = image.c
        image.the_cache.counts_override = {2: 4}
        heap = H.walk(image.build())
        self.assertEqual(found(heap)[0][:2], ("link", "I13"))

    def test_taken_from_its_list_not_yet_uncounted(self):
        image = cached_sample()
        image.the_cache.busy = image.c
        image.build()
        # c left its bin: the bin's top is a again, the counts not yet down.
        image.write_word(BIN_96, image.a.node)
        self.assertEqual(found(H.walk(image)), [])

    def taken(self, busy_requested):
        """c handed out by its cache to a malloc of 50 bytes: out of its
        list, USED and sealed, its tail written; the cache's counts and
        requested_delta not yet told, busy_requested saying what they will
        be told."""
        image = cached_sample()
        image.the_cache.busy = image.c
        image.the_cache.counters = {"busy_requested": busy_requested}
        image.build()
        image.write_word(BIN_96, image.a.node)
        c = image.c
        image.node_write(c, "requested", 50)
        image.node_write(c, "state", L.STATE_USED, reseal=True)
        image.write_word(c.mem + 50, L.tail_sentinel(image.secret, c.node))
        return H.walk(image)

    def test_requested_bytes_moved_by_exactly_the_announced_amount(self):
        self.assertEqual(found(self.taken(50)), [])

    def test_requested_bytes_moved_by_another_amount(self):
        heap = self.taken(60)
        self.assertEqual(found(heap), [("accounting", "I10", None)])
        self.assertIn("(with 1 block that thread caches were moving)", heap.problems[0].detail)

    def test_a_block_being_put_counts_as_its_state_says(self):
        # u on its way into the cache, half written, still USED as read:
        # its requested bytes count, whatever busy_requested says.
        image = cached_sample()
        image.the_cache.busy = image.u
        image.the_cache.counters = {"busy_requested": -100}
        image.build()
        image.node_write(image.u, "flags", L.FLAG_BUSY)
        image.write(image.u.mem + 40, bytes([0xA5]) * 40)  # the poison half laid
        self.assertEqual(found(H.walk(image)), [])


class AbandonedTest(unittest.TestCase):
    """A bin a cache gave up after damage: what hangs there is in no list."""

    def test_orphans_are_noted(self):
        image = cached_sample()
        image.the_cache.counters = {"refused": 1 << 2, "blocks": 1, "bytes": 176}
        image.the_cache.counts_override = {2: 0}
        image.build()
        image.write_word(BIN_96, 0)
        heap = H.walk(image)
        self.assertEqual(found(heap), [])
        self.assertIn("abandoned its bin of 96-byte blocks after damage was reported: 2 blocks",
                      "\n".join(heap.notes))

    def test_abandoning_half_way(self):
        image = cached_sample()
        image.the_cache.counters = {"refused": 1 << 2}
        image.build()
        image.write_word(BIN_96, 0)  # the list let go, its count not yet
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
