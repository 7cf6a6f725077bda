"""The mappings the allocator watches for faults (root.kept, layout 5):
live guarded blocks, each against a guard page, and freed big or guarded
blocks kept inaccessible. Everything is read from the root, since a kept
freed mapping is PROT_NONE and a core may hold none of its bytes."""
from .layout import uint

STATE_GUARDED = 0x44524147  # "GARD"
STATE_FREED = 0x45455246  # "FREE"
GUARD_SIDES = {1: "after", 2: "before"}
FIELDS = ("mapping", "length", "mem", "requested", "serial", "site", "freed_site",
          "freed_serial", "order", "state", "guard")


class Kept:
    """One slot: `state` is "guarded" or "freed", `guard` "after",
    "before" or None (a big block that had no guard page)."""

    def __init__(self, values):
        self.mapping = values["mapping"]
        self.length = values["length"]
        self.mem = values["mem"]
        self.requested = values["requested"]
        self.serial = values["serial"]
        self.site = values["site"]
        self.freed_site = values["freed_site"]
        self.freed_serial = values["freed_serial"]
        self.order = values["order"]
        self.state = "guarded" if values["state"] == STATE_GUARDED else "freed"
        self.guard = GUARD_SIDES.get(values["guard"])

    def holds(self, address):
        return self.mapping <= address < self.mapping + self.length

    def what(self):
        """"guarded block", "freed big block", ..."""
        kind = "guarded block" if self.guard else "big block"
        return kind if self.state == "guarded" else "freed " + kind

    def as_dict(self):
        return {
            "state": self.state, "guard": self.guard, "mapping": self.mapping,
            "length": self.length, "mem": self.mem, "requested": self.requested,
            "serial": self.serial, "site": self.site,
            "freed_site": self.freed_site or None,
            "freed_serial": self.freed_serial if self.state == "freed" else None,
        }


def slots(layout):
    """The kept slots in use, oldest free first; none before layout 5."""
    if "root.kept" not in layout.fields or "kept" not in layout.fields:
        return []
    base, total = layout.fields["root.kept"]
    size = layout.fields["kept"][1]
    members = {name: (offset, width) for name, offset, width in layout.members("kept")}
    if size <= 0 or any(name not in members for name in FIELDS):
        return []
    found = []
    for at in range(base, base + total - size + 1, size):
        values = {name: uint(layout.data, at + offset, width) for name, (offset, width) in members.items()}
        if values["state"] in (STATE_GUARDED, STATE_FREED):
            found.append(Kept(values))
    found.sort(key=lambda k: (k.state != "freed", k.order))
    return found


def holding(kept, address):
    """The slot whose mapping holds `address`, or None."""
    for slot in kept:
        if slot.holds(address):
            return slot
    return None


def guard_of(kept, mem):
    """The side of the guard page of the live block at `mem`, or None."""
    for slot in kept:
        if slot.state == "guarded" and slot.mem == mem:
            return slot.guard
    return None


def guard_of_mapping(kept, mapping):
    """The side of the guard page of the live guarded block whose mapping
    starts at `mapping`, or None."""
    for slot in kept:
        if slot.state == "guarded" and slot.mapping == mapping:
            return slot.guard
    return None


def summary(kept):
    """The counts ant-heap shows."""
    freed = [slot for slot in kept if slot.state == "freed"]
    return {
        "guarded_blocks": sum(1 for slot in kept if slot.state == "guarded"),
        "kept_freed_blocks": len(freed),
        "kept_freed_bytes": sum(slot.length for slot in freed),
    }


def block_lines(slot, address, where):
    """ant-block's text for an address in a kept mapping; `where(site)`
    names a site."""
    offset = address - slot.mem
    lines = ["0x%x is %s byte %d of %s 0x%x (mapping 0x%x, %d bytes)" % (
        address, "at" if offset >= 0 else "before its mem, at", offset, slot.what(), slot.mem,
        slot.mapping, slot.length)]
    lines.append("  requested %d bytes, serial %d, allocated at %s" % (
        slot.requested, slot.serial, where(slot.site)))
    if slot.guard:
        lines.append("  guard page %s the block" % slot.guard)
    if slot.state == "freed":
        lines.append("  freed at %s%s; kept inaccessible, so any access faults" % (
            where(slot.freed_site),
            " after serial %d" % slot.freed_serial if slot.freed_serial else ""))
    return lines


def block_dict(slot, address, sites=None):
    """ant-block --json for an address in a kept mapping; with `sites`
    (sites.Sites), a site that is a call stack is given as its first
    frame, and its frames as `stack` (`freed_stack` for the free)."""
    found = slot.as_dict()
    found["address"] = address
    found["offset"] = address - slot.mem
    if sites is not None:
        found["stack"] = sites.frames(slot.site)
        found["site"] = sites.address(slot.site)
        found["freed_stack"] = sites.frames(slot.freed_site)
        found["freed_site"] = sites.address(slot.freed_site) or None
    return found


def heap_rows(kept, guard):
    """ant-heap's rows: the sampling rate, guarded blocks, freed ones kept;
    none before layout 5."""
    if guard is None:
        return []
    s = summary(kept)
    rate = "about 1 allocation in %d" % guard if guard else "off (guard=0)"
    return [
        ("guarded", "%d live (%s)" % (s["guarded_blocks"], rate)),
        ("kept freed", "%d big or guarded blocks, %d bytes of address space, inaccessible" % (
            s["kept_freed_blocks"], s["kept_freed_bytes"])),
    ]
