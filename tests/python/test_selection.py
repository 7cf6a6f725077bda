"""ant-walk's filters, sort and limit (selection.py, filters.py) on a heap of
two arenas whose blocks' sites, serials and sizes are known, against the
same choice made by hand from its blocks."""
import json
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import filters, options, render
from antgdb.errors import UsageError
from antgdb.selection import Selection, SitePattern
from antgdb.sites import Sites

NAMES = {
    0x401000: ("main+16", "prog.c:10"),
    0x401100: ("xmalloc+8", "util.c:42"),
    0x401200: ("parse_line+200", "parse.c:7"),
    0x401300: (None, None),  # no symbol: its hex address only
}


def symbolize(address):
    return NAMES.get(address, (None, None))


def build():
    image = H.Image()
    first, second = image.arena(), image.arena()
    one = first.region(0x4000)
    one.used(24, site=0x401000)
    one.used(100, site=0x401100)
    one.free(160, serial=90, site=0x401200, requested=70)
    one.used(300, site=0x401100)
    one.used(7, site=0x401300)
    two = second.region(0x4000)
    two.used(4096, site=0x401200)
    two.free(96)
    two.used(150, site=0x401000)
    first.big(100000, site=0x401100)
    image.build()
    return image


class SelectionTest(unittest.TestCase):
    def setUp(self):
        self.heap = H.walk(build(), symbolize=symbolize)
        self.sites = Sites(symbolize)
        self.blocks = list(self.heap.select())
        self.assertEqual(self.heap.problems, [])

    def mems(self, **chosen):
        if "site" in chosen:
            chosen["site"] = SitePattern(chosen["site"], self.sites)
        selection = Selection(**chosen)
        lines = render.walk_json_lines(self.heap, self.sites, selection)
        return [row["mem"] for row in json.loads("\n".join(lines))]

    def by_hand(self, keep, key=None, reverse=False):
        blocks = [block for block in self.blocks if keep(block)]
        if key is not None:
            blocks = sorted(blocks, key=key, reverse=reverse)
        elif reverse:
            blocks = blocks[::-1]
        return [block.mem for block in blocks]

    def test_site_substring_and_glob(self):
        self.assertEqual(self.mems(site="xmalloc"),
                         self.by_hand(lambda b: b.site == 0x401100))
        self.assertEqual(self.mems(site="util.c:42"),
                         self.by_hand(lambda b: b.site == 0x401100))
        self.assertEqual(self.mems(site="main*"), self.by_hand(lambda b: b.site == 0x401000))
        self.assertEqual(self.mems(site="*.c:4?"), self.by_hand(lambda b: b.site == 0x401100))
        self.assertEqual(self.mems(site="parse_line"),
                         self.by_hand(lambda b: b.site == 0x401200))
        # A glob is matched whole: "main" alone names main+16 by its function.
        self.assertEqual(self.mems(site="ma[i]n"), self.by_hand(lambda b: b.site == 0x401000))
        self.assertEqual(self.mems(site="0x4013*"), self.by_hand(lambda b: b.site == 0x401300))
        self.assertEqual(self.mems(site="nowhere"), [])
        self.assertEqual(len(self.mems(site="xmalloc")), 3)

    def test_serial_and_requested_ranges(self):
        self.assertEqual(self.mems(serial=(2, 4)), self.by_hand(lambda b: 2 <= b.serial <= 4))
        self.assertEqual(self.mems(serial=(5, None)), self.by_hand(lambda b: b.serial >= 5))
        self.assertEqual(self.mems(requested=(100, 300)),
                         self.by_hand(lambda b: 100 <= b.requested <= 300))
        self.assertEqual(self.mems(requested=(4096, None)),
                         self.by_hand(lambda b: b.requested >= 4096))
        # Free blocks request nothing in a row, whatever their node kept.
        self.assertEqual(self.mems(requested=(0, 0)), self.by_hand(lambda b: b.state != "used"))

    def test_arena(self):
        self.assertEqual(self.mems(arena=1), self.by_hand(lambda b: b.arena == 1))
        self.assertEqual(self.mems(arena=0, state="used"),
                         self.by_hand(lambda b: b.arena == 0 and b.state == "used"))
        with self.assertRaises(UsageError):
            Selection(arena=2).check(self.heap)

    def test_sort_reverse_and_limit(self):
        for key, value in (("size", lambda b: b.size), ("serial", lambda b: b.serial),
                           ("requested", lambda b: b.requested), ("address", lambda b: b.node)):
            self.assertEqual(self.mems(sort=key), self.by_hand(lambda b: True, value), key)
            self.assertEqual(self.mems(sort=key, reverse=True),
                             self.by_hand(lambda b: True, value, True), key)
            self.assertEqual(self.mems(sort=key, reverse=True, limit=3),
                             self.by_hand(lambda b: True, value, True)[:3], key)
        self.assertEqual(self.mems(reverse=True), [b.mem for b in self.blocks][::-1])
        self.assertEqual(self.mems(sort="size", state="free"),
                         self.by_hand(lambda b: b.state == "free", lambda b: b.size))

    def test_filters_combine(self):
        self.assertEqual(self.mems(site="xmalloc", requested=(200, None), sort="size"),
                         self.by_hand(lambda b: b.site == 0x401100 and b.requested >= 200,
                                      lambda b: b.size))

    def test_text_rows_agree(self):
        chosen = Selection(site=SitePattern("main", self.sites), sort="size", reverse=True)
        lines = list(render.walk_lines(self.heap, self.sites, chosen))
        self.assertEqual(lines[-1], "2 blocks shown")
        self.assertIn("main+16 at prog.c:10", lines[1])
        self.assertIn("150", lines[1].split()[3])


