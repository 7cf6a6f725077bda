"""Builds synthetic Ant heaps, byte for byte as <ant/layout.h> lays them out.

An Image holds the root (with its field table, named and ordered as the
allocator's root.c has it), arenas with their journals, HEAP regions, big
mappings and thread caches. Describe the blocks, call build(), then plant
corruption with write()/node_write(), or a change half made with change(),
and read the result through reader() or a core file from write_core().
"""
import struct

import gdbpath  # noqa: F401
from antgdb import layout as L
from antgdb.memory import BytesReader

FIELD = struct.Struct("<24sII")
REGION = struct.Struct("<QQQQQQQIIQQ")
Q = struct.Struct("<Q")
NODE_SIZE = L.NODE_SIZE
REGION_HEADER = 80
MIN_BLOCK = L.MIN_BLOCK

# struct ant_root, offset by offset.
ROOT_SIZE = 5160
FIELDS_AT = 1064
ROOT_CACHES_AT = 608
LAST_ERROR_AT = 624
COUNTER_NAMES = [
    "used_blocks", "free_blocks", "requested_bytes", "used_bytes", "free_bytes",
    "wilderness_bytes", "mapped_bytes", "region_count", "big_count",
    "allocations", "frees",
]
COUNTER_AT = {name: 24 + 8 * i for i, name in enumerate(COUNTER_NAMES)}
ARENA_BUSY_AT = 112
JOURNAL_AT = 120  # arena.journal
JOURNAL_WORDS = 512
JOURNAL_SIZE = 40 + 8 * JOURNAL_WORDS
ARENA_SIZE = 12000
CACHE_BINS = 61
CACHE_SIZE = 712
CACHE_STRIDE = 768  # caches are carved from a slab, 64-byte aligned
CACHE_BINS_AT = 96
CACHE_COUNTS_AT = 584
CACHE_LIVE = 0x4556494C
CACHE_IDLE = 0x454C4449
CACHE_DEPOT = 0x4F504544

# The field table, in root.c's order.
FIELDS = [
    ("root", 0, ROOT_SIZE), ("root.magic", 0, 8), ("root.version", 8, 4), ("root.size", 12, 4),
    ("root.self", 16, 8), ("root.field_count", 24, 4), ("root.field_offset", 28, 4),
    ("root.node_size", 32, 4), ("root.region_header_size", 36, 4), ("root.alignment", 40, 4),
    ("root.tail_size", 44, 4), ("root.min_block", 48, 4), ("root.poison", 52, 4),
    ("root.poison_offset", 56, 4), ("root.poison_check", 64, 8), ("root.secret", 72, 8),
    ("root.serial", 80, 8), ("root.arena_count", 88, 4), ("root.fit", 92, 4),
    ("root.arenas", 96, 512), ("root.last_error", LAST_ERROR_AT, 440),
    ("root.last_error.kind", 624, 4), ("root.last_error.count", 628, 4),
    ("root.last_error.mem", 632, 8), ("root.last_error.node", 640, 8),
    ("root.last_error.request", 648, 8), ("root.last_error.serial", 656, 8),
    ("root.last_error.site", 664, 8), ("root.last_error.culprit", 672, 8),
    ("root.last_error.message", 680, 384), ("root.fields", FIELDS_AT, 4096),
    ("root.caches", ROOT_CACHES_AT, 8), ("root.cache_limit", 616, 4), ("root.cache_bins", 620, 4),
    ("cache", 0, CACHE_SIZE), ("cache.magic", 0, 8), ("cache.next", 8, 8), ("cache.thread", 16, 8),
    ("cache.state", 24, 4), ("cache.bin_count", 28, 4), ("cache.blocks", 32, 8),
    ("cache.bytes", 40, 8), ("cache.requested_delta", 48, 8), ("cache.allocations", 56, 8),
    ("cache.frees", 64, 8), ("cache.busy", 72, 8), ("cache.busy_requested", 80, 8),
    ("cache.refused", 88, 8), ("cache.bins", CACHE_BINS_AT, 8 * CACHE_BINS),
    ("cache.counts", CACHE_COUNTS_AT, 2 * CACHE_BINS),
] + [(name, offset, size) for name, (offset, size) in sorted(
    L.NODE.items(), key=lambda item: (item[0] != "node", item[1]))] + [
    (name, offset, size) for name, (offset, size) in sorted(
        L.FREED.items(), key=lambda item: (item[0] != "freed", item[1]))] + [
    ("region", 0, REGION_HEADER), ("region.magic", 0, 8), ("region.next", 8, 8),
    ("region.prev", 16, 8), ("region.length", 24, 8), ("region.wilderness", 32, 8),
    ("region.first", 40, 8), ("region.last", 48, 8), ("region.kind", 56, 4),
    ("region.arena", 60, 4), ("region.big_size", 64, 8), ("region.big_requested", 72, 8),
    ("arena", 0, ARENA_SIZE), ("arena.index", 0, 4), ("arena.regions", 8, 8),
    ("arena.bigs", 16, 8), ("arena.busy", ARENA_BUSY_AT, 8),
    ("arena.journal", JOURNAL_AT, JOURNAL_SIZE), ("journal", 0, JOURNAL_SIZE),
    ("journal.op", 0, 4), ("journal.step", 4, 4), ("journal.thread", 8, 8),
    ("journal.args", 16, 16), ("journal.used", 32, 4), ("journal.capacity", 36, 4),
    ("journal.words", 40, 8 * JOURNAL_WORDS),
] + [("arena." + name, COUNTER_AT[name], 8) for name in COUNTER_NAMES]

