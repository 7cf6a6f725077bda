"""Every problem kind, planted one at a time in a sample heap: what is
found, at which block, with which culprit, and that the walk goes on."""
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import layout as L


def found(heap):
    return [(p.kind, p.invariant, p.mem) for p in heap.problems]


def sites(address):
    return ("main+%d" % (address & 0xFF), "prog.c:%d" % ((address & 0xF) + 1))


class Planted(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, self.big = H.sample()
        self.used1, self.free1, self.used2, self.free2, self.used3, self.used4 = self.blocks

    def walk(self, **kwargs):
        return H.walk(self.image, symbolize=sites, **kwargs)

    def assertAllListed(self, heap):
        """The walk went on: every block is still listed."""
        self.assertEqual([b.mem for b in heap.blocks()],
                         [b.mem for b in self.blocks] + [self.big.mem])


class OverflowTest(Planted):
    def test_one_byte_overflow(self):
        self.image.write(self.used1.mem + 24, b"\0")
        heap = self.walk()
        self.assertEqual(found(heap), [("overflow", "I2", self.used1.mem)])
        problem = heap.problems[0]
        self.assertEqual(problem.culprit, self.used1.mem)
        self.assertIn("24 bytes requested, serial 1, site main+0 at prog.c:1", problem.detail)
        self.assertIn("first changed byte is mem+24, so it wrote at least 1 byte too many",
                      problem.detail)
        self.assertAllListed(heap)
        self.assertEqual(heap.notes, [])  # its node is sound: the counters were compared

    def test_overflow_into_the_next_node(self):
        # 24 bytes requested in a 64-byte block: 40 bytes of data too many
        # run over the tail and the whole of the next node.
        self.image.write(self.used1.mem + 24, b"A" * 40)
        heap = self.walk()
        self.assertEqual(found(heap), [("overflow", "I2", self.used1.mem),
                                       ("header", "I1", self.free1.mem)])
        header = heap.problems[1]
        self.assertEqual(header.culprit, self.used1.mem)
        self.assertIn("the block below, block mem 0x%x (24 bytes requested, serial 1, site "
                      "main+0 at prog.c:1), wrote past its end into this node" % self.used1.mem,
                      header.detail)
        self.assertAllListed(heap)
        self.assertEqual(heap.block(1).size, 160)  # up to used2, whose below reaches back
        self.assertIn("counters not compared", heap.notes[0])

    def test_data_running_on_into_the_node(self):
        # 16 bytes requested leave 8 bytes of padding after the tail: a write
        # that skipped the tail still shows, carrying on into the next node.
        image = H.Image()
        region = image.arena().region(0x2000)
        first, second = region.used(16), region.used(16)
        image.build()
        image.write(second.node - 8, b"B" * 16)
        heap = H.walk(image)
        self.assertEqual(found(heap), [("header", "I1", second.mem)])
        self.assertEqual(heap.problems[0].culprit, first.mem)
        self.assertIn("runs on into this node", heap.problems[0].detail)


class HeaderTest(Planted):
    def test_underflow_into_its_own_node(self):
        self.image.write(self.used2.mem - 3, b"\x00\x11\x22")
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used2.mem)])
        problem = heap.problems[0]
        self.assertEqual(problem.culprit, self.used2.mem)
        self.assertIn("only the last 3 bytes of its check, right before mem, changed",
                      problem.detail)
        self.assertIn("wrote before its start (an underflow)", problem.detail)
        self.assertAllListed(heap)

    def test_underflow_reaching_the_mark(self):
        # Eight bytes before mem: the check and the mark (state, arena,
        # flags), while both sizes still agree with the neighbours.
        self.image.write(self.used2.mem - 8, b"\x07" * 8)
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used2.mem)])
        self.assertEqual(heap.problems[0].culprit, self.used2.mem)
        self.assertIn("its last 8 bytes, right before mem (state, arena, flags and check), "
                      "changed", heap.problems[0].detail)

    def test_underflow_above_a_free_block_damaged_elsewhere(self):
        # free1, right below used2, was written after free in its middle:
        # its poison is intact to its end, so it did not run into used2.
        self.image.write(self.free1.mem + 60, b"\x00")
        self.image.write(self.used2.mem - 1, b"\x99")
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I3", self.free1.mem),
                                       ("header", "I1", self.used2.mem)])
        self.assertEqual(heap.problems[1].culprit, self.used2.mem)
        self.assertIn("(an underflow)", heap.problems[1].detail)

    def test_write_after_free_running_into_the_node_above(self):
        self.image.write(self.used2.node - 8, b"\x11" * 16)
        heap = self.walk()
        self.assertEqual(found(heap)[:2], [("use-after-free", "I3", self.free1.mem),
                                           ("header", "I1", self.used2.mem)])
        self.assertEqual(heap.problems[1].culprit, self.free1.mem)
        self.assertIn("dangling pointer to the block below", heap.problems[1].detail)

    def test_write_after_free_of_a_smallest_block_into_the_node_above(self):
        # A 64-byte free block holds no poison: its record of who freed it
        # ends right at the next node, and a write that ran on broke both.
        image = H.Image()
        region = image.arena().region(0x2000)
        region.used(8)
        small = region.free(64)
        above = region.used(8)
        image.build()
        image.write(above.node - 4, b"\x11" * 8)
        heap = H.walk(image)
        self.assertEqual(found(heap)[:2], [("use-after-free", "I3", small.mem),
                                           ("header", "I1", above.mem)])
        self.assertEqual(heap.problems[1].culprit, small.mem)

    def test_node_copied_from_another_block(self):
        self.image.write(self.used3.node, self.image.read(self.used2.node, 32))
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used3.mem)])
        self.assertIn("a copy of the node at 0x%x" % self.used2.node, heap.problems[0].detail)
        self.assertAllListed(heap)

    def test_node_copied_from_the_block_above(self):
        self.image.write(self.used3.node, self.image.read(self.used4.node, 32))
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used3.mem)])
        self.assertIn("a copy of the node at 0x%x" % self.used4.node, heap.problems[0].detail)

    def test_garbage_node_then_resynchronised(self):
        self.image.write(self.free2.node, bytes(range(0x30, 0x50)))
        self.image.write(self.used4.mem + 40, b"!")  # a second bug, after the damage
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.free2.mem),
                                       ("overflow", "I2", self.used4.mem)])
        self.assertIn("overwritten by a stray write, or this address is not a node",
                      heap.problems[0].detail)
        rows = {b.mem: b for b in heap.blocks()}
        self.assertEqual(rows[self.free2.mem].state, "unknown")
        self.assertEqual(rows[self.free2.mem].size, 96)  # up to the next sound node
        self.assertAllListed(heap)
        self.assertEqual(heap.summary()["unknown_blocks"], 1)

    def test_garbage_with_a_plausible_size_is_not_followed(self):
        # The garbage says size 16: it leads to no node, so the walk scans
        # for the next node whose check verifies and whose below agrees.
        self.image.write(self.used1.node, (16).to_bytes(8, "little") + bytes(24))
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used1.mem)])
        self.assertAllListed(heap)

    def test_a_stale_node_does_not_mislead_the_resync(self):
        # A node left in free1's poison, sealed where it lies, whose below
        # does not reach back to the damaged node: the walk skips it.
        stale = self.free1.node + 64
        self.image.write(stale, self.image.read(self.used2.node, 32))
        self.image.reseal(stale)
        self.image.write(self.free1.node, bytes(32))
        heap = self.walk()
        self.assertEqual(found(heap)[0], ("header", "I1", self.free1.mem))
        self.assertAllListed(heap)

    def test_serial_scribbled(self):
        # A serial past the last one handed out was not written by the
        # allocator: a stray write, though the sizes agree.
        self.image.write(self.used2.node + 22, b"\x41\x41")
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used2.mem)])
        self.assertIn("its serial 0x414100000002 is past the last one handed out (5): a stray "
                      "write over the node, not an underflow", heap.problems[0].detail)
        self.assertIsNone(heap.problems[0].culprit)

    def test_check_alone_changed_in_the_middle(self):
        self.image.write(self.used3.node + 29, b"\x99")
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used3.mem)])
        self.assertIn("only its check changed", heap.problems[0].detail)
        self.assertIsNone(heap.problems[0].culprit)


