"""What ant-leaks and ant-refs print: text for people, JSON for scripts."""
import json

from . import native, reach
from .columns import Columns
from .layout import NODE_SIZE
from .model import kinds
from .render import JsonRows, _count, _many, human, serial_text

NOTE_UNREAD = "%s of %s could not be read and were not scanned: a block only they point to shows as a leak"


def _notes(heap, facts):
    notes = list(heap.notes)
    if heap.problems:
        notes.append("the heap has %s (see ant-check): blocks whose nodes are damaged are not "
                     "judged, and their words are read as roots" % _many(len(heap.problems), "problem"))
    if facts["unread_root_bytes"]:
        notes.append(NOTE_UNREAD % (human(facts["unread_root_bytes"]), "the roots"))
    if facts["unread_block_bytes"]:
        notes.append(NOTE_UNREAD % (human(facts["unread_block_bytes"]), "the used blocks"))
    if not facts["threads"]:
        notes.append("no thread's registers or stack could be read: blocks only they "
                     "hold show as leaks")
    return notes


class Leaked:
    """The leaked blocks in columns, in address order: each one's place in
    the table, its kind, and its node's serial and site (from columns.py,
    decoded only in the regions that hold leaks): a heap of a million
    leaks is grouped without a Block or a dict for each."""

    def __init__(self, heap, found):
        self.heap = heap
        self.found = found
        self.places = found.indices(reach.LEAKED)
        table = found.table
        self.columns = Columns(heap, native.load())
        if self.places:
            self.columns.everything()
        self.indices = [table.index[i] for i in self.places]

    def __len__(self):
        return len(self.places)

    def each(self):
        """(mem, kind, requested, serial, site, heap index) of each."""
        table, state, columns = self.found.table, self.found.state, self.columns
        serials, sites = columns.serials, columns.sites
        for place, index in zip(self.places, self.indices):
            yield (table.mem[place], reach.KINDS[state[place]], table.end[place] - table.mem[place],
                   serials[index], sites[index], index)

    def rows(self, sites):
        """Walk rows of the leaked blocks, each with its kind, as JSON text
        (render.JsonRows formats the members of each region and site once)."""
        heap, sizes = self.heap, self.columns.sizes
        text = JsonRows(heap, sites)
        for mem, kind, requested, serial, site, index in self.each():
            node = mem - NODE_SIZE
            problems = heap.problems_of(node)
            yield _ROW % (node, mem, sizes[index], requested, serial, text.site(site),
                          text.place(heap.region_of(index)),
                          json.dumps(kinds(problems)) if problems else "[]", kind)


# A walk row's JSON (render.walk_row's keys, in order) and the kind.
_ROW = ('{"node": %d, "mem": %d, "size": %d, "requested": %d, "state": "used", "serial": %d, '
        '"site": %s, %s, "problems": %s, "kind": "%s"}')


def by_site(leaked, sites, keep_mems=0):
    """The leaked blocks grouped by kind and site: definite first, then
    indirect, then possible; within a kind, most requested bytes first.
    Each group keeps the mem of its first `keep_mems` blocks."""
    groups = {}
    for mem, kind, requested, serial, site, _ in leaked.each():
        group = groups.get((kind, site))
        if group is None:
            group = groups[(kind, site)] = {
                "site": sites.address(site), "stack": sites.frames(site), "key": site,
                "where": sites.text(site, None), "kind": kind, "blocks": 0,
                "requested_bytes": 0, "first_serial": serial, "last_serial": serial, "mems": []}
        group["blocks"] += 1
        group["requested_bytes"] += requested
        if serial < group["first_serial"]:
            group["first_serial"] = serial
        if serial > group["last_serial"]:
            group["last_serial"] = serial
        if len(group["mems"]) < keep_mems:
            group["mems"].append(mem)
    return sorted(groups.values(), key=lambda g: (reach.ORDER.index(g["kind"]),
                                                  -g["requested_bytes"], -g["blocks"], g["key"]))


def totals(groups):
    sums = {kind: {"blocks": 0, "requested_bytes": 0} for kind in reach.ORDER}
    for group in groups:
        sums[group["kind"]]["blocks"] += group["blocks"]
        sums[group["kind"]]["requested_bytes"] += group["requested_bytes"]
    return sums


