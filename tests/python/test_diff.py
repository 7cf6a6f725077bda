"""ant-diff (diffing.py): two heaps built with known serials, the first
saved as ant-walk --json saves it, compared file to heap and file to
file; the JSON shape DESIGN.md gives; every kind of file that is not a
walk of this layout refused with a sentence."""
import json
import os
import tempfile
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import diffing, native, render
from antgdb.errors import UsageError
from antgdb.sites import Sites

NAMES = {0x401000: ("main+16", "prog.c:10"), 0x401100: ("xmalloc+8", "util.c:42")}


def load(path):
    with open(path) as f:
        return json.load(f)


def symbolize(address):
    return NAMES.get(address, (None, None))


def before():
    """Serials 1 to 5 in use: 1, 2 and 5 from main, 3 and 4 from xmalloc."""
    image = H.Image()
    region = image.arena().region(0x4000)
    region.used(24, serial=1)
    region.used(100, serial=2)
    region.used(40, serial=3, site=0x401100)
    region.used(300, serial=4, site=0x401100)
    region.used(16, serial=5)
    image.build()
    return image


def after():
    """3 freed (its node keeps serial 3), 5 freed, 6 and 7 new from
    xmalloc, 8 new from a site nothing names."""
    image = H.Image()
    region = image.arena().region(0x4000)
    region.used(24, serial=1)
    region.used(100, serial=2)
    region.free(64, serial=3, site=0x401100, requested=40)
    region.used(300, serial=4, site=0x401100)
    region.free(48, serial=5, requested=16)
    region.used(1000, serial=6, site=0x401100)
    region.used(2000, serial=7, site=0x401100)
    region.used(8, serial=8, site=0x401300)
    image.build()
    return image


class DiffTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.sites = Sites(symbolize)
        self.old = self.save("old.json", H.walk(before(), symbolize=symbolize))
        self.heap = H.walk(after(), symbolize=symbolize)
        self.new = self.save("new.json", self.heap)

    def tearDown(self):
        self.folder.cleanup()

    def path(self, name):
        return os.path.join(self.folder.name, name)

    def save(self, name, heap):
        with open(self.path(name), "w") as f:
            f.write("\n".join(render.walk_json_lines(heap, Sites(symbolize))) + "\n")
        return self.path(name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def check(self, diff):
        result = diff.as_dict(self.sites)
        json.dumps(result)
        self.assertEqual([row["serial"] for row in result["new"]], [6, 7, 8])
        self.assertEqual([row["serial"] for row in result["freed"]], [3, 5])
        self.assertEqual([row["requested"] for row in result["new"]], [1000, 2000, 8])
        by_site = {row["site"]: row for row in result["by_site"]}
        self.assertEqual(set(by_site), {0x401000, 0x401100, 0x401300})
        xmalloc = by_site[0x401100]
        self.assertEqual((xmalloc["new_blocks"], xmalloc["new_requested_bytes"],
                          xmalloc["freed_blocks"], xmalloc["freed_requested_bytes"]),
                         (2, 3000, 1, 40))
        self.assertEqual(xmalloc["where"], "xmalloc+8 at util.c:42")
        self.assertEqual((by_site[0x401000]["freed_blocks"], by_site[0x401000]["new_blocks"]),
                         (1, 0))
        self.assertIsNone(by_site[0x401300]["where"])
        for row in result["by_site"]:
            self.assertTrue({"site", "where", "new_blocks", "new_bytes", "freed_blocks",
                             "freed_bytes"} <= set(row))
        # The most growth first.
        nets = [row["new_bytes"] - row["freed_bytes"] for row in result["by_site"]]
        self.assertEqual(nets, sorted(nets, reverse=True))
        self.assertEqual((result["old"]["used_blocks"], result["now"]["used_blocks"]), (5, 6))
        return result

    def test_file_and_heap_at_hand(self):
        new = diffing.heap_walk(self.heap, self.sites, native.load())
        result = self.check(diffing.Diff(diffing.read_walk(self.old), new))
        # A new row of the heap at hand is the row ant-walk writes.
        saved = {row["serial"]: row for row in load(self.new)}
        for row in result["new"]:
            self.assertEqual(row, saved[row["serial"]])

    def test_two_files(self):
        result = self.check(diffing.Diff(diffing.read_walk(self.old),
                                         diffing.read_walk(self.new)))
        saved = {row["serial"]: row for row in load(self.old)}
        self.assertEqual(result["freed"], [saved[3], saved[5]])

    def test_nothing_changed(self):
        diff = diffing.Diff(diffing.read_walk(self.new), diffing.read_walk(self.new))
        self.assertEqual((diff.new_rows(), diff.freed_rows(), diff.by_site), ([], [], []))
        lines = list(diff.lines(self.sites))
        self.assertEqual(lines[-1], "  new 0 blocks (0 bytes), freed 0 blocks (0 bytes), 6 kept")

    def test_text(self):
        diff = diffing.Diff(diffing.read_walk(self.old), diffing.read_walk(self.new))
        lines = list(diff.lines(self.sites))
        self.assertTrue(lines[0].startswith("ant-diff: %s: 5 used blocks" % self.old), lines[0])
        self.assertIn("new 3 blocks", lines[2])
        self.assertIn("freed 2 blocks", lines[2])
        self.assertTrue(lines[4].endswith("xmalloc+8 at util.c:42"), lines[4])
        self.assertTrue(lines[-1].endswith("main+16 at prog.c:10"), lines[-1])

    def test_one_block_is_a_block(self):
        image = H.Image()
        region = image.arena().region(0x4000)
        region.used(24, serial=1)
        region.free(48, serial=2, requested=16)
        region.used(40, serial=3)
        image.build()
        one = self.save("one.json", H.walk(image, symbolize=symbolize))
        image = H.Image()
        image.arena().region(0x4000).used(24, serial=1)
        image.build()
        lines = list(diffing.Diff(diffing.read_walk(one), diffing.read_walk(
            self.save("two.json", H.walk(image, symbolize=symbolize)))).lines(self.sites))
        self.assertTrue(lines[1].startswith("      to %s: 1 used block, " % self.path("two.json")), lines[1])
        self.assertTrue(lines[2].startswith("  new 0 blocks (0 bytes), freed 1 block ("), lines[2])

    def test_damaged_blocks_are_left_out(self):
        rows = load(self.new)
        rows[-1]["problems"] = ["header"]
        doctored = self.write("damaged.json", json.dumps(rows))
        diff = diffing.Diff(diffing.read_walk(self.old), diffing.read_walk(doctored))
        self.assertEqual([row["serial"] for row in diff.new_rows()], [6, 7])

    def test_files_that_are_no_walk(self):
        rows = load(self.old)
        cases = [
            (self.path("missing.json"), "cannot read"),
            (self.write("text.json", "hello"), "is not a walk"),
            (self.write("object.json", '{"ok": true}'), "no array of rows"),
            (self.write("heap.json", json.dumps([{"blocks": 3}])), "has no node"),
            (self.write("mixed.json", json.dumps(
                [rows[0], dict(rows[1], mem=rows[1]["node"] + 48)])), "lie 32 and 48"),
            (self.folder.name, "cannot read"),
        ]
        for path, words in cases:
            with self.assertRaises(UsageError) as caught:
                diffing.read_walk(path)
            self.assertIn(words, str(caught.exception), path)

    def test_a_walk_of_another_layout(self):
        rows = [dict(row, mem=row["node"] + 48) for row in load(self.old)]
        other = diffing.read_walk(self.write("other.json", json.dumps(rows)))
        with self.assertRaises(UsageError) as caught:
            diffing.Diff(other, diffing.heap_walk(self.heap, self.sites, native.load()))
        self.assertIn("another layout", str(caught.exception))
        with self.assertRaises(UsageError):
            diffing.Diff(other, diffing.read_walk(self.new))

    def test_an_empty_walk(self):
        empty = diffing.read_walk(self.write("empty.json", "[]"))
        diff = diffing.Diff(empty, diffing.heap_walk(self.heap, self.sites, native.load()))
        self.assertEqual([row["serial"] for row in diff.new_rows()], [1, 2, 4, 6, 7, 8])


if __name__ == "__main__":
    unittest.main()
