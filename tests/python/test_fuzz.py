"""Random damage, seeded: whatever is scribbled where, the walk and every
renderer finish without an exception and list every block they can."""
import json
import os
import random
import unittest

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import render
from antgdb.errors import AntError
from antgdb.sites import Sites

SEED = int(os.environ.get("ANT_FUZZ_SEED", "20261126"))
ROUNDS = int(os.environ.get("ANT_FUZZ_ROUNDS", "150"))


def build(rng):
    """Two regions of used, free and cached blocks (the free and cached ones
    keeping their last owner's request), some nodes with a change count,
    two thread caches, and a big block."""
    image = H.Image()
    arena = image.arena()
    caches = [image.cache(thread=100 + i) for i in range(2)]
    for _ in range(2):
        region = arena.region(0x3000)
        room = 0x3000 - 80 - 512
        while room > 0:
            if rng.random() < 0.25 and region.blocks and region.blocks[-1].state == "used":
                size = rng.choice((64, 96, 160, 256))
                block = region.free(size, requested=rng.randrange(size - 40))
            elif rng.random() < 0.2:
                size = rng.choice((64, 96, 160, 1024))
                block = region.cached(rng.choice(caches), size, requested=rng.randrange(size - 40))
            else:
                block = region.used(rng.randrange(0, 300), site=0x401000 + rng.randrange(64))
            if rng.random() < 0.2:
                block.turns = rng.randrange(1 << 14)
            room -= block.size
        if region.blocks and room < 0:
            dropped = region.blocks.pop()
            if dropped.state == "cached":
                dropped.cache.blocks.remove(dropped)
    arena.big(70000)
    return image.build()


def scribble(rng, image):
    """Damage of one of the kinds bugs make: a run of bytes, a stray word,
    a zeroed word, or a pointer somewhere plausible."""
    segments = [address for address in image.segments if address != H.ROOT_AT]
    address = rng.choice(segments)
    data = image.segments[address]
    at = address + rng.randrange(len(data) - 8)
    what = rng.randrange(4)
    if what == 0:
        image.write(at, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 96))))
    elif what == 1:
        image.write_word(at & ~7, rng.randrange(1 << 64))
    elif what == 2:
        image.write_word(at & ~7, 0)
    else:
        image.write_word(at & ~7, rng.choice(segments) + rng.randrange(0x3000))


class FuzzTest(unittest.TestCase):
    def test_random_damage_never_breaks_the_walk(self):
        rng = random.Random(SEED)
        for round_ in range(ROUNDS):
            image = build(rng)
            for _ in range(rng.randrange(1, 4)):
                scribble(rng, image)
            with self.subTest(seed=SEED, round=round_):
                heap = H.walk(image)
                sites = Sites()
                json.dumps(render.heap_dict(heap))
                json.dumps(render.check_dict(heap))
                list(render.heap_lines(heap))
                list(render.check_lines(heap))
                list(render.walk_lines(heap, sites))
                blocks = list(heap.select())
                self.assertEqual([b.as_row() for b in blocks],
                                 [heap.block(i).as_row() for i in range(len(heap.nodes))])
                lines = "\n".join(render.walk_json_lines(heap, sites)).split("\n")[1:-1]
                self.assertEqual([line.rstrip(",") for line in lines],
                                 [json.dumps(render.walk_row(b, sites)) for b in blocks])
                nodes = list(heap.nodes)
                self.assertEqual(nodes, sorted(set(nodes), key=nodes.index))
                for _ in range(5):
                    region = rng.choice(heap.regions) if heap.regions else None
                    if region is None:
                        break
                    block, _ = heap.find(region.address + rng.randrange(region.length))
                    if block is not None:
                        json.dumps(render.block_dict(heap, block, sites))
                        list(render.block_lines(heap, block, sites))

    def test_random_root_damage_is_an_error_or_a_walk(self):
        rng = random.Random(SEED)
        for round_ in range(ROUNDS):
            image = build(rng)
            at = H.ROOT_AT + rng.choice((rng.randrange(32), rng.randrange(H.ROOT_SIZE)))
            image.write(at, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16))))
            with self.subTest(seed=SEED, round=round_):
                try:
                    heap = H.walk(image)
                except AntError as error:
                    self.assertTrue(str(error))
                    continue
                json.dumps(render.heap_dict(heap))
                list(render.check_lines(heap))


if __name__ == "__main__":
    unittest.main()