def leaks_json_lines(heap, found, sites):
    """ant-leaks --json, streamed: a row a line, so a million leaks are
    written without one string of them all."""
    leaked = Leaked(heap, found)
    groups = by_site(leaked, sites)
    for group in groups:
        del group["mems"], group["key"]
    facts = found.facts
    yield '{"blocks": %d, "leaked": [' % len(found.table)
    rows = leaked.rows(sites)
    previous = next(rows, None)
    for row in rows:
        yield previous + ","
        previous = row
    if previous is not None:
        yield previous
    rest = {"by_site": groups, "totals": totals(groups), "roots": {
        "threads": facts["threads"], "areas": facts["areas"], "bytes": facts["root_bytes"],
        "unread_bytes": facts["unread_root_bytes"]},
        "scan": facts["engine"], "notes": _notes(heap, facts)}
    yield "], " + json.dumps(rest, indent=1)[1:]


def leaks_lines(heap, found, sites, limit=8):
    """A summary line per kind, then each group of leaks by site with up
    to `limit` of its blocks, then what was scanned."""
    leaked = Leaked(heap, found)
    groups = by_site(leaked, sites, limit)
    facts = found.facts
    sums = totals(groups)
    yield "%s considered: %s" % (_many(len(found.table), "used block"), ", ".join(
        "%s %s (%s)" % (_count(sums[kind]["blocks"]), kind, human(sums[kind]["requested_bytes"]))
        for kind in reach.ORDER))
    for group in groups:
        yield ""
        yield "%-8s %s, %s requested, serials %s..%s, from %s" % (
            group["kind"], _many(group["blocks"], "block"), human(group["requested_bytes"]),
            serial_text(group["first_serial"]), serial_text(group["last_serial"]),
            group["where"] or "no site")
        for text in sites.stack_texts(group["key"]):
            yield "    " + text
        for mem in group["mems"]:
            yield "    mem 0x%x" % mem
        if group["blocks"] > len(group["mems"]):
            yield "    ... and %s more" % _count(group["blocks"] - len(group["mems"]))
    yield ""
    yield "Roots: the registers and stacks of %s, %s of memory in %s (%s scan)" % (
        _many(facts["threads"], "thread"), human(facts["root_bytes"]),
        _many(facts["areas"], "area"), facts["engine"])
    for note in _notes(heap, facts):
        yield "Note: " + note
    if not len(leaked):
        yield "No leaks: every used block is reachable from the roots."


def failure(found):
    """ant-leaks' error when there are definite leaks, else None."""
    definite = found.indices()
    if not definite:
        return None
    table = found.table
    requested = sum(table.end[i] - table.mem[i] for i in definite)
    return "ant-leaks: %s definitely lost (%s requested)" % (_many(len(definite), "block"),
                                                             human(requested))


# -- ant-refs -------------------------------------------------------------------

def _holder(heap, where, sites):
    kind = where[0]
    if kind == "register":
        _, thread, name = where
        return {"root": "register", "thread": thread.number, "lwp": thread.lwp,
                "register": name}, "%s register %s" % (thread.label(), name)
    if kind == "area":
        return None, None
    block, _ = heap.find(where[1])
    return {"root": None, "block": where[1], "block_site": block.site,
            "block_serial": block.serial}, "block mem 0x%x (serial %s, from %s)" % (
        where[1], serial_text(block.serial), sites.text(block.site))


def refs_entries(heap, found, sites, symbol):
    """One dict and one line per reference; symbol(address) names a
    root word's place where gdb knows it, or None."""
    entries = []
    for address, offset, where in found:
        data, text = _holder(heap, where, sites)
        if data is None:
            area = where[1]
            named = symbol(address)
            if area.thread is not None:
                frame = area.thread.frame_of(address)
                data = {"root": "stack", "thread": area.thread.number, "lwp": area.thread.lwp,
                        "frame": frame[0] if frame else None,
                        "function": frame[1] if frame else None}
            else:
                data = {"root": "mapping", "mapping": [area.start, area.end],
                        "mapping_name": area.name}
            data["symbol"] = named
            text = area.describe(address) + (" (%s)" % named if named else "")
        if address is not None and "block" in data:
            data["offset_in_holder"] = address - where[1]
            text = "0x%x: %s +%d" % (address, text, address - where[1])
        elif address is not None:
            text = "0x%x: %s" % (address, text)
        data["address"] = address
        data["points_to_offset"] = offset
        entries.append((data, "%s -> +%d" % (text, offset)))
    return entries


def refs_dict(block, entries):
    return {"mem": block.mem, "size": block.size, "state": block.state,
            "requested": block.requested, "refs": [data for data, _ in entries]}


def refs_lines(block, entries):
    yield "Block mem 0x%x (%s, %s requested, serial %s): %s" % (
        block.mem, block.state, human(block.requested), serial_text(block.serial),
        _many(len(entries), "reference"))
    for _, line in entries:
        yield "  " + line
    if not entries:
        yield "  nothing in the heap or the roots points into it"
