"""reach.c against reach.py's PythonSteps: on random heaps, the same used
blocks, edges, root hits, kinds and references, with windows and rooms
shrunk so that blocks straddle windows and calls fill their output.

Needs the library: run through native_run.py with ANT_GDB_NATIVE set."""
import random
import unittest
from unittest import mock

import gdbpath  # noqa: F401
import test_reach as T
from antgdb import native, reach


def setUpModule():
    if native.load() is None:
        raise unittest.SkipTest("the native walker is not loaded: " + native.describe())


def everything(scene, engine):
    """Every product of the steps, with `engine`."""
    table, regions, _ = reach.used_table(scene.heap, engine)
    offsets, edges, _ = reach.contents(scene.heap, table, regions, engine)
    where = []
    hits, _ = reach.scan_areas(scene.heap.reader, scene.areas, table, engine, where)
    roots = list(hits) + [hit for hit, _, _ in reach.register_hits([scene.thread], table)]
    state = engine.solve(len(table), offsets, edges, roots)
    return (list(table.mem), list(table.end), list(table.index), list(offsets), list(edges),
            list(hits), where,
            bytes(state))


class NativeReachTest(unittest.TestCase):
    def test_the_library_has_the_steps(self):
        self.assertEqual(reach.steps().name, "native")

    def test_same_answers_on_random_heaps(self):
        c, python = reach.steps(), reach.PythonSteps()
        rng = random.Random(7)
        for round in range(30):
            image, registers = T.random_heap(rng, count=rng.randrange(1, 80))
            scene = T.Scene(image, registers)
            window, room = rng.choice([(1 << 20, 1 << 16), (64, 3), (24, 1), (200, 2)])
            with mock.patch.object(reach, "WINDOW", window), mock.patch.object(reach, "ROOM", room):
                mine, theirs = everything(scene, c), everything(scene, python)
            self.assertEqual(mine, theirs, "round %d, window %d, room %d" % (round, window, room))
            block = rng.choice(list(scene.heap.blocks()))
            with mock.patch.object(reach, "steps", lambda accelerate=True: c):
                native_refs = reach.refs(scene.heap, [scene.thread], scene.areas, block)
            python_refs = reach.refs(scene.heap, [scene.thread], scene.areas, block,
                                     accelerate=False)
            self.assertEqual(sorted(map(repr, native_refs)), sorted(map(repr, python_refs)))

    def test_same_kinds_as_the_planted_cases(self):
        for name in ("test_memcheck_kinds_definite_indirect_possible",
                     "test_what_does_not_point_into_a_block",
                     "test_registers_are_roots_and_the_allocator_records_are_not"):
            with mock.patch.object(T.Scene, "_leaks", lambda scene: reach.leaks(
                    scene.heap, [scene.thread], scene.areas)):
                result = unittest.TextTestRunner(stream=open("/dev/null", "w")).run(
                    T.KindsTest(name))
            self.assertTrue(result.wasSuccessful(), name)


if __name__ == "__main__":
    unittest.main()
