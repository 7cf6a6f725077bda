"""The optional native walker: gdb/native/fastwalk.c and rows.c, loaded
with ctypes.

It runs the fast test of fastpath.PythonRun in C: about 30 ns a node on a
million blocks, against about 2 us in Python; the scan of fastpath.PythonScan
for the next sound node after damage; and it formats the plain rows of
`ant-walk` (NativeRows), which cost Python 3 to 6 us each.
The library is looked for next to this package (where `cmake --install`
puts it, beside ant-gdb.py), or where the environment variable
ANT_GDB_NATIVE says; ANT_GDB_NATIVE=0 keeps the walk in Python. Whatever
goes wrong in loading it (no file, another architecture, a missing symbol,
another ABI), the walk stays in Python and says the same: describe() tells
which walker runs, and why.
"""
import bisect
import os
from array import array
from itertools import repeat

from .check import STATE_CACHED, STATE_FREE, STATE_NAMES, STATE_USED
from .layout import MASK32, NODE_SIZE, NODE_WORDS

ABI = 6  # FASTWALK_ABI of fastwalk.c
LIBRARY = "libantfastwalk.so"
ENVIRONMENT = "ANT_GDB_NATIVE"
NONE = (1 << 64) - 1  # fastwalk.c's NONE: Python's None for last, last_free and a scan
WINDOW, END, SLOW, FULL, UNSUPPORTED = range(5)  # enum fastwalk_stop
ROOM = 1 << 15  # nodes per call, more than a window of a MiB can hold
LAYOUT_FIELDS = (  # struct fastwalk_layout's members, in order: fastpath.Params'
    "secret", "poison", "used_mark", "free_mark", "cached_mark",
)
STATE_FIELDS = (  # struct fastwalk_state's
    "cur", "last", "last_free", "end", "nodes", "frees", "cached", "requested_sum",
    "free_count", "free_sum", "largest", "cached_count", "cached_sum",
)
ROWS_DONE, ROWS_WINDOW, ROWS_SITE, ROWS_FULL, ROWS_LIMIT, ROWS_UNSUPPORTED = range(6)  # rows_stop
WIDTH_MAX = 64  # rows.c's widest text column
ROWS_FIELDS = (  # struct rows of rows.c, every member 64 bits
    "text_mode", "address_width", "size_width", "want", "min_size", "limit", "place",
    "place_length", "sites", "starts", "lengths", "text", "site_count", "out", "out_room",
    "out_length", "next", "missing",
)
OUT_ROOM = 1 << 20  # bytes of rows a call writes at most
LINKS_SKIP = 2  # links.c: a free block whose own links are not judged
LINKS_SUSPECT_MARK = bytes([1 | 4])  # links.c: known, judged and suspect
STATE_BYTES = {"used": STATE_USED, "free": STATE_FREE, "cached": STATE_CACHED}

_loaded = []  # once tried: [(Native or None, why)]


def default_path():
    package = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(package), LIBRARY)


def load():
    """The loaded library as a Native, or None; tried once per process."""
    if not _loaded:
        _loaded.append(_try_load())
    return _loaded[0][0]


def describe():
    """"native (PATH)" or "python (why)": which walker runs."""
    load()
    return _loaded[0][1]


def _try_load():
    setting = os.environ.get(ENVIRONMENT, "")
    if setting == "0":
        return None, "python (%s=0)" % ENVIRONMENT
    path = setting or default_path()
    try:
        return Native(path), "native (%s)" % path
    except Exception as error:  # any failure at all: the Python walk is the same
        return None, "python (%s cannot be used: %s)" % (path, error)


