"""Decode the root of an Ant heap and its field table (<ant/layout.h>).

The root says where every field of the root, the arena, the region and the
node lives. This module looks each one up by name, checks the table against
what the layout version promises, and says exactly what is wrong when the
root cannot be trusted: every later step believes what it returns. It also
holds the sentinel formulas of <ant/layout.h>, in Python: the node's check,
the tail sentinel and the check of who freed a block.

Which layout versions are read: every released one stays readable, so
that a core keeps its meaning whatever antgdb opens it. Version 4 is the
first released layout; version 5 adds root.kept (guarded blocks and freed
big blocks kept inaccessible, read by kept.py) and lets a big mapping hold
a guard page, and reads as version 4 in all else. Version 6 adds the
quarantine (the node state QUARANTINED and each arena's list of such
blocks, root.quarantine and arena.quarantine_*, checked by heapwide.py,
I19) and lets a site be a call stack in the store at root.stacks (read by
stacks.py).
"""
import struct

from . import problems
from .errors import DamagedRoot, NoHeap, Unreadable, UnsupportedVersion

ROOT_MAGIC = 0x544F4F522D544E41  # "ANT-ROOT"
REGION_MAGIC = 0x4E4745522D544E41  # "ANT-REGN"
STATE_USED = 0x55  # 'U'
STATE_FREE = 0x46  # 'F'
STATE_CACHED = 0x43  # 'C': in a thread cache
STATE_QUARANTINED = 0x51  # 'Q': freed, held back from reuse (version 6)
REGION_HEAP = 0x50414548  # "HEAP"
REGION_BIG = 0x20474942  # "BIG "
FLAG_BIG = 0x0001
FLAG_TURNS = 0x7FFE  # a count of changes made under BUSY
FLAG_BUSY = 0x8000  # a thread was changing the node
CACHE_MAGIC = 0x434143542D544E41  # "ANT-TCAC"
# "LIVE", "IDLE", "DEPO": a thread's cache, one waiting for a thread, an
# arena's depot
CACHE_STATES = {0x4556494C: "live", 0x454C4449: "idle", 0x4F504544: "depot"}
# What the checks add to the words they multiply (ANT_CHECK_ADD0..3,
# ANT_FREED_ADD0..1).
CHECK_ADDS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x9FB21C651E98DF25, 0xD6E8FEB86659FD93)
FREED_ADDS = (0xA0761D6478BD642F, 0xE7037ED1A0B428DB)
TAIL_MULTIPLIER = 0x9E3779B97F4A7C15
TAIL_NONZERO = 0x0101010101010101
SITE_MASK = 0xFFFFFFFFFFFF  # the bits of w2 (and of freed.site) that hold a site
MASK32 = (1 << 32) - 1
MASK64 = (1 << 64) - 1
MASK128 = (1 << 128) - 1

# Every released layout version, each read as <ant/layout.h> had it.
SUPPORTED_VERSIONS = (4, 5, 6)

# The sizes version 4 fixes: its node and the record of who freed a block
# are read with precompiled structs, and the native walker takes them from
# <ant/layout.h> itself, so the root must agree with them.
NODE_SIZE = 32
ALIGNMENT = 16
TAIL_SIZE = 8
FREE_LINKS_SIZE = 16
FREED_SIZE = 16
POISON_OFFSET = FREE_LINKS_SIZE + FREED_SIZE  # in a free or cached block's mem
MIN_BLOCK = NODE_SIZE + POISON_OFFSET

# The node's fields and the record of who freed a block, as <ant/layout.h>
# pins them with static asserts; the table must confirm each.
NODE = {
    "node.size": (0, 4),
    "node.below": (4, 4),
    "node.requested": (8, 4),
    "node.serial": (12, 4),
    "node.site": (16, 6),
    "node.serial_high": (22, 2),
    "node.state": (24, 1),
    "node.arena": (25, 1),
    "node.flags": (26, 2),
    "node.check": (28, 4),
    "node": (0, NODE_SIZE),
}
FREED = {
    "freed.site": (0, 8),
    "freed.serial": (8, 4),
    "freed.check": (12, 4),
    "freed": (0, FREED_SIZE),
}
# The node as four words (<ant/layout.h>, "One block, offset by offset"):
# w0 = size | below << 32, w1 = requested | serial << 32, w2 = site |
# serial_high << 48, w3 = mark | check << 32.
NODE_WORDS = struct.Struct("<4Q")
FREED_WORDS = struct.Struct("<QII")  # site | serial_high << 48, serial, check

