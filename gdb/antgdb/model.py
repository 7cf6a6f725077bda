"""What one walk of an Ant heap found: its arenas, regions and blocks.

The walk keeps one column of node addresses (array 'Q') and the few facts
that cannot be read again from memory (extents of damaged blocks, free
links, problems); a Block is decoded on demand from the same reader, so a
million blocks cost a few bytes each.
"""
import bisect
from array import array

from . import native
from .check import STATE_NAMES
from .columns import Columns
from .errors import Unreadable
from .layout import (
    MASK32, NODE_SIZE, NODE_WORDS, REGION_BIG, REGION_HEAP, node_serial, node_site,
)
from .memory import WINDOW, read_upto
from .selection import Selection, chosen_indices

REGION_KINDS = {REGION_HEAP: "heap", REGION_BIG: "big"}


class Region:
    """A HEAP region or a big mapping, with what the walk found in it."""

    def __init__(self, address, arena, values):
        self.address = address
        self.arena = arena
        self.values = values
        self.kind = REGION_KINDS.get(values["kind"], "unknown")
        self.length = values["length"]
        self.end = address + self.length
        self.wilderness = values["wilderness"] if self.kind == "heap" else self.end
        self.lo = self.hi = 0  # its blocks are heap.nodes[lo:hi]
        self.free_blocks = self.unknown_blocks = self.cached_blocks = 0
        self.requested_bytes = self.used_bytes = self.cached_bytes = 0
        self.quarantined_blocks = self.quarantined_bytes = 0
        self.free_bytes = self.unknown_bytes = 0
        self.largest_free = self.skipped_bytes = 0
        self.damaged = False

    @property
    def blocks(self):
        return self.hi - self.lo

    @property
    def used_blocks(self):
        return (self.blocks - self.free_blocks - self.unknown_blocks - self.cached_blocks
                - self.quarantined_blocks)

    @property
    def wilderness_bytes(self):
        return self.end - self.wilderness if self.kind == "heap" else 0

    @property
    def largest_extent(self):
        return max(self.largest_free, self.wilderness_bytes)

    @property
    def fragmentation(self):
        """1 - largest free extent / free bytes, the wilderness counting as
        one free extent: 0 when all free space is in one piece."""
        free = self.free_bytes + self.wilderness_bytes
        return 1.0 - self.largest_extent / free if free else 0.0


class Arena:
    """An arena: its fields as the table names them, and its regions."""

    def __init__(self, index, address, values):
        self.index = index
        self.address = address
        self.values = values
        self.regions = []
        self.bigs = []
        self.cut = False  # a region list ended early: the walk missed some

    @property
    def damaged(self):
        return self.cut or any(region.damaged for region in self.regions + self.bigs)

    def walk_counters(self):
        """The arena counters as the walk finds them, named as the table.
        The arena counts cached and quarantined blocks as handed out, with
        the used ones."""
        every = self.regions + self.bigs
        return {
            "used_blocks": sum(r.used_blocks + r.cached_blocks + r.quarantined_blocks
                               for r in every),
            "free_blocks": sum(r.free_blocks for r in every),
            "requested_bytes": sum(r.requested_bytes for r in every),
            "used_bytes": sum(r.used_bytes + r.cached_bytes + r.quarantined_bytes
                              for r in every),
            "free_bytes": sum(r.free_bytes for r in every),
            "wilderness_bytes": sum(r.wilderness_bytes for r in every),
            "mapped_bytes": sum(r.length for r in every),
            "region_count": len(self.regions),
            "big_count": len(self.bigs),
        }


class Cache:
    """A thread cache, as root.caches lists it."""

    def __init__(self, address, values, bins, counts):
        self.address = address
        self.values = values
        self.thread = values["thread"]
        self.state = values["state"]  # "live", "idle", or the raw word
        self.bins = bins  # the top node of each bin, or 0
        self.counts = counts
        self.listed = 0  # blocks its lists were found to hold
        self.listed_bytes = 0

    def as_dict(self):
        return {
            "address": self.address, "thread": self.thread, "state": self.state,
            "blocks": self.values["blocks"], "bytes": self.values["bytes"],
            "allocations": self.values["allocations"], "frees": self.values["frees"],
            "busy": self.values["busy"] or None,
        }


def kinds(problems):
    """The kinds of a block's problems, each once, in the order found: the
    walk's and the allocator's report of one overflow are one kind."""
    return list(dict.fromkeys(problem.kind for problem in problems))


def damaged(problems):
    """True when a node's own fields cannot be believed."""
    return any(problem.kind in ("header", "unreadable") for problem in problems)


