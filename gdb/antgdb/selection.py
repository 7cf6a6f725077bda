"""Which blocks ant-walk shows, and in what order: the one place its filters,
its sort and its limit are applied.

The blocks are chosen from the columns (columns.Columns) in slices of a
region, so that a walk with a limit and no sort decodes and filters no
more than it needs (a sort takes them all, then cuts); each slice is one
comprehension per filter given, which keeps a million blocks' choice to
a few tenths of a second in Python. What comes out is node indices (into heap.nodes), in arrays:
the renderers (render.py, native.NativeRows) format them and decide
nothing.
"""
import fnmatch
from array import array

from .check import STATE_CACHED, STATE_FREE, STATE_QUARANTINED, STATE_USED
from .errors import UsageError

SLICE = 1 << 14  # node indices chosen at a time when nothing is sorted
STATE_BYTES = {"used": STATE_USED, "free": STATE_FREE, "cached": STATE_CACHED,
               "quarantined": STATE_QUARANTINED}


SORT_KEYS = ("size", "requested", "serial", "address")


class Selection:
    """ant-walk's choice: blocks in `state` ("used", "free", "cached",
    "quarantined" or None), of at least `min_size` bytes, whose site `site` (a SitePattern)
    matches, whose serial and requested bytes lie in `serial` and
    `requested` ((low, high) ranges, high None for no bound), in arena
    `arena`; ordered by `sort` (one of SORT_KEYS, None for walk order),
    `reverse`d if asked; at most `limit` of them (None: all)."""

    def __init__(self, state=None, min_size=0, limit=None, site=None, serial=None,
                 requested=None, arena=None, sort=None, reverse=False):
        self.state = state
        self.min_size = min_size
        self.limit = limit
        self.site = site
        self.serial = serial
        self.requested = requested
        self.arena = arena
        self.sort = sort
        self.reverse = reverse

    def check(self, heap):
        """Raises UsageError for an arena the heap does not have."""
        if self.arena is not None and self.arena not in {arena.index for arena in heap.arenas}:
            raise UsageError("no arena %d in this heap (its arenas: %s)" % (
                self.arena, ", ".join(str(arena.index) for arena in heap.arenas) or "none"))


class SitePattern:
    """Which sites a --site PATTERN names: with a glob character (* ? [),
    those one of whose names (sites.Sites.names) the glob matches whole;
    else those one of whose names holds the pattern. Each site is asked
    once."""

    def __init__(self, pattern, sites):
        self.pattern = pattern
        self.glob = any(char in pattern for char in "*?[")
        self.sites = sites
        self.known = {}

    def __call__(self, site):
        found = self.known.get(site)
        if found is None:
            names = self.sites.names(site)
            if self.glob:
                found = any(fnmatch.fnmatchcase(name, self.pattern) for name in names)
            else:
                found = any(self.pattern in name for name in names)
            self.known[site] = found
        return found


def chosen_indices(heap, columns, selection):
    """The indices of the chosen blocks, in order, as arrays of one or more."""
    limit = selection.limit
    if limit is not None and limit <= 0:
        return
    regions = [region for region in heap.regions
               if selection.arena is None or region.arena == selection.arena]
    if selection.sort is not None or selection.reverse:
        yield from _ordered(heap, columns, selection, regions)
        return
    left = limit
    for region in regions:
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


def _ordered(heap, columns, selection, regions):
    """Every chosen block at once, sorted (stably: ties in walk order),
    then cut to the limit."""
    kept = array("Q")
    for region in regions:
        columns.region(region)
        kept += _keep(heap, columns, selection, region.lo, region.hi)
    key = sort_key(columns, selection.sort)
    if key is not None:
        kept = sorted(kept, key=key, reverse=selection.reverse)
    elif selection.reverse:
        kept = kept[::-1]
    kept = kept[:selection.limit]
    for lo in range(0, len(kept), SLICE):
        yield array("Q", kept[lo:lo + SLICE])


def sort_key(columns, name):
    """A key function over node indices for SORT_KEYS' `name`, or None."""
    if name == "size":
        return columns.sizes.__getitem__
    if name == "serial":
        return columns.serials.__getitem__
    if name == "address":
        return columns.nodes.__getitem__
    if name == "requested":
        requested, states = columns.requested, columns.states
        return lambda index: requested[index] if states[index] == STATE_USED else 0
    return None


def _keep(heap, columns, selection, lo, hi):
    """The indices in [lo, hi) that pass every filter, in order."""
    kept = range(lo, hi)
    states = columns.states
    if selection.state is not None:
        want = STATE_BYTES.get(selection.state)
        kept = [index for index in kept if states[index] == want]
        if want == STATE_FREE:
            # Only blocks the walk took for free: a damaged node's state
            # byte alone does not make it one.
            frees, nodes = columns.free_nodes(), columns.nodes
            kept = [index for index in kept if nodes[index] in frees]
        elif want == STATE_QUARANTINED:
            held, nodes = heap.quarantined, columns.nodes
            kept = [index for index in kept if nodes[index] in held]
    if selection.min_size:
        sizes, least = columns.sizes, selection.min_size
        kept = [index for index in kept if sizes[index] >= least]
    if selection.serial is not None:
        serials, (low, high) = columns.serials, _bounds(selection.serial)
        kept = [index for index in kept if low <= serials[index] <= high]
    if selection.requested is not None:
        # A row's requested bytes: a used block's, 0 for any other.
        requested, (low, high) = columns.requested, _bounds(selection.requested)
        kept = [index for index in kept
                if low <= (requested[index] if states[index] == STATE_USED else 0) <= high]
    if selection.site is not None:
        sites, match = columns.sites, selection.site
        named = {site for site in {sites[index] for index in kept} if match(site)}
        kept = [index for index in kept if sites[index] in named]
    return array("Q", kept)


def _bounds(pair):
    low, high = pair
    return low, (1 << 64) if high is None else high
