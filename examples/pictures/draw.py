"""Draws the README's pictures of the heap from examples/first-fit.c.

gdb runs the program once per fit policy, stops it at each show(), the
point where the walkthrough prints the heap after a step, and draws the
heap there with Ant's own renderer (antgdb.svgpicture), each block
labelled with the name the program gave it (its names[] table). Which
steps a picture shows is said by words of their titles, so a step added
to the walkthrough moves no picture to another step.

    ANT_PICTURES_PROGRAM=first-fit ANT_PICTURES_DIR=out \\
        gdb -nx -batch -x examples/pictures/draw.py

The program must be built with -O0, so that step()'s title can be read.
"""
import os
import sys

import gdb

HERE = os.path.dirname(os.path.abspath(__file__))
gdb.execute("source " + os.path.join(HERE, "..", "..", "gdb", "ant-gdb.py"))

from antgdb import commands, svgpicture  # noqa: E402 (the line above makes it importable)

PER_PX = 3  # bytes a pixel: an 80-byte block is wide enough for its label
FITS = ("first", "next", "best", "worst", "binned")
# file -> (title, [(words of a step's title, policy)])
PICTURES = {
    "carved.svg": ("Blocks carved from the wilderness", [("carved", "first")]),
    "holes.svg": ("Two frees leave two holes", [("two frees", "first")]),
    "split.svg": ("A hole taken and split", [("two frees", "first"), ("splitting", "first")]),
    "coalesce.svg": ("Coalescing", [("splitting", "first"), ("coalescing", "first")]),
    "fragmentation.svg": ("Fragmentation", [("swiss cheese", "first"),
                                            ("fragmentation", "first")]),
    "fits-split.svg": ("The same requests under each policy: a hole taken and split",
                       [("splitting", fit) for fit in FITS]),
    "fits-next.svg": ("The same requests under each policy: where next fit differs",
                      [("next fit", fit) for fit in FITS]),
}


class Failure(Exception):
    pass


def labels():
    """mem -> name, from the program's names[] table."""
    table = gdb.parse_and_eval("names")
    found = {}
    low, high = table.type.range()
    for index in range(low, high + 1):
        mem = int(table[index]["mem"])
        if mem:
            found[mem] = table[index]["name"].string()
    return found


def panel(title, fit):
    # The walk every ant-* command makes: the root by its symbol, memory
    # read from the stopped process.
    walked, _, close = commands._walk({"root": None})
    try:
        return svgpicture.panel(walked, "fit=%s: %s" % (fit, title), labels(), PER_PX)
    finally:
        close()


def run(program, fit, wanted):
    """{words: Panel} for each step whose title holds the words."""
    gdb.execute("file " + program, to_string=True)
    gdb.execute("delete", to_string=True)
    gdb.execute("set environment ANT_OPTIONS fit=" + fit)
    gdb.execute("break step", to_string=True)
    gdb.execute("break show", to_string=True)
    gdb.execute("run > /dev/null", to_string=True)
    panels, title = {}, None
    while gdb.selected_inferior().pid:
        frame = gdb.selected_frame().name()
        if frame == "step":
            title = gdb.parse_and_eval("title").string()
        elif frame == "show":
            for words in wanted:
                if title and words in title.lower():
                    panels[words] = panel(title, fit)
        gdb.execute("continue", to_string=True)
    missing = [words for words in wanted if words not in panels]
    if missing:
        raise Failure("fit=%s: no step's title holds %s" % (fit, ", ".join(map(repr, missing))))
    return panels


def main():
    program = os.environ["ANT_PICTURES_PROGRAM"]
    out = os.environ["ANT_PICTURES_DIR"]
    for setting in ("pagination off", "confirm off", "width 0", "startup-with-shell on"):
        gdb.execute("set " + setting)
    wanted = {}
    for _, steps in PICTURES.values():
        for words, fit in steps:
            wanted.setdefault(fit, []).append(words)
    drawn = {fit: run(program, fit, sorted(set(words))) for fit, words in wanted.items()}
    os.makedirs(out, exist_ok=True)
    for name, (title, steps) in PICTURES.items():
        panels = [drawn[fit][words] for words, fit in steps]
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write("\n".join(svgpicture.document(panels, title, PER_PX)) + "\n")
    print("pictures: wrote %d files to %s" % (len(PICTURES), out))


# gdb -batch exits 0 whatever a script raised: the status is set here.
try:
    main()
except Exception as error:  # any failure, Ant's own errors too, must fail the build
    print("pictures: %s: %s" % (type(error).__name__, error), file=sys.stderr)
    if gdb.selected_inferior().pid:
        gdb.execute("kill", to_string=True)
    sys.stdout.flush()
    os._exit(1)
sys.stdout.flush()
os._exit(0)
