"""Decode the root of an Ant heap and its field table (<ant/layout.h>).

The root says where every field of the root, the arena, the region and the
node lives. This module looks each one up by name, checks the table against
what the layout version promises, and says exactly what is wrong when the
root cannot be trusted: every later step believes what it returns.
"""
import struct

from .errors import DamagedRoot, NoHeap, Unreadable, UnsupportedVersion

ROOT_MAGIC = 0x544F4F522D544E41  # "ANT-ROOT"
REGION_MAGIC = 0x4E4745522D544E41  # "ANT-REGN"
STATE_USED = 0x44455355  # "USED"
STATE_FREE = 0x45455246  # "FREE"
STATE_CACHED = 0x48434143  # "CACH": in a thread cache (layout version 2)
REGION_HEAP = 0x50414548  # "HEAP"
REGION_BIG = 0x20474942  # "BIG "
FLAG_BIG = 0x0001
FLAG_TURNS = 0x7F00  # version 2: a count of changes made under BUSY
FLAG_BUSY = 0x8000  # version 2: a thread was changing the node
CACHE_MAGIC = 0x434143542D544E41  # "ANT-TCAC"
CACHE_STATES = {0x4556494C: "live", 0x454C4449: "idle"}  # "LIVE", "IDLE"
HEAD_PRIME = (1 << 61) - 1  # versions 1 and 2
# Version 3: what the head adds to words 0..6 before multiplying them in pairs.
HEAD_ADDS = (
    0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x9FB21C651E98DF25, 0xD6E8FEB86659FD93,
    0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3,
)
HEAD_PRODUCTS_VERSION = 3
TAIL_MULTIPLIER = 0x9E3779B97F4A7C15
TAIL_NONZERO = 0x0101010101010101
MASK64 = (1 << 64) - 1
MASK128 = (1 << 128) - 1
FREE_LINKS_SIZE = 16

SUPPORTED_VERSIONS = (1, 2, 3, 4)

# enum ant_problem_kind of <ant/ant.h>, as kept in root.last_error.kind.
PROBLEM_NAMES = {
    1: "overflow",
    2: "header",
    3: "link",
    4: "size",
    5: "use-after-free",
    6: "accounting",
    7: "double-free",
    8: "invalid-free",
    9: "coalesce",
}
FIT_NAMES = {0: "first", 1: "next", 2: "best", 3: "binned"}

HEADER = struct.Struct("<QIIQII")  # magic version size self field_count field_offset
ENTRY = struct.Struct("<24sII")
MAX_ROOT_SIZE = 1 << 16  # the real root is a few KiB; more means garbage

# Versions 1 to 3 pin the node with static asserts in <ant/layout.h>. The walk
# decodes nodes with one precompiled struct of eight words for speed, so the
# table must confirm these offsets; every other struct is read wherever the
# table says.
NODE_V1 = {
    "node.prev": (0, 8),
    "node.next": (8, 8),
    "node.size": (16, 8),
    "node.requested": (24, 8),
    "node.serial": (32, 8),
    "node.site": (40, 8),
    "node.state": (48, 4),
    "node.arena": (52, 2),
    "node.flags": (54, 2),
    "node.head": (56, 8),
    "node": (0, 64),
}
NODE_WORDS = struct.Struct("<8Q")
HEAD_WORDS = struct.Struct("<7Q")  # the words below the head
HEAD_OFFSET = 56
HEAD_SHIFT = 448  # the address word's place in the 512-bit head integer

REQUIRED = (
    "region.magic", "region.next", "region.prev", "region.length",
    "region.wilderness", "region.first", "region.last", "region.kind",
    "region.arena", "region",
    "arena.index", "arena.regions", "arena.bigs", "arena.used_blocks",
    "arena.free_blocks", "arena.requested_bytes", "arena.used_bytes",
    "arena.free_bytes", "arena.wilderness_bytes", "arena.mapped_bytes",
    "arena.region_count", "arena.big_count", "arena",
    "root.node_size", "root.region_header_size", "root.alignment",
    "root.tail_size", "root.min_block", "root.poison", "root.secret",
    "root.arena_count", "root.arenas",
)

# Version 2 adds the thread caches, listed from root.caches (version 3 keeps
# them and changes only the head sentinel).
REQUIRED_V2 = (
    "root.caches", "cache", "cache.magic", "cache.next", "cache.thread",
    "cache.state", "cache.bin_count", "cache.blocks", "cache.bytes",
    "cache.requested_delta", "cache.allocations", "cache.frees", "cache.busy",
    "cache.bins", "cache.counts",
)

# Version 4 adds each arena's journal of the change under way, and a thread
# cache's record of the block it is moving (<ant/layout.h>, "A snapshot at
# any instant").
REQUIRED_V4 = (
    "arena.journal", "journal", "journal.op", "journal.step", "journal.thread",
    "journal.args", "journal.used", "journal.capacity", "journal.words",
    "cache.busy_requested", "cache.refused",
)
JOURNAL_VERSION = 4

