"""ant-leaks' and ant-refs' reachability on synthetic heaps: memcheck's
kinds for every shape of pointer, the roots and what is not one, and the
references to a block. test_native_reach holds the C steps to the same
answers."""
import random
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import reach, roots

DATA = 0x555555900000  # a writable mapping of the program: a root
STACK = 0x7FFFFFFDE000


def heap_with(count=12, sizes=None, free_at=(), seed=None):
    """An image with `count` used blocks in one region (and free ones at
    the indices in free_at), a big block, a data mapping and a stack."""
    image = H.Image()
    arena = image.arena()
    region = arena.region(0x10000)
    sizes = sizes or [24 + 8 * (i % 5) for i in range(count)]
    blocks = []
    for index, size in enumerate(sizes):
        if index in free_at:
            region.free(H.block_size(size))
        blocks.append(region.used(size))
    big = arena.big(5000)
    image.build()
    image.segments[DATA] = bytearray(4096)
    image.segments[STACK] = bytearray(8192)
    return image, blocks, big


def point(image, at, target, offset=0):
    """Writes a pointer to target's mem + offset at address `at`."""
    image.write_word(at, target.mem + offset)


class Scene:
    """A walk of the image and the roots: the data mapping and the stack
    from its stack pointer up; registers as given."""

    def __init__(self, image, registers=None, sp=STACK + 4096, steps=None):
        self.heap = H.walk(image, accelerate=False)
        self.thread = roots.Thread(1, 4242, registers or {}, sp, [(sp, "main"), (sp + 2048, "start")])
        mappings = [(DATA, DATA + 4096, True, "/prog"), (STACK, STACK + 8192, True, "[stack]"),
                    (H.ROOT_AT, H.ROOT_AT + H.ROOT_SIZE, True, "/libant.so")]
        mappings += [(region.address, region.end, True, None) for region in self.heap.regions]
        self.areas = roots.areas(mappings, [self.thread], self.heap)
        self.steps = steps

    def kinds(self):
        found = self._leaks()
        return {mem: kind for mem, kind in found.leaked()}

    def _leaks(self):
        if self.steps is None:
            return reach.leaks(self.heap, [self.thread], self.areas, accelerate=False)
        original = reach.steps
        reach.steps = lambda accelerate=True: self.steps
        try:
            return reach.leaks(self.heap, [self.thread], self.areas)
        finally:
            reach.steps = original

    def refs(self, block):
        target, _ = self.heap.find(block.mem)
        return reach.refs(self.heap, [self.thread], self.areas, target, accelerate=False)


