"""ant-map --svg FILE end to end: live, on a gcore of the same stop (with
the program's symbols and without any), on a heap with an overflow, and
its errors (no FILE, an unwritable FILE, no process, no Ant heap), each
one clear line that leaves an existing FILE as it was.

Usage: ant_map.py EXTENSION CLEAN_HEAP_PROGRAM WORKDIR
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import gdbrun

SVG = "{http://www.w3.org/2000/svg}"
BLOCKS = 300
# Finds a used block with gdb's help and writes one byte past its request.
OVERFLOW = ("python from antgdb import commands; "
            "walked, _, close = commands._walk({'root': None}); "
            "victim = next(b for b in walked.blocks() if b.state == 'used' and b.requested); "
            "close(); gdb.selected_inferior().write_memory(victim.mem + victim.requested, b'!')")


def gdb(extension, args, commands):
    """gdb's status, and what each command printed, its errors included:
    stderr joins stdout so that an error lands in its command's section."""
    done = subprocess.run(["gdb"] + gdbrun.SETTINGS + ["-ex", "source " + extension] + args +
                          gdbrun.marked(commands), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = done.stdout.decode(errors="replace")
    return done.returncode, gdbrun.sections(out), out


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def tooltips(path):
    root = ET.fromstring(read(path))
    return root, [element.find(SVG + "title").text for element in root.iter()
                  if element.find(SVG + "title") is not None and element.tag != SVG + "svg"]


def caption(root):
    return next(t.text for t in root.iter(SVG + "text") if t.get("class") == "caption")


def marked(root):
    """The mem of each block with a red mark."""
    return sorted(int(re.search(r"mem (0x[0-9a-f]+)", path.find(SVG + "title").text).group(1), 16)
                  for path in root.iter(SVG + "path") if path.get("class") == "mark")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    extension, program, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    for name in os.listdir(work):
        os.remove(os.path.join(work, name))
    path = lambda name: os.path.join(work, name)  # noqa: E731
    failures = []

    def check(condition, text):
        if not condition:
            failures.append(text)

    def clean(everything, what):
        check("Traceback" not in everything and "Python Exception" not in everything,
              "%s: a Python traceback reached the user:\n%s" % (what, everything[-1500:]))

    # Live, then a core of the same stop.
    with open(path("kept.svg"), "w") as f:
        f.write("kept")
    status, out, everything = gdb(extension, ["-ex", "break ant_example_stop", "-ex",
                                              "run %d" % BLOCKS, program], [
        ("map", "ant-map --svg " + path("live.svg")),
        ("heap", "ant-heap --json"),
        ("no file", "ant-map"),
        ("no value", "ant-map --svg"),
        ("unwritable", "ant-map --svg " + path("no/such/folder/x.svg")),
        ("gcore", "gcore " + path("core")),
        ("kill", "kill"),
        ("no process", "ant-map --svg " + path("kept.svg"))])
    clean(everything, "live")
    said = out.get("map", "")
    check("ant-map: wrote" in said and path("live.svg") in said,
          "ant-map did not say where it wrote: %r" % said[-300:])
    for name, words in (("no file", "Usage: ant-map --svg FILE"),
                        ("no value", "--svg needs a value"),
                        ("unwritable", "cannot write"), ("no process", "no process")):
        check(words in out.get(name, ""), "%s: the error does not say %r: %r"
              % (name, words, out.get(name, "")[-300:]))
    check(read(path("kept.svg")) == "kept", "a failed ant-map changed the file it was given")
    check(not os.path.exists(path("no")), "an unwritable FILE left something behind")
    if not os.path.exists(path("live.svg")) or not os.path.exists(path("core")):
        failures.append("no picture or no core was written:\n" + everything[-1500:])
        return report(failures)
    heap = gdbrun.first_json(out.get("heap", ""))
    root, tips = tooltips(path("live.svg"))
    check(caption(root).startswith("Ant heap at 0x%x: %s blocks in " % (heap["root"], format(
        heap["blocks"], ","))), "the caption disagrees with ant-heap: %r, %s blocks"
        % (caption(root), heap["blocks"]))
    check(any("clean-heap.c:" in tip for tip in tips),
          "no tooltip names a site's line with the program's symbols")
    check(any(tip.startswith("wilderness of HEAP region") for tip in tips),
          "no wilderness drawn")
    check(marked(root) == [], "a sound heap has red marks: %s" % marked(root))

    status, out, everything = gdb(extension, [program, "-ex", "core-file " + path("core")],
                                  [("map", "ant-map --svg " + path("core.svg"))])
    clean(everything, "core")
    check(os.path.exists(path("core.svg")) and read(path("core.svg")) == read(path("live.svg")),
          "the core's picture differs from the live one of the same stop")

    status, out, everything = gdb(extension, ["-ex", "core-file " + path("core")],
                                  [("map", "ant-map --svg " + path("bare.svg"))])
    clean(everything, "core without the program")
    if os.path.exists(path("bare.svg")):
        bare, tips = tooltips(path("bare.svg"))
        check(caption(bare) == caption(root), "without symbols the caption says %r, not %r"
              % (caption(bare), caption(root)))
        check(not any("clean-heap.c:" in tip for tip in tips), "lines known without symbols?")
    else:
        failures.append("no picture from the core without its program:\n" + everything[-800:])

    # An overflow: the block is marked, with the problem ant-check names.
    status, out, everything = gdb(extension, ["-ex", "break ant_example_stop", "-ex",
                                              "run %d" % BLOCKS, program, "-ex", OVERFLOW], [
        ("map", "ant-map --svg " + path("damaged.svg")),
        ("check", "ant-check --json")])
    clean(everything, "damaged")
    problems = (gdbrun.first_json(out.get("check", "")) or {}).get("problems", [])
    check([p["kind"] for p in problems] == ["overflow"], "the planted overflow is not what "
          "ant-check found: %s" % problems)
    if os.path.exists(path("damaged.svg")):
        damaged, tips = tooltips(path("damaged.svg"))
        check(marked(damaged) == sorted(p["mem"] for p in problems),
              "marks at %s, problems at %s" % (marked(damaged), [p["mem"] for p in problems]))
        check(any("overflow (I2)" in tip for tip in tips), "no tooltip names the overflow")

    # No Ant heap in the process at all.
    status, out, everything = gdb(extension, ["-ex", "starti", "/bin/true"],
                                  [("map", "ant-map --svg " + path("kept.svg"))])
    clean(everything, "no heap")
    check("no Ant heap" in out.get("map", ""), "no heap: %r" % out.get("map", "")[-300:])
    check(read(path("kept.svg")) == "kept", "ant-map without a heap changed the file")
    return report(failures)


def report(failures):
    if failures:
        print("FAIL\n- " + "\n- ".join(failures))
        return 1
    print("PASS: ant-map live, on cores with and without symbols, on damage, and its errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