# The arena counters that a walk can recompute (I10), in the table's names.
COUNTERS = (
    "used_blocks", "free_blocks", "requested_bytes", "used_bytes",
    "free_bytes", "wilderness_bytes", "mapped_bytes", "region_count",
    "big_count",
)

LAST_ERROR = "root.last_error."


def head_sentinel(secret, node, data, version):
    """ant_head_sentinel() of the layout version: from version 3, words 0..6
    of the node plus their constants, multiplied in pairs (the last word
    with node ^ secret), summed modulo 2^128 and folded to 64 bits; before,
    the words and node ^ secret as one little-endian integer, modulo
    2^61 - 1."""
    if version >= HEAD_PRODUCTS_VERSION:
        w = [(word + add) & MASK64 for word, add in zip(HEAD_WORDS.unpack_from(data), HEAD_ADDS)]
        x = (w[0] * w[1] + w[2] * w[3] + w[4] * w[5] + w[6] * ((node ^ secret) & MASK64)) & MASK128
        return (x & MASK64) ^ (x >> 64)
    low = int.from_bytes(data[:HEAD_OFFSET], "little")
    return (low + (((node ^ secret) & MASK64) << HEAD_SHIFT)) % HEAD_PRIME


def tail_sentinel(secret, node):
    """ant_tail_sentinel(): no byte of it is zero."""
    return ((((node ^ secret) & MASK64) * TAIL_MULTIPLIER) & MASK64) | TAIL_NONZERO


def uint(data, offset, size):
    return int.from_bytes(data[offset:offset + size], "little")


def ascii_word(value, size=4):
    """Shows a state or kind word as the letters it spells, if it does."""
    raw = value.to_bytes(size, "little")
    return raw.decode("ascii") if all(32 <= b < 127 for b in raw) else None


class Layout:
    """A validated root: its fixed header, its field table and its values."""

    def __init__(self, address, version, data, fields):
        self.address = address
        self.version = version
        self.data = data
        self.fields = fields  # name -> (offset, size), in table order
        get = self.root_value
        self.node_size = get("root.node_size")
        self.region_header_size = get("root.region_header_size")
        self.alignment = get("root.alignment")
        self.tail_size = get("root.tail_size")
        self.min_block = get("root.min_block")
        self.poison = get("root.poison") & 0xFF
        self.secret = get("root.secret")
        self.arena_count = get("root.arena_count")
        self.poison_check = self.optional("root.poison_check")
        self.serial = self.optional("root.serial")
        self.fit = self.optional("root.fit")
        self.journal = fields.get("arena.journal")  # (offset, size) in the arena
        offset, size = fields["root.arenas"]
        self.arena_addresses = [
            uint(data, offset + 8 * i, 8) for i in range(self.arena_count)
        ]
        self.region_size = fields["region"][1]
        self.arena_size = fields["arena"][1]
        self.caches = self.optional("root.caches") or 0
        self.cache_limit = self.optional("root.cache_limit") or 0
        self.cache_size = fields["cache"][1] if "cache" in fields else 0

    def root_value(self, name):
        offset, size = self.fields[name]
        return uint(self.data, offset, size)

    def optional(self, name):
        return self.root_value(name) if name in self.fields else None

    def members(self, struct_name):
        """(short name, offset, size) of every field of a struct."""
        prefix = struct_name + "."
        return [
            (name[len(prefix):], offset, size)
            for name, (offset, size) in self.fields.items()
            if name.startswith(prefix) and "." not in name[len(prefix):]
        ]

    def decode(self, struct_name, data):
        """Every field of a struct read from its bytes, by short name."""
        return {
            name: uint(data, offset, size)
            for name, offset, size in self.members(struct_name)
        }

    def last_error(self):
        """The allocator's last report as a dict, or None when it has none."""
        values = {}
        message = None
        for name, (offset, size) in self.fields.items():
            if not name.startswith(LAST_ERROR):
                continue
            short = name[len(LAST_ERROR):]
            if short == "message":
                raw = self.data[offset:offset + size].split(b"\0", 1)[0]
                message = raw.decode("utf-8", "replace")
            else:
                values[short] = uint(self.data, offset, size)
        kind = values.get("kind", 0)
        if not kind:
            return None
        values["kind_name"] = PROBLEM_NAMES.get(kind, "kind-%d" % kind)
        values["message"] = message
        return values


