"""The root and its field table: decoded by name, validated, refused with
a sentence when damaged."""
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import layout as L
from antgdb.errors import DamagedRoot, NoHeap, UnsupportedVersion


def reference_head(secret, node, data):
    """ant_head_sentinel() of <ant/layout.h>, step by step in C's way."""
    prime = L.HEAD_PRIME

    def reduce(x):
        x = (x & prime) + (x >> 61)
        return x - prime if x >= prime else x

    words = [int.from_bytes(data[8 * i:8 * i + 8], "little") for i in range(7)]
    h = reduce(node ^ secret)
    for i in range(6, -1, -1):
        h = ((h << 3) | (h >> 58)) & prime
        h = reduce(h + reduce(words[i]))
    return h


class RootTest(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, self.big = H.sample()

    def root(self):
        return L.read_root(self.image.reader(), self.image.root)

    def test_fields_are_found_by_name(self):
        root = self.root()
        self.assertEqual(root.version, 1)
        self.assertEqual(root.fields["node.size"], (16, 8))
        self.assertEqual(root.fields["arena.wilderness_bytes"], (24 + 8 * 5, 8))
        self.assertEqual(root.fields["region"], (0, 64))
        self.assertEqual(root.secret, H.SECRET)
        self.assertEqual(root.poison, 0xA5)
        self.assertEqual(root.arena_addresses, [H.ARENAS_AT])
        self.assertEqual(root.decode("region", self.image.read(self.big.region.address, 64))["kind"],
                         L.REGION_BIG)

    def test_last_error_is_none_until_the_allocator_reports(self):
        self.assertIsNone(self.root().last_error())
        self.image.last_error = {"kind": 7, "count": 2, "mem": 0x1040, "message": "ant: double free"}
        self.image.build()
        error = self.root().last_error()
        self.assertEqual(error["kind_name"], "double-free")
        self.assertEqual(error["count"], 2)
        self.assertEqual(error["message"], "ant: double free")
        self.assertEqual(error["mem"], 0x1040)

    def test_bad_magic(self):
        self.image.write_word(self.image.root, 0x4141414141414141)
        with self.assertRaisesRegex(DamagedRoot, "magic is 0x4141414141414141, expected"):
            self.root()

    def test_zero_magic_is_not_a_heap_yet(self):
        self.image.write(self.image.root, bytes(32))
        with self.assertRaisesRegex(NoHeap, "all zero"):
            self.root()

    def test_root_not_started(self):
        self.image.write_word(self.image.root + 24, 0, 4)
        with self.assertRaisesRegex(NoHeap, "not started yet"):
            self.root()

    def test_bad_self(self):
        self.image.write_word(self.image.root + 16, self.image.root + 0x1000)
        with self.assertRaisesRegex(DamagedRoot, "root.self is 0x555555559000, not its own address"):
            self.root()

    def test_unknown_version(self):
        self.image.write_word(self.image.root + 8, 3, 4)
        with self.assertRaisesRegex(UnsupportedVersion, "layout version 3; this ant-gdb reads version 1, 2"):
            self.root()

    def test_truncated_field_table(self):
        self.image.write_word(self.image.root + 24, 200, 4)
        with self.assertRaisesRegex(DamagedRoot, "field table \\(200 entries .*does not fit"):
            self.root()

    def test_missing_field(self):
        table = self.image.read(self.image.root + H.FIELDS_AT, 32 * 80)
        at = table.index(b"node.size\0")
        self.image.write(self.image.root + H.FIELDS_AT + at, b"node.sise\0")
        with self.assertRaisesRegex(DamagedRoot, "lacks node.size"):
            self.root()

    def test_node_field_moved(self):
        table = self.image.read(self.image.root + H.FIELDS_AT, 32 * 80)
        at = table.index(b"node.requested\0")
        self.image.write_word(self.image.root + H.FIELDS_AT + at + 24, 40, 4)
        with self.assertRaisesRegex(DamagedRoot, "node.requested is at offset 40 size 8, but layout "
                                                 "version 1 puts it at offset 24"):
            self.root()

    def test_field_outside_its_struct(self):
        table = self.image.read(self.image.root + H.FIELDS_AT, 32 * 80)
        at = table.index(b"region.arena\0")
        self.image.write_word(self.image.root + H.FIELDS_AT + at + 24, 62, 4)
        with self.assertRaisesRegex(DamagedRoot, "region.arena \\(offset 62, size 4\\) lies outside"):
            self.root()

    def test_unreadable_root(self):
        with self.assertRaisesRegex(NoHeap, "no Ant root at 0x1000"):
            L.read_root(self.image.reader(), 0x1000)


class SentinelTest(unittest.TestCase):
    def test_head_matches_the_c_definition(self):
        import random

        rng = random.Random(5)
        for _ in range(200):
            data = bytes(rng.randrange(256) for _ in range(64))
            node = rng.randrange(1 << 64) & ~15
            secret = rng.randrange(1 << 64)
            self.assertEqual(L.head_sentinel(secret, node, data), reference_head(secret, node, data))

    def test_tail_has_no_zero_byte(self):
        for node in range(0x1000, 0x2000, 16):
            self.assertNotIn(0, L.tail_sentinel(H.SECRET, node).to_bytes(8, "little"))


if __name__ == "__main__":
    unittest.main()
