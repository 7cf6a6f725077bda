"""The note a big heap walked in Python leaves, once per gdb session: the
native walker takes a third of the time, and the user may not know that
it exists, or why it did not load. A walk the user kept in Python on
purpose (ANT_GDB_NATIVE=0) goes without a note."""
from . import native

BIG_HEAP = 100000  # blocks: from here on the Python walk takes seconds
_said = []


def once(blocks):
    """The note's lines for a walk of `blocks` blocks: none, unless the walk
    ran in Python over a big heap and no note was given yet."""
    if blocks < BIG_HEAP or _said or native.python_chosen() or native.load() is not None:
        return []
    _said.append(blocks)
    return [
        "ant: %s blocks walked in Python, about three times slower than with the native "
        "walker, which is not loaded (%s)." % ("{:,}".format(blocks), native.describe()[len("python ("):-1]),
        "ant: to load it, build Ant (cmake -S . -B build && cmake --build build, in its source "
        "tree) and start gdb again, or set %s to the path of a built %s." % (
            native.ENVIRONMENT, native.LIBRARY),
    ]
