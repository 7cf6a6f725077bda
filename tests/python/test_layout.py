"""The root and its field table: decoded by name, validated, refused with a
sentence when damaged; the sentinel formulas and the constants held to
<ant/layout.h>."""
import os
import re
import subprocess
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import layout as L
from antgdb.errors import DamagedRoot, NoHeap, UnsupportedVersion

LAYOUT_H = os.path.join(os.path.dirname(gdbpath.GDB_DIR), "allocator", "include", "ant",
                        "layout.h")
ANT_H = os.path.join(os.path.dirname(LAYOUT_H), "ant.h")

# Lines of tests/python/layout_vectors.c's output, as the inline functions of
# <ant/layout.h> computed them: fixed here so that a change of either side's
# formula fails even where that program was not built.
VECTORS = """
check 1 10 0 0 0 0 9e64e5fc
check_as 1 10 0 0 0 0 9e64e5fc
tail 1 10 81af155173f33d65
freed 1 10 0 0 98570cb6
check 3c6ef372fe94f82b 7ffff0000050 5000000040 700000018 1000000401136 1234567800008055 4497a3e3
check_as 3c6ef372fe94f82b 7ffff0000050 5000000040 700000018 1000000401136 f0000100 c51fca14
tail 3c6ef372fe94f82b 7ffff0000050 5bafaddb3321f717
freed 3c6ef372fe94f82b 7ffff0000050 1000000401136 18 e5bff6d5
fields 700000018 1000000401136 100000007 401136
check 1 fffffffffffffff0 a0 3d4d51c2d82b14b1 ffff7fffffffffff ffffffffffff0146 6a7f97a8
check_as 1 fffffffffffffff0 a0 3d4d51c2d82b14b1 ffff7fffffffffff fffffe02 a69f451a
tail 1 fffffffffffffff0 bbbfdf218ba3bbc5
freed 1 fffffffffffffff0 ffff7fffffffffff d82b14b1 3cba49da
fields 3d4d51c2d82b14b1 ffff7fffffffffff ffff3d4d51c2 7fffffffffff
check 4a16f363d77da119 8b95656ceff166e0 bceed063758f923e 13217c6872071c5f 7e9699028cfdb98d 2417a765c8ae004c 3a955bc4
check_as 4a16f363d77da119 8b95656ceff166e0 bceed063758f923e 13217c6872071c5f 7e9699028cfdb98d e591b0cc 4bcf1b94
tail 4a16f363d77da119 8b95656ceff166e0 97af137b2963036d
freed 4a16f363d77da119 8b95656ceff166e0 7e9699028cfdb98d dd43c684 bb9e28fd
check 67899b9d8aca9fc7 6caa944263fe3fa0 cba874fb04209f73 daae8172b5a9384f a2b7ce82b5086886 9288c228e0738a53 afe98373
check_as 67899b9d8aca9fc7 6caa944263fe3fa0 cba874fb04209f73 daae8172b5a9384f a2b7ce82b5086886 f4fd7b7f 35947c6a
tail 67899b9d8aca9fc7 6caa944263fe3fa0 fff5e18d15c90d73
freed 67899b9d8aca9fc7 6caa944263fe3fa0 a2b7ce82b5086886 252161b6 cdf3d267
fields daae8172b5a9384f a2b7ce82b5086886 a2b7daae8172 ce82b5086886
"""


def computed(line):
    """(what the Python formula gives, what the line says) for one line."""
    kind, *values = line.split()
    values = [int(value, 16) for value in values]
    if kind == "check":
        secret, node, w0, w1, w2, w3, expected = values
        return L.head_check(secret, node, L.NODE_WORDS.pack(w0, w1, w2, w3)), expected
    if kind == "check_as":
        secret, node, w0, w1, w2, mark, expected = values
        return L.head_check_as(secret, node, w0, w1, w2, mark), expected
    if kind == "tail":
        secret, node, expected = values
        return L.tail_sentinel(secret, node), expected
    if kind == "freed":
        secret, node, site, serial, expected = values
        return L.freed_check(secret, node, site, serial), expected
    w1, w2, serial, site = values
    words = (0, w1, w2, 0)
    return (L.node_serial(words), L.node_site(words)), (serial, site)


def header_defines():
    """{name: value} of the #defines of <ant/layout.h> that are a number."""
    with open(LAYOUT_H) as f:
        text = f.read()
    return {name: int(value, 0) for name, value in re.findall(
        r"#define (ANT_\w+) \(?((?:0x[0-9a-fA-F]+|\d+))(?:u|ull)?\)?\s", text)}