REQUIRED = (
    "region.magic", "region.next", "region.prev", "region.length",
    "region.wilderness", "region.first", "region.last", "region.kind",
    "region.arena", "region.big_size", "region.big_requested", "region",
    "arena.index", "arena.regions", "arena.bigs", "arena.busy", "arena.used_blocks",
    "arena.free_blocks", "arena.requested_bytes", "arena.used_bytes",
    "arena.free_bytes", "arena.wilderness_bytes", "arena.mapped_bytes",
    "arena.region_count", "arena.big_count", "arena",
    "arena.journal", "journal", "journal.op", "journal.step", "journal.thread",
    "journal.args", "journal.used", "journal.capacity", "journal.words",
    "root.node_size", "root.region_header_size", "root.alignment",
    "root.tail_size", "root.min_block", "root.poison", "root.poison_offset",
    "root.secret", "root.arena_count", "root.arenas", "root.caches",
    "cache", "cache.magic", "cache.next", "cache.thread", "cache.state",
    "cache.bin_count", "cache.blocks", "cache.bytes", "cache.requested_delta",
    "cache.allocations", "cache.frees", "cache.busy", "cache.busy_requested",
    "cache.refused", "cache.bins", "cache.counts",
)

# The arena counters that a walk can recompute (I10), in the table's names.
COUNTERS = (
    "used_blocks", "free_blocks", "requested_bytes", "used_bytes",
    "free_bytes", "wilderness_bytes", "mapped_bytes", "region_count",
    "big_count",
)

# enum ant_problem_kind of <ant/ant.h>, as kept in root.last_error.kind:
# the kinds in the order <ant/problems.h> numbers them, from 1.
PROBLEM_NAMES = dict(enumerate(problems.KINDS, 1))
FIT_NAMES = {0: "first", 1: "next", 2: "best", 3: "binned", 4: "worst"}

HEADER = struct.Struct("<QIIQII")  # magic version size self field_count field_offset
ENTRY = struct.Struct("<24sII")
MAX_ROOT_SIZE = 1 << 16  # the real root is 27 KiB; more means garbage
LAST_ERROR = "root.last_error."


# -- the sentinels, as the inline functions of <ant/layout.h> ---------------

def fold(x):
    """ant_fold(): a 128-bit value folded to 32 bits."""
    h = (x & MASK64) ^ (x >> 64)
    return (h ^ (h >> 32)) & MASK32


def head_check_as(secret, node, w0, w1, w2, mark):
    """ant_head_check_as(): the check of the node at address `node` whose
    first three words are w0, w1, w2, once its mark is `mark`."""
    return head_checks(secret, (node,), w0, w1, w2, mark)[0]


def head_checks(secret, nodes, w0, w1, w2, mark):
    """head_check_as() of the same words at each of `nodes`: where a copied
    node may have come from. The product of the words is the same for all."""
    words = ((w0 + CHECK_ADDS[0]) & MASK64) * ((w1 + CHECK_ADDS[1]) & MASK64)
    factor = (w2 + CHECK_ADDS[2]) & MASK64
    return [fold((words + factor * (((((node ^ secret) & MASK64) + CHECK_ADDS[3]) & MASK64)
                                    ^ mark)) & MASK128) for node in nodes]


def head_check(secret, node, data):
    """ant_head_check(): the check the node in `data` (its 32 bytes, read
    at address `node`) should hold."""
    w0, w1, w2, w3 = NODE_WORDS.unpack_from(data)
    return head_check_as(secret, node, w0, w1, w2, w3 & MASK32)


def tail_sentinel(secret, node):
    """ant_tail_sentinel(): no byte of it is zero."""
    return ((((node ^ secret) & MASK64) * TAIL_MULTIPLIER) & MASK64) | TAIL_NONZERO


def freed_check(secret, node, site, serial):
    """ant_freed_check(): the check of the record of who freed the block at
    `node`, whose first word is `site` and whose serial's low half is
    `serial`."""
    bound = ((((node ^ secret) & MASK64) + FREED_ADDS[1]) & MASK64) ^ serial
    return fold(((site + FREED_ADDS[0]) & MASK64) * bound)


