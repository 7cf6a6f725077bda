"""ant-map's SVG (svgmap) and the README's pictures (svgpicture), read back
as XML: every block where the scale puts it, with its facts in its
tooltip; the wilderness; damage marked; small blocks gathered into spans
that count them all; pictures free of addresses."""
import os
import re
import tempfile
import unittest
import xml.etree.ElementTree as ET

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import kept, options, svgmap, svgpicture
from antgdb.errors import UsageError
from antgdb.sites import Sites

SVG = "{http://www.w3.org/2000/svg}"


def names(address):
    return ("main+%d" % (address & 0xFF), "prog.c:12")


def draw(heap):
    return ET.fromstring("\n".join(svgmap.map_lines(heap, Sites(names))))


def titled(root):
    """(element, its tooltip) of every element with one."""
    found = []
    for element in root.iter():
        title = element.find(SVG + "title")
        if title is not None and element.tag != SVG + "svg":
            found.append((element, title.text))
    return found


def rects(element):
    if element.tag == SVG + "rect":
        return [element]
    return element.findall(SVG + "rect")


def pixels(element):
    return sum(int(rect.get("width")) for rect in rects(element))


class MapTest(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, self.big = H.sample()
        self.heap = H.walk(self.image, symbolize=names)
        self.root = draw(self.heap)
        self.per_px = svgmap.scale(self.heap)

    def block(self, mem):
        hits = [(element, text) for element, text in titled(self.root)
                if " block at mem 0x%x:" % mem in text and element.tag != SVG + "path"]
        self.assertEqual(len(hits), 1, "mem 0x%x drawn %d times" % (mem, len(hits)))
        return hits[0]

    def test_each_block_has_its_facts_and_colour(self):
        for block in self.blocks:
            element, text = self.block(block.mem)
            self.assertIn("%d bytes" % block.size, text)
            if block.state == "used":
                self.assertEqual(element.get("class"), "u")
                self.assertIn("%d requested" % block.requested, text)
                self.assertIn("serial %d" % block.serial, text)
                self.assertIn("site main+%d at prog.c:12" % (block.site & 0xFF), text)
            else:
                self.assertEqual(element.get("class"), "f")
                self.assertTrue(text.startswith("free block"), text)

    def test_blocks_are_drawn_to_scale_in_address_order(self):
        region = self.heap.regions[0]
        for block in self.blocks:
            element, _ = self.block(block.mem)
            first = rects(element)[0]
            offset = (block.node - region.address) / self.per_px
            self.assertEqual(int(first.get("x")), svgmap.LEFT + int(round(offset)) % svgmap.WIDTH)
            # Its last pixel is left blank, apart from its neighbour's.
            self.assertAlmostEqual(pixels(element), block.size / self.per_px - 1, delta=1.5)

    def test_each_row_says_its_offset_in_the_region(self):
        rows = [t.text for t in self.root.iter(SVG + "text") if t.get("class") == "row"]
        heap_rows = -(-self.heap.regions[0].length // (svgmap.WIDTH * self.per_px))
        self.assertEqual(rows[:heap_rows], ["+0x%x" % (row * svgmap.WIDTH * self.per_px)
                                            for row in range(heap_rows)])
        self.assertEqual(rows[heap_rows], "+0x0")  # the big block's mapping begins anew

    def test_the_wilderness_and_the_big_block(self):
        region = self.heap.regions[0]
        wild = [(e, t) for e, t in titled(self.root) if t.startswith("wilderness")]
        self.assertEqual(len(wild), 1)
        element, text = wild[0]
        self.assertIn("{:,} bytes".format(region.end - region.wilderness), text)
        self.assertEqual(element.get("class"), "w")
        self.assertAlmostEqual(pixels(element), (region.end - region.wilderness) / self.per_px,
                               delta=1.5)
        _, text = self.block(self.big.mem)
        self.assertIn("100,000 requested", text)

    def test_captions_name_every_region(self):
        text = " ".join(t.text or "" for t in self.root.iter(SVG + "text"))
        self.assertIn("HEAP region 0x%x" % self.heap.regions[0].address, text)
        self.assertIn("BIG region 0x%x" % self.heap.regions[1].address, text)
        self.assertIn("7 blocks in 1 HEAP region and 1 big block, 0 problems", text)
        self.assertEqual(self.root.findall(".//%spath" % SVG), [])


class DamageTest(unittest.TestCase):
    def test_an_overflow_is_marked_red_with_its_problem(self):
        image, blocks, _ = H.sample()
        victim = blocks[2]
        image.write(victim.mem + victim.requested, b"!")
        heap = H.walk(image, symbolize=names)
        marks = draw(heap).findall(".//%spath[@class='mark']" % SVG)
        self.assertEqual(len(marks), 1)
        text = marks[0].find(SVG + "title").text
        self.assertIn("mem 0x%x" % victim.mem, text)
        self.assertIn("overflow (I2)", text)

    def test_a_damaged_node_is_marked(self):
        image, blocks, _ = H.sample()
        image.node_write(blocks[2], "serial", 12345)  # not resealed: a stray write
        heap = H.walk(image, symbolize=names)
        self.assertTrue(heap.problems)
        marked = {m.find(SVG + "title").text.split("mem ")[1].split(":")[0]
                  for m in draw(heap).findall(".//%spath[@class='mark']" % SVG)}
        self.assertIn("0x%x" % blocks[2].mem, marked)

    def test_marks_are_bounded_and_the_rest_is_said(self):
        image, blocks, _ = H.sample()
        for victim in (blocks[0], blocks[2]):
            image.write(victim.mem + victim.requested, b"!")
        heap = H.walk(image, symbolize=names)
        saved, svgmap.MAX_MARKS = svgmap.MAX_MARKS, 1
        try:
            root = draw(heap)
        finally:
            svgmap.MAX_MARKS = saved
        self.assertEqual(len(root.findall(".//%spath[@class='mark']" % SVG)), 1)
        self.assertIn("The first 1 of 2 damaged blocks are marked; ant-check lists them all.",
                      [t.text for t in root.iter(SVG + "text")])


class CachedTest(unittest.TestCase):
    def test_thread_caches_and_depots_have_colours_of_their_own(self):
        image = H.Image()
        arena = image.arena()
        cache = image.cache(thread=4242)
        depot = image.cache(thread=0, state=H.CACHE_DEPOT)
        region = arena.region(0x4000)
        region.used(100)
        mine = region.cached(cache, 96, serial=7, requested=50)
        region.used(100)
        kept = region.cached(depot, 96, serial=8, requested=50)
        region.used(100)
        heap = H.walk(image.build(), symbolize=names)
        found = {text.split(" block at mem ")[1].split(":")[0]: (element.get("class"), text)
                 for element, text in titled(draw(heap)) if " block at mem " in text}
        self.assertEqual(found["0x%x" % mine.mem][0], "c")
        self.assertEqual(found["0x%x" % kept.mem][0], "d")
        self.assertTrue(found["0x%x" % kept.mem][1].startswith("cached (depot) block"))

    def test_quarantined_blocks_have_a_colour_of_their_own(self):
        image = H.Image(version=6, quarantine=1 << 20)
        region = image.arena().region(0x4000)
        region.used(100)
        held = region.quarantined(96, serial=7, requested=50)
        region.used(100)
        heap = H.walk(image.build(), symbolize=names)
        found = {text.split(" block at mem ")[1].split(":")[0]: (element.get("class"), text)
                 for element, text in titled(draw(heap)) if " block at mem " in text}
        self.assertEqual(found["0x%x" % held.mem][0], "q")
        self.assertTrue(found["0x%x" % held.mem][1].startswith("quarantined block"))


def slot(state, guard, mapping, length, mem, serial=7, freed_serial=0):
    return kept.Kept({"mapping": mapping, "length": length, "mem": mem, "requested": 100,
                      "serial": serial, "site": 0x401010, "freed_site": 0x401020 if freed_serial else 0,
                      "freed_serial": freed_serial, "order": 1,
                      "state": kept.STATE_GUARDED if state == "guarded" else kept.STATE_FREED,
                      "guard": guard})


class KeptTest(unittest.TestCase):
    """Layout 5's kept mappings: a live guarded block's guard page, and a
    freed mapping kept inaccessible, which no region lists."""

    def setUp(self):
        self.image, self.blocks, self.big = H.sample()
        self.heap = H.walk(self.image, symbolize=names)
        self.region = self.heap.regions[1]

    def test_the_guard_page_after_a_guarded_block(self):
        self.heap.kept = [slot("guarded", 1, self.region.address, self.region.length, self.big.mem)]
        guards = [(e, t) for e, t in titled(draw(self.heap)) if e.get("class") == "g"]
        self.assertEqual(len(guards), 1)
        self.assertTrue(guards[0][1].startswith("the guard page past the block's end"))
        self.assertAlmostEqual(pixels(guards[0][0]),
                               (self.region.end - self.big.node - self.big.size) / svgmap.scale(self.heap),
                               delta=1.5)

    def test_a_freed_mapping_is_drawn_to_scale_after_the_regions(self):
        self.heap.kept = [slot("freed", 0, 0x7ffff0200000, 0x6000, 0x7ffff0201050, freed_serial=9)]
        root = draw(self.heap)
        captions = [t.text for t in root.iter(SVG + "text")]
        self.assertIn("KEPT mapping 0x7ffff0200000, 24.0 KiB: a freed big block", captions)
        hits = [(e, t) for e, t in titled(root) if e.get("class") == "k"]
        self.assertEqual(len(hits), 1)
        self.assertIn("mem 0x7ffff0201050", hits[0][1])
        self.assertIn("serial 7, site main+16 at prog.c:12; freed at main+32 at prog.c:12", hits[0][1])
        self.assertAlmostEqual(pixels(hits[0][0]), 0x6000 / svgmap.scale(self.heap), delta=1)


class SpanTest(unittest.TestCase):
    """Ten thousand small blocks in a region of 16 MiB: each under a
    pixel, so they come as spans, which must account for every block."""

    def setUp(self):
        image = H.Image()
        arena = image.arena()
        region = arena.region(16 << 20)
        self.blocks = []
        for index in range(10000):
            if index % 4 == 3:
                self.blocks.append(region.free(64))
            else:
                self.blocks.append(region.used(20))
        self.large = region.used(200000)
        self.heap = H.walk(image.build(), symbolize=names)
        self.root = draw(self.heap)

    def test_spans_count_every_small_block(self):
        counted = {"used": 0, "free": 0}
        for _, text in titled(self.root):
            match = re.match(r"([\d,]+) blocks?, 0x", text)
            if match:
                for number, kind in re.findall(r"([\d,]+) (used|free) \(", text):
                    counted[kind] += int(number.replace(",", ""))
        self.assertEqual(counted, {"used": 7500, "free": 2500})

    def test_the_large_block_is_drawn_alone_and_elements_stay_few(self):
        hits = [t for _, t in titled(self.root) if "block at mem 0x%x:" % self.large.mem in t]
        self.assertEqual(len(hits), 1)
        self.assertLess(len(titled(self.root)), 2 * svgmap.MAX_ROWS * svgmap.WIDTH
                        / svgmap.SPAN_PX)

    def test_a_mixed_span_mixes_colours(self):
        fills = {e.get("fill") for e, t in titled(self.root) if e.get("fill")}
        self.assertTrue(fills)
        for fill in fills:
            self.assertNotIn(fill, [colour for colour, _ in svgmap.KINDS.values()])


class PictureTest(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, _ = H.sample()
        self.heap = H.walk(self.image, symbolize=names)
        self.labels = {self.blocks[0].mem: "a", self.blocks[2].mem: "b"}
        panel = svgpicture.panel(self.heap, "after two frees", self.labels, 2)
        self.text = "\n".join(svgpicture.document([panel, panel], "test", 2))
        self.root = ET.fromstring(self.text)

    def test_no_address_only_offsets(self):
        self.assertNotIn("0x", self.text)
        region = self.heap.regions[0]
        offsets = [int(t.text) for t in self.root.iter(SVG + "text") if t.get("class") == "offset"
                   and t.text.isdigit()]
        self.assertEqual(offsets[:len(self.blocks)],
                         [block.mem - region.address for block in self.blocks])

    def test_blocks_are_labelled_with_their_names_and_sizes(self):
        words = [t.text for t in self.root.iter(SVG + "text") if t.get("class") == "name"]
        self.assertEqual(words[:4], ["a", "free", "b", "free"])
        tips = [t for _, t in titled(self.root) if t.startswith("b: used block")]
        self.assertEqual(len(tips), 2)
        self.assertIn("mem offset %d, %d bytes (100 requested)" % (
            self.blocks[2].mem - self.heap.regions[0].address, self.blocks[2].size), tips[0])

    def test_the_wilderness_is_a_stub_with_its_size(self):
        region = self.heap.regions[0]
        wild = [t.text for t in self.root.iter(SVG + "text") if t.get("class") == "wild"]
        self.assertEqual(wild, ["wilderness {:,} B".format(region.end - region.wilderness)] * 2)
        self.assertEqual(self.root.findall(".//%sg[@transform]" % SVG)[1].get("transform"),
                         "translate(0 %d)" % (50 + svgpicture.CAPTION +
                                              svgmap.Paragraph(0, 0, 2, svgpicture.WIDTH,
                                                               svgpicture.ROW,
                                                               svgpicture.GAP).height(1)))


class OptionsTest(unittest.TestCase):
    def test_the_file_is_required_and_becomes_the_output(self):
        self.assertEqual(options.parse("ant-map", "--svg heap.svg")["output"], "heap.svg")
        with self.assertRaisesRegex(UsageError, "Usage: ant-map --svg FILE"):
            options.parse("ant-map", "")
        with self.assertRaisesRegex(UsageError, "--svg needs a value"):
            options.parse("ant-map", "--svg")
        with self.assertRaisesRegex(UsageError, "unknown option --json"):
            options.parse("ant-map", "--svg x --json")

    def test_help_and_completion(self):
        text = options.SPECS["ant-map"].help()
        self.assertTrue(text.startswith("Draw the Ant heap as an SVG picture"))
        self.assertIn("--svg FILE", text)
        self.assertEqual(options.complete("ant-map", "--s", "s"), ["svg"])
        with tempfile.TemporaryDirectory() as work:
            open(os.path.join(work, "heap.svg"), "w").close()
            self.assertEqual(options.complete("ant-map", "--svg %s/he" % work, "he"),
                             ["heap.svg"])


if __name__ == "__main__":
    unittest.main()
