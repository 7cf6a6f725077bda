"""Readers of target memory: read(address, n) -> bytes, or raise Unreadable.

A reader may also know its readable ranges (ranges() -> [(start, end,
writable)], sorted), which lets the walk skip holes exactly and the root be
found by scanning. The gdb-backed reader lives in commands.py, the only
module that imports gdb.
"""
import bisect
import collections
import os
import struct

from .errors import AntError, Unreadable

PAGE = 4096
WINDOW = 1 << 20  # how much of the heap one read takes: few reads, bounded memory


class Reader:
    """The interface; `ranges` returns None when the memory map is unknown."""

    def read(self, address, size):
        raise NotImplementedError

    def ranges(self):
        return None


class SegmentReader(Reader):
    """Memory made of segments, each (start, end, writable, fetch) where
    fetch(offset, size) returns bytes from the segment's start + offset."""

    def __init__(self, segments):
        self._segments = sorted(segments, key=lambda segment: segment[0])
        self._starts = [segment[0] for segment in self._segments]

    def ranges(self):
        return [(start, end, writable) for start, end, writable, _ in self._segments]

    def read(self, address, size):
        if size < 0 or address < 0:
            raise Unreadable(address, size)
        pieces = []
        at, end = address, address + size
        index = bisect.bisect_right(self._starts, at) - 1
        while at < end:
            if index < 0 or index >= len(self._segments):
                raise Unreadable(address, size, "0x%x is not mapped" % at)
            start, stop, _, fetch = self._segments[index]
            if not start <= at < stop:
                raise Unreadable(address, size, "0x%x is not mapped" % at)
            count = min(end, stop) - at
            pieces.append(fetch(at - start, count))
            at += count
            index += 1
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class BytesReader(SegmentReader):
    """Plain bytes at given addresses: [(address, data)] or
    [(address, data, writable)]."""

    def __init__(self, segments):
        parts = []
        for segment in segments:
            address, data = segment[0], bytes(segment[1])
            writable = segment[2] if len(segment) > 2 else True
            parts.append((address, address + len(data), writable, _slicer(data)))
        super().__init__(parts)


def _slicer(data):
    return lambda offset, size: data[offset:offset + size]


class CoreReader(SegmentReader):
    """An ELF core file's PT_LOAD segments, read straight from the file.

    Bytes past a segment's p_filesz were not written to the core (the kernel
    and gcore leave out file-backed pages), so they are unreadable rather
    than zero: guessing zeros would turn "not in the core" into "corrupt".
    """

    def __init__(self, path):
        self.path = path
        self._file = open(path, "rb")
        try:
            segments = _load_segments(path, self._file)
        except Exception:
            self._file.close()
            raise
        fd = self._file.fileno()
        parts = [
            (vaddr, vaddr + filesz, writable, _preader(fd, path, offset))
            for vaddr, filesz, offset, writable in segments
        ]
        super().__init__(parts)

    def close(self):
        self._file.close()


def _preader(fd, path, base):
    def fetch(offset, size):
        data = os.pread(fd, size, base + offset)
        if len(data) != size:
            raise Unreadable(base + offset, size, "%s is truncated" % path)
        return data

    return fetch


_ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
_SECTION_INFO = struct.Struct("<I")
_PT_LOAD = 1
_PF_W = 2
_ET_CORE = 4
_PN_XNUM = 0xFFFF


def _load_segments(path, file):
    """[(vaddr, filesz, file offset, writable)] of the core's PT_LOAD
    segments that have bytes in the file."""
    header = file.read(_ELF_HEADER.size)
    if len(header) < _ELF_HEADER.size or header[:4] != b"\x7fELF":
        raise AntError("%s is not an ELF file" % path)
    if header[4] != 2 or header[5] != 1:
        raise AntError("%s is not a 64-bit little-endian ELF file" % path)
    fields = _ELF_HEADER.unpack(header)
    kind, phoff, shoff = fields[1], fields[5], fields[6]
    phentsize, phnum = fields[9], fields[10]
    if kind != _ET_CORE:
        raise AntError("%s is an ELF file but not a core file" % path)
    if phnum == _PN_XNUM:
        # More than 0xfffe segments: the real count is section 0's sh_info.
        raw = os.pread(file.fileno(), _SECTION_INFO.size, shoff + 44)
        phnum = _SECTION_INFO.unpack(raw)[0]
    if phentsize < _PROGRAM_HEADER.size:
        raise AntError("%s: program headers of %d bytes are too short" % (path, phentsize))
    table = os.pread(file.fileno(), phentsize * phnum, phoff)
    if len(table) < phentsize * phnum:
        raise AntError("%s is truncated: its program headers are cut off" % path)
    segments = []
    for index in range(phnum):
        kind, flags, offset, vaddr, _, filesz, _, _ = _PROGRAM_HEADER.unpack_from(
            table, index * phentsize
        )
        if kind == _PT_LOAD and filesz:
            segments.append((vaddr, filesz, offset, bool(flags & _PF_W)))
    return segments


