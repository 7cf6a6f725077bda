"""The optional native walker: gdb/native/fastwalk.c, links.c, columns.c
and rows.c, loaded with ctypes.

It runs the fast test of fastpath.PythonRun in C: about 30 ns a node on a
million blocks, against about 2 us in Python; the scan of fastpath.PythonScan
for the next sound node after damage; it decodes nodes into columns
(columns.Columns) and formats the plain rows of `ant-walk` (NativeRows),
which cost Python 3 to 6 us each.
The library is looked for where the environment variable ANT_GDB_NATIVE
says, else where a build's loader chose, else next to this package (where
`cmake --install` puts it, beside ant-gdb.py), else, in a source tree, in
its builds (builds.py); ANT_GDB_NATIVE=0 keeps the walk in Python. Whatever
goes wrong in loading it (no file, another architecture, a missing symbol,
another ABI), the walk stays in Python and says the same: describe() tells
which walker runs, and why.
"""
import bisect
import os
from array import array
from itertools import accumulate, repeat

from . import builds
from .selection import chosen_indices
from .sitegroups import GROUP_FIELDS, Group

ABI = 9  # FASTWALK_ABI of fastwalk.c
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
ROWS_DONE, ROWS_ODD, ROWS_SITE, ROWS_FULL, ROWS_UNSUPPORTED = range(5)  # rows_stop
WIDTH_MAX = 64  # rows.c's widest text column
ROWS_FIELDS = (  # struct rows of rows.c, every member 64 bits
    "text_mode", "address_width", "size_width", "nodes", "sizes", "requested", "serials",
    "sites", "states", "plain", "region_los", "region_count", "place_starts", "place_lengths",
    "place_text", "site_list", "starts", "lengths", "text", "site_count", "out", "out_room",
    "out_length", "next", "missing", "state_width",
)
COLUMNS_FIELDS = ("sizes", "requested", "serials", "sites", "states")  # struct columns
GROUP_COLUMNS = ("sites", "sizes", "requested", "serials")  # struct group_columns of groups.c
GROUP_SLOTS = 1 << 10  # the first table groups.c sums into; four times larger while it fills
OUT_ROOM = 1 << 20  # bytes of rows a call writes at most
LINKS_SKIP = 2  # links.c: a free block whose own links are not judged
LINKS_SUSPECT_MARK = bytes([1 | 4])  # links.c: known, judged and suspect

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


def choose(path, sanitize=""):
    """Walks with the library at `path`, built with the sanitizers
    `sanitize` (ANT_SANITIZE's value), unless ANT_GDB_NATIVE says otherwise:
    what a build's loader calls."""
    builds.chosen[:] = [(path, sanitize)]
    del _loaded[:]


def python_chosen():
    """True when ANT_GDB_NATIVE=0 asks for the walk in Python."""
    return os.environ.get(ENVIRONMENT, "") == "0"


