"""antgdb: read an Ant heap out of a live process or a core file.

Every module but `commands` is pure Python and never imports gdb, so the
whole analysis runs (and is tested) on synthetic memory images.
"""
