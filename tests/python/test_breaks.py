"""ant-break (breaks.py): where root.break_serial is, what is written, what
is said; and its arguments. tests/gdb/forensics.py sets it in a live
process and stops at the allocation."""
import unittest

import gdbpath  # noqa: F401
from antgdb import breaks, options
from antgdb.errors import UsageError


class FakeLayout:
    address, version = 0x7FFFF7FF0000, 4

    def __init__(self, fields):
        self.fields = fields


class BreaksTest(unittest.TestCase):
    def test_place(self):
        layout = FakeLayout({"root.break_serial": (4728, 8)})
        self.assertEqual(breaks.place(layout), (0x7FFFF7FF0000 + 4728, 8))
        with self.assertRaisesRegex(UsageError, "no break_serial"):
            breaks.place(FakeLayout({}))
        with self.assertRaisesRegex(UsageError, "4 bytes"):
            breaks.place(FakeLayout({"root.break_serial": (4728, 4)}))

    def test_encode(self):
        self.assertEqual(breaks.encode(0x0102), b"\x02\x01" + bytes(6))
        self.assertEqual(breaks.decode(breaks.encode((1 << 48) - 1)), (1 << 48) - 1)
        for serial in (1 << 48, -1):
            with self.assertRaisesRegex(UsageError, "2\\^48"):
                breaks.encode(serial)

    def test_what_it_says(self):
        self.assertEqual(list(breaks.lines(0, 0, 448)), [
            "ant-break: no allocation raises SIGTRAP (root.break_serial is 0)",
            "ant-break: serials taken so far: up to 448"])
        self.assertEqual(list(breaks.lines(0, 500, 448))[0],
                         "ant-break: allocation 500 will raise SIGTRAP (it was none)")
        self.assertEqual(list(breaks.lines(500, 0, 512))[0],
                         "ant-break: cleared (it was allocation 500)")
        said = list(breaks.lines(0, 500, 512))
        self.assertIn("may be handed out already", said[1])
        self.assertEqual(list(breaks.lines(7, 7, None)),
                         ["ant-break: allocation 7 raises SIGTRAP (root.break_serial)"])
        self.assertEqual(breaks.as_dict(0, 9, 64), {"break_serial": 9, "was": None, "serial": 64})

    def test_arguments(self):
        self.assertIsNone(options.parse("ant-break", "")["break_serial"])
        self.assertEqual(options.parse("ant-break", "0x10 --json")["break_serial"], 16)
        self.assertEqual(options.parse("ant-break", "0")["break_serial"], 0)
        for text, words in (("x", "number"), ("1 2", "one serial"), ("-5", "number"),
                            ("--free", "unknown option")):
            with self.assertRaisesRegex(UsageError, words):
                options.parse("ant-break", text)
        self.assertIn("SIGTRAP", options.SPECS["ant-break"].help())


if __name__ == "__main__":
    unittest.main()
