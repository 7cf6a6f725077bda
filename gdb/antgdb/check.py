"""The integrity rules I1..I13 of <ant/layout.h>, each failure a named problem.

The walk (heap.py) runs the cheap tests inline on every node; when one fails
it hands the node to Checker.node(), which finds out which rule broke and
writes one sentence naming both sides of the broken relation and the likely
culprit. Rules that need the whole heap (I9 free links, I10 counters, I13
thread caches) run in Checker.finish() once the walk is done.
"""
import struct

from . import problems
from .errors import Unreadable
from .inflight import STEP_REBUILD_BINS
from .layout import (
    COUNTERS, FLAG_BIG, FLAG_BUSY, FLAG_TURNS, MASK64, NODE_WORDS, STATE_CACHED,
    STATE_FREE, STATE_USED, ascii_word, head_sentinel, tail_sentinel,
)

# Every kind, with what it means; README.md and `help ant-check` show these.
KINDS = problems.KINDS

STATE_NAMES = {STATE_USED: "used", STATE_FREE: "free", STATE_CACHED: "cached"}
POISON_CHUNK = 1 << 20
FREE_LINKS = struct.Struct("<QQ")  # a free block's mem: next, prev


def number(value):
    """A count in decimal, or in hex when it is too large to be one (a
    scribbled field reads better as 0x4141414141414141)."""
    return "%d" % value if value < 1 << 40 else "0x%x" % value


class Problem:
    """One broken rule. `mem` is the damaged block's mem address (None when
    no block can be named); `culprit` the mem of the block that probably
    did it; `source` is "walk", or "allocator" for root.last_error."""

    __slots__ = ("kind", "invariant", "mem", "node", "detail", "culprit", "source")

    def __init__(self, kind, invariant, detail, node=None, mem=None,
                 culprit=None, source="walk"):
        self.kind = kind
        self.invariant = invariant
        self.detail = detail
        self.node = node
        self.mem = mem
        self.culprit = culprit
        self.source = source

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__slots__}


class NodeReport:
    """What Checker.node() learnt about one node, for the walk to go on."""

    __slots__ = ("prev", "next", "size", "requested", "serial", "site",
                 "state_word", "arena", "flags", "head", "state", "head_ok",
                 "size_ok")

    def __init__(self, words):
        (self.prev, self.next, self.size, self.requested, self.serial,
         self.site, word, self.head) = words
        self.state_word = word & 0xFFFFFFFF
        self.arena = (word >> 32) & 0xFFFF
        self.flags = word >> 48
        self.state = STATE_NAMES.get(self.state_word, "unknown")