class LinkTest(Planted):
    def test_below_zero_in_the_middle_of_a_region(self):
        self.image.node_write(self.used2, "below", 0, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I4", self.used2.mem)])
        self.assertIn("node 0x%x.below is 0, as if it were its region's first block, but the "
                      "block below it, node 0x%x, is 160 bytes" % (self.used2.node, self.free1.node),
                      heap.problems[0].detail)
        self.assertAllListed(heap)

    def test_first_block_with_a_below(self):
        self.image.node_write(self.used1, "below", 64, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I4", self.used1.mem)])
        self.assertIn("it is the first block of region 0x%x: it should be 0"
                      % self.used1.region.address, heap.problems[0].detail)

    def test_below_disagrees(self):
        self.image.node_write(self.used2, "below", 96, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I4", self.used2.mem)])
        self.assertIn("below is 96, which puts the block below at 0x%x, but the block below "
                      "it, node 0x%x, is 160 bytes" % (self.used2.node - 96, self.free1.node),
                      heap.problems[0].detail)
        self.assertAllListed(heap)

    def test_below_leaving_the_region(self):
        self.image.node_write(self.used2, "below", 0xFFFFFFF0, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I4", self.used2.mem)])
        self.assertIn("below is 4294967280, which puts the block below at 0x%x, before "
                      "region 0x%x" % (self.used2.node - 0xFFFFFFF0, self.used2.region.address),
                      heap.problems[0].detail)

    def test_below_scribbled_without_resealing(self):
        self.image.node_write(self.used2, "below", 0x1234560)
        heap = self.walk()
        self.assertEqual(found(heap), [("header", "I1", self.used2.mem)])
        self.assertIn("its below is 19088736 where the block below is 160 bytes",
                      heap.problems[0].detail)
        self.assertAllListed(heap)

    def test_region_first(self):
        self.image.write_word(self.used1.region.address + 40, self.used2.node)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I5", None)])
        self.assertIn("first is 0x%x, but its first node is at 0x%x, right after the header"
                      % (self.used2.node, self.used1.node), heap.problems[0].detail)

    def test_region_last(self):
        self.image.write_word(self.used1.region.address + 48, self.used3.node)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I5", None)])
        self.assertIn("region 0x%x.last is 0x%x, but its last node" % (
            self.used1.region.address, self.used3.node), heap.problems[0].detail)

    def test_region_list_loops(self):
        self.image.write_word(self.big.region.address + 8, self.big.region.address)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I15", None)])
        self.assertIn("big list loops", heap.problems[0].detail)

    def test_region_list_leads_to_garbage(self):
        self.image.write_word(self.image.arenas[0].regions[0].address + 8, H.ROOT_AT)
        heap = self.walk()
        self.assertEqual(found(heap)[0], ("header", "I15", None))
        self.assertIn("not a region header", heap.problems[0].detail)
        self.assertEqual(len(heap.nodes), 7)


class SizeTest(Planted):
    def test_size_past_the_region(self):
        self.image.node_write(self.used4, "size", 0x100000, reseal=True)
        heap = self.walk()
        self.assertIn(("size", "I6", self.used4.mem), found(heap))
        self.assertIn("past the end of its region", heap.problems[0].detail)
        self.assertAllListed(heap)

    def test_size_too_large_for_a_block_in_the_middle(self):
        # used2 says it runs past its region; free2, whose below is 144,
        # reaches back to it: used2's size is wrong, nothing else.
        self.image.node_write(self.used2, "size", 0x100000, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("size", "I6", self.used2.mem)])
        self.assertIn("the size is wrong, and the block is 144 bytes", heap.problems[0].detail)
        self.assertAllListed(heap)

    def test_last_block_into_the_wilderness(self):
        self.image.node_write(self.used4, "size", 80 + 32, reseal=True)
        heap = self.walk()
        self.assertIn(("size", "I7", self.used4.mem), found(heap))
        self.assertIn("32 bytes into the wilderness", heap.problems[0].detail)

    def test_last_block_short_of_the_wilderness(self):
        self.image.node_write(self.used4, "size", 64, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap)[0], ("size", "I7", self.used4.mem))
        self.assertIn("16 bytes before the wilderness", heap.problems[0].detail)

    def test_misaligned_size(self):
        self.image.node_write(self.used2, "size", 144 + 8, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("size", "I6", self.used2.mem)])
        self.assertIn("size 152 is not a multiple of 16", heap.problems[0].detail)
        self.assertAllListed(heap)

    def test_size_too_small_for_the_request(self):
        self.image.node_write(self.used2, "requested", 110, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("size", "I6", self.used2.mem)])
        self.assertIn("cannot hold its node, 110 requested bytes", heap.problems[0].detail)

    def test_size_too_large_while_the_next_node_is_sound(self):
        # free1's size says 16 bytes more; used2's below reaches back to it.
        self.image.node_write(self.free1, "size", 176, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("size", "I6", self.free1.mem)])
        self.assertIn("node 0x%x.size 176 puts the next node at 0x%x" % (
            self.free1.node, self.free1.node + 176), heap.problems[0].detail)
        self.assertIn("the size is wrong, and the block is 160 bytes", heap.problems[0].detail)
        self.assertAllListed(heap)
        self.assertEqual(heap.block(1).size, 160)

    def test_size_too_small_while_the_next_node_is_sound(self):
        self.image.node_write(self.free1, "size", 128, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("size", "I6", self.free1.mem)])
        self.assertIn("the size is wrong, and the block is 160 bytes", heap.problems[0].detail)
        self.assertAllListed(heap)
        self.assertEqual((heap.block(1).size, heap.summary()["free_bytes"]), (160, 256))