def read_root(reader, address):
    """Reads and validates the root at `address`; raises NoHeap,
    UnsupportedVersion or DamagedRoot with a sentence naming the fault."""
    try:
        header = reader.read(address, HEADER.size)
    except Unreadable as error:
        raise NoHeap("no Ant root at 0x%x: %s" % (address, error)) from None
    magic, version, size, self_pointer, count, table = HEADER.unpack(header)
    where = "Ant root at 0x%x" % address
    if magic == 0:
        raise NoHeap(
            "%s is all zero: the allocator has not set up its heap yet "
            "(no allocation has happened)" % where
        )
    if magic != ROOT_MAGIC:
        raise DamagedRoot(
            "%s: magic is 0x%016x, expected 0x%016x (\"ANT-ROOT\"): the root "
            "was overwritten or this is not an Ant root" % (where, magic, ROOT_MAGIC)
        )
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersion(
            "%s has layout version %d; this ant-gdb reads version %s only: use "
            "the gdb/antgdb that came with that allocator"
            % (where, version, ", ".join(map(str, SUPPORTED_VERSIONS)))
        )
    if self_pointer != address:
        raise DamagedRoot(
            "%s: root.self is 0x%x, not its own address: the root was "
            "overwritten or is a stale copy" % (where, self_pointer)
        )
    if count == 0:
        raise NoHeap(
            "%s: the allocator has not started yet (root.field_count is 0): no "
            "allocation has happened in this process" % where
        )
    if not HEADER.size <= size <= MAX_ROOT_SIZE:
        raise DamagedRoot("%s: root.size %d is not a plausible size" % (where, size))
    if table < HEADER.size or table + count * ENTRY.size > size:
        raise DamagedRoot(
            "%s: the field table (%d entries at offset %d, %d bytes each) does "
            "not fit in the root's %d bytes" % (where, count, table, ENTRY.size, size)
        )
    try:
        data = reader.read(address, size)
    except Unreadable as error:
        raise DamagedRoot("%s: %s" % (where, error)) from None
    fields = _read_table(where, data, table, count)
    _validate(where, version, data, fields)
    return Layout(address, version, data, fields)


def _read_table(where, data, table, count):
    fields = {}
    for index in range(count):
        raw, offset, size = ENTRY.unpack_from(data, table + index * ENTRY.size)
        name = raw.split(b"\0", 1)[0]
        if not name or any(b < 33 or b > 126 for b in name):
            raise DamagedRoot(
                "%s: field table entry %d has no readable name (%r)" % (where, index, raw)
            )
        name = name.decode("ascii")
        if name in fields:
            raise DamagedRoot("%s: field table names %s twice" % (where, name))
        fields[name] = (offset, size)
    return fields


def _validate(where, version, data, fields):
    faults = []
    required = (REQUIRED + tuple(NODE_V1) + (REQUIRED_V2 if version >= 2 else ())
                + (REQUIRED_V4 if version >= JOURNAL_VERSION else ()))
    missing = [name for name in required if name not in fields]
    if missing:
        faults.append("the field table lacks " + ", ".join(missing))
    for name, expected in NODE_V1.items():
        if name in fields and fields[name] != expected:
            faults.append(
                "%s is at offset %d size %d, but layout version %d puts it at "
                "offset %d size %d" % ((name,) + fields[name] + (version,) + expected)
            )
    for name, (offset, size) in fields.items():
        owner = name.split(".", 1)[0]
        if owner == name:
            continue
        limit = len(data) if owner == "root" else fields.get(owner, (0, None))[1]
        if limit is not None and offset + size > limit:
            faults.append(
                "%s (offset %d, size %d) lies outside its struct of %d bytes"
                % (name, offset, size, limit)
            )
    if faults:
        raise DamagedRoot("%s: %s" % (where, "; ".join(faults)))
    def value(name):
        return uint(data, *fields[name])

    node_size = value("root.node_size")
    header = value("root.region_header_size")
    alignment = value("root.alignment")
    tail = value("root.tail_size")
    min_block = value("root.min_block")
    arenas = value("root.arena_count")
    if node_size != NODE_V1["node"][1] or fields["node"][1] != node_size:
        faults.append("root.node_size is %d and the table's node %d bytes; "
                      "layout version %d has 64" % (node_size, fields["node"][1], version))
    if header != fields["region"][1] or header < 16:
        faults.append("root.region_header_size %d differs from the table's "
                      "region size %d" % (header, fields["region"][1]))
    if alignment < 16 or alignment & (alignment - 1):
        faults.append("root.alignment %d is not a power of two of at least 16"
                      % alignment)
    elif min_block < node_size + FREE_LINKS_SIZE or min_block % alignment:
        faults.append("root.min_block %d is not an aligned size holding a node "
                      "and the free links" % min_block)
    if tail != 8:
        faults.append("root.tail_size is %d, layout version %d has 8" % (tail, version))
    if arenas * 8 > fields["root.arenas"][1]:
        faults.append("root.arena_count %d is more than root.arenas holds (%d)"
                      % (arenas, fields["root.arenas"][1] // 8))
    if faults:
        raise DamagedRoot("%s: %s" % (where, "; ".join(faults)))
