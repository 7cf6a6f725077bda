"""The walk's blocks as columns: each node's size, requested bytes, serial,
site and state byte, one array each, index for index with heap.nodes.

ant-walk's filters and sort, ant-sites' groups and ant-diff read these few
facts of many blocks; read once into arrays they cost a few bytes a block
and no Block object. A region is decoded when first asked for, from
windows of the target as the walk read it, by the native library
(gdb/native/columns.c) when it is loaded, else here; then what a node
does not say is set from the walk: a damaged block's extent, a big
block's sizes from its mapping's header.
"""
import bisect
from array import array

from .layout import MASK32, NODE_SIZE, NODE_WORDS, node_serial, node_site

LAST_PLAIN_NODE = (1 << 64) - 1 - NODE_SIZE  # a mem above 2^64 is Python's to print


class Columns:
    """`requested` holds what the node says whatever its state (a free
    block's last owner's request); `plain` is 1 where a row has no problem,
    so that the native formatter may write it."""

    def __init__(self, heap, native=None):
        count = len(heap.nodes)
        self.heap = heap
        self.nodes = heap.nodes
        self.sizes = array("Q", bytes(8 * count))
        self.requested = array("Q", bytes(8 * count))
        self.serials = array("Q", bytes(8 * count))
        self.sites = array("Q", bytes(8 * count))
        self.states = bytearray(count)
        self.plain = bytearray(count)
        self._native = native
        self._decoded = {}  # region address -> node index decoded up to
        self._odd = None
        self._free_nodes = None

    def upto(self, region, stop):
        """Makes sure the region's nodes below index `stop` are decoded."""
        done = self._decoded.get(region.address, region.lo)
        stop = min(stop, region.hi)
        if done >= stop:
            return
        heap, nodes = self.heap, self.nodes
        index = done
        while index < stop:
            buf = heap.window(nodes[index], region)
            index = self._decode(buf, nodes[index], index, stop)
        self._decoded[region.address] = stop
        self._set_from_walk(region, done, stop)

    def free_nodes(self):
        """The nodes of the blocks the walk took for free, as a set."""
        if self._free_nodes is None:
            self._free_nodes = frozenset(self.heap.frees.nodes)
        return self._free_nodes

    def region(self, region):
        self.upto(region, region.hi)

    def everything(self):
        for region in self.heap.regions:
            self.region(region)
        return self

    def _decode(self, buf, base, index, stop):
        """Decodes nodes[index:stop] while they lie in buf (read at base);
        the window holds the first one. Returns the first index not done."""
        if self._native is not None:
            done = self._native.columns(buf, base, self, index, stop)
            if done > index:
                return done  # else a host that cannot read the target's nodes
        nodes, unpack, end = self.nodes, NODE_WORDS.unpack_from, base + len(buf)
        sizes, requested, serials, sites, states = (self.sizes, self.requested, self.serials,
                                                    self.sites, self.states)
        while index < stop:
            node = nodes[index]
            if node < base or node + NODE_SIZE > end:
                break
            words = unpack(buf, node - base)
            sizes[index] = words[0] & MASK32
            requested[index] = words[1] & MASK32
            serials[index] = node_serial(words)
            sites[index] = node_site(words)
            states[index] = words[3] & 0xFF
            index += 1
        return index

    def _set_from_walk(self, region, lo, hi):
        heap, nodes = self.heap, self.nodes
        self.plain[lo:hi] = b"\1" * (hi - lo)
        if region.kind == "big":
            self.requested[lo:hi] = array("Q", [region.values["big_requested"]]) * (hi - lo)
        if self._odd is None:
            self._odd = sorted(set(heap.extents) | {problem.node for problem in heap.problems
                                                    if problem.node is not None})
        first = bisect.bisect_left(self._odd, nodes[lo])
        for node in self._odd[first:bisect.bisect_right(self._odd, nodes[hi - 1])]:
            at = bisect.bisect_left(nodes, node, lo, hi)
            if at < hi and nodes[at] == node:
                if node in heap.extents:
                    self.sizes[at] = heap.extents[node]
                if heap.problems_of(node):
                    self.plain[at] = 0
        if nodes[hi - 1] > LAST_PLAIN_NODE:
            for index in range(lo, hi):
                if nodes[index] > LAST_PLAIN_NODE:
                    self.plain[index] = 0