class KindsTest(unittest.TestCase):
    def test_nothing_points_anywhere_every_used_block_is_definite(self):
        image, blocks, big = heap_with(5)
        kinds = Scene(image).kinds()
        self.assertEqual(kinds, {block.mem: "definite" for block in blocks + [big]})

    def test_a_root_start_pointer_makes_reachable_and_what_it_reaches(self):
        image, blocks, big = heap_with(4)
        point(image, DATA + 8, blocks[0])
        point(image, blocks[0].mem + 8, blocks[1])
        point(image, blocks[1].mem, big)
        point(image, big.mem + 4000, blocks[2])
        kinds = Scene(image).kinds()
        self.assertEqual(kinds, {blocks[3].mem: "definite"})

    def test_memcheck_kinds_definite_indirect_possible(self):
        image, blocks, big = heap_with(8)
        # 0 -> 1 -> 2 (interior): nothing reaches 0.
        point(image, blocks[0].mem, blocks[1])
        point(image, blocks[1].mem + 8, blocks[2], 5)
        # A root's interior pointer into 3, whose start pointer reaches 4.
        point(image, DATA, blocks[3], 4)
        point(image, blocks[3].mem + 16, blocks[4])
        # 5 <-> 6, a cycle nothing reaches; 7 is reached from the stack.
        point(image, blocks[5].mem, blocks[6])
        point(image, blocks[6].mem, blocks[5])
        point(image, STACK + 6000, blocks[7])
        point(image, STACK + 6008, big)
        kinds = Scene(image).kinds()
        self.assertEqual(kinds, {
            blocks[0].mem: "definite", blocks[1].mem: "indirect", blocks[2].mem: "indirect",
            blocks[3].mem: "possible", blocks[4].mem: "possible",
            blocks[5].mem: "definite", blocks[6].mem: "indirect"})

    def test_a_start_pointer_from_a_reachable_block_outranks_a_possible_path(self):
        image, blocks, big = heap_with(3)
        point(image, DATA, blocks[0], 8)  # possible
        point(image, blocks[0].mem, blocks[1])  # possible, for now
        point(image, DATA + 8, blocks[2])  # reachable
        point(image, blocks[2].mem, blocks[1])  # so 1 is reachable after all
        point(image, STACK + 5000, big)
        self.assertEqual(Scene(image).kinds(), {blocks[0].mem: "possible"})

    def test_a_later_leader_takes_an_earlier_one_as_indirect(self):
        image, blocks, big = heap_with(3)
        point(image, blocks[2].mem, blocks[0])  # 2 is the higher address
        point(image, STACK + 5000, big)
        point(image, DATA, blocks[1])
        self.assertEqual(Scene(image).kinds(), {blocks[2].mem: "definite",
                                                blocks[0].mem: "indirect"})

    def test_what_does_not_point_into_a_block(self):
        image, blocks, big = heap_with(4, sizes=[40, 0, 40, 40])
        point(image, DATA, blocks[0], 40)  # one past the requested bytes
        point(image, DATA + 8, blocks[1])  # a block of no bytes: its mem is its start
        image.write_word(DATA + 16, blocks[2].node)  # its node, not its mem
        point(image, STACK + 100, blocks[3])  # below the stack pointer: a dead frame
        point(image, STACK + 5000, big)
        kinds = Scene(image).kinds()
        self.assertEqual(kinds, {blocks[0].mem: "definite", blocks[2].mem: "definite",
                                 blocks[3].mem: "definite"})

    def test_words_past_the_requested_bytes_and_unaligned_are_not_scanned(self):
        image, blocks, big = heap_with(3, sizes=[20, 40, 40])
        point(image, DATA, blocks[0])
        # 20 requested bytes hold two whole words; the third starts at 16.
        point(image, blocks[0].mem + 16, blocks[1])
        image.write(blocks[0].mem + 9, (blocks[2].mem).to_bytes(8, "little"))
        point(image, STACK + 5000, big)
        kinds = Scene(image).kinds()
        self.assertEqual(kinds, {blocks[1].mem: "definite", blocks[2].mem: "definite"})

    def test_registers_are_roots_and_the_allocator_records_are_not(self):
        image, blocks, big = heap_with(3)
        point(image, H.ROOT_AT + 632, blocks[0])  # root.last_error.mem
        point(image, H.ARENAS_AT + 200, blocks[1])  # inside the arena
        registers = {"rbx": [blocks[2].mem], "xmm0": [0, big.mem + 10]}
        kinds = Scene(image, registers).kinds()
        self.assertEqual(kinds, {blocks[0].mem: "definite", blocks[1].mem: "definite",
                                 big.mem: "possible"})

    def test_free_blocks_are_neither_leaks_nor_scanned(self):
        image, blocks, big = heap_with(3, free_at=(1,))
        free = [block for block in image.arenas[0].regions[0].blocks if block.state == "free"][0]
        point(image, free.mem + 40, blocks[0])  # in its poison: not the program's
        point(image, DATA, blocks[1])
        point(image, DATA + 8, blocks[2])
        point(image, DATA + 16, big)
        self.assertEqual(Scene(image).kinds(), {blocks[0].mem: "definite"})


