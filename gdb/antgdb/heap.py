"""Walk an Ant heap: root -> arenas -> HEAP regions and big mappings -> nodes.

One walk feeds every output: the summary, the block rows, the check and the
block lookup (model.Heap). It trusts no pointer: every list is bounded (a
visited set, a hard cap, region bounds), every read may fail, and after a
bad node the walk resynchronises by adjacency (node + size), by the next
link, or by scanning for the next node whose head sentinel checks out, then
goes on. The hot loop reads the heap in windows of a MiB and tests their
nodes with a fastpath runner, in C where gdb/native is built; any node it
refuses goes to check.Checker.
"""
import bisect
import re
import struct

from . import fastpath, inflight, native
from .check import Checker
from .errors import Unreadable
from .layout import (
    CACHE_MAGIC, CACHE_STATES, FLAG_BUSY, JOURNAL_VERSION, NODE_WORDS, REGION_BIG, REGION_HEAP, REGION_MAGIC,
    STATE_CACHED, STATE_USED, ascii_word,
)
from .memory import WINDOW, next_readable, read_upto
from .model import REGION_KINDS, Arena, Cache, Heap, Region
from .sites import Sites

MAX_REGIONS = 1 << 16  # per list: more means the list loops in a way we missed
MAX_REGION_LENGTH = 1 << 46
MAX_BLOCKS = 1 << 28  # a hard stop, far above any heap a Python walk can hold
MAX_CACHES = 1 << 16  # one per thread that ever allocated; more means a loop
_WORD = struct.Struct("<Q")
_LINKS = struct.Struct("<QQ")
_STATE_MARK = re.compile(rb"USED|FREE|CACH")  # node.state in ASCII, at node + 48
_STATE_OFFSET = 48
_CONTENT_KINDS = ("overflow", "use-after-free", "coalesce")