# What layouts 5 and 6 add (Image(version=6)): the kept slots (none here),
# the quarantine, past version 4's root and in the arena's spare end, and
# the call stack store (none: root.stacks 0, test_stacks.py reads one).
ROOT_STACKS_AT = ROOT_SIZE + 24
# Version 6 names more fields than version 4's table holds: its table
# follows the new fields, as root.field_offset allows.
FIELDS_V6_AT = ROOT_SIZE + 48
ROOT_V6_SIZE = FIELDS_V6_AT + 32 * 256
ROOT_GUARD_AT = ROOT_SIZE
ROOT_QUARANTINE_AT = ROOT_SIZE + 16
QUARANTINE_AT = ARENA_SIZE - 32  # arena.quarantine_head, _tail, _blocks, _bytes
FIELDS_6 = [
    ("root.guard", ROOT_GUARD_AT, 4), ("root.kept_slots", ROOT_GUARD_AT + 4, 4),
    ("root.kept_bytes", ROOT_GUARD_AT + 8, 8), ("root.kept", ROOT_GUARD_AT + 16, 0),
    ("kept", 0, 80), ("kept.mapping", 0, 8), ("kept.length", 8, 8), ("kept.mem", 16, 8),
    ("kept.requested", 24, 8), ("kept.serial", 32, 8), ("kept.site", 40, 8),
    ("kept.freed_site", 48, 8), ("kept.freed_serial", 56, 8), ("kept.order", 64, 8),
    ("kept.state", 72, 4), ("kept.guard", 76, 4),
    ("root.quarantine", ROOT_QUARANTINE_AT, 8),
    ("arena.quarantine_head", QUARANTINE_AT, 8), ("arena.quarantine_tail", QUARANTINE_AT + 8, 8),
    ("arena.quarantine_blocks", QUARANTINE_AT + 16, 8),
    ("arena.quarantine_bytes", QUARANTINE_AT + 24, 8),
    ("root.stacks", ROOT_STACKS_AT, 8), ("root.stack_depth", ROOT_STACKS_AT + 8, 4),
    ("stacks", 0, 56), ("stacks.magic", 0, 8), ("stacks.depth", 8, 4), ("stacks.bucket_count", 12, 4),
    ("stacks.used", 16, 8), ("stacks.mapped", 24, 8), ("stacks.count", 32, 8), ("stacks.dropped", 40, 8),
    ("stacks.buckets", 56, 4), ("stack", 0, 16), ("stack.next", 0, 4), ("stack.hash", 4, 4),
    ("stack.depth", 8, 4), ("stack.frames", 16, 8),
]