# -- a node's words, decoded ------------------------------------------------

def node_size(words):
    return words[0] & MASK32


def node_below(words):
    return words[0] >> 32


def node_requested(words):
    return words[1] & MASK32


def node_serial(words):
    """ant_node_serial(): the 48-bit serial, from its two halves."""
    return words[1] >> 32 | (words[2] >> 48) << 32


def node_site(words):
    """ant_node_site()."""
    return words[2] & SITE_MASK


def node_state(words):
    return words[3] & 0xFF


def node_arena(words):
    return words[3] >> 8 & 0xFF


def node_flags(words):
    return words[3] >> 16 & 0xFFFF


def node_check(words):
    return words[3] >> 32


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
        self.poison_offset = get("root.poison_offset")
        self.secret = get("root.secret")
        self.arena_count = get("root.arena_count")
        self.poison_check = self.optional("root.poison_check")
        self.serial = self.optional("root.serial")
        self.fit = self.optional("root.fit")
        self.journal = fields["arena.journal"]  # (offset, size) in the arena
        offset, size = fields["root.arenas"]
        self.arena_addresses = [
            uint(data, offset + 8 * i, 8) for i in range(self.arena_count)
        ]
        self.region_size = fields["region"][1]
        self.arena_size = fields["arena"][1]
        self.caches = get("root.caches")
        self.cache_limit = self.optional("root.cache_limit") or 0
        self.cache_size = fields["cache"][1]
        self.quarantine = self.optional("root.quarantine") or 0

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


# What version 5 adds: the kept slots.
REQUIRED_5 = ("root.guard", "root.kept_slots", "root.kept", "kept", "kept.mapping", "kept.length",
              "kept.mem", "kept.requested", "kept.serial", "kept.site", "kept.freed_site",
              "kept.freed_serial", "kept.order", "kept.state", "kept.guard")
# What version 6 adds: the quarantine and the call stack store.
REQUIRED_6 = ("root.quarantine", "arena.quarantine_head", "arena.quarantine_tail",
              "arena.quarantine_blocks", "arena.quarantine_bytes",
              "root.stacks", "root.stack_depth", "stacks", "stacks.magic", "stacks.depth",
              "stacks.bucket_count", "stacks.used", "stacks.count", "stacks.dropped", "stack",
              "stack.depth", "stack.frames")


def _validate(where, version, data, fields):
    faults = []
    fixed = dict(NODE, **FREED)
    required = (REQUIRED + (REQUIRED_5 if version >= 5 else ())
                + (REQUIRED_6 if version >= 6 else ()))
    missing = [name for name in required + tuple(fixed) if name not in fields]
    if missing:
        faults.append("the field table lacks " + ", ".join(missing))
    for name, expected in fixed.items():
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
        # A flexible array (stacks.buckets, stack.frames) starts at its
        # struct's end and gives the size of one element.
        if limit is not None and offset + size > limit and (owner == "root" or offset != limit):
            faults.append(
                "%s (offset %d, size %d) lies outside its struct of %d bytes"
                % (name, offset, size, limit)
            )
    if faults:
        raise DamagedRoot("%s: %s" % (where, "; ".join(faults)))

    def value(name):
        return uint(data, *fields[name])

    for name, expected in (("root.node_size", NODE_SIZE), ("root.alignment", ALIGNMENT),
                           ("root.tail_size", TAIL_SIZE), ("root.min_block", MIN_BLOCK),
                           ("root.poison_offset", POISON_OFFSET)):
        if value(name) != expected:
            faults.append("%s is %d, layout version %d has %d" % (name, value(name), version,
                                                                  expected))
    header = value("root.region_header_size")
    if header != fields["region"][1]:
        faults.append("root.region_header_size %d differs from the table's "
                      "region size %d" % (header, fields["region"][1]))
    arenas = value("root.arena_count")
    if arenas * 8 > fields["root.arenas"][1]:
        faults.append("root.arena_count %d is more than root.arenas holds (%d)"
                      % (arenas, fields["root.arenas"][1] // 8))
    if faults:
        raise DamagedRoot("%s: %s" % (where, "; ".join(faults)))
