"""What the commands print: the JSON shapes of DESIGN.md section 3, and text."""
import json
import random
import unittest

import gdbpath  # noqa: F401
import heapimage as H
import test_fuzz
from antgdb import render
from antgdb.selection import Selection
from antgdb.sites import Sites


def names(address):
    return ("main+%d" % (address & 0xFF), "prog.c:12")


class Rendered(unittest.TestCase):
    def setUp(self):
        self.image, self.blocks, self.big = H.sample()
        self.sites = Sites(names)

    def walk(self):
        return H.walk(self.image, symbolize=names)


class HumanTest(unittest.TestCase):
    def test_sizes(self):
        self.assertEqual([render.human(n) for n in (0, 1023, 1024, 1536, 3 << 20, 5 << 40)],
                         ["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "3.0 MiB", "5.0 TiB"])


class HeapShapeTest(Rendered):
    def test_heap_json(self):
        data = json.loads(render.dumps(render.heap_dict(self.walk())))
        for key in ("layout_version", "arenas", "regions", "blocks", "used_blocks",
                    "free_blocks", "requested_bytes", "free_bytes", "wilderness_bytes",
                    "mapped_bytes", "largest_free", "problems", "fragmentation",
                    "arena_detail", "region_detail", "last_error"):
            self.assertIn(key, data)
        self.assertEqual((data["arenas"], data["regions"], data["blocks"], data["problems"]),
                         (1, 1, 7, 0))
        self.assertIsNone(data["last_error"])
        self.assertEqual(data["arena_detail"][0]["counters"]["used_blocks"], 5)
        self.assertEqual(data["arena_detail"][0]["walk"]["used_blocks"], 5)
        self.assertEqual([r["kind"] for r in data["region_detail"]], ["heap", "big"])
        self.assertEqual(data["fit"], "binned")

    def test_heap_text(self):
        text = "\n".join(render.heap_lines(self.walk()))
        self.assertIn("blocks         7 (5 used, 2 free)", text)
        self.assertIn("free           256 B in free blocks, largest 160 B", text)
        self.assertIn("fragmentation  0.02", text)
        strip = [line for line in text.splitlines() if line.startswith("    [")][0]
        self.assertEqual(len(strip), 4 + 2 + render.STRIP)
        self.assertTrue(strip.strip("[] ").endswith("~" * 40))

    def test_last_error_is_shown(self):
        self.image.last_error = {"kind": 1, "message": "ant: overflow in mem 0x10"}
        self.image.build()
        text = "\n".join(render.heap_lines(self.walk()))
        self.assertIn("last error (overflow, 1 so far): ant: overflow in mem 0x10", text)

    def test_strip_marks_free_and_damage(self):
        image = H.Image()
        region = image.arena().region(0x1000)
        region.used(200)
        region.free(1024)
        region.used(200)
        image.build()
        pictures = render._strips(H.walk(image), width=16)
        # 256 bytes a cell: header and used to 336, free to 1360, used to 1632.
        self.assertEqual(pictures[region.address], "#....#~~~~~~~~~~")
        image.write(region.blocks[2].node, b"\xff" * 8)
        pictures = render._strips(H.walk(image), width=16)
        self.assertEqual(pictures[region.address][5], "!")

    def test_free_cells_hold_the_free_bytes_of_damaged_heaps(self):
        rng = random.Random(7)
        for round_ in range(60):
            image = test_fuzz.build(rng)
            for _ in range(rng.randrange(0, 4)):
                test_fuzz.scribble(rng, image)
            heap = H.walk(image)
            width = rng.choice((7, 64, 300))
            expected = {r.address: [0] * width for r in heap.regions if r.kind == "heap"}
            for node, size in zip(heap.frees.nodes, heap.frees.sizes):
                region = heap.region_at(node)
                if region.kind == "heap":
                    render._spread(expected[region.address], region.address,
                                   render._cell(region, width), node, min(node + size, region.end))
            with self.subTest(round=round_, width=width):
                self.assertEqual(render._free_cells(heap, width), expected)


class WalkShapeTest(Rendered):
    def test_rows(self):
        heap = self.walk()
        rows = [render.walk_row(block, self.sites) for block in heap.select()]
        self.assertEqual(len(rows), 7)
        first = rows[0]
        for key in ("node", "mem", "size", "requested", "state", "serial", "site",
                    "site_symbol", "site_line"):
            self.assertIn(key, first)
        self.assertEqual((first["mem"], first["state"], first["site_symbol"]),
                         (self.blocks[0].mem, "used", "main+0"))
        json.dumps(rows)

    def test_json_rows_stream_as_one_array(self):
        heap = self.walk()
        lines = "\n".join(render.walk_json_lines(heap, self.sites)).split("\n")
        self.assertEqual((lines[0], lines[-1], len(lines)), ("[", "]", 9))
        self.assertEqual([row["mem"] for row in json.loads("\n".join(lines))],
                         [b.mem for b in self.blocks] + [self.big.mem])
        self.assertEqual(json.loads("\n".join(render.walk_json_lines(heap, self.sites, Selection(limit=0)))), [])

    def test_json_rows_are_what_json_dumps_writes(self):
        self.image.write(self.blocks[2].node + 24, b"J")  # an unknown state
        self.image.write(self.blocks[4].node + 4, b"\xff")
        sites = Sites(lambda address: (None, None) if address & 1 else ('a "b"\\', "\u00e9.c:1"))
        heap = H.walk(self.image)
        lines = "\n".join(render.walk_json_lines(heap, sites)).split("\n")[1:-1]
        rows = [json.dumps(render.walk_row(block, sites)) for block in heap.select()]
        self.assertEqual([line.rstrip(",") for line in lines], rows)
        self.assertTrue(any(block.problems for block in heap.select()))

    def test_text_rows_are_aligned(self):
        heap = self.walk()
        lines = "\n".join(render.walk_lines(heap, self.sites)).split("\n")
        self.assertEqual(lines[0].split(), ["node", "mem", "size", "requested", "state",
                                            "serial", "site"])
        self.assertEqual(lines[-1], "7 blocks shown")
        columns = {line.index(" used ") for line in lines[1:-1] if " used " in line}
        self.assertEqual(len(columns), 1)
        self.assertIn("main+0 at prog.c:12", lines[1])

    def test_a_problem_found_twice_is_tagged_once(self):
        # The allocator reported the overflow (root.last_error) and the walk
        # finds it too: one kind on the row.
        used = self.blocks[0]
        self.image.last_error = {"kind": 1, "mem": used.mem, "node": used.node,
                                 "message": "ant: overflow: ..."}
        self.image.build()
        self.image.write(used.mem + used.requested, b"!")
        heap = self.walk()
        self.assertEqual([p.kind for p in heap.problems_of(used.node)], ["overflow", "overflow"])
        row = [line for line in render.walk_lines(heap, self.sites) if "0x%x" % used.mem in line][0]
        self.assertTrue(row.endswith("  [overflow]"), row)
        self.assertEqual(json.loads("".join(render.walk_json_lines(heap, self.sites)))[0]["problems"],
                         ["overflow"])

    def test_a_damaged_nodes_serial_is_not_believed(self):
        used = self.blocks[2]
        self.image.write(used.node + 12, b"A" * 4)
        self.image.write(used.node + 22, b"A" * 2)
        heap = self.walk()
        row = [line for line in render.walk_lines(heap, self.sites) if "0x%x" % used.mem in line][0]
        self.assertIn(" 0x414141414141? ", row)
        block, _ = heap.find(used.mem)
        self.assertIn("serial 0x414141414141?,", "\n".join(render.block_lines(heap, block, self.sites)))


class CheckShapeTest(Rendered):
    def test_clean(self):
        heap = self.walk()
        self.assertEqual(render.check_dict(heap), {"ok": True, "blocks": 7, "problems": [], "in_flight": [],
                                                   "notes": []})
        self.assertEqual(list(render.check_lines(heap)),
                         ["ant-check: OK: 7 blocks in 2 regions, no problems"])

    def test_problems(self):
        self.image.write(self.blocks[0].mem + 24, b"\0")
        self.image.write(self.blocks[3].mem + 40, b"\0")
        heap = self.walk()
        data = json.loads(render.dumps(render.check_dict(heap)))
        self.assertFalse(data["ok"])
        self.assertEqual([(p["kind"], p["mem"], p["invariant"]) for p in data["problems"]],
                         [("overflow", self.blocks[0].mem, "I2"),
                          ("use-after-free", self.blocks[3].mem, "I3")])
        for problem in data["problems"]:
            self.assertTrue(problem["detail"])
        lines = list(render.check_lines(heap))
        self.assertTrue(lines[0].startswith("ant-check: overflow (I2) at mem 0x%x: block mem"
                                            % self.blocks[0].mem))
        self.assertEqual(lines[-1], "ant-check: CORRUPT: 2 problems in 7 blocks "
                                    "(1 overflow, 1 use-after-free)")


class BlockShapeTest(Rendered):
    def test_block_json(self):
        heap = self.walk()
        target = self.blocks[2]
        block, _ = heap.find(target.mem + 7)
        data = json.loads(render.dumps(render.block_dict(heap, block, self.sites, target.mem + 7)))
        for key in ("node", "mem", "size", "requested", "state", "serial", "site", "prev", "next"):
            self.assertIn(key, data)
        self.assertEqual((data["prev"], data["next"]), (self.blocks[1].mem, self.blocks[3].mem))
        fields = {field["name"]: field for field in data["fields"]}
        self.assertEqual((fields["below"]["value"], fields["below"]["expected"]), (160, 160))
        self.assertEqual(data["freed"], None)
        self.assertTrue(all(field["ok"] in (True, None) for field in data["fields"]))
        self.assertTrue(data["tail"]["ok"])
        self.assertEqual(bytes.fromhex(data["dump"]["hex"]), b"C" * 64)

    def test_first_block_has_no_prev(self):
        heap = self.walk()
        block, _ = heap.find(self.blocks[0].node)
        data = render.block_dict(heap, block, self.sites)
        self.assertIsNone(data["prev"])

    def test_free_block_text(self):
        self.image.write(self.blocks[1].mem + 40, b"x")
        heap = self.walk()
        block, _ = heap.find(self.blocks[1].mem)
        text = "\n".join(render.block_lines(heap, block, self.sites, self.blocks[1].mem + 3))
        self.assertIn("is mem+3", text)
        # Its node keeps its last owner's request; the row shows none.
        self.assertIn("free, 160 bytes; last owner: 100 bytes requested, serial 90", text)
        self.assertEqual(block.requested, 0)
        self.assertIn("free links: next 0x%x, prev 0x0" % self.blocks[3].node, text)
        self.assertIn("freed at main+0 at prog.c:12 after serial 90", text)
        self.assertIn("poison from mem+32: 96 bytes, 1 changed  DAMAGED", text)
        self.assertIn("use-after-free (I3)", text)

    def test_who_freed_a_block(self):
        heap = self.walk()
        block, _ = heap.find(self.blocks[1].mem)
        data = render.block_dict(heap, block, self.sites)
        self.assertEqual(data["freed"], {"site": 0x402000, "serial": 90, "ok": True})
        self.assertEqual(data["requested"], 0)
        fields = {field["name"]: field["value"] for field in data["fields"]}
        self.assertEqual(fields["requested"], 100)
        self.image.write(self.blocks[1].mem + 16, b"\x01")
        heap = self.walk()
        block, _ = heap.find(self.blocks[1].mem)
        data = render.block_dict(heap, block, self.sites)
        self.assertEqual(data["freed"], {"site": 0x402001, "serial": 90, "ok": False})
        self.assertIn("who freed it: its record at mem+16 is damaged (it says site 0x402001, "
                      "serial 90)  DAMAGED", "\n".join(render.block_lines(heap, block, self.sites)))

    def test_damaged_head_is_flagged(self):
        self.image.write(self.blocks[2].mem - 1, b"\0")
        heap = self.walk()
        block, _ = heap.find(self.blocks[2].mem)
        lines = list(render.block_lines(heap, block, self.sites))
        check = [line for line in lines if " check " in line and "expected" in line][0]
        self.assertTrue(check.endswith("WRONG"))


if __name__ == "__main__":
    unittest.main()