class ProcReader(Reader):
    """A live process through /proc/PID/mem (the process must be stopped, as
    it is under gdb, for a consistent picture)."""

    def __init__(self, pid):
        self.pid = pid
        self._fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)

    def read(self, address, size):
        try:
            data = os.pread(self._fd, size, address)
        except (OSError, OverflowError, ValueError) as error:
            raise Unreadable(address, size, str(error)) from None
        if len(data) != size:
            raise Unreadable(address, size, "short read")
        return data

    def ranges(self):
        ranges = []
        try:
            with open("/proc/%d/maps" % self.pid) as maps:
                for line in maps:
                    span, perms = line.split()[:2]
                    start, end = (int(part, 16) for part in span.split("-"))
                    if perms[0] == "r":
                        ranges.append((start, end, perms[1] == "w"))
        except OSError:
            return None
        return ranges

    def close(self):
        os.close(self._fd)


class PatchedReader(Reader):
    """Reads `inner` with some 8-byte words replaced: {address: 8 bytes},
    each address a multiple of 8. Used to read the heap as it was before a
    change under way (inflight.py); more words may be added until the
    bytes they replace are first read."""

    def __init__(self, inner, words=None):
        self.inner = inner
        self._words = dict(words or {})
        self._sorted = sorted(self._words)

    def add(self, words):
        self._words.update(words)
        self._sorted = sorted(self._words)

    def ranges(self):
        return self.inner.ranges()

    def read(self, address, size):
        data = self.inner.read(address, size)
        if not self._sorted:
            return data
        lo = bisect.bisect_left(self._sorted, address - 7)
        hi = bisect.bisect_left(self._sorted, address + size)
        if lo == hi:
            return data
        out = bytearray(data)
        for word in self._sorted[lo:hi]:
            old = self._words[word]
            start, stop = max(word, address), min(word + 8, address + size)
            out[start - address:stop - address] = old[start - word:stop - word]
        return bytes(out)


class CachedReader(Reader):
    """Serves small reads from a bounded cache of large aligned chunks, so
    that many field-sized reads cost one read of the target; reads at least
    a chunk long go straight through."""

    def __init__(self, inner, chunk=1 << 20, chunks=32):
        self.inner = inner
        self._chunk = chunk
        self._limit = chunks
        self._cache = collections.OrderedDict()
        self._ranges = inner.ranges()

    def ranges(self):
        return self._ranges

    def read(self, address, size):
        if size < self._chunk:
            base = address - address % self._chunk
            for start, data in self._pieces(base):
                offset = address - start
                if 0 <= offset and offset + size <= len(data):
                    return data[offset:offset + size]
        return self.inner.read(address, size)

    def _pieces(self, base):
        pieces = self._cache.get(base)
        if pieces is not None:
            self._cache.move_to_end(base)
            return pieces
        pieces = []
        for start, end in self._spans(base):
            try:
                pieces.append((start, self.inner.read(start, end - start)))
            except Unreadable:
                pass
        self._cache[base] = pieces
        if len(self._cache) > self._limit:
            self._cache.popitem(last=False)
        return pieces

    def _spans(self, base):
        end = base + self._chunk
        if self._ranges is None:
            return [(base, end)]
        return [
            (max(start, base), min(stop, end))
            for start, stop, _ in self._ranges
            if start < end and stop > base
        ]


def read_upto(reader, address, size, minimum):
    """Reads as much of [address, address + size) as is readable from its
    start, at least `minimum` bytes, else raises Unreadable."""
    try:
        return reader.read(address, size)
    except Unreadable:
        pass
    ranges = reader.ranges()
    if ranges is not None:
        for start, end, _ in ranges:
            if start <= address < end:
                return reader.read(address, min(size, end - address))
        raise Unreadable(address, minimum, "0x%x is not mapped" % address)
    while size > minimum:
        size = max(minimum, size // 2)
        try:
            return reader.read(address, size)
        except Unreadable:
            continue
    raise Unreadable(address, minimum)


def next_readable(reader, address, end, step=PAGE, probes=1 << 14):
    """The lowest readable address in (address, end), stepping by pages when
    the memory map is unknown; None when there is none."""
    ranges = reader.ranges()
    if ranges is not None:
        for start, stop, _ in ranges:
            if stop > address + 1 and start < end:
                candidate = max(start, address + 1)
                if candidate < end:
                    return candidate
        return None
    candidate = (address // step + 1) * step
    for _ in range(probes):
        if candidate >= end:
            return None
        try:
            reader.read(candidate, 1)
            return candidate
        except Unreadable:
            candidate += step
    return None
