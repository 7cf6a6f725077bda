"""The quarantine (layout version 6): a clean heap with quarantined blocks,
as the walk, ant-heap, ant-walk and ant-block read it, then each way the
quarantine or a quarantined block can be damaged (I3, I19, I10)."""
import json
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import layout as L
from antgdb import render, selection
from antgdb.columns import Columns
from antgdb.facts import block_facts
from antgdb.sites import Sites


def found(heap):
    return [(p.kind, p.invariant, p.mem) for p in heap.problems]


def quarantine_heap():
    """Arena 0: one region of used, free and quarantined blocks, the
    quarantine holding three, oldest first: a, b, c."""
    image = H.Image(version=6, quarantine=1 << 20)
    arena = image.arena()
    region = arena.region(0x4000)
    region.used(24)
    image.a = region.quarantined(96, serial=7, requested=50)
    region.used(100)
    image.b = region.quarantined(176, serial=8, requested=120)
    region.free(160, serial=3)
    region.used(40)
    image.c = region.quarantined(96, serial=9, requested=60)
    region.used(8)
    return image


class CleanTest(unittest.TestCase):
    def setUp(self):
        self.image = quarantine_heap().build()
        self.heap = H.walk(self.image)

    def test_no_problems(self):
        self.assertEqual(found(self.heap), [])
        self.assertEqual(self.heap.notes, [])

    def test_version_and_counts(self):
        summary = self.heap.summary()
        self.assertEqual(summary["layout_version"], 6)
        self.assertEqual(summary["quarantine"], 1 << 20)
        self.assertEqual((summary["quarantined_blocks"], summary["quarantined_bytes"]),
                         (3, 96 + 176 + 96))
        self.assertEqual((summary["used_blocks"], summary["free_blocks"]), (4, 1))
        self.assertEqual(sorted(self.heap.quarantined),
                         [self.image.a.node, self.image.b.node, self.image.c.node])

    def test_counters_count_them_as_handed_out(self):
        arena = self.heap.arenas[0]
        walked = arena.walk_counters()
        for name in ("used_blocks", "used_bytes", "requested_bytes", "free_blocks"):
            self.assertEqual(walked[name], arena.values[name], name)

    def test_heap_text(self):
        text = "\n".join(render.heap_lines(self.heap))
        self.assertIn("(4 used, 1 free, 3 quarantined)", text)
        self.assertIn("quarantine     368 B in 3 blocks, held back from reuse (up to 1.0 MiB "
                      "per arena)", text)

    def test_walk_rows_and_filter(self):
        columns = Columns(self.heap)
        picked = [index for indices in selection.chosen_indices(
            self.heap, columns, selection.Selection("quarantined")) for index in indices]
        self.assertEqual([self.heap.nodes[index] for index in picked],
                         [self.image.a.node, self.image.b.node, self.image.c.node])
        rows = [render.walk_row(block, Sites()) for block in self.heap.select("quarantined")]
        self.assertEqual([row["state"] for row in rows], ["quarantined"] * 3)
        self.assertEqual([row["requested"] for row in rows], [0, 0, 0])
        json.dumps(rows)

    def test_block_facts_and_text(self):
        block = next(b for b in self.heap.blocks() if b.node == self.image.b.node)
        facts = block_facts(self.heap, block)
        self.assertEqual(facts["links"], {"next": self.image.c.node, "prev": self.image.a.node})
        self.assertTrue(facts["freed"]["ok"])
        self.assertTrue(facts["poison"]["ok"])
        text = "\n".join(render.block_lines(self.heap, block, Sites()))
        self.assertIn("quarantined, 176 bytes; last owner: 120 bytes requested, serial 8", text)
        self.assertIn("quarantine links: next 0x%x, prev 0x%x"
                      % (self.image.c.node, self.image.a.node), text)

    def test_version_4_has_no_quarantine(self):
        heap = H.walk(_plain())
        self.assertEqual(heap.summary()["quarantined_blocks"], 0)
        self.assertEqual(heap.summary()["quarantine"], 0)


def _plain():
    image = H.Image()
    image.arena().region(0x2000).used(30)
    return image.build()