class RootTest(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, self.big = H.sample()

    def root(self):
        return L.read_root(self.image.reader(), self.image.root)

    def entry(self, name):
        """The address of a field table entry's name."""
        table = self.image.read(self.image.root + H.FIELDS_AT, 32 * len(H.FIELDS))
        return self.image.root + H.FIELDS_AT + table.index(name.encode() + b"\0")

    def test_fields_are_found_by_name(self):
        root = self.root()
        self.assertEqual(root.version, 4)
        self.assertEqual(root.fields["node.size"], (0, 4))
        self.assertEqual(root.fields["node.check"], (28, 4))
        self.assertEqual(root.fields["freed.check"], (12, 4))
        self.assertEqual(root.fields["arena.wilderness_bytes"], (24 + 8 * 5, 8))
        self.assertEqual(root.fields["region"], (0, 80))
        self.assertEqual((root.secret, root.poison, root.poison_offset), (H.SECRET, 0xA5, 32))
        self.assertEqual(root.arena_addresses, [H.ARENAS_AT])
        region = root.decode("region", self.image.read(self.big.region.address, 80))
        self.assertEqual((region["kind"], region["big_size"], region["big_requested"]),
                         (L.REGION_BIG, 100048, 100000))

    def test_last_error_is_none_until_the_allocator_reports(self):
        self.assertIsNone(self.root().last_error())
        self.image.last_error = {"kind": 7, "count": 2, "mem": 0x1040, "message": "ant: double free"}
        self.image.build()
        error = self.root().last_error()
        self.assertEqual(error["kind_name"], "double-free")
        self.assertEqual(error["count"], 2)
        self.assertEqual(error["message"], "ant: double free")
        self.assertEqual(error["mem"], 0x1040)

    def test_every_kind_of_last_error_is_named(self):
        with open(ANT_H) as f:
            enum = dict(re.findall(r"ANT_PROBLEM_(\w+) = (\d+)", f.read()))
        enum.pop("NONE")
        for symbol, value in enum.items():
            self.assertEqual(L.PROBLEM_NAMES[int(value)], symbol.lower().replace("_", "-"))

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

    def test_unknown_versions(self):
        for version in (3, 7):
            self.image.write_word(self.image.root + 8, version, 4)
            with self.assertRaisesRegex(UnsupportedVersion, "layout version %d; this ant-gdb "
                                                            "reads version 4, 5, 6 only" % version):
                self.root()

    def test_truncated_field_table(self):
        self.image.write_word(self.image.root + 24, 200, 4)
        with self.assertRaisesRegex(DamagedRoot, "field table \\(200 entries .*does not fit"):
            self.root()

    def test_missing_field(self):
        self.image.write(self.entry("node.below"), b"node.belo\0")
        with self.assertRaisesRegex(DamagedRoot, "lacks node.below"):
            self.root()

    def test_node_field_moved(self):
        self.image.write_word(self.entry("node.requested") + 24, 12, 4)
        with self.assertRaisesRegex(DamagedRoot, "node.requested is at offset 12 size 4, but "
                                                 "layout version 4 puts it at offset 8"):
            self.root()

    def test_freed_field_resized(self):
        self.image.write_word(self.entry("freed.serial") + 28, 8, 4)
        with self.assertRaisesRegex(DamagedRoot, "freed.serial is at offset 8 size 8"):
            self.root()

    def test_fixed_sizes(self):
        self.image.write_word(self.image.root + 48, 80, 4)
        with self.assertRaisesRegex(DamagedRoot, "root.min_block is 80, layout version 4 has 64"):
            self.root()

    def test_field_outside_its_struct(self):
        self.image.write_word(self.entry("region.arena") + 24, 78, 4)
        with self.assertRaisesRegex(DamagedRoot, "region.arena \\(offset 78, size 4\\) lies outside"):
            self.root()

    def test_unreadable_root(self):
        with self.assertRaisesRegex(NoHeap, "no Ant root at 0x1000"):
            L.read_root(self.image.reader(), 0x1000)


class SentinelTest(unittest.TestCase):
    def test_fixed_vectors_from_the_c(self):
        for line in VECTORS.strip().splitlines():
            with self.subTest(line=line):
                found, expected = computed(line)
                self.assertEqual(found, expected)

    def test_every_vector_the_c_computes(self):
        program = os.environ.get("ANT_LAYOUT_VECTORS")
        if not program:
            self.skipTest("ANT_LAYOUT_VECTORS names no build of tests/python/layout_vectors.c")
        lines = subprocess.run([program], stdout=subprocess.PIPE, check=True,
                               universal_newlines=True).stdout.splitlines()
        self.assertGreater(len(lines), 1000)
        for line in lines:
            found, expected = computed(line)
            self.assertEqual(found, expected, line)

    def test_check_sees_any_one_word_change(self):
        import random

        rng = random.Random(9)
        secret, node = 0x3C6EF372FE94F82B, 0x7FFFF0000050
        words = [rng.randrange(1 << 64) for _ in range(3)] + [0x1234]
        check = L.head_check_as(secret, node, *words)
        for index in range(4):
            for _ in range(50):
                changed = list(words)
                changed[index] ^= rng.randrange(1, 1 << (32 if index == 3 else 64))
                self.assertNotEqual(L.head_check_as(secret, node, *changed), check)
        # the same words elsewhere, or under another secret
        self.assertNotEqual(L.head_check_as(secret, node + 16, *words), check)
        self.assertNotEqual(L.head_check_as(secret ^ 2, node, *words), check)

    def test_tail_has_no_zero_byte(self):
        for node in range(0x1000, 0x2000, 16):
            self.assertNotIn(0, L.tail_sentinel(H.SECRET, node).to_bytes(8, "little"))


class ConstantsTest(unittest.TestCase):
    """Every constant layout.py copies from <ant/layout.h> is the header's."""

    def test_constants_are_the_headers(self):
        defines = header_defines()
        pairs = {
            "ANT_ROOT_MAGIC": L.ROOT_MAGIC, "ANT_REGION_MAGIC": L.REGION_MAGIC,
            "ANT_STATE_USED": L.STATE_USED, "ANT_STATE_FREE": L.STATE_FREE,
            "ANT_STATE_CACHED": L.STATE_CACHED, "ANT_REGION_HEAP": L.REGION_HEAP,
            "ANT_REGION_BIG": L.REGION_BIG, "ANT_FLAG_BIG": L.FLAG_BIG,
            "ANT_FLAG_TURNS": L.FLAG_TURNS, "ANT_FLAG_BUSY": L.FLAG_BUSY,
            "ANT_CACHE_MAGIC": L.CACHE_MAGIC, "ANT_NODE_SIZE": L.NODE_SIZE,
            "ANT_ALIGN": L.ALIGNMENT, "ANT_TAIL_SIZE": L.TAIL_SIZE,
            "ANT_FREE_LINKS_SIZE": L.FREE_LINKS_SIZE, "ANT_FREED_SIZE": L.FREED_SIZE,
            "ANT_SITE_MASK": L.SITE_MASK, "ANT_TAIL_MULTIPLIER": L.TAIL_MULTIPLIER,
            "ANT_TAIL_NONZERO": L.TAIL_NONZERO, "ANT_REGION_HEADER_SIZE": H.REGION_HEADER,
            "ANT_CACHE_BINS": H.CACHE_BINS, "ANT_JOURNAL_WORDS": H.JOURNAL_WORDS,
        }
        pairs.update({"ANT_CHECK_ADD%d" % i: add for i, add in enumerate(L.CHECK_ADDS)})
        pairs.update({"ANT_FREED_ADD%d" % i: add for i, add in enumerate(L.FREED_ADDS)})
        for name, value in pairs.items():
            self.assertEqual(defines[name], value, name)
        for state, value in L.CACHE_STATES.items():
            self.assertEqual(defines["ANT_CACHE_" + value.upper()], state)
        self.assertIn(defines["ANT_LAYOUT_VERSION"], L.SUPPORTED_VERSIONS)
        self.assertEqual(L.POISON_OFFSET, L.FREE_LINKS_SIZE + L.FREED_SIZE)
        self.assertEqual(L.MIN_BLOCK, L.NODE_SIZE + L.POISON_OFFSET)

    def test_node_offsets_are_the_headers(self):
        with open(LAYOUT_H) as f:
            asserted = dict(re.findall(r"offsetof\(struct ant_node, (\w+)\) == (\d+)", f.read()))
        asserted.pop("mark")
        self.assertEqual({name: int(offset) for name, offset in asserted.items()},
                         {name[5:]: offset for name, (offset, _) in L.NODE.items()
                          if name != "node"})


if __name__ == "__main__":
    unittest.main()