SECRET = 0x3C6EF372FE94F82B
ROOT_AT = 0x555555558000
ARENAS_AT = 0x555555600000
CACHES_AT = 0x555555700000
HEAP_AT = 0x7FFFF0000000
PAGE = 4096
FREED_SITE = 0x402000  # who freed a block, unless told


def block_size(requested):
    """ant_block_size_for(): node, requested bytes and tail, rounded up."""
    return max(MIN_BLOCK, (NODE_SIZE + requested + L.TAIL_SIZE + 15) & ~15)


def node_words(size, below, requested, serial, site, mark):
    """w0, w1, w2 and the mark of a node, as <ant/layout.h> packs them."""
    return (size | below << 32, requested | (serial & L.MASK32) << 32,
            site & L.SITE_MASK | (serial >> 32) << 48, mark)


class Block:
    def __init__(self, region, size, state, requested, serial, site):
        self.region = region
        self.size = size
        self.state = state
        self.requested = requested
        self.serial = serial
        self.site = site
        self.turns = 0  # the change count in its flags
        self.freed = (FREED_SITE, serial)  # who freed it: its site, the serial then
        self.node = None

    @property
    def mem(self):
        return self.node + NODE_SIZE


class Region:
    def __init__(self, arena, address, length, kind):
        self.arena = arena
        self.address = address
        self.length = length
        self.kind = kind
        self.blocks = []

    def used(self, requested, serial=None, site=0x401000, size=None):
        block = Block(self, size or block_size(requested), "used", requested,
                      serial if serial is not None else self.arena.image.next_serial(),
                      site)
        self.blocks.append(block)
        return block

    def free(self, size, serial=0, site=0, requested=0):
        """A free block; serial, site and requested are its last owner's."""
        block = Block(self, size, "free", requested, serial, site)
        self.blocks.append(block)
        return block

    def quarantined(self, size, serial=0, site=0x401000, requested=0):
        """A block in its arena's quarantine, after those made before it."""
        block = Block(self, size, "quarantined", requested, serial, site)
        self.blocks.append(block)
        self.arena.quarantine.append(block)
        return block

    def cached(self, cache, size, serial=0, site=0x401000, requested=0):
        """A block in `cache`, on top of its bin."""
        block = Block(self, size, "cached", requested, serial, site)
        block.cache = cache
        self.blocks.append(block)
        cache.blocks.append(block)
        return block

    @property
    def wilderness(self):
        at = self.address + REGION_HEADER
        return at + sum(block.size for block in self.blocks)