def requested(words, region, state):
    """A row's requested bytes: a USED block's (a big one's are in its
    mapping's header), 0 for any other; a free or cached node keeps its
    last owner's, which ant-block shows as a field."""
    if state != "used":
        return 0
    return region.values["big_requested"] if region.kind == "big" else words[1] & MASK32


class Block:
    """One block, decoded from its node; `size` is the extent the walk gave
    it (node.size, a big block's from its mapping's header, or up to the
    next sound node after damage); `requested` as a row has it."""

    __slots__ = ("index", "node", "mem", "size", "requested", "state", "serial",
                 "site", "arena", "region", "big", "words", "problems")

    def as_row(self):
        return {
            "node": self.node, "mem": self.mem, "size": self.size,
            "requested": self.requested, "state": self.state,
            "serial": self.serial, "site": self.site, "arena": self.arena,
            "region": self.region.address, "big": self.big,
            "problems": kinds(self.problems),
        }


class FreeBlocks:
    """Every free block the walk found, in walk order (region by region as
    heap.regions has them, by address within one): its node, size, arena
    and the two free links its mem starts with (unknown where its node is
    damaged), in columns. A million blocks' heap holds a quarter million
    free ones: as a dict of tuples they took longer to build than the walk
    took, and the native walker checks their links (I9) in these columns."""

    def __init__(self):
        self.nodes, self.sizes, self.arenas = array("Q"), array("Q"), array("Q")
        self.nexts, self.prevs = array("Q"), array("Q")
        self.known = bytearray()  # 1 where the links were read
        self._index = None  # node -> its place in the columns, once asked

    def __len__(self):
        return len(self.nodes)

    def add(self, node, arena, size, nxt, prv):
        """One more free block; nxt and prv None when unknown."""
        if self._index is not None:
            self._index[node] = len(self.nodes)
        self.nodes.append(node)
        self.sizes.append(size)
        self.arenas.append(arena)
        self.nexts.append(nxt or 0)
        self.prevs.append(prv or 0)
        self.known.append(nxt is not None)

    def extend(self, arena, records, count):
        """`count` more, from (node, size, next, prev) records, four words
        each, of one arena, their links known."""
        records = records[:4 * count]
        if self._index is not None:
            self._index.update(zip(records[0::4], range(len(self.nodes), len(self.nodes) + count)))
        self.nodes.extend(records[0::4])
        self.sizes.extend(records[1::4])
        self.nexts.extend(records[2::4])
        self.prevs.extend(records[3::4])
        self.arenas.extend(array("Q", [arena]) * count)
        self.known.extend(b"\1" * count)

    def place(self, node):
        """The place of the free block at node in the columns, or None."""
        if self._index is None:
            self._index = dict(zip(self.nodes, range(len(self.nodes))))
        return self._index.get(node)

    def __contains__(self, node):
        return self.place(node) is not None

    def get(self, node):
        """(arena, size, next link, prev link) of the free block at node,
        the links None when unknown; None when it is no free block."""
        at = self.place(node)
        if at is None:
            return None
        known = self.known[at]
        return (self.arenas[at], self.sizes[at], self.nexts[at] if known else None,
                self.prevs[at] if known else None)

    def resize(self, node, size):
        self.sizes[self.place(node)] = size


