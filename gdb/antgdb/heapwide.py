"""The rules that need the whole heap, run once the walk is done: I9 (the free
lists), I13 (the thread caches' lists), I19 (the quarantines) and I10 (the
counters), and the
setting aside of what a change that could not be undone makes blocks seem
to break. Each function takes the check.Checker of the walk."""
from .layout import ALIGNMENT, COUNTERS, MASK64, MIN_BLOCK, NODE_SIZE


def finish(checker):
    _free_links(checker)
    _cache_lists(checker)
    _quarantines(checker)
    _accounting(checker)
    _unjudged(checker)


def _unjudged(c):
    """An arena whose change under way could not be undone is half changed:
    what its blocks seem to break proves nothing."""
    if not c.unjudged:
        return
    heap = c.heap
    kept = []
    for problem in heap.problems:
        region = heap.region_at(problem.node) if problem.node is not None else None
        if problem.source == "walk" and region is not None and region.arena in c.unjudged \
                and problem.invariant != "I18":
            continue
        kept.append(problem)
    dropped = len(heap.problems) - len(kept)
    heap.keep(kept)
    for arena in sorted(c.unjudged):
        heap.notes.append("arena %d was half way through a change that could not be "
                          "undone: its blocks were not judged" % arena
                          + (" (%s set aside)" % _many(dropped, "finding") if dropped else ""))


# -- I9: free lists -----------------------------------------------------------

def _free_links(c):
    """I9: a free block's links (mem[0:8] next, mem[8:16] prev) lead to free
    blocks of its arena and agree. A link that leads nowhere plausible is
    reported at its owner; two plausible links that disagree are reported
    once, at the block whose link points across."""
    frees = c.heap.frees
    suspects = c.native.free_links(frees, c.rebuilding) if c.native else None
    if suspects is None:
        suspects = _suspects(frees, c.rebuilding)
    for at in suspects:
        _free_link(c, frees.nodes[at], frees.arenas[at], frees.nexts[at], frees.prevs[at])


def _suspects(frees, rebuilding):
    """The places (in frees' columns) of the free blocks whose links are
    known and whose next or prev link, where not 0, does not lead to a free
    block of their arena, with known links, that links back; those of an
    arena whose free lists were being rebuilt are not judged. native.py
    finds the same in C."""
    nodes, nexts, prevs, arenas, known = (frees.nodes, frees.nexts, frees.prevs, frees.arenas,
                                          frees.known)
    place = frees.place
    found = []
    for at, node in enumerate(nodes):
        if not known[at] or arenas[at] in rebuilding:
            continue
        for link, backs in ((nexts[at], prevs), (prevs[at], nexts)):
            if not link:
                continue
            other = place(link)
            if (other is None or arenas[other] != arenas[at] or not known[other]
                    or backs[other] != node):
                found.append(at)
                break
    return found


def _free_link(c, node, arena, nxt, prv):
    """Says what is wrong with one free block's links."""
    frees = c.heap.frees

    def plausible(link):
        target = frees.get(link)
        return link == 0 or (target is not None and target[0] == arena)

    for name, link, back in (("next", nxt, 3), ("prev", prv, 2)):
        if not link or any(p.kind == "header" for p in c.heap.problems_of(link)):
            continue  # a damaged node's own problem says it all
        if not plausible(link):
            c.add("use-after-free", "I9", "%s: its %s free link is 0x%x, %s" % (
                c.owner(node), name, link, _not_free(c, link, arena)),
                node, culprit=node + NODE_SIZE)
            continue
        other = frees.get(link)[back]
        if other is None or other == node or not plausible(other):
            continue
        c.add("use-after-free", "I9", "%s: its %s free link is 0x%x, but that "
              "block's %s link is 0x%x" % (
                  c.owner(node), name, link, "prev" if name == "next" else "next", other),
              node, culprit=node + NODE_SIZE)


def _not_free(c, link, arena):
    target = c.heap.frees.get(link)
    if target is not None:
        return "a free block of arena %d, not %d" % (target[0], arena)
    block, where = c.heap.find(link)
    if block is not None and block.node == link:
        return "a %s block, not a free one" % block.state
    return "which is not a free node: it is " + where


# -- I13: thread caches ---------------------------------------------------------