class Native:
    """The library's functions, typed."""

    def __init__(self, path):
        import ctypes  # here, so that a Python without ctypes only loses speed

        class Layout(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in LAYOUT_FIELDS]

        class State(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in STATE_FIELDS]

        class Rows(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in ROWS_FIELDS]

        library = ctypes.CDLL(path)
        version = library.ant_fastwalk_abi
        version.restype = ctypes.c_uint
        version.argtypes = []
        if version() != ABI:
            raise ValueError("its ABI is %d, this antgdb needs %d" % (version(), ABI))
        walk = library.ant_fastwalk
        walk.restype = ctypes.c_int
        u64, pointer = ctypes.c_uint64, ctypes.c_void_p
        # The window: bytes, as the readers return them, passed without a
        # copy; or a ctypes array.
        walk.argtypes = [pointer, u64, u64, ctypes.POINTER(Layout),
                         ctypes.POINTER(State), pointer, u64, pointer, u64, pointer, u64]
        self.walk = walk
        scan = library.ant_fastwalk_scan
        scan.restype = u64
        scan.argtypes = [pointer, u64, u64, u64, u64, u64]
        self.scan = scan
        self.Layout = Layout
        self.State = State
        self.byref = ctypes.byref
        format_rows = library.ant_fastwalk_rows
        format_rows.restype = ctypes.c_int
        format_rows.argtypes = [pointer, u64, u64, pointer, u64, ctypes.POINTER(Rows)]
        self.format_rows = format_rows
        check_links = library.ant_fastwalk_free_links
        check_links.restype = ctypes.c_int
        check_links.argtypes = [pointer] * 5 + [u64]
        self.check_links = check_links
        self.Rows = Rows
        self.ctypes = ctypes

    def layout(self, params):
        return self.Layout(**{name: getattr(params, name) for name in LAYOUT_FIELDS})

    def rows(self, heap, text, state, min_size, limit):
        """ant-walk's rows, in pieces (see NativeRows); None when `text`
        has columns wider than the C writes."""
        if max(text.address_width, text.size_width) > WIDTH_MAX:
            return None
        return NativeRows(self, heap, text, state, min_size, limit)

    def runner(self, params, arena, end, nodes, frees, cached):
        """A NativeRun, or None when the library cannot test this layout."""
        run = NativeRun(self, params, arena, end, nodes, frees, cached)
        return run if run.supported() else None

    def free_links(self, frees, rebuilding):
        """heapwide._suspects(frees, rebuilding), found in C; None when the
        library could not."""
        count = len(frees)
        if not count:
            return []
        flags = bytearray(frees.known)  # LINKS_KNOWN, and LINKS_SKIP where not judged
        for at, arena in enumerate(frees.arenas if rebuilding else ()):
            if arena in rebuilding:
                flags[at] |= LINKS_SKIP
        columns = [column.buffer_info()[0] for column in
                   (frees.nodes, frees.nexts, frees.prevs, frees.arenas)]
        if self.check_links(*columns, self.ctypes.addressof(
                (self.ctypes.c_char * count).from_buffer(flags)), count):
            return None
        suspects, at = [], flags.find(LINKS_SUSPECT_MARK)
        while at >= 0:
            suspects.append(at)
            at = flags.find(LINKS_SUSPECT_MARK, at + 1)
        return suspects

    def scanner(self, params):
        """A NativeScan, or None when the library cannot walk here."""
        return NativeScan(self, params) if self.runner(params, 0, 0, [], {}, {}) else None


class NativeScan:
    """fastpath.PythonScan's interface and answers, the scan in C."""

    def __init__(self, native, params):
        self.scan = native.scan
        self.secret = params.secret

    def __call__(self, buf, base, at, anchor=None):
        found = self.scan(buf, len(buf), base, at, self.secret, NONE if anchor is None else anchor)
        return None if found == NONE else found


class NativeRun:
    """fastpath.PythonRun's interface and results, the loop in C."""

    def __init__(self, native, params, arena, end, nodes, frees, cached):
        self.walk = native.walk
        self.layout = native.layout(params)
        self.state = native.State(end=end)
        self.refs = native.byref(self.layout), native.byref(self.state)
        self.arena = arena
        self.nodes = nodes
        self.frees = frees
        self.cached = cached
        self.room = ROOM
        self.node_out = array("Q", bytes(8 * ROOM))
        self.free_out = array("Q", bytes(32 * ROOM))
        self.cached_out = array("Q", bytes(32 * ROOM))
        self.pointers = (self.node_out.buffer_info()[0], self.free_out.buffer_info()[0],
                         self.cached_out.buffer_info()[0])

    def supported(self):
        """An empty window only checks the layout."""
        nodes, frees, cached = self.pointers
        return self.walk(b"", 0, 0, *self.refs, nodes, 0, frees, 0, cached, 0) != UNSUPPORTED

    @property
    def requested(self):
        return self.state.requested_sum

    @property
    def free_count(self):
        return self.state.free_count

    @property
    def free_bytes(self):
        return self.state.free_sum

    @property
    def largest(self):
        return self.state.largest

    @property
    def cached_count(self):
        return self.state.cached_count

    @property
    def cached_bytes(self):
        return self.state.cached_sum

    def __call__(self, buf, base, cur, last, last_free):
        state = self.state
        state.cur = cur
        state.last = NONE if last is None else last
        state.last_free = NONE if last_free is None else last_free
        layout, state_ref = self.refs
        nodes, frees, cached = self.pointers
        stop = FULL
        while stop == FULL:
            stop = self.walk(buf, len(buf), base, layout, state_ref, nodes, self.room,
                             frees, self.room, cached, self.room)
            self._keep(state.nodes, state.frees, state.cached)
        last, last_free = state.last, state.last_free
        # WINDOW and END leave cur where the walk must read on or stop.
        return (state.cur, None if last == NONE else last,
                None if last_free == NONE else last_free, stop not in (WINDOW, END))

    def _keep(self, count, free_count, cached_count):
        """Moves what one call accepted into the heap's nodes, frees and
        cached blocks."""
        if count:
            self.nodes.extend(self.node_out[:count])
        if free_count:
            self.frees.extend(self.arena, self.free_out, free_count)
        if cached_count:
            out = self.cached_out[:4 * cached_count]
            self.cached.update(zip(out[0::4], zip(repeat(self.arena, cached_count),
                                                  out[1::4], out[2::4], out[3::4])))


