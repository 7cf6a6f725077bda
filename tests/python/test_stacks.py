"""Call stacks (layout 6): the store read back from memory (stacks.py),
what the names of a site that is a stack say (sites.py), and a stack in
walk rows, ant-sites' groups and ant-block's lines."""
import json
import struct
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import native, render, sitegroups, stacks
from antgdb.memory import BytesReader
from antgdb.sites import Sites

STORE = 0x7FFFE0000000
HEADER = 56  # struct ant_stacks
BUCKETS = 4


class FakeLayout:
    """The few fields of a root that stacks.Stacks reads."""

    def __init__(self, address, depth=6):
        self.fields = {"root.stacks": (0, 8), "stacks": (0, HEADER)}
        self.values = {"root.stacks": address, "root.stack_depth": depth}

    def root_value(self, name):
        return self.values[name]

    def decode(self, name, data):
        magic, depth, buckets, used, mapped, count, dropped = struct.unpack_from("<QIIQQQQ", data)
        return {"magic": magic, "depth": depth, "bucket_count": buckets, "used": used,
                "mapped": mapped, "count": count, "dropped": dropped}


def store(stacks_frames, depth=6, magic=stacks.MAGIC):
    """A store holding each list of frames, and the site of each."""
    body = bytearray(HEADER + 4 * BUCKETS)
    sites = []
    for frames in stacks_frames:
        sites.append(stacks.SITE_STACK | len(body) // 8)
        body += struct.pack("<IIII", 0, 0, len(frames), 0) + struct.pack("<%dQ" % len(frames), *frames)
    used = len(body)
    body += bytes(64)  # mapped beyond what is used
    struct.pack_into("<QIIQQQQ", body, 0, magic, depth, BUCKETS, used, len(body), len(sites), 0)
    return bytes(body), sites


MAIN = 0x401500
NAMES = {0x401010: ("push+16", "list.c:9"), 0x401120: ("lose+32", "list.c:20"),
         0x401130: ("keep+48", "list.c:30"), MAIN: ("main+36", "list.c:40"),
         0x7F0000001000: ("__libc_start_call_main+122", None)}


def symbolize(address):
    return NAMES.get(address, (None, None))


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.frames = [(0x401010, 0x401120, MAIN, 0x7F0000001000), (0x401010, 0x401130, MAIN)]
        data, self.sites = store(self.frames)
        self.stacks = stacks.Stacks(BytesReader([(STORE, data)]), FakeLayout(STORE))

    def test_each_stack_read_back(self):
        for site, frames in zip(self.sites, self.frames):
            self.assertEqual(self.stacks.frames(site), frames)
        self.assertEqual((self.stacks.count, self.stacks.error), (2, None))

    def test_a_return_address_is_no_stack(self):
        self.assertIsNone(self.stacks.frames(0x401010))

    def test_ids_that_name_no_stack(self):
        start = stacks.SITE_STACK | (HEADER + 4 * BUCKETS) // 8
        for site in (stacks.SITE_STACK, stacks.SITE_STACK | 1, start + 1, self.sites[1] + 1,
                     stacks.SITE_STACK | 10 ** 6):
            self.assertIsNone(self.stacks.frames(site), hex(site))

    def test_a_depth_the_store_cannot_hold(self):
        data, sites = store([(1, 2, 3)], depth=2)
        self.assertIsNone(stacks.Stacks(BytesReader([(STORE, data)]), FakeLayout(STORE)).frames(sites[0]))

    def test_a_store_without_its_magic_or_memory(self):
        data, sites = store([(1, 2)], magic=0)
        found = stacks.Stacks(BytesReader([(STORE, data)]), FakeLayout(STORE))
        self.assertIn("has no magic", found.error)
        self.assertIsNone(found.frames(sites[0]))
        found = stacks.Stacks(BytesReader([(0x1000, b"x")]), FakeLayout(STORE))
        self.assertIn("cannot be read", found.error)

    def test_no_store(self):
        found = stacks.Stacks(BytesReader([]), FakeLayout(0))
        self.assertEqual((found.error, found.frames(stacks.SITE_STACK | 9)), (None, None))


class NamesTest(unittest.TestCase):
    def setUp(self):
        frames = [(0x401010, 0x401120, MAIN, 0x7F0000001000), (0x401010, 0x401130, MAIN)]
        data, self.sites = store(frames)
        self.names = Sites(symbolize, stacks=stacks.Stacks(BytesReader([(STORE, data)]), FakeLayout(STORE)))

    def test_a_stack_stands_for_its_first_frame(self):
        first = self.sites[0]
        self.assertEqual(self.names.address(first), 0x401010)
        self.assertEqual(self.names(first), ("push+16", "list.c:9"))
        self.assertEqual(self.names.address(0x401010), 0x401010)

    def test_frames_end_at_main(self):
        self.assertEqual(self.names.frames(self.sites[0]), [0x401010, 0x401120, MAIN])
        self.assertIsNone(self.names.frames(0x401010))

    def test_text_names_the_callers(self):
        self.assertEqual(self.names.text(self.sites[0]), "push+16 at list.c:9 < lose+32 < main+36")
        self.assertEqual(self.names.text(self.sites[1]), "push+16 at list.c:9 < keep+48 < main+36")
        self.assertEqual(self.names.stack_texts(self.sites[1]),
                         ["#0 push+16 at list.c:9", "#1 keep+48 at list.c:30", "#2 main+36 at list.c:40"])

    def test_a_pattern_finds_a_caller(self):
        self.assertIn("lose", self.names.names(self.sites[0]))
        self.assertNotIn("lose", self.names.names(self.sites[1]))
        self.assertIn("list.c:30", self.names.names(self.sites[1]))

    def test_a_stack_the_store_lacks(self):
        missing = stacks.SITE_STACK | 999
        self.assertEqual(self.names.address(missing), 0)
        self.assertIn("a call stack the store does not hold", self.names.text(missing))
        self.assertEqual(Sites(symbolize).text(missing), "0x%x (a call stack this reader cannot see)" % missing)


class KeptTest(unittest.TestCase):
    def test_a_freed_big_block_keeps_both_stacks(self):
        from antgdb import kept
        data, sites = store([(0x401010, 0x401120, MAIN), (0x401130, MAIN)])
        names = Sites(symbolize, stacks=stacks.Stacks(BytesReader([(STORE, data)]), FakeLayout(STORE)))
        slot = kept.Kept({"mapping": 0x7F0000000000, "length": 0x10000, "mem": 0x7F0000000070,
                          "requested": 70000, "serial": 5, "site": sites[0], "freed_site": sites[1],
                          "freed_serial": 9, "order": 1, "state": kept.STATE_FREED, "guard": 0})
        found = kept.block_dict(slot, 0x7F0000000080, names)
        self.assertEqual((found["site"], found["stack"]), (0x401010, [0x401010, 0x401120, MAIN]))
        self.assertEqual((found["freed_site"], found["freed_stack"]), (0x401130, [0x401130, MAIN]))
        self.assertEqual(found["offset"], 0x10)


class RowsTest(unittest.TestCase):
    """Blocks whose sites are stacks, shown by the walk, ant-sites and
    ant-block."""

    def setUp(self):
        frames = [(0x401010, 0x401120, MAIN), (0x401010, 0x401130, MAIN)]
        data, self.stack_sites = store(frames)
        image = H.Image()
        region = image.arena().region(0x4000)
        for site in (self.stack_sites[0], self.stack_sites[0], self.stack_sites[1]):
            region.used(100, site=site)
        region.free(region.address + 0x4000 - region.wilderness)
        image.build()
        self.heap = H.walk(image)
        self.sites = Sites(symbolize, stacks=stacks.Stacks(BytesReader([(STORE, data)]), FakeLayout(STORE)))

    def test_walk_rows(self):
        rows = json.loads("\n".join(render.walk_json_lines(self.heap, self.sites)))
        used = [row for row in rows if row["state"] == "used"]
        self.assertEqual([row["site"] for row in used], [0x401010] * 3)
        self.assertEqual(used[2]["stack"], [0x401010, 0x401130, MAIN])
        self.assertEqual(used[2]["site_symbol"], "push+16")
        lines = "\n".join(render.walk_json_lines(self.heap, self.sites)).split("\n")[1:-1]
        for line, block in zip(lines, self.heap.select()):
            self.assertEqual(line.rstrip(","), json.dumps(render.walk_row(block, self.sites)))
        text = "\n".join(render.walk_lines(self.heap, self.sites))
        self.assertIn("push+16 at list.c:9 < keep+48 < main+36", text)

    def test_groups_by_stack(self):
        found = sitegroups.groups(self.heap, native.load())
        rows = sitegroups.as_json(found, self.sites)
        self.assertEqual([(row["blocks"], row["site"], row["stack"]) for row in rows],
                         [(2, 0x401010, [0x401010, 0x401120, MAIN]), (1, 0x401010, [0x401010, 0x401130, MAIN])])
        self.assertEqual(rows[0]["where"], "push+16 at list.c:9 < lose+32 < main+36")

    def test_block_lines(self):
        block = list(self.heap.select())[2]
        lines = list(render.block_lines(self.heap, block, self.sites))
        at = lines.index("  allocated at:")
        self.assertEqual(lines[at + 1:at + 4], ["    #0 push+16 at list.c:9", "    #1 keep+48 at list.c:30",
                                                "    #2 main+36 at list.c:40"])


if __name__ == "__main__":
    unittest.main()
