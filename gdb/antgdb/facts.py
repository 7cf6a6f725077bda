"""What ant-block shows of one block: every node field beside the value the
rules expect, and what its mem holds that the rules look at."""
import struct

from .check import FREED_STATES, POISON_CHUNK, STATE_NAMES
from .errors import Unreadable
from .layout import (
    FLAG_BIG, FLAG_TURNS, FREE_LINKS_SIZE, FREED_WORDS, NODE_SIZE, POISON_OFFSET, SITE_MASK,
    STATE_USED, TAIL_SIZE, freed_check, head_check, tail_sentinel,
)

FREE_LINKS = struct.Struct("<QQ")  # a free block's mem: next, prev


def block_facts(heap, block, dump=64):
    """Every node field with the value the rules expect (None where any
    value will do); the tail sentinel of a used block, or the links, the
    record of who freed it and the poison of a free or cached one; and the
    start of mem."""
    layout = heap.layout
    reader = heap.reader
    data = reader.read(block.node, NODE_SIZE)
    facts = {"fields": _fields(heap, block, data), "tail": None, "links": None,
             "freed": None, "poison": None}
    room = block.size - NODE_SIZE
    if block.state == "used" and block.requested + TAIL_SIZE <= room:
        at = block.mem + block.requested
        want = tail_sentinel(layout.secret, block.node)
        try:
            value = int.from_bytes(reader.read(at, 8), "little")
        except Unreadable:
            value = None
        facts["tail"] = {"address": at, "value": value, "expected": want, "ok": value == want}
    elif block.state in FREED_STATES and room >= POISON_OFFSET:
        names = ("next", "cache") if block.state == "cached" else ("next", "prev")
        facts["links"] = dict(zip(names, FREE_LINKS.unpack(reader.read(block.mem, 16))))
        site, serial, check = FREED_WORDS.unpack(
            reader.read(block.mem + FREE_LINKS_SIZE, FREED_WORDS.size))
        facts["freed"] = {"site": site & SITE_MASK, "serial": serial | (site >> 48) << 32,
                          "ok": check == freed_check(layout.secret, block.node, site, serial)}
        facts["poison"] = _poison(reader, layout.poison, block)
    try:
        facts["dump"] = reader.read(block.mem, max(0, min(dump, room)))
    except Unreadable:
        facts["dump"] = b""
    return facts


def _fields(heap, block, data):
    """{name, offset, size, value, expected, ok} of each node field."""
    layout = heap.layout
    below, _ = heap.neighbours(block)
    big = block.big
    expected = {
        "size": 0 if big else block.size,
        "below": block.node - block.region.address if big else below.size if below else 0,
        "arena": block.region.arena,
        "check": head_check(layout.secret, block.node, data),
    }
    if big:
        expected["requested"] = 0  # the mapping's header holds it
    fields = []
    for name, offset, size in sorted(layout.members("node"), key=lambda member: member[1]):
        value = int.from_bytes(data[offset:offset + size], "little")
        want = expected.get(name)
        ok = None if want is None else value == want
        if name == "state":
            ok = value == STATE_USED if big else value in STATE_NAMES
        elif name == "flags":
            # The change count may be anything: what is expected is the rest.
            want = (FLAG_BIG if big else 0) | (value & FLAG_TURNS)
            ok = value == want
        fields.append({"name": name, "offset": offset, "size": size, "value": value,
                       "expected": want, "ok": ok})
    return fields


def _poison(reader, poison, block):
    """{address, bytes, changed, ok} of the poison from mem + POISON_OFFSET."""
    start, stop = block.mem + POISON_OFFSET, block.node + block.size
    changed = 0
    for at in range(start, stop, POISON_CHUNK):
        count = min(POISON_CHUNK, stop - at)
        try:
            changed += count - reader.read(at, count).count(poison)
        except Unreadable:
            changed = None
            break
    return {"address": start, "bytes": stop - start, "changed": changed, "ok": changed == 0}