class Checker:
    """Builds the problems of one heap, naming sites through `sites`
    (a sites.Sites)."""

    def __init__(self, heap, sites):
        self.heap = heap
        layout = heap.layout
        self.secret = layout.secret
        self.node_size = layout.node_size
        self.alignment = layout.alignment
        self.min_block = layout.min_block
        self.tail_size = layout.tail_size
        self.poison = layout.poison
        self.version = layout.version
        self.sites = sites
        self.unjudged = set()  # arenas whose change under way could not be undone
        self.rebuilding = set()  # arenas whose free lists were being rebuilt

    @property
    def reader(self):
        # The walk may replace the heap's reader by one that undoes the
        # changes under way (inflight.undo).
        return self.heap.reader

    # -- wording ---------------------------------------------------------

    def add(self, kind, invariant, detail, node=None, culprit=None):
        if (kind, invariant) not in problems.PAIRS:
            raise ValueError("no rule of <ant/problems.h> is %s (%s)" % (kind, invariant))
        mem = node + self.node_size if node is not None else None
        self.heap.add(Problem(kind, invariant, detail, node, mem, culprit))

    def site(self, address):
        return self.sites.text(address, "no site")

    def owner(self, node):
        """Names a block by its mem, size, serial and site (a free block's
        serial and site are its last owner's)."""
        mem = node + self.node_size
        try:
            report = NodeReport(NODE_WORDS.unpack(self.reader.read(node, self.node_size)))
        except Unreadable:
            return "mem 0x%x (its node cannot be read)" % mem
        if report.state in ("free", "cached"):
            return "%s block mem 0x%x (last owner: serial %d, site %s)" % (
                report.state, mem, report.serial, self.site(report.site))
        return "block mem 0x%x (%d bytes requested, serial %d, site %s)" % (
            mem, report.requested, report.serial, self.site(report.site))

    def verifies(self, address):
        """True when a node whose head sentinel checks out sits at address."""
        if address % self.alignment:
            return False
        try:
            data = self.reader.read(address, self.node_size)
        except Unreadable:
            return False
        return NODE_WORDS.unpack(data)[7] == head_sentinel(self.secret, address, data, self.version)

    def _whereabouts(self, address, region):
        if region.address <= address < region.end:
            return "inside region 0x%x" % region.address
        try:
            self.reader.read(address, 1)
        except Unreadable:
            return "unmapped memory"
        return "outside region 0x%x" % region.address

    # -- one node: I1, I2, I3, I4, I5, I6, I7, I11, I12 --------------------

    def node(self, cur, data, expect_prev, end, region, below):
        """Checks one node whose fast test failed; `expect_prev` is the node
        below (None when the walk could not know it), `end` where blocks
        stop (the wilderness, or a big mapping's end), `below` the node of
        the block below or None."""
        report = NodeReport(NODE_WORDS.unpack(data))
        report.size_ok = (
            report.size % self.alignment == 0
            and report.size >= self.min_block
            and cur + report.size <= end
        )
        expected = head_sentinel(self.secret, cur, data, self.version)
        report.head_ok = expected == report.head
        changing = self._changing(cur, report)
        if not report.head_ok and not changing:
            self._bad_head(cur, data, report, expected, expect_prev, end, region, below)
            return report
        report.head_ok = True
        self._prev(cur, report, expect_prev)
        self._next(cur, report, end, region)
        self._size(cur, report, end, region)
        self._state(cur, report, region)
        if changing:
            return report  # half changed: its contents prove nothing
        if report.state == "used" and report.size_ok and self._holds(report):
            self._tail(cur, report)
        elif report.state in ("free", "cached") and report.size_ok:
            self._poison(cur, report)
        return report

    def _changing(self, cur, report):
        """True for a node a thread was changing when memory was read: BUSY
        set and named by a cache's or an arena's busy. Its head and contents
        may be half way; a note says so instead of a problem."""
        if not report.flags & FLAG_BUSY:
            return False
        owner = self.heap.busy.get(cur)
        if owner is None:
            return False
        self.heap.notes.append(
            "node 0x%x: %s was changing it when the memory was read (BUSY), so "
            "its head and contents were not checked" % (cur, owner))
        return True

    def _holds(self, report):
        return self.node_size + report.requested + self.tail_size <= report.size

    def _prev(self, cur, report, expect_prev):
        if expect_prev is None or report.prev == expect_prev:
            return
        if report.prev == cur:
            how = "points to itself (a cycle)"
        elif expect_prev == 0:
            how = "should be 0: it is the first node of its region"
        else:
            how = "but the node below it is 0x%x" % expect_prev
        self.add("link", "I4", "node 0x%x.prev is 0x%x, %s" % (cur, report.prev, how), cur)

    def _next(self, cur, report, end, region):
        if not report.size_ok:
            return
        nxt = report.next
        if region.kind == "big":
            if nxt:
                self.add("link", "I4", "node 0x%x.next is 0x%x, but a big mapping "
                         "holds one block, so it should be 0" % (cur, nxt), cur)
            return
        after = cur + report.size
        expected = after if after < end else 0
        if nxt == expected:
            return
        where = "the wilderness" if after >= end else "0x%x" % after
        if nxt == cur:
            self.add("link", "I4", "node 0x%x.next points to itself (a cycle); "
                     "the next node is %s" % (cur, where), cur)
        elif nxt and not region.address <= nxt < region.end:
            self.add("link", "I4", "node 0x%x.next is 0x%x, which leaves the "
                     "region (%s); the next node is %s"
                     % (cur, nxt, self._whereabouts(nxt, region), where), cur)
        elif nxt and nxt < cur:
            self.add("link", "I4", "node 0x%x.next is 0x%x, back down the region "
                     "(a cycle); the next node is %s" % (cur, nxt, where), cur)
        elif after >= end or self.verifies(after) or not self.verifies(nxt):
            self.add("link", "I5", "node 0x%x.next is 0x%x, but node + size "
                     "(0x%x + %d) is %s" % (cur, nxt, cur, report.size, where), cur)
        else:
            self.add("size", "I5", "node 0x%x.size %d puts the next node at 0x%x, "
                     "where no node is, while node.next 0x%x is a valid node: "
                     "the size is wrong" % (cur, report.size, after, nxt), cur)

    def _size(self, cur, report, end, region):
        size = report.size
        if size % self.alignment:
            self.add("size", "I6", "node 0x%x.size %d is not a multiple of %d"
                     % (cur, size, self.alignment), cur)
        elif size < self.min_block:
            self.add("size", "I6", "node 0x%x.size %d is below the smallest "
                     "block (%d bytes)" % (cur, size, self.min_block), cur)
        elif cur + size > end:
            if region.kind == "heap" and cur + size <= region.end:
                self.add("size", "I7", "node 0x%x.size %d ends at 0x%x, %d bytes "
                         "into the wilderness at 0x%x"
                         % (cur, size, cur + size, cur + size - end, end), cur)
            else:
                self.add("size", "I6", "node 0x%x.size %d ends at 0x%x, past the "
                         "end of its region at 0x%x"
                         % (cur, size, cur + size, region.end), cur)
        elif report.state == "used" and not self._holds(report):
            self.add("size", "I6", "used block 0x%x of %d bytes cannot hold its "
                     "node, %d requested bytes and the tail"
                     % (cur, size, report.requested), cur)
        mem = cur + self.node_size
        if mem % self.alignment:
            self.add("size", "I12", "mem 0x%x is not %d-byte aligned"
                     % (mem, self.alignment), cur)

    def _state(self, cur, report, region):
        big = region.kind == "big"
        if report.state == "cached" and self.version < 2:
            report.state = "unknown"
        if report.state == "unknown":
            letters = ascii_word(report.state_word)
            self.add("state", "I11", "node 0x%x.state is 0x%08x%s, neither USED "
                     "nor FREE%s" % (cur, report.state_word,
                                     ' ("%s")' % letters if letters else "",
                                     " nor CACHED" if self.version >= 2 else ""), cur)
        elif big and report.state != "used":
            self.add("state", "I11", "big block 0x%x is %s, but big blocks are "
                     "always used (freeing one unmaps it)" % (cur, report.state.upper()), cur)
        elif report.state == "cached" and report.requested and cur not in self.heap.busy:
            self.add("state", "I11", "cached block 0x%x has %d requested bytes, but a "
                     "cached block has none" % (cur, report.requested), cur)
        if report.flags & FLAG_BUSY and cur not in self.heap.busy:
            self.add("state", "I11", "node 0x%x.flags 0x%x has BUSY set, but no thread "
                     "cache or arena names it as changing it" % (cur, report.flags), cur)
        if big != bool(report.flags & FLAG_BIG):
            self.add("state", "I11", "node 0x%x.flags 0x%x %s the big flag, but "
                     "it lies in a %s region" % (
                         cur, report.flags, "has" if report.flags & FLAG_BIG else
                         "lacks", region.kind.upper()), cur)
        if report.arena != region.arena:
            self.add("state", "I11", "node 0x%x.arena is %d, but its region 0x%x "
                     "belongs to arena %d"
                     % (cur, report.arena, region.address, region.arena), cur)

    def _tail(self, cur, report):
        mem = cur + self.node_size
        at = mem + report.requested
        expected = tail_sentinel(self.secret, cur).to_bytes(8, "little")
        try:
            found = self.reader.read(at, len(expected))
        except Unreadable as error:
            self.add("unreadable", "I2", "tail sentinel of mem 0x%x: %s" % (mem, error), cur)
            return
        if found == expected:
            return
        first = next(i for i in range(len(found)) if found[i] != expected[i])
        self.add("overflow", "I2", "%s wrote past its end: the tail sentinel at "
                 "mem+%d (0x%x) is 0x%s, expected 0x%s; the first changed byte is "
                 "mem+%d, so it wrote at least %d byte%s too many" % (
                     self.owner(cur), report.requested, at,
                     found[::-1].hex(), expected[::-1].hex(),
                     report.requested + first, first + 1, "" if first == 0 else "s"),
                 cur, culprit=mem)

    def _poison(self, cur, report):
        mem = cur + self.node_size
        start, stop = mem + 16, cur + report.size
        changed = 0
        first = last = None
        sample = b""
        at = start
        while at < stop:
            count = min(POISON_CHUNK, stop - at)
            try:
                data = self.reader.read(at, count)
            except Unreadable as error:
                self.add("unreadable", "I3", "free mem 0x%x: %s" % (mem, error), cur)
                return
            bad = count - data.count(self.poison)
            if bad:
                if first is None:
                    offset = next(i for i in range(count) if data[i] != self.poison)
                    first = at + offset
                    sample = data[offset:offset + 8]
                last = at + max(i for i in range(count) if data[i] != self.poison)
                changed += bad
            at += count
        if first is None:
            return
        self.add("use-after-free", "I3", "%s was written after it was freed: %d "
                 "poison byte%s changed between mem+%d and mem+%d (now %s at "
                 "mem+%d); a dangling pointer to it is the likely culprit" % (
                     self.owner(cur), changed, "" if changed == 1 else "s",
                     first - mem, last - mem, sample.hex(" "), first - mem),
                 cur, culprit=mem)

    # -- a damaged node: who did it ---------------------------------------

    def _bad_head(self, cur, data, report, expected, expect_prev, end, region, below):
        clues = []
        if report.state == "unknown":
            clues.append("its state word is 0x%08x" % report.state_word)
        if expect_prev is not None and report.prev != expect_prev:
            clues.append("its prev is 0x%x where the node below is 0x%x"
                         % (report.prev, expect_prev))
        if report.flags & FLAG_BUSY:
            clues.append("its flags have BUSY set, yet no thread names it as changing it")
        if not report.size_ok:
            clues.append("its size %s cannot be" % number(report.size))
        else:
            after = cur + report.size
            if report.next != (after if after < end else 0):
                clues.append("its next is 0x%x where node + size is 0x%x"
                             % (report.next, after))
        cause, culprit = self._cause(cur, data, report, expected, expect_prev, end,
                                     region, below, clues)
        self.add("header", "I1", "node 0x%x (mem 0x%x): head sentinel is 0x%x, "
                 "expected 0x%x; %s%s" % (
                     cur, cur + self.node_size, report.head, expected, cause,
                     " (" + "; ".join(clues) + ")" if clues else ""),
                 cur, culprit=culprit)

    def _cause(self, cur, data, report, expected, expect_prev, end, region, below, clues):
        kinds = {problem.kind for problem in self.heap.problems_of(below)} if below else ()
        if "overflow" in kinds:
            return ("the block below, %s, wrote past its end into this node: "
                    "it is the likely culprit" % self.owner(below),
                    below + self.node_size)
        if "use-after-free" in kinds and self._poison_ends_damaged(cur):
            return ("a write through a dangling pointer to the block below, "
                    "%s, ran into this node" % self.owner(below), below + self.node_size)
        if below and self._runs_into(below, cur, data):
            return ("the data of the block below, %s, runs on into this node: it "
                    "is the likely culprit" % self.owner(below), below + self.node_size)
        original = self._original(cur, data, report)
        if original is not None:
            return ("this node is a copy of the node at 0x%x (mem 0x%x): a header "
                    "was copied over it, or a block was forged"
                    % (original, original + self.node_size), None)
        if not clues and report.size_ok and report.arena == region.arena:
            changed = [i for i in range(8)
                       if (report.head >> 8 * i) & 0xFF != (expected >> 8 * i) & 0xFF]
            if changed and changed[-1] == 7 and changed == list(range(changed[0], 8)):
                return ("only the last %d byte%s of the head, right before mem, "
                        "changed: %s wrote before its start (an underflow)" % (
                            len(changed), "" if len(changed) == 1 else "s",
                            self.owner(cur)), cur + self.node_size)
            return ("the node's fields are intact and only its head word changed: "
                    "a stray write, or an underflow of %s" % self.owner(cur), None)
        return ("the node was overwritten by a stray write, or this address is "
                "not a node", None)

    def _poison_ends_damaged(self, cur):
        """True when the last bytes before the node, the end of the free or
        cached block below, are not poison: a write to that block ran on to
        its end. Damage elsewhere in it does not reach this node."""
        try:
            before = self.reader.read(cur - 8, 8)
        except Unreadable:
            return False
        return before != bytes([self.poison]) * 8

    def _runs_into(self, below, cur, data):
        """True when the bytes right before the node continue into it, as
        they do when a block's writes ran past its end; zeros prove nothing."""
        try:
            before = self.reader.read(cur - 8, 8)
        except Unreadable:
            return False
        return before == data[:8] and before != bytes(8)

    def _original(self, cur, data, report):
        """Where a copied node came from: its head still fits that address."""
        candidates = set()
        if report.next > report.size:
            candidates.add(report.next - report.size)
        if report.prev and report.prev % self.alignment == 0:
            try:
                below = NodeReport(NODE_WORDS.unpack(self.reader.read(report.prev, self.node_size)))
                candidates.add(below.next)
                candidates.add(report.prev + below.size)
            except Unreadable:
                pass
        candidates.discard(cur)
        for address in sorted(candidates):
            if head_sentinel(self.secret, address, data, self.version) == report.head:
                return address
        return None

    # -- changes under way ---------------------------------------------------

    def journal(self, journal):
        """An arena's journal (inflight.Journal), read before the walk:
        what it says is under way joins heap.inflight; a journal that cannot
        be used is a problem, and so is the arena it leaves half changed."""
        text = journal.describe()
        if text:
            self.heap.inflight.append(text)
        if journal.fault:
            self.add("state", "I18", "arena %d's journal at 0x%x cannot be used: %s; "
                     "the change under way could not be undone" % (
                         journal.arena, journal.address, journal.fault))
            self.unjudged.add(journal.arena)
        elif journal.lost:
            self.unjudged.add(journal.arena)
        if journal.step == STEP_REBUILD_BINS:
            self.rebuilding.add(journal.arena)

    # -- events of the walk ------------------------------------------------

    def coalesce(self, below, cur):
        self.add("coalesce", "I8", "free blocks mem 0x%x and mem 0x%x are "
                 "neighbours: freeing should have merged them into one block"
                 % (below + self.node_size, cur + self.node_size), cur)

    # -- whole-heap rules: I9 and I10 ---------------------------------------

    def finish(self):
        self._free_links()
        self._cache_lists()
        self._accounting()
        self._unjudged()

    def _unjudged(self):
        """An arena whose change under way could not be undone is half
        changed: what its blocks seem to break proves nothing."""
        if not self.unjudged:
            return
        kept = []
        for problem in self.heap.problems:
            region = self.heap.region_at(problem.node) if problem.node is not None else None
            if problem.source == "walk" and region is not None and region.arena in self.unjudged \
                    and problem.invariant != "I18":
                continue
            kept.append(problem)
        dropped = len(self.heap.problems) - len(kept)
        self.heap.keep(kept)
        for arena in sorted(self.unjudged):
            self.heap.notes.append("arena %d was half way through a change that could not be "
                                   "undone: its blocks were not judged" % arena
                                   + (" (%s set aside)" % _many(dropped, "finding") if dropped else ""))

    def _free_links(self):
        """I9: a free block's links (mem[0:8] next, mem[8:16] prev) lead to
        free blocks of its arena and agree. A link that leads nowhere
        plausible is reported at its owner; two plausible links that
        disagree are reported once, at the block whose link points across."""
        frees = self.heap.frees
        get = frees.get
        for node, (arena, _, nxt, prv) in frees.items():
            if nxt is None or arena in self.rebuilding:
                continue
            after = get(nxt) if nxt else None
            before = get(prv) if prv else None
            if ((nxt and (after is None or after[0] != arena or after[3] != node))
                    or (prv and (before is None or before[0] != arena or before[2] != node))):
                self._free_link(node, arena, nxt, prv)

    def _free_link(self, node, arena, nxt, prv):
        """Says what is wrong with one free block's links."""
        frees = self.heap.frees

        def plausible(link):
            target = frees.get(link)
            return link == 0 or (target is not None and target[0] == arena)

        for name, link, back in (("next", nxt, 3), ("prev", prv, 2)):
            if not link or any(p.kind == "header" for p in self.heap.problems_of(link)):
                continue  # a damaged node's own problem says it all
            if not plausible(link):
                self.add("use-after-free", "I9", "%s: its %s free link is 0x%x, %s" % (
                    self.owner(node), name, link, self._not_free(link, arena)),
                    node, culprit=node + self.node_size)
                continue
            other = frees[link][back]
            if other is None or other == node or not plausible(other):
                continue
            self.add("use-after-free", "I9", "%s: its %s free link is 0x%x, but that "
                     "block's %s link is 0x%x" % (
                         self.owner(node), name, link,
                         "prev" if name == "next" else "next", other),
                     node, culprit=node + self.node_size)

    def _not_free(self, link, arena):
        target = self.heap.frees.get(link)
        if target is not None:
            return "a free block of arena %d, not %d" % (target[0], arena)
        block, where = self.heap.find(link)
        if block is not None and block.node == link:
            return "a %s block, not a free one" % block.state
        return "which is not a free node: it is " + where

    # -- I13: thread caches -------------------------------------------------

    def _moving(self, cache):
        """(node, bin, size) of the block the cache was moving in or out
        when memory was read (cache.busy), or None; bin is None when the
        node's size fits no bin."""
        node = cache.values["busy"]
        if not node:
            return None
        try:
            size = NodeReport(NODE_WORDS.unpack(self.reader.read(node, self.node_size))).size
        except Unreadable:
            return node, None, 0
        index, rest = divmod(size - self.min_block, self.alignment)
        if rest or not 0 <= index < len(cache.bins):
            return node, None, size
        return node, index, size

    def _cache_lists(self):
        """Each bin's list holds counts[bin] cached blocks of the bin's size
        that name their cache; every cached block is in exactly one list; a
        cache's blocks and bytes equal what its lists hold. A block the
        cache was moving (cache.busy) may be on top of its list or not, and
        counted or not; an abandoned bin (cache.refused) holds nothing."""
        listed = {}
        for cache in self.heap.caches:
            moving = self._moving(cache)
            whole = all([self._cache_bin(cache, index, listed, moving)
                         for index in range(len(cache.bins))])
            if whole:
                self._cache_totals(cache, moving)
            if moving is not None:
                listed.setdefault(moving[0], cache.address)
        abandoned = self._abandoned()
        for node, (_, extent, _, owner) in self.heap.cached.items():
            if node in listed or self.heap.problems_of(node):
                continue
            if (owner, extent) in abandoned:
                abandoned[(owner, extent)] += 1
                continue
            self.add("link", "I13", "%s is in no thread cache's list (its cache "
                     "link says 0x%x)" % (self.owner(node), owner or 0), node)
        for (owner, extent), count in abandoned.items():
            if count:
                self.heap.notes.append(
                    "cache 0x%x abandoned its bin of %d-byte blocks after damage was "
                    "reported: %s left there, in no list" % (owner, extent, _many(count, "block")))

    def _abandoned(self):
        """{(cache address, block size): 0} of every bin a cache abandoned."""
        found = {}
        for cache in self.heap.caches:
            refused = cache.values.get("refused", 0)
            for index in range(len(cache.bins)):
                if refused >> index & 1:
                    found[(cache.address, self.min_block + self.alignment * index)] = 0
        return found

    def _cache_totals(self, cache, moving):
        """cache.blocks and .bytes against its lists: each may count the
        block it was moving or not, and the blocks of a bin it was
        abandoning (its bit set, its count not yet 0) or not."""
        values = cache.values
        extra_blocks, extra_bytes = [(0, 0)], []
        if moving is not None and moving[1] is not None:
            extra_blocks.append((1, moving[2]))
        refused = values.get("refused", 0)
        left = [(cache.counts[index], cache.counts[index] * (self.min_block + self.alignment * index))
                for index in range(len(cache.bins)) if refused >> index & 1 and cache.counts[index]]
        if left:
            extra_blocks += [(a + sum(n for n, _ in left), b + sum(s for _, s in left))
                             for a, b in list(extra_blocks)]
        extra_bytes = {b for _, b in extra_blocks}
        if (values["blocks"] - cache.listed in {a for a, _ in extra_blocks}
                and values["bytes"] - cache.listed_bytes in extra_bytes):
            return
        self.add("accounting", "I10", "cache 0x%x (thread %d) counts %d blocks "
                 "of %d bytes, but its lists hold %d blocks of %d bytes%s" % (
                     cache.address, cache.thread, values["blocks"], values["bytes"],
                     cache.listed, cache.listed_bytes,
                     ", not counting mem 0x%x, which it was moving" % (
                         moving[0] + self.node_size) if moving else ""))

    def _cache_bin(self, cache, index, listed, moving):
        """Follows one bin's list; False when it could not be followed whole."""
        cached = self.heap.cached
        count = cache.counts[index]
        size = self.min_block + self.alignment * index
        node, seen = cache.bins[index], 0
        came = "cache 0x%x.bins[%d]" % (cache.address, index)
        link_of = None  # the cached block whose mem holds the link followed
        if cache.values.get("refused", 0) >> index & 1 and not node:
            return True  # abandoned: its count may be on its way to 0
        # The block being moved in or out may be on top of its own bin only,
        # and is not counted with the list.
        in_flight = moving is not None and moving[1] == index and node == moving[0]
        if in_flight:
            entry = cached.get(node)
            if entry is None or entry[2] is None:
                return False  # its node is damaged: that problem says it all
            listed[node] = cache.address
            came = "the cache link of %s" % self.owner(node)
            link_of, node = node, entry[2]
        while node:
            if node in listed:
                self.add("link", "I13", "%s leads to 0x%x, which is already in the list "
                         "of cache 0x%x: the lists loop or cross" % (came, node, listed[node]),
                         link_of, culprit=link_of + self.node_size if link_of else None)
                return False
            entry = cached.get(node)
            if entry is None and any(p.kind == "header" for p in self.heap.problems_of(node)):
                return False  # a node the walk found destroyed: its own problem says it all
            if entry is None or seen >= count:
                what = ("it holds more than counts[%d] = %d blocks" % (index, count)
                        if entry is not None else self._not_cached(node))
                if entry is not None and moving is not None and moving[1] == index and seen == count:
                    what += " (with mem 0x%x, which it was moving, not counted)" % (
                        moving[0] + self.node_size)
                # A link from a cached block's mem that leads astray was
                # written through a dangling pointer; a list longer than its
                # count, or a bin of the cache's own that leads astray, is a
                # broken list.
                kind = "use-after-free" if entry is None and link_of is not None else "link"
                self.add(kind, "I13", "%s leads to 0x%x, but %s" % (came, node, what),
                         link_of, culprit=link_of + self.node_size if link_of else None)
                return False
            _, extent, below, owner = entry
            listed[node] = cache.address
            seen += 1
            cache.listed += 1
            cache.listed_bytes += extent
            if owner is not None and owner != cache.address:
                self.add("use-after-free", "I13", "%s: its cache link is 0x%x, but it is "
                         "in the list of cache 0x%x" % (self.owner(node), owner, cache.address),
                         node, culprit=node + self.node_size)
            if extent != size:
                self.add("size", "I13", "%s is %d bytes, but it is in bin %d of cache 0x%x, "
                         "which holds %d-byte blocks" % (self.owner(node), extent, index,
                                                        cache.address, size), node)
            if below is None:
                return False  # its node is damaged: that problem says it all
            came = "the cache link of %s" % self.owner(node)
            link_of, node = node, below
        moved = moving is not None and moving[1] == index
        if seen != count and not (moved and count == seen + 1):
            self.add("link", "I13", "cache 0x%x.bins[%d] holds %d blocks, but "
                     "counts[%d] says %d" % (cache.address, index, seen, index, count))
            return False
        return True

    def _not_cached(self, link):
        block, where = self.heap.find(link)
        if block is not None and block.node == link:
            return "that is a %s block, not a cached one" % block.state
        return "that is not a node: it is " + where

    # -- I10: counters --------------------------------------------------------

    def _accounting(self):
        # With thread caches (version 2) a block's requested size changes
        # without the arena hearing of it; only the sum over the arenas and
        # the caches' requested_delta matches the blocks.
        per_arena = [name for name in COUNTERS
                     if self.version < 2 or name != "requested_bytes"]
        whole = True
        for arena in self.heap.arenas:
            if arena.damaged or arena.index in self.unjudged:
                whole = False
                self.heap.notes.append(
                    "arena %d: counters not compared, the walk met damaged or "
                    "unreadable memory" % arena.index
                    if arena.damaged else "arena %d: counters not compared" % arena.index)
                continue
            walked = arena.walk_counters()
            for name in per_arena:
                if arena.values[name] != walked[name]:
                    self.add("accounting", "I10", "arena %d: arena.%s is %d, but "
                             "the walk counts %d" % (arena.index, name,
                                                     arena.values[name], walked[name]))
        if self.version < 2 or not whole:
            return
        busy = [cache for cache in self.heap.caches if cache.values["busy"]]
        if busy and "busy_requested" not in self.heap.caches[0].values:
            self.heap.notes.append("requested bytes not compared: a thread cache was "
                                   "changing a block")
            return
        counted = sum(arena.values["requested_bytes"] for arena in self.heap.arenas)
        delta = sum(cache.values["requested_delta"] for cache in self.heap.caches)
        walked = sum(arena.walk_counters()["requested_bytes"] for arena in self.heap.arenas)
        # A block a cache was moving counts with what its requested field
        # holds, whatever its state; the cache may have told requested_delta
        # of the move or not yet.
        moves = []
        for cache in busy:
            node = cache.values["busy"]
            try:
                report = NodeReport(NODE_WORDS.unpack(self.reader.read(node, self.node_size)))
            except Unreadable:
                return
            if report.state != "used":
                walked += report.requested
            moves.append(_signed(cache.values["busy_requested"]))
        total = (counted + delta) & MASK64
        sums = _subset_sums(moves)
        if sums is None:
            self.heap.notes.append("requested bytes not compared: %d thread caches were "
                                   "moving blocks" % len(moves))
            return
        if (walked - total) & MASK64 in sums:
            return
        self.add("accounting", "I10", "the arenas count %d requested bytes and the "
                 "thread caches %+d more, %d in all, but the used blocks hold %d%s" % (
                     counted, _signed(delta), total, walked,
                     " (with %s that thread caches were moving)" % _many(len(moves), "block")
                     if moves else ""))

    def last_error(self):
        """The allocator's own last report, as the first problem."""
        error = self.heap.layout.last_error()
        if error is None:
            return
        message = error.get("message") or "(no message)"
        problem = Problem(
            error["kind_name"], None,
            "the allocator reported (%d report%s so far): %s" % (
                error.get("count", 1), "" if error.get("count", 1) == 1 else "s",
                message),
            node=error.get("node") or None, mem=error.get("mem") or None,
            culprit=error.get("culprit") or None, source="allocator")
        self.heap.add(problem)


