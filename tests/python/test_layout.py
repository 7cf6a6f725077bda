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


# (secret, node address, words 0..6, head) as ant_head_sentinel() of
# <ant/layout.h> version 3 computed them in C.
HEAD_V3_FROM_C = (
    (0x225ec07a99506761, 0x55fa89677080, (0x63cbe1e459320dd7, 0x044c3cd7f43c661c, 0xe6984080bab12a02, 0x953aeb70673e29cb, 0x73d33b666a1e21da, 0x3fdabe86cbbeaa11, 0x77cbc4a133c2d0f6), 0xf7a3a1b66838c1b4),
    (0x538c6a0cda7326c7, 0x55fa896770c0, (0x69c3a27688795369, 0x1a82e79b05b5faeb, 0xf5ba4eb728dd632c, 0xeb0354df4a45b34e, 0xdf0f9924a3016430, 0xdd2f9b2d0b5f15e6, 0x8c5c906b1aeb85f8), 0xaa40367709100bf8),
    (0x13a16201310d9abb, 0x55fa89677100, (0x9e7eb00e4c9c9e35, 0xc1dfda7a5eb236f8, 0xacb06798004bbc2f, 0x1b5051c62d0332cd, 0x582d6717a91d279d, 0x6c7c5b1c60b890ff, 0xe70cd6df5d49ce30), 0x7d40429b5622b70a),
    (0xe6df52ffdf834b47, 0x55fa89677140, (0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000), 0xed8b23a4476849df),
)


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
        self.image.write_word(self.image.root + 8, 5, 4)
        with self.assertRaisesRegex(UnsupportedVersion, "layout version 5; this ant-gdb reads version 1, 2, 3, 4"):
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
            for version in (1, 2):
                self.assertEqual(L.head_sentinel(secret, node, data, version),
                                 reference_head(secret, node, data))

    def test_head_of_version_3_matches_the_c_allocator(self):
        for secret, node, words, head in HEAD_V3_FROM_C:
            data = b"".join(word.to_bytes(8, "little") for word in words) + bytes(8)
            self.assertEqual(L.head_sentinel(secret, node, data, 3), head)

    def test_head_of_version_3_sees_any_one_word_change(self):
        import random

        rng = random.Random(9)
        secret, node, words, head = HEAD_V3_FROM_C[0]
        for index in range(7):
            for _ in range(50):
                changed = list(words)
                changed[index] ^= rng.randrange(1, 1 << 64)
                data = b"".join(word.to_bytes(8, "little") for word in changed)
                self.assertNotEqual(L.head_sentinel(secret, node, data, 3), head)
        # the same words elsewhere, or under another secret
        data = b"".join(word.to_bytes(8, "little") for word in words)
        self.assertNotEqual(L.head_sentinel(secret, node + 16, data, 3), head)
        self.assertNotEqual(L.head_sentinel(secret ^ 2, node, data, 3), head)

    def test_tail_has_no_zero_byte(self):
        for node in range(0x1000, 0x2000, 16):
            self.assertNotIn(0, L.tail_sentinel(H.SECRET, node).to_bytes(8, "little"))


if __name__ == "__main__":
    unittest.main()
