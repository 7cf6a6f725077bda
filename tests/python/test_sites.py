"""ant-sites (sitegroups.py): blocks grouped by site, against the same
groups made by hand from the walk's blocks; the JSON shape DESIGN.md
gives; the text; --top. test_native_sites.py holds the sums in C
(groups.c) to Python's."""
import json
import unittest

import gdbpath  # noqa: F401
import heapimage as H
import test_selection
from antgdb import native, options, sitegroups
from antgdb.errors import UsageError
from antgdb.sites import Sites


def by_hand(heap, states):
    """{site: (blocks, bytes, requested, first serial, last serial)} of the
    blocks in `states`, a freed block's requested bytes its node's."""
    found = {}
    for block in heap.select():
        if block.state not in states or (block.state == "free" and block.node not in heap.frees):
            continue
        asked = block.requested if block.state == "used" else block.words[1] & 0xFFFFFFFF
        blocks, size, requested, low, high = found.get(block.site, (0, 0, 0, block.serial,
                                                                    block.serial))
        found[block.site] = (blocks + 1, size + block.size, requested + asked,
                             min(low, block.serial), max(high, block.serial))
    return found


def as_table(groups):
    return {g.site: (g.blocks, g.bytes, g.requested, g.first_serial, g.last_serial)
            for g in groups}


class GroupsTest(unittest.TestCase):
    def setUp(self):
        self.heap = H.walk(test_selection.build(), symbolize=test_selection.symbolize)
        self.sites = Sites(test_selection.symbolize)

    def test_used_blocks_by_site(self):
        found = sitegroups.groups(self.heap, native.load())
        self.assertEqual(as_table(found), by_hand(self.heap, ("used",)))
        self.assertEqual([g.requested for g in found],
                         sorted((g.requested for g in found), reverse=True))
        self.assertEqual(as_table(found)[0x401100], (3, 100544, 100400, 2, 7))

    def test_freed_blocks_by_site(self):
        found = sitegroups.groups(self.heap, native.load(), free=True)
        self.assertEqual(as_table(found), by_hand(self.heap, ("free", "cached")))
        # The free block from parse_line keeps its last owner's 70 bytes.
        self.assertEqual(as_table(found)[0x401200], (1, 160, 70, 90, 90))

    def test_json_shape(self):
        rows = json.loads(json.dumps(sitegroups.as_json(
            sitegroups.groups(self.heap, native.load()), self.sites, top=2)))
        self.assertEqual(len(rows), 2)
        self.assertEqual(set(rows[0]), {"site", "where", "blocks", "requested_bytes", "bytes",
                                        "first_serial", "last_serial", "stack"})
        self.assertEqual(rows[0]["stack"], None)  # no stacks recorded
        self.assertEqual(rows[0]["where"], "xmalloc+8 at util.c:42")
        everything = sitegroups.as_json(sitegroups.groups(self.heap, native.load()), self.sites)
        bare = [row for row in everything if row["site"] == 0x401300]
        self.assertEqual(bare[0]["where"], None)  # an address nothing names

    def test_text(self):
        found = sitegroups.groups(self.heap, native.load())
        lines = list(sitegroups.lines(found, self.sites, top=2))
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[1].split()[:4] == ["3", "100400", "100544", "2-7"], lines[1])
        self.assertTrue(lines[1].endswith("xmalloc+8 at util.c:42"))
        self.assertEqual(lines[-1], "4 sites, 7 used blocks, 104677 bytes requested in 105008 "
                                    "(the 2 largest shown)")

    def test_empty_heap(self):
        image = H.Image()
        image.arena().region(0x2000)
        image.build()
        found = sitegroups.groups(H.walk(image), native.load())
        self.assertEqual(found, [])
        self.assertEqual(list(sitegroups.lines(found, self.sites))[-1],
                         "0 sites, 0 used blocks, 0 bytes requested in 0")

    def test_top_option(self):
        self.assertEqual(options.parse("ant-sites", "--top 5 --free")["top"], 5)
        for text in ("--top 0", "--top many", "--sort size"):
            with self.assertRaises(UsageError):
                options.parse("ant-sites", text)
        self.assertIn("--free", options.SPECS["ant-sites"].help())


if __name__ == "__main__":
    unittest.main()