def _subset_sums(values, limit=12):
    """Every sum of a subset of values, modulo 2^64; all of them when there
    are more than `limit` values, which no test can then tell apart."""
    sums = {0}
    if len(values) > limit:
        return None
    for value in values:
        sums |= {(total + value) & MASK64 for total in sums}
    return sums


def _many(number, word):
    return "%d %s%s" % (number, word, "" if number == 1 else "s")


def _signed(value):
    """A sum of int64 fields read as unsigned, back to its sign."""
    value &= MASK64
    return value - (1 << 64) if value >> 63 else value


def block_facts(heap, block, dump=64):
    """What ant-block shows: every node field with the value the rules
    expect (None where any value will do), the tail sentinel of a used
    block or the poison and links of a free one, and the start of mem."""
    layout = heap.layout
    below, above = heap.neighbours(block)
    big = block.big
    data = heap.reader.read(block.node, layout.node_size)
    expected = {
        "prev": 0 if big or below is None else below.node,
        "next": 0 if big or above is None else above.node,
        "size": block.size,
        "arena": block.region.arena,
        "flags": FLAG_BIG if big else 0,
        "head": head_sentinel(layout.secret, block.node, data, layout.version),
    }
    fields = []
    for name, offset, size in sorted(layout.members("node"), key=lambda member: member[1]):
        value = int.from_bytes(data[offset:offset + size], "little")
        want = expected.get(name)
        ok = None if want is None else value == want
        if name == "state":
            ok = value == STATE_USED if big else value in STATE_NAMES and (
                value != STATE_CACHED or layout.version >= 2)
        elif name == "flags":
            # The change count may be anything: what is expected is the rest.
            want = expected["flags"] | (value & FLAG_TURNS)
            ok = value == want
        fields.append({"name": name, "offset": offset, "size": size, "value": value,
                       "expected": want, "ok": ok})
    facts = {"fields": fields, "tail": None, "poison": None, "links": None}
    room = block.size - layout.node_size
    if block.state == "used" and block.requested + layout.tail_size <= room:
        at = block.mem + block.requested
        want = tail_sentinel(layout.secret, block.node)
        try:
            value = int.from_bytes(heap.reader.read(at, 8), "little")
        except Unreadable:
            value = None
        facts["tail"] = {"address": at, "value": value, "expected": want,
                         "ok": value == want}
    elif block.state in ("free", "cached") and room >= 16:
        names = ("next", "prev") if block.state == "free" else ("next", "cache")
        facts["links"] = dict(zip(names, FREE_LINKS.unpack(heap.reader.read(block.mem, 16))))
        changed = 0
        for start in range(block.mem + 16, block.node + block.size, POISON_CHUNK):
            count = min(POISON_CHUNK, block.node + block.size - start)
            try:
                changed += count - heap.reader.read(start, count).count(layout.poison)
            except Unreadable:
                changed = None
                break
        facts["poison"] = {"address": block.mem + 16, "bytes": room - 16,
                           "changed": changed, "ok": changed == 0}
    try:
        facts["dump"] = heap.reader.read(block.mem, max(0, min(dump, room)))
    except Unreadable:
        facts["dump"] = b""
    return facts
