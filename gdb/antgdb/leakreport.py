"""What ant-leaks and ant-refs print: text for people, JSON for scripts."""
from . import reach
from .render import _count, _many, human, serial_text, walk_row

NOTE_UNREAD = "%s of %s could not be read and were not scanned: a block only they point to shows as a leak"


def _notes(heap, facts):
    notes = list(heap.notes)
    if heap.problems:
        notes.append("the heap has %s (see ant-check): damaged blocks are not judged, and "
                     "pointers inside them are not followed" % _many(len(heap.problems), "problem"))
    if facts["unread_root_bytes"]:
        notes.append(NOTE_UNREAD % (human(facts["unread_root_bytes"]), "the roots"))
    if facts["unread_block_bytes"]:
        notes.append(NOTE_UNREAD % (human(facts["unread_block_bytes"]), "the used blocks"))
    if not facts["threads"]:
        notes.append("no thread's registers or stack could be read: blocks only they "
                     "hold show as leaks")
    return notes


def leak_rows(heap, found, sites):
    """Walk rows of the leaked blocks, each with its kind."""
    rows = []
    for mem, kind in found.leaked():
        block, _ = heap.find(mem)
        row = walk_row(block, sites)
        row["kind"] = kind
        rows.append(row)
    return rows


def by_site(rows, sites):
    """The leaked blocks grouped by kind and site: definite first, then
    indirect, then possible; within a kind, most requested bytes first."""
    groups = {}
    for row in rows:
        key = (row["kind"], row["site"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"site": row["site"], "where": sites.text(row["site"], None),
                                   "kind": row["kind"], "blocks": 0, "requested_bytes": 0,
                                   "first_serial": row["serial"], "last_serial": row["serial"],
                                   "mems": []}
        group["blocks"] += 1
        group["requested_bytes"] += row["requested"]
        group["first_serial"] = min(group["first_serial"], row["serial"])
        group["last_serial"] = max(group["last_serial"], row["serial"])
        group["mems"].append(row["mem"])
    return sorted(groups.values(), key=lambda g: (reach.ORDER.index(g["kind"]),
                                                  -g["requested_bytes"], -g["blocks"], g["site"]))


def totals(rows):
    sums = {kind: {"blocks": 0, "requested_bytes": 0} for kind in reach.ORDER}
    for row in rows:
        sums[row["kind"]]["blocks"] += 1
        sums[row["kind"]]["requested_bytes"] += row["requested"]
    return sums


def leaks_dict(heap, found, sites):
    rows = leak_rows(heap, found, sites)
    groups = by_site(rows, sites)
    for group in groups:
        del group["mems"]
    facts = found.facts
    return {"blocks": len(found.table), "leaked": rows, "by_site": groups,
            "totals": totals(rows), "roots": {
                "threads": facts["threads"], "areas": facts["areas"],
                "bytes": facts["root_bytes"], "unread_bytes": facts["unread_root_bytes"]},
            "scan": facts["engine"], "notes": _notes(heap, facts)}


def leaks_lines(heap, found, sites, limit=8):
    """A summary line per kind, then each group of leaks by site with up
    to `limit` of its blocks, then what was scanned."""
    rows = leak_rows(heap, found, sites)
    facts = found.facts
    sums = totals(rows)
    yield "%s considered: %s" % (_many(len(found.table), "used block"), ", ".join(
        "%s %s (%s)" % (_count(sums[kind]["blocks"]), kind, human(sums[kind]["requested_bytes"]))
        for kind in reach.ORDER))
    for group in by_site(rows, sites):
        yield ""
        yield "%-8s %s, %s requested, serials %s..%s, from %s" % (
            group["kind"], _many(group["blocks"], "block"), human(group["requested_bytes"]),
            serial_text(group["first_serial"]), serial_text(group["last_serial"]),
            group["where"] or "no site")
        for mem in group["mems"][:limit]:
            yield "    mem 0x%x" % mem
        if len(group["mems"]) > limit:
            yield "    ... and %s more" % _count(len(group["mems"]) - limit)
    yield ""
    yield "Roots: the registers and stacks of %s, %s of memory in %s (%s scan)" % (
        _many(facts["threads"], "thread"), human(facts["root_bytes"]),
        _many(facts["areas"], "area"), facts["engine"])
    for note in _notes(heap, facts):
        yield "Note: " + note
    if not rows:
        yield "No leaks: every used block is reachable from the roots."


def failure(found):
    """ant-leaks' error when there are definite leaks, else None."""
    definite = found.indices()
    if not definite:
        return None
    requested = sum(found.table.end[i] - found.table.mem[i] for i in definite)
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
