"""What the commands print: text for people, JSON for scripts, and a strip
picture of every region. Text comes as lines so that a million-row walk
streams instead of being built whole; `sites` is a sites.Sites."""
import bisect
import json
from itertools import accumulate

from . import fragmentation, kept, native
from .check import FREED_STATES, STATE_NAMES, number
from .columns import Columns
from .facts import block_facts
from .layout import COUNTERS, FIT_NAMES, NODE_SIZE, POISON_OFFSET
from .model import damaged, kinds
from .selection import Selection, chosen_indices

STRIP = 64  # cells in a region's picture
MAX_REGION_LINES = 32
LEGEND = "# used  . free  ! damaged  ~ wilderness"


def human(size):
    """1536 -> "1.5 KiB"; below a KiB, exact bytes."""
    if size < 1024:
        return "%d B" % size
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return "%.1f %s" % (value, unit)


def _count(number):
    return "{:,}".format(number)


def _many(number, word):
    """3 -> "3 blocks", 1 -> "1 block"."""
    return "%s %s%s" % (_count(number), word, "" if number == 1 else "s")


def serial_text(serial, untrusted=False):
    """A serial as a row shows it: "-" for none; what a damaged node holds
    marked as no serial to believe, in hex when it is too large to be one."""
    if not serial:
        return "-"
    return number(serial) + "?" if untrusted else "%d" % serial


def dumps(value):
    return json.dumps(value, indent=1, sort_keys=False)


# -- ant-heap ----------------------------------------------------------------

def heap_dict(heap):
    layout = heap.layout
    result = heap.summary()
    result.update(fragmentation.summary_fields(result))
    result["fit"] = FIT_NAMES.get(layout.fit, layout.fit)
    result["serial"] = layout.serial
    result["poison_check"] = layout.poison_check
    result["arena_detail"] = [_arena_dict(arena) for arena in heap.arenas]
    result["region_detail"] = [_region_dict(region) for region in heap.regions]
    result["cache_detail"] = [cache.as_dict() for cache in heap.caches]
    result["last_error"] = error = layout.last_error()
    if error and heap.stacks and heap.stacks.frames(error.get("site", 0)):
        # The site as a return address, as elsewhere, and its whole stack.
        error["stack"] = list(heap.stacks.frames(error["site"]))
        error["site"] = error["stack"][0]
    result["in_flight"] = list(heap.inflight)
    result["notes"] = list(heap.notes)
    result.update(kept.summary(heap.kept))
    result["guard"] = heap.layout.optional("root.guard")
    if heap.stacks and "root.stacks" in layout.fields:
        result.update(stack_depth=heap.stacks.configured, stacks=heap.stacks.count,
                      stacks_dropped=heap.stacks.dropped)
    return result


def _arena_dict(arena):
    counters = {name: arena.values[name] for name in COUNTERS}
    for name in ("allocations", "frees"):
        if name in arena.values:
            counters[name] = arena.values[name]
    return {"index": arena.index, "address": arena.address,
            "regions": len(arena.regions), "bigs": len(arena.bigs),
            "counters": counters, "walk": arena.walk_counters()}


def _region_dict(region):
    return {
        "address": region.address, "kind": region.kind, "arena": region.arena,
        "length": region.length, "wilderness": region.wilderness,
        "wilderness_bytes": region.wilderness_bytes, "blocks": region.blocks,
        "used_blocks": region.used_blocks, "free_blocks": region.free_blocks,
        "cached_blocks": region.cached_blocks, "cached_bytes": region.cached_bytes,
        "quarantined_blocks": region.quarantined_blocks,
        "quarantined_bytes": region.quarantined_bytes,
        "unknown_blocks": region.unknown_blocks,
        "requested_bytes": region.requested_bytes, "used_bytes": region.used_bytes,
        "free_bytes": region.free_bytes, "largest_free": region.largest_free,
        "fragmentation": region.fragmentation, "damaged": region.damaged,
        "holes_fragmentation": fragmentation.holes(region.free_bytes, region.largest_free),
    }


