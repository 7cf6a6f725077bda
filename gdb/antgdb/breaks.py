"""ant-break: the serial whose allocation raises SIGTRAP, root.break_serial.

The allocator reads root.break_serial at every allocation (allocator/src/
break.c): a debugger sets it by writing the word, never by calling into
the process. This module says where the word is, what to write and what
to print; commands.py reads and writes the target.
"""
import struct

from .errors import UsageError

FIELD = "root.break_serial"
SERIAL_LIMIT = 1 << 48  # a node's serial has 48 bits


def place(layout):
    """(address, size) of root.break_serial in the target."""
    if FIELD not in layout.fields:
        raise UsageError("this allocator has no break_serial in its root (layout version %d): "
                         "it cannot stop at an allocation" % layout.version)
    offset, size = layout.fields[FIELD]
    if size != 8:
        raise UsageError("root.break_serial is %d bytes in this allocator's field table, not 8"
                         % size)
    return layout.address + offset, size


def encode(serial):
    """The word to write for `serial`; UsageError for one no node can have."""
    if not 0 <= serial < SERIAL_LIMIT:
        raise UsageError("a serial is below 2^48 (%d); %d is not one" % (SERIAL_LIMIT, serial))
    return struct.pack("<Q", serial)


def decode(data):
    return struct.unpack("<Q", data)[0]


def lines(before, after, last):
    """What ant-break says: the setting `after` (the same as `before`
    when nothing was written), and `last`, the root's last serial handed
    out (threads take serials in batches, so some below it may be unused
    yet)."""
    if after == before:
        if after:
            yield "ant-break: allocation %d raises SIGTRAP (root.break_serial)" % after
        else:
            yield "ant-break: no allocation raises SIGTRAP (root.break_serial is 0)"
    elif after:
        yield "ant-break: allocation %d will raise SIGTRAP (it was %s)" % (
            after, before or "none")
    else:
        yield "ant-break: cleared (it was allocation %d)" % before
    if after and last is not None and after <= last:
        yield ("ant-break: note: threads have taken serials up to %d, in batches of 64, so "
               "%d may be handed out already; it stops only if still to come" % (last, after))
    elif last is not None:
        yield "ant-break: serials taken so far: up to %d" % last


def as_dict(before, after, last):
    return {"break_serial": after or None, "was": before or None, "serial": last}
