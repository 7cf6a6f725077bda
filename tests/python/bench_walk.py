"""Times one walk + check of a synthetic heap of a million blocks.

    python3 tests/python/bench_walk.py [BLOCKS] [--core]

Prints the build time and the walk time; --core writes the image to a
temporary ELF core file and reads it through CoreReader, as gdb would. A
measurement, not a test: nothing here asserts a time.
"""
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import heapimage  # noqa: E402  (puts gdb/ on sys.path)
from antgdb import heap, layout  # noqa: E402
from antgdb.memory import CachedReader, CoreReader  # noqa: E402


def build(blocks):
    """One arena, regions of 64 MiB, one block in 16 free, sizes 8..200."""
    rng = random.Random(7)
    image = heapimage.Image()
    arena = image.arena()
    region, room = None, 0
    for index in range(blocks):
        requested = rng.randrange(8, 200)
        size = heapimage.block_size(requested)
        if size > room:
            region, room = arena.region(64 << 20), (64 << 20) - heapimage.REGION_HEADER - 4096
        if index % 16 == 15 and region.blocks and region.blocks[-1].state == "used":
            region.free(size)
        else:
            region.used(requested)
        room -= size
    return image.build()


def main():
    args = sys.argv[1:]
    blocks = int(next((a for a in args if a.isdigit()), 1_000_000))
    started = time.perf_counter()
    image = build(blocks)
    print("built %d blocks in %.2f s" % (blocks, time.perf_counter() - started))
    core = None
    if "--core" in args:
        core = tempfile.NamedTemporaryFile(suffix=".core", delete=False).name
        image.write_core(core)
        reader = CachedReader(CoreReader(core))
    else:
        reader = CachedReader(image.reader())
    started, cpu = time.perf_counter(), time.process_time()
    root = layout.read_root(reader, heapimage.ROOT_AT)
    walked = heap.walk(reader, root)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    summary = walked.summary()
    print("walked and checked %d blocks (%d used, %d free, %d problems) in %.3f s "
          "(%.3f s of CPU): %.2f us per block"
          % (summary["blocks"], summary["used_blocks"], summary["free_blocks"],
             summary["problems"], elapsed, cpu, elapsed / max(1, summary["blocks"]) * 1e6))
    if core:
        os.unlink(core)


if __name__ == "__main__":
    main()