class NativeRows:
    """The rows of heap.rows(state, min_size, limit) as text, in pieces of
    one or more rows, and how many (`shown`, once iterated): the plain ones
    (no problem, a size the node's own) formatted in C, the others by
    `text` (render.JsonRows or render.TextRows), in order."""

    def __init__(self, native, heap, text, state=None, min_size=0, limit=None):
        self.chosen = state, min_size, limit
        self.shown = 0
        self.call = native.format_rows
        self.ctypes = native.ctypes
        self.heap = heap
        self.text = text
        self.out = native.ctypes.create_string_buffer(OUT_ROOM)
        self.rows = native.Rows(text_mode=text.text_mode, address_width=text.address_width,
                                size_width=text.size_width, out=self.ctypes.addressof(self.out),
                                out_room=OUT_ROOM)
        self.ref = native.byref(self.rows)
        self.sites = array("Q")  # ascending, and beside them:
        self.starts = array("Q")  # where each one's members start in `blob`
        self.lengths = array("Q")
        self.blob = bytearray()
        self.keep = None  # the bytes rows.place points into

    def __iter__(self):
        state, min_size, limit = self.chosen
        if limit is not None and limit <= 0:
            return
        rows, heap = self.rows, self.heap
        rows.want = STATE_BYTES.get(state, 0) if state else 0
        if state and not rows.want:
            return  # no block is in a state of another name
        rows.min_size = min_size
        rows.limit = self.limit_taken = (1 << 64) - 1 if limit is None else limit
        odd = sorted(set(heap.extents) | {p.node for p in heap.problems if p.node is not None})
        for region in heap.regions:
            self.keep = self.text.place(region).encode()
            rows.place = self.ctypes.cast(self.keep, self.ctypes.c_void_p).value
            rows.place_length = len(self.keep)
            for piece in self._region(region, odd):
                if piece is None:
                    return
                yield piece

    def _region(self, region, odd):
        """The region's pieces, then None if the limit was reached. A big
        block's size and requested bytes are its mapping's: its row is
        Python's."""
        rows, heap, nodes = self.rows, self.heap, self.heap.nodes
        node_size = NODE_SIZE
        address = nodes.buffer_info()[0]
        buf, base = b"", 0
        index = region.lo
        slow = None  # a node whose row is too long for the C's output
        big = region.kind != "heap"
        while index < region.hi:
            # The C stops before the next odd node, which Python formats.
            stop = index if big else region.hi if slow is None else slow
            at = bisect.bisect_left(odd, nodes[index])
            if at < len(odd) and odd[at] < region.end:
                stop = min(stop, bisect.bisect_left(nodes, odd[at], index, region.hi))
            if index < stop:
                rows.next = index
                why = self.call(buf, len(buf), base, address, stop, self.ref)
                index = rows.next
                if why == ROWS_WINDOW and base != nodes[index]:
                    buf, base = heap.window(nodes[index], region), nodes[index]
                elif why == ROWS_SITE:
                    self._learn(rows.missing)
                elif why in (ROWS_FULL, ROWS_LIMIT) and rows.out_length:
                    yield self._taken()
                elif why != ROWS_LIMIT:
                    slow = index  # a window or a row the C cannot take
                if why == ROWS_LIMIT:
                    yield None
                    return
                continue
            slow = None
            node = nodes[index]
            if node < base or node + node_size > base + len(buf):
                buf, base = heap.window(node, region), node
            words = NODE_WORDS.unpack_from(buf, node - base)
            size = heap.extents.get(node, words[0] & MASK32)
            state = words[3] & 0xFF
            index += 1
            if (rows.want and state != rows.want) or size < rows.min_size:
                continue
            if rows.out_length:
                yield self._taken()
            if not rows.limit:
                yield None
                return
            rows.limit -= 1
            self.limit_taken = rows.limit
            self.shown += 1
            yield self.text.row(node, words, region, size, STATE_NAMES.get(state, "unknown"))
        if rows.out_length:
            yield self._taken()

    def _taken(self):
        """The rows the C wrote since the last call, as one piece."""
        rows = self.rows
        piece = self.ctypes.string_at(rows.out, rows.out_length).decode("utf-8")
        rows.out_length = 0
        self.shown += self.limit_taken - rows.limit  # the C counts its rows down in limit
        self.limit_taken = rows.limit
        return piece

    def _learn(self, site):
        """Adds a site's members to the table the C looks sites up in."""
        members = self.text.site(site).encode("utf-8")
        at = bisect.bisect_left(self.sites, site)
        self.sites.insert(at, site)
        self.starts.insert(at, len(self.blob))
        self.lengths.insert(at, len(members))
        self.blob += members
        rows = self.rows
        rows.sites = self.sites.buffer_info()[0]
        rows.starts = self.starts.buffer_info()[0]
        rows.lengths = self.lengths.buffer_info()[0]
        if self.blob:  # else every length is 0 and the C reads no text
            rows.text = self.ctypes.addressof((self.ctypes.c_char * 1).from_buffer(self.blob))
        rows.site_count = len(self.sites)