def _stack_summary(store):
    if not store.configured:
        return "off (stack=0)"
    dropped = ", %s sites left without one (the store was full)" % _count(store.dropped) if store.dropped else ""
    return "%s kept, up to %d frames each%s" % (_many(store.count, "stack"), store.configured, dropped)


def stack_lines(sites, site, indent="    "):
    """The frames of a site that is a call stack, a line each ("#1 main+36
    at prog.c:30"); none for a site that is one return address."""
    return [indent + text for text in sites.stack_texts(site)]


def heap_lines(heap, sites=None):
    layout = heap.layout
    s = heap.summary()
    s.update(fragmentation.summary_fields(s))
    fit = FIT_NAMES.get(layout.fit, layout.fit)
    yield "Ant heap at 0x%x: layout version %d, fit %s, %s" % (
        layout.address, layout.version, fit, _many(s["arenas"], "arena"))
    rows = [
        ("blocks", "%s (%s used, %s free%s%s%s)" % (
            _count(s["blocks"]), _count(s["used_blocks"]), _count(s["free_blocks"]),
            ", %s cached" % _count(s["cached_blocks"]) if s["cached_blocks"] else "",
            ", %s quarantined" % _count(s["quarantined_blocks"]) if s["quarantined_blocks"] else "",
            ", %s damaged" % _count(s["unknown_blocks"]) if s["unknown_blocks"] else "")),
        ("requested", "%s in used blocks of %s" % (human(s["requested_bytes"]), human(s["used_bytes"]))),
        ("free", "%s in free blocks, largest %s" % (human(s["free_bytes"]),
                                                    human(s["largest_free"]))),
        ("wilderness", human(s["wilderness_bytes"])),
    ]
    live = sum(1 for cache in heap.caches if cache.state == "live")
    rows.append(("thread caches", "%s in %s (%d live), %s blocks per size" % (
        human(s["cached_bytes"]), _many(len(heap.caches), "cache"), live,
        layout.cache_limit) if heap.caches else "none yet (%s blocks per size)" % (
            layout.cache_limit if layout.cache_limit else "off: 0")))
    if layout.quarantine or s["quarantined_blocks"]:
        rows.append(("quarantine", "%s in %s, held back from reuse (up to %s per arena)" % (
            human(s["quarantined_bytes"]), _many(s["quarantined_blocks"], "block"),
            human(layout.quarantine))))
    rows += [
        ("mapped", "%s in %s and %s" % (human(s["mapped_bytes"]), _many(s["regions"], "region"),
                                        _many(s["bigs"], "big block"))),
        ("fragmentation", "%.2f (1 - largest free extent / free bytes, wilderness "
                          "included)" % s["fragmentation"]),
        ("  holes only", "%.2f (1 - largest free block / bytes in free blocks)" % (
            s["holes_fragmentation"])),
        ("  internal", "%s in used blocks beyond the bytes requested (%.0f%%): nodes, tails, "
                       "padding" % (human(s["internal_fragmentation_bytes"]),
                                    100 * s["internal_fragmentation"])),
        ("problems", "%d%s" % (s["problems"], " (run ant-check)" if s["problems"] else "")),
    ]
    rows[-1:-1] = kept.heap_rows(heap.kept, layout.optional("root.guard"))
    if heap.stacks and "root.stacks" in layout.fields:
        rows.insert(-1, ("call stacks", _stack_summary(heap.stacks)))
    for name, text in rows:
        yield "  %-14s %s" % (name, text)
    shown = [cache for cache in heap.caches if cache.values["blocks"] or cache.state == "live"]
    for cache in shown[:MAX_REGION_LINES]:
        yield "    cache 0x%x %s: %s, %s%s" % (
            cache.address, "depot" if cache.state == "depot" else "thread %d %s" % (
                cache.thread, cache.state), _many(cache.values["blocks"], "block"),
            human(cache.values["bytes"]),
            ", changing node 0x%x" % cache.values["busy"] if cache.values["busy"] else "")
    if heap.regions:
        yield ""
        yield "  regions (%s)" % LEGEND
    pictures = _strips(heap)
    for region in heap.regions[:MAX_REGION_LINES]:
        if region.kind == "heap":
            yield "  heap 0x%x %9s arena %d  %s  frag %.2f" % (
                region.address, human(region.length), region.arena,
                _many(region.blocks, "block"), region.fragmentation)
            yield "    [%s]" % pictures[region.address]
        else:
            yield "  big  0x%x %9s arena %d  block mem 0x%x" % (
                region.address, human(region.length), region.arena,
                heap.nodes[region.lo] + NODE_SIZE if region.blocks else 0)
    if len(heap.regions) > MAX_REGION_LINES:
        yield "  ... and %d more (ant-heap --json lists them all)" % (
            len(heap.regions) - MAX_REGION_LINES)
    error = layout.last_error()
    if error:
        yield ""
        yield "  last error (%s, %d so far): %s" % (
            error["kind_name"], error.get("count", 1), error.get("message") or "(no message)")
        frames = stack_lines(sites, error.get("site", 0), "      ") if sites else []
        if frames:
            yield "    the block was allocated at:"
            yield from frames
    if heap.inflight:
        yield ""
        yield "  under way when memory was read (read as it was before each change):"
        for text in heap.inflight:
            yield "    " + text
    for note in heap.notes:
        yield "  note: " + note


