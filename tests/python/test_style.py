"""The colours of the text output: added around the right words, and never
changing the text itself."""
import re
import unittest

import gdbpath  # noqa: F401  (puts gdb/ on sys.path)
from antgdb import style

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StyleTest(unittest.TestCase):
    def test_text_is_unchanged(self):
        line = ("ant-check: overflow (I2) at mem 0x7ffff7cc1230: block mem 0x7ffff7cc1230 "
                "(16 bytes requested, serial 6, site main+80 at phonebook.c:32) wrote past its end")
        self.assertEqual(ANSI.sub("", style.paint(line)), line)

    def test_colours_problems_addresses_symbols_and_files(self):
        painted = style.paint("ant-check: overflow (I2) at mem 0x7ffff7cc1230: site main+80 at phonebook.c:32")
        self.assertIn("\x1b[1;31moverflow (I2)\x1b[0m", painted)
        self.assertIn("\x1b[34m0x7ffff7cc1230\x1b[0m", painted)
        self.assertIn("\x1b[33mmain+80\x1b[0m", painted)
        self.assertIn("\x1b[32mphonebook.c:32\x1b[0m", painted)

    def test_verdicts(self):
        self.assertIn("\x1b[32mOK\x1b[0m", style.paint("ant-check: OK: 10 blocks in 1 region, no problems"))
        self.assertIn("\x1b[1;31mCORRUPT\x1b[0m", style.paint("ant-check: CORRUPT: 3 problems"))

    def test_plain_line(self):
        self.assertEqual(style.paint("node            mem"), "node            mem")


if __name__ == "__main__":
    unittest.main()