def walk(reader, layout, sites=None, accelerate=True):
    """Walks the heap of a validated root and checks it; returns a Heap.
    `sites` (a sites.Sites) names the allocator's callers in sentences;
    accelerate=False keeps the hot loop in Python even where the native
    walker is loaded (it finds the same)."""
    heap = Heap(layout, reader)
    checker = Checker(heap, sites or Sites())
    checker.last_error()
    _Walk(heap, checker, native.load() if accelerate else None).run()
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
        if layout.version >= JOURNAL_VERSION:
            inflight.release_held(self.reader, layout,
                                  [arena.values["busy"] for arena in self.heap.arenas],
                                  self.heap.busy)
        else:
            # Before the journal an arena's lock holder changed a node it
            # held in place: it may be half written.
            for arena in self.heap.arenas:
                if arena.values.get("busy"):
                    self.heap.busy[arena.values["busy"]] = "arena %d's lock holder" % arena.index
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

    # -- thread caches (layout version 2) -----------------------------------

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
                               "LIVE nor IDLE" % (address, values["state"]))
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
        how = "moving mem 0x%x into or out of its cache" % (node + self.layout.node_size)
        try:
            words = NODE_WORDS.unpack(self.reader.read(node, self.layout.node_size))
        except Unreadable:
            words = None
        if words is not None and words[6] >> 48 & FLAG_BUSY:
            state = words[6] & 0xFFFFFFFF
            if state == STATE_USED:
                how = "free(): putting mem 0x%x into its cache" % (node + self.layout.node_size)
            elif state == STATE_CACHED:
                how = "malloc(): taking mem 0x%x out of its cache" % (node + self.layout.node_size)
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
                           "its blocks 0x%x..0x%x" % (address, region.wilderness,
                                                     start, region.end))
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
            size = NODE_WORDS.unpack(self.reader.read(last, self.layout.node_size))[2]
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
        layout = self.layout
        node_size = layout.node_size
        start = region.address + layout.region_header_size
        end = region.wilderness
        self._region_ends(region, start, end)
        run = fastpath.runner(fastpath.Params(layout, region.arena), region.arena, end,
                              self.heap.nodes, self.heap.frees, self.heap.cached, self.native)
        cur, last, last_free = start, 0, None
        buf, base, top = b"", start, start
        while cur < end:
            if cur + node_size > top:
                if self._full(region):
                    break
                buf, base = self._window(cur, end)
                top = base + len(buf)
                if cur + node_size > top:
                    cur, last, last_free = self._slow(region, cur, last, last_free, end)
                    continue
            cur, last, last_free, failed = run(buf, base, cur, last, last_free)
            if not failed:
                continue
            size = _WORD.unpack_from(buf, cur - base + 16)[0]
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
                             - region.unknown_bytes - region.cached_bytes)
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
            data = read_upto(self.reader, cur, max(self.layout.node_size, min(WINDOW, end - cur)),
                             self.layout.node_size)
        except Unreadable:
            return b"", cur
        return data, cur

    def _region_ends(self, region, start, end):
        first = region.values["first"]
        if start == end:
            if first or region.values["last"]:
                self.check.add("link", "I4", "region 0x%x has no blocks (its wilderness "
                               "starts at 0x%x), yet region.first is 0x%x and region.last "
                               "0x%x" % (region.address, end, first, region.values["last"]))
        elif first != start:
            self.check.add("link", "I4", "region 0x%x.first is 0x%x, but its first node "
                           "is at 0x%x, right after the header"
                           % (region.address, first, start))

    def _region_last(self, region, start, end, last):
        if start == end or region.damaged:
            return
        if region.values["last"] != last:
            self.check.add("link", "I7", "region 0x%x.last is 0x%x, but its last node "
                           "(the one ending at the wilderness 0x%x) is 0x%x"
                           % (region.address, region.values["last"], end, last))

    # -- the slow path: one node the fast test rejected -----------------------

    def _slow(self, region, cur, last, last_free, end):
        """Checks the node at cur in full, records it, and returns the walk's
        next (cur, last, last_free)."""
        node_size = self.layout.node_size
        try:
            data = self.reader.read(cur, node_size)
        except Unreadable as error:
            self.check.add("unreadable", "I16", "node 0x%x of region 0x%x: %s"
                           % (cur, region.address, error), cur)
            region.damaged = True
            resume = self._scan(cur + self.layout.alignment, end)
            region.skipped_bytes += resume - cur
            return resume, None, last_free
        problems = len(self.heap.problems)
        report = self.check.node(cur, data, last, end, region, last or None)
        region.damaged |= _unsound(self.heap.problems[problems:])
        resume, trusted = cur + report.size, True
        if not (report.head_ok and report.size_ok):
            region.damaged = True
            resume, trusted = self._resync(cur, end, report)
        self._record(region, cur, report, resume - cur)
        if report.state == "free" and last and last_free == last:
            self.check.coalesce(last, cur)
        # After a scan the next node's prev names a node the walk skipped.
        return resume, (cur if trusted else None), (
            cur if report.state == "free" else last_free)

    def _record(self, region, cur, report, extent):
        heap = self.heap
        heap.nodes.append(cur)
        if extent != report.size or not report.head_ok:
            heap.extents[cur] = extent
        if report.state == "used":
            if report.head_ok:
                region.requested_bytes += report.requested
        elif report.state == "free":
            region.free_blocks += 1
            region.free_bytes += extent
            region.largest_free = max(region.largest_free, extent)
            if report.head_ok and extent >= self.layout.node_size + 16:
                next_link, prev_link = _LINKS.unpack(
                    self.reader.read(cur + self.layout.node_size, 16))
            else:
                next_link = prev_link = None
            heap.frees[cur] = (region.arena, extent, next_link, prev_link)
        elif report.state == "cached":
            region.cached_blocks += 1
            region.cached_bytes += extent
            if report.head_ok and extent >= self.layout.node_size + 16:
                below, cache = _LINKS.unpack(self.reader.read(cur + self.layout.node_size, 16))
            else:
                below = cache = None
            heap.cached[cur] = (region.arena, extent, below, cache)
        else:
            region.damaged = True
            region.unknown_blocks += 1
            region.unknown_bytes += extent

    def _resync(self, cur, end, report):
        """(where the next trustworthy node is after a bad one, whether it
        was found by a link rather than by a scan): by adjacency, by the
        next link, or by scanning for a node whose head checks out (end
        when there is none)."""
        candidates = []
        if report.size_ok:
            candidates.append(cur + report.size)
        if cur < report.next <= end:
            candidates.append(report.next)
        for candidate in candidates:
            if candidate == end or self.check.verifies(candidate):
                return candidate, True
        return self._scan(cur + self.layout.alignment, end), False

    def _scan(self, at, end):
        """The lowest address in [at, end) holding a node whose head checks
        out, found by the ASCII state word at node + 48; end if none."""
        alignment = self.layout.alignment
        node_size = self.layout.node_size
        at += -at % alignment
        while at < end:
            try:
                data = read_upto(self.reader, at, min(WINDOW, end - at + node_size), 1)
            except Unreadable:
                resume = next_readable(self.reader, at, end)
                if resume is None:
                    return end
                at = resume + (-resume % alignment)
                continue
            for match in _STATE_MARK.finditer(data, _STATE_OFFSET):
                node = at + match.start() - _STATE_OFFSET
                if node % alignment == 0 and node < end and self.check.verifies(node):
                    return node
            at += max(alignment, len(data) - _STATE_OFFSET)
            at += -at % alignment
        return end

    # -- a big mapping: one block of its own -------------------------------

    def _big(self, region):
        layout = self.layout
        node = region.values["first"]
        start = region.address + layout.region_header_size
        if node != region.values["last"]:
            self.check.add("link", "I4", "big mapping 0x%x.first is 0x%x but its .last "
                           "is 0x%x: a big mapping holds one block"
                           % (region.address, node, region.values["last"]))
        if not start <= node <= region.end - layout.min_block:
            self.check.add("link", "I4", "big mapping 0x%x.first is 0x%x, outside its "
                           "bytes 0x%x..0x%x" % (region.address, node, start, region.end))
            region.damaged = True
            return
        if (node + layout.node_size) % layout.alignment:
            self.check.add("size", "I12", "big mapping 0x%x holds its node at 0x%x, "
                           "so its mem is not %d-byte aligned"
                           % (region.address, node, layout.alignment))
            region.damaged = True
            return
        try:
            data = self.reader.read(node, layout.node_size)
        except Unreadable as error:
            self.check.add("unreadable", "I16", "node of big mapping 0x%x: %s"
                           % (region.address, error), node)
            region.damaged = True
            return
        problems = len(self.heap.problems)
        report = self.check.node(node, data, 0, region.end, region, None)
        region.damaged |= _unsound(self.heap.problems[problems:])
        if report.head_ok and report.size_ok:
            extent = report.size
        else:
            extent = region.end - node
        self._record(region, node, report, extent)
        if report.state == "used":
            region.used_bytes = extent