class ParseTest(unittest.TestCase):
    def parse(self, text):
        return options.parse("ant-walk", text)

    def test_ranges(self):
        self.assertEqual(self.parse("--serial 10-20")["serial"], (10, 20))
        self.assertEqual(self.parse("--serial 10-")["serial"], (10, None))
        self.assertEqual(self.parse("--serial -20")["serial"], (0, 20))
        self.assertEqual(self.parse("--serial 7")["serial"], (7, 7))
        self.assertEqual(self.parse("--requested 4K-")["requested"], (4096, None))
        self.assertEqual(self.parse("--requested=100-0x200")["requested"], (100, 512))
        self.assertIsNone(self.parse("")["serial"])

    def test_sort_site_arena(self):
        values = self.parse("--sort requested --reverse --site xmalloc* --arena 1")
        self.assertEqual((values["sort"], values["reverse"], values["site"], values["arena"]),
                         ("requested", True, "xmalloc*", 1))

    def test_bad_values(self):
        for text, words in (("--serial 20-10", "ends below"), ("--serial x-3", "number"),
                            ("--serial -", "range"), ("--requested 1Q", "bytes"),
                            ("--arena one", "number"), ("--sort name", "size, requested"),
                            ("--reverse=1", "takes no value"), ("--site", "needs a value")):
            with self.assertRaises(UsageError) as caught:
                self.parse(text)
            self.assertIn(words, str(caught.exception), text)

    def test_help_and_completion(self):
        text = options.SPECS["ant-walk"].help()
        for flag in ("--site PATTERN", "--serial A-B", "--requested A-B", "--arena N",
                     "--sort KEY", "--reverse"):
            self.assertIn(flag, text)
        self.assertEqual(options.complete("ant-walk", "--sort re", "re"), ["requested"])
        self.assertEqual(options.complete("ant-walk", "--sort ", ""),
                         ["size", "requested", "serial", "address"])
        self.assertIn("serial", options.complete("ant-walk", "--se", "se"))

    def test_selection_from_values(self):
        values = self.parse("--site main --serial 1-2 --sort size")
        chosen = filters.selection(values, Sites(symbolize))
        self.assertEqual((chosen.serial, chosen.sort), ((1, 2), "size"))
        self.assertTrue(chosen.site(0x401000))
        self.assertFalse(chosen.site(0x401100))


if __name__ == "__main__":
    unittest.main()
