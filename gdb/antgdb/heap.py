"""Walk an Ant heap: root -> arenas -> HEAP regions and big mappings -> nodes.

One walk feeds every output: the summary, the block rows, the check and the
block lookup (model.Heap). It trusts no pointer: every list is bounded (a
visited set, a hard cap, region bounds), every read may fail, and after a
bad node the walk resynchronises by adjacency (node + size, when the node
there verifies and its below agrees), or by scanning for the next node
whose check verifies, then goes on. The hot loop reads the heap in windows
of a MiB and tests their nodes with a fastpath runner, in C where
gdb/native is built; any node it refuses goes to check.Checker.
"""
import bisect
import struct

from . import fastpath, inflight, kept, native
from .check import Checker
from .errors import Unreadable
from .layout import (
    ALIGNMENT, CACHE_MAGIC, CACHE_STATES, FLAG_BUSY, MIN_BLOCK, NODE_SIZE, NODE_WORDS,
    REGION_BIG, REGION_HEAP, REGION_MAGIC, STATE_CACHED, STATE_USED, ascii_word, node_below,
    node_flags, node_size, node_state,
)
from .memory import WINDOW, next_readable, read_upto
from .model import REGION_KINDS, Arena, Cache, Heap, Region
from .sites import Sites
from .stacks import Stacks

MAX_REGIONS = 1 << 16  # per list: more means the list loops in a way we missed
MAX_REGION_LENGTH = 1 << 46
MAX_BLOCKS = 1 << 28  # a hard stop, far above any heap a Python walk can hold
MAX_CACHES = 1 << 16  # one per thread that ever allocated; more means a loop
# How far above a node the walk looks for the node that its size should
# have led to, as the allocator's own check does.
REACH = 64 << 10
SCAN_WINDOW = 1 << 10  # a quarter of the first window a scan reads
_SIZE = struct.Struct("<I")
_LINKS = struct.Struct("<QQ")
_CONTENT_KINDS = ("overflow", "use-after-free", "coalesce")


def walk(reader, layout, sites=None, accelerate=True):
    """Walks the heap of a validated root and checks it; returns a Heap.
    `sites` (a sites.Sites) names the allocator's callers in sentences;
    accelerate=False keeps the hot loop in Python even where the native
    walker is loaded (it finds the same)."""
    heap = Heap(layout, reader)
    heap.kept = kept.slots(layout)
    heap.stacks = Stacks(reader, layout)
    if heap.stacks.error:
        heap.notes.append(heap.stacks.error + ": call stacks show as their ids")
    sites = sites or Sites()
    sites.stacks = heap.stacks
    accelerator = native.load() if accelerate else None
    checker = Checker(heap, sites, accelerator)
    checker.last_error()
    _Walk(heap, checker, accelerator).run()
    checker.finish()
    return heap


def _unsound(problems):
    """True when a node's problems make its own fields untrustworthy, so
    that the arena's counters cannot be held against the walk; damage to
    a block's contents (its tail, its poison) leaves the node sound."""
    return any(problem.kind not in _CONTENT_KINDS for problem in problems)


