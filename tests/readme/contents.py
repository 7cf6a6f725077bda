"""The README's contents line names every section (each `## ` heading) in
order, and every link in it, like every in-page link of the file, leads to
a heading, with the anchors GitHub makes of them. No path of this machine
(the source and build trees given after the file) appears in it, nor in
the other Markdown files given with --also.

    contents.py README.md [--also FILE.md]... [PATH]..."""
import re
import sys

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6}) (.*)$")
LINK = re.compile(r"\]\(#([^)]+)\)")
CONTENTS = "**Contents:**"


def anchor(title):
    """GitHub's anchor for a heading: lower case, punctuation but - and _
    dropped, spaces made -."""
    return re.sub(r"[^\w\- ]", "", title.replace("`", "").lower()).replace(" ", "-")


def local_paths(files, paths):
    """Where a path of this machine appears in the files."""
    found = []
    for name in files:
        with open(name, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                found += ["%s:%d: a path of this machine, %s" % (name, number, path)
                          for path in paths if path in line]
    return found


def main(path, also, paths):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    fenced = False
    sections, anchors, links, contents = [], set(), [], []
    in_contents = False
    for number, line in enumerate(lines, 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        heading = HEADING.match(line)
        if heading:
            name = anchor(heading.group(2))
            anchors.add(name)
            if len(heading.group(1)) == 2:
                sections.append(name)
        if line.startswith(CONTENTS):
            in_contents = True
        if in_contents:
            if not line.strip():
                in_contents = False
            else:
                contents += LINK.findall(line)
        links += [(number, target) for target in LINK.findall(line)]
    problems = ["%s:%d: the link #%s leads to no heading" % (path, number, target)
                for number, target in links if target not in anchors]
    if contents != sections:
        problems.append("%s: the contents line lists %s, the sections are %s" % (
            path, ", ".join(contents) or "nothing", ", ".join(sections)))
    problems += local_paths([path] + also, paths)
    for problem in problems:
        print(problem)
    if not problems:
        print("%s: the contents name its %d sections, and its %d in-page links lead to headings" % (
            path, len(sections), len(links)))
    return 1 if problems else 0


if __name__ == "__main__":
    arguments = sys.argv[2:]
    also = [arguments[i + 1] for i, a in enumerate(arguments) if a == "--also"]
    others = [a for i, a in enumerate(arguments) if a != "--also" and (i == 0 or arguments[i - 1] != "--also")]
    sys.exit(main(sys.argv[1], also, [p.rstrip("/") + "/" for p in others]))