class Change:
    """A change half made by an arena's lock holder: each write() first
    records the old bytes, as the allocator's journal does; publish() puts
    the journal in the image."""

    def __init__(self, image, arena, op, step, args, thread):
        self.image = image
        self.arena = arena
        self.head = (op, step, thread, args)
        self.records = []

    def save(self, address, size):
        low = address & ~7
        high = (address + size + 7) & ~7
        self.records.append((low, self.image.read(low, high - low)))

    def write(self, address, raw):
        self.save(address, len(raw))
        self.image.write(address, raw)

    def write_word(self, address, value, size=8):
        self.write(address, value.to_bytes(size, "little"))

    def node_write(self, node, field, value):
        offset, size = L.NODE["node." + field]
        self.write_word(getattr(node, "node", node) + offset, value, size)

    def reseal(self, node):
        node = getattr(node, "node", node)
        self.save(node, NODE_SIZE)
        self.image.reseal(node)

    def publish(self, used=None):
        words = []
        for address, old in self.records:
            words += [address, len(old)] + list(struct.unpack("<%dQ" % (len(old) // 8), old))
        op, step, thread, args = self.head
        base = self.arena.address + JOURNAL_AT
        self.image.write(base, struct.pack("<IIQQQII", op, step, thread, args[0], args[1],
                                           len(words) if used is None else used, JOURNAL_WORDS))
        self.image.write(base + 40, struct.pack("<%dQ" % len(words), *words))


class Arena:
    def __init__(self, image, index, address):
        self.image = image
        self.index = index
        self.address = address
        self.regions = []
        self.bigs = []
        self.counters = {}
        self.quarantine = []  # its quarantined blocks, oldest first

    def region(self, length=0x10000):
        region = Region(self, self.image.place(length), length, L.REGION_HEAP)
        self.regions.append(region)
        return region

    def big(self, requested, serial=None, site=0x401000):
        """A big block: a mapping of its own, the node right after its
        header, as ant_big_alloc() places it without an alignment."""
        length = (requested + REGION_HEADER + NODE_SIZE + L.TAIL_SIZE + 16 + PAGE - 1) & ~(PAGE - 1)
        region = Region(self, self.image.place(length), length, L.REGION_BIG)
        region.used(requested, serial, site, block_size(requested))
        self.bigs.append(region)
        return region.blocks[0]


class Cache:
    """A thread cache; its blocks are listed in the order they were added,
    the last one on top of its bin."""

    def __init__(self, image, address, thread, state):
        self.image = image
        self.address = address
        self.thread = thread
        self.state = state
        self.blocks = []
        self.busy = 0  # a node or Block its thread is changing
        self.counters = {}
        self.counts_override = {}  # bin -> count, where it is not what the list holds


class Image:
    """A heap image; addresses are fixed so tests can name them."""

    def __init__(self, secret=SECRET, root=ROOT_AT, poison=0xA5, version=4, quarantine=0):
        self.version = version
        self.quarantine = quarantine  # root.quarantine, of a version 6 image
        self.fields = FIELDS + (FIELDS_6 if version >= 6 else [])
        self.secret = secret
        self.root = root
        self.poison = poison
        self.caches = []
        self.arena_busy = {}  # arena index -> node its lock holder holds BUSY
        self.arenas = []
        self.segments = {}  # address -> bytearray
        self._next_region = HEAP_AT
        self._serial = 0
        self.last_error = None

    def next_serial(self):
        self._serial += 1
        return self._serial

    def place(self, length):
        address = self._next_region
        self._next_region += (length + 0xFFFFF) & ~0xFFFFF  # leave unmapped gaps
        return address

    def arena(self):
        arena = Arena(self, len(self.arenas), ARENAS_AT + ARENA_SIZE * len(self.arenas))
        self.arenas.append(arena)
        return arena

    def change(self, arena=0, op=3, step=0, args=(0, 0), thread=4242):
        """A Change of the built image by arena `arena`'s lock holder: by
        default a free() at no step in particular."""
        return Change(self, self.arenas[arena], op, step, args, thread)

    def cache(self, thread=4242, state=CACHE_LIVE):
        cache = Cache(self, CACHES_AT + CACHE_STRIDE * len(self.caches), thread, state)
        self.caches.append(cache)
        return cache

    # -- laying out bytes ---------------------------------------------------

    def build(self):
        root = bytearray(ROOT_V6_SIZE if self.version >= 6 else ROOT_SIZE)
        self.segments = {self.root: root}
        arenas = bytearray(max(1, len(self.arenas)) * ARENA_SIZE)
        self.segments[ARENAS_AT] = arenas
        for arena in self.arenas:
            self._arena(arena, arenas)
        if self.caches:
            self.segments[CACHES_AT] = self._caches()
        self._root(root)
        return self

    def _caches(self):
        data = bytearray(CACHE_STRIDE * len(self.caches))
        for index, cache in enumerate(self.caches):
            base = CACHE_STRIDE * index
            bins, counts = [0] * CACHE_BINS, [0] * CACHE_BINS
            for block in cache.blocks:
                slot = (block.size - MIN_BLOCK) // 16
                Q.pack_into(self.segments[block.region.address],
                            block.mem - block.region.address, bins[slot])
                bins[slot] = block.node
                counts[slot] += 1
            values = {"blocks": len(cache.blocks), "bytes": sum(b.size for b in cache.blocks),
                      "requested_delta": -sum(b.requested for b in cache.blocks),
                      "allocations": 0, "frees": len(cache.blocks), "busy_requested": 0,
                      "refused": 0}
            values.update(cache.counters)
            following = self.caches[index + 1].address if index + 1 < len(self.caches) else 0
            struct.pack_into("<QQQIIQQqQQQqQ", data, base, L.CACHE_MAGIC, following,
                             cache.thread, cache.state, CACHE_BINS, values["blocks"],
                             values["bytes"], values["requested_delta"], values["allocations"],
                             values["frees"], getattr(cache.busy, "node", cache.busy),
                             values["busy_requested"], values["refused"])
            counts = [cache.counts_override.get(slot, count) for slot, count in enumerate(counts)]
            struct.pack_into("<%dQ" % CACHE_BINS, data, base + CACHE_BINS_AT, *bins)
            struct.pack_into("<%dH" % CACHE_BINS, data, base + CACHE_COUNTS_AT, *counts)
        return data

    def _root(self, root):
        table = FIELDS_V6_AT if self.version >= 6 else FIELDS_AT
        struct.pack_into("<QIIQII", root, 0, L.ROOT_MAGIC, self.version, len(root), self.root,
                         len(self.fields), table)
        struct.pack_into("<IIIIIIIxxxxQQQII", root, 32, NODE_SIZE, REGION_HEADER, L.ALIGNMENT,
                         L.TAIL_SIZE, MIN_BLOCK, self.poison, L.POISON_OFFSET, 4096,
                         self.secret, self._serial, len(self.arenas), 3)
        for index, arena in enumerate(self.arenas):
            Q.pack_into(root, 96 + 8 * index, arena.address)
        struct.pack_into("<QII", root, ROOT_CACHES_AT,
                         self.caches[0].address if self.caches else 0, 16, CACHE_BINS)
        for index, (name, offset, size) in enumerate(self.fields):
            if name == "root.fields":
                offset, size = table, 32 * len(self.fields)
            FIELD.pack_into(root, table + 32 * index, name.encode(), offset, size)
        if self.version >= 6:
            Q.pack_into(root, ROOT_QUARANTINE_AT, self.quarantine)
        if self.last_error:
            error = self.last_error
            struct.pack_into("<IIQQQQQQ", root, LAST_ERROR_AT, error["kind"], error.get("count", 1),
                             error.get("mem", 0), error.get("node", 0),
                             error.get("request", 0), error.get("serial", 0),
                             error.get("site", 0), error.get("culprit", 0))
            message = error.get("message", "").encode()[:383]
            root[680:680 + len(message)] = message

    def _arena(self, arena, arenas):
        counts = dict.fromkeys(COUNTER_NAMES, 0)
        free_nodes = []
        for regions in (arena.regions, arena.bigs):
            previous = None
            for region in regions:
                data = self._region(region, previous, counts, free_nodes)
                self.segments[region.address] = data
                previous = region
        # One free list per arena, in address order: mem[0:8] next, [8:16] prev.
        for i, block in enumerate(free_nodes):
            data = self.segments[block.region.address]
            at = block.mem - block.region.address
            nxt = free_nodes[i + 1].node if i + 1 < len(free_nodes) else 0
            prev = free_nodes[i - 1].node if i else 0
            struct.pack_into("<QQ", data, at, nxt, prev)
        counts["region_count"] = len(arena.regions)
        counts["big_count"] = len(arena.bigs)
        counts["allocations"] = counts["used_blocks"] + counts["free_blocks"]
        counts.update(arena.counters)
        base = ARENA_SIZE * arena.index
        struct.pack_into("<I", arenas, base + JOURNAL_AT + 36, JOURNAL_WORDS)
        struct.pack_into("<IxxxxQQ", arenas, base, arena.index,
                         arena.regions[0].address if arena.regions else 0,
                         arena.bigs[0].address if arena.bigs else 0)
        for name in COUNTER_NAMES:
            Q.pack_into(arenas, base + COUNTER_AT[name], counts[name])
        busy = self.arena_busy.get(arena.index, 0)
        Q.pack_into(arenas, base + ARENA_BUSY_AT, getattr(busy, "node", busy))
        if self.version >= 6:
            self._quarantine(arena, arenas, base)

    def _quarantine(self, arena, arenas, base):
        """The arena's quarantine, oldest first: mem[0:8] next, [8:16] prev."""
        held = arena.quarantine
        for i, block in enumerate(held):
            nxt = held[i + 1].node if i + 1 < len(held) else 0
            prev = held[i - 1].node if i else 0
            struct.pack_into("<QQ", self.segments[block.region.address],
                             block.mem - block.region.address, nxt, prev)
        struct.pack_into("<QQQQ", arenas, base + QUARANTINE_AT, held[0].node if held else 0,
                         held[-1].node if held else 0, len(held), sum(b.size for b in held))

    def _region(self, region, previous, counts, free_nodes):
        data = bytearray(region.length)
        big = region.kind == L.REGION_BIG
        at = region.address + REGION_HEADER
        for block in region.blocks:
            block.node = at
            at += block.size
        nodes = region.blocks
        regions = region.arena.bigs if big else region.arena.regions
        index = regions.index(region)
        REGION.pack_into(
            data, 0, L.REGION_MAGIC,
            regions[index + 1].address if index + 1 < len(regions) else 0,
            previous.address if previous else 0, region.length, at,
            nodes[0].node if nodes else 0, nodes[-1].node if nodes else 0,
            region.kind, region.arena.index,
            nodes[0].size if big else 0, nodes[0].requested if big else 0)
        if not big:
            counts["wilderness_bytes"] += region.length - (at - region.address)
        counts["mapped_bytes"] += region.length
        below = 0
        for block in nodes:
            self._node(data, region, block, REGION_HEADER if big else below, big)
            below = block.size
            if block.state in ("used", "cached", "quarantined"):
                counts["used_blocks"] += 1
                counts["used_bytes"] += block.size
                counts["requested_bytes"] += block.requested if block.state != "quarantined" else 0
            else:
                counts["free_blocks"] += 1
                counts["free_bytes"] += block.size
                free_nodes.append(block)
        return data

    def _node(self, data, region, block, below, big):
        offset = block.node - region.address
        state = {"used": L.STATE_USED, "free": L.STATE_FREE, "cached": L.STATE_CACHED,
                 "quarantined": L.STATE_QUARANTINED}[block.state]
        flags = (L.FLAG_BIG if big else 0) | block.turns << 1
        # A big block's node holds neither its size nor its requested bytes:
        # its mapping's header does.
        size, requested = (0, 0) if big else (block.size, block.requested)
        words = node_words(size, below, requested, block.serial, block.site,
                           state | region.arena.index << 8 | flags << 16)
        struct.pack_into("<QQQI", data, offset, *words)
        seal(data, offset, block.node, self.secret)
        mem = offset + NODE_SIZE
        if block.state == "used":
            fill = bytes([0x41 + block.serial % 26]) * block.requested
            data[mem:mem + block.requested] = fill
            Q.pack_into(data, mem + block.requested, L.tail_sentinel(self.secret, block.node))
            return
        site, serial = block.freed
        site = site & L.SITE_MASK | (serial >> 32) << 48
        struct.pack_into("<QII", data, mem + 16, site, serial & L.MASK32,
                         L.freed_check(self.secret, block.node, site, serial & L.MASK32))
        end = offset + block.size
        data[mem + L.POISON_OFFSET:end] = bytes([self.poison]) * (end - mem - L.POISON_OFFSET)
        if block.state == "cached":
            Q.pack_into(data, mem + 8, block.cache.address)

    # -- reading and planting ---------------------------------------------------

    def reader(self, skip=()):
        return BytesReader([(address, data) for address, data in self.segments.items()
                            if address not in skip])

    def _locate(self, address):
        for start, data in self.segments.items():
            if start <= address < start + len(data):
                return data, address - start
        raise KeyError("0x%x is not in the image" % address)

    def write(self, address, raw):
        data, offset = self._locate(address)
        data[offset:offset + len(raw)] = raw

    def read(self, address, size):
        data, offset = self._locate(address)
        return bytes(data[offset:offset + size])

    def write_word(self, address, value, size=8):
        self.write(address, value.to_bytes(size, "little"))

    def node_write(self, block_or_node, field, value, reseal=False):
        """Sets one node field; reseal=True recomputes the check, as a buggy
        allocator (rather than a stray write) would leave it."""
        node = getattr(block_or_node, "node", block_or_node)
        offset, size = L.NODE["node." + field]
        self.write_word(node + offset, value, size)
        if reseal:
            self.reseal(node)

    def reseal(self, node):
        data, offset = self._locate(node)
        seal(data, offset, node, self.secret)

    def write_core(self, path, skip=()):
        write_core(path, [(address, bytes(data)) for address, data in self.segments.items()
                          if address not in skip])


def seal(data, offset, node, secret):
    """Writes the node's check, as ant_seal() does."""
    struct.pack_into("<I", data, offset + 28,
                     L.head_check(secret, node, bytes(data[offset:offset + NODE_SIZE])))


def write_core(path, segments, extra=()):
    """A minimal ELF64 core: a PT_NOTE, then one PT_LOAD per segment;
    `extra` adds raw (vaddr, filesz, memsz, data) program headers."""
    loads = [(address, len(data), len(data), data) for address, data in segments]
    loads += list(extra)
    count = 1 + len(loads)
    offset = 64 + 56 * count
    headers = [struct.pack("<IIQQQQQQ", 4, 4, offset, 0, 0, 0, 0, 1)]
    body = b""
    for vaddr, filesz, memsz, data in loads:
        headers.append(struct.pack("<IIQQQQQQ", 1, 6, offset + len(body), vaddr, 0,
                                   filesz, memsz, 4096))
        body += data[:filesz]
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = struct.pack("<16sHHIQQQIHHHHHH", ident, 4, 62, 1, 0, 64, 0, 0, 64, 56,
                         count, 64, 0, 0)
    with open(path, "wb") as out:
        out.write(header + b"".join(headers) + body)


def walk(image, reader=None, symbolize=None, accelerate=True):
    """Reads the image's root and walks its heap, as the commands do;
    `symbolize(address) -> (symbol, line)` names sites; accelerate=False
    keeps the walk in Python even where the native walker is loaded."""
    from antgdb import heap
    from antgdb.sites import Sites

    reader = reader or image.reader()
    return heap.walk(reader, L.read_root(reader, image.root), Sites(symbolize), accelerate)


def sample():
    """A small heap used across tests: one arena, one HEAP region of
    16 KiB holding used and free blocks, and one big block."""
    image = Image()
    arena = image.arena()
    region = arena.region(0x4000)
    blocks = [region.used(24), region.free(160, serial=90, site=0x401200, requested=100),
              region.used(100), region.free(96), region.used(1), region.used(40)]
    big = arena.big(100000)
    image.build()
    return image, blocks, big