def _strips(heap, width=STRIP):
    """One picture per HEAP region: each cell shows what most of its bytes
    are (used, free or wilderness), or ! where a damaged node lies."""
    free = _free_cells(heap, width)
    damaged = sorted(node for node in _damaged_nodes(heap))
    pictures = {}
    for region in heap.regions:
        if region.kind != "heap":
            continue
        cell = _cell(region, width)
        wild = [0] * width
        _spread(wild, region.address, cell, region.wilderness, region.end)
        marks = []
        for index, freed in enumerate(free[region.address]):
            span = min(cell, max(0, region.end - (region.address + index * cell)))
            if span == 0:
                marks.append(" ")
            elif wild[index] * 2 >= span:
                marks.append("~")
            elif freed * 2 >= span - wild[index]:
                marks.append(".")
            else:
                marks.append("#")
        lo = bisect.bisect_left(damaged, region.address)
        for node in damaged[lo:bisect.bisect_left(damaged, region.end)]:
            marks[(node - region.address) // cell] = "!"
        pictures[region.address] = "".join(marks)
    return pictures


def _cell(region, width):
    return max(1, -(-region.length // width))


def _free_cells(heap, width):
    """Free bytes per cell of every HEAP region. heap.frees holds each
    region's free blocks together, by address, so the blocks starting in a
    cell are found by bisection and their bytes by a difference of running
    sums; only the last one in a cell can run past its end."""
    nodes = heap.frees.nodes
    sizes = heap.frees.sizes
    sums = [0]
    sums += accumulate(sizes)
    cells = {}
    lo = 0
    for region in heap.regions:
        hi = lo + region.free_blocks
        if region.kind == "heap":
            cells[region.address] = _region_cells(region, width, nodes, sizes, sums, lo, hi)
        lo = hi
    return cells


def _region_cells(region, width, nodes, sizes, sums, lo, hi):
    base, end, cell = region.address, region.end, _cell(region, width)
    firsts = [bisect.bisect_left(nodes, base + index * cell, lo, hi)
              for index in range(width + 1)]
    counts = [sums[after] - sums[first] for first, after in zip(firsts, firsts[1:])]
    for index in range(width):
        if firsts[index + 1] == firsts[index]:
            continue
        node, size = nodes[firsts[index + 1] - 1], sizes[firsts[index + 1] - 1]
        stop = min(node + size, end)
        if stop == node + size and stop <= base + (index + 1) * cell:
            continue
        counts[index] -= size
        _spread(counts, base, cell, node, stop)
    return counts


def _spread(cells, base, cell, start, end):
    """Adds the bytes of [start, end) to the cells they fall in."""
    while start < end:
        index = (start - base) // cell
        stop = min(end, base + (index + 1) * cell)
        cells[index] += stop - start
        start = stop


def _damaged_nodes(heap):
    damaged = {"header", "size", "link", "state", "unreadable", "overflow",
               "use-after-free", "coalesce"}
    return {p.node for p in heap.problems if p.node is not None and p.kind in damaged}


# -- ant-walk ----------------------------------------------------------------

def walk_row(block, sites):
    """A block's row: `site` the return address (a stack's first frame),
    `stack` every frame up to main, or None where no stack was recorded."""
    row = {}
    for key, value in block.as_row().items():
        if key == "site":
            row["site"] = sites.address(value)
            row["stack"] = sites.frames(value)
            row["site_symbol"], row["site_line"] = sites(value)
        else:
            row[key] = value
    return row


# json.dumps of walk_row's dict, member for member, without building the
# dict: a million rows through json.dumps cost ten times the walk. The
# members that depend only on the region or the site are formatted once
# each.
_ROW = ('{"node": %d, "mem": %d, "size": %d, "requested": %d, "state": "%s", '
        '"serial": %d, "site": %s, %s, "problems": %s}')


class JsonRows:
    """The JSON of walk rows; the native formatter (native.NativeRows) asks
    it for the members of each region and site, and for the rows it leaves
    to Python."""

    text_mode, address_width, size_width, state_width = 0, 0, 0, 0

    def __init__(self, heap, sites):
        self._heap = heap
        self._sites = sites
        self._names = {}  # site -> its address, then its "stack", "site_symbol", "site_line" members
        self._places = {}  # region address -> its "arena", "region" and "big" members

    def site(self, site):
        members = self._names.get(site)
        if members is None:
            symbol, line = self._sites(site)
            members = self._names[site] = '%d, "stack": %s, "site_symbol": %s, "site_line": %s' % (
                self._sites.address(site), json.dumps(self._sites.frames(site)), json.dumps(symbol),
                json.dumps(line))
        return members

    def place(self, region):
        members = self._places.get(region.address)
        if members is None:
            members = '"arena": %d, "region": %d, "big": %s' % (
                region.arena, region.address, "true" if region.kind == "big" else "false")
            guard = kept.guard_of_mapping(self._heap.kept, region.address) if region.kind == "big" else None
            if guard:
                members += ', "guard": "%s"' % guard
            self._places[region.address] = members
        return members

    def row(self, columns, index, region):
        node = columns.nodes[index]
        problems = self._heap.problems_of(node)
        site = columns.sites[index]
        state = STATE_NAMES.get(columns.states[index], "unknown")
        return _ROW % (
            node, node + NODE_SIZE, columns.sizes[index],
            columns.requested[index] if state == "used" else 0, state,
            columns.serials[index], self._names.get(site) or self.site(site),
            self._places.get(region.address) or self.place(region),
            json.dumps(kinds(problems)) if problems else "[]")


class PythonRows:
    """The rows of the blocks chosen (selection.chosen_indices), each as
    `text` writes it (JsonRows or TextRows), and how many (`shown`, once
    iterated)."""

    def __init__(self, heap, columns, text, selection):
        self.heap, self.columns, self.text, self.selection = heap, columns, text, selection
        self.shown = 0

    def __iter__(self):
        row, region_of = self.text.row, self.heap.region_of
        for indices in chosen_indices(self.heap, self.columns, self.selection):
            self.shown += len(indices)
            for index in indices:
                yield row(self.columns, index, region_of(index))


def _rows(heap, text, selection):
    """PythonRows, or native.NativeRows, the same text in pieces of one or
    more rows, when the native library is loaded and can write them."""
    fast = native.load()
    columns = Columns(heap, fast)
    for region in heap.regions:
        # A guarded block's text row says so, and Python writes it.
        if region.kind == "big" and region.hi > region.lo and kept.guard_of_mapping(heap.kept, region.address):
            columns.region(region)
            columns.plain[region.lo] = 0
    rows = fast.rows(heap, columns, text, selection) if fast else None
    return rows or PythonRows(heap, columns, text, selection)


def walk_json_lines(heap, sites, selection=None):
    """The rows as one JSON array, a row a line, streamed; a piece yielded
    may hold several lines."""
    yield "["
    previous = None
    for piece in _rows(heap, JsonRows(heap, sites), selection or Selection()):
        if previous is not None:
            yield previous + ","
        previous = piece
    if previous is not None:
        yield previous
    yield "]"


class TextRows:
    """ant-walk's aligned columns; widths come from the heap's highest
    address and largest region so that rows stream."""

    text_mode = 1

    def __init__(self, heap, sites):
        self._heap = heap
        self._sites = sites
        top = max((region.end for region in heap.regions), default=0)
        self.address_width = max(14, len("0x%x" % top))
        self.size_width = max(9, len(str(max((region.length for region in heap.regions),
                                             default=0))))
        # "quarantined" is the longest state, and only a quarantine has it.
        self.state_width = len("quarantined") if heap.quarantined else len("unknown")
        self.form = "%%-%ds  %%-%ds  %%%ds  %%%ds  %%-%ds  %%8s  %%s" % (
            self.address_width, self.address_width, self.size_width, self.size_width,
            self.state_width)

    def site(self, site):
        return self._sites.text(site)

    def place(self, region):
        return ""

    def header(self):
        return self.form % ("node", "mem", "size", "requested", "state", "serial", "site")

    def row(self, columns, index, region):
        node = columns.nodes[index]
        problems = self._heap.problems_of(node)
        flag = "  [%s]" % ", ".join(kinds(problems)) if problems else ""
        guard = kept.guard_of(self._heap.kept, node + NODE_SIZE)
        if guard:
            flag += "  [guard page %s]" % guard
        state = STATE_NAMES.get(columns.states[index], "unknown")
        return self.form % ("0x%x" % node, "0x%x" % (node + NODE_SIZE), columns.sizes[index],
                            columns.requested[index] if state == "used" else "-",
                            state, serial_text(columns.serials[index], damaged(problems)),
                            self._sites.text(columns.sites[index])) + flag


def walk_lines(heap, sites, selection=None):
    """A header, then one aligned row per block, then how many; a piece
    yielded may hold several rows."""
    text = TextRows(heap, sites)
    yield text.header()
    rows = _rows(heap, text, selection or Selection())
    yield from rows
    yield "%s shown" % _many(rows.shown, "block")


# -- ant-check ---------------------------------------------------------------

def problem_line(problem):
    where = " at mem 0x%x" % problem.mem if problem.mem is not None else ""
    rule = problem.invariant or ("allocator's report" if problem.source == "allocator" else "-")
    return "ant-check: %s (%s)%s: %s" % (problem.kind, rule, where, problem.detail)


def verdict(heap):
    blocks = len(heap.nodes)
    if not heap.problems:
        return "ant-check: OK: %s in %s, no problems" % (
            _many(blocks, "block"), _many(len(heap.regions), "region"))
    kinds = {}
    for problem in heap.problems:
        kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
    return "ant-check: CORRUPT: %s in %s (%s)" % (
        _many(len(heap.problems), "problem"), _many(blocks, "block"),
        ", ".join("%d %s" % (count, kind) for kind, count in kinds.items()))


def check_lines(heap):
    for problem in heap.problems:
        yield problem_line(problem)
    for text in heap.inflight:
        yield "ant-check: under way: " + text
    for note in heap.notes:
        yield "ant-check: note: " + note
    yield verdict(heap)


def check_dict(heap):
    return {"ok": not heap.problems, "blocks": len(heap.nodes),
            "problems": [problem.as_dict() for problem in heap.problems],
            "in_flight": list(heap.inflight), "notes": list(heap.notes)}


# -- ant-block ---------------------------------------------------------------

def block_dict(heap, block, sites, address=None):
    below, above = heap.neighbours(block)
    facts = block_facts(heap, block)
    row = walk_row(block, sites)
    row["address"] = address if address is not None else block.mem
    row["prev"] = below.mem if below else None
    row["next"] = above.mem if above else None
    row["fields"] = facts["fields"]
    row["tail"] = facts["tail"]
    row["poison"] = facts["poison"]
    row["links"] = facts["links"]
    row["freed"] = facts["freed"]
    row["dump"] = {"address": block.mem, "hex": facts["dump"].hex()}
    row["guard"] = kept.guard_of(heap.kept, block.mem)
    row["problems"] = [problem.as_dict() for problem in block.problems]
    return row


def block_lines(heap, block, sites, address=None):
    info = block_dict(heap, block, sites, address)
    offset = ""
    if address is not None and address != block.mem:
        delta = address - block.mem
        offset = ", 0x%x is mem%s%d" % (address, "+" if delta >= 0 else "", delta)
    yield "block at mem 0x%x (node 0x%x)%s" % (block.mem, block.node, offset)
    if info["guard"]:
        yield "  guarded: a guard page right %s it" % info["guard"]
    serial = serial_text(block.serial, damaged(block.problems))
    if block.state in FREED_STATES:
        # Its node keeps its last owner's request, serial and site.
        kept = next(field["value"] for field in info["fields"] if field["name"] == "requested")
        yield "  %s, %d bytes; last owner: %s bytes requested, serial %s, site %s" % (
            block.state, block.size, number(kept), serial, sites.text(block.site))
    else:
        yield "  %s, %d bytes%s, serial %s, site %s" % (
            block.state, block.size,
            " (%s requested)" % number(block.requested) if block.state == "used" else "",
            serial, sites.text(block.site))
    frames = stack_lines(sites, block.site)
    if frames:
        yield "  %s at:" % ("last allocated" if block.state in ("free", "cached") else "allocated")
        yield from frames
    if any(problem.kind == "header" for problem in block.problems):
        yield "  its node is damaged: the fields below are what memory holds now"
    yield "  %s region 0x%x, arena %d; below: %s; above: %s" % (
        block.region.kind.upper(), block.region.address, block.arena,
        "mem 0x%x" % info["prev"] if info["prev"] else "none",
        "mem 0x%x" % info["next"] if info["next"] else "none")
    yield "  node:"
    for field in info["fields"]:
        yield "    " + _field_line(field, sites)
    tail = info["tail"]
    if tail:
        value = "unreadable" if tail["value"] is None else "0x%016x" % tail["value"]
        yield "  tail at mem+%d: %s, expected 0x%016x  %s" % (
            block.requested, value, tail["expected"], "ok" if tail["ok"] else "DAMAGED")
    links = info["links"]
    if links and "cache" in links:
        yield "  cache links: next in bin 0x%x, cache 0x%x" % (links["next"], links["cache"])
    elif links:
        yield "  %s links: next 0x%x, prev 0x%x" % (
            "quarantine" if block.state == "quarantined" else "free", links["next"], links["prev"])
    freed = info["freed"]
    if freed and freed["ok"]:
        yield "  freed at %s after serial %d" % (sites.text(freed["site"]), freed["serial"])
        yield from stack_lines(sites, freed["site"])
    elif freed:
        yield ("  who freed it: its record at mem+16 is damaged (it says site 0x%x, serial %s)"
               "  DAMAGED" % (freed["site"], number(freed["serial"])))
    poison = info["poison"]
    if poison:
        changed = "unreadable" if poison["changed"] is None else "%d changed" % poison["changed"]
        yield "  poison from mem+%d: %d bytes, %s  %s" % (
            POISON_OFFSET, poison["bytes"], changed, "ok" if poison["ok"] else "DAMAGED")
    dump = bytes.fromhex(info["dump"]["hex"])
    if dump:
        yield "  mem, first %d bytes:" % len(dump)
        for start in range(0, len(dump), 16):
            chunk = dump[start:start + 16]
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            yield "    0x%x  %-47s  |%s|" % (block.mem + start, chunk.hex(" "), text)
    for problem in block.problems:
        yield "  " + problem_line(problem)


def _field_line(field, sites):
    name, value, want = field["name"], field["value"], field["expected"]
    if name in ("size", "below", "requested", "serial", "serial_high", "arena"):
        shown = number(value)
        wanted = number(want) if want is not None else ""
    else:
        shown = "0x%x" % value
        wanted = "0x%x" % want if want is not None else ""
    note = ""
    if name == "site":
        note = sites.text(value)
    elif name == "state":
        note = "'%s'" % chr(value) if 32 < value < 127 else ""
    verdict_text = "" if field["ok"] is None else ("ok" if field["ok"] else "WRONG")
    return "+%-3d %-11s %-18s %-27s %s" % (
        field["offset"], name, shown,
        "expected " + wanted if wanted else note, verdict_text)