class DamageTest(unittest.TestCase):
    def setUp(self):
        self.image = quarantine_heap().build()

    def walk(self):
        return H.walk(self.image)

    def test_poison_written(self):
        b = self.image.b
        self.image.write(b.mem + 100, b"\x00")
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I3", b.mem)])
        self.assertIn("quarantined block mem 0x%x" % b.mem, heap.problems[0].detail)

    def test_record_of_who_freed_it_written(self):
        b = self.image.b
        self.image.write(b.mem + 20, b"\x01")
        self.assertEqual(found(self.walk()), [("use-after-free", "I3", b.mem)])

    def test_prev_link_written(self):
        c = self.image.c
        self.image.write_word(c.mem + 8, self.image.a.node)
        heap = self.walk()
        self.assertEqual(found(heap), [("use-after-free", "I19", c.mem)])
        self.assertIn("(mem+8) is 0x%x, but that is 0x%x" % (self.image.a.node, self.image.b.node),
                      heap.problems[0].detail)

    def test_next_link_astray(self):
        a = self.image.a
        self.image.write_word(a.mem, a.node + 0x1000)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I19", a.mem)])
        self.assertIn("not a quarantined block of arena 0", heap.problems[0].detail)

    def test_next_link_to_a_used_block(self):
        a = self.image.a
        used = self.image.arenas[0].regions[0].blocks[0]
        self.image.write_word(a.mem, used.node)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I19", a.mem)])
        self.assertIn("it is a used block", heap.problems[0].detail)

    def test_loop(self):
        c = self.image.c
        self.image.write_word(c.mem, self.image.a.node)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I19", c.mem)])
        self.assertIn("the quarantine loops", heap.problems[0].detail)

    def test_missed_block(self):
        """The head skips a: a stays quarantined in no list."""
        a, b = self.image.a, self.image.b
        arena = self.image.arenas[0].address
        self.image.write_word(arena + H.QUARANTINE_AT, b.node)
        self.image.write_word(b.mem + 8, 0)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I19", a.mem)])
        self.assertIn("is not in arena 0's quarantine", heap.problems[0].detail)

    def test_tail(self):
        arena = self.image.arenas[0].address
        self.image.write_word(arena + H.QUARANTINE_AT + 8, self.image.b.node)
        heap = self.walk()
        self.assertEqual(found(heap), [("link", "I19", self.image.c.mem)])
        self.assertIn("quarantine_tail is 0x%x" % self.image.b.node, heap.problems[0].detail)

    def test_counts(self):
        arena = self.image.arenas[0].address
        self.image.write_word(arena + H.QUARANTINE_AT + 24, 1)
        heap = self.walk()
        self.assertEqual(found(heap), [("accounting", "I19", None)])
        self.assertIn("arena.quarantine_blocks is 3 and arena.quarantine_bytes 1",
                      heap.problems[0].detail)

    def test_state_counted_as_used(self):
        """A quarantined block the arena's counters miss."""
        arena = self.image.arenas[0].address
        used = arena + H.COUNTER_AT["used_blocks"]
        self.image.write_word(used, int.from_bytes(self.image.read(used, 8), "little") - 1)
        heap = self.walk()
        self.assertEqual([p[:2] for p in found(heap)], [("accounting", "I10")])

    def test_resync_finds_a_quarantined_block(self):
        """A scan for the next sound node after a damaged one stops at a
        quarantined node as at any other."""
        used = self.image.arenas[0].regions[0].blocks[2]
        self.image.write(used.node, b"\xff" * 16)
        heap = self.walk()
        self.assertEqual([p[:2] for p in found(heap)], [("header", "I1")])
        self.assertIn(self.image.b.node, heap.quarantined)
        self.assertEqual(heap.problems[0].mem, used.mem)

    def test_quarantined_big_block(self):
        image = H.Image(version=6)
        arena = image.arena()
        arena.region(0x2000).used(30)
        big = arena.big(300000)
        image.build()
        image.node_write(big, "state", L.STATE_QUARANTINED, reseal=True)
        heap = H.walk(image)
        self.assertIn(("state", "I11", big.mem), found(heap))


if __name__ == "__main__":
    unittest.main()
