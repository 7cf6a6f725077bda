"""Call stacks (layout 6, ANT_OPTIONS=stack=N): a site with bit 47 set is
not a return address but the id of a stack in the store at root.stacks,
whose first frame is the return address the site would otherwise be.

The store only grows and its entries never change, so an entry is sound
when it lies below stacks.used with 1 .. stacks.depth frames; anything else
(a store the core lacks, an id past its end) reads as unknown, never as
another stack.
"""
import struct

from .errors import Unreadable
from .layout import uint

SITE_STACK = 1 << 47
SITE_MASK = 0xFFFFFFFFFFFF
MAGIC = 0x4B4154532D544E41  # "ANT-STAK"
MAX_DEPTH = 32
ENTRY = struct.Struct("<IIII")  # next, hash, depth, reserved


def is_stack(site):
    return bool(site & SITE_STACK)


class Stacks:
    """The store of one heap: frames(site) -> the stack's return addresses,
    or None for a site that is no stack or one the store cannot give."""

    def __init__(self, reader=None, layout=None):
        self._reader = reader
        self._known = {}
        self.address = self.used = self.depth = self.count = self.dropped = self.configured = 0
        self.error = None
        if layout is None or "root.stacks" not in layout.fields:
            return
        self.address = layout.root_value("root.stacks")
        self.configured = layout.root_value("root.stack_depth")
        if not self.address:
            return
        try:
            data = reader.read(self.address, layout.fields["stacks"][1])
            values = layout.decode("stacks", data)
        except Unreadable as error:
            self.error = "the stack store at 0x%x cannot be read: %s" % (self.address, error)
            return
        if values.get("magic") != MAGIC:
            self.error = "the stack store at 0x%x has no magic" % self.address
            return
        self.used, self.depth = values["used"], values["depth"]
        self.count, self.dropped = values.get("count", 0), values.get("dropped", 0)
        self._start = layout.fields["stacks"][1] + 4 * values["bucket_count"]

    def frames(self, site):
        if not site & SITE_STACK:
            return None
        if site not in self._known:
            self._known[site] = self._read(site)
        return self._known[site]

    def _read(self, site):
        offset = (site & SITE_MASK & ~SITE_STACK) * 8
        if not self.used or offset < self._start or offset + ENTRY.size > self.used:
            return None
        try:
            _, _, depth, _ = ENTRY.unpack(self._reader.read(self.address + offset, ENTRY.size))
            if not 1 <= depth <= min(self.depth, MAX_DEPTH) or offset + ENTRY.size + 8 * depth > self.used:
                return None
            data = self._reader.read(self.address + offset + ENTRY.size, 8 * depth)
        except Unreadable:
            return None
        return tuple(uint(data, 8 * i, 8) for i in range(depth))