class FreeTest(Planted):
    def test_write_after_free_into_poison(self):
        self.image.write(self.free1.mem + 40, b"hello")
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I3", self.free1.mem)])
        problem = heap.problems[0]
        self.assertEqual(problem.culprit, self.free1.mem)
        self.assertIn("last owner: serial 90, site main+0 at prog.c:1; freed at main+0 at "
                      "prog.c:1 after serial 90", problem.detail)
        self.assertIn("5 poison bytes changed between mem+40 and mem+44", problem.detail)
        self.assertIn("68 65 6c 6c 6f", problem.detail)

    def test_write_after_free_over_who_freed_it(self):
        self.image.write(self.free1.mem + 20, b"\x55")
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I3", self.free1.mem)])
        self.assertIn("its record of who freed it (mem+16..mem+32) no longer checks",
                      heap.problems[0].detail)
        self.assertNotIn("freed at", heap.problems[0].detail)

    def test_write_after_free_over_the_links(self):
        self.image.write(self.free2.mem, b"\x01" * 8)
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I9", self.free2.mem)])
        self.assertIn("next free link is 0x101010101010101", heap.problems[0].detail)

    def test_free_link_to_a_used_block(self):
        self.image.write_word(self.free2.mem + 8, self.used2.node)
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I9", self.free2.mem)])
        self.assertIn("a used block, not a free one", heap.problems[0].detail)

    def test_free_links_disagree(self):
        self.image.write_word(self.free1.mem, 0)  # free1 no longer leads to free2
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I9", self.free2.mem)])
        self.assertIn("prev free link is 0x%x, but that block's next link is 0x0"
                      % self.free1.node, heap.problems[0].detail)

    def test_two_free_neighbours(self):
        image = H.Image()
        region = image.arena().region(0x2000)
        region.used(8)
        first, second = region.free(96), region.free(128)
        region.used(8)
        image.build()
        heap = H.walk(image)
        self.assertEqual(found(heap), [("coalesce", "I8", second.mem)])
        self.assertIn("mem 0x%x and mem 0x%x are neighbours" % (first.mem, second.mem),
                      heap.problems[0].detail)


