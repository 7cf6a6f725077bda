"""Finding the root by symbol candidates or by scanning for its magic."""
import os
import tempfile
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import locate
from antgdb.errors import DamagedRoot, NoHeap
from antgdb.layout import ROOT_MAGIC
from antgdb.memory import BytesReader, CachedReader, CoreReader, Reader


class ScanTest(unittest.TestCase):
    def setUp(self):
        self.image, _, _ = H.sample()

    def test_scan_finds_the_root(self):
        self.assertEqual(locate.scan(self.image.reader()), [H.ROOT_AT])
        self.assertEqual([layout.address for layout in locate.locate(self.image.reader())], [H.ROOT_AT])

    def test_decoys_are_ignored(self):
        decoy = bytearray(0x3000)
        magic = ROOT_MAGIC.to_bytes(8, "little")
        decoy[0x100:0x108] = magic  # the magic alone
        decoy[0x208:0x208 + 24] = self.image.read(H.ROOT_AT, 24)  # a copy: self points away
        decoy[0x301:0x309] = magic  # misaligned
        decoy[0x301 + 16:0x309 + 16] = (0x900301).to_bytes(8, "little")
        segments = [(address, data) for address, data in self.image.segments.items()]
        reader = BytesReader(segments + [(0x900000, decoy), (0xA00000, magic, False)])
        self.assertEqual(locate.scan(reader), [H.ROOT_AT])

    def test_magic_across_a_chunk_boundary(self):
        data = bytearray(3 * locate.SCAN_CHUNK)
        at = locate.SCAN_CHUNK - 4
        at -= at % 8
        address = 0x10000000 + at
        data[at:at + 8] = ROOT_MAGIC.to_bytes(8, "little")
        data[at + 16:at + 24] = address.to_bytes(8, "little")
        self.assertEqual(locate.scan(BytesReader([(0x10000000, data)])), [address])

    def test_no_heap(self):
        reader = BytesReader([(0x1000, bytes(0x1000))])
        with self.assertRaisesRegex(NoHeap, "no Ant heap found"):
            locate.locate(reader)

    def test_unknown_memory_map(self):
        class Blind(Reader):
            def read(self, address, size):
                return bytes(size)

        with self.assertRaisesRegex(NoHeap, "memory map of this target is unknown"):
            locate.locate(Blind())

    def test_symbol_candidates_win_and_damage_is_told(self):
        reader = self.image.reader()
        self.assertEqual(locate.locate(reader, [H.ROOT_AT])[0].address, H.ROOT_AT)
        self.image.write_word(H.ROOT_AT + 16, 0)
        with self.assertRaisesRegex(DamagedRoot, "root.self is 0x0"):
            locate.locate(self.image.reader(), [H.ROOT_AT])

    def test_an_unstarted_heap_is_skipped_for_a_started_one(self):
        other = H.Image(root=0x555555570000)
        other.build()
        other.write_word(other.root + 24, 0, 4)  # field_count 0: never started
        segments = list(self.image.segments.items()) + [(other.root, other.segments[other.root])]
        layouts = locate.locate(BytesReader(segments))
        self.assertEqual([layout.address for layout in layouts], [H.ROOT_AT])


class CoreFileTest(unittest.TestCase):
    """The whole path gdb takes on a core: ELF segments, scan, walk."""

    def test_heap_from_a_core_file(self):
        image, blocks, big = H.sample()
        image.write(blocks[0].mem + 24, b"\0")
        handle, path = tempfile.mkstemp(suffix=".core")
        os.close(handle)
        try:
            image.write_core(path)
            core = CoreReader(path)
            try:
                reader = CachedReader(core)
                layout = locate.locate(reader)[0]
                from antgdb import heap

                walked = heap.walk(reader, layout)
                self.assertEqual(walked.summary()["blocks"], 7)
                self.assertEqual([(p.kind, p.mem) for p in walked.problems],
                                 [("overflow", blocks[0].mem)])
            finally:
                core.close()
        finally:
            os.unlink(path)


if __name__ == "__main__":
    unittest.main()
