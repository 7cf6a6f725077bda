"""Which blocks ant-walk shows, and in what order: the one place its filters,
its sort and its limit are applied.

The blocks are chosen from the columns (columns.Columns) in slices of a
region, so that a walk with a limit and no sort decodes and filters no
more than it shows; each slice is one comprehension per filter given,
which keeps a million blocks' choice to a few tenths of a second in
Python. What comes out is node indices (into heap.nodes), in arrays:
the renderers (render.py, native.NativeRows) format them and decide
nothing.
"""
from array import array

from .check import STATE_CACHED, STATE_FREE, STATE_USED

SLICE = 1 << 14  # node indices chosen at a time when nothing is sorted
STATE_BYTES = {"used": STATE_USED, "free": STATE_FREE, "cached": STATE_CACHED}


class Selection:
    """ant-walk's choice: `state` ("used", "free", "cached" or None), blocks
    of at least `min_size` bytes, at most `limit` of them (None: all)."""

    def __init__(self, state=None, min_size=0, limit=None):
        self.state = state
        self.min_size = min_size
        self.limit = limit


def chosen_indices(heap, columns, selection):
    """The indices of the chosen blocks, in order, as arrays of one or more."""
    limit = selection.limit
    if limit is not None and limit <= 0:
        return
    left = limit
    for region in heap.regions:
        for lo in range(region.lo, region.hi, SLICE):
            hi = min(lo + SLICE, region.hi)
            columns.upto(region, hi)
            kept = _keep(heap, columns, selection, lo, hi)
            if left is not None:
                kept = kept[:left]
                left -= len(kept)
            if kept:
                yield kept
            if left == 0:
                return


def _keep(heap, columns, selection, lo, hi):
    """The indices in [lo, hi) that pass every filter, in order."""
    kept = range(lo, hi)
    if selection.state is not None:
        want = STATE_BYTES.get(selection.state)
        states = columns.states
        kept = [index for index in kept if states[index] == want]
        if want == STATE_FREE:
            # Only blocks the walk took for free: a damaged node's state
            # byte alone does not make it one.
            frees, nodes = heap.frees, columns.nodes
            kept = [index for index in kept if nodes[index] in frees]
    if selection.min_size:
        sizes, least = columns.sizes, selection.min_size
        kept = [index for index in kept if sizes[index] >= least]
    return array("Q", kept)
