"""Sites with no symbol as file+offset (modules.py), the form addr2line
reads, and gdb's names put into the allocator's own report texts
(sites.Sites.annotate)."""
import unittest

import gdbpath  # noqa: F401
from antgdb import modules
from antgdb.sites import Sites

CORE = """Mapped address spaces:

          Start Addr           End Addr       Size     Offset objfile
      0x555555554000     0x555555556000     0x2000        0x0 /build/tests/forensics-stripped
      0x555555556000     0x55555556a000    0x14000     0x2000 /build/tests/forensics-stripped
      0x7ffff7dc5000     0x7ffff7deb000    0x26000        0x0 /usr/lib/x86_64-linux-gnu/libc.so.6
      0x7ffff7deb000     0x7ffff7f40000   0x155000    0x26000 /usr/lib/x86_64-linux-gnu/libc.so.6
"""
LIVE = """process 4242
Mapped address spaces:

          Start Addr           End Addr       Size     Offset  Perms  objfile
            0x400000           0x401000     0x1000        0x0  r--p   /opt/fixed/prog
            0x401000           0x402000     0x1000     0x1000  r-xp   /opt/fixed/prog
      0x7ffff7ff0000     0x7ffff7ff4000     0x4000        0x0  rw-p
      0x7ffffffde000     0x7ffffffff000    0x21000        0x0  rw-p   [stack]
"""


class ModulesTest(unittest.TestCase):
    def test_core_mappings_of_position_independent_objects(self):
        found = modules.Modules(modules.parse_mappings(CORE), lambda address: 3)
        self.assertEqual(found.name(0x55555555686E), "forensics-stripped+0x286e")
        self.assertEqual(found.name(0x7FFFF7E00010), "libc.so.6+0x3b010")
        self.assertIsNone(found.name(0x7FFFF7F40000))  # past the last mapping
        self.assertIsNone(found.name(0x1000))

    def test_live_mappings_of_a_program_at_a_fixed_address(self):
        mappings = modules.parse_mappings(LIVE)
        self.assertEqual([path for _, _, _, path in mappings], ["/opt/fixed/prog"] * 2)
        found = modules.Modules(mappings, lambda address: modules.ELF_EXEC)
        self.assertEqual(found.name(0x401136), "prog+0x401136")  # its own addresses

    def test_no_header_mapped(self):
        mappings = [(0x1000, 0x2000, 0x3000, "/lib/x.so")]
        self.assertIsNone(modules.Modules(mappings, lambda address: 3).name(0x1800))


class SitesTest(unittest.TestCase):
    def sites(self):
        names = {0x5555555551DC: ("make_node+18", "forensics.c:51")}
        return Sites(lambda address: names.get(address, (None, None)),
                     lambda address: "prog+0x%x" % (address - 0x555555554000))

    def test_text_without_a_symbol(self):
        sites = self.sites()
        self.assertEqual(sites.text(0x555555556000), "0x555555556000 (prog+0x2000)")
        self.assertEqual(sites.text(0x5555555551DC), "make_node+18 at forensics.c:51")
        self.assertIn("prog+0x2000", sites.names(0x555555556000))
        self.assertEqual(Sites().text(0x10), "0x10")

    def test_reports_get_gdbs_names(self):
        sites = self.sites()
        report = ("overflow: block 0x7fffe7c07030 (48 bytes requested, serial 500, allocated "
                  "at 0x5555555551dc (forensics-debug+0x11dc)), freed at 0x5555555551dc "
                  "(forensics-debug+0x11dc, make_node+0x12); 0x555555556000 (prog+0x2000)")
        self.assertEqual(sites.annotate(report), (
            "overflow: block 0x7fffe7c07030 (48 bytes requested, serial 500, allocated at "
            "0x5555555551dc (forensics-debug+0x11dc, make_node+18 at forensics.c:51)), freed at "
            "0x5555555551dc (forensics-debug+0x11dc, make_node+18 at forensics.c:51); "
            "0x555555556000 (prog+0x2000)"))
        self.assertEqual(Sites().annotate(report), report)


if __name__ == "__main__":
    unittest.main()
