"""The integrity rules of <ant/layout.h> that one node can break, each failure
a named problem.

The walk (heap.py) runs the cheap tests inline on every node; when one fails
it hands the node to Checker.node(), which finds out which rule broke and
writes one sentence naming both sides of the broken relation and the likely
culprit. Rules that need the whole heap (I9 free links, I10 counters, I13
thread caches) run in heapwide.finish() once the walk is done.
"""
from . import heapwide, problems
from .errors import Unreadable
from .inflight import STEP_REBUILD_BINS
from .layout import (
    ALIGNMENT, FLAG_BIG, FLAG_BUSY, FREED_WORDS, MASK32, MIN_BLOCK, NODE_SIZE, NODE_WORDS,
    POISON_OFFSET, SITE_MASK, STATE_CACHED, STATE_FREE, STATE_QUARANTINED, STATE_USED, TAIL_SIZE,
    freed_check,
    head_check, head_checks, tail_sentinel,
)

# Every kind, with what it means; README.md and `help ant-check` show these.
KINDS = problems.KINDS

STATE_NAMES = {STATE_USED: "used", STATE_FREE: "free", STATE_CACHED: "cached",
               STATE_QUARANTINED: "quarantined"}
# Blocks the program freed, poisoned, that say who freed them.
FREED_STATES = ("free", "cached", "quarantined")
POISON_CHUNK = 1 << 20
COPY_REACH = 16  # blocks walked before a damaged node that it may be a copy of
FREED_AT = 16  # who freed a free or cached block: mem[16 .. 32)


def number(value):
    """A count in decimal, or in hex when it is too large to be one (a
    scribbled field reads better as 0x4141414141414141)."""
    return "%d" % value if value < 1 << 40 else "0x%x" % value


def letter(value):
    """A state byte, with the letter it is where it is one."""
    return "0x%02x%s" % (value, " ('%s')" % chr(value) if 32 < value < 127 else "")


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
    """What Checker.node() learnt about one node, for the walk to go on.
    `size` and `requested` are the block's: a big block's come from its
    mapping's header, and `node_size` is the node's own field."""

    __slots__ = ("words", "size", "node_size", "below", "requested", "serial", "site",
                 "mark", "state_byte", "arena", "flags", "check", "state", "head_ok",
                 "size_ok")

    def __init__(self, words):
        self.words = words
        w0, w1, w2, w3 = words
        self.size = self.node_size = w0 & MASK32
        self.below = w0 >> 32
        self.requested = w1 & MASK32
        self.serial = w1 >> 32 | (w2 >> 48) << 32
        self.site = w2 & SITE_MASK
        self.mark = w3 & MASK32
        self.state_byte = w3 & 0xFF
        self.arena = w3 >> 8 & 0xFF
        self.flags = w3 >> 16 & 0xFFFF
        self.check = w3 >> 32
        self.state = STATE_NAMES.get(self.state_byte, "unknown")
        self.head_ok = self.size_ok = False