class MissingTest(unittest.TestCase):
    def test_unreadable_root_pages_are_counted_and_skipped(self):
        image, blocks, big = heap_with(2)
        point(image, DATA + 4088, blocks[0])
        scene = Scene(image)
        scene.areas.append(roots.Area(DATA + 4096, DATA + 3 * 4096, "gone"))
        found = reach.leaks(scene.heap, [scene.thread], scene.areas, accelerate=False)
        self.assertEqual(found.facts["unread_root_bytes"], 2 * 4096)
        self.assertEqual(dict(found.leaked()), {blocks[1].mem: "definite", big.mem: "definite"})

    def test_a_damaged_node_is_not_judged_and_its_words_are_roots(self):
        image, blocks, big = heap_with(3)
        point(image, blocks[0].mem, blocks[2])
        point(image, DATA, big)
        image.node_write(blocks[0], "serial", 12345)  # its check no longer holds
        heap = H.walk(image, accelerate=False)
        self.assertTrue(heap.problems)
        scene = Scene(image)
        kinds = scene.kinds()
        self.assertEqual(kinds, {blocks[1].mem: "definite"})
        found = scene.refs(blocks[2])
        self.assertEqual([(address, where[0], where[1].name) for address, _, where in found],
                         [(blocks[0].mem, "area", "damaged block mem 0x%x" % blocks[0].mem)])


class RootsTest(unittest.TestCase):
    def test_parse_maps(self):
        text = ("555555554000-555555556000 r-xp 00000000 08:01 12 /prog\n"
                "555555558000-555555559000 rw-p 00002000 08:01 12 /prog\n"
                "7ffff7ff0000-7ffff7ff1000 ---p 00000000 00:00 0 \n"
                "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n")
        self.assertEqual(roots.parse_maps(text), [
            (0x555555554000, 0x555555556000, False, "/prog"),
            (0x555555558000, 0x555555559000, True, "/prog"),
            (0x7FFFFFFDE000, 0x7FFFFFFFF000, True, "[stack]")])

    def test_a_cores_segments_take_the_names_gdb_gives(self):
        text = ("Mapped address spaces:\n\n"
                "          Start Addr           End Addr       Size     Offset objfile\n"
                "      0x555555554000     0x555555555000     0x1000        0x0 /prog\n"
                "      0x7ffff7ee0000     0x7ffff7ee2000     0x2000     0x3000 /lib/k.so\n"
                "      0x7ffff7ff0000     0x7ffff7ff1000     0x1000     0x0  rw-p   /lib/p.so\n")
        files = roots.parse_gdb_mappings(text)
        self.assertEqual(files, [(0x555555554000, 0x555555555000, "/prog"),
                                 (0x7FFFF7EE0000, 0x7FFFF7EE2000, "/lib/k.so"),
                                 (0x7FFFF7FF0000, 0x7FFFF7FF1000, "/lib/p.so")])
        segments = [(0x7FFFF7EE1000, 0x7FFFF7EE2000, True, None), (0x10000, 0x11000, True, None)]
        self.assertEqual(roots.named(segments, files),
                         [(0x7FFFF7EE1000, 0x7FFFF7EE2000, True, "/lib/k.so"),
                          (0x10000, 0x11000, True, None)])

    def test_areas_leave_out_the_heap_and_the_records_and_start_stacks_at_sp(self):
        image, _, _ = heap_with(2)
        cache = image.cache()
        image.build()
        heap = H.walk(image, accelerate=False)
        thread = roots.Thread(1, 0, {}, STACK + 4096)
        mappings = [(STACK, STACK + 8192, True, "[stack]"),
                    (H.ROOT_AT - 4096, H.ROOT_AT + 8192, True, "/libant.so"),
                    (H.CACHES_AT, H.CACHES_AT + 4096, True, None),
                    (DATA, DATA + 4096, False, "/prog")]
        mappings += [(region.address, region.end + 4096, True, None) for region in heap.regions]
        found = [(area.start, area.end, area.thread is not None)
                 for area in roots.areas(mappings, [thread], heap)]
        root_end = H.ROOT_AT + H.ROOT_SIZE
        self.assertEqual(sorted(found), sorted(
            [(STACK + 4096, STACK + 8192, True),
             (H.ROOT_AT - 4096, H.ROOT_AT, False), (root_end, H.ROOT_AT + 8192, False),
             (cache.address + H.CACHE_SIZE, H.CACHES_AT + 4096, False)]
            + [(region.end, region.end + 4096, False) for region in heap.regions]))

    def test_a_stack_word_names_its_frame(self):
        thread = roots.Thread(2, 77, {}, 0x1000, [(0x1000, "inner"), (0x1100, "outer")])
        area = roots.Area(0x1000, 0x2000, "[stack]", thread)
        self.assertEqual(area.describe(0x1008), "thread 2 (LWP 77) stack frame #0 (inner)")
        self.assertEqual(area.describe(0x1100), "thread 2 (LWP 77) stack frame #1 (outer)")
        self.assertEqual(roots.Area(0x10, 0x20, "/prog").describe(0x18), "mapping 0x10-0x20 /prog")