def _try_load():
    if python_chosen():
        return None, "python (%s=0)" % ENVIRONMENT
    places = builds.places(os.environ.get(ENVIRONMENT, ""), default_path())
    if not places:
        return None, "python (no %s beside the package or in a build of its source tree)" % LIBRARY
    failures = []
    for path, refusal in places:
        if refusal:
            failures.append("%s cannot be used: %s" % (path, refusal))
            continue
        try:
            return Native(path), "native (%s)" % path
        except Exception as error:  # any failure at all: the Python walk is the same
            failures.append("%s cannot be used: %s" % (path, error))
    return None, "python (%s)" % "; ".join(failures)


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

        class Columns(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in COLUMNS_FIELDS]

        class GroupColumns(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in GROUP_COLUMNS]

        class Group(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in GROUP_FIELDS]

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
        format_rows.argtypes = [pointer, u64, ctypes.POINTER(Rows)]
        self.format_rows = format_rows
        decode = library.ant_fastwalk_columns
        decode.restype = u64
        decode.argtypes = [pointer, u64, u64, pointer, u64, u64, ctypes.POINTER(Columns)]
        self.decode = decode
        self.Columns = Columns
        sum_groups = library.ant_fastwalk_groups
        sum_groups.restype = ctypes.c_int
        sum_groups.argtypes = [pointer, u64, ctypes.POINTER(GroupColumns), pointer, u64,
                               ctypes.POINTER(ctypes.c_uint64)]
        self.sum_groups = sum_groups
        self.GroupColumns = GroupColumns
        self.Group = Group
        check_links = library.ant_fastwalk_free_links
        check_links.restype = ctypes.c_int
        check_links.argtypes = [pointer] * 5 + [u64]
        self.check_links = check_links
        self.Rows = Rows
        self.ctypes = ctypes

    def layout(self, params):
        return self.Layout(**{name: getattr(params, name) for name in LAYOUT_FIELDS})

    def rows(self, heap, columns, text, selection):
        """ant-walk's rows, in pieces (see NativeRows); None when `text`
        has columns wider than the C writes."""
        if max(text.address_width, text.size_width) > WIDTH_MAX:
            return None
        rows = NativeRows(self, heap, columns, text, selection)
        return None if self.format_rows(None, 0, rows.ref) == ROWS_UNSUPPORTED else rows

    def address(self, column):
        """Where an array or bytearray's items are, for a struct member."""
        if isinstance(column, array):
            return column.buffer_info()[0]
        return self.ctypes.addressof((self.ctypes.c_char * len(column)).from_buffer(column)) \
            if column else 0

    def groups(self, heap, columns, chosen):
        """sitegroups.python_groups' groups of the node indices `chosen`
        (arrays of them), summed in C."""
        picks = list(chosen)
        arrays = self.GroupColumns(**{name: self.address(getattr(columns, name))
                                      for name in GROUP_COLUMNS})
        slots = GROUP_SLOTS
        while True:
            table = (self.Group * slots)()
            taken = self.ctypes.c_uint64(0)
            if not any(self.sum_groups(self.address(indices), len(indices), self.byref(arrays),
                                       table, slots, self.byref(taken)) for indices in picks):
                return [Group(*(getattr(group, name) for name in GROUP_FIELDS))
                        for group in table if group.blocks]
            slots *= 4

    def columns(self, buf, base, columns, index, stop):
        """columns.Columns._decode in C."""
        out = self.Columns(**{name: self.address(getattr(columns, name))
                              for name in COLUMNS_FIELDS})
        return self.decode(buf, len(buf), base, self.address(columns.nodes), index, stop,
                           self.byref(out))

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
    """The rows of the blocks chosen (selection.chosen_indices) as text, in
    pieces of one or more rows, and how many (`shown`, once iterated): the
    plain ones (columns.plain) written in C, the others by `text`
    (render.JsonRows or render.TextRows), in order."""

    def __init__(self, native, heap, columns, text, selection):
        self.selection = selection
        self.shown = 0
        self.call = native.format_rows
        self.ctypes = native.ctypes
        self.heap = heap
        self.columns = columns
        self.text = text
        self.out = native.ctypes.create_string_buffer(OUT_ROOM)
        address = native.address
        self.places = [text.place(region).encode() for region in heap.regions]
        self.place_blob = bytearray(b"".join(self.places) or b"\0")
        self.region_los = array("Q", [region.lo for region in heap.regions])
        self.place_starts = array("Q", accumulate((len(p) for p in self.places), initial=0))
        self.place_lengths = array("Q", map(len, self.places))
        self.rows = native.Rows(
            text_mode=text.text_mode, address_width=text.address_width,
            size_width=text.size_width, state_width=text.state_width,
            nodes=address(columns.nodes),
            sizes=address(columns.sizes), requested=address(columns.requested),
            serials=address(columns.serials), sites=address(columns.sites),
            states=address(columns.states), plain=address(columns.plain),
            region_los=address(self.region_los), region_count=len(heap.regions),
            place_starts=address(self.place_starts), place_lengths=address(self.place_lengths),
            place_text=address(self.place_blob), out=self.ctypes.addressof(self.out),
            out_room=OUT_ROOM)
        self.ref = native.byref(self.rows)
        self.address = address
        self.sites = array("Q")  # ascending, and beside them:
        self.starts = array("Q")  # where each one's members start in `blob`
        self.lengths = array("Q")
        self.blob = bytearray()

    def __iter__(self):
        rows, columns, heap = self.rows, self.columns, self.heap
        for indices in chosen_indices(heap, columns, self.selection):
            rows.next = 0
            pointer = indices.buffer_info()[0]
            while True:
                why = self.call(pointer, len(indices), self.ref)
                if why == ROWS_SITE:
                    self._learn(rows.missing)
                    continue
                written = rows.out_length
                if written:
                    yield self._taken()
                if why == ROWS_DONE:
                    break
                if why == ROWS_FULL and written:
                    continue
                # Not plain, or too long for the whole output: Python's.
                index = indices[rows.next]
                yield self.text.row(columns, index, heap.region_of(index))
                rows.next += 1
            self.shown += len(indices)

    def _taken(self):
        """The rows the C wrote since the last call, as one piece."""
        rows = self.rows
        piece = self.ctypes.string_at(rows.out, rows.out_length).decode("utf-8")
        rows.out_length = 0
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
        rows.site_list = self.address(self.sites)
        rows.starts = self.address(self.starts)
        rows.lengths = self.address(self.lengths)
        if self.blob:  # else every length is 0 and the C reads no text
            rows.text = self.address(self.blob)
        rows.site_count = len(self.sites)