def _bin_size(index):
    return MIN_BLOCK + ALIGNMENT * index


def _moving(c, cache):
    """(node, bin, size) of the block the cache was moving in or out when
    memory was read (cache.busy), or None; bin is None when the node's size
    fits no bin."""
    node = cache.values["busy"]
    if not node:
        return None
    report = c.report(node)
    if report is None:
        return node, None, 0
    index, rest = divmod(report.size - MIN_BLOCK, ALIGNMENT)
    if rest or not 0 <= index < len(cache.bins):
        return node, None, report.size
    return node, index, report.size


def _cache_lists(c):
    """Each bin's list holds counts[bin] cached blocks of the bin's size that
    name their cache; every cached block is in exactly one list; a cache's
    blocks and bytes equal what its lists hold. A block the cache was moving
    (cache.busy) may be on top of its list or not, and counted or not; an
    abandoned bin (cache.refused) holds nothing."""
    heap = c.heap
    listed = {}
    cut = {}  # (cache, block size) -> 0 for each bin whose list a problem cut
    for cache in heap.caches:
        moving = _moving(c, cache)
        whole = all([_cache_bin(c, cache, index, listed, moving, cut)
                     for index in range(len(cache.bins))])
        if whole:
            _cache_totals(c, cache, moving)
        if moving is not None:
            listed.setdefault(moving[0], cache.address)
    abandoned = _abandoned(heap)
    for node, (_, extent, _, owner) in heap.cached.items():
        if node in listed or heap.problems_of(node):
            continue
        for unlisted in (abandoned, cut):
            if (owner, extent) in unlisted:
                unlisted[(owner, extent)] += 1
                break
        else:
            c.add("link", "I13", "%s is in no thread cache's list (its cache "
                  "link says 0x%x)" % (c.owner(node), owner or 0), node)
    for (owner, extent), count in abandoned.items():
        if count:
            heap.notes.append(
                "cache 0x%x abandoned its bin of %d-byte blocks after damage was "
                "reported: %s left there, in no list" % (owner, extent, _many(count, "block")))
    for (owner, extent), count in cut.items():
        if count:
            heap.notes.append(
                "cache 0x%x's bin of %d-byte blocks is cut where a problem above says: "
                "%s naming that cache could not be reached" % (
                    owner, extent, _many(count, "cached block")))


def _abandoned(heap):
    """{(cache address, block size): 0} of every bin a cache abandoned."""
    found = {}
    for cache in heap.caches:
        for index in range(len(cache.bins)):
            if cache.values["refused"] >> index & 1:
                found[(cache.address, _bin_size(index))] = 0
    return found


def _cache_totals(c, cache, moving):
    """cache.blocks and .bytes against its lists: each may count the block
    it was moving or not, and the blocks of a bin it was abandoning (its bit
    set, its count not yet 0) or not."""
    values = cache.values
    extra_blocks = [(0, 0)]
    if moving is not None and moving[1] is not None:
        extra_blocks.append((1, moving[2]))
    refused = values["refused"]
    left = [(cache.counts[index], cache.counts[index] * _bin_size(index))
            for index in range(len(cache.bins)) if refused >> index & 1 and cache.counts[index]]
    if left:
        extra_blocks += [(a + sum(n for n, _ in left), b + sum(s for _, s in left))
                         for a, b in list(extra_blocks)]
    if (values["blocks"] - cache.listed in {a for a, _ in extra_blocks}
            and values["bytes"] - cache.listed_bytes in {b for _, b in extra_blocks}):
        return
    c.add("accounting", "I10", "cache 0x%x (thread %d) counts %d blocks "
          "of %d bytes, but its lists hold %d blocks of %d bytes%s" % (
              cache.address, cache.thread, values["blocks"], values["bytes"],
              cache.listed, cache.listed_bytes,
              ", not counting mem 0x%x, which it was moving" % (
                  moving[0] + NODE_SIZE) if moving else ""))


def _cache_bin(c, cache, index, listed, moving, cut):
    """Follows one bin's list; False when it could not be followed whole,
    and then, where a problem cut the list short, the bin is in `cut`."""
    whole = _follow_bin(c, cache, index, listed, moving)
    if whole is None:
        cut.setdefault((cache.address, _bin_size(index)), 0)
    return bool(whole)


