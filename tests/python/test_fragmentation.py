"""ant-heap's fragmentation: with the wilderness, among the holes alone, and
internal (the bytes of used blocks beyond those requested)."""
import json
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import fragmentation, options, render


def swiss_cheese():
    """The walkthrough's step 8: five 544-byte holes kept apart by used
    blocks, then a wilderness of most of a MiB."""
    image = H.Image()
    region = image.arena().region(0x100000)
    blocks = []
    for _ in range(5):
        blocks.append(region.free(544))
        blocks.append(region.used(500))
    image.build()
    return image, blocks


class HolesTest(unittest.TestCase):
    def test_formula(self):
        self.assertEqual(fragmentation.holes(0, 0), 0.0)
        self.assertEqual(fragmentation.holes(544, 544), 0.0)
        self.assertAlmostEqual(fragmentation.holes(2720, 544), 0.8)

    def test_swiss_cheese_is_fragmented_among_its_holes(self):
        image, blocks = swiss_cheese()
        data = json.loads(render.dumps(render.heap_dict(H.walk(image))))
        # The wilderness is one free piece far larger than the holes, so the
        # figure with it included says almost nothing is scattered ...
        self.assertLess(data["fragmentation"], 0.01)
        # ... while four of the five holes' bytes are not in the largest.
        self.assertAlmostEqual(data["holes_fragmentation"], 0.8)
        self.assertAlmostEqual(data["region_detail"][0]["holes_fragmentation"], 0.8)
        text = "\n".join(render.heap_lines(H.walk(image)))
        self.assertIn("\n    holes only   0.80 (1 - largest free block / bytes in free blocks)", text)


class InternalTest(unittest.TestCase):
    def test_bytes_beyond_those_requested(self):
        image, blocks, big = H.sample()
        data = json.loads(render.dumps(render.heap_dict(H.walk(image))))
        used = [b for b in blocks if b.state == "used"]
        # The big block counts as any used block: its size beyond its request.
        self.assertEqual(data["internal_fragmentation_bytes"],
                         sum(b.size - b.requested for b in used + [big]))
        self.assertEqual(data["internal_fragmentation_bytes"],
                         data["used_bytes"] - data["requested_bytes"])
        self.assertAlmostEqual(data["internal_fragmentation"],
                               data["internal_fragmentation_bytes"] / data["used_bytes"])

    def test_text_names_both(self):
        image, _ = swiss_cheese()
        data = render.heap_dict(H.walk(image))
        text = "\n".join(render.heap_lines(H.walk(image)))
        share = 100 * data["internal_fragmentation_bytes"] / data["used_bytes"]
        self.assertIn("\n    internal     %s in used blocks beyond the bytes requested (%.0f%%)" % (
            render.human(data["internal_fragmentation_bytes"]), share), text)
        # Five used blocks of 544 bytes, 500 requested in each.
        self.assertEqual(data["internal_fragmentation_bytes"], 5 * (544 - 500))


class HelpTest(unittest.TestCase):
    def test_heap_help_explains_each_figure(self):
        text = options.SPECS["ant-heap"].help()
        for words in ("wilderness left out", "holes only", "holes_fragmentation",
                      "internal fragmentation", "internal_fragmentation_bytes"):
            self.assertIn(words, text.replace("\n", " "))


if __name__ == "__main__":
    unittest.main()
