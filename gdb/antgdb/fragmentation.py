"""Fragmentation, the two kinds a textbook names.

External: free bytes in pieces too small for a request. ant-heap's
`fragmentation` counts each region's wilderness as one more free piece,
which is right for what the next request can get but hides the holes: a
heap of Swiss cheese with a large wilderness still scores 0. The holes'
figure leaves the wilderness out, so it says how scattered the free blocks
are among themselves.

Internal: the bytes of used blocks beyond those requested (each block's
node, its tail sentinel and the padding to a multiple of 16)."""


def holes(free_bytes, largest_free):
    """1 - largest free block / bytes in free blocks: 0.0 with no hole or
    one, near 1.0 when the free blocks are many and small."""
    return 1.0 - largest_free / free_bytes if free_bytes else 0.0


def summary_fields(summary):
    """What ant-heap adds to heap.summary(): the holes' fragmentation and
    the internal fragmentation, in bytes and as a share of the used blocks'
    bytes."""
    internal = max(0, summary["used_bytes"] - summary["requested_bytes"])
    used = summary["used_bytes"]
    return {
        "holes_fragmentation": holes(summary["free_bytes"], summary["largest_free"]),
        "internal_fragmentation_bytes": internal,
        "internal_fragmentation": internal / used if used else 0.0,
    }