class Heap:
    """The result of one walk."""

    def __init__(self, layout, reader):
        self.layout = layout
        self.reader = reader
        self.arenas = []
        self.regions = []  # HEAP regions and big mappings, in walk order
        self.nodes = array("Q")
        self.extents = {}  # node -> extent, where it differs from node.size
        self.frees = FreeBlocks()  # region by region, region.free_blocks each
        self.cached = {}  # cached node -> (arena, size, next in bin, cache)
        self.quarantined = {}  # quarantined node -> (arena, size, next, prev)
        self.caches = []  # Cache, in root.caches order
        self.busy = {}  # node -> the thread cache moving it, as a phrase
        self.journals = []  # inflight.Journal of each arena, as read
        self.inflight = []  # what each thread was changing, as sentences
        self.problems = []
        self.notes = []
        self.kept = []  # kept.Kept of root.kept: guarded blocks, freed ones kept
        self.stacks = None  # stacks.Stacks of root.stacks (layout 6), once walked
        self._by_node = {}
        self._region_starts = None
        self._by_address = None

    def add(self, problem):
        self.problems.append(problem)
        if problem.node is not None:
            self._by_node.setdefault(problem.node, []).append(problem)

    def keep(self, problems):
        """Keeps only these of the problems found."""
        self.problems = list(problems)
        self._by_node = {}
        for problem in self.problems:
            if problem.node is not None:
                self._by_node.setdefault(problem.node, []).append(problem)

    def problems_of(self, node):
        return self._by_node.get(node, ())

    def region_of(self, index):
        if self._region_starts is None:
            self._region_starts = [region.lo for region in self.regions]
        return self.regions[bisect.bisect_right(self._region_starts, index) - 1]

    def block(self, index):
        node = self.nodes[index]
        words = NODE_WORDS.unpack(self.reader.read(node, NODE_SIZE))
        return self._block(index, node, words, self.region_of(index))

    def _block(self, index, node, words, region):
        block = Block()
        block.index = index
        block.node = node
        block.mem = node + NODE_SIZE
        block.size = self.extents.get(node, words[0] & MASK32)
        block.state = STATE_NAMES.get(words[3] & 0xFF, "unknown")
        block.requested = requested(words, region, block.state)
        block.serial = node_serial(words)
        block.site = node_site(words)
        block.arena = region.arena
        block.region = region
        block.big = region.kind == "big"
        block.words = words
        block.problems = list(self._by_node.get(node, ()))
        return block

    def blocks(self):
        return self.select()

    def select(self, state=None, min_size=0, limit=None):
        """The blocks ant-walk would show, in its order (selection.py)."""
        columns = Columns(self, native.load())
        for indices in chosen_indices(self, columns, Selection(state, min_size, limit)):
            for index in indices:
                yield self.block(index)

    def window(self, node, region):
        """The bytes from `node` on, up to a MiB within its region: one
        node at least."""
        size = NODE_SIZE
        try:
            return read_upto(self.reader, node, max(size, min(WINDOW, region.end - node)), size)
        except Unreadable:
            return self.reader.read(node, size)  # says why, as a read of the node would

    def neighbours(self, block):
        """The blocks right below and above in the same region, or None."""
        region = block.region
        below = self.block(block.index - 1) if block.index > region.lo else None
        above = self.block(block.index + 1) if block.index + 1 < region.hi else None
        return below, above

    def region_at(self, address):
        """The region or big mapping whose bytes hold address, or None."""
        if self._by_address is None:
            ordered = sorted(self.regions, key=lambda region: region.address)
            self._by_address = ([region.address for region in ordered], ordered)
        starts, ordered = self._by_address
        index = bisect.bisect_right(starts, address) - 1
        if index >= 0 and address < ordered[index].end:
            return ordered[index]
        return None

    def find(self, address):
        """(the block holding address, interior addresses and the node
        included, or None; a phrase saying where the address is)."""
        region = self.region_at(address)
        if region is not None:
            name = "%s region 0x%x" % (region.kind.upper(), region.address)
            index = bisect.bisect_right(self.nodes, address, region.lo, region.hi) - 1
            if index < region.lo:
                return None, "in the header of %s, before its first node" % name
            block = self.block(index)
            if address < block.node + block.size:
                return block, "in the block at mem 0x%x" % block.mem
            if region.kind == "heap" and address >= region.wilderness:
                return None, "in the wilderness of %s (no block there)" % name
            return None, "in %s, past its last block" % name
        return None, "not in the Ant heap (in no region or big mapping of its arenas)"

    def summary(self):
        """The heap's numbers, summed over arenas."""
        heap_regions = [r for r in self.regions if r.kind == "heap"]
        every = self.regions
        free_bytes = sum(r.free_bytes for r in every)
        wilderness = sum(r.wilderness_bytes for r in every)
        largest_extent = max((r.largest_extent for r in every), default=0)
        all_free = free_bytes + wilderness
        return {
            "layout_version": self.layout.version,
            "root": self.layout.address,
            "arenas": len(self.arenas),
            "regions": len(heap_regions),
            "bigs": len(every) - len(heap_regions),
            "blocks": len(self.nodes),
            "used_blocks": sum(r.used_blocks for r in every),
            "free_blocks": sum(r.free_blocks for r in every),
            "cached_blocks": sum(r.cached_blocks for r in every),
            "cached_bytes": sum(r.cached_bytes for r in every),
            "caches": len(self.caches),
            "quarantined_blocks": sum(r.quarantined_blocks for r in every),
            "quarantined_bytes": sum(r.quarantined_bytes for r in every),
            "quarantine": self.layout.quarantine,
            "unknown_blocks": sum(r.unknown_blocks for r in every),
            "requested_bytes": sum(r.requested_bytes for r in every),
            "used_bytes": sum(r.used_bytes for r in every),
            "free_bytes": free_bytes,
            "wilderness_bytes": wilderness,
            "mapped_bytes": sum(r.length for r in every),
            "largest_free": max((r.largest_free for r in every), default=0),
            "largest_free_extent": largest_extent,
            "fragmentation": 1.0 - largest_extent / all_free if all_free else 0.0,
            "problems": len(self.problems),
        }