class StateTest(Planted):
    def test_state_garbage_with_a_sound_check(self):
        self.image.node_write(self.used2, "state", ord("J"), reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap)[0], ("state", "I11", self.used2.mem))
        self.assertIn("state is 0x4a ('J'), neither USED, FREE, CACHED nor QUARANTINED",
                      heap.problems[0].detail)

    def test_free_big_block(self):
        self.image.node_write(self.big, "state", L.STATE_FREE, reseal=True)
        heap = self.walk()
        self.assertIn(("state", "I11", self.big.mem), found(heap))

    def test_big_block_below(self):
        self.image.node_write(self.big, "below", 64, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I4", self.big.mem)])
        self.assertIn("its node lies 80 bytes into its mapping", heap.problems[0].detail)

    def test_big_block_node_with_a_size(self):
        self.image.node_write(self.big, "size", 100048, reseal=True)
        heap = self.walk()
        self.assertEqual(found(heap), [("size", "I6", self.big.mem)])
        self.assertIn("holds size 100048 and requested 0, but a big block's node holds 0",
                      heap.problems[0].detail)

    def test_big_block_whose_mapping_says_another_size(self):
        self.image.write_word(self.big.region.address + 64, 100048 + 16)
        heap = self.walk()
        self.assertEqual(found(heap), [("size", "I7", self.big.mem)])
        self.assertIn("where its block ends, is 0x%x" % (self.big.node + 100048),
                      heap.problems[0].detail)


class AccountingTest(Planted):
    def test_counter_off(self):
        self.image.arenas[0].counters["used_blocks"] = 6
        self.image.arenas[0].counters["wilderness_bytes"] = 1
        self.image.build()
        heap = self.walk()
        self.assertEqual(found(heap), [("accounting", "I10", None)] * 2)
        self.assertIn("arena 0: arena.used_blocks is 6, but the walk counts 5",
                      heap.problems[0].detail)


class UnreadableTest(Planted):
    def test_unreadable_region(self):
        image = H.Image()
        arena = image.arena()
        arena.region(0x2000).used(10)
        lost = arena.region(0x2000)
        lost.used(20)
        kept = arena.region(0x2000)
        kept.used(30)
        image.build()
        heap = H.walk(image, image.reader(skip=[lost.address]))
        self.assertEqual(found(heap), [("unreadable", "I15", None)])
        self.assertIn("leads to 0x%x: cannot read" % lost.address, heap.problems[0].detail)
        self.assertEqual(len(heap.nodes), 1)  # the list is cut there

    def test_hole_inside_a_region(self):
        image = H.Image()
        region = image.arena().region(0x4000)
        before = [region.used(1000) for _ in range(3)]  # 1040 bytes each
        after = [region.used(1000) for _ in range(8)]
        image.build()
        data = bytes(image.segments[region.address])
        hole = 0x1000  # the first "after" block starts below it and ends in it
        reader = H.BytesReader([(H.ROOT_AT, image.segments[H.ROOT_AT]),
                                (H.ARENAS_AT, image.segments[H.ARENAS_AT]),
                                (region.address, data[:hole]),
                                (region.address + hole + 0x1000, data[hole + 0x1000:])])
        heap = H.walk(image, reader)
        kinds = found(heap)
        self.assertEqual(kinds[0][0], "unreadable")
        mems = [b.mem for b in heap.blocks()]
        self.assertEqual(mems[:3], [b.mem for b in before])
        self.assertEqual(mems[-3:], [b.mem for b in after[-3:]])
        self.assertGreater(heap.regions[0].skipped_bytes, 0)


class LastErrorTest(Planted):
    def test_allocator_report_comes_first(self):
        self.image.last_error = {"kind": 7, "mem": self.free1.mem, "node": self.free1.node,
                                 "serial": 90, "message": "ant: double free of mem 0x1"}
        self.image.build()
        heap = self.walk()
        self.assertEqual(found(heap), [("double-free", None, self.free1.mem)])
        self.assertEqual(heap.problems[0].source, "allocator")
        self.assertIn("ant: double free of mem 0x1", heap.problems[0].detail)


if __name__ == "__main__":
    unittest.main()