def _follow_bin(c, cache, index, listed, moving):
    """Follows one bin's list: True when whole, False when it was followed
    to its end but holds another count, None when a problem cut it short."""
    heap = c.heap
    cached = heap.cached
    count = cache.counts[index]
    size = _bin_size(index)
    node, seen = cache.bins[index], 0
    came = "cache 0x%x.bins[%d]" % (cache.address, index)
    link_of = None  # the cached block whose mem holds the link followed
    if cache.values["refused"] >> index & 1 and not node:
        return True  # abandoned: its count may be on its way to 0
    # The block being moved in or out may be on top of its own bin only,
    # and is not counted with the list.
    if moving is not None and moving[1] == index and node == moving[0]:
        entry = cached.get(node)
        if entry is None or entry[2] is None:
            return None  # its node is damaged: that problem says it all
        listed[node] = cache.address
        came = "the cache link of %s" % c.owner(node)
        link_of, node = node, entry[2]
    while node:
        culprit = link_of + NODE_SIZE if link_of else None
        if node in listed:
            c.add("link", "I13", "%s leads to 0x%x, which is already in the list "
                  "of cache 0x%x: the lists loop or cross" % (came, node, listed[node]),
                  link_of, culprit=culprit)
            return None
        entry = cached.get(node)
        if entry is None and any(p.kind == "header" for p in heap.problems_of(node)):
            return None  # a node the walk found destroyed: its own problem says it all
        if entry is None or seen >= count:
            what = ("it holds more than counts[%d] = %d blocks" % (index, count)
                    if entry is not None else _not_cached(c, node))
            if entry is not None and moving is not None and moving[1] == index and seen == count:
                what += " (with mem 0x%x, which it was moving, not counted)" % (
                    moving[0] + NODE_SIZE)
            # A link from a cached block's mem that leads astray was written
            # through a dangling pointer; a list longer than its count, or a
            # bin of the cache's own that leads astray, is a broken list.
            kind = "use-after-free" if entry is None and link_of is not None else "link"
            c.add(kind, "I13", "%s leads to 0x%x, but %s" % (came, node, what),
                  link_of, culprit=culprit)
            return None
        _, extent, below, owner = entry
        listed[node] = cache.address
        seen += 1
        cache.listed += 1
        cache.listed_bytes += extent
        if owner is not None and owner != cache.address:
            c.add("use-after-free", "I13", "%s: its cache link is 0x%x, but it is "
                  "in the list of cache 0x%x" % (c.owner(node), owner, cache.address),
                  node, culprit=node + NODE_SIZE)
        if extent != size:
            c.add("size", "I13", "%s is %d bytes, but it is in bin %d of cache 0x%x, "
                  "which holds %d-byte blocks" % (c.owner(node), extent, index, cache.address, size), node)
        if below is None:
            return None  # its node is damaged: that problem says it all
        came = "the cache link of %s" % c.owner(node)
        link_of, node = node, below
    moved = moving is not None and moving[1] == index
    if seen != count and not (moved and count == seen + 1):
        c.add("link", "I13", "cache 0x%x.bins[%d] holds %d blocks, but "
              "counts[%d] says %d" % (cache.address, index, seen, index, count))
        return False
    return True


def _not_cached(c, link):
    block, where = c.heap.find(link)
    if block is not None and block.node == link:
        return "that is a %s block, not a cached one" % block.state
    return "that is not a node: it is " + where


# -- I19: quarantines ---------------------------------------------------------

def _quarantines(c):
    """I19: each arena's quarantine leads from its head, by mem[0:8], through
    quarantined blocks of that arena without a loop, each naming the one
    before in mem[8:16], to its tail, and holds as many blocks and bytes as
    the arena says: every quarantined block of the arena, when its walk was
    whole."""
    heap = c.heap
    if heap.layout.version < 6:
        return
    for arena in heap.arenas:
        _quarantine(c, arena)


