"""The optional native walker: gdb/native/fastwalk.c, loaded with ctypes.

It runs the fast test of fastpath.PythonRun in C: about 30 ns a node on a
million blocks, against about 2 us in Python.
The library is looked for next to this package (where `cmake --install`
puts it, beside ant-gdb.py), or where the environment variable
ANT_GDB_NATIVE says; ANT_GDB_NATIVE=0 keeps the walk in Python. Whatever
goes wrong in loading it (no file, another architecture, a missing symbol,
another ABI), the walk stays in Python and says the same: describe() tells
which walker runs, and why.
"""
import os
from array import array
from itertools import repeat

ABI = 3  # FASTWALK_ABI of fastwalk.c
LIBRARY = "libantfastwalk.so"
ENVIRONMENT = "ANT_GDB_NATIVE"
NONE = (1 << 64) - 1  # fastwalk.c's NONE: Python's None for last and last_free
WINDOW, END, SLOW, FULL, UNSUPPORTED = range(5)  # enum fastwalk_stop
ROOM = 1 << 14  # nodes per call, more than a window of a MiB can hold
LAYOUT_FIELDS = (  # struct fastwalk_layout's members, in order
    "node_size", "align_mask", "min_block", "secret", "head_products", "head_adds",
    "head_prime", "head_shift", "head_offset", "tail_multiplier", "tail_nonzero",
    "state_mask", "used_word", "free_word", "cached_word", "overhead", "poison_from",
    "poison",
)
LAYOUT_ARRAYS = {"head_adds": 7}  # members that are arrays of 64-bit words
STATE_FIELDS = (  # struct fastwalk_state's
    "cur", "last", "last_free", "end", "nodes", "frees", "cached", "requested_sum",
    "free_count", "free_sum", "largest", "cached_count", "cached_sum",
)

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
    """The library's two functions, typed."""

    def __init__(self, path):
        import ctypes  # here, so that a Python without ctypes only loses speed

        class Layout(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64 * LAYOUT_ARRAYS[name] if name in LAYOUT_ARRAYS
                         else ctypes.c_uint64) for name in LAYOUT_FIELDS]

        class State(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in STATE_FIELDS]

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
        self.Layout = Layout
        self.State = State
        self.byref = ctypes.byref

    def layout(self, params):
        layout = self.Layout()
        for name in LAYOUT_FIELDS:
            if name in LAYOUT_ARRAYS:
                getattr(layout, name)[:] = getattr(params, name)
            else:
                setattr(layout, name, getattr(params, name))
        return layout

    def runner(self, params, arena, end, nodes, frees, cached):
        """A NativeRun, or None when the library cannot test this layout."""
        run = NativeRun(self, params, arena, end, nodes, frees, cached)
        return run if run.supported() else None


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
        for into, out, n in ((self.frees, self.free_out, free_count),
                             (self.cached, self.cached_out, cached_count)):
            if n:
                out = out[:4 * n]
                into.update(zip(out[0::4], zip(repeat(self.arena, n),
                                               out[1::4], out[2::4], out[3::4])))