class _Walk:
    def __init__(self, heap, checker, accelerator):
        self.heap = heap
        self.check = checker
        self.native = accelerator  # a native.Native, or None
        self.reader = heap.reader
        self.layout = heap.layout
        self.spans = []  # (start, end) of regions already walked, sorted
        self.scanner = None  # fastpath's scanner, once a scan is needed

    def run(self):
        layout = self.layout
        arenas = self._arena_bytes()
        self.reader, journals = inflight.undo(self.reader, layout, arenas)
        self.heap.reader = self.reader
        self.heap.journals = journals
        for journal in journals:
            self.check.journal(journal)
        self._caches()
        for index, address, _ in arenas:
            # Read again, as they were before any change under way.
            arena = Arena(index, address, layout.decode(
                "arena", self.reader.read(address, layout.arena_size)))
            if arena.values["index"] != index:
                self.check.add("link", "I14", "root.arenas[%d] is 0x%x, but that "
                               "arena says its index is %d"
                               % (index, address, arena.values["index"]))
            self.heap.arenas.append(arena)
        inflight.release_held(self.reader, layout,
                              [arena.values["busy"] for arena in self.heap.arenas],
                              self.heap.busy)
        for arena in self.heap.arenas:
            self._list(arena, arena.values["regions"], REGION_HEAP, arena.regions)
            self._list(arena, arena.values["bigs"], REGION_BIG, arena.bigs)

    def _arena_bytes(self):
        """[(index, address, bytes)] of every arena the root lists, as
        memory holds them now."""
        layout = self.layout
        arenas = []
        for index, address in enumerate(layout.arena_addresses):
            if not address:
                self.check.add("link", "I14", "root.arenas[%d] is null, but "
                               "root.arena_count is %d" % (index, layout.arena_count))
                continue
            try:
                arenas.append((index, address, self.reader.read(address, layout.arena_size)))
            except Unreadable as error:
                self.check.add("unreadable", "I14", "arena %d (root.arenas[%d] = "
                               "0x%x): %s" % (index, index, address, error))
        return arenas

    # -- thread caches ------------------------------------------------------

    def _caches(self):
        """Reads root.caches before the blocks, so that a node a thread was
        changing (BUSY, named by its cache's busy) is known when met. The
        lists inside the caches are checked once the blocks are known."""
        layout = self.layout
        address, seen, previous = layout.caches, set(), None
        while address:
            came = "cache 0x%x.next" % previous if previous else "root.caches"
            if address in seen or len(seen) >= MAX_CACHES:
                self.check.add("link", "I17", "%s leads back to cache 0x%x: the "
                               "list of caches loops" % (came, address))
                return
            seen.add(address)
            try:
                data = self.reader.read(address, layout.cache_size)
            except Unreadable as error:
                self.check.add("unreadable", "I17", "%s leads to 0x%x: %s"
                               % (came, address, error))
                return
            values = layout.decode("cache", data)
            if values["magic"] != CACHE_MAGIC:
                self.check.add("header", "I17", "%s leads to 0x%x, which is not a "
                               "thread cache: its magic is 0x%016x, expected 0x%016x "
                               "(\"ANT-TCAC\")" % (came, address, values["magic"], CACHE_MAGIC))
                return
            state = CACHE_STATES.get(values["state"])
            if state is None:
                self.check.add("state", "I17", "cache 0x%x.state is 0x%08x, neither "
                               "LIVE, IDLE nor DEPOT" % (address, values["state"]))
                state = "0x%08x" % values["state"]
            values["state"] = state
            bins, counts = self._cache_bins(address, data, values)
            cache = Cache(address, values, bins, counts)
            self.heap.caches.append(cache)
            if values["busy"]:
                self.heap.busy[values["busy"]] = "thread %d (cache 0x%x)" % (
                    values["thread"], address)
                self.heap.inflight.append(self._moving(address, values))
            previous, address = address, values["next"]

    def _moving(self, address, values):
        """What a thread cache was doing with the block its busy names."""
        node = values["busy"]
        mem = node + NODE_SIZE
        how = "moving mem 0x%x into or out of its cache" % mem
        try:
            words = NODE_WORDS.unpack(self.reader.read(node, NODE_SIZE))
        except Unreadable:
            words = None
        if words is not None and node_flags(words) & FLAG_BUSY:
            if node_state(words) == STATE_USED:
                how = "free(): putting mem 0x%x into its cache" % mem
            elif node_state(words) == STATE_CACHED:
                how = "malloc(): taking mem 0x%x out of its cache" % mem
        return "thread %d (cache 0x%x) %s%s" % (values["thread"], address,
                                                "inside " if "()" in how else "", how)

    def _cache_bins(self, address, data, values):
        layout = self.layout
        count = values["bin_count"]
        offset, size = layout.fields["cache.bins"]
        coffset, csize = layout.fields["cache.counts"]
        room = min(size // 8, csize // 2)
        if count != room:
            self.check.add("size", "I17", "cache 0x%x.bin_count is %d, but the "
                           "layout has room for %d bins" % (address, count, room))
            count = min(count, room)
        bins = list(struct.unpack_from("<%dQ" % count, data, offset))
        counts = list(struct.unpack_from("<%dH" % count, data, coffset))
        return bins, counts

    # -- region lists ------------------------------------------------------

    def _list(self, arena, address, kind, into):
        name = "arena %d's %s list" % (arena.index, "region" if kind == REGION_HEAP else "big")
        seen = set()
        previous = 0
        while address:
            if address in seen:
                self.check.add("link", "I15", "%s loops: region 0x%x.next leads back "
                               "to 0x%x" % (name, previous, address))
                arena.cut = True
                return
            if len(seen) >= MAX_REGIONS:
                self.check.add("link", "I15", "%s holds more than %d regions: it "
                               "probably loops" % (name, MAX_REGIONS))
                arena.cut = True
                return
            seen.add(address)
            if self._full(None):
                arena.cut = True
                return
            region = self._region(arena, address, kind, previous, name)
            if region is None:
                arena.cut = True
                return
            into.append(region)
            self.heap.regions.append(region)
            region.lo = len(self.heap.nodes)
            if region.kind == "heap":
                self._heap_region(region)
            else:
                self._big(region)
            region.hi = len(self.heap.nodes)
            previous, address = address, region.values["next"]

    def _region(self, arena, address, kind, previous, name):
        """Reads and checks a region header; None when it cannot be walked."""
        layout = self.layout
        came = "region 0x%x.next" % previous if previous else name
        try:
            data = self.reader.read(address, layout.region_size)
        except Unreadable as error:
            self.check.add("unreadable", "I15", "%s leads to 0x%x: %s" % (came, address, error))
            return None
        values = layout.decode("region", data)
        if values["magic"] != REGION_MAGIC:
            self.check.add("header", "I15", "%s leads to 0x%x, which is not a region "
                           "header: its magic is 0x%016x, expected 0x%016x (\"ANT-REGN\")"
                           % (came, address, values["magic"], REGION_MAGIC))
            return None
        region = Region(address, arena.index, values)
        wanted = REGION_KINDS[kind]
        if region.kind != wanted:
            letters = ascii_word(values["kind"])
            self.check.add("link", "I15", "%s leads to region 0x%x of kind 0x%x%s, "
                           "expected %s" % (came, address, values["kind"],
                                            ' ("%s")' % letters if letters else "",
                                            wanted.upper()))
            if region.kind == "unknown":
                return None
            region.damaged = True
        if values["prev"] != previous:
            self.check.add("link", "I15", "region 0x%x.prev is 0x%x, but it is reached "
                           "from %s" % (address, values["prev"],
                                        "0x%x" % previous if previous else name))
        if values["arena"] != arena.index:
            self.check.add("link", "I15", "region 0x%x.arena is %d, but it is in %s"
                           % (address, values["arena"], name))
        start = address + layout.region_header_size
        if not layout.region_header_size + layout.min_block <= region.length <= MAX_REGION_LENGTH:
            self.check.add("size", "I16", "region 0x%x.length %d cannot be"
                           % (address, region.length))
            return None
        if region.kind == "heap" and not (
                start <= region.wilderness <= region.end
                and region.wilderness % layout.alignment == 0):
            self.check.add("size", "I7", "region 0x%x.wilderness is 0x%x, outside "
                           "its blocks 0x%x..0x%x" % (address, region.wilderness, start, region.end))
            region.wilderness = self._guess_wilderness(region, start)
            region.damaged = True
        overlap = self._overlap(address, region.end)
        if overlap is not None:
            self.check.add("link", "I15", "%s leads to region 0x%x..0x%x, which "
                           "overlaps region 0x%x..0x%x" % ((came, address, region.end) + overlap))
            return None
        return region

    def _guess_wilderness(self, region, start):
        """Where blocks end when region.wilderness is damaged: after
        region.last if that is a sound node, else the region's end."""
        last = region.values["last"]
        if start <= last < region.end and self.check.verifies(last):
            size = node_size(NODE_WORDS.unpack(self.reader.read(last, NODE_SIZE)))
            if last < last + size <= region.end:
                return last + size
        return region.end

    def _overlap(self, start, end):
        index = bisect.bisect_left(self.spans, (start, end))
        for other in self.spans[max(0, index - 1):index + 1]:
            if other[0] < end and start < other[1]:
                return other
        self.spans.insert(index, (start, end))
        return None

    # -- a HEAP region: the hot loop -----------------------------------------

    def _heap_region(self, region):
        """Walks the blocks of a HEAP region by adjacency, a window at a
        time: a fastpath runner tests the nodes of the window, and the first
        node it refuses goes to the checker."""
        start = region.address + self.layout.region_header_size
        end = region.wilderness
        self._region_first(region, start, end)
        run = fastpath.runner(fastpath.Params(self.layout, region.arena), region.arena, end,
                              self.heap.nodes, self.heap.frees, self.heap.cached, self.native)
        cur, last, last_free = start, 0, None
        buf, base, top = b"", start, start
        while cur < end:
            if cur + NODE_SIZE > top:
                if self._full(region):
                    break
                buf, base = self._window(cur, end)
                top = base + len(buf)
                if cur + NODE_SIZE > top:
                    cur, last, last_free = self._slow(region, cur, last, last_free, end)
                    continue
            cur, last, last_free, failed = run(buf, base, cur, last, last_free)
            if not failed:
                continue
            size = _SIZE.unpack_from(buf, cur - base)[0]
            if cur > base and top < cur + size <= min(end, cur + WINDOW):
                # The block runs past the window but would fit in one read
                # from its node: read that, and test the block again whole.
                top = cur
                continue
            cur, last, last_free = self._slow(region, cur, last, last_free, end)
        region.requested_bytes += run.requested
        region.free_blocks += run.free_count
        region.free_bytes += run.free_bytes
        region.largest_free = max(region.largest_free, run.largest)
        region.cached_blocks += run.cached_count
        region.cached_bytes += run.cached_bytes
        # Blocks tile what the walk covered: the used bytes are the rest.
        region.used_bytes = (cur - start - region.skipped_bytes - region.free_bytes
                             - region.unknown_bytes - region.cached_bytes
                             - region.quarantined_bytes)
        self._region_last(region, start, end, last)

    def _full(self, region):
        """True, once said, when the walk has listed MAX_BLOCKS blocks."""
        if len(self.heap.nodes) < MAX_BLOCKS:
            return False
        if not self.heap.notes or "stopped after" not in self.heap.notes[-1]:
            self.heap.notes.append("the walk stopped after %d blocks" % MAX_BLOCKS)
        if region is not None:
            region.damaged = True
        return True

    def _window(self, cur, end):
        try:
            data = read_upto(self.reader, cur, max(NODE_SIZE, min(WINDOW, end - cur)), NODE_SIZE)
        except Unreadable:
            return b"", cur
        return data, cur

    def _region_first(self, region, start, end):
        """I5: region.first is the node right after the header, and both
        ends are 0 while the region is empty."""
        first = region.values["first"]
        if start == end:
            if first or region.values["last"]:
                self.check.add("link", "I5", "region 0x%x has no blocks (its wilderness "
                               "starts at 0x%x), yet region.first is 0x%x and region.last "
                               "0x%x" % (region.address, end, first, region.values["last"]))
        elif first != start:
            self.check.add("link", "I5", "region 0x%x.first is 0x%x, but its first node "
                           "is at 0x%x, right after the header"
                           % (region.address, first, start))

    def _region_last(self, region, start, end, last):
        """I5: region.last is the block that ends at the wilderness."""
        if start == end or region.damaged:
            return
        if region.values["last"] != last:
            self.check.add("link", "I5", "region 0x%x.last is 0x%x, but its last node "
                           "(the one ending at the wilderness 0x%x) is 0x%x"
                           % (region.address, region.values["last"], end, last))

    # -- the slow path: one node the fast test rejected -----------------------

    def _slow(self, region, cur, last, last_free, end):
        """Checks the node at cur in full, records it, and returns the walk's
        next (cur, last, last_free). `last` is the node below, 0 for none,
        None when unknown."""
        try:
            data = self.reader.read(cur, NODE_SIZE)
        except Unreadable as error:
            self.check.add("unreadable", "I16", "node 0x%x of region 0x%x: %s"
                           % (cur, region.address, error), cur)
            region.damaged = True
            resume = self._resume(cur, end)[0]
            region.skipped_bytes += resume - cur
            return resume, None, last_free
        sound = self.check.sound(cur, data)
        if last and not sound:
            real = self._real_next(last, cur, end)
            if real is not None:
                # No node where the block below says, but one further up
                # reaches back to it: that block's size is what is wrong.
                self.check.misplaced(last, cur, real)
                self._stretch(region, last, real - last)
                region.damaged = True
                return real, last, last_free
        extent = self._misplaced_above(cur, data, end) if sound else None
        problems = len(self.heap.problems)
        expect_below = None if last is None else cur - last if last else 0
        report = self.check.node(cur, data, expect_below, end, region, last or None, extent)
        region.damaged |= _unsound(self.heap.problems[problems:])
        resume, trusted = cur + report.size, True
        if not (report.head_ok and report.size_ok):
            region.damaged = True
            resume, trusted = self._resync(cur, end, report)
        self._record(region, cur, report, resume - cur)
        if report.state == "free" and last and last_free == last:
            self.check.coalesce(last, cur)
        # Resumed by a scan, the walk knows no node below the next one.
        return resume, (cur if trusted else None), (
            cur if report.state == "free" else last_free)

    def _record(self, region, cur, report, extent):
        heap = self.heap
        heap.nodes.append(cur)
        if extent != report.node_size or not report.head_ok:
            heap.extents[cur] = extent
        if report.state == "used":
            if report.head_ok:
                region.requested_bytes += report.requested
        elif report.state == "free":
            region.free_blocks += 1
            region.free_bytes += extent
            region.largest_free = max(region.largest_free, extent)
            heap.frees.add(cur, region.arena, extent, *self._links(cur, report, extent))
        elif report.state == "cached":
            region.cached_blocks += 1
            region.cached_bytes += extent
            heap.cached[cur] = (region.arena, extent) + self._links(cur, report, extent)
        elif report.state == "quarantined" and region.kind == "heap":
            region.quarantined_blocks += 1
            region.quarantined_bytes += extent
            heap.quarantined[cur] = (region.arena, extent) + self._links(cur, report, extent)
        else:
            region.damaged = True
            region.unknown_blocks += 1
            region.unknown_bytes += extent

    def _links(self, cur, report, extent):
        """The two words a sound free or cached node's mem starts with (its
        links), or (None, None)."""
        if report.head_ok and extent >= MIN_BLOCK:
            try:
                return _LINKS.unpack(self.reader.read(cur + NODE_SIZE, 16))
            except Unreadable:
                pass
        return None, None

    def _stretch(self, region, node, extent):
        """The block at node, already recorded, spans `extent` bytes, not
        what its size says."""
        heap = self.heap
        was = heap.extents.get(node)
        if was is None:
            was = node_size(NODE_WORDS.unpack(self.reader.read(node, NODE_SIZE)))
        heap.extents[node] = extent
        if node in heap.frees:
            heap.frees.resize(node, extent)
            region.free_bytes += extent - was
            region.largest_free = max(region.largest_free, extent)
        elif node in heap.cached:
            heap.cached[node] = (heap.cached[node][0], extent) + heap.cached[node][2:]
            region.cached_bytes += extent - was
        elif node in heap.quarantined:
            entry = heap.quarantined[node]
            heap.quarantined[node] = (entry[0], extent) + entry[2:]
            region.quarantined_bytes += extent - was

    # -- finding sound nodes again -------------------------------------------

    def _misplaced_above(self, cur, data, end):
        """The extent of the sound node at cur when its size leads to no
        node whose below agrees, and a node further up reaches back to it;
        else None. Said as a problem: its size is wrong."""
        size = node_size(NODE_WORDS.unpack(data))
        after = cur + size
        if size % ALIGNMENT or size < MIN_BLOCK or after == end or (
                after + MIN_BLOCK <= end and self.check.verifies(after)
                and self._below_of(after) == size):
            return None
        real = self._real_next(cur, after, end)
        if real is None:
            return None
        self.check.misplaced(cur, after, real)
        return real - cur

    def _real_next(self, below, cur, end):
        """The node the block at `below` really ends at, when no node lies
        at cur, where its size says: the lowest node within REACH above it
        whose check verifies, whose below reaches back to it and whose own
        size leads on to a sound node or the wilderness; None if none."""
        at, stop = below + MIN_BLOCK, min(end, below + REACH)
        while at < stop:
            node = self._find(at, stop, below)
            if node is None:
                return None
            if node != cur and self._leads_on(node, end):
                return node
            at = node + ALIGNMENT
        return None

    def _leads_on(self, node, end):
        size = node_size(NODE_WORDS.unpack(self.reader.read(node, NODE_SIZE)))
        after = node + size
        return size % ALIGNMENT == 0 and size >= MIN_BLOCK and (
            after == end or (after + MIN_BLOCK <= end and self.check.verifies(after)
                             and self._below_of(after) == size))

    def _below_of(self, node):
        return node_below(NODE_WORDS.unpack(self.reader.read(node, NODE_SIZE)))

    def _resync(self, cur, end, report):
        """(where the next trustworthy node is after a bad one, whether the
        node at cur is known to be the one below it): by adjacency when the
        node at cur + size verifies and its below agrees, or when a sound
        node's size ends at the wilderness; else by a scan (end when there
        is no node). A damaged node's size may say anything, the wilderness
        too."""
        if report.size_ok:
            after = cur + report.size
            if after == end and report.head_ok:
                return end, True
            if after != end and self.check.verifies(after) and self._below_of(after) == report.size:
                return after, True
        return self._resume(cur, end)

    def _resume(self, cur, end):
        """(the lowest node above cur whose check verifies and whose below
        does not reach under cur, whether it reaches exactly to cur); (end,
        False) when there is none."""
        at = cur + ALIGNMENT
        while True:
            node = self._find(at, end)
            if node is None:
                return end, False
            below = self._below_of(node)
            if below and below % ALIGNMENT == 0 and node - below >= cur:
                return node, node - below == cur
            at = node + ALIGNMENT

    def _find(self, at, stop, anchor=None):
        """The lowest address in [at, stop) holding a node whose check
        verifies (and whose below reaches back to `anchor`, if given), read
        a window at a time and stepping over what cannot be read; None if
        there is none."""
        if self.scanner is None:
            self.scanner = fastpath.scanner(fastpath.Params(self.layout, 0), self.native)
        at += -at % ALIGNMENT
        # The node sought is most often a block or two away: the windows
        # start small and grow.
        window = SCAN_WINDOW
        while at < stop:
            window = min(4 * window, WINDOW)
            try:
                data = read_upto(self.reader, at, min(window, stop - at + NODE_SIZE), 1)
            except Unreadable:
                resume = next_readable(self.reader, at, stop)
                if resume is None:
                    return None
                at = resume + (-resume % ALIGNMENT)
                continue
            node = self.scanner(data, at, at, anchor)
            if node is not None:
                return node if node < stop else None
            # The next window starts where a node cut off at this one's end does.
            at += max(ALIGNMENT, len(data) - NODE_SIZE + ALIGNMENT)
            at += -at % ALIGNMENT
        return None

    # -- a big mapping: one block of its own -------------------------------

    def _big(self, region):
        node = region.values["first"]
        start = region.address + self.layout.region_header_size
        if node != region.values["last"]:
            self.check.add("link", "I5", "big mapping 0x%x.first is 0x%x but its .last "
                           "is 0x%x: a big mapping holds one block"
                           % (region.address, node, region.values["last"]))
        if not start <= node <= region.end - MIN_BLOCK:
            self.check.add("link", "I5", "big mapping 0x%x.first is 0x%x, outside its "
                           "bytes 0x%x..0x%x" % (region.address, node, start, region.end))
            region.damaged = True
            return
        if (node + NODE_SIZE) % ALIGNMENT:
            self.check.add("size", "I12", "big mapping 0x%x holds its node at 0x%x, "
                           "so its mem is not %d-byte aligned"
                           % (region.address, node, ALIGNMENT))
            region.damaged = True
            return
        try:
            data = self.reader.read(node, NODE_SIZE)
        except Unreadable as error:
            self.check.add("unreadable", "I16", "node of big mapping 0x%x: %s"
                           % (region.address, error), node)
            region.damaged = True
            return
        problems = len(self.heap.problems)
        report = self.check.node(node, data, node - region.address, region.end, region, None)
        region.damaged |= _unsound(self.heap.problems[problems:])
        if report.head_ok and report.size_ok:
            extent = report.size
        else:
            extent = region.end - node
        self._record(region, node, report, extent)
        if report.state == "used":
            region.used_bytes = extent