def _quarantine(c, arena):
    quarantined = c.heap.quarantined
    values = arena.values
    index = arena.index
    node, previous, seen, size = values["quarantine_head"], 0, set(), 0
    while node:
        came = ("arena %d's quarantine_head" % index if not previous
                else "the quarantine link of %s" % c.owner(previous))
        if node in seen:
            c.add("link", "I19", "%s leads back to node 0x%x: the quarantine loops"
                  % (came, node), previous or None)
            return
        entry = quarantined.get(node)
        if entry is None or entry[0] != index or entry[2] is None:
            block, where = c.heap.find(node)
            what = ("a %s block" % block.state if block is not None and block.node == node
                    else where)
            c.add("link", "I19", "%s is 0x%x, which is not a quarantined block of arena %d: "
                  "it is %s" % (came, node, index, what), previous or None)
            return
        if entry[3] != previous:
            c.add("use-after-free", "I19", "%s was written after it was freed: the link to "
                  "the block before it in the quarantine (mem+8) is 0x%x, but that is 0x%x; a "
                  "dangling pointer to it is the likely culprit"
                  % (c.owner(node), entry[3], previous), node, culprit=node + NODE_SIZE)
            return
        seen.add(node)
        size += entry[1]
        previous, node = node, entry[2]
    if values["quarantine_tail"] != previous:
        c.add("link", "I19", "arena %d's quarantine_tail is 0x%x, but its quarantine ends "
              "at 0x%x" % (index, values["quarantine_tail"], previous), previous or None)
        return
    if arena.damaged or index in c.unjudged:
        return
    missed = sorted(node for node, entry in quarantined.items()
                    if entry[0] == index and node not in seen)
    if missed:
        c.add("link", "I19", "%s is not in arena %d's quarantine%s" % (
            c.owner(missed[0]), index,
            " (nor are %s more)" % _many(len(missed) - 1, "quarantined block")
            if len(missed) > 1 else ""), missed[0])
    elif values["quarantine_blocks"] != len(seen) or values["quarantine_bytes"] != size:
        c.add("accounting", "I19", "arena %d: its quarantine holds %s of %d bytes, but "
              "arena.quarantine_blocks is %d and arena.quarantine_bytes %d"
              % (index, _many(len(seen), "block"), size, values["quarantine_blocks"],
                 values["quarantine_bytes"]))


# -- I10: counters --------------------------------------------------------------

def _accounting(c):
    """I10: each arena's counters against what its walk found; the requested
    bytes of all USED blocks against the arenas' and the caches' sum, since a
    thread cache changes a block's requested bytes without its arena."""
    heap = c.heap
    per_arena = [name for name in COUNTERS if name != "requested_bytes"]
    whole = True
    for arena in heap.arenas:
        if arena.damaged or arena.index in c.unjudged:
            whole = False
            heap.notes.append(
                "arena %d: counters not compared, the walk met damaged or "
                "unreadable memory" % arena.index
                if arena.damaged else "arena %d: counters not compared" % arena.index)
            continue
        walked = arena.walk_counters()
        for name in per_arena:
            if arena.values[name] != walked[name]:
                c.add("accounting", "I10", "arena %d: arena.%s is %d, but the walk counts %d"
                      % (arena.index, name, arena.values[name], walked[name]))
    if not whole:
        return
    counted = sum(arena.values["requested_bytes"] for arena in heap.arenas)
    delta = sum(cache.values["requested_delta"] for cache in heap.caches)
    # The USED blocks' requested bytes, each block counted by its state as
    # read: a block a cache was moving counts as USED or not, and the cache
    # may have told requested_delta of the move or not yet, so the
    # difference is the sum of some of the moves' busy_requested.
    walked = sum(arena.walk_counters()["requested_bytes"] for arena in heap.arenas)
    moves = [_signed(cache.values["busy_requested"])
             for cache in heap.caches if cache.values["busy"]]
    total = (counted + delta) & MASK64
    sums = _subset_sums(moves)
    if sums is None:
        heap.notes.append("requested bytes not compared: %d thread caches were "
                          "moving blocks" % len(moves))
        return
    if (walked - total) & MASK64 in sums:
        return
    c.add("accounting", "I10", "the arenas count %d requested bytes and the "
          "thread caches %+d more, %d in all, but the used blocks hold %d%s" % (
              counted, _signed(delta), total, walked,
              " (with %s that thread caches were moving)" % _many(len(moves), "block")
              if moves else ""))


def _subset_sums(values, limit=12):
    """Every sum of a subset of values, modulo 2^64; None when there are
    more than `limit` values, too many to try."""
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