class Checker:
    """Builds the problems of one heap, naming sites through `sites`
    (a sites.Sites); `native` (a native.Native, or None) runs the rules
    that cost most in C."""

    def __init__(self, heap, sites, native=None):
        self.heap = heap
        layout = heap.layout
        self.secret = layout.secret
        self.poison = layout.poison
        self.sites = sites
        self.native = native
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
        mem = node + NODE_SIZE if node is not None else None
        self.heap.add(Problem(kind, invariant, detail, node, mem, culprit))

    def site(self, address):
        return self.sites.text(address, "no site")

    def report(self, node):
        """The NodeReport of the node at `node`, or None if unreadable."""
        try:
            return NodeReport(NODE_WORDS.unpack(self.reader.read(node, NODE_SIZE)))
        except Unreadable:
            return None

    def freed(self, node):
        """(site, serial, ok) of the record of who freed the free or cached
        block at `node`; None if it cannot be read."""
        try:
            site_word, serial, check = FREED_WORDS.unpack(
                self.reader.read(node + NODE_SIZE + FREED_AT, FREED_WORDS.size))
        except Unreadable:
            return None
        ok = check == freed_check(self.secret, node, site_word, serial)
        return site_word & SITE_MASK, serial | (site_word >> 48) << 32, ok

    def owner(self, node):
        """Names a block by its mem, size, serial and site (a free block's
        serial and site are its last owner's, and who freed it follows)."""
        mem = node + NODE_SIZE
        report = self.report(node)
        if report is None:
            return "mem 0x%x (its node cannot be read)" % mem
        if report.state in FREED_STATES:
            freed = self.freed(node)
            return "%s block mem 0x%x (last owner: serial %s, site %s%s)" % (
                report.state, mem, number(report.serial), self.site(report.site),
                "; freed at %s after serial %d" % (self.site(freed[0]), freed[1])
                if freed and freed[2] else "")
        return "block mem 0x%x (%s bytes requested, serial %s, site %s)" % (
            mem, number(report.requested), number(report.serial), self.site(report.site))

    def verifies(self, address):
        """True when a node whose check verifies sits at address."""
        if address % ALIGNMENT:
            return False
        try:
            data = self.reader.read(address, NODE_SIZE)
        except Unreadable:
            return False
        return NODE_WORDS.unpack(data)[3] >> 32 == head_check(self.secret, address, data)

    def sound(self, address, data):
        """True when the node in `data`, read at address, verifies or is
        one a thread was changing (BUSY, and named)."""
        report = NodeReport(NODE_WORDS.unpack(data))
        return (report.check == head_check(self.secret, address, data)
                or (report.flags & FLAG_BUSY and address in self.heap.busy))

    # -- one node: I1, I2, I3, I4, I6, I7, I11, I12 --------------------------

    def node(self, cur, data, expect_below, end, region, below, extent=None):
        """Checks one node whose fast test failed. `expect_below` is what
        its below should be (None when the walk cannot know), `end` where
        blocks stop (the wilderness, or a big mapping's end), `below` the
        node of the block below or None; `extent`, where given, is the
        block's true extent, its size being wrong (a problem says so)."""
        report = NodeReport(NODE_WORDS.unpack(data))
        big = region.kind == "big"
        if big:
            report.size = region.values["big_size"]
            report.requested = region.values["big_requested"]
        elif extent is not None:
            report.size = extent
        size, after = report.size, cur + report.size
        report.size_ok = (size % ALIGNMENT == 0 and size >= MIN_BLOCK and after <= end
                          and (big or after == end or after + MIN_BLOCK <= end))
        expected = head_check(self.secret, cur, data)
        report.head_ok = expected == report.check
        changing = self._changing(cur, report)
        if not report.head_ok and not changing:
            self._bad_head(cur, data, report, expected, expect_below, end, region, below)
            return report
        report.head_ok = True
        self._below(cur, report, expect_below, region)
        self._size(cur, report, end, region)
        self._state(cur, report, region)
        if changing:
            return report  # half changed: its contents prove nothing
        if report.state == "used" and report.size_ok and self._holds(report):
            self._tail(cur, report)
        elif report.state in FREED_STATES and report.size_ok:
            self._freed_contents(cur, report)
        return report

    def _changing(self, cur, report):
        """True for a node a thread was changing when memory was read: BUSY
        set and named by a cache's or an arena's busy. Its check and
        contents may be half way; a note says so instead of a problem."""
        if not report.flags & FLAG_BUSY:
            return False
        owner = self.heap.busy.get(cur)
        if owner is None:
            return False
        self.heap.notes.append(
            "node 0x%x: %s was changing it when the memory was read (BUSY), so "
            "its check and contents were not checked" % (cur, owner))
        return True

    def _holds(self, report):
        return NODE_SIZE + report.requested + TAIL_SIZE <= report.size

    def _below(self, cur, report, expect_below, region):
        """I4: below is the size of the block below, 0 for a region's first;
        a big block's, its node's distance from its mapping's start."""
        below = report.below
        if expect_below is None or below == expect_below:
            return
        if region.kind == "big":
            how = "but its node lies %d bytes into its mapping 0x%x" % (expect_below, region.address)
        elif expect_below == 0:
            how = "but it is the first block of region 0x%x: it should be 0" % region.address
        elif below == 0:
            how = ("as if it were its region's first block, but the block below it, node "
                   "0x%x, is %d bytes" % (cur - expect_below, expect_below))
        else:
            at = cur - below
            how = "which puts the block below at %s, but the block below it, node 0x%x, is %d bytes" % (
                "0x%x" % at if at >= region.address + NODE_SIZE else
                "0x%x, before region 0x%x" % (at % (1 << 64), region.address),
                cur - expect_below, expect_below)
        self.add("link", "I4", "node 0x%x.below is %s, %s" % (cur, number(below), how), cur)

    def _size(self, cur, report, end, region):
        """I6, I7, I12: the block's extent, and its mem's alignment."""
        if region.kind == "big" and (report.node_size or report.words[1] & MASK32):
            self.add("size", "I6", "big block node 0x%x holds size %s and requested %s, but "
                     "a big block's node holds 0 for both: its mapping's header holds them"
                     % (cur, number(report.node_size), number(report.words[1] & MASK32)), cur)
        size, after = report.size, cur + report.size
        what = ("big mapping 0x%x.big_size %s" % (region.address, number(size))
                if region.kind == "big" else "node 0x%x.size %s" % (cur, number(size)))
        if size % ALIGNMENT:
            self.add("size", "I6", "%s is not a multiple of %d" % (what, ALIGNMENT), cur)
        elif size < MIN_BLOCK:
            self.add("size", "I6", "%s is below the smallest block (%d bytes)"
                     % (what, MIN_BLOCK), cur)
        elif after > end:
            if region.kind == "heap" and after <= region.end:
                self.add("size", "I7", "%s ends at 0x%x, %d bytes into the wilderness at 0x%x"
                         % (what, after, after - end, end), cur)
            else:
                self.add("size", "I6", "%s ends at 0x%x, past the end of its region at 0x%x"
                         % (what, after, region.end), cur)
        elif region.kind == "heap" and after != end and after + MIN_BLOCK > end:
            self.add("size", "I7", "%s ends at 0x%x, %d bytes before the wilderness at 0x%x: "
                     "too few for another block, yet not where the wilderness begins"
                     % (what, after, end - after, end), cur)
        elif region.kind == "big" and after != region.values["wilderness"]:
            self.add("size", "I7", "%s ends the block at 0x%x, but region 0x%x.wilderness, "
                     "where its block ends, is 0x%x" % (what, after, region.address,
                                                        region.values["wilderness"]), cur)
        elif report.state == "used" and not self._holds(report):
            self.add("size", "I6", "used block 0x%x of %d bytes cannot hold its node, %s "
                     "requested bytes and the tail" % (cur, size, number(report.requested)), cur)
        mem = cur + NODE_SIZE
        if mem % ALIGNMENT:
            self.add("size", "I12", "mem 0x%x is not %d-byte aligned" % (mem, ALIGNMENT), cur)

    def _state(self, cur, report, region):
        """I11: the state, the big flag, BUSY and the arena."""
        big = region.kind == "big"
        if report.state == "unknown":
            self.add("state", "I11", "node 0x%x.state is %s, neither USED, FREE, CACHED nor "
                     "QUARANTINED" % (cur, letter(report.state_byte)), cur)
        elif big and report.state != "used":
            self.add("state", "I11", "big block 0x%x is %s, but big blocks are "
                     "always used (freeing one unmaps it)" % (cur, report.state.upper()), cur)
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
        """I2: the tail sentinel right after the requested bytes."""
        mem = cur + NODE_SIZE
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

    def _freed_contents(self, cur, report):
        """I3: a free, cached or quarantined block's record of who freed it checks, and
        its mem is poison from POISON_OFFSET to its end."""
        mem = cur + NODE_SIZE
        freed = self.freed(cur)
        if freed is None:
            self.add("unreadable", "I3", "free mem 0x%x: its record of who freed it cannot "
                     "be read" % mem, cur)
            return
        changed = []
        if not freed[2]:
            changed.append("its record of who freed it (mem+%d..mem+%d) no longer checks"
                           % (FREED_AT, POISON_OFFSET))
        poison = self._poison(cur, report)
        if poison is None:
            return
        if poison:
            changed.append(poison)
        if changed:
            self.add("use-after-free", "I3", "%s was written after it was freed: %s; a "
                     "dangling pointer to it is the likely culprit"
                     % (self.owner(cur), "; ".join(changed)), cur, culprit=mem)

    def _poison(self, cur, report):
        """What changed in the block's poison as a phrase, "" if nothing;
        None when it cannot be read (a problem says so)."""
        mem = cur + NODE_SIZE
        start, stop = mem + POISON_OFFSET, cur + report.size
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
                return None
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
            return ""
        return "%d poison byte%s changed between mem+%d and mem+%d (now %s at mem+%d)" % (
            changed, "" if changed == 1 else "s", first - mem, last - mem, sample.hex(" "),
            first - mem)

    # -- no node where the block below says -----------------------------------

    def misplaced(self, below, cur, real):
        """I6: the node at `below` says its block ends at cur, where no node
        with a below of its size is, while the node at `real` verifies and
        its below reaches back to it: its size is wrong, not the bytes at
        cur."""
        report = self.report(below)
        size = number(report.node_size)
        self.add("size", "I6", "node 0x%x.size %s puts the next node at 0x%x, but no node "
                 "there has a below of %s, while node 0x%x, whose below is %d, reaches back "
                 "to it: the size is wrong, and the block is %d bytes" % (
                     below, size, cur, size, real, real - below, real - below), below)

    # -- a damaged node: who did it ---------------------------------------

    def _bad_head(self, cur, data, report, expected, expect_below, end, region, below):
        clues = []
        if report.state == "unknown":
            clues.append("its state is %s" % letter(report.state_byte))
        if expect_below is not None and report.below != expect_below:
            clues.append("its below is %s where the block below is %d bytes"
                         % (number(report.below), expect_below))
        if report.flags & FLAG_BUSY:
            clues.append("its flags have BUSY set, yet no thread names it as changing it")
        if not report.size_ok:
            clues.append("its size %s cannot be" % number(report.size))
        elif region.kind == "heap" and not self._above_agrees(cur, report, end):
            clues.append("no node at node + size (0x%x) has a below of %d"
                         % (cur + report.size, report.size))
        cause, culprit = self._cause(cur, data, report, expected, expect_below, end,
                                     region, below)
        self.add("header", "I1", "node 0x%x (mem 0x%x): check is 0x%08x, expected 0x%08x; "
                 "%s%s" % (cur, cur + NODE_SIZE, report.check, expected, cause,
                           " (" + "; ".join(clues) + ")" if clues else ""),
                 cur, culprit=culprit)

    def _above_agrees(self, cur, report, end):
        """The node's size leads to the wilderness or to a node that
        verifies and whose below is that size."""
        after = cur + report.size
        if after == end:
            return True
        other = self.report(after)
        return (other is not None and other.below == report.size
                and self.verifies(after))

    def _cause(self, cur, data, report, expected, expect_below, end, region, below):
        kinds = {problem.kind for problem in self.heap.problems_of(below)} if below else ()
        if "overflow" in kinds:
            return ("the block below, %s, wrote past its end into this node: "
                    "it is the likely culprit" % self.owner(below),
                    below + NODE_SIZE)
        if "use-after-free" in kinds and self._ran_to_its_end(below, cur):
            return ("a write through a dangling pointer to the block below, "
                    "%s, ran into this node" % self.owner(below), below + NODE_SIZE)
        if below and self._runs_into(cur, data):
            return ("the data of the block below, %s, runs on into this node: it "
                    "is the likely culprit" % self.owner(below), below + NODE_SIZE)
        original = self._original(cur, data, report, below, region)
        if original is not None:
            return ("this node is a copy of the node at 0x%x (mem 0x%x): a node "
                    "was copied over it, or a block was forged"
                    % (original, original + NODE_SIZE), None)
        if (expect_below is not None and report.below == expect_below and report.size_ok
                and (region.kind == "big" or self._above_agrees(cur, report, end))):
            return self._underflow(cur, report, expected, region)
        return ("the node was overwritten by a stray write, or this address is "
                "not a node", None)

    def _underflow(self, cur, report, expected, region):
        """The cause of a damaged node whose sizes agree with both
        neighbours: its last bytes, right before mem, changed."""
        mem = cur + NODE_SIZE
        mark_sound = (report.state != "unknown" and report.arena == region.arena
                      and not report.flags & FLAG_BUSY
                      and bool(report.flags & FLAG_BIG) == (region.kind == "big"))
        last_serial = self.heap.layout.serial
        if last_serial is not None and report.serial > last_serial:
            return ("its sizes agree with both neighbours, but its serial %s is past the "
                    "last one handed out (%d): a stray write over the node, not an underflow"
                    % (number(report.serial), last_serial), None)
        if not mark_sound:
            return ("its sizes agree with both neighbours, but its last 8 bytes, right "
                    "before mem (state, arena, flags and check), changed: %s wrote before "
                    "its start (an underflow)" % self.owner(cur), mem)
        changed = [i for i in range(4) if (report.check ^ expected) >> 8 * i & 0xFF]
        if len(changed) == 4:
            return ("its check, the 4 bytes right before mem, changed while its sizes agree "
                    "with both neighbours: most likely %s wrote before its start (an "
                    "underflow); a stray write over its serial or site would look the same"
                    % self.owner(cur), mem)
        if changed == list(range(changed[0], 4)):
            return ("only the last %d byte%s of its check, right before mem, changed: %s "
                    "wrote before its start (an underflow)" % (
                        len(changed), "" if len(changed) == 1 else "s", self.owner(cur)), mem)
        return ("the node's fields agree with both neighbours and only its check "
                "changed: a stray write, or an underflow of %s" % self.owner(cur), None)

    def _ran_to_its_end(self, below, cur):
        """True when a write to the free or cached block below ran on to its
        end: its last 8 bytes are not poison, or, in a block too small to
        hold poison there, its record of who freed it no longer checks.
        Damage elsewhere in it does not reach this node."""
        if cur - below >= MIN_BLOCK + 8:
            try:
                return self.reader.read(cur - 8, 8) != bytes([self.poison]) * 8
            except Unreadable:
                return False
        freed = self.freed(below)
        return freed is not None and not freed[2]

    def _runs_into(self, cur, data):
        """True when the bytes right before the node continue into it, as
        they do when a block's writes ran past its end; zeros prove nothing."""
        try:
            before = self.reader.read(cur - 8, 8)
        except Unreadable:
            return False
        return before == data[:8] and before != bytes(8)

    def _original(self, cur, data, report, below, region):
        """Where a copied node came from: its check still fits that address.
        A copy of a neighbour carries the neighbour's sizes, which lead back
        to it; a copy of a block walked a little before is tried too."""
        candidates = {cur - report.size, cur + report.below, cur - report.below}
        candidates.update(self.heap.nodes[max(region.lo, len(self.heap.nodes) - COPY_REACH):])
        if below:
            candidates.add(below)
        candidates = sorted(address for address in candidates
                            if 0 < address < 1 << 64 and address % ALIGNMENT == 0 and address != cur)
        w0, w1, w2, _ = report.words
        checks = head_checks(self.secret, candidates, w0, w1, w2, report.mark)
        return next((address for address, check in zip(candidates, checks)
                     if check == report.check), None)

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
                 % (below + NODE_SIZE, cur + NODE_SIZE), cur)

    def finish(self):
        """The rules that need the whole heap, once the walk is done."""
        heapwide.finish(self)

    def last_error(self):
        """The allocator's own last report, as the first problem."""
        error = self.heap.layout.last_error()
        if error is None:
            return
        message = self.sites.annotate(error.get("message") or "(no message)")
        problem = Problem(
            error["kind_name"], None,
            "the allocator reported (%d report%s so far): %s" % (
                error.get("count", 1), "" if error.get("count", 1) == 1 else "s",
                message),
            node=error.get("node") or None, mem=error.get("mem") or None,
            culprit=error.get("culprit") or None, source="allocator")
        self.heap.add(problem)
