"""The readers: plain segments, ELF core files, /proc/PID/mem, the cache."""
import ctypes
import os
import tempfile
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb.errors import AntError, Unreadable
from antgdb.memory import (
    BytesReader, CachedReader, CoreReader, ProcReader, next_readable, read_upto,
)


class BytesReaderTest(unittest.TestCase):
    def setUp(self):
        self.reader = BytesReader([(0x1000, b"a" * 0x100), (0x1100, b"b" * 0x100),
                                   (0x3000, b"c" * 0x10, False)])

    def test_reads_across_touching_segments(self):
        self.assertEqual(self.reader.read(0x10FE, 4), b"aabb")

    def test_gap_is_unreadable(self):
        with self.assertRaises(Unreadable) as caught:
            self.reader.read(0x11F0, 0x20)
        self.assertIn("0x1200 is not mapped", str(caught.exception))
        with self.assertRaises(Unreadable):
            self.reader.read(0x500, 1)

    def test_ranges(self):
        self.assertEqual(self.reader.ranges(), [(0x1000, 0x1100, True), (0x1100, 0x1200, True),
                                                (0x3000, 0x3010, False)])

    def test_read_upto_stops_at_the_hole(self):
        self.assertEqual(len(read_upto(self.reader, 0x1180, 0x1000, 1)), 0x80)
        with self.assertRaises(Unreadable):
            read_upto(self.reader, 0x2000, 0x10, 1)

    def test_next_readable(self):
        self.assertEqual(next_readable(self.reader, 0x1200, 0x4000), 0x3000)
        self.assertIsNone(next_readable(self.reader, 0x3010, 0x4000))


class CoreReaderTest(unittest.TestCase):
    def setUp(self):
        handle, self.path = tempfile.mkstemp(suffix=".core")
        os.close(handle)

    def tearDown(self):
        os.unlink(self.path)

    def test_segments_come_from_the_file(self):
        H.write_core(self.path, [(0x400000, b"x" * 4096), (0x401000, b"y" * 8192)],
                     extra=[(0x600000, 0, 4096, b""), (0x700000, 16, 4096, b"z" * 16)])
        reader = CoreReader(self.path)
        try:
            self.assertEqual(reader.read(0x400FFE, 4), b"xxyy")
            self.assertEqual(reader.read(0x700000, 16), b"z" * 16)
            # Not dumped: a segment with no bytes in the file, and the part of
            # one past its p_filesz.
            with self.assertRaises(Unreadable):
                reader.read(0x600000, 1)
            with self.assertRaises(Unreadable):
                reader.read(0x700010, 1)
            self.assertEqual([start for start, _, _ in reader.ranges()],
                             [0x400000, 0x401000, 0x700000])
        finally:
            reader.close()

    def test_not_a_core(self):
        with open(self.path, "wb") as out:
            out.write(b"hello, world")
        with self.assertRaisesRegex(AntError, "not an ELF file"):
            CoreReader(self.path)
        H.write_core(self.path, [])
        with open(self.path, "r+b") as out:
            out.seek(16)
            out.write(b"\x02\x00")  # ET_EXEC
        with self.assertRaisesRegex(AntError, "not a core file"):
            CoreReader(self.path)

    def test_truncated_core(self):
        H.write_core(self.path, [(0x400000, b"x" * 4096)])
        os.truncate(self.path, 64 + 56 + 10)
        with self.assertRaisesRegex(AntError, "truncated"):
            CoreReader(self.path)


class ProcReaderTest(unittest.TestCase):
    def test_reads_this_process(self):
        buffer = ctypes.create_string_buffer(b"ant heap under test")
        try:
            reader = ProcReader(os.getpid())
        except OSError as error:
            self.skipTest("no /proc/PID/mem here: %s" % error)
        try:
            address = ctypes.addressof(buffer)
            self.assertEqual(reader.read(address, 8), b"ant heap")
            self.assertTrue(any(start <= address < end and writable
                                for start, end, writable in reader.ranges()))
            with self.assertRaises(Unreadable):
                reader.read(0x10, 8)
        finally:
            reader.close()


class CountingReader(BytesReader):
    def __init__(self, segments):
        super().__init__(segments)
        self.reads = 0

    def read(self, address, size):
        self.reads += 1
        return super().read(address, size)


class CachedReaderTest(unittest.TestCase):
    def test_small_reads_share_one_chunk(self):
        inner = CountingReader([(0x10000, bytes(range(256)) * 256)])
        reader = CachedReader(inner, chunk=4096, chunks=2)
        for offset in range(0, 4096, 64):
            self.assertEqual(reader.read(0x10000 + offset, 8), inner.read(0x10000 + offset, 8))
        self.assertEqual(inner.reads, 1 + 64)

    def test_cache_stays_bounded(self):
        inner = CountingReader([(0x10000, bytes(0x10000))])
        reader = CachedReader(inner, chunk=4096, chunks=2)
        for offset in range(0, 0x10000, 4096):
            reader.read(0x10000 + offset, 8)
        self.assertLessEqual(len(reader._cache), 2)

    def test_chunk_cut_by_a_hole(self):
        inner = BytesReader([(0x10800, b"q" * 0x100)])
        reader = CachedReader(inner, chunk=4096)
        self.assertEqual(reader.read(0x10810, 4), b"qqqq")
        with self.assertRaises(Unreadable):
            reader.read(0x108F0, 0x20)
        with self.assertRaises(Unreadable):
            reader.read(0x10000, 1)


if __name__ == "__main__":
    unittest.main()