class RefsTest(unittest.TestCase):
    def test_every_reference_with_where_it_is(self):
        image, blocks, big = heap_with(4)
        target = blocks[2]
        point(image, DATA + 24, target)
        point(image, STACK + 4096 + 16, target, 8)
        point(image, blocks[0].mem + 8, target, 3)
        point(image, big.mem + 800, target)
        point(image, STACK + 8, target)  # below the stack pointer: not a root
        scene = Scene(image, {"r12": [target.mem + 1]})
        found = sorted(scene.refs(target), key=lambda ref: (ref[0] or 0))
        described = [(address, offset, where[0], where[1] if where[0] == "block" else None)
                     for address, offset, where in found]
        self.assertEqual(described, [
            (None, 1, "register", None),
            (DATA + 24, 0, "area", None),
            (blocks[0].mem + 8, 3, "block", blocks[0].mem),
            (big.mem + 800, 0, "block", big.mem),
            (STACK + 4096 + 16, 8, "area", None)])
        self.assertEqual(found[0][2][2], "r12")


def random_heap(rng, count=60):
    """A heap with pointers of every kind at random, and its roots."""
    image, blocks, big = heap_with(count, sizes=[rng.choice([0, 8, 20, 40, 64, 100, 200])
                                                 for _ in range(count)])
    every = blocks + [big]
    for _ in range(count * 2):
        source = rng.choice(every)
        if source.requested < 8:
            continue
        target = rng.choice(every)
        offset = rng.choice([0, 0, 0, 1, max(0, target.requested - 1)])
        slot = rng.randrange(source.requested // 8)
        point(image, source.mem + 8 * slot, target, offset)
    for slot in range(rng.randrange(6)):
        point(image, DATA + 8 * slot, rng.choice(every), rng.choice([0, 0, 4]))
    registers = {"rax": [rng.choice(every).mem]}
    return image, registers


class ReferenceTest(unittest.TestCase):
    """The kinds on random graphs, against a direct reading of memcheck's
    definitions."""

    def test_random_graphs(self):
        rng = random.Random(20261203)
        for _ in range(20):
            image, registers = random_heap(rng)
            scene = Scene(image, registers)
            self.assertEqual(scene.kinds(), expected_kinds(scene))


def expected_kinds(scene):
    """memcheck's kinds by their definitions: reachable when a chain of
    start pointers leads from a root; possible when some chain does;
    else indirect when a leaked block reaches it, with one definite leader
    (the lowest address) per group that no other leak reaches."""
    engine = reach.PythonSteps()
    table, regions, _ = reach.used_table(scene.heap, engine)
    offsets, edges, _ = reach.contents(scene.heap, table, regions, engine)
    hits, _ = reach.scan_areas(scene.heap.reader, scene.areas, table, engine)
    hits.extend(hit for hit, _, _ in reach.register_hits([scene.thread], table))
    count = len(table)
    out = [[edges[e] for e in range(offsets[i], offsets[i + 1])] for i in range(count)]

    def closure(starts, follow):
        seen, todo = set(starts), list(starts)
        while todo:
            for hit in out[todo.pop()]:
                if follow(hit) and hit >> 1 not in seen:
                    seen.add(hit >> 1)
                    todo.append(hit >> 1)
        return seen

    reachable = closure({hit >> 1 for hit in hits if not hit & 1}, lambda hit: not hit & 1)
    reached = closure({hit >> 1 for hit in hits}, lambda hit: True)
    kinds = {}
    lost = [i for i in range(count) if i not in reached]
    claimed = set()
    for leader in lost:
        if leader in claimed:
            continue
        # Through blocks no leader took yet: memcheck follows no block twice.
        members = closure({leader}, lambda hit: hit >> 1 not in reached
                          and hit >> 1 not in claimed) - {leader}
        claimed |= members
    for i in range(count):
        if i in reachable:
            continue
        if i in reached:
            kinds[table.mem[i]] = "possible"
        else:
            kinds[table.mem[i]] = "indirect" if i in claimed else "definite"
    return kinds


if __name__ == "__main__":
    unittest.main()


class ReportTest(unittest.TestCase):
    def setUp(self):
        from antgdb.sites import Sites

        image, self.blocks, self.big = heap_with(6)
        point(image, DATA, self.blocks[0])
        point(image, self.blocks[1].mem, self.blocks[2])
        point(image, DATA + 8, self.blocks[3], 2)
        self.scene = Scene(image)
        self.found = self.scene._leaks()
        self.sites = Sites(lambda address: ("f+%d" % (address & 0xFF), "x.c:%d" % (address >> 12)))

    def test_json_rows_are_walk_rows_with_their_kind(self):
        import json
        from antgdb import leakreport, render

        heap = self.scene.heap
        report = json.loads("\n".join(leakreport.leaks_json_lines(heap, self.found, self.sites)))
        kinds = self.scene.kinds()
        expected = []
        for mem in sorted(kinds):
            row = render.walk_row(heap.find(mem)[0], self.sites)
            row["kind"] = kinds[mem]
            expected.append(row)
        self.assertEqual(report["leaked"], expected)
        self.assertEqual(report["blocks"], 7)
        self.assertEqual([(g["kind"], g["blocks"]) for g in report["by_site"]],
                         [("definite", 4), ("indirect", 1), ("possible", 1)])
        lost = (self.blocks[1], self.blocks[4], self.blocks[5], self.big)
        self.assertEqual(report["totals"]["definite"],
                         {"blocks": 4, "requested_bytes": sum(b.requested for b in lost)})

    def test_text_groups_and_the_error(self):
        from antgdb import leakreport

        lines = list(leakreport.leaks_lines(self.scene.heap, self.found, self.sites, limit=2))
        self.assertTrue(lines[0].startswith("7 used blocks considered: 4 definite"), lines[0])
        self.assertIn("    ... and 2 more", lines)
        self.assertIn("possible 1 block", "\n".join(lines))
        self.assertRegex(leakreport.failure(self.found), r"^ant-leaks: 4 blocks definitely lost")


class RefsReportTest(unittest.TestCase):
    def test_each_reference_says_where_it_is(self):
        from antgdb import leakreport
        from antgdb.sites import Sites

        image, blocks, big = heap_with(3)
        target = blocks[1]
        point(image, DATA + 16, target, 4)
        point(image, STACK + 4096 + 8, target)
        point(image, blocks[0].mem + 8, target)
        scene = Scene(image, {"rdi": [target.mem]})
        block = scene.heap.find(target.mem)[0]
        found = sorted(scene.refs(target), key=lambda ref: ref[0] or 0)
        entries = leakreport.refs_entries(scene.heap, found, Sites(),
                                          lambda address: "keep+16" if address == DATA + 16 else None)
        lines = list(leakreport.refs_lines(block, entries))
        self.assertEqual(lines, [
            "Block mem 0x%x (used, %d B requested, serial %d): 4 references"
            % (target.mem, target.requested, target.serial),
            "  thread 1 (LWP 4242) register rdi -> +0",
            "  0x%x: mapping 0x%x-0x%x /prog (keep+16) -> +4" % (DATA + 16, DATA, DATA + 4096),
            "  0x%x: block mem 0x%x (serial %d, from 0x401000) +8 -> +0"
            % (blocks[0].mem + 8, blocks[0].mem, blocks[0].serial),
            "  0x%x: thread 1 (LWP 4242) stack frame #0 (main) -> +0" % (STACK + 4096 + 8)])
        refs = leakreport.refs_dict(block, entries)["refs"]
        self.assertEqual([ref["root"] for ref in refs], ["register", "mapping", None, "stack"])
        self.assertEqual((refs[2]["block"], refs[2]["offset_in_holder"]), (blocks[0].mem, 8))
        self.assertEqual((refs[3]["frame"], refs[3]["function"]), (0, "main"))
        self.assertEqual(refs[1]["symbol"], "keep+16")
