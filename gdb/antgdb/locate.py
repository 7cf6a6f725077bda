"""Find the Ant root: at the addresses the symbols give, else by scanning the
target's writable memory for the root's magic and confirming it by root.self."""
from .errors import AntError, NoHeap, Unreadable
from .layout import ROOT_MAGIC, read_root
from .memory import read_upto

SCAN_CHUNK = 1 << 20
_MAGIC = ROOT_MAGIC.to_bytes(8, "little")
_SELF_OFFSET = 16


def scan(reader):
    """Addresses in writable memory holding the root magic whose root.self
    points back at them, lowest first."""
    ranges = reader.ranges()
    if ranges is None:
        raise NoHeap("no ant_root symbol, and the memory map of this target is "
                     "unknown, so the heap cannot be found by scanning")
    found = []
    for start, end, writable in ranges:
        if not writable:
            continue
        at = start
        while at < end:
            try:
                data = read_upto(reader, at, min(SCAN_CHUNK, end - at), 1)
            except Unreadable:
                break
            index = data.find(_MAGIC)
            while index >= 0:
                address = at + index
                if address % 8 == 0 and _points_back(reader, data, index, address):
                    found.append(address)
                index = data.find(_MAGIC, index + 1)
            # Overlap the next chunk so that a magic cut in two is still seen.
            at += max(1, len(data) - len(_MAGIC) + 1)
    return sorted(set(found))


def _points_back(reader, data, index, address):
    raw = data[index + _SELF_OFFSET:index + _SELF_OFFSET + 8]
    if len(raw) < 8:
        try:
            raw = reader.read(address + _SELF_OFFSET, 8)
        except Unreadable:
            return False
    return int.from_bytes(raw, "little") == address


def locate(reader, candidates=()):
    """The validated roots (layout.Layout), from the candidate addresses the
    symbols gave, else from a scan. Raises the most telling error when none
    is usable: a root that a symbol names but that is damaged, of another
    version or not set up yet is reported as such, never skipped."""
    if candidates:
        layouts, errors = _read_all(reader, candidates)
        if layouts:
            return layouts
        raise errors[0]
    found = scan(reader)
    if not found:
        raise NoHeap("no Ant heap found: no ant_root symbol, and no root magic "
                     "(\"ANT-ROOT\") in the target's writable memory; is the program "
                     "linked with libant or libantmalloc?")
    layouts, errors = _read_all(reader, found)
    if layouts:
        return layouts
    raise errors[0]


def _read_all(reader, addresses):
    layouts, errors = [], []
    for address in dict.fromkeys(addresses):
        try:
            layouts.append(read_root(reader, address))
        except AntError as error:
            errors.append(error)
    return layouts, errors
